//! The command line. These names are a contract: runbooks and CI jobs rely on them.
//!
//! Exit codes: 0 ok, 1 script or remote error, 2 usage (clap errors included),
//! 130 interrupted.

use crate::render::OutputFormat;
use crate::run::RunOptions;
use crate::serve::ServeOptions;
use crate::target::TargetSpec;
use clap::{Args, Parser, Subcommand};
use comgmt_emulator::FaultSpec;
use comgmt_stdlib::Mode;
use std::io::Write;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "comgmt",
    version,
    about = "Run co-management runbooks (Rhai) against the built-in emulator or a live tenant",
    propagate_version = true
)]
pub struct Cli {
    /// More logging on stderr: -v info, -vv debug (HTTP method, URL and status).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script: read, compare and write what differs.
    Run(RunArgs),
    /// Run a script with writes disabled and print every change it would make.
    Plan(RunArgs),
    /// Parse a script and resolve every `module::function(...)` call; no network.
    Check {
        /// The script.
        file: PathBuf,
    },
    /// Interactive shell: look things up, fix one thing by hand (changes apply at once).
    Repl(TargetArgs),
    /// Module and function reference.
    Doc {
        /// `MODULE` or `MODULE::FUNCTION`; all modules when absent.
        target: Option<String>,
    },
    /// The built-in emulator.
    Emulator {
        #[command(subcommand)]
        command: EmulatorCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator on 127.0.0.1 until Ctrl-C or SIGTERM; prints its URL.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script.
    pub file: PathBuf,

    /// A value for the script, as `vars.KEY` (a string). Repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Start the embedded emulator from an empty tenant and site.
    #[arg(long, conflicts_with_all = ["emulator_url", "profile"])]
    pub fresh: bool,

    /// `plan` only: also write the site's changes as ConfigurationManager cmdlets to
    /// FILE (a .ps1 with no secret in it), for sites that allow no AdminService writes.
    #[arg(long, value_name = "FILE")]
    pub powershell: Option<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,
}

/// Which target to talk to: the embedded emulator (default), a served one, or a profile.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Use an emulator already served at URL (`comgmt emulator serve`).
    #[arg(long, value_name = "URL", conflicts_with = "profile")]
    pub emulator_url: Option<Url>,

    /// Use the live profile NAME from comgmt.toml.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Where to read profiles from (default ./comgmt.toml).
    #[arg(long, value_name = "PATH", requires = "profile")]
    pub config: Option<PathBuf>,
}

impl TargetArgs {
    /// The target; `embedded` is used when neither a URL nor a profile is given.
    pub fn spec_or(&self, embedded: TargetSpec) -> TargetSpec {
        if let Some(url) = &self.emulator_url {
            TargetSpec::Served { url: url.clone() }
        } else if let Some(name) = &self.profile {
            TargetSpec::Profile {
                name: name.clone(),
                config: self.config.clone(),
            }
        } else {
            embedded
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// SQLite state file (created when missing); in memory when absent.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Inject faults, e.g. `rate=0.3,status=429`, `rate=0.1,status=503`, `rate=0.2,drop`.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    pub faults: Option<FaultSpec>,

    /// Milliseconds added to every response.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,

    /// Serve HTTPS with a generated certificate; its CA certificate (PEM) is written here.
    #[arg(long, value_name = "CERT_OUT")]
    pub tls: Option<PathBuf>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("`{s}` has an empty KEY"));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_faults(s: &str) -> Result<FaultSpec, String> {
    FaultSpec::parse(s)
}

impl RunArgs {
    fn target(&self, mode: Mode) -> TargetSpec {
        let embedded = if self.fresh && mode == Mode::Plan {
            TargetSpec::EmbeddedEmpty
        } else {
            TargetSpec::embedded(self.fresh)
        };
        self.target.spec_or(embedded)
    }

    pub fn options(&self, mode: Mode, cli: &Cli) -> RunOptions {
        RunOptions {
            file: self.file.clone(),
            vars: self.vars.clone(),
            target: self.target(mode),
            mode,
            format: cli.output,
            verbose: cli.verbose,
            powershell: self.powershell.clone(),
        }
    }
}

/// Parse the process arguments, run the command, return the exit code.
pub fn main() -> i32 {
    main_from(std::env::args_os())
}

/// The same, from explicit arguments (the first is the program name).
pub fn main_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            };
        }
    };
    crate::logging::init(cli.verbose, cli.output == OutputFormat::Json);
    dispatch(&cli)
}

