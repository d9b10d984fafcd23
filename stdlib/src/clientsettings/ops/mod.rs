//! What the clientsettings module reads and writes through the AdminService: the
//! Default Client Settings, custom settings by name, and one agent's settings in
//! either. Writes go only through `change::ensure`.

mod agent;
mod settings;

pub use agent::{client_policy, cloud_services};
pub use settings::ensure_settings;

use super::model::{CUSTOM_CLASS, DEFAULT_CLASS};
use super::objects::ClientSettings;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::ops::read_or_plan;
use serde_json::Value;

/// The module name in plans and the journal.
pub(crate) const MODULE: &str = "clientsettings";

/// Which settings a change is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Default,
    Custom(String),
}

impl Target {
    /// "default" (any case) is the Default Client Settings; anything else a custom name.
    pub fn named(name: &str) -> Target {
        if name.eq_ignore_ascii_case("default") {
            Target::Default
        } else {
            Target::Custom(name.to_string())
        }
    }

    pub fn of(settings: &ClientSettings) -> Target {
        if settings.is_default() {
            Target::Default
        } else {
            Target::Custom(settings.name.clone())
        }
    }

    /// The name shown in plans.
    pub fn label(&self) -> &str {
        match self {
            Target::Default => "Default Client Settings",
            Target::Custom(n) => n,
        }
    }

    /// The row as it is now (`None`: custom settings that do not exist).
    pub async fn find(
        &self,
        admin: crate::cloud::access::AdminReader<'_>,
    ) -> Result<Option<Value>> {
        let rows = match self {
            Target::Default => admin.list(DEFAULT_CLASS, &[]).await?,
            Target::Custom(name) => {
                let filter = format!("Name eq '{}'", name.replace('\'', "''"));
                admin.list(CUSTOM_CLASS, &[("$filter", &filter)]).await?
            }
        };
        // Two custom rows with one name would be a twin made outside this tool: the
        // oldest is the one the console lists first.
        Ok(rows
            .into_iter()
            .min_by_key(|r| r["SettingsID"].as_i64().unwrap_or(i64::MAX)))
    }

    /// [`Target::find`] from a run; a plan that cannot reach the site yet sees nothing.
    pub fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let admin = ctx.read().admin_service()?;
        read_or_plan(ctx, ctx.block_on(self.find(admin)), || None)
    }
}

/// The Default Client Settings.
pub fn default_settings(ctx: &Ctx) -> Result<ClientSettings> {
    let admin = ctx.read().admin_service()?;
    let row = ctx.block_on(Target::Default.find(admin))?;
    row.map(|r| ClientSettings::from_row(&r)).ok_or_else(|| {
        ModuleError::not_found("the AdminService lists no Default Client Settings").with_hint(
            "point the profile's admin_service at the SMS Provider of the top-level site",
        )
    })
}

/// Custom settings by name ("default" names the Default Client Settings).
pub fn get(ctx: &Ctx, name: &str) -> Result<ClientSettings> {
    super::model::check_name("clientsettings::get", name)?;
    let admin = ctx.read().admin_service()?;
    let row = ctx.block_on(Target::named(name).find(admin))?;
    row.map(|r| ClientSettings::from_row(&r)).ok_or_else(|| {
        ModuleError::not_found(format!("no client settings named {name:?}")).with_hint(format!(
            "create them with clientsettings::ensure({name:?}, #{{ type: \"device\" }})"
        ))
    })
}
