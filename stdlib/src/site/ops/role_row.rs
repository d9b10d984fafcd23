//! A site control row — a component's item (`SMS_SCI_Component`) or a site system's
//! role (`SMS_SCI_SysResUse`) — as a resource whose embedded `Props` should hold given
//! values. The row is found by a `$filter` (and, for a role, the server it runs on);
//! its `Props` are compared entry by entry (`PropertyName`), so a plan shows the one
//! property that changes with its real value before, and the write sends `Props` whole
//! with every other entry as the site has it. A role that does not exist is created
//! with `create` when there is one, and is an error otherwise.
//! The AdminService write path for embedded props is UNCONFIRMED (api-surface.md
//! §0.2, §11.3: public scripts use WMI `Put()`); this PATCHes the row's `Props`.

use crate::change::{Action, Equivalent, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::{AdminReader, Writer};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};

/// One wanted embedded property: name, `Value`, and `Value1` when it matters.
pub struct Want {
    pub name: &'static str,
    pub value: i64,
    pub value1: Option<String>,
}

pub struct RoleRow {
    pub kind: &'static str,
    /// `wmi/SMS_SCI_SysResUse`.
    pub class: &'static str,
    /// The `$filter` that lists the candidates (`RoleName eq '…' and SiteCode eq '…'`).
    pub filter: String,
    /// The server the row must be on (`NetworkOSPath` `\\server`), for roles.
    pub server: Option<String>,
    pub key: String,
    pub label: String,
    pub wants: Vec<Want>,
    /// The body of a create; `None`: a missing row is `missing`'s error.
    pub create: Option<Value>,
    pub missing: Option<Box<dyn Fn() -> ModuleError>>,
    pub equivalent: Option<Equivalent>,
    /// A plan that cannot read the site (`read_or_plan`): a missing row is shown as
    /// an update of what the site will have, not an error.
    pub unread: bool,
    /// The observed row, for the key of the write.
    found: RefCell<Option<Value>>,
    exists: Cell<bool>,
}

impl RoleRow {
    pub fn new(
        kind: &'static str,
        class: &'static str,
        filter: String,
        key: String,
        label: String,
    ) -> Self {
        RoleRow {
            kind,
            class,
            filter,
            server: None,
            key,
            label,
            wants: Vec::new(),
            create: None,
            missing: None,
            equivalent: None,
            unread: false,
            found: RefCell::new(None),
            exists: Cell::new(false),
        }
    }
}

/// `\\CM01.contoso.com` names `CM01.contoso.com` (any case).
pub fn on_server(row: &Value, server: &str) -> bool {
    row["NetworkOSPath"]
        .as_str()
        .is_some_and(|p| p.trim_start_matches('\\').eq_ignore_ascii_case(server))
}

/// The rows a filter lists, on `server` when one is given.
pub async fn list(
    read: AdminReader<'_>,
    class: &str,
    filter: &str,
    server: Option<&str>,
) -> Result<Vec<Value>> {
    let rows = read.list(class, &[("$filter", filter)]).await?;
    Ok(rows
        .into_iter()
        .filter(|r| server.is_none_or(|s| on_server(r, s)))
        .collect())
}

/// An embedded property's `Value`.
pub fn prop_value(row: &Value, name: &str) -> Option<i64> {
    row["Props"]
        .as_array()?
        .iter()
        .find(|p| p["PropertyName"] == name)?
        .get("Value")?
        .as_i64()
}

/// Whether a role takes HTTPS client connections: its `SslState` prop, else its own
/// `SslState` (1 HTTPS, 3 always HTTPS; sms_sci_sysresuse-server-wmi-class.md).
pub fn https(row: &Value) -> bool {
    let state = prop_value(row, "SslState").or_else(|| row["SslState"].as_i64());
    matches!(state, Some(1 | 3))
}

/// `props` with each wanted entry set; other entries untouched.
pub fn with_wants(props: &Value, wants: &[Want]) -> Value {
    let mut list = props.as_array().cloned().unwrap_or_default();
    for w in wants {
        match list.iter_mut().find(|p| p["PropertyName"] == w.name) {
            Some(p) => {
                p["Value"] = json!(w.value);
                if let Some(v1) = &w.value1 {
                    p["Value1"] = json!(v1);
                }
            }
            None => list.push(json!({
                "PropertyName": w.name,
                "Value": w.value,
                "Value1": w.value1.clone().unwrap_or_default(),
                "Value2": "",
            })),
        }
    }
    Value::Array(list)
}

