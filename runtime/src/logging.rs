//! Tracing to stderr: warnings by default, `-v` info, `-vv` debug (the transport logs
//! each request's method, URL and status at debug). HTTP internals stay at info even
//! with `-vv`, so headers and bodies (tokens, secrets) never reach the log.
//! `RUST_LOG` overrides the level when set.

use tracing_subscriber::EnvFilter;

/// Crates whose debug output could show headers or bodies; capped at info.
const QUIET: &[&str] = &[
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
    "tower",
    "tower_http",
    "axum",
    "mio",
];

pub fn filter_for(verbose: u8) -> String {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let mut f = level.to_string();
    if verbose >= 2 {
        for c in QUIET {
            f.push_str(&format!(",{c}=info"));
        }
    }
    f
}

/// Install the global subscriber (once; later calls do nothing).
pub fn init(verbose: u8, json: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(filter_for(verbose)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose >= 2);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(
                crate::diagnostics::stderr_color()
                    != codespan_reporting::term::termcolor::ColorChoice::Never,
            )
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_internals_stay_quiet_at_debug() {
        assert_eq!(filter_for(0), "warn");
        let f = filter_for(2);
        assert!(f.starts_with("debug,"));
        assert!(f.contains("hyper=info") && f.contains("h2=info"));
        assert!(EnvFilter::try_new(f).is_ok());
    }
}
