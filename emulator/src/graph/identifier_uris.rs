//! Entra's rules for `identifierUris` (App ID URIs): the secure patterns enforced by the
//! default tenant policy (on in the emulator, as Microsoft enabled it in tenants in
//! 2025), see MicrosoftDocs/entra-docs identifier-uri-restrictions.md.

use crate::errors::{GraphError, GraphResult};
use crate::tenant::Tenant;

pub fn policy_error(uri: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Failed to add identifier URI {uri}. All newly added URIs must contain a tenant verified domain, tenant ID, or app ID, as per the default tenant policy of your organization. See https://aka.ms/identifier-uri-addition-error for more information on this error."
    ))
}

/// Whether `uri` is well formed enough to be stored at all.
pub fn well_formed(uri: &str) -> bool {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !uri.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Check a newly added URI against the secure patterns.
pub fn check_secure(uri: &str, app_id: &str, tenant: &Tenant) -> GraphResult<()> {
    if is_secure(uri, app_id, tenant) {
        Ok(())
    } else {
        Err(policy_error(uri))
    }
}

fn is_secure(uri: &str, app_id: &str, tenant: &Tenant) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return false;
    }
    let domains = tenant.verified_domains();
    let is_domain = |h: &str| domains.iter().any(|d| h.eq_ignore_ascii_case(d));
    let is_subdomain = |h: &str| {
        domains.iter().any(|d| {
            h.len() > d.len() + 1
                && h.to_ascii_lowercase()
                    .ends_with(&format!(".{}", d.to_ascii_lowercase()))
        })
    };
    if scheme.eq_ignore_ascii_case("api") {
        // api://{appId}, api://{tenantId}/{appId|string}, api://{string}/{appId},
        // api://{string}.{verifiedDomain}/{string}
        (host.eq_ignore_ascii_case(app_id) && path.is_empty())
            || (host.eq_ignore_ascii_case(&tenant.id) && !path.is_empty())
            || path.eq_ignore_ascii_case(app_id)
            || (is_subdomain(host) && !path.is_empty())
    } else if scheme.eq_ignore_ascii_case("https") {
        // https://{verifiedDomain}/{string}, https://{string}.{verifiedDomain}[/{string}]
        (is_domain(host) && !path.is_empty()) || is_subdomain(host)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        Tenant {
            id: "11111111-2222-3333-4444-555555555555".into(),
            initial_domain: "comgmtlab.onmicrosoft.com".into(),
            display_name: "t".into(),
            created: String::new(),
            signer: std::sync::Arc::new(
                crate::identity::tokens::generate_key()
                    .and_then(|(k, c)| crate::identity::tokens::Signer::load(&k, &c))
                    .unwrap(),
            ),
        }
    }

    #[test]
    fn secure_patterns() {
        let t = tenant();
        let app = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
        for ok in [
            format!("api://{app}"),
            format!("api://{}/{app}", t.id),
            format!("api://{}/ConfigMgrService", t.id),
            format!("api://anything/{app}"),
            "https://comgmtlab.onmicrosoft.com/ConfigMgrService".to_string(),
            "https://cmg.comgmtlab.onmicrosoft.com".to_string(),
            "https://cmg.comgmtlab.onmicrosoft.com/x".to_string(),
            "api://cmg.comgmtlab.onmicrosoft.com/x".to_string(),
        ] {
            assert!(check_secure(&ok, app, &t).is_ok(), "{ok}");
        }
        for bad in [
            "https://ConfigMgrService",
            "api://ConfigMgrService",
            "https://comgmtlab.onmicrosoft.com",
            "https://contoso.com/x",
            "api://11111111-2222-3333-4444-555555555555",
            "http://comgmtlab.onmicrosoft.com/x",
            "api://cmg.comgmtlab.onmicrosoft.com",
        ] {
            let e = check_secure(bad, app, &t).unwrap_err();
            assert!(
                e.message
                    .starts_with(&format!("Failed to add identifier URI {bad}.")),
                "{bad}"
            );
        }
    }

    #[test]
    fn well_formedness() {
        assert!(well_formed("api://x"));
        assert!(!well_formed("ConfigMgrService"));
        assert!(!well_formed("api://"));
        assert!(!well_formed("api://a b"));
    }
}
