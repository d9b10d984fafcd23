//! CLI benchmark (a measurement, not a timed test): runs an already-built `comgmt`
//! binary N times and prints min / median / max for
//!   (a) cold start of `comgmt check scripts/tutorial.rhai`,
//!   (b) `comgmt run scripts/examples/entra-only.rhai --fresh` (the tutorial's Entra
//!       sections) in a temp dir against the embedded emulator,
//!   (c) the same run again on that state (nothing to change).
//!
//!     cargo bench -p comgmt                       # uses target/release/comgmt if built
//!     COMGMT_BIN=path/to/comgmt COMGMT_BENCH_RUNS=20 cargo bench -p comgmt
//!
//! It builds nothing: it uses `COMGMT_BIN`, else `target/release/comgmt`, else
//! `target/debug/comgmt` (build one with `cargo build --release`). Under `cargo test
//! --all-targets` (no `--bench` argument) it only says how to run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COMGMT_BIN") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let exe = format!("comgmt{}", std::env::consts::EXE_SUFFIX);
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join(&exe))
        .find(|p| p.is_file())
}

struct Stats {
    min: Duration,
    median: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Option<Stats> {
    samples.sort();
    Some(Stats {
        min: *samples.first()?,
        median: samples[samples.len() / 2],
        max: *samples.last()?,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Run `prepare` then time the command, `runs` times. A failing run aborts the case.
fn measure(name: &str, runs: usize, mut prepare: impl FnMut() -> Command) -> Result<Stats, String> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let mut cmd = prepare();
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let start = Instant::now();
        let out = cmd
            .output()
            .map_err(|e| format!("{name}: cannot start: {e}"))?;
        let took = start.elapsed();
        if !out.status.success() {
            return Err(format!(
                "{name}: run {} failed ({:?}):\n{}",
                i + 1,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        samples.push(took);
    }
    stats(samples).ok_or_else(|| format!("{name}: no runs"))
}

fn report(name: &str, runs: usize, r: Result<Stats, String>) {
    match r {
        Ok(s) => println!(
            "{name:<52} n={runs:<3} min {:>9}  median {:>9}  max {:>9}",
            ms(s.min),
            ms(s.median),
            ms(s.max)
        ),
        Err(e) => println!("{name:<52} FAILED: {e}"),
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "comgmt CLI benchmark: run it with `cargo bench -p comgmt` (skipped under cargo test)"
        );
        return;
    }
    let runs: usize = std::env::var("COMGMT_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(10);
    let Some(bin) = find_binary() else {
        println!("no comgmt binary found: build one first (`cargo build --release -p comgmt`) or set COMGMT_BIN");
        return;
    };
    let root = repo_root();
    println!("binary: {}", bin.display());
    if bin.components().any(|c| c.as_os_str() == "debug") {
        println!("note: this is a debug build; `cargo build --release -p comgmt` for representative numbers");
    }

    let tutorial = root.join("scripts/tutorial.rhai");
    if tutorial.is_file() {
        report(
            "(a) check scripts/tutorial.rhai (cold start)",
            runs,
            measure("check", runs, || {
                let mut c = Command::new(&bin);
                c.current_dir(&root)
                    .arg("check")
                    .arg(&tutorial)
                    .env("NO_COLOR", "1");
                c
            }),
        );
    } else {
        println!("(a) skipped: {} does not exist yet", tutorial.display());
    }

    let entra = root.join("scripts/examples/entra-only.rhai");
    if !entra.is_file() {
        println!("(b) skipped: {} does not exist yet", entra.display());
        return;
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            println!("(b) skipped: no temp dir: {e}");
            return;
        }
    };
    let run = |fresh: bool| {
        let mut c = Command::new(&bin);
        c.current_dir(dir.path())
            .arg("run")
            .arg(&entra)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        if fresh {
            c.arg("--fresh");
        }
        c
    };
    report(
        "(b) run entra-only.rhai --fresh (embedded emulator)",
        runs,
        measure("run --fresh", runs, || run(true)),
    );
    report(
        "(c) run entra-only.rhai again (no changes)",
        runs,
        measure("re-run", runs, || run(false)),
    );
}
