//! The `logs` module through scripts: reading both CMTrace formats, finding entries,
//! and `logs::wait_for` following a file another thread writes, its timeout error and
//! Ctrl-C. Local files only; no request is made.

use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::testing::{run_in, TestRun};
use comgmt_stdlib::{ErrorKind, Mode};
use rhai::{Dynamic, EvalAltResult};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CCM: &str = concat!(
    "\u{feff}",
    r#"<![LOG[==========[ ccmsetup started in process 10168 ]==========]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="ccmsetup" context="" type="1" thread="1456" file="ccmsetup.cpp:10632">"#,
    "\r\n",
    r#"<![LOG[Download failed.
Retrying.]LOG]!><time="00:10:00.250-060" date="01-14-2023" component="ccmsetup" context="" type="3" thread="1456" file="ccmsetup.cpp:6734">"#,
    "\r\n",
);

fn server_line(msg: &str) -> String {
    format!("{msg}~~  $$<SMS_AZUREAD_DISCOVERY_AGENT><11-26-2025 20:07:12.345+00><thread=5124 (0x1404)>\r\n")
}

fn run(dir: &Path) -> TestRun {
    run_in(Mode::Apply, dir, "http://127.0.0.1:9/", "tenant")
}

fn eval<T: Clone + Send + Sync + 'static>(r: &TestRun, script: &str) -> T {
    r.engine
        .eval::<T>(script)
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

#[test]
fn read_gives_entries_with_utc_times() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ccmsetup.log"), CCM).unwrap();
    let r = run(dir.path());
    let got: String = eval(
        &r,
        r#"
        let e = logs::read("ccmsetup.log");
        let out = "";
        for x in e {
            out += `${x.line}|${x.time}|${x.local_time}|${x.bias_minutes}|${x.severity}|${x.component}|${x.thread_id}|${x.file}|${x.message}`;
            out += "\n";
        }
        out + e[0].to_string()
        "#,
    );
    assert_eq!(
        got,
        [
            "1|2023-01-13T21:28:46.510Z|2023-01-13T13:28:46.510-08:00|480|info|ccmsetup|1456|ccmsetup.cpp:10632|==========[ ccmsetup started in process 10168 ]==========",
            "2|2023-01-13T23:10:00.250Z|2023-01-14T00:10:00.250+01:00|-60|error|ccmsetup|1456|ccmsetup.cpp:6734|Download failed.\nRetrying.",
            "2023-01-13T21:28:46.510Z info ccmsetup: ==========[ ccmsetup started in process 10168 ]==========",
        ]
        .join("\n")
    );
}

