//! ConfigMgr AdminService client: OData v4 over `wmi/` (SMS Provider classes) and `v1.0/`.
//!
//! What the service does, as public scripts see it: a key lookup
//! (`wmi/SMS_Site('ABC')`) answers a `{"value":[row]}` envelope, not a bare entity;
//! collections page with `$top`/`$skip` until a short page; a create and a WMI method call
//! answer 201; DELETE answers 204; rows carry `@odata.etag`. Through a CMG the service
//! takes an Entra token for the CMG server app; on the intranet it wants Negotiate.
//!
//! Negotiate is not implemented (the profile setting exists and fails saying so). The
//! one maintained pure-Rust client, `sspi` 0.23, pins pre-release crypto crates
//! (`picky` 7.0.0-rc, `rsa` 0.10.0-rc), brings second majors of `sha1`/`sha2`/`rand`,
//! and for Kerberos a `reqwest` 0.12 to reach the KDC; on Linux it has no Windows
//! default credentials, so it would need a password in the environment; NTLM alone is
//! reported refused by recent sites; and nothing on loopback could test it without a
//! Negotiate server in the emulator.

use crate::cloud::channel::{self, Channel, Payload, Response};
use crate::error::{ErrorKind, ModuleError, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

/// Rows asked for per page when listing.
pub const PAGE_SIZE: usize = 1000;

pub struct AdminService {
    ch: Channel,
    root: Url,
    page_size: usize,
}

impl AdminService {
    pub(crate) fn from_channel(ch: Channel, root: Url) -> Self {
        AdminService {
            ch,
            root: channel::with_slash(root),
            page_size: PAGE_SIZE,
        }
    }

    /// Rows per page for `list` (the service's own limit is larger; smaller pages only
    /// cost round trips).
    pub fn set_page_size(&mut self, rows: usize) {
        self.page_size = rows.max(1);
    }

    /// `{root}{path}` (e.g. `wmi/SMS_Site`, `v1.0/Device(16777219)`) with the query pairs
    /// encoded.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = channel::join(&self.root, path, "AdminService")?;
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// One GET, the body as the service sent it.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response> {
        let url = self.url(path, query)?;
        self.call(Method::GET, &url, None).await
    }

    /// A key lookup (`wmi/SMS_Site('ABC')`): the one row, unwrapped from the `value`
    /// envelope; `None` for 404 or an empty envelope.
    pub async fn get_opt(&self, path: &str) -> Result<Option<Value>> {
        match self.get(path, &[]).await {
            Ok(r) => one_row(r.body, path),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every row of `class` (e.g. `wmi/SMS_SCI_SysResUse`) matching `query` (`$filter`,
    /// `$select`, `$orderby`), paging with `$top`/`$skip` until a short page; a
    /// `@odata.nextLink` is followed instead when the service sends one. A `$top` in
    /// `query` is a limit: one request, no paging.
    pub async fn list(&self, class: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        if query.iter().any(|(k, _)| *k == "$top") {
            let r = self.get(class, query).await?;
            return rows(r.body, class);
        }
        let mut items = Vec::new();
        let top = self.page_size.to_string();
        let mut next: Option<Url> = None;
        // Once the service pages by links, a page without one is the last.
        let mut server_paged = false;
        for page in 0..100_000usize {
            let url = match next.take() {
                Some(u) => u,
                None => {
                    let skip = (page * self.page_size).to_string();
                    let mut q: Vec<(&str, &str)> = query.to_vec();
                    q.push(("$top", &top));
                    if page > 0 {
                        q.push(("$skip", &skip));
                    }
                    self.url(class, &q)?
                }
            };
            let body = self.call(Method::GET, &url, None).await?.body;
            let link = body
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(|l| self.ch.same_origin(&self.root, l, "next link"))
                .transpose()?;
            let got = rows(body, class)?;
            let short = got.len() < self.page_size;
            items.extend(got);
            match link {
                Some(l) => {
                    server_paged = true;
                    next = Some(l);
                }
                None if short || server_paged => return Ok(items),
                None => {}
            }
        }
        Err(ModuleError::remote(format!(
            "AdminService kept sending full pages of {class} (over 100,000)"
        )))
    }

    /// Create an instance (`wmi/SMS_Collection`); 201 with the new row (its key at top
    /// level).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Response> {
        let url = self.url(path, &[])?;
        self.call(Method::POST, &url, Some(body)).await
    }

    /// Change properties of an instance.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Response> {
        let url = self.url(path, &[])?;
        self.call(Method::PATCH, &url, Some(body)).await
    }

    /// Delete an instance; 204.
    pub async fn delete(&self, path: &str) -> Result<Response> {
        let url = self.url(path, &[])?;
        self.call(Method::DELETE, &url, None).await
    }

    /// Call a WMI method: static (`wmi/SMS_Site.ImportMachineEntry`) or on an instance
    /// (`wmi/SMS_Collection('XYZ00012')/AdminService.AddMembershipRule`); `null` sends
    /// no body. A non-zero `ReturnValue` is an error: WMI reports failure that way
    /// under a 201.
    pub async fn invoke(&self, method_path: &str, body: &Value) -> Result<Response> {
        let url = self.url(method_path, &[])?;
        let r = self.call(Method::POST, &url, Some(body)).await?;
        check_return_value(&r, method_path)?;
        Ok(r)
    }

    async fn call(&self, method: Method, url: &Url, body: Option<&Value>) -> Result<Response> {
        let payload = body.map(Payload::json).unwrap_or(Payload::Empty);
        let raw = self
            .ch
            .send(&method, url, payload, &[("Accept", "application/json")])
            .await
            .map_err(|e| self.unreachable(e))?;
        // The AdminService sends no request id of its own; IIS logs ours.
        let request_id = raw
            .header("request-id")
            .or_else(|| Some(raw.client_request_id.clone()));
        if !raw.status.is_success() {
            let mut e = admin_error(raw.status, &raw.body, request_id, &method, url);
            if e.kind == ErrorKind::Auth {
                e.message = format!("{} (auth tried: {})", e.message, self.ch.auth_method());
            }
            return Err(e);
        }
        Ok(Response {
            status: raw.status.as_u16(),
            body: raw.json("AdminService")?,
            request_id,
        })
    }
}

impl AdminService {
    /// A request that never got an answer (no connection, TLS, timeout) or no token:
    /// say which AdminService and how it was reached.
    fn unreachable(&self, mut e: ModuleError) -> ModuleError {
        match e.kind {
            ErrorKind::Transport => {
                e.message = format!(
                    "the AdminService at {} is unreachable: {}",
                    self.root, e.message
                );
                if e.hint.is_none() {
                    e.hint = Some("check the profile's admin_service URL, and that this machine reaches the SMS Provider (or the CMG) on 443".into());
                }
            }
            // Negotiate's own error already says what to do.
            ErrorKind::Auth if e.message != channel::NEGOTIATE_UNSUPPORTED => {
                e.message = format!(
                    "the AdminService at {} refused or could not get credentials ({}): {}",
                    self.root,
                    self.ch.auth_method(),
                    e.message
                );
            }
            _ => {}
        }
        e
    }
}

/// The rows of a collection answer.
fn rows(body: Value, what: &str) -> Result<Vec<Value>> {
    match body {
        Value::Object(mut m) => match m.remove("value") {
            Some(Value::Array(v)) => Ok(v),
            _ => Err(no_value(what)),
        },
        _ => Err(no_value(what)),
    }
}

fn no_value(what: &str) -> ModuleError {
    ModuleError::remote(format!(
        "AdminService answered {what} without a `value` array"
    ))
}

/// The row of a key lookup: the one row of a `value` envelope, or a bare entity (the
/// `v1.0/` route may answer one).
fn one_row(body: Value, what: &str) -> Result<Option<Value>> {
    match body {
        Value::Object(ref m) if m.contains_key("value") => {
            let mut v = rows(body, what)?;
            match v.len() {
                0 => Ok(None),
                1 => Ok(v.pop()),
                n => Err(ModuleError::remote(format!(
                    "AdminService answered the key lookup {what} with {n} rows"
                ))),
            }
        }
        Value::Object(_) => Ok(Some(body)),
        Value::Null => Ok(None),
        _ => Err(ModuleError::remote(format!(
            "AdminService answered the key lookup {what} with something not an object"
        ))),
    }
}

fn check_return_value(r: &Response, what: &str) -> Result<()> {
    match r.body.get("ReturnValue").and_then(Value::as_i64) {
        Some(0) | None => Ok(()),
        Some(code) => {
            let mut e = ModuleError::remote(format!(
                "AdminService {what}: the method returned ReturnValue {code}"
            ));
            e.remote_code = Some(code.to_string());
            e.status = Some(r.status);
            e.request_id = r.request_id.clone();
            Err(e)
        }
    }
}

/// Map an AdminService error. The body is OData's `{"error":{"code","message"}}`, or
/// ASP.NET's `{"Message": …}` for errors outside the OData layer.
pub fn admin_error(
    status: StatusCode,
    body: &[u8],
    request_id: Option<String>,
    method: &Method,
    url: &Url,
) -> ModuleError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let text = |x: &Value| {
        x.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let code = text(&err["code"]);
    let message = text(&err["message"])
        .or_else(|| text(&err["innererror"]["message"]))
        .or_else(|| text(&v["Message"]))
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let kind = match status.as_u16() {
        400 => ErrorKind::Validation,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Remote,
    };
    let hint = match kind {
        ErrorKind::Auth => Some(
            "the AdminService refused the token; through a CMG it must be issued for the CMG server app (admin_service_resource = its App ID URI)",
        ),
        ErrorKind::Permission => Some(
            "the signed-in identity needs a ConfigMgr security role (for example Full Administrator) on the site",
        ),
        ErrorKind::Conflict if status.as_u16() == 412 => {
            Some("the object changed since it was read; run again to re-read it")
        }
        _ => None,
    };
    ModuleError::from_service(
        kind,
        format!("AdminService {method} {}: {message}", url.path()),
        code,
        status.as_u16(),
        request_id,
        hint.map(str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_lookups_unwrap_the_one_row_envelope() {
        let row = json!({"SiteCode": "ABC", "@odata.etag": "W/\"1\""});
        assert_eq!(
            one_row(json!({"@odata.context": "x", "value": [row.clone()]}), "k").unwrap(),
            Some(row.clone())
        );
        assert_eq!(one_row(json!({"value": []}), "k").unwrap(), None);
        assert_eq!(one_row(row.clone(), "k").unwrap(), Some(row.clone()));
        assert_eq!(one_row(Value::Null, "k").unwrap(), None);
        assert!(one_row(json!({"value": [row.clone(), row]}), "k").is_err());
        assert!(one_row(json!({"value": 3}), "k").is_err());
        assert!(one_row(json!([1]), "k").is_err());
    }

    #[test]
    fn collections_need_a_value_array() {
        assert_eq!(rows(json!({"value": [1, 2]}), "c").unwrap().len(), 2);
        assert!(rows(json!({"rows": []}), "c").is_err());
    }

    #[test]
    fn odata_and_aspnet_errors_map() {
        let url = Url::parse("https://cmg.contoso.com/CCM_Proxy_ServerAuth/72057594037927941/AdminService/wmi/SMS_Site('XYZ')?$select=SiteCode").unwrap();
        let e = admin_error(
            StatusCode::NOT_FOUND,
            br#"{"error":{"code":"404","message":"Not found"}}"#,
            Some("c-1".into()),
            &Method::GET,
            &url,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(
            e.message.ends_with("wmi/SMS_Site('XYZ'): Not found"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("$select"));
        assert_eq!(e.request_id.as_deref(), Some("c-1"));
        let e = admin_error(
            StatusCode::BAD_REQUEST,
            br#"{"Message":"The query specified in the URI is not valid."}"#,
            None,
            &Method::GET,
            &url,
        );
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e
            .message
            .ends_with("The query specified in the URI is not valid."));
        let e = admin_error(StatusCode::UNAUTHORIZED, b"", None, &Method::GET, &url);
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e
            .hint
            .unwrap_or_default()
            .contains("admin_service_resource"));
        assert!(e.message.ends_with("HTTP 401"));
        let e = admin_error(StatusCode::FORBIDDEN, b"", None, &Method::POST, &url);
        assert_eq!(e.kind, ErrorKind::Permission);
    }

    #[test]
    fn a_failing_wmi_method_is_an_error() {
        let ok = Response {
            status: 201,
            body: json!({"ReturnValue": 0, "ResourceID": 16777220}),
            request_id: None,
        };
        assert!(check_return_value(&ok, "m").is_ok());
        let none = Response {
            status: 201,
            body: Value::Null,
            request_id: None,
        };
        assert!(check_return_value(&none, "m").is_ok());
        let bad = Response {
            status: 201,
            body: json!({"ReturnValue": 2}),
            request_id: Some("r".into()),
        };
        let e = check_return_value(&bad, "wmi/SMS_Site.ImportMachineEntry").unwrap_err();
        assert_eq!(e.remote_code.as_deref(), Some("2"));
        assert_eq!(e.request_id.as_deref(), Some("r"));
    }
}
