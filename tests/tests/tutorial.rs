//! The stock tutorial end to end through the binary, on the embedded emulator.

use comgmt_tests::{comgmt, ok, repo_root};
use std::os::unix::fs::PermissionsExt;

const PFX_PASSWORD: &str = "Tutorial-Pfx-Password-8d1f";

#[test]
fn tutorial_runs_then_reruns_with_no_changes_and_never_shows_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("scripts/tutorial.rhai");
    let script = script.to_str().unwrap();

    let (plan_out, _) = ok(comgmt(dir.path())
        .args(["plan", script])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    assert!(plan_out.contains("to create"), "{plan_out}");
    // Azure changes come with the command that makes them by hand.
    assert!(
        plan_out.contains("# by hand: az group create --subscription ")
            && plan_out.contains("--name GraniteFalls-cmg --location westus")
            && plan_out.contains("# by hand: az provider register --subscription "),
        "{plan_out}"
    );
    // The site's and the CMG's changes come with the ConfigMgr cmdlets.
    assert!(
        plan_out.contains(
            "# by hand: Import-CMAADServerApplication -AppName 'Cloud Management web app'"
        ) && plan_out.contains(
            "# by hand: New-CMCloudManagementAzureService -Name 'My cloud management service'"
        ) && plan_out.contains("# by hand: New-CMCloudManagementGateway -ServiceCertPath ")
            && plan_out.contains("# by hand: az role assignment create "),
        "{plan_out}"
    );
    assert!(
        !dir.path().join("certs").exists(),
        "plan wrote certificate files"
    );
    assert!(!dir.path().join(".comgmt/journal.jsonl").exists());

    let (out, err) = ok(comgmt(dir.path())
        .args(["-vv", "run", script])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    assert!(out.contains("Applied:"), "{out}");
    assert!(
        out.contains("deployment name GraniteFalls.westus.cloudapp.azure.com"),
        "{out}"
    );
    // The site, Azure and CMG sections ran; the steps no module does yet say so.
    for line in [
        "Site ABC: Configuration Manager current branch 2403",
        "Azure service My cloud management service: user discovery every 7d, delta every 5 min",
        "Entra user discovery: Succeeded, 25 users",
        "SMS_AZUREAD_DISCOVERY_AGENT.log: Successfully published UDX for Azure Active Directory users",
        "dns_label granitefalls: available",
        "key_vault granitefalls: available",
        "provider Microsoft.Compute: Registered",
        "/resourceGroups/GraniteFalls-cmg in westus",
        "the server app holds Contributor on /subscriptions/",
        "CMG GraniteFalls.contoso.com: Ready, 1 x Standard_A2_v2",
        "in Azure: Microsoft.Compute/virtualMachineScaleSets/GraniteFalls",
        "in Azure: Microsoft.Network/publicIPAddresses/GraniteFalls",
        "CMG GraniteFalls.contoso.com is deployed as granitefalls.westus.cloudapp.azure.com",
        "CNAME GraniteFalls.contoso.com. -> GraniteFalls.westus.cloudapp.azure.com in Azure DNS",
        "info[cname-ok]: GraniteFalls.contoso.com is a CNAME to GraniteFalls.westus.cloudapp.azure.com, which resolves to ",
        "CNAME record: GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com.",
        "Site communication: site ABC communication: https_or_http, enhanced HTTP on (IISSSLState 1216)",
        "CMG connection point: SMS Cloud Proxy Connector on CM01.comgmtlab.local (site ABC)",
        "Management point: SMS Management Point on CM01.comgmtlab.local (site ABC)",
        "Pilot collection Co-management pilot (ABC",
        "Co-management: CoMgmtSettingsProd (cloud attach (2111 and later)), automatic enrollment pilot for Co-management pilot",
        "SKIPPED: The Intune app that installs ccmsetup.msi",
        "Client settings Default Client Settings: cloud services #{\"allow_cloud_dp\": true, \"auto_aad_join\": true, \"enable_cmg\": true}",
        "Client settings Default Client Settings: client policy #{\"polling_minutes\": 60, \"user_policy\": true, \"user_policy_on_internet\": true}",
        "CCMSETUPCMD for the Intune app: CCMSETUPCMD=\"CCMHOSTNAME=GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939 SMSSITECODE=ABC AADCLIENTAPPID=",
        "Done, except the 1 step(s) above.",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    let journal = std::fs::read_to_string(dir.path().join(".comgmt/journal.jsonl")).unwrap();
    for (what, text) in [
        ("stdout", &out),
        ("stderr (-vv)", &err),
        ("journal", &journal),
    ] {
        assert!(
            !text.contains(PFX_PASSWORD),
            "the PFX password appeared in {what}"
        );
        assert!(!text.contains("secretText\":\""), "secret text in {what}");
    }
    for f in ["certs/cmg.key", "certs/ConfigMgrCloudMGServer.pfx"] {
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let key = std::fs::read(dir.path().join("certs/cmg.key")).unwrap();

    let (again, _) = ok(comgmt(dir.path())
        .args(["run", script])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    assert!(again.contains("No changes."), "{again}");
    assert!(
        again.contains("the CMG GraniteFalls.contoso.com exists: its names are taken by it"),
        "{again}"
    );

    // The site's changes as PowerShell, for a site that takes no AdminService writes:
    // nothing to change now, and never a secret.
    let ps1 = dir.path().join("site.ps1");
    ok(comgmt(dir.path())
        .args(["plan", script, "--powershell", ps1.to_str().unwrap()])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    let text = std::fs::read_to_string(&ps1).unwrap();
    assert!(text.contains("# Nothing to change in the site."), "{text}");
    assert!(!text.contains(PFX_PASSWORD));
    assert_eq!(
        std::fs::read(dir.path().join("certs/cmg.key")).unwrap(),
        key
    );

    // `plan --fresh` plans against an empty tenant without deleting the real state.
    let (fresh_plan, _) = ok(comgmt(dir.path())
        .args(["plan", script, "--fresh"])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    assert!(fresh_plan.contains("server application"), "{fresh_plan}");
    assert!(
        fresh_plan.contains("cloud management gateway"),
        "{fresh_plan}"
    );
    let (after, _) = ok(comgmt(dir.path())
        .args(["run", script])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    assert!(after.contains("No changes."), "{after}");
}

#[test]
fn the_tutorial_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("scripts/tutorial.rhai");
    ok(comgmt(dir.path())
        .args(["check", script.to_str().unwrap()])
        .output()
        .unwrap());
}

#[test]
fn the_site_changes_of_a_fresh_plan_as_powershell_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("scripts/tutorial.rhai");
    let script = script.to_str().unwrap();
    let ps1 = dir.path().join("site.ps1");
    ok(comgmt(dir.path())
        .args([
            "plan",
            script,
            "--fresh",
            "--powershell",
            ps1.to_str().unwrap(),
        ])
        .env("COMGMT_PFX_PASSWORD", PFX_PASSWORD)
        .output()
        .unwrap());
    let text = std::fs::read_to_string(&ps1).unwrap();
    for line in [
        "$ServerAppSecret = Read-Host -AsSecureString",
        "$PfxPassword = Read-Host -AsSecureString",
        "Import-CMAADServerApplication -AppName 'Cloud Management web app'",
        "-SecretKey $ServerAppSecret",
        "Import-CMAADClientApplication -AppName 'Cloud Management native client app'",
        "New-CMCloudManagementAzureService -Name 'My cloud management service'",
        "New-CMCloudManagementGateway -ServiceCertPath ",
        "-ServiceCertPassword $PfxPassword",
        "Set-CMSite -SiteCode ",
        "Add-CMCloudManagementGatewayConnectionPoint -CloudManagementGatewayName 'GraniteFalls.contoso.com'",
        "Set-CMManagementPoint ",
        "Set-CMClientSettingCloudService -DefaultSetting",
        "Set-CMClientSettingClientPolicy -DefaultSetting",
        "New-CMDeviceCollection -Name 'Co-management pilot'",
        "New-CMCoManagementPolicy ",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains(PFX_PASSWORD));
    assert!(
        !text.contains("az group create"),
        "Azure lines stay in the plan"
    );
    // A run makes its changes itself: --powershell is for plans.
    let out = comgmt(dir.path())
        .args(["run", script, "--powershell", ps1.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
