//! The Entra ID (v2.0) endpoints: token (client credentials with a secret or a signed
//! assertion, device code, refresh token), device authorization, OpenID configuration.
//! Any client id is accepted; a client that is a registered application in the tenant
//! must present one of its own credentials, as in Entra.

mod assertion;
pub mod bearer;
pub mod errors;
pub mod tokens;

use crate::app::{AppState, Shared};
use crate::graph::{str_of, APPLICATIONS, ASSIGNMENTS, SERVICE_PRINCIPALS};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use errors::AadError;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// The audiences a Graph token may carry.
pub const GRAPH_AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
    "https://canary.graph.microsoft.com",
];
/// Resources every tenant has besides its own service principals.
const WELL_KNOWN_RESOURCES: &[&str] = &[
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
    "https://canary.graph.microsoft.com",
    "https://management.azure.com",
    "https://management.core.windows.net",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "https://storage.azure.com",
];
/// OpenID Connect scopes that name no resource.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Seconds a device code stays valid (Entra: 15 minutes).
const DEVICE_CODE_SECONDS: i64 = 900;
/// Polling interval for device codes. Entra says 5; the emulator approves at once, so
/// clients need not wait that long between polls.
const DEVICE_CODE_INTERVAL: i64 = 1;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/devicelogin", get(device_login))
}

/// A pending device authorization.
#[derive(Debug, Clone)]
pub struct DeviceFlow {
    client_id: String,
    scope: String,
    expires_at: i64,
    polled: bool,
}

fn now() -> i64 {
    crate::util::now().unix_timestamp()
}

fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| crate::util::is_guid(v))
        .map(str::to_string)
        .unwrap_or_else(crate::util::new_guid)
}

fn form(body: &Bytes) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// `client_secret_basic`: client id and secret in an Authorization header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let raw = headers.get("authorization")?.to_str().ok()?;
    let (scheme, b64) = raw.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The resource a scope list is for, and the scope names it asks for.
struct Resolved {
    resource: String,
    names: Vec<String>,
}

fn invalid_scope(code: u32, description: String) -> AadError {
    AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", code, description)
}

fn resolve_scope(st: &AppState, scope: &str, base: &str) -> Result<Resolved, AadError> {
    let mut resource: Option<String> = None;
    let mut names = Vec::new();
    for s in scope.split_whitespace() {
        if OIDC_SCOPES.contains(&s) {
            names.push(s.to_string());
            continue;
        }
        let (res, name) = match s.rsplit_once('/') {
            Some((r, n)) if s.contains("://") || crate::util::is_guid(r) => {
                (r.to_string(), n.to_string())
            }
            _ => (GRAPH_RESOURCE.to_string(), s.to_string()),
        };
        match &resource {
            Some(r) if !r.eq_ignore_ascii_case(&res) => {
                return Err(invalid_scope(
                    28000,
                    format!("Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."),
                ))
            }
            _ => resource = Some(res),
        }
        names.push(name);
    }
    let resource = resource.unwrap_or_else(|| GRAPH_RESOURCE.to_string());
    if !resource_known(st, &resource, base)? {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                st.tenant.display_name
            ),
        ));
    }
    Ok(Resolved { resource, names })
}

fn resource_known(st: &AppState, resource: &str, base: &str) -> Result<bool, AadError> {
    let r = resource.trim_end_matches('/');
    if WELL_KNOWN_RESOURCES
        .iter()
        .any(|k| k.eq_ignore_ascii_case(r))
        || is_own_base(r, base)
    {
        return Ok(true);
    }
    let sps = st
        .store
        .read(|db| db.docs(SERVICE_PRINCIPALS))
        .map_err(server_error)?;
    Ok(sps.iter().any(|sp| names_resource(sp, r)))
}

fn server_error(e: crate::store::StoreError) -> AadError {
    tracing::error!(error = %e.0, "emulator state");
    AadError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        90000,
        "The emulator could not access its state.",
    )
}

fn tenant_ok(st: &AppState, tenant: &str) -> Result<(), AadError> {
    if st.tenant.matches(tenant) {
        Ok(())
    } else {
        Err(AadError::unknown_tenant(tenant, "invalid_request"))
    }
}

