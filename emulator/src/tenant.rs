//! The emulated tenant: its id, initial domain and token-signing key, created once per
//! state (so a state file keeps its tenant across restarts) and seeded with the
//! service principals every real tenant has.

use crate::store::{Store, StoreError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;

/// The initial `*.onmicrosoft.com` domain of every emulated tenant.
pub const INITIAL_DOMAIN: &str = "comgmtlab.onmicrosoft.com";
pub const DISPLAY_NAME: &str = "Comgmt Lab";

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub initial_domain: String,
    pub display_name: String,
    pub created: String,
    /// HMAC key for the access tokens this tenant issues.
    pub token_key: Vec<u8>,
}

impl Tenant {
    /// Whether a `{tenant}` path segment names this tenant.
    pub fn matches(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case(&self.id)
            || segment.eq_ignore_ascii_case(&self.initial_domain)
            || segment == "common"
            || segment == "organizations"
    }

    /// Domains the secure identifier-URI patterns accept.
    pub fn verified_domains(&self) -> Vec<String> {
        vec![self.initial_domain.clone()]
    }
}

pub fn load_or_create(store: &Store) -> Result<Tenant, StoreError> {
    store.write(|db| {
        if let (Some(id), Some(domain), Some(created), Some(key)) = (
            db.meta("tenant_id")?,
            db.meta("initial_domain")?,
            db.meta("created")?,
            db.meta("token_key")?,
        ) {
            let token_key = STANDARD
                .decode(key)
                .map_err(|e| StoreError(format!("token key: {e}")))?;
            return Ok(Tenant {
                id,
                initial_domain: domain,
                display_name: db
                    .meta("display_name")?
                    .unwrap_or_else(|| DISPLAY_NAME.into()),
                created,
                token_key,
            });
        }
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        let tenant = Tenant {
            id: crate::util::new_guid(),
            initial_domain: INITIAL_DOMAIN.into(),
            display_name: DISPLAY_NAME.into(),
            created: crate::util::now_iso(),
            token_key: key.to_vec(),
        };
        db.set_meta("tenant_id", &tenant.id)?;
        db.set_meta("initial_domain", &tenant.initial_domain)?;
        db.set_meta("display_name", &tenant.display_name)?;
        db.set_meta("created", &tenant.created)?;
        db.set_meta("token_key", &STANDARD.encode(&tenant.token_key))?;
        crate::seed::seed_tenant(db, &tenant)?;
        Ok(tenant)
    })
}