pub fn dispatch(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Run(args) => crate::run::execute(&args.options(Mode::Apply, cli)),
        Command::Plan(args) => crate::run::execute(&args.options(Mode::Plan, cli)),
        Command::Check { file } => crate::check::command(file, cli.output),
        Command::Repl(target) => {
            let spec = target.spec_or(TargetSpec::embedded(false));
            report(cli, crate::repl::run_with(|| crate::repl::session(&spec)))
        }
        Command::Doc { target } => {
            let mut out = std::io::stdout().lock();
            let r = crate::docs::doc_command(target.as_deref(), &mut out);
            let _ = out.flush();
            drop(out);
            report(cli, r)
        }
        Command::Emulator {
            command: EmulatorCommand::Serve(a),
        } => crate::serve::command(
            &ServeOptions {
                port: a.port,
                state: a.state.clone(),
                faults: a.faults.clone(),
                latency_ms: a.latency,
                tls_cert_out: a.tls.clone(),
            },
            cli.output,
        ),
    }
}

fn report(cli: &Cli, r: anyhow::Result<i32>) -> i32 {
    match r {
        Ok(code) => code,
        Err(e) => {
            crate::diagnostics::emit_plain(cli.output, "error", &format!("{e:#}"));
            crate::exit::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("comgmt").chain(args.iter().copied()))
    }

    #[test]
    fn the_contract_names_parse() {
        assert!(parse(&["run", "x.rhai", "--var", "a=b=c", "--var", "k=", "--fresh"]).is_ok());
        assert!(parse(&["plan", "x.rhai", "--emulator-url", "http://127.0.0.1:1/"]).is_ok());
        assert!(parse(&["run", "x.rhai", "--profile", "lab", "--config", "c.toml"]).is_ok());
        assert!(parse(&["check", "x.rhai", "-vv", "--output", "json"]).is_ok());
        assert!(parse(&["repl"]).is_ok());
        assert!(parse(&["doc", "entra::ensure_server_app"]).is_ok());
        assert!(parse(&[
            "emulator",
            "serve",
            "--port",
            "0",
            "--state",
            "s.sqlite",
            "--latency",
            "5",
            "--tls",
            "ca.pem"
        ])
        .is_ok());
        let Ok(cli) = parse(&["run", "x.rhai", "--var", "a=b=c"]) else {
            panic!("parse")
        };
        let Command::Run(a) = cli.command else {
            panic!("run")
        };
        assert_eq!(a.vars, vec![("a".to_string(), "b=c".to_string())]);
    }

    #[test]
    fn usage_errors_are_usage_errors() {
        for bad in [
            &["run"][..],
            &["run", "x", "--var", "novalue"],
            &["run", "x", "--var", "=v"],
            &["run", "x", "--fresh", "--emulator-url", "http://x/"],
            &["run", "x", "--emulator-url", "not a url"],
            &["run", "x", "--config", "c.toml"],
            &["frobnicate"],
            &[],
        ] {
            let e = parse(bad).err();
            assert!(
                e.as_ref().is_some_and(|e| e.use_stderr()),
                "{bad:?} -> {e:?}"
            );
        }
        assert_eq!(main_from(["comgmt", "run"]), crate::exit::USAGE);
        assert_eq!(main_from(["comgmt", "--version"]), crate::exit::OK);
    }
}
