//! `comgmt emulator serve`: the emulator on its own, on 127.0.0.1, until Ctrl-C or
//! SIGTERM. The first line on stdout is the URL it listens on (and nothing else), so
//! scripts and tests can read it; the rest goes to stderr.

use crate::diagnostics;
use crate::render::OutputFormat;
use comgmt_emulator::{EmulatorConfig, FaultSpec, StateLocation};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub port: u16,
    /// SQLite state file; in memory when absent.
    pub state: Option<PathBuf>,
    pub faults: Option<FaultSpec>,
    pub latency_ms: u64,
    /// Serve HTTPS; the CA certificate (PEM) to trust is written here.
    pub tls_cert_out: Option<PathBuf>,
}

pub fn command(opts: &ServeOptions, format: OutputFormat) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("comgmt-emulator")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            diagnostics::emit_plain(
                format,
                "io",
                &format!("cannot start the async runtime: {e}"),
            );
            return crate::exit::FAILURE;
        }
    };
    let code = rt.block_on(serve(opts, format));
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

async fn serve(opts: &ServeOptions, format: OutputFormat) -> i32 {
    if let Some(dir) = opts
        .state
        .as_ref()
        .and_then(|s| s.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        if let Err(e) = std::fs::create_dir_all(dir) {
            diagnostics::emit_plain(
                format,
                "io",
                &format!("cannot create {}: {e}", dir.display()),
            );
            return crate::exit::FAILURE;
        }
    }
    let config = EmulatorConfig {
        port: opts.port,
        state: match &opts.state {
            Some(p) => StateLocation::File(p.clone()),
            None => StateLocation::Memory,
        },
        faults: opts.faults.clone(),
        latency: Duration::from_millis(opts.latency_ms),
        tls_cert_out: opts.tls_cert_out.clone(),
        // The site server's logs go beside the state file (or a temporary folder).
        ..EmulatorConfig::default()
    };
    // Listen for signals before announcing the URL, so a SIGTERM right after it is seen.
    let stop = match stop_signal() {
        Ok(s) => s,
        Err(e) => {
            diagnostics::emit_plain(format, "io", &format!("cannot listen for signals: {e}"));
            return crate::exit::FAILURE;
        }
    };
    let handle = match comgmt_emulator::start(config).await {
        Ok(h) => h,
        Err(e) => {
            diagnostics::emit_plain(format, "io", &format!("cannot start the emulator: {e}"));
            return crate::exit::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = match format {
            OutputFormat::Text => writeln!(out, "{}", handle.url()),
            OutputFormat::Json => writeln!(
                out,
                "{}",
                serde_json::json!({"type": "listening", "url": handle.url(), "tenant_id": handle.tenant_id(), "dns": handle.dns_addr().to_string()})
            ),
        };
        let _ = out.flush();
    }
    if format == OutputFormat::Text {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "tenant: {}", handle.tenant_id());
        let _ = writeln!(err, "dns: {} (UDP and TCP)", handle.dns_addr());
        let _ = match &opts.state {
            Some(p) => writeln!(err, "state: {}", p.display()),
            None => writeln!(err, "state: in memory"),
        };
        if let Some(p) = &opts.tls_cert_out {
            let _ = writeln!(err, "CA certificate: {}", p.display());
        }
        let _ = writeln!(err, "Ctrl-C or SIGTERM stops it.");
    }
    stop.await;
    tracing::info!("stopping the emulator");
    let _ = tokio::time::timeout(Duration::from_secs(5), handle.shutdown()).await;
    crate::exit::OK
}

/// A future that completes on Ctrl-C or (on Unix) SIGTERM. The handlers are installed
/// when this returns, not when the future is first polled.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