async fn token(
    State(st): State<Shared>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let corr = correlation_id(&headers);
    match issue(&st, &tenant, &uri, &headers, &body) {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => e.render(&corr),
    }
}

fn issue(
    st: &AppState,
    tenant: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, AadError> {
    tenant_ok(st, tenant)?;
    let base = st.base_url(uri, headers);
    let mut p = form(body);
    if let Some((id, secret)) = basic_credentials(headers) {
        p.entry("client_id".into()).or_insert(id);
        p.entry("client_secret".into()).or_insert(secret);
    }
    let grant = p
        .get("grant_type")
        .ok_or_else(|| AadError::missing("grant_type"))?
        .clone();
    let client_id = p
        .get("client_id")
        .ok_or_else(|| AadError::missing("client_id"))?
        .clone();
    match grant.as_str() {
        "client_credentials" => client_credentials(st, &p, &client_id, &base),
        DEVICE_CODE_GRANT => redeem_device_code(st, &p, &client_id, &base),
        "refresh_token" => refresh(st, &p, &client_id, &base),
        other => Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// The application registered under `client_id`, if any.
fn registered_app(st: &AppState, client_id: &str) -> Result<Option<Value>, AadError> {
    let apps = st
        .store
        .read(|db| db.docs(APPLICATIONS))
        .map_err(server_error)?;
    Ok(apps
        .into_iter()
        .find(|a| str_of(a, "appId").eq_ignore_ascii_case(client_id)))
}

fn client_credentials(
    st: &AppState,
    p: &HashMap<String, String>,
    client_id: &str,
    base: &str,
) -> Result<Value, AadError> {
    let scope = p.get("scope").ok_or_else(|| AadError::missing("scope"))?;
    let single: Vec<&str> = scope.split_whitespace().collect();
    let resource = match single.as_slice() {
        [s] if s.ends_with("/.default") => s.trim_end_matches("/.default").to_string(),
        _ => {
            return Err(invalid_scope(
                1002012,
                format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ))
        }
    };
    resolve_scope(st, scope, base)?;
    let app = registered_app(st, client_id)?;
    let acr = match p.get("client_assertion_type") {
        Some(t) if t == JWT_BEARER => {
            let a = p.get("client_assertion").ok_or_else(|| AadError::missing("client_assertion"))?;
            let certs = app.as_ref().map(crate::graph::credentials::certificates);
            assertion::verify(a, client_id, &st.tenant, certs, now())?;
            "2"
        }
        Some(_) => {
            return Err(AadError::invalid_client(
                50012,
                "Client assertion type is not supported; use urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ))
        }
        None => {
            let secret = p.get("client_secret").filter(|s| !s.is_empty()).ok_or_else(|| {
                AadError::invalid_client(
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                )
            })?;
            if let Some(app) = &app {
                if !crate::graph::credentials::secret_matches(app, secret) {
                    return Err(AadError::invalid_client(
                        7000215,
                        format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                    ));
                }
            }
            "1"
        }
    };
    let (oid, roles) = app_identity(st, client_id, &resource).map_err(server_error)?;
    let t = now();
    let mut claims = json!({
        "aud": resource,
        "iss": format!("https://sts.windows.net/{}/", st.tenant.id),
        "iat": t, "nbf": t, "exp": t + tokens::ACCESS_TOKEN_SECONDS,
        "appid": client_id,
        "appidacr": acr,
        "idp": format!("https://sts.windows.net/{}/", st.tenant.id),
        "idtyp": "app",
        "oid": oid,
        "sub": oid,
        "tid": st.tenant.id,
        "uti": crate::util::opaque_id(16),
        "ver": "1.0",
    });
    // Entra leaves `roles` out of an app-only token when the client holds no app role on
    // the resource; it never sends an empty array.
    // Source: MicrosoftDocs/azure-docs:articles/active-directory/develop/access-token-claims-reference.md
    // ("roles ... The set of permissions exposed by the application ... Only present
    // when ...").
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": tokens::ACCESS_TOKEN_SECONDS,
        "ext_expires_in": tokens::ACCESS_TOKEN_SECONDS,
        "access_token": st.tenant.signer.mint(&claims),
    }))
}

/// The client's service principal id and the app roles it holds on `resource`.
fn app_identity(
    st: &AppState,
    client_id: &str,
    resource: &str,
) -> Result<(String, Vec<String>), crate::store::StoreError> {
    st.store.read(|db| {
        let sps = db.docs(SERVICE_PRINCIPALS)?;
        let Some(client) = sps
            .iter()
            .find(|s| str_of(s, "appId").eq_ignore_ascii_case(client_id))
        else {
            return Ok((crate::util::new_guid(), Vec::new()));
        };
        let r = resource.trim_end_matches('/');
        let res = sps.iter().find(|s| names_resource(s, r));
        let mut roles = Vec::new();
        if let Some(res) = res {
            for a in db.docs(ASSIGNMENTS)? {
                if str_of(&a, "principalId") == str_of(client, "id")
                    && str_of(&a, "resourceId") == str_of(res, "id")
                {
                    if let Some(role) = res["appRoles"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|r| str_of(r, "id") == str_of(&a, "appRoleId"))
                    {
                        roles.push(str_of(role, "value").to_string());
                    }
                }
            }
        }
        Ok((str_of(client, "id").to_string(), roles))
    })
}

/// The signed-in person of delegated flows: the tenant's lab administrator.
/// The same object id as the tenant's seeded `admin@` user in Graph (`graph/users.rs`).
fn admin_oid(st: &AppState) -> String {
    crate::graph::users::lab_user_id(&st.tenant.id, "admin")
}

/// What a delegated `/.default` request is granted: for Graph the lab user's consented
/// `User.Read`; for another resource the delegated scopes it exposes — ARM (which
/// the tenant does not hold as a service principal here) exposes `user_impersonation`.
fn default_delegated_scopes(
    st: &AppState,
    resource: &str,
) -> Result<String, crate::store::StoreError> {
    if resource
        .trim_end_matches('/')
        .eq_ignore_ascii_case(GRAPH_RESOURCE)
        || resource.eq_ignore_ascii_case(crate::seed::GRAPH_APP_ID)
    {
        return Ok("User.Read".into());
    }
    let sp = resource_principal(st, resource)?;
    let declared: Vec<String> = sp
        .iter()
        .flat_map(|sp| {
            sp["oauth2PermissionScopes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|s| s["isEnabled"] != json!(false))
        .filter_map(|s| s.get("value").and_then(Value::as_str).map(str::to_string))
        .collect();
    Ok(if declared.is_empty() {
        "user_impersonation".into()
    } else {
        declared.join(" ")
    })
}

/// The service principal a resource identifier (appId or servicePrincipalName) names.
fn resource_principal(
    st: &AppState,
    resource: &str,
) -> Result<Option<Value>, crate::store::StoreError> {
    let r = resource.trim_end_matches('/');
    let sps = st.store.read(|db| db.docs(SERVICE_PRINCIPALS))?;
    Ok(sps.into_iter().find(|sp| names_resource(sp, r)))
}

fn names_resource(sp: &Value, r: &str) -> bool {
    str_of(sp, "appId").eq_ignore_ascii_case(r)
        || sp["servicePrincipalNames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|n| n.trim_end_matches('/').eq_ignore_ascii_case(r))
}

fn user_tokens(st: &AppState, client_id: &str, scope: &str, base: &str) -> Result<Value, AadError> {
    let r = resolve_scope(st, scope, base)?;
    let t = now();
    let oid = admin_oid(st);
    let upn = format!("admin@{}", st.tenant.initial_domain);
    let resource_scopes: Vec<&str> = r
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| !OIDC_SCOPES.contains(n) && *n != ".default")
        .collect();
    let scp = if resource_scopes.is_empty() {
        default_delegated_scopes(st, &r.resource).map_err(server_error)?
    } else {
        resource_scopes.join(" ")
    };
    // The audience is the resource exactly as the scope named it: ARM's
    // `https://management.core.windows.net//.default` gives
    // `https://management.core.windows.net/`, Graph's `https://graph.microsoft.com/.default`
    // gives `https://graph.microsoft.com`.
    let claims = json!({
        "aud": r.resource,
        "iss": format!("https://sts.windows.net/{}/", st.tenant.id),
        "iat": t, "nbf": t, "exp": t + tokens::ACCESS_TOKEN_SECONDS,
        "appid": client_id,
        "appidacr": "0",
        "idtyp": "user",
        "name": "Lab Administrator",
        "oid": oid,
        "scp": scp,
        "sub": oid,
        "tid": st.tenant.id,
        "unique_name": upn,
        "upn": upn,
        "uti": crate::util::opaque_id(16),
        "ver": "1.0",
    });
    let mut granted: Vec<String> = if r.resource.eq_ignore_ascii_case(GRAPH_RESOURCE) {
        scp.split(' ').map(str::to_string).collect()
    } else {
        scp.split(' ')
            .map(|s| format!("{}/{s}", r.resource))
            .collect()
    };
    granted.extend(
        r.names
            .iter()
            .filter(|n| OIDC_SCOPES.contains(&n.as_str()))
            .cloned(),
    );
    let mut out = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": tokens::ACCESS_TOKEN_SECONDS,
        "ext_expires_in": tokens::ACCESS_TOKEN_SECONDS,
        "access_token": st.tenant.signer.mint(&claims),
    });
    if r.names.iter().any(|n| n == "offline_access") {
        let refresh = json!({
            "typ": "refresh", "client_id": client_id, "scope": scope,
            "tid": st.tenant.id, "exp": t + tokens::REFRESH_TOKEN_SECONDS,
        });
        out["refresh_token"] = json!(st.tenant.signer.mint(&refresh));
    }
    if r.names.iter().any(|n| n == "openid") {
        let id = json!({
            "aud": client_id,
            "iss": format!("{base}{}/v2.0", st.tenant.id),
            "iat": t, "nbf": t, "exp": t + tokens::ACCESS_TOKEN_SECONDS,
            "name": "Lab Administrator", "oid": oid, "preferred_username": upn,
            "sub": oid, "tid": st.tenant.id, "ver": "2.0",
        });
        out["id_token"] = json!(st.tenant.signer.mint(&id));
    }
    Ok(out)
}

fn invalid_grant(code: u32, description: &str) -> AadError {
    AadError::new(StatusCode::BAD_REQUEST, "invalid_grant", code, description)
}

fn redeem_device_code(
    st: &AppState,
    p: &HashMap<String, String>,
    client_id: &str,
    base: &str,
) -> Result<Value, AadError> {
    let code = p
        .get("device_code")
        .ok_or_else(|| AadError::missing("device_code"))?;
    let flow = {
        let mut flows = st.device_flows.lock().unwrap_or_else(|e| e.into_inner());
        // A code issued to another client is as unknown as a made-up one.
        let Some(flow) = flows.get_mut(code).filter(|f| f.client_id == client_id) else {
            return Err(invalid_grant(
                70000,
                "The provided value for the input parameter 'device_code' is not valid.",
            ));
        };
        if flow.expires_at <= now() {
            flows.remove(code);
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        // The first poll finds the sign-in pending; the emulator approves it right after.
        if !flow.polled {
            flow.polled = true;
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ));
        }
        let flow = flow.clone();
        flows.remove(code);
        flow
    };
    let mut out = user_tokens(st, client_id, &flow.scope, base)?;
    add_client_info(st, p, &mut out);
    Ok(out)
}

fn refresh(
    st: &AppState,
    p: &HashMap<String, String>,
    client_id: &str,
    base: &str,
) -> Result<Value, AadError> {
    let rt = p
        .get("refresh_token")
        .ok_or_else(|| AadError::missing("refresh_token"))?;
    let bad = || invalid_grant(9002313, "Invalid request. Request is malformed or invalid.");
    let claims = st.tenant.signer.verify(rt, now()).map_err(|_| bad())?;
    if claims["typ"] != "refresh" || !str_of(&claims, "client_id").eq_ignore_ascii_case(client_id) {
        return Err(bad());
    }
    let scope = p
        .get("scope")
        .cloned()
        .unwrap_or_else(|| str_of(&claims, "scope").to_string());
    let mut out = user_tokens(st, client_id, &scope, base)?;
    add_client_info(st, p, &mut out);
    Ok(out)
}

/// `client_info` (base64url of `{"uid","utid"}`) when the request says `client_info=1`:
/// MSAL builds the account's home id `{uid}.{utid}` from it.
fn add_client_info(st: &AppState, p: &HashMap<String, String>, out: &mut Value) {
    if p.get("client_info").map(String::as_str) == Some("1") {
        let info = json!({"uid": admin_oid(st), "utid": st.tenant.id});
        out["client_info"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(info.to_string()));
    }
}

async fn device_code(
    State(st): State<Shared>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let corr = correlation_id(&headers);
    let run = || -> Result<Value, AadError> {
        tenant_ok(&st, &tenant)?;
        let p = form(&body);
        let client_id = p
            .get("client_id")
            .ok_or_else(|| AadError::missing("client_id"))?;
        let scope = p.get("scope").ok_or_else(|| AadError::missing("scope"))?;
        let base = st.base_url(&uri, &headers);
        resolve_scope(&st, scope, &base)?;
        let device_code = crate::util::opaque_id(48);
        let user_code = crate::util::random_text(9, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789");
        let mut flows = st.device_flows.lock().unwrap_or_else(|e| e.into_inner());
        // Forget codes nobody redeemed, so the table cannot grow without bound.
        let t = now();
        flows.retain(|_, f| f.expires_at > t);
        flows.insert(
            device_code.clone(),
            DeviceFlow {
                client_id: client_id.clone(),
                scope: scope.clone(),
                expires_at: now() + DEVICE_CODE_SECONDS,
                polled: false,
            },
        );
        let verification_uri = format!("{base}devicelogin");
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": DEVICE_CODE_SECONDS,
            "interval": DEVICE_CODE_INTERVAL,
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
        }))
    };
    match run() {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => e.render(&corr),
    }
}

