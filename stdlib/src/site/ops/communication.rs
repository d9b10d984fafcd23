//! The site's Communication Security tab: client computer communication and enhanced
//! HTTP, as the site component manager's `IISSSLState` (api-surface.md §11.3). Only
//! the bits the options name change; the rest stay as the site has them.

use super::role_row::{prop_value, RoleRow, Want};
use super::MODULE;
use crate::change::{ensure, Equivalent};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::model::*;
use crate::site::objects::Communication;

/// The fact a plan records when it turns enhanced HTTP on (see `Ctx::planned`).
pub fn enhanced_http_fact(site_code: &str) -> String {
    format!("{MODULE}:{site_code}:enhanced_http")
}

/// The `$filter` of the site component manager's item (§11.3's WMI query).
fn filter(site_code: &str) -> String {
    format!(
        "ItemName eq '{SITE_COMPONENT_MANAGER}' and ItemType eq 'Component' and FileType eq 2 and SiteCode eq '{}'",
        site_code.replace('\'', "''")
    )
}

/// The site's `IISSSLState` now; `None` when the site has no such item.
pub fn iis_ssl_state(ctx: &Ctx, site_code: &str) -> Result<Option<i64>> {
    let read = ctx.read().admin_service()?;
    let rows = ctx.block_on(super::role_row::list(
        read,
        COMPONENT_CLASS,
        &filter(site_code),
        None,
    ));
    let rows = super::read_or_plan(ctx, rows, Vec::new)?;
    Ok(rows.first().and_then(|r| prop_value(r, IIS_SSL_STATE)))
}

pub fn set_communication(ctx: &Ctx, opts: &CommunicationOptions) -> Result<Communication> {
    const F: &str = "site::set_communication";
    if opts.client_communication.is_none()
        && opts.use_configmgr_certificates.is_none()
        && opts.check_crl.is_none()
        && opts.use_pki_client_certificate.is_none()
    {
        return Err(ModuleError::validation(format!("{F}: no setting given"))
            .with_hint("e.g. #{ client_communication: \"https_or_http\", use_configmgr_certificates: true }"));
    }
    let site = super::site(ctx)?;
    let current = iis_ssl_state(ctx, &site.code)?.unwrap_or(0);
    let wanted = opts.apply(current);
    // A plan that cannot read the site has no build to check: the apply checks it.
    if wanted & ENHANCED_HTTP_BIT != 0 && current & ENHANCED_HTTP_BIT == 0 && !super::unread(&site)
    {
        check_enhanced_http_build(F, site.build, &site.product_line)?;
    }
    let changes_before = ctx.summary().changes();
    let mut row = RoleRow::new(
        "site communication (IISSSLState)",
        COMPONENT_CLASS,
        filter(&site.code),
        format!("{}[{SITE_COMPONENT_MANAGER}]", site.code),
        format!("site {}", site.code),
    );
    row.unread = super::unread(&site);
    row.wants = vec![Want {
        name: IIS_SSL_STATE,
        value: wanted,
        value1: None,
    }];
    let code = site.code.clone();
    row.missing = Some(Box::new(move || {
        ModuleError::not_found(format!(
            "site {code} has no {SITE_COMPONENT_MANAGER} component item to hold IISSSLState"
        ))
    }));
    row.equivalent = Some(Equivalent::powershell(cmdlet(&site.code, opts, wanted)));
    let written = ensure(ctx, row)?;
    let state = written
        .value()
        .and_then(|r| prop_value(r, IIS_SSL_STATE))
        .unwrap_or(wanted);
    let ehttp = state & ENHANCED_HTTP_BIT != 0;
    if ehttp {
        ctx.plan_fact(&enhanced_http_fact(&site.code));
    }
    Ok(Communication {
        site_code: site.code,
        client_communication: ClientCommunication::of(state).script_name().to_string(),
        use_configmgr_certificates: ehttp,
        iis_ssl_state: state,
        changed: ctx.summary().changes() > changes_before,
    })
}

/// `Set-CMSite -SiteCode ABC -ClientComputerCommunicationType HttpsOrHttp -UseSmsGeneratedCert $true`
/// (sccm-ps Set-CMSite.md): the settings the options name.
fn cmdlet(site_code: &str, opts: &CommunicationOptions, wanted: i64) -> String {
    let mut line = format!(
        "Set-CMSite -SiteCode {} -ClientComputerCommunicationType {}",
        super::row::ps_quote(site_code),
        ClientCommunication::of(wanted).cmdlet_value()
    );
    let flags: [(&str, Option<bool>); 3] = [
        ("UseSmsGeneratedCert", opts.use_configmgr_certificates),
        ("UsePkiClientCertificate", opts.use_pki_client_certificate),
        (
            "ClientCheckCertificateRevocationListForSiteSystem",
            opts.check_crl,
        ),
    ];
    for (name, v) in flags {
        if let Some(v) = v {
            line.push_str(&format!(" -{name} ${v}"));
        }
    }
    line
}

/// Whether the site has enhanced HTTP, or this plan turns it on.
pub fn has_enhanced_http(ctx: &Ctx, site_code: &str) -> Result<bool> {
    let on = iis_ssl_state(ctx, site_code)?.is_some_and(|s| s & ENHANCED_HTTP_BIT != 0);
    Ok(on || ctx.planned(&enhanced_http_fact(site_code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cmdlet_names_what_the_options_set() {
        let o = CommunicationOptions {
            client_communication: Some(ClientCommunication::HttpsOrHttp),
            use_configmgr_certificates: Some(true),
            ..Default::default()
        };
        assert_eq!(
            cmdlet("ABC", &o, 1216),
            "Set-CMSite -SiteCode 'ABC' -ClientComputerCommunicationType HttpsOrHttp -UseSmsGeneratedCert $true"
        );
    }
}
