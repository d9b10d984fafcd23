//! Microsoft Graph client: typed errors, paging, request ids.

use crate::cloud::auth::TokenCache;
use crate::cloud::http::HttpClient;
use crate::error::Result;
use std::sync::Arc;
use url::Url;

pub struct Graph {
    pub(crate) http: HttpClient,
    pub(crate) tokens: Arc<TokenCache>,
    pub(crate) root: Url,
}

impl Graph {
    pub fn new(http: HttpClient, tokens: Arc<TokenCache>, root: Url) -> Result<Self> {
        Ok(Graph { http, tokens, root })
    }
}
