//! The site side of the Azure Services wizard: the tenant, the server app (with its
//! client secret) and the client app imported into the site, then the
//! cloud-management Azure service with Entra user discovery.
//!
//! Class and property names are emulated at the property level (api-surface §6.4:
//! only `SMS_AAD_Application_Ex` with `ClientID`/`SecretKey` and `SMS_Azure_CloudService`
//! with `ID`/`Name`/`ServiceType`/`SiteCode` are seen in public sources): UNCONFIRMED.

use super::row::{ps_quote, WmiRow};
use super::MODULE;
use crate::change::{ensure, Equivalent, Known};
use crate::context::Ctx;
use crate::entra::model::SecretOptions;
use crate::entra::objects::{ClientSecret, EntraApp};
use crate::entra::ops as entra;
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use crate::site::model::*;
use crate::site::objects::AzureService;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The variable the PowerShell equivalent reads the secret into.
const SECRET_VAR: &str = "$ServerAppSecret";

/// Import the apps and ensure the Azure service.
pub fn ensure_azure_service(
    ctx: &Ctx,
    opts: &AzureServiceOptions,
    server: &EntraApp,
    client: &EntraApp,
    secret: &ClientSecret,
) -> Result<AzureService> {
    let interval = opts.validate()?;
    if server.kind != "server" || client.kind != "client" {
        return Err(ModuleError::validation(format!(
            "site::azure_service: `server` must be the server app and `client` the client app (got a {} app and a {} app)",
            server.kind, client.kind
        ))
        .with_hint("pass entra::server_app(...) as server and entra::client_app(...) as client"));
    }
    let site = super::site(ctx)?;
    let tenant = entra::tenant(ctx)?;
    let changes_before = ctx.summary().changes();
    let tenant_id = tenant.facts.tenant_id.clone();

    // The tenant.
    let tenant_row = ensure(
        ctx,
        WmiRow::new(
            MODULE,
            "Entra tenant in the site",
            TENANT_CLASS,
            ("TenantID", Known::Value(tenant_id.clone())),
            tenant.display_name.clone(),
            json!({
                "Name": tenant.display_name,
                "TenantID": tenant_id,
                "AzureEnvironment": opts.environment,
            }),
        ),
    )?;
    let tenant_db = row_id(&tenant_row);

    // The server app and the secret the site holds.
    let existing = find(ctx, APP_CLASS, "ClientID", server.app_id.value())?;
    let choice = choose_secret(ctx, server, existing.as_ref(), secret)?;
    let (expiry, value, replaced) = match choice {
        SecretChoice::Keep(expiry) => (expiry, None, false),
        SecretChoice::Send(expiry, value) => (expiry, value, true),
    };
    let mut server_row = WmiRow::new(
        MODULE,
        "server app in the site",
        APP_CLASS,
        ("ClientID", server.app_id.clone()),
        server.display_name.clone(),
        json!({
            "Name": server.display_name,
            "ClientID": known_json(&server.app_id),
            "TenantDB_ID": known_json(&tenant_db),
            "TenantID": tenant_id,
            "IdentifierUri": server.identifier_uri.clone().unwrap_or_default(),
            "IsClientApp": false,
            "SecretKeyExpiry": known_json(&expiry),
        }),
    );
    server_row.unknown = unknowns(&[
        ("ClientID", server.app_id.is_known()),
        ("TenantDB_ID", tenant_db.is_known()),
        ("SecretKeyExpiry", expiry.is_known()),
    ]);
    server_row.secrets = value.map(|v| ("SecretKey", v)).into_iter().collect();
    server_row.secret_companions = vec!["SecretKeyExpiry"];
    server_row.create_equivalent = Some(
        Equivalent::powershell(format!(
            "Import-CMAADServerApplication -AppName {} -ClientId {} -SecretKey {SECRET_VAR} -SecretKeyExpiry {} -TenantId {} -TenantName {} -AppIdUri {} -AzureEnvironmentOption {}",
            ps_quote(&server.display_name),
            ps_quote(server.app_id.text()),
            ps_quote(expiry.text()),
            ps_quote(&tenant_id),
            ps_quote(&tenant.display_name),
            ps_quote(server.identifier_uri.as_deref().unwrap_or_default()),
            opts.environment,
        ))
        .with_prelude(secret_prompt(&server.display_name)),
    );
    // No cmdlet changes an imported app's secret key: the console's "Update
    // Application Settings" does (manually-register-azure-ad-apps.md).
    server_row.update_equivalent = Some(Equivalent::powershell(format!(
        "# no cmdlet updates a secret key: console > Administration > Cloud Services > Microsoft Entra Tenants > {} > Update Application Settings (secret key expiry {})",
        server.display_name,
        expiry.text()
    )));
    let server_row = ensure(ctx, server_row)?;
    let server_db = row_id(&server_row);

    // The client app.
    let mut client_row = WmiRow::new(
        MODULE,
        "client app in the site",
        APP_CLASS,
        ("ClientID", client.app_id.clone()),
        client.display_name.clone(),
        json!({
            "Name": client.display_name,
            "ClientID": known_json(&client.app_id),
            "TenantDB_ID": known_json(&tenant_db),
            "TenantID": tenant_id,
            "IsClientApp": true,
        }),
    );
    client_row.unknown = unknowns(&[
        ("ClientID", client.app_id.is_known()),
        ("TenantDB_ID", tenant_db.is_known()),
    ]);
    client_row.create_equivalent = Some(Equivalent::powershell(format!(
        "Import-CMAADClientApplication -AppName {} -ClientId {} -TenantId {}",
        ps_quote(&client.display_name),
        ps_quote(client.app_id.text()),
        ps_quote(&tenant_id),
    )));
    let client_row = ensure(ctx, client_row)?;
    let client_db = row_id(&client_row);

    // The Azure service, with user discovery.
    let observed = find(ctx, CLOUD_SERVICE_CLASS, "Name", Some(&opts.name))?;
    // A token with the same interval is kept: only its start time would differ.
    let schedule = observed
        .as_ref()
        .and_then(|o| o["UserDiscoverySchedule"].as_str())
        .filter(|t| Interval::from_token(t) == Some(interval))
        .map(str::to_string)
        .unwrap_or_else(|| interval.token(utc_now()));
    let delta = opts.delta_minutes;
    let mut service_row = WmiRow::new(
        MODULE,
        "Azure service",
        CLOUD_SERVICE_CLASS,
        ("Name", Known::Value(opts.name.clone())),
        opts.name.clone(),
        json!({
            "Name": opts.name,
            "Description": opts.description,
            "ServiceType": CLOUD_MANAGEMENT,
            "SiteCode": site.code,
            "TenantDB_ID": known_json(&tenant_db),
            "ServerAppDB_ID": known_json(&server_db),
            "ClientAppDB_ID": known_json(&client_db),
            "EnableUserDiscovery": opts.user_discovery,
            "EnableUserDeltaDiscovery": opts.user_discovery && delta > 0,
            "UserDeltaDiscoveryMins": if delta > 0 { delta } else { 5 },
            "UserDiscoverySchedule": schedule,
        }),
    );
    service_row.unknown = unknowns(&[
        ("TenantDB_ID", tenant_db.is_known()),
        ("ServerAppDB_ID", server_db.is_known()),
        ("ClientAppDB_ID", client_db.is_known()),
    ]);
    let discovery_args = format!(
        "-EnableUserDiscovery ${} -EnableUserDeltaDiscovery ${} -UserDeltaDiscoveryMins {} -UserDiscoverySchedule ({})",
        opts.user_discovery,
        opts.user_discovery && delta > 0,
        if delta > 0 { delta } else { 5 },
        interval.new_cm_schedule()
    );
    service_row.create_equivalent = Some(Equivalent::powershell(format!(
        "New-CMCloudManagementAzureService -Name {} -Description {} -ServerApp (Get-CMAADApplication -ClientId {} -AppType ServerApplication) -ClientApp (Get-CMAADApplication -ClientId {} -AppType ClientApplication) -AzureEnvironmentOption {} {discovery_args}",
        ps_quote(&opts.name),
        ps_quote(&opts.description),
        ps_quote(server.app_id.text()),
        ps_quote(client.app_id.text()),
        opts.environment,
    )));
    service_row.update_equivalent = Some(Equivalent::powershell(format!(
        "Set-CMCloudManagementAzureService -Name {} {discovery_args}",
        ps_quote(&opts.name)
    )));
    let service = ensure(ctx, service_row)?;

    Ok(AzureService {
        id: row_id(&service),
        name: opts.name.clone(),
        tenant_id,
        server_app_id: server.app_id.clone(),
        server_app_uri: server.identifier_uri.clone().unwrap_or_default(),
        client_app_id: client.app_id.clone(),
        user_discovery: opts.user_discovery,
        delta_minutes: delta,
        schedule: interval.text(),
        secret_expiry: expiry.text().to_string(),
        secret_replaced: replaced,
        changed: ctx.summary().changes() > changes_before,
    })
}

