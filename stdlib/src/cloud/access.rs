//! Read-only and writing handles to the cloud: plan safety as a property of the types.
//!
//! Module ops only ever get a [`Reader`] (from `Ctx::read`): GETs, and the few POSTs
//! that only read (ARM name checks, on an allowlist). The [`Writer`] is made by the write path alone (`change::ensure`),
//! only in apply mode, and it needs a [`WritePermit`] that nothing outside `change`
//! can construct. The writer also records the request id of every request it sends,
//! so a write made of several requests journals all of them, even when one fails.

use super::admin_service::AdminService;
use super::arm::{Arm, ArmResponse};
use super::blob::Blob;
use super::channel::Response;
use super::graph::{Graph, GraphResponse, Version};
use super::Cloud;
use crate::change::WritePermit;
use crate::error::Result;
use reqwest::Method;
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use url::Url;

/// Read-only access to every surface.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    cloud: &'a Cloud,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(cloud: &'a Cloud) -> Self {
        Reader { cloud }
    }
    pub fn graph(&self) -> GraphReader<'a> {
        GraphReader(&self.cloud.graph)
    }
    pub fn arm(&self) -> ArmReader<'a> {
        ArmReader(&self.cloud.arm)
    }
    /// The subscription the target names (a profile's `subscription`), if any.
    pub fn subscription(&self) -> Option<&'a str> {
        self.cloud.config.subscription.as_deref()
    }
    /// The site server's log folder, when the target names one.
    pub fn site_log_dir(&self) -> Option<&'a Path> {
        self.cloud.config.site_log_dir.as_deref()
    }
    /// The AdminService, or an error saying the target has none.
    pub fn admin_service(&self) -> Result<AdminReader<'a>> {
        self.cloud.admin_service().map(AdminReader)
    }
    /// DNS lookups through the target's resolver (they only read).
    pub fn dns(&self) -> &'a super::Dns {
        &self.cloud.dns
    }
}

/// ARM actions that only read, so a plan may call them: name availability checks.
/// Matched on the last path segment, case-insensitively (ARM paths are).
const ARM_READ_ACTIONS: &[&str] = &["checkNameAvailability", "CheckDnsNameAvailability"];

/// ARM reads.
#[derive(Clone, Copy)]
pub struct ArmReader<'a>(&'a Arm);

impl ArmReader<'_> {
    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.0.get(path, api_version).await
    }
    /// GET that maps "not found" to `None`.
    pub async fn get_opt(&self, path: &str, api_version: &str) -> Result<Option<Value>> {
        self.0.get_opt(path, api_version).await
    }
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>> {
        self.0.list(path, api_version).await
    }
    /// A POST that only reads (a name availability check); any other action is refused
    /// here, since a plan must not change anything.
    pub async fn check(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        refuse_unless_read_action(path)?;
        self.0.post(path, api_version, body).await
    }
}

/// Ok when `path` ends in an ARM action that only reads.
fn refuse_unless_read_action(path: &str) -> Result<()> {
    let action = path
        .split('?')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if ARM_READ_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action))
    {
        Ok(())
    } else {
        Err(crate::error::ModuleError::validation(format!(
            "ARM action `{action}` can change state; only the write path may call it"
        )))
    }
}

/// AdminService reads.
#[derive(Clone, Copy)]
pub struct AdminReader<'a>(&'a AdminService);

impl AdminReader<'_> {
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response> {
        self.0.get(path, query).await
    }
    /// A key lookup: the one row, or `None`.
    pub async fn get_opt(&self, path: &str) -> Result<Option<Value>> {
        self.0.get_opt(path).await
    }
    pub async fn list(&self, class: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        self.0.list(class, query).await
    }
}

/// Graph reads.
#[derive(Clone, Copy)]
pub struct GraphReader<'a>(&'a Graph);

impl GraphReader<'_> {
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<GraphResponse> {
        self.0.get(path, query).await
    }
    /// GET that maps 404 to `None`.
    pub async fn get_opt(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<Value>> {
        self.0.get_opt(path, query).await
    }
    /// A collection, every page.
    pub async fn list(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        self.0.list(path, query).await
    }
    /// An advanced query (`ConsistencyLevel: eventual` with `$count=true`), which Graph
    /// requires for `ne`, `not`, `endsWith` and `$search`; the header goes on every page.
    pub async fn list_advanced(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        if !q.iter().any(|(k, _)| *k == "$count") {
            q.push(("$count", "true"));
        }
        let url = self.0.url(Version::V1, path, &q)?;
        self.0
            .list_url(url, &[("ConsistencyLevel", "eventual")])
            .await
    }
}

/// Writes, made only by the write path in apply mode.
pub struct Writer<'a> {
    cloud: &'a Cloud,
    request_ids: Mutex<Vec<String>>,
}

impl<'a> Writer<'a> {
    /// Only `change` can make a permit, so only the write path can make a writer.
    pub(crate) fn new(cloud: &'a Cloud, _permit: WritePermit) -> Self {
        Writer {
            cloud,
            request_ids: Mutex::new(Vec::new()),
        }
    }

