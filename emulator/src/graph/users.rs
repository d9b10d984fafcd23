//! `/users`: the tenant's people, read-only — a list with `$select`, `$filter`, `$top`,
//! `$count` and `@odata.nextLink` paging (through `query.rs`, the rules every directory
//! collection shares), a user by id or by userPrincipalName, `/users/$count`, and
//! `/users/delta`. A new tenant holds a fixed, deterministic population: the lab
//! administrator (the signed-in person of delegated tokens), twelve users synchronized
//! from an on-premises `comgmtlab.local` domain and twelve cloud-only users.
//! An application token needs one of the app roles that read users.
//! Sources: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/user-list.md
//! (permissions, default properties), user-get.md (`/users/{id | userPrincipalName}`),
//! user-delta.md (delta paging, `@odata.deltaLink`).

use super::query::{self, Rules};
use super::resources::USER;
use super::{entity_response, json_response, public_view, str_of, Ctx, Key, Seg};
use crate::errors::{GraphError, GraphResult};
use crate::store::{Db, Row, StoreError};
use crate::tenant::Tenant;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

pub const SET_NAME: &str = "users";

/// The app roles that let an application read users (user-list.md, "Permissions").
const READ_ROLES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Properties a user answers without `$select` (user-list.md: "returns a default set of
/// properties").
const DEFAULT_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

const RULES: Rules = Rules {
    resource: "User",
    ends_with: &["mail", "userPrincipalName"],
    search: &["displayName", "mail", "userPrincipalName"],
    orderby: &["displayName", "userPrincipalName"],
    expand: &[],
};

/// Delta pages (user-delta.md leaves the size to the service; UNCONFIRMED).
const DELTA_PAGE: usize = 10;

/// A stable object id for a seeded user: the same tenant always gets the same ids.
pub fn lab_user_id(tenant_id: &str, name: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{tenant_id}:{name}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// (given name, surname, job title).
const SYNCED: &[(&str, &str, &str)] = &[
    ("Adele", "Vance", "Retail Manager"),
    ("Alex", "Wilber", "Marketing Assistant"),
    ("Diego", "Siciliani", "HR Manager"),
    ("Grady", "Archie", "Designer"),
    ("Henrietta", "Mueller", "Developer"),
    ("Isaiah", "Langer", "Sales Rep"),
    ("Johanna", "Lorenz", "Senior Engineer"),
    ("Joni", "Sherman", "Paralegal"),
    ("Lee", "Gu", "Director"),
    ("Lidia", "Holloway", "Product Manager"),
    ("Lynne", "Robbins", "Planner"),
    ("Megan", "Bowen", "Marketing Manager"),
];
const CLOUD_ONLY: &[(&str, &str, &str)] = &[
    ("Miriam", "Graham", "Director"),
    ("Nestor", "Wilke", "Director"),
    ("Patti", "Fernandez", "President"),
    ("Pradeep", "Gupta", "Accountant"),
    ("Alan", "Steiner", "Field Technician"),
    ("Bianca", "Pisani", "Support Engineer"),
    ("Cameron", "White", "Analyst"),
    ("Debra", "Berger", "Administrative Assistant"),
    ("Emily", "Braun", "Budget Analyst"),
    ("Enrico", "Cattaneo", "Attorney"),
    ("Irvin", "Sayers", "Technician"),
    ("Lena", "Gu", "Consultant"),
];

fn user(
    t: &Tenant,
    key: &str,
    given: &str,
    surname: &str,
    title: &str,
    synced: Option<u32>,
) -> Value {
    let nick = format!("{given}{}", surname.chars().next().unwrap_or('x'));
    let upn = format!("{nick}@{}", t.initial_domain);
    let display = format!("{given} {surname}");
    let on_prem = |v: Value| if synced.is_some() { v } else { Value::Null };
    let rid = synced.unwrap_or_default();
    json!({
        "id": lab_user_id(&t.id, key),
        "accountEnabled": true,
        "businessPhones": [],
        "createdDateTime": t.created,
        "displayName": display,
        "givenName": given,
        "jobTitle": title,
        "mail": upn,
        "mailNickname": nick,
        "mobilePhone": null,
        "officeLocation": null,
        "onPremisesDistinguishedName": on_prem(json!(format!("CN={display},OU=Users,OU=Lab,DC=comgmtlab,DC=local"))),
        "onPremisesDomainName": on_prem(json!("comgmtlab.local")),
        "onPremisesSamAccountName": on_prem(json!(nick.to_ascii_lowercase())),
        "onPremisesSecurityIdentifier": on_prem(json!(format!("S-1-5-21-1004336348-1177238915-682003330-{rid}"))),
        "onPremisesSyncEnabled": on_prem(json!(true)),
        "preferredLanguage": "en-US",
        "surname": surname,
        "userPrincipalName": upn,
        "userType": "Member",
    })
}

/// The seeded population, in a fixed order.
pub fn population(t: &Tenant) -> Vec<Value> {
    let mut out = vec![user(
        t,
        "admin",
        "Lab",
        "Administrator",
        "Administrator",
        None,
    )];
    if let Some(m) = out[0].as_object_mut() {
        let upn = format!("admin@{}", t.initial_domain);
        m.insert("userPrincipalName".into(), json!(upn));
        m.insert("mail".into(), json!(upn));
        m.insert("mailNickname".into(), json!("admin"));
    }
    for (n, (g, s, j)) in SYNCED.iter().enumerate() {
        out.push(user(
            t,
            &format!("user:{n}"),
            g,
            s,
            j,
            Some(1100 + n as u32),
        ));
    }
    for (n, (g, s, j)) in CLOUD_ONLY.iter().enumerate() {
        out.push(user(t, &format!("cloud:{n}"), g, s, j, None));
    }
    out
}

/// Seed the population when the tenant has no users (a new state, or one from before
/// `/users` existed).
pub fn seed(db: &Db<'_>, t: &Tenant) -> Result<(), StoreError> {
    if !db.docs(SET_NAME)?.is_empty() {
        return Ok(());
    }
    for u in population(t) {
        db.insert(SET_NAME, str_of(&u, "id"), &u)?;
    }
    Ok(())
}

/// An application token must carry a role that reads users; a delegated token is the
/// lab administrator's, who may.
fn allowed(ctx: &Ctx<'_>) -> GraphResult<()> {
    if ctx.claims["idtyp"] != json!("app") {
        return Ok(());
    }
    let roles = ctx.claims["roles"].as_array().cloned().unwrap_or_default();
    if roles
        .iter()
        .filter_map(Value::as_str)
        .any(|r| READ_ROLES.contains(&r))
    {
        return Ok(());
    }
    // The reply Graph gives an app without the permission (its `Authorization_RequestDenied`
    // error, microsoft-graph-docs-contrib concepts/errors.md).
    Err(GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    ))
}

/// Without `$select`, the default property set.
fn default_view(ctx: &Ctx<'_>, doc: &Value) -> Value {
    let doc = public_view(doc);
    if ctx.query.get("$select").is_some() {
        return doc;
    }
    let m: Map<String, Value> = doc
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| DEFAULT_PROPS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(m)
}

fn rows(ctx: &Ctx<'_>) -> GraphResult<Vec<Row>> {
    query::all_rows(ctx, SET_NAME)
}

/// By object id, or by userPrincipalName (user-get.md).
fn find(ctx: &Ctx<'_>, key: &str) -> GraphResult<Value> {
    let by_id = crate::util::is_guid(key);
    rows(ctx)?
        .into_iter()
        .map(|r| r.doc)
        .find(|d| {
            let prop = if by_id { "id" } else { "userPrincipalName" };
            str_of(d, prop).eq_ignore_ascii_case(key)
        })
        .ok_or_else(|| GraphError::not_found(key))
}

pub fn route(ctx: &Ctx<'_>, method: &Method, segs: &[Seg]) -> GraphResult<Response> {
    if method != Method::GET {
        return Err(GraphError::method_not_allowed());
    }
    allowed(ctx)?;
    let key = |k: &Key| match k {
        Key::Id(id) => Ok(id.clone()),
        Key::Alt(p, v) if p == "userPrincipalName" => Ok(v.clone()),
        Key::Alt(p, _) => Err(GraphError::odata(format!(
            "The key property '{p}' is not an alternate key of 'users'."
        ))),
    };
    match segs {
        [s] if s.key.is_none() => {
            query::list_response(ctx, SET_NAME, rows(ctx)?, &USER, &RULES, |d| {
                default_view(ctx, d)
            })
        }
        [s] => {
            let k = s.key.as_ref().map(key).transpose()?.unwrap_or_default();
            one(ctx, &k)
        }
        [_, c] if c.name == "$count" => query::count_response(ctx, rows(ctx)?, &USER, &RULES),
        [_, d] if d.is("delta") || d.name.eq_ignore_ascii_case("delta()") => delta(ctx),
        [_, k] if k.key.is_none() => one(ctx, &k.name),
        [_, s, ..] => Err(GraphError::no_route(&s.name)),
        [] => Err(GraphError::no_route("")),
    }
}

fn one(ctx: &Ctx<'_>, key: &str) -> GraphResult<Response> {
    let doc = find(ctx, key)?;
    entity_response(
        ctx,
        StatusCode::OK,
        SET_NAME,
        &default_view(ctx, &doc),
        &USER,
    )
}

/// `/users/delta`: every user over `@odata.nextLink` pages, then `@odata.deltaLink`; a
/// round with the delta token answers what changed since — users are read-only here,
/// so nothing.
fn delta(ctx: &Ctx<'_>) -> GraphResult<Response> {
    let all = rows(ctx)?;
    let select = ctx
        .query
        .get("$select")
        .map(|raw| crate::odata::options::parse_select(raw, &USER))
        .transpose()?;
    let bad_token = || {
        GraphError::bad_request(
            "The specified page token value has expired and can no longer be included in your request.",
        )
    };
    let decode = |t: &str| -> GraphResult<i64> {
        URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad_token)
    };
    let last_seq = all.last().map_or(0, |r| r.seq);
    let (page, more): (Vec<&Row>, bool) =
        match (ctx.query.get("$deltatoken"), ctx.query.get("$skiptoken")) {
            (Some(_), _) => (Vec::new(), false),
            (None, Some(skip)) => {
                let after = decode(skip)?;
                let rest: Vec<&Row> = all.iter().filter(|r| r.seq > after).collect();
                (
                    rest.iter().take(DELTA_PAGE).copied().collect(),
                    rest.len() > DELTA_PAGE,
                )
            }
            (None, None) => (
                all.iter().take(DELTA_PAGE).collect(),
                all.len() > DELTA_PAGE,
            ),
        };
    let keep = ctx
        .query
        .get("$select")
        .map(|raw| format!("$select={raw}&"))
        .unwrap_or_default();
    let link = |name: &str, value: i64| {
        format!(
            "{}{}/users/delta?{keep}{name}={}",
            ctx.base,
            ctx.version,
            URL_SAFE_NO_PAD.encode(value.to_string())
        )
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(query::context(ctx, SET_NAME, select.as_deref(), false)),
    );
    match page.last() {
        Some(r) if more => body.insert("@odata.nextLink".into(), json!(link("$skiptoken", r.seq))),
        _ => body.insert(
            "@odata.deltaLink".into(),
            json!(link("$deltatoken", last_seq)),
        ),
    };
    let value: Vec<Value> = page
        .iter()
        .map(|r| crate::odata::options::project(&default_view(ctx, &r.doc), select.as_deref()))
        .collect();
    body.insert("value".into(), Value::Array(value));
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tokens::generate_key;
    use std::sync::Arc;

    #[test]
    fn population_is_deterministic_and_unique() {
        let (key, cert) = generate_key().unwrap();
        let t = Tenant {
            id: "0b9c1c55-1f5b-4c8e-9d59-9c1f1e8a0c11".into(),
            initial_domain: "comgmtlab.onmicrosoft.com".into(),
            display_name: "Lab".into(),
            created: "2026-01-01T00:00:00Z".into(),
            signer: Arc::new(crate::identity::tokens::Signer::load(&key, &cert).unwrap()),
        };
        let a = population(&t);
        let b = population(&t);
        assert_eq!(a, b);
        assert_eq!(a.len(), 25);
        let mut ids: Vec<&str> = a.iter().map(|u| str_of(u, "id")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 25);
        assert_eq!(
            str_of(&a[0], "userPrincipalName"),
            "admin@comgmtlab.onmicrosoft.com"
        );
        assert_eq!(str_of(&a[0], "id"), lab_user_id(&t.id, "admin"));
        assert_eq!(
            a.iter()
                .filter(|u| u["onPremisesSyncEnabled"] == json!(true))
                .count(),
            12
        );
    }
}