/// Which secret the site should hold.
enum SecretChoice {
    /// The site's secret is still in Entra and no older than the newest: keep it.
    Keep(Known<String>),
    /// Give the site this one (unknown in a plan that makes it).
    Send(Known<String>, Option<Secret>),
}

/// The site keeps its secret while Entra still holds one with that expiry and it does
/// not expire sooner than the secret this run has. Otherwise it gets this run's secret;
/// when this run did not make it (Graph shows a secret's text only when it is made),
/// a new one is added so the site never needs a secret copied by hand.
fn choose_secret(
    ctx: &Ctx,
    server: &EntraApp,
    site_row: Option<&Value>,
    given: &ClientSecret,
) -> Result<SecretChoice> {
    let site_expiry = site_row.and_then(|r| entra::parse_time(&r["SecretKeyExpiry"]));
    let given_end = entra::parse_time(&json!(given.end_date_time));
    if let (Some(expiry), Some(app_id)) = (site_expiry, server.app_id.value()) {
        let app = entra::app_by_app_id(ctx, app_id)?;
        let held = app
            .as_ref()
            .and_then(|a| a["passwordCredentials"].as_array())
            .is_some_and(|creds| {
                creds.iter().any(|c| {
                    entra::parse_time(&c["endDateTime"])
                        .is_some_and(|end| same_instant(end, expiry))
                })
            });
        let live = expiry > OffsetDateTime::now_utc();
        if held && live && given_end.is_none_or(|g| expiry >= g || same_instant(expiry, g)) {
            return Ok(SecretChoice::Keep(Known::Value(stamp(expiry))));
        }
    }
    if let (Some(value), Some(end)) = (&given.value, given_end) {
        return Ok(SecretChoice::Send(
            Known::Value(stamp(end)),
            Some(value.clone()),
        ));
    }
    let opts = SecretOptions {
        display_name: given.display_name.clone(),
        years: given.years.clamp(1, 2),
        renew_within_days: 30,
    };
    let made = entra::add_client_secret(ctx, server, &opts)?;
    let end = entra::parse_time(&json!(made.end_date_time));
    Ok(match (made.value, end) {
        (Some(v), Some(end)) => SecretChoice::Send(Known::Value(stamp(end)), Some(v)),
        // A plan: the new secret's expiry is only known once it is made.
        _ => SecretChoice::Send(Known::AfterApply, None),
    })
}