    pub fn read(&self) -> Reader<'a> {
        Reader::new(self.cloud)
    }

    pub fn graph(&self) -> GraphWriter<'_> {
        GraphWriter {
            graph: &self.cloud.graph,
            log: &self.request_ids,
        }
    }

    pub fn arm(&self) -> ArmWriter<'_> {
        ArmWriter {
            arm: &self.cloud.arm,
            log: &self.request_ids,
        }
    }

    pub fn admin_service(&self) -> Result<AdminWriter<'_>> {
        Ok(AdminWriter {
            admin: self.cloud.admin_service()?,
            log: &self.request_ids,
        })
    }

    /// Blob uploads with a SAS URL. Azure Storage answers no request id the journal
    /// keeps: an upload is recorded by the write that asked for its URL.
    pub fn blob(&self) -> &Blob {
        &self.cloud.blob
    }

    /// The request ids of every write request sent so far, in order.
    pub fn request_ids(&self) -> Vec<String> {
        self.request_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Write a local file atomically with `mode` (0600 for keys): local files a
    /// resource manages are writes like any other.
    pub fn write_file(&self, path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
        crate::fsio::write_atomic(path, bytes, mode)
    }
}

fn record(log: &Mutex<Vec<String>>, rid: Option<String>) {
    if let Some(rid) = rid {
        log.lock().unwrap_or_else(|p| p.into_inner()).push(rid);
    }
}

/// The request id of a result, success or failure.
fn rid_of<T>(r: &Result<T>, ok: impl Fn(&T) -> Option<String>) -> Option<String> {
    match r {
        Ok(v) => ok(v),
        Err(e) => e.request_id.clone(),
    }
}

/// ARM writes, each waited for to the end of its operation; the request id recorded is
/// the one of the request that started it.
pub struct ArmWriter<'w> {
    arm: &'w Arm,
    log: &'w Mutex<Vec<String>>,
}

impl ArmWriter<'_> {
    /// How the target polls long-running work (interval, deadline): for a write that
    /// must wait on a state the service reaches later (provider registration).
    pub fn policy(&self) -> &super::lro::LroPolicy {
        self.arm.policy()
    }
    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.arm.get(path, api_version).await
    }
    pub async fn put(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.logged(self.arm.put(path, api_version, body).await)
    }
    pub async fn patch(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.logged(self.arm.patch(path, api_version, body).await)
    }
    pub async fn post(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.logged(self.arm.post(path, api_version, body).await)
    }
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.logged(self.arm.delete(path, api_version).await)
    }
    fn logged(&self, r: Result<ArmResponse>) -> Result<ArmResponse> {
        record(self.log, rid_of(&r, |v| v.request_id.clone()));
        r
    }
}

/// AdminService writes.
pub struct AdminWriter<'w> {
    admin: &'w AdminService,
    log: &'w Mutex<Vec<String>>,
}

impl AdminWriter<'_> {
    pub async fn get_opt(&self, path: &str) -> Result<Option<Value>> {
        self.admin.get_opt(path).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Result<Response> {
        self.logged(self.admin.post(path, body).await)
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Response> {
        self.logged(self.admin.patch(path, body).await)
    }
    pub async fn delete(&self, path: &str) -> Result<Response> {
        self.logged(self.admin.delete(path).await)
    }
    /// A WMI method call (static or on an instance).
    pub async fn invoke(&self, method_path: &str, body: &Value) -> Result<Response> {
        self.logged(self.admin.invoke(method_path, body).await)
    }
    fn logged(&self, r: Result<Response>) -> Result<Response> {
        record(self.log, rid_of(&r, |v| v.request_id.clone()));
        r
    }
}

/// Graph writes (and reads, for read-after-write), each request id recorded.
pub struct GraphWriter<'w> {
    graph: &'w Graph,
    log: &'w Mutex<Vec<String>>,
}

impl GraphWriter<'_> {
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<GraphResponse> {
        self.graph.get(path, query).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Result<GraphResponse> {
        self.send(Method::DELETE, path, None, &[]).await
    }
    /// Graph's upsert by a client-provided alternate key (`applications(uniqueName='…')`,
    /// `servicePrincipals(appId='…')`): 201 with the object when it was missing, 204 when
    /// it existed and was updated. Two runs upserting the same key make one object.
    pub async fn upsert(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        self.send(
            Method::PATCH,
            path,
            Some(body),
            &[("Prefer", "create-if-missing")],
        )
        .await
    }
    /// Upsert by alternate key and return the object: the 201 body, or, on a 204 (it
    /// existed, perhaps made a moment ago by a concurrent run, and was updated), the
    /// object read back. A reference to a just-created object that has not replicated
    /// yet is waited for.
    pub async fn upsert_object(&self, path: &str, body: &Value) -> Result<Value> {
        let r = super::graph::with_replication_wait(|| self.upsert(path, body)).await?;
        if r.status == 201 && r.body.is_object() {
            return Ok(r.body);
        }
        Ok(self.get(path, &[]).await?.body)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        let url: Url = self.graph.url(Version::V1, path, &[])?;
        let result = self.graph.call(method, url, body, headers).await;
        record(self.log, rid_of(&result, |r| r.request_id.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan may ask ARM whether a name is free, and nothing else by POST.
    #[test]
    fn only_read_actions_pass_the_reader() {
        for ok in [
            "subscriptions/s/providers/Microsoft.Storage/checkNameAvailability",
            "subscriptions/s/providers/Microsoft.KeyVault/checkNameAvailability?x=1",
            "subscriptions/s/providers/Microsoft.Network/locations/westus/CheckDnsNameAvailability",
        ] {
            assert!(refuse_unless_read_action(ok).is_ok(), "{ok}");
        }
        let e = refuse_unless_read_action(
            "subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v/start",
        )
        .unwrap_err();
        assert!(
            e.message.contains("`start` can change state"),
            "{}",
            e.message
        );
        assert!(
            refuse_unless_read_action("subscriptions/s/providers/Microsoft.Compute/register")
                .is_err()
        );
    }
}
