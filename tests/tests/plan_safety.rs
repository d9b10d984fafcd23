//! `comgmt plan` writes nothing, whatever the script and whatever modules exist: every
//! runbook in `scripts/` is planned against a served emulator, on an empty tenant and
//! again after it was applied, and the emulator's request log must show no write and the
//! working directory no new file. The guarantee comes from the types (ops only get a
//! read-only handle); this test is the evidence, and it covers modules added later
//! without being edited.

use comgmt_tests::{comgmt, ok, repo_root, ServedEmulator};
use std::path::{Path, PathBuf};

/// Every `.rhai` file under `scripts/`, sorted.
fn runbooks() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rhai") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("scripts"), &mut out);
    out.sort();
    out
}

/// Files below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The requests that could have changed state, as `METHOD path` lines.
fn writes(emu: &ServedEmulator) -> Vec<String> {
    emu.writes()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn comgmt_on(emu: &ServedEmulator, dir: &Path, verb: &str, script: &Path) -> std::process::Command {
    let mut c = comgmt(dir);
    c.args([verb, script.to_str().unwrap(), "--emulator-url", &emu.url])
        .env("COMGMT_PFX_PASSWORD", "Plan-Safety-Pfx-Password-1");
    c
}

#[test]
fn planning_any_runbook_sends_no_write_and_writes_no_file() {
    let scripts = runbooks();
    assert!(
        scripts.len() >= 3,
        "expected the tutorial and examples: {scripts:?}"
    );
    for script in &scripts {
        let name = script
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        let emu = ServedEmulator::in_memory();
        let dir = tempfile::tempdir().unwrap();

        ok(comgmt_on(&emu, dir.path(), "plan", script)
            .output()
            .unwrap());
        assert_eq!(
            writes(&emu),
            Vec::<String>::new(),
            "{name}: plan on an empty tenant wrote"
        );
        assert!(
            files(dir.path()).is_empty(),
            "{name}: plan wrote files {:?}",
            files(dir.path())
        );
        let plan_reads = emu.requests().len();

        // Applied, then planned again: the update and unchanged paths read only too.
        ok(comgmt_on(&emu, dir.path(), "run", script).output().unwrap());
        let applied = writes(&emu);
        let files_after_run = files(dir.path());
        assert!(
            !applied.is_empty() || !files_after_run.is_empty(),
            "{name}: the run changed nothing, so the plan after it proves nothing"
        );
        // A script that writes to the cloud must have looked first.
        assert!(
            applied.is_empty() || plan_reads > 0,
            "{name}: the plan read nothing, so it proves nothing"
        );
        ok(comgmt_on(&emu, dir.path(), "plan", script)
            .output()
            .unwrap());
        assert_eq!(writes(&emu), applied, "{name}: plan after apply wrote");
        assert_eq!(
            files(dir.path()),
            files_after_run,
            "{name}: plan after apply changed files"
        );
    }
}
