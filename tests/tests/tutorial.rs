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
    // The Azure sections ran; the steps no module does yet say so.
    for line in [
        "dns_label granitefalls: available",
        "key_vault granitefalls: available",
        "provider Microsoft.Compute: Registered",
        "/resourceGroups/GraniteFalls-cmg in westus",
        "GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com.",
        "SKIPPED: Create the CMG GraniteFalls.contoso.com",
        "Done, except the 5 step(s) above.",
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
