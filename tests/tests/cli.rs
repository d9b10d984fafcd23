//! The `comgmt` command line end to end: exit codes, diagnostics, `check`, `--var`,
//! imports, output formats, plan, `emulator serve` and live profiles. Each test writes
//! tiny scripts to its own temp dir and runs the real binary there.

use comgmt_tests::{comgmt, ok, text, ServedEmulator};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, body).expect("write script");
    path
}

fn run(dir: &Path, args: &[&str]) -> Output {
    comgmt(dir).args(args).output().expect("run comgmt")
}

#[track_caller]
fn fails_with(out: Output, code: i32) -> (String, String) {
    let (o, e) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout\n{o}\n--- stderr\n{e}"
    );
    (o, e)
}

#[test]
fn usage_errors_exit_2() {
    let d = tmp();
    fails_with(run(d.path(), &[]), 2);
    fails_with(run(d.path(), &["run"]), 2);
    fails_with(run(d.path(), &["frobnicate"]), 2);
    fails_with(run(d.path(), &["run", "x.rhai", "--var", "novalue"]), 2);
    fails_with(
        run(
            d.path(),
            &[
                "run",
                "x.rhai",
                "--fresh",
                "--emulator-url",
                "http://127.0.0.1:1/",
            ],
        ),
        2,
    );
    let (_, e) = fails_with(run(d.path(), &["run", "missing.rhai"]), 2);
    assert!(e.contains("missing.rhai"), "{e}");
    let (o, _) = ok(run(d.path(), &["--help"]));
    assert!(o.contains("emulator"), "{o}");
}

#[test]
fn a_syntax_error_exits_1_and_shows_its_line() {
    let d = tmp();
    write(d.path(), "syntax.rhai", "let a = 1;\nlet b = ;\n");
    let (_, e) = fails_with(run(d.path(), &["run", "syntax.rhai"]), 1);
    assert!(e.contains("syntax.rhai:2:9"), "{e}");
    assert!(e.contains("let b = ;"), "{e}");
    // A syntax error costs nothing: no emulator state was created for it.
    assert!(!d.path().join(".comgmt").exists());
}

#[test]
fn check_reports_every_unknown_call_and_passes_a_valid_script() {
    let d = tmp();
    write(
        d.path(),
        "bad.rhai",
        "let x = 1;\n  entra::no_such_function();\nfn f() { nosuchmodule::launch() }\n",
    );
    let (_, e) = fails_with(run(d.path(), &["check", "bad.rhai"]), 1);
    assert!(e.contains("bad.rhai:2:3"), "{e}");
    assert!(e.contains("entra::no_such_function"), "{e}");
    assert!(e.contains("bad.rhai:3:10"), "{e}");
    assert!(e.contains("unknown module `nosuchmodule`"), "{e}");
    assert!(e.contains("2 problems"), "{e}");

    write(d.path(), "lib/util.rhai", "fn twice(x) { x * 2 }\n");
    write(
        d.path(),
        "good.rhai",
        "import \"lib/util\" as util;\nprint(util::twice(2));\n",
    );
    let (o, _) = ok(run(d.path(), &["check", "good.rhai"]));
    assert!(o.contains("good.rhai: ok"), "{o}");
}

#[test]
fn check_reports_misspelt_option_keys_without_running_anything() {
    let d = tmp();
    write(
        d.path(),
        "opts.rhai",
        "let s = entra::server_app(#{\n    display_name: \"A\",\n    homepage_url: \"https://x\",\n});\nlet pw = \"p\";\ncert::export_pfx(c, #{ out: \"x.pfx\", password: pw, include_chain: true });\n",
    );
    let (_, e) = fails_with(run(d.path(), &["check", "opts.rhai"]), 1);
    assert!(e.contains("opts.rhai:3:5"), "{e}");
    assert!(e.contains("unknown option `homepage_url`"), "{e}");
    assert!(e.contains("did you mean `home_page_url`?"), "{e}");
    // `password` is a valid key even though it is taken out before parsing.
    assert!(e.contains("1 problem"), "{e}");
    assert!(
        !d.path().join(".comgmt").exists(),
        "check touched the target"
    );
}

