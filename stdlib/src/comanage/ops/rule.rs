//! One membership rule of a collection as a resource: observed in the collection's lazy
//! `CollectionRules` (filled on a key lookup only, api-surface.md §0.2), added with the
//! instance method `AddMembershipRule` only when missing. A query rule is matched by its
//! name; a changed expression is removed and added again (WMI has no rule update).

use super::MODULE;
use crate::change::{Equivalent, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::comanage::model::COLLECTION_CLASS;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::ops::read_or_plan;
use crate::site::ops::row::ps_quote;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// A device by resource id; the rule is named after the device, as the console does.
    Direct {
        id: i64,
        name: String,
    },
    Query {
        name: String,
        expression: String,
    },
}

pub struct MembershipRule {
    pub collection: String,
    pub collection_id: Known<String>,
    pub rule: RuleKind,
}

impl MembershipRule {
    fn path(&self) -> Result<String> {
        let id = self.collection_id.value().ok_or_else(|| {
            ModuleError::remote(format!(
                "the collection {:?} has no CollectionID yet",
                self.collection
            ))
        })?;
        Ok(format!("{COLLECTION_CLASS}('{}')", id.replace('\'', "''")))
    }

    /// The `collectionRule` parameter of the method calls.
    fn parameter(&self, rule: &RuleKind) -> Value {
        match rule {
            RuleKind::Direct { id, name } => json!({"collectionRule": {
                "@odata.type": "#AdminService.SMS_CollectionRuleDirect",
                "ResourceClassName": "SMS_R_System", "RuleName": name, "ResourceID": id}}),
            RuleKind::Query { name, expression } => json!({"collectionRule": {
                "@odata.type": "#AdminService.SMS_CollectionRuleQuery",
                "RuleName": name, "QueryExpression": expression}}),
        }
    }

    fn matches(&self, r: &Value) -> bool {
        match &self.rule {
            RuleKind::Direct { id, .. } => r["ResourceID"].as_i64() == Some(*id),
            RuleKind::Query { name, .. } => {
                r["QueryExpression"].is_string() && r["RuleName"].as_str() == Some(name)
            }
        }
    }
}

impl Resource for MembershipRule {
    type Output = ();

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        let (kind, key) = match &self.rule {
            RuleKind::Direct { id, name } => ("direct membership rule", format!("{id} ({name})")),
            RuleKind::Query { name, .. } => ("query membership rule", name.clone()),
        };
        ResourceId::new(
            MODULE,
            kind,
            format!("SMS_Collection[Name={}]/{key}", self.collection),
        )
        .label(self.collection.clone())
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        if !self.collection_id.is_known() {
            return Ok(None);
        }
        let admin = ctx.read().admin_service()?;
        let row = ctx.block_on(admin.get_opt(&self.path()?));
        let row = read_or_plan(ctx, row, || None)?;
        Ok(row.and_then(|r| {
            r["CollectionRules"]
                .as_array()
                .and_then(|rules| rules.iter().find(|x| self.matches(x)).cloned())
        }))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(match &self.rule {
            RuleKind::Direct { id, name } => json!({"RuleName": name, "ResourceID": id}),
            RuleKind::Query { name, expression } => {
                json!({"RuleName": name, "QueryExpression": expression})
            }
        })
    }

    fn equivalent(&self) -> Option<Equivalent> {
        let coll = ps_quote(&self.collection);
        Some(Equivalent::powershell(match &self.rule {
            RuleKind::Direct { id, .. } => {
                format!("Add-CMDeviceCollectionDirectMembershipRule -CollectionName {coll} -ResourceId {id}")
            }
            RuleKind::Query { name, expression } => format!(
                "Add-CMDeviceCollectionQueryMembershipRule -CollectionName {coll} -RuleName {} -QueryExpression {}",
                ps_quote(name),
                ps_quote(expression)
            ),
        }))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let admin = w.admin_service()?;
        let path = self.path()?;
        if let Op::Update { .. } = op {
            // A query rule whose expression changed: WMI rules are replaced, not edited.
            admin
                .invoke(
                    &format!("{path}/AdminService.DeleteMembershipRule"),
                    &self.parameter(&self.rule),
                )
                .await?;
        }
        let r = admin
            .invoke(
                &format!("{path}/AdminService.AddMembershipRule"),
                &self.parameter(&self.rule),
            )
            .await?;
        Ok(Written::new(r.body))
    }

    fn output(self, _outcome: Outcome) -> Result<()> {
        Ok(())
    }
}
