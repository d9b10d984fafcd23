//! Every ```rhai example in the `cert` module's doc comments runs in a fresh folder, and
//! the module's metadata reads well (no Rust types leak into signatures).

#[path = "fixtures/cert/common.rs"]
mod common;

use comgmt_stdlib::Mode;

fn examples() -> Vec<(usize, String)> {
    let src = include_str!("../src/cert/mod.rs");
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in src.lines().enumerate() {
        let t = line.trim_start();
        let Some(doc) = t.strip_prefix("///") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match &mut current {
            None if doc.trim() == "```rhai" => current = Some((i + 1, String::new())),
            Some(_) if doc.trim() == "```" => out.extend(current.take()),
            Some((_, s)) => {
                s.push_str(doc);
                s.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn doc_examples_run() {
    let ex = examples();
    assert!(ex.len() >= 10, "found {} examples", ex.len());
    for (line, script) in ex {
        let dir = tempfile::tempdir().unwrap();
        let r = common::engine(Mode::Apply, dir.path());
        if let Err(e) = r.run(&script) {
            panic!("example at src/cert/mod.rs:{line} failed: {e}\n{script}");
        }
    }
}

#[test]
fn signatures_read_well() {
    let mut engine = rhai::Engine::new();
    comgmt_stdlib::register(&mut engine);
    let sigs: Vec<String> = engine
        .gen_fn_signatures(false)
        .into_iter()
        .filter(|s| {
            s.contains("cert::")
                || s.contains("CertRequest")
                || s.contains("Certificate")
                || s.contains("LabCa")
                || s.contains("Finding")
        })
        .collect();
    assert!(sigs.len() > 30, "{sigs:#?}");
    for s in &sigs {
        // `Result<T, Box<EvalAltResult>>` of `return_raw` functions is Rhai's own rendering
        // (Rhai's metadata shows the Rust type); the doc generator strips it, as for globals.rs.
        let s = &s
            .replace(", Box<EvalAltResult>>", "")
            .replace("-> Result<", "-> ");
        eprintln!("{s}");
        for bad in [
            "Result<",
            "EvalAltResult",
            "alloc::",
            "core::",
            "comgmt_stdlib::",
            "NativeCallContext",
        ] {
            assert!(!s.contains(bad), "{s}");
        }
    }
    let json = engine.gen_fn_metadata_to_json(false).unwrap();
    assert!(json.contains("\"import_cert\""));
    assert!(json.contains("Import the certificate your provider issued"));
}

/// A run context like `testing::run_in`, with a chosen target name.
fn run_with_target(dir: &std::path::Path, mode: Mode, target: &str) -> common::Run {
    use std::sync::{Arc, Mutex};
    let mut t = comgmt_stdlib::testing::run_as(mode, dir, "http://127.0.0.1:9/", "tenant", target);
    let prints = Arc::new(Mutex::new(Vec::new()));
    let p = prints.clone();
    t.engine
        .on_print(move |s| p.lock().unwrap().push(s.to_string()));
    common::Run { t, prints }
}

const SNIPPET: &str = include_str!("../../scripts/examples/cmg-certificate.rhai");

#[test]
fn tutorial_snippet_runs_on_the_emulator_and_reruns_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // plan first: writes nothing
    let p = run_with_target(dir.path(), Mode::Plan, "emulator");
    p.run(SNIPPET)
        .unwrap_or_else(|e| panic!("plan: {e}\n{}", p.all_output()));
    assert!(common::files(dir.path()).is_empty());

    let r = run_with_target(dir.path(), Mode::Apply, "emulator");
    r.run(SNIPPET)
        .unwrap_or_else(|e| panic!("{e}\n{}", r.all_output()));
    let out = r.all_output();
    assert!(out.contains("CMG service name GraniteFalls.contoso.com, deployment name GraniteFalls.westus.cloudapp.azure.com"), "{out}");
    assert!(out.contains("warning[lab-ca]"), "{out}");
    let key = std::fs::read(dir.path().join("certs/cmg.key")).unwrap();

    let r2 = run_with_target(dir.path(), Mode::Apply, "emulator");
    r2.run(SNIPPET).unwrap();
    assert!(
        r2.changes().iter().all(|c| c.2 == "unchanged"),
        "{:?}",
        r2.changes()
    );
    assert_eq!(
        std::fs::read(dir.path().join("certs/cmg.key")).unwrap(),
        key
    );

    // Elsewhere: without an issued certificate the run stops with what to do.
    let live = run_with_target(dir.path(), Mode::Plan, "contoso");
    std::env::set_var("COMGMT_PFX_PASSWORD", "live-Pfx-pw-1");
    let e = live.run(SNIPPET).unwrap_err();
    assert!(e.to_string().contains("send"), "{e}");
    // ...and with one, it imports it (here: the lab one, with its chain).
    let imported = SNIPPET
        .replace(
            "issued_certificate: (),",
            "issued_certificate: \"certs/cmg.cer\",",
        )
        .replace(
            "issued_chain: (),",
            "issued_chain: [\"certs/lab-ca/issuing.cer\", \"certs/lab-ca/root.cer\"],",
        );
    let live = run_with_target(dir.path(), Mode::Apply, "contoso");
    live.run(&imported)
        .unwrap_or_else(|e| panic!("{e}\n{}", live.all_output()));
    let out = live.all_output();
    assert!(!out.contains("live-Pfx-pw-1"));
    let pfx: Vec<_> = live
        .changes()
        .into_iter()
        .filter(|c| c.1 == "PFX file")
        .map(|c| c.2)
        .collect();
    assert_eq!(pfx, vec!["update"], "a new password rewrites the PFX");
}
