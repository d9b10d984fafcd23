//! The server app's client secret (the wizard's "secret key").

use super::directory::{parse_time, str_of};
use super::objects::{ClientSecret, EntraApp};
use super::MODULE;
use crate::change::{Applied, Change, KNOWN_AFTER_APPLY};
use crate::context::Ctx;
use crate::entra::model::SecretOptions;
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use serde_json::json;

/// Ensure a client secret named `display_name` that is valid beyond the renewal window.
pub fn ensure_client_secret(
    ctx: &Ctx,
    app: &EntraApp,
    opts: &SecretOptions,
) -> Result<ClientSecret> {
    opts.validate()?;
    let key = format!("{} ({})", app.display_name, opts.display_name);
    let now = time::OffsetDateTime::now_utc();
    if app.is_known() {
        let current = ctx.block_on(ctx.cloud.graph.get(
            &format!("applications/{}", app.id),
            &[("$select", "id,passwordCredentials")],
        ))?;
        let renew_after = now + time::Duration::days(i64::from(opts.renew_within_days));
        let valid = current.body["passwordCredentials"]
            .as_array()
            .and_then(|creds| {
                creds
                    .iter()
                    .filter(|c| c["displayName"].as_str() == Some(opts.display_name.as_str()))
                    .filter(|c| parse_time(&c["endDateTime"]).is_some_and(|end| end > renew_after))
                    .max_by_key(|c| parse_time(&c["endDateTime"]))
                    .cloned()
            });
        if let Some(c) = valid {
            ctx.unchanged(MODULE, "client secret", &key, c["keyId"].as_str());
            return Ok(ClientSecret {
                key_id: str_of(&c, "keyId"),
                display_name: opts.display_name.clone(),
                end_date_time: str_of(&c, "endDateTime"),
                value: None,
                created: false,
            });
        }
    }
    let end = now + time::Duration::days(365 * i64::from(opts.years));
    let end_text = end
        .replace_nanosecond(0)
        .unwrap_or(end)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| ModuleError::validation(format!("cannot format the expiry date: {e}")))?;
    let change = Change::invoke(MODULE, "client secret", &key)
        .field("displayName", None, json!(opts.display_name))
        .field("endDateTime", None, json!(end_text))
        .field("secretText", None, json!(crate::secret::REDACTED));
    let body =
        json!({"passwordCredential": {"displayName": opts.display_name, "endDateTime": end_text}});
    let path = format!("applications/{}/addPassword", app.id);
    let graph = &ctx.cloud.graph;
    let made = ctx.apply(change, async {
        let r = graph.post(&path, &body).await?;
        let key_id = str_of(&r.body, "keyId");
        let text = r.body["secretText"]
            .as_str()
            .map(Secret::new)
            .ok_or_else(|| ModuleError::remote("Graph addPassword answered without secretText"))?;
        let end = str_of(&r.body, "endDateTime");
        Ok(Applied::new((key_id.clone(), text, end))
            .id(key_id)
            .request_id(r.request_id))
    })?;
    Ok(match made {
        Some((key_id, text, end)) => ClientSecret {
            key_id,
            display_name: opts.display_name.clone(),
            end_date_time: end,
            value: Some(text),
            created: true,
        },
        None => ClientSecret {
            key_id: KNOWN_AFTER_APPLY.into(),
            display_name: opts.display_name.clone(),
            end_date_time: end_text,
            value: None,
            created: false,
        },
    })
}
