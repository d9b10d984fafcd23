//! One row of an AdminService WMI class as a resource: found by its natural key (a
//! `$filter` on a unique property, never by display name alone), created by POST and
//! changed by PATCH on its key. Site tables refuse a second row with the same natural
//! key (409), so when two runs create the same row, the second re-reads the row the
//! first made and goes on from there: no twins.
//!
//! A secret (an app's client secret) rides along with a write and never sits in the
//! desired body, so it never reaches a plan, the journal or the output.

use crate::change::{Equivalent, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::{AdminReader, Writer};
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::secret::Secret;
use serde_json::{json, Value};
use std::cell::Cell;

pub struct WmiRow {
    pub module: &'static str,
    /// "Entra app in the site".
    pub kind: &'static str,
    /// `wmi/SMS_AAD_Application_Ex`.
    pub class: &'static str,
    /// The key property (`ID`): server-assigned.
    pub key_prop: &'static str,
    /// The unique property the row is found by, and its value (unknown in a plan that
    /// creates what it names).
    pub natural: (&'static str, Known<String>),
    pub label: String,
    /// The properties this run wants (no secret in here).
    pub body: Value,
    /// Properties a plan cannot know (ids of rows not made yet).
    pub unknown: Vec<&'static str>,
    /// Sent with a create or an update, never shown: (property, value).
    pub secrets: Vec<(&'static str, Secret)>,
    /// Properties sent whenever the secrets are (a secret's expiry goes with it).
    pub secret_companions: Vec<&'static str>,
    /// Properties compared (and shown in a plan) but never sent: the service derives
    /// them (a certificate's thumbprint, from the PFX that is sent).
    pub derived: Vec<&'static str>,
    pub create_equivalent: Option<Equivalent>,
    pub update_equivalent: Option<Equivalent>,
    pub(crate) found: Cell<bool>,
}

impl WmiRow {
    pub fn new(
        module: &'static str,
        kind: &'static str,
        class: &'static str,
        natural: (&'static str, Known<String>),
        label: impl Into<String>,
        body: Value,
    ) -> Self {
        WmiRow {
            module,
            kind,
            class,
            key_prop: "ID",
            natural,
            label: label.into(),
            body,
            unknown: Vec::new(),
            secrets: Vec::new(),
            secret_companions: Vec::new(),
            derived: Vec::new(),
            create_equivalent: None,
            update_equivalent: None,
            found: Cell::new(false),
        }
    }

    fn class_name(&self) -> &str {
        self.class.trim_start_matches("wmi/")
    }

    /// `wmi/SMS_AAD_Application_Ex(16777217)` (quoted when the key is text).
    pub fn key_path(&self, row: &Value) -> Result<String> {
        match &row[self.key_prop] {
            Value::Number(n) => Ok(format!("{}({n})", self.class)),
            Value::String(s) => Ok(format!("{}('{}')", self.class, s.replace('\'', "''"))),
            _ => Err(ModuleError::remote(format!(
                "AdminService answered a {} row without its key {}",
                self.class_name(),
                self.key_prop
            ))),
        }
    }

    async fn find(&self, read: AdminReader<'_>) -> Result<Option<Value>> {
        match self.natural.1.value() {
            Some(value) => find_row(read, self.class, self.natural.0, value, self.key_prop).await,
            None => Ok(None),
        }
    }

    /// What is sent: the body without derived properties, with the secrets.
    fn outgoing(&self, body: &Value) -> Value {
        let mut out = body.clone();
        if let Value::Object(m) = &mut out {
            for d in &self.derived {
                m.remove(*d);
            }
            if !self.secrets.is_empty() {
                for c in &self.secret_companions {
                    if let Some(v) = self.body.get(*c) {
                        m.insert(c.to_string(), v.clone());
                    }
                }
            }
            for (prop, s) in &self.secrets {
                m.insert(prop.to_string(), json!(s.expose()));
            }
        }
        out
    }
}

impl Resource for WmiRow {
    type Output = Known<Value>;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        let key = format!(
            "{}[{}={}]",
            self.class_name(),
            self.natural.0,
            self.natural.1.text()
        );
        ResourceId::new(self.module, self.kind, key).label(self.label.clone())
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let read = ctx.read().admin_service()?;
        let found = super::read_or_plan(ctx, ctx.block_on(self.find(read)), || None)?;
        self.found.set(found.is_some());
        Ok(found)
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(self.body.clone())
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        let mut u = self.unknown.clone();
        if observed.is_none() {
            u.push(self.key_prop);
        }
        u
    }

    fn equivalent(&self) -> Option<Equivalent> {
        if self.found.get() {
            self.update_equivalent.clone()
        } else {
            self.create_equivalent.clone()
        }
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let admin = w.admin_service()?;
        let (row, patch) = match op {
            Op::Create { body } => match admin.post(self.class, &self.outgoing(body)).await {
                Ok(r) => return Ok(Written::new(r.body)),
                // Another run made the row between our read and this create: change
                // that one instead.
                Err(e) if e.kind == ErrorKind::Conflict => {
                    let again = self.find(w.read().admin_service()?).await?;
                    let Some(row) = again else { return Err(e) };
                    let patch = changed(body, &row);
                    (row, patch)
                }
                Err(e) => return Err(e),
            },
            Op::Update {
                observed, patch, ..
            } => (observed.clone(), patch.clone()),
        };
        let path = self.key_path(&row)?;
        let r = admin.patch(&path, &self.outgoing(&patch)).await?;
        Ok(Written::new(r.body))
    }

    fn output(self, outcome: Outcome) -> Result<Known<Value>> {
        Ok(match outcome {
            Outcome::Unchanged(v) => Known::Value(v),
            Outcome::Applied { written, .. } => Known::Value(written.state),
            Outcome::Planned { observed, desired } => match observed {
                Some(mut o) => {
                    if let (Value::Object(m), Value::Object(d)) = (&mut o, desired) {
                        m.extend(d);
                    }
                    Known::Value(o)
                }
                None => Known::AfterApply,
            },
        })
    }
}

/// The row of `class` whose unique property `prop` is `value`. Two rows would mean a twin
/// made outside this tool: the oldest (lowest `key_prop`) is used, as the console lists
/// it first.
pub async fn find_row(
    read: AdminReader<'_>,
    class: &str,
    prop: &str,
    value: &str,
    key_prop: &str,
) -> Result<Option<Value>> {
    let filter = format!("{prop} eq '{}'", value.replace('\'', "''"));
    let mut rows = read.list(class, &[("$filter", &filter)]).await?;
    rows.sort_by_key(|r| r[key_prop].as_i64().unwrap_or(i64::MAX));
    Ok(rows.into_iter().next())
}

/// The properties of `body` that differ from `row`.
fn changed(body: &Value, row: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Value::Object(m) = body {
        for (k, v) in m {
            if row.get(k) != Some(v) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// A PowerShell string literal: single quotes, doubled inside.
pub fn ps_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keeps_only_differences() {
        let body = json!({"Name": "a", "IsClientApp": false, "TenantDB_ID": 1});
        let row = json!({"ID": 5, "Name": "a", "IsClientApp": true, "TenantDB_ID": 1});
        assert_eq!(changed(&body, &row), json!({"IsClientApp": false}));
    }

    #[test]
    fn powershell_strings_are_quoted() {
        assert_eq!(ps_quote("My app"), "'My app'");
        assert_eq!(ps_quote("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn key_paths_quote_text_keys() {
        let row = WmiRow::new(
            "site",
            "k",
            "wmi/SMS_Site",
            ("SiteCode", Known::Value("ABC".into())),
            "l",
            json!({}),
        );
        let mut r = row;
        r.key_prop = "SiteCode";
        assert_eq!(
            r.key_path(&json!({"SiteCode": "ABC"})).unwrap(),
            "wmi/SMS_Site('ABC')"
        );
        r.key_prop = "ID";
        assert_eq!(r.key_path(&json!({"ID": 7})).unwrap(), "wmi/SMS_Site(7)");
        assert!(r.key_path(&json!({})).is_err());
    }
}