/// Secrets made here expire at distinct milliseconds (`entra::client_secret`): the
/// expiry is how the site's secret is told apart from the app's others.
fn same_instant(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    (a - b).whole_milliseconds() == 0
}

/// `2027-11-29T21:00:00.123Z`: the one spelling the site row holds.
fn stamp(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| t.to_string())
}

/// Now in UTC (the token says so with its UTC flag).
fn utc_now() -> time::PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    time::PrimitiveDateTime::new(now.date(), now.time())
}

/// One row of `class` whose `prop` is `value`, the oldest when there are several.
fn find(ctx: &Ctx, class: &str, prop: &str, value: Option<&String>) -> Result<Option<Value>> {
    let Some(value) = value else { return Ok(None) };
    let admin = ctx.read().admin_service()?;
    let row = ctx.block_on(super::row::find_row(admin, class, prop, value, "ID"));
    super::read_or_plan(ctx, row, || None)
}

fn row_id(row: &Known<Value>) -> Known<i64> {
    match row.value().and_then(|r| r["ID"].as_i64()) {
        Some(id) => Known::Value(id),
        None => Known::AfterApply,
    }
}

fn known_json<T: serde::Serialize>(k: &Known<T>) -> Value {
    k.value().map(|v| json!(v)).unwrap_or(Value::Null)
}

fn unknowns(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, known)| !known)
        .map(|(f, _)| *f)
        .collect()
}

fn secret_prompt(app: &str) -> String {
    format!(
        "{SECRET_VAR} = Read-Host -AsSecureString -Prompt {}",
        ps_quote(&format!(
            "Client secret of {app} (Entra ID > App registrations > Certificates & secrets)"
        ))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn stamps_are_utc_seconds() {
        assert_eq!(
            stamp(datetime!(2027-11-29 22:00:05.123456 +01:00)),
            "2027-11-29T21:00:05.123Z"
        );
    }

    #[test]
    fn unknowns_lists_what_a_plan_cannot_know() {
        assert_eq!(unknowns(&[("A", true), ("B", false)]), vec!["B"]);
    }

    #[test]
    fn the_secret_prompt_names_a_variable_not_a_value() {
        let p = secret_prompt("Cloud Management web app");
        assert!(p.starts_with("$ServerAppSecret = Read-Host -AsSecureString"));
    }
}
