//! Custom client settings by name: a `WmiRow` on `SMS_ClientSettings` whose natural key
//! is `Name`. The site refuses a second object with one name (409) and the run that gets
//! it changes the first instead, so two runs at once make one.

use super::{Target, MODULE};
use crate::change::{ensure, Equivalent, Known};
use crate::clientsettings::model::{check_name, EnsureOptions, CUSTOM_CLASS};
use crate::clientsettings::objects::ClientSettings;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::ops::row::{ps_quote, WmiRow};
use serde_json::json;

/// Create the custom settings `name`, or bring their description in line.
pub fn ensure_settings(ctx: &Ctx, name: &str, opts: &EnsureOptions) -> Result<ClientSettings> {
    const F: &str = "clientsettings::ensure";
    check_name(F, name)?;
    let (type_code, type_word) = opts.type_code()?;
    if Target::named(name) == Target::Default {
        return Err(ModuleError::validation(format!(
            "{F}: the Default Client Settings always exist and cannot be created"
        ))
        .with_hint("change them with clientsettings::cloud_services(\"default\", …) or clientsettings::client_policy(\"default\", …)"));
    }
    // The console cannot turn device settings into user settings: say so before a write.
    if let Some(row) = Target::named(name).observe(ctx)? {
        if row["Type"].as_i64() != Some(type_code) {
            let found = ClientSettings::from_row(&row);
            return Err(ModuleError::conflict(format!(
                "{F}: client settings {name:?} exist as {} settings, not {} settings",
                found.kind,
                opts.kind.to_ascii_lowercase()
            ))
            .with_hint(format!("pass type: {:?}, or use another name", found.kind)));
        }
    }
    let mut row = WmiRow::new(
        MODULE,
        "custom client settings",
        CUSTOM_CLASS,
        ("Name", Known::Value(name.to_string())),
        name,
        json!({"Name": name, "Description": opts.description, "Type": type_code}),
    );
    row.key_prop = "SettingsID";
    row.create_equivalent = Some(Equivalent::powershell(format!(
        "New-CMClientSetting -Name {} -Type {type_word} -Description {}",
        ps_quote(name),
        ps_quote(&opts.description)
    )));
    row.update_equivalent = Some(Equivalent::powershell(format!(
        "Set-CMClientSetting -Name {} -Description {}",
        ps_quote(name),
        ps_quote(&opts.description)
    )));
    Ok(match ensure(ctx, row)? {
        Known::Value(v) => ClientSettings::from_row(&v),
        Known::AfterApply => {
            ClientSettings::planned(name, &opts.description, &opts.kind.to_ascii_lowercase())
        }
    })
}
