//! OAuth2 tokens from Entra ID (or the emulator): client secret, client certificate
//! (signed JWT assertion) and device code; cached per scope.

use crate::cloud::http::HttpClient;
use crate::secret::Secret;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// How comgmt proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// An app registration's client secret.
    ClientSecret { client_id: String, secret: Secret },
    /// An app registration's certificate, from a PFX file.
    ClientCertificate {
        client_id: String,
        pfx: PathBuf,
        password: Secret,
    },
    /// A person signs in on another device; `notify` shows the code and URL.
    DeviceCode {
        client_id: String,
        notify: Arc<dyn Fn(&str) + Send + Sync>,
    },
}

pub struct TokenCache {
    pub(crate) http: HttpClient,
    pub(crate) authority: Url,
    pub(crate) tenant: String,
    pub(crate) credential: Credential,
}

impl TokenCache {
    pub fn new(http: HttpClient, authority: Url, tenant: String, credential: Credential) -> Self {
        TokenCache {
            http,
            authority,
            tenant,
            credential,
        }
    }
}
