//! The lab every stdlib integration test runs in: an in-process emulator on 127.0.0.1
//! with its own runtime, and clients or script runs pointed at it. Stops when dropped.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use comgmt_emulator::{EmulatorConfig, EmulatorHandle, Surface};
use comgmt_stdlib::change::Action;
use comgmt_stdlib::cloud::{Cloud, CloudConfig};
use comgmt_stdlib::testing::{run_with, TestRun};
use comgmt_stdlib::Mode;

pub struct Lab {
    pub rt: tokio::runtime::Runtime,
    emu: Option<EmulatorHandle>,
    /// The working directory of script runs (keys, journal).
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn start(config: EmulatorConfig) -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt.block_on(comgmt_emulator::start(config)).unwrap();
        Lab {
            rt,
            emu: Some(emu),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn new() -> Lab {
        Self::start(EmulatorConfig::default())
    }

    pub fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().unwrap()
    }

    /// The emulator target's configuration: every surface at the emulator's address,
    /// and its DNS server as the resolver (as the runtime's emulator target sets it).
    pub fn config(&self) -> CloudConfig {
        let mut config = CloudConfig::single_host(
            &url::Url::parse(self.emu().url()).unwrap(),
            self.emu().tenant_id(),
        );
        config.dns_servers = vec![self.emu().dns_addr()];
        config
    }

    pub fn cloud(&self, config: CloudConfig) -> Cloud {
        let _g = self.rt.enter();
        Cloud::new(config).unwrap()
    }

    /// A script engine with every module and a run context in `mode`, against the
    /// emulator, working in `dir`.
    pub fn run(&self, mode: Mode) -> TestRun {
        run_with(mode, self.dir.path(), self.config(), "test")
    }

    /// ARM requests answered so far that could change state: (method, path).
    pub fn arm_writes(&self) -> Vec<(String, String)> {
        self.writes(Surface::Arm)
    }

    /// AdminService requests answered so far that could change state: (method, path).
    pub fn admin_writes(&self) -> Vec<(String, String)> {
        self.writes(Surface::AdminService)
    }

    /// Requests on `surface` answered so far that could change state: (method, path).
    pub fn writes(&self, surface: Surface) -> Vec<(String, String)> {
        self.emu()
            .requests()
            .into_iter()
            .filter(|r| r.surface == surface && r.write)
            .map(|r| (r.method, r.path))
            .collect()
    }

    /// Run `script` in `n` apply runs at once (as several machines running one runbook);
    /// panics with the module error of any run that fails.
    pub fn run_at_once(&self, n: usize, script: &str) {
        let runs: Vec<_> = (0..n).map(|_| self.run(Mode::Apply)).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .iter()
                .map(|r| scope.spawn(|| r.engine.eval::<rhai::Dynamic>(script).map(|_| ())))
                .collect();
            for h in handles {
                ok(h.join().expect("a run panicked"));
            }
        });
    }

    /// Every row of an AdminService class (`wmi/SMS_Collection`), as the service lists it.
    pub fn admin_rows(&self, class: &str) -> Vec<serde_json::Value> {
        let run = self.run(Mode::Plan);
        let cloud = run.cloud.clone();
        let class = class.to_string();
        self.block_on(async move {
            let admin = cloud
                .admin_service()
                .expect("the target has an AdminService");
            admin
                .list(&class, &[])
                .await
                .expect("the AdminService lists the class")
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(h) = self.emu.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// The value, or a panic that says what the module error was (message, kind, hint).
pub fn ok<T>(r: Result<T, Box<rhai::EvalAltResult>>) -> T {
    r.unwrap_or_else(|e| match comgmt_stdlib::error::find_module_error(&e) {
        Some(m) => panic!("{} [{:?}] hint: {:?}", m.message, m.kind, m.hint),
        None => panic!("{e}"),
    })
}

/// What a run reported: (action, kind of object, key), in order.
pub fn changes(run: &TestRun) -> Vec<(Action, String, String)> {
    run.output
        .changes
        .lock()
        .unwrap()
        .iter()
        .map(|c| (c.action, c.object.clone(), c.key.clone()))
        .collect()
}
