//! Read-only and writing handles to the cloud: plan safety as a property of the types.
//!
//! Module ops only ever get a [`Reader`] (from `Ctx::read`): GETs, and the few POSTs
//! that only read. The [`Writer`] is made by the write path alone (`change::ensure`),
//! only in apply mode, and it needs a [`WritePermit`] that nothing outside `change`
//! can construct. The writer also records the request id of every request it sends,
//! so a write made of several requests journals all of them, even when one fails.

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
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        let url: Url = self.graph.url(Version::V1, path, &[])?;
        let result = self.graph.call(method, url, body, headers).await;
        let rid = match &result {
            Ok(r) => r.request_id.clone(),
            Err(e) => e.request_id.clone(),
        };
        if let Some(rid) = rid {
            self.log.lock().unwrap_or_else(|p| p.into_inner()).push(rid);
        }
        result
    }
}