#[test]
fn find_takes_a_text_or_alternatives() {
    let dir = tempfile::tempdir().unwrap();
    let text = [
        server_line("Starting a full sync."),
        "garbage without a trailer\r\n".into(),
        server_line("Successfully published UDX for Azure Active Directory users."),
    ]
    .concat();
    std::fs::write(dir.path().join("d.log"), text).unwrap();
    let r = run(dir.path());
    let n: rhai::INT = eval(&r, r#"logs::find("d.log", "Microsoft Entra users").len()"#);
    assert_eq!(n, 0);
    let got: String = eval(
        &r,
        r#"
        let h = logs::find("d.log", ["Successfully published UDX for Microsoft Entra users",
                                     "Successfully published UDX for Azure Active Directory users"]);
        `${h.len()} ${h[0].line} ${h[0].severity} ${h[0].file} ${h[0].time}`
        "#,
    );
    // The line without a trailer belongs to the entry after it, which starts on line 2.
    assert_eq!(got, "1 2 info  2025-11-26T20:07:12.345Z");
    let m: String = eval(&r, r#"logs::find("d.log", "UDX")[0].message"#);
    assert_eq!(
        m,
        "garbage without a trailer\nSuccessfully published UDX for Azure Active Directory users."
    );
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "x\n").unwrap();
    let r = run(dir.path());
    for (script, kind, want) in [
        (
            r#"logs::read("nope.log")"#,
            ErrorKind::NotFound,
            "does not exist",
        ),
        (
            r#"logs::find("a.log", 5)"#,
            ErrorKind::Validation,
            "must be a string",
        ),
        (
            r#"logs::find("a.log", [])"#,
            ErrorKind::Validation,
            "at least one pattern",
        ),
        (
            r#"logs::find("a.log", "")"#,
            ErrorKind::Validation,
            "must not be empty",
        ),
        (
            r#"logs::wait_for("a.log", "x", #{ timeout: 0 })"#,
            ErrorKind::Validation,
            "`timeout` must be 1 to 86400",
        ),
        (
            r#"logs::wait_for("a.log", "x", #{ timout: 5 })"#,
            ErrorKind::Validation,
            "unknown option `timout`",
        ),
    ] {
        let e = r
            .engine
            .run(&format!("let a = 1;\n{script};"))
            .expect_err(script);
        let m = find_module_error(&e).unwrap_or_else(|| panic!("{script}: {e}"));
        assert_eq!(m.kind, kind, "{script}: {m:?}");
        assert!(m.message.contains(want), "{script}: {}", m.message);
        assert_eq!(e.position().line(), Some(2), "{script}");
    }
}

#[test]
fn wait_for_follows_a_file_another_thread_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/SMS_AZUREAD_DISCOVERY_AGENT.log");
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            // The file does not exist when the wait starts.
            std::thread::sleep(Duration::from_millis(300));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut f = std::fs::File::create(&path).unwrap();
            for i in 0..5 {
                f.write_all(server_line(&format!("Retrieved {i} users.")).as_bytes())
                    .unwrap();
                f.flush().unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
            // The wanted line, written in two pieces.
            let last = server_line("Successfully published UDX for Azure Active Directory users.");
            let (a, b) = last.split_at(20);
            f.write_all(a.as_bytes()).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(250));
            f.write_all(b.as_bytes()).unwrap();
            f.flush().unwrap();
        })
    };
    let r = run(dir.path());
    let start = Instant::now();
    let got: String = eval(
        &r,
        r#"
        let e = logs::wait_for("logs/SMS_AZUREAD_DISCOVERY_AGENT.log",
            ["Successfully published UDX for Microsoft Entra users",
             "Successfully published UDX for Azure Active Directory users"],
            #{ timeout: 30, poll: 0.1 });
        `${e.line}: ${e.message}`
        "#,
    );
    writer.join().unwrap();
    assert_eq!(
        got,
        "6: Successfully published UDX for Azure Active Directory users."
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn wait_for_times_out_at_the_call_with_file_and_pattern() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.log"), server_line("Starting.")).unwrap();
    let r = run(dir.path());
    let start = Instant::now();
    let e = r
        .engine
        .run("let a = 1;\nlet e = logs::wait_for(\"d.log\", \"published UDX\", #{ timeout: 1, poll: 0.2 });")
        .expect_err("times out");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let m = find_module_error(&e).expect("a module error");
    assert_eq!(m.kind, ErrorKind::NotFound);
    assert_eq!(
        m.message,
        "logs::wait_for: timed out after 1 s waiting for \"published UDX\" in d.log"
    );
    let hint = m.hint.unwrap();
    assert!(
        hint.contains("d.log exists but has no entry containing \"published UDX\""),
        "{hint}"
    );
    assert_eq!(e.position().line(), Some(2));
    // The call position Rhai gives a namespaced call: its function name.
    assert_eq!(e.position().position(), Some(15));

    // A file that never appears says so.
    let e = r
        .engine
        .run("logs::wait_for(\"never.log\", [\"a\", \"b\"], #{ timeout: 1 })")
        .expect_err("times out");
    let m = find_module_error(&e).expect("a module error");
    assert!(
        m.message.contains("\"a\" or \"b\" in never.log"),
        "{}",
        m.message
    );
    assert!(m.hint.unwrap().contains("never.log was never created"));
}

#[test]
fn ctrl_c_stops_a_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = run(dir.path());
    // What `comgmt run` does on Ctrl-C (engine::cancel_on).
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    r.engine.on_progress(move |_| {
        flag.load(Ordering::Relaxed)
            .then(|| Dynamic::from("interrupted"))
    });
    let setter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let start = Instant::now();
    let e = r
        .engine
        .run("let a = 1;\nlogs::wait_for(\"never.log\", \"x\", #{ timeout: 60, poll: 30 });")
        .expect_err("interrupted");
    setter.join().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    match *e {
        EvalAltResult::ErrorTerminated(token, pos) => {
            assert_eq!(token.to_string(), "interrupted");
            assert_eq!(pos.line(), Some(2));
        }
        other => panic!("not terminated: {other}"),
    }
}

#[test]
fn a_plan_looks_once_and_does_not_wait() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.log"), server_line("Published.")).unwrap();
    let r = run_in(Mode::Plan, dir.path(), "http://127.0.0.1:9/", "tenant");
    let start = Instant::now();
    let got: String = eval(
        &r,
        r#"
        let found = logs::wait_for("d.log", "Published", #{ timeout: 600 });
        let later = logs::wait_for("d.log", "not yet", #{ timeout: 600 });
        let never = logs::wait_for("missing.log", "x");
        `${found.line} ${found.message} | ${later.message} ${later.line} | ${never}`
        "#,
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        got,
        "1 Published. | (known after apply) (known after apply) | (known after apply)"
    );
    let notes = r.output.lines.lock().unwrap().join("\n");
    assert!(
        notes.contains("a plan does not wait; an apply waits up to 600 s for \"not yet\" in d.log"),
        "{notes}"
    );
}
