//! Every ```rhai example in a stdlib doc comment runs, in a fresh temporary folder,
//! against a fresh in-process emulator (```rhai,no_run examples are only shown).
//!
//! Examples reading `secret("NAME")` get a placeholder value for NAME when it is unset.
//! The folder holds sample CMTrace logs (`tests/fixtures/logs/`) for the `logs` examples.
//! A failure names the function, the example and the error with its line.

use comgmt::diagnostics::{self, Diag, Sources};
use comgmt::docs::DocSet;
use comgmt_emulator::EmulatorConfig;
use comgmt_stdlib::cloud::{Cloud, CloudConfig};
use comgmt_stdlib::journal::Journal;
use comgmt_stdlib::output::CaptureOutput;
use comgmt_stdlib::{Ctx, Mode};
use std::sync::Arc;

/// Same as `comgmt run`: deep Rhai expressions recurse.
const SCRIPT_STACK: usize = 16 * 1024 * 1024;

struct Case {
    function: String,
    index: usize,
    code: String,
}

fn cases(set: &DocSet) -> (Vec<Case>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for f in set.all_functions() {
        for (i, ex) in f.examples().into_iter().enumerate() {
            if ex.no_run {
                skipped += 1;
                continue;
            }
            out.push(Case {
                function: f.qualified_name(),
                index: i + 1,
                code: ex.code,
            });
        }
    }
    (out, skipped)
}

/// Sample CMTrace logs every example finds in its working directory, composed from the
/// line formats of real `ccmsetup.log` and site-server logs (not captured logs).
const SAMPLE_LOGS: &[(&str, &[u8])] = &[
    ("ccmsetup.log", include_bytes!("fixtures/logs/ccmsetup.log")),
    (
        "SMS_AZUREAD_DISCOVERY_AGENT.log",
        include_bytes!("fixtures/logs/SMS_AZUREAD_DISCOVERY_AGENT.log"),
    ),
];

/// `secret("NAME")` calls in the examples, so the runner can provide NAME.
fn secret_names(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("secret(\"") {
        let after = &rest[i + "secret(\"".len()..];
        if let Some(end) = after.find('"') {
            names.push(after[..end].to_string());
        }
        rest = after;
    }
    names
}

/// Run one example; the error text (rendered like `comgmt run` renders it) on failure.
fn run_case(rt: &tokio::runtime::Runtime, case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    for (name, bytes) in SAMPLE_LOGS {
        std::fs::write(dir.path().join(name), bytes)
            .map_err(|e| format!("cannot write the sample log {name}: {e}"))?;
    }
    let emulator = rt
        .block_on(comgmt_emulator::start(EmulatorConfig::default()))
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let url = url::Url::parse(emulator.url()).map_err(|e| format!("emulator URL: {e}"))?;
    let cloud = {
        let _guard = rt.enter();
        let mut config = CloudConfig::single_host(&url, emulator.tenant_id());
        // Name checks ask the emulator's DNS server, never the machine's resolver.
        config.dns_servers = vec![emulator.dns_addr()];
        Cloud::new(config).map_err(|e| format!("cannot build the cloud clients: {e}"))?
    };
    let output = Arc::new(CaptureOutput::default());
    let ctx = Ctx::new(
        Mode::Apply,
        rt.handle().clone(),
        Arc::new(cloud),
        Journal::at(dir.path().join(".comgmt/journal.jsonl")),
        output.clone(),
        "emulator",
        dir.path(),
    );
    let mut engine = comgmt::engine::script_engine(dir.path(), output);
    ctx.install(&mut engine);

    let name = format!("{} example {}", case.function, case.index);
    let mut sources = Sources::new(dir.path());
    let main = sources.add_main(&name, case.code.clone());
    let result = match engine.compile(&case.code) {
        Err(e) => Err(diagnostics::render_to_string(
            &sources,
            &Diag::from_parse(main, &e),
        )),
        Ok(ast) => {
            // A script thread, never a runtime worker (module functions block_on).
            let run = std::thread::Builder::new()
                .stack_size(SCRIPT_STACK)
                .spawn(move || engine.run_ast(&ast).map_err(|e| *e));
            match run.map(|h| h.join()) {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => {
                    let diag = Diag::from_eval(&mut sources, main, &e);
                    Err(diagnostics::render_to_string(&sources, &diag))
                }
                Ok(Err(_)) => Err("the example panicked".to_string()),
                Err(e) => Err(format!("cannot start the script thread: {e}")),
            }
        }
    };
    rt.block_on(emulator.shutdown());
    result
}

#[test]
fn doc_examples_run_against_the_emulator() {
    let set = DocSet::load().expect("read the docs from the engine");
    let (cases, skipped) = cases(&set);
    for case in &cases {
        for name in secret_names(&case.code) {
            if std::env::var_os(&name).is_none() {
                // Only this test process sees it; examples never print secrets anyway.
                std::env::set_var(&name, "example-secret-value");
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&rt, case) {
            failures.push(format!(
                "--- {} (example {}) failed:\n{}\nthe example:\n{}\n",
                case.function,
                case.index,
                e.trim_end(),
                case.code
            ));
        }
    }
    eprintln!(
        "doc examples: {} run, {} failed, {skipped} no_run",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} doc examples failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn secret_names_are_found() {
    assert_eq!(
        secret_names("let a = secret(\"A\");\nlet b = secret(\"B_2\");"),
        ["A", "B_2"]
    );
}

#[test]
fn a_failing_example_is_reported_with_its_line() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let case = Case {
        function: "entra::server_app".into(),
        index: 1,
        code: "let a = 1;\nentra::server_app(#{ display_nme: \"x\" });".into(),
    };
    let err = run_case(&rt, &case).expect_err("a misspelt option fails");
    assert!(err.contains("entra::server_app example 1:2"), "{err}");
    assert!(err.contains("display_nme"), "{err}");
}