#[test]
fn check_reports_arity_mismatches_in_imported_modules_too() {
    let d = tmp();
    write(
        d.path(),
        "lib/util.rhai",
        "fn add(a, b) { a + b }\nfn bad() { entra::nope_nope() }\n",
    );
    write(
        d.path(),
        "main.rhai",
        "import \"lib/util\" as util;\nutil::add(1);\n",
    );
    let (_, e) = fails_with(run(d.path(), &["check", "main.rhai"]), 1);
    assert!(
        e.contains("`util::add` takes 2 arguments but 1 was given"),
        "{e}"
    );
    assert!(e.contains("main.rhai:2:1"), "{e}");
    assert!(e.contains("util.rhai:2:12"), "{e}");
}

#[test]
fn check_passes_the_stock_tutorial() {
    let tutorial = comgmt_tests::repo_root().join("scripts/tutorial.rhai");
    if !tutorial.exists() {
        eprintln!("skipped: {} does not exist yet", tutorial.display());
        return;
    }
    let d = tmp();
    ok(comgmt(d.path())
        .arg("check")
        .arg(&tutorial)
        .output()
        .expect("run comgmt"));
}

#[test]
fn vars_reach_the_script_and_print_goes_to_stdout() {
    let d = tmp();
    write(
        d.path(),
        "vars.rhai",
        "print(`${vars.greeting}|${type_of(vars.n)}|${vars.n}|${vars.empty}|${\"nope\" in vars}`);\n",
    );
    let (o, e) = ok(run(
        d.path(),
        &[
            "run",
            "vars.rhai",
            "--var",
            "greeting=hi there",
            "--var",
            "n=5",
            "--var",
            "empty=",
        ],
    ));
    assert!(o.lines().any(|l| l == "hi there|string|5||false"), "{o}");
    assert!(!e.contains("hi there"), "{e}");
    assert!(o.contains("No changes."), "{o}");
}

#[test]
fn imports_resolve_relative_to_the_script() {
    let d = tmp();
    write(
        d.path(),
        "book/lib/greet.rhai",
        "fn hello(n) { `hello ${n}` }\n",
    );
    write(
        d.path(),
        "book/main.rhai",
        "import \"lib/greet\" as g;\nprint(g::hello(\"co-management\"));\n",
    );
    // Run from the parent folder: the import is still found next to the script.
    let (o, _) = ok(run(d.path(), &["run", "book/main.rhai"]));
    assert!(o.contains("hello co-management"), "{o}");
}

#[test]
fn an_error_inside_an_imported_module_points_into_that_file() {
    let d = tmp();
    write(
        d.path(),
        "lib/util.rhai",
        "fn boom() {\n    secret(\"COMGMT_UNSET_VAR\")\n}\n",
    );
    write(
        d.path(),
        "main.rhai",
        "import \"lib/util\" as u;\nu::boom();\n",
    );
    let (_, e) = fails_with(run(d.path(), &["run", "main.rhai"]), 1);
    assert!(e.contains("util.rhai:2:5"), "{e}");
    assert!(e.contains("main.rhai:2:"), "{e}");
}

#[test]
fn a_module_error_exits_1_with_the_line_and_the_hint() {
    let d = tmp();
    write(
        d.path(),
        "secret.rhai",
        "print(\"before\");\nlet n = 1;\nlet pw = secret(\"COMGMT_UNSET_VAR\");\nprint(\"after\");\n",
    );
    let (o, e) = fails_with(run(d.path(), &["run", "secret.rhai"]), 1);
    assert!(o.contains("before") && !o.contains("after"), "{o}");
    assert!(e.contains("secret.rhai:3:10"), "{e}");
    assert!(e.contains("let pw = secret(\"COMGMT_UNSET_VAR\");"), "{e}");
    assert!(e.contains("help: export COMGMT_UNSET_VAR"), "{e}");
}

#[test]
fn json_output_is_json_lines() {
    let d = tmp();
    write(
        d.path(),
        "j.rhai",
        "print(\"one\");\ndebug(2);\nprint(\"three\");\n",
    );
    let (o, _) = ok(run(d.path(), &["--output", "json", "run", "j.rhai"]));
    let lines: Vec<serde_json::Value> = o
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let types: Vec<&str> = lines.iter().filter_map(|v| v["type"].as_str()).collect();
    assert_eq!(types, ["print", "debug", "print", "summary"], "{o}");
    assert_eq!(lines[0]["text"], "one");
    assert_eq!(lines[3]["mode"], "apply");

    write(
        d.path(),
        "e.rhai",
        "let x = 1;\nsecret(\"COMGMT_UNSET_VAR\");\n",
    );
    let (_, e) = fails_with(run(d.path(), &["run", "e.rhai", "--output", "json"]), 1);
    let err: serde_json::Value =
        serde_json::from_str(e.trim()).unwrap_or_else(|x| panic!("not JSON: {e}: {x}"));
    assert_eq!(err["type"], "error");
    assert_eq!(err["kind"], "validation");
    assert_eq!(err["line"], 2);
    assert!(err["hint"]
        .as_str()
        .is_some_and(|h| h.contains("COMGMT_UNSET_VAR")));
}