/// A row's key in a path. Role keys hold backslashes, quotes and brackets, which a URL
/// would turn into path separators: everything but letters and digits is
/// percent-encoded (the AdminService decodes the segment).
pub fn key_path(class: &str, row: &Value) -> Result<String> {
    let key = row["ItemName"].as_str().ok_or_else(|| {
        ModuleError::remote(format!(
            "AdminService answered a {class} row without its ItemName"
        ))
    })?;
    let quoted = format!("'{}'", key.replace('\'', "''"));
    let mut enc = String::with_capacity(quoted.len() * 3);
    for b in quoted.bytes() {
        if b.is_ascii_alphanumeric() {
            enc.push(char::from(b));
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(format!("{class}({enc})"))
}

impl Resource for RoleRow {
    type Output = Known<Value>;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(super::MODULE, self.kind, self.key.clone()).label(self.label.clone())
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let read = ctx.read().admin_service()?;
        let rows = ctx.block_on(list(read, self.class, &self.filter, self.server.as_deref()));
        let rows = super::read_or_plan(ctx, rows, Vec::new)?;
        let row = rows.into_iter().next();
        if row.is_none() && self.create.is_none() && !self.unread {
            return Err(match &self.missing {
                Some(f) => f(),
                None => ModuleError::not_found(format!("no {} {}", self.kind, self.key)),
            });
        }
        self.exists.set(row.is_some());
        *self.found.borrow_mut() = row.clone();
        Ok(row)
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        match observed {
            Some(o) => Ok(json!({"Props": with_wants(&o["Props"], &self.wants)})),
            None => {
                let mut body = self.create.clone().unwrap_or_else(|| json!({}));
                body["Props"] = with_wants(&body["Props"], &self.wants);
                Ok(body)
            }
        }
    }

    fn create_action(&self) -> Action {
        if self.unread && self.create.is_none() {
            Action::Update
        } else {
            Action::Create
        }
    }

    fn equivalent(&self) -> Option<Equivalent> {
        self.equivalent.clone()
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let admin = w.admin_service()?;
        match op {
            Op::Create { body } => Ok(Written::new(admin.post(self.class, body).await?.body)),
            Op::Update { patch, .. } => {
                let row = self.found.borrow().clone().unwrap_or_default();
                let path = key_path(self.class, &row)?;
                Ok(Written::new(admin.patch(&path, patch).await?.body))
            }
        }
    }

    fn output(self, outcome: Outcome) -> Result<Known<Value>> {
        Ok(match outcome {
            Outcome::Unchanged(v) => Known::Value(v),
            Outcome::Applied { written, .. } => Known::Value(written.state),
            Outcome::Planned { observed, desired } => match observed {
                Some(mut o) => {
                    o["Props"] = desired["Props"].clone();
                    Known::Value(o)
                }
                None => Known::Value(desired),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_change_only_their_entries() {
        let props = json!([{"PropertyName": "A", "Value": 0, "Value1": "x"}, {"PropertyName": "B", "Value": 5}]);
        let w = [
            Want {
                name: "A",
                value: 1,
                value1: None,
            },
            Want {
                name: "C",
                value: 2,
                value1: Some("y".into()),
            },
        ];
        let out = with_wants(&props, &w);
        assert_eq!(
            out[0],
            json!({"PropertyName": "A", "Value": 1, "Value1": "x"})
        );
        assert_eq!(out[1]["Value"], 5);
        assert_eq!(out[2]["Value1"], "y");
    }

    #[test]
    fn keys_are_encoded_and_servers_matched() {
        let row = json!({"ItemName": "[\"Display=\\\\CM01\\\"]x,SMS Management Point", "NetworkOSPath": "\\\\CM01.x"});
        let p = key_path("wmi/SMS_SCI_SysResUse", &row).unwrap();
        assert!(p.starts_with("wmi/SMS_SCI_SysResUse(%27%5B%22Display"));
        assert!(!p.contains('\\') && !p.contains(' '));
        assert!(on_server(&row, "cm01.X"));
        assert!(https(
            &json!({"Props": [{"PropertyName": "SslState", "Value": 1}]})
        ));
        assert!(!https(&json!({"SslState": 0})));
    }
}
