//! Where Microsoft's public cloud answers, and who each surface's tokens are for.
//!
//! A surface has a root URL (where requests go) and, when it takes a bearer token, a
//! resource id (whom the token is for). The two are separate on purpose: the emulator
//! answers every surface at one root, yet each surface checks its own audience, as the
//! real services do.

use crate::error::{ModuleError, Result};
use url::Url;

/// The Entra ID authority host.
pub const AUTHORITY: &str = "https://login.microsoftonline.com/";
/// Microsoft Graph, without a version segment.
pub const GRAPH: &str = "https://graph.microsoft.com/";
/// The resource id Graph tokens are issued for.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Azure Resource Manager.
pub const ARM: &str = "https://management.azure.com/";
/// The resource id ARM tokens are issued for.
pub const ARM_RESOURCE: &str = "https://management.azure.com";

/// The App ID URI comgmt gives the CMG server app by default, which is therefore the
/// AdminService's resource id when it is reached through the CMG.
pub fn default_server_app_uri(tenant: &str) -> String {
    format!("api://{tenant}/ConfigMgrService")
}

/// The client-credentials scope for a resource: `{resource}/.default`. Entra takes the
/// resource's identifier URI with or without a trailing slash.
pub fn scope_for(resource: &str) -> String {
    format!("{}/.default", resource.trim_end_matches('/'))
}

/// Parse a surface root: an http(s) URL with a host, its path ending with `/` so
/// joining keeps it, without query or fragment.
pub fn parse_root(s: &str) -> Result<Url> {
    let bad = |why: String| ModuleError::validation(why);
    let mut url = Url::parse(s.trim()).map_err(|e| bad(format!("`{s}` is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad(format!("`{s}` must be an http or https URL")));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(bad(format!("`{s}` has no host")));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A resource id for a token: an absolute URI (`https://contososerver`, `api://…`) or an
/// application id GUID, as Entra accepts them in a scope.
pub fn check_resource(s: &str) -> Result<String> {
    let s = s.trim();
    let is_guid = uuid::Uuid::parse_str(s).is_ok();
    let is_uri = Url::parse(s).is_ok_and(|u| !u.scheme().is_empty() && s.contains(':'));
    if s.is_empty() || !(is_guid || is_uri) || s.contains(char::is_whitespace) {
        return Err(ModuleError::validation(format!(
            "`{s}` is not a resource id: give an application ID URI such as https://contososerver or an application id"
        )));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_have_one_slash_before_default() {
        assert_eq!(
            scope_for(GRAPH_RESOURCE),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            scope_for("https://management.azure.com/"),
            "https://management.azure.com/.default"
        );
        assert_eq!(scope_for("api://cmg"), "api://cmg/.default");
    }

    #[test]
    fn the_server_app_default_is_the_one_entra_registers() {
        assert_eq!(
            default_server_app_uri("t-1"),
            crate::entra::model::DEFAULT_APP_ID_URI.replace("{tenantId}", "t-1")
        );
    }

    #[test]
    fn roots_get_a_trailing_slash_and_need_http() {
        assert_eq!(
            parse_root("http://127.0.0.1:5/x?q=1")
                .map(|u| u.to_string())
                .ok(),
            Some("http://127.0.0.1:5/x/".to_string())
        );
        assert!(parse_root("ftp://x/").is_err());
        assert!(parse_root("nope").is_err());
        assert!(parse_root("https://").is_err());
    }

    #[test]
    fn resources_are_uris_or_guids() {
        assert!(check_resource("https://contososerver").is_ok());
        assert!(check_resource("api://contoso/cmg").is_ok());
        assert!(check_resource("00000003-0000-0000-c000-000000000000").is_ok());
        assert!(check_resource("contososerver").is_err());
        assert!(check_resource("").is_err());
        assert!(check_resource("https://a b").is_err());
    }
}