#[test]
fn plan_writes_no_journal() {
    let d = tmp();
    write(d.path(), "p.rhai", "print(\"planning\");\n");
    let (o, _) = ok(run(d.path(), &["plan", "p.rhai", "--fresh"]));
    assert!(o.contains("planning") && o.contains("No changes."), "{o}");
    assert!(!d.path().join(".comgmt/journal.jsonl").exists());
}

#[test]
fn emulator_serve_prints_its_url_and_stops_on_sigterm() {
    let d = tmp();
    let mut child = comgmt(d.path())
        .args([
            "emulator",
            "serve",
            "--port",
            "0",
            "--state",
            "state/emu.sqlite",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read URL");
    assert!(
        first.starts_with("http://127.0.0.1:"),
        "first line: {first:?}"
    );

    // Another run can use it.
    let w = tmp();
    write(w.path(), "s.rhai", "print(\"served\");\n");
    let out = run(w.path(), &["run", "s.rhai", "--emulator-url", first.trim()]);

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("emulator serve did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let (o, _) = ok(out);
    assert!(o.contains("served"), "{o}");
}

#[test]
fn a_live_profile_pointing_at_a_served_emulator_is_accepted() {
    let emu = ServedEmulator::in_memory();
    let d = tmp();
    write(
        d.path(),
        "comgmt.toml",
        &format!(
            "[profiles.lab]\ntenant = \"{}\"\nauthority = \"{url}\"\ngraph = \"{url}\"\narm = \"{url}\"\n\n\
             [profiles.lab.auth]\nmethod = \"client_secret\"\nclient_id = \"lab-client\"\nsecret_env = \"COMGMT_TEST_LAB_SECRET\"\n",
            emu.tenant_id,
            url = emu.url
        ),
    );
    // A read through the live path: a client-secret token, then Graph.
    write(
        d.path(),
        "live.rhai",
        "let t = entra::tenant();\nprint(`live ok ${t.id}`);\n",
    );
    let (o, e) = ok(comgmt(d.path())
        .args(["-vv", "run", "live.rhai", "--profile", "lab"])
        .env("COMGMT_TEST_LAB_SECRET", "s3cr3t-value")
        .output()
        .expect("run"));
    assert!(o.contains(&format!("live ok {}", emu.tenant_id)), "{o}");
    assert!(e.contains("status=200"), "-vv logs requests: {e}");
    assert!(!o.contains("s3cr3t-value") && !e.contains("s3cr3t-value"));

    // The secret's variable is missing: a usage error naming it, never a value.
    let (_, e) = fails_with(run(d.path(), &["run", "live.rhai", "--profile", "lab"]), 2);
    assert!(e.contains("COMGMT_TEST_LAB_SECRET"), "{e}");

    // A misspelt key is named, with the valid ones.
    write(
        d.path(),
        "bad.toml",
        "[profiles.lab]\ntenant = \"t\"\ngrpah = \"http://x/\"\nauth = { method = \"device_code\", client_id = \"c\" }\n",
    );
    let (_, e) = fails_with(
        run(
            d.path(),
            &[
                "plan",
                "live.rhai",
                "--profile",
                "lab",
                "--config",
                "bad.toml",
            ],
        ),
        2,
    );
    assert!(e.contains("grpah") && e.contains("graph"), "{e}");
}

#[test]
fn repl_talks_to_the_chosen_target_and_keeps_going_after_an_error() {
    use std::io::Write;
    let d = tmp();
    let emu = ServedEmulator::in_memory();
    let mut child = comgmt(d.path())
        .args(["repl", "--emulator-url", &emu.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start repl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"let t = entra::tenant();\nentra::nope()\nt.id\n")
        .expect("write");
    let out = child.wait_with_output().expect("repl ends at end of input");
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}\n{e}");
    assert!(o.contains(&format!("=> \"{}\"", emu.tenant_id)), "{o}");
    assert!(e.contains("entra::nope"), "{e}");
    // Reading the tenant reached the emulator and wrote nothing (its request log).
    assert!(!emu.requests().is_empty());
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
}
