//! The emulated tenant: its id, initial domain and token-signing key, created once per
//! state (so a state file keeps its tenant across restarts) and seeded with the
//! service principals every real tenant has.

use crate::identity::tokens::{generate_key, Signer};
use crate::store::{Db, Store, StoreError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::Arc;

/// The initial `*.onmicrosoft.com` domain of every emulated tenant.
pub const INITIAL_DOMAIN: &str = "comgmtlab.onmicrosoft.com";
pub const DISPLAY_NAME: &str = "Comgmt Lab";

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub initial_domain: String,
    pub display_name: String,
    pub created: String,
    /// The RSA key this tenant signs its tokens with.
    pub signer: Arc<Signer>,
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

/// The tenant's signing key, created on first use. A state file from before tokens were
/// RS256 has none yet and gets one here; its old HS256 tokens simply stop validating.
fn load_or_create_signer(db: &Db<'_>) -> Result<Signer, StoreError> {
    let bad = |what: &str, e: String| StoreError(format!("token signing {what}: {e}"));
    if let (Some(key), Some(cert)) = (db.meta("signing_key")?, db.meta("signing_cert")?) {
        let key = STANDARD
            .decode(key)
            .map_err(|e| bad("key", e.to_string()))?;
        let cert = STANDARD
            .decode(cert)
            .map_err(|e| bad("certificate", e.to_string()))?;
        return Signer::load(&key, &cert).map_err(|e| bad("key", e));
    }
    let (key, cert) = generate_key().map_err(|e| bad("key", e))?;
    db.set_meta("signing_key", &STANDARD.encode(&key))?;
    db.set_meta("signing_cert", &STANDARD.encode(&cert))?;
    Signer::load(&key, &cert).map_err(|e| bad("key", e))
}

pub fn load_or_create(store: &Store) -> Result<Tenant, StoreError> {
    store.write(|db| {
        let signer = Arc::new(load_or_create_signer(db)?);
        crate::adminservice::seed(db)?;
        if let (Some(id), Some(domain), Some(created)) = (
            db.meta("tenant_id")?,
            db.meta("initial_domain")?,
            db.meta("created")?,
        ) {
            let tenant = Tenant {
                id,
                initial_domain: domain,
                display_name: db
                    .meta("display_name")?
                    .unwrap_or_else(|| DISPLAY_NAME.into()),
                created,
                signer,
            };
            // A state from before `/users` existed gets its population now.
            crate::graph::users::seed(db, &tenant)?;
            return Ok(tenant);
        }
        let tenant = Tenant {
            id: crate::util::new_guid(),
            initial_domain: INITIAL_DOMAIN.into(),
            display_name: DISPLAY_NAME.into(),
            created: crate::util::now_iso(),
            signer,
        };
        db.set_meta("tenant_id", &tenant.id)?;
        db.set_meta("initial_domain", &tenant.initial_domain)?;
        db.set_meta("display_name", &tenant.display_name)?;
        db.set_meta("created", &tenant.created)?;
        crate::seed::seed_tenant(db, &tenant)?;
        crate::graph::users::seed(db, &tenant)?;
        Ok(tenant)
    })
}