async fn openid_configuration(
    State(st): State<Shared>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !st.tenant.matches(&tenant) {
        return AadError::unknown_tenant(&tenant, "invalid_tenant")
            .render(&correlation_id(&headers));
    }
    let base = st.base_url(&uri, &headers);
    let issuer_tenant = if tenant == "common" || tenant == "organizations" {
        "{tenantid}".to_string()
    } else {
        st.tenant.id.clone()
    };
    let t = &tenant;
    Json(json!({
        "token_endpoint": format!("{base}{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

/// The tenant's token-signing keys (JWKS), as `discovery/v2.0/keys` publishes them.
async fn keys(
    State(st): State<Shared>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !st.tenant.matches(&tenant) {
        return AadError::unknown_tenant(&tenant, "invalid_tenant")
            .render(&correlation_id(&headers));
    }
    let base = st.base_url(&uri, &headers);
    let issuer = format!("{base}{}/v2.0", st.tenant.id);
    Json(json!({"keys": [st.tenant.signer.jwk(&issuer)]})).into_response()
}

async fn device_login() -> Html<&'static str> {
    Html("<!doctype html><title>comgmt emulator</title><p>The comgmt emulator approves device codes automatically. Return to your application.</p>")
}

/// The emulator's own base URL as a resource or audience, with or without its port:
/// kiota derives the scope `https://127.0.0.1/.default` from a request URL and drops
/// the port.
pub fn is_own_base(candidate: &str, base: &str) -> bool {
    let candidate = candidate.trim_end_matches('/');
    let base = base.trim_end_matches('/');
    if candidate.eq_ignore_ascii_case(base) {
        return true;
    }
    match url::Url::parse(base) {
        Ok(u) => u.host_str().is_some_and(|host| {
            candidate.eq_ignore_ascii_case(&format!("{}://{host}", u.scheme()))
        }),
        Err(_) => false,
    }
}
