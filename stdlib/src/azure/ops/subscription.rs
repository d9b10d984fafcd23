//! Which subscription a run works in: the one named (an option or the profile's
//! `subscription`), else the only one the identity sees.

use crate::azure::model::{check_subscription_id, SUBSCRIPTIONS_API};
use crate::azure::objects::Subscription;
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use serde_json::Value;

/// The subscription `explicit` names, else the profile's, else the only one visible.
pub fn subscription(ctx: &Ctx, explicit: Option<&str>) -> Result<Subscription> {
    let arm = ctx.read().arm();
    let named = explicit.or(ctx.read().subscription());
    if let Some(id) = named {
        let id = check_subscription_id(id)?;
        let r = ctx
            .block_on(arm.get(&format!("subscriptions/{id}"), SUBSCRIPTIONS_API))
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => e.with_hint(
                    "the identity sees no such subscription: check the id, the tenant, and that it has a role (Reader at least) on it",
                ),
                _ => e,
            })?;
        return Ok(Subscription::from_arm(&r.body));
    }
    let subs = ctx.block_on(arm.list("subscriptions", SUBSCRIPTIONS_API))?;
    only_one(&subs)
}

/// The one subscription of a list, or an error that lists them.
fn only_one(subs: &[Value]) -> Result<Subscription> {
    match subs {
        [one] => Ok(Subscription::from_arm(one)),
        [] => Err(ModuleError::not_found(
            "the signed-in identity sees no Azure subscription",
        )
        .with_hint(
            "give it a role on the CMG's subscription (Owner or Contributor to create the CMG's resources)",
        )),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|s| {
                    format!(
                        "{} ({})",
                        s["subscriptionId"].as_str().unwrap_or_default(),
                        s["displayName"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            Err(ModuleError::validation(format!(
                "the identity sees {} subscriptions: {}",
                many.len(),
                list.join(", ")
            ))
            .with_hint("set `subscription` in the profile, or pass #{ subscription: \"<id>\" }"))
        }
    }
}

/// Just the id, for functions taking a `subscription` option.
pub fn subscription_id(ctx: &Ctx, explicit: Option<&str>) -> Result<String> {
    // A named id is checked against ARM too, so a typo fails before any plan.
    subscription(ctx, explicit).map(|s| s.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_subscription_is_taken_and_several_are_listed() {
        let a = json!({"subscriptionId": "a", "displayName": "Lab", "tenantId": "t", "state": "Enabled"});
        let b = json!({"subscriptionId": "b", "displayName": "Prod"});
        assert_eq!(
            only_one(std::slice::from_ref(&a)).unwrap().display_name,
            "Lab"
        );
        let e = only_one(&[a, b]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(
            e.message
                .contains("sees 2 subscriptions: a (Lab), b (Prod)"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("`subscription` in the profile"));
        assert_eq!(only_one(&[]).unwrap_err().kind, ErrorKind::NotFound);
    }
}
