//! Orchestration: the only place that sees every layer, and (with `registry/`) the only place
//! that does I/O. Each command has its own module; this one parses arguments, dispatches, and
//! turns errors into exit code 2 with a readable message (and the `npm-provenance/error/v1`
//! document on stdout for machine formats).

mod history;
mod inspect;
mod pin;
mod snapshot;
mod trust_roots;
mod trust_update;
pub(crate) mod verify;
mod verify_bundle;

use crate::cli::{Cli, Command, Format, OutputArgs, TrustRootsCommand};
use crate::error::{exit, AppError};
use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

/// Parses `args`, runs the command, and returns the process exit code.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            };
            let _ = e.print();
            return code;
        }
    };
    let format = output_of(&cli.command).map(OutputArgs::format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e, format.unwrap_or(Format::Text));
            exit::ERROR
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<u8, AppError> {
    match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::History(args) => history::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::VerifyBundle(args) => verify_bundle::run(args),
        Command::Pin(args) => pin::run(args),
        Command::TrustRoots { command } => match command {
            TrustRootsCommand::Show { output, trust } => trust_roots::show(output, trust),
            TrustRootsCommand::Update {
                tuf_url,
                output,
                update,
            } => trust_roots::update(tuf_url, output, update),
        },
    }
}

fn output_of(command: &Command) -> Option<&OutputArgs> {
    Some(match command {
        Command::Verify(a) => &a.output,
        Command::Inspect(a) => &a.output,
        Command::History(a) => &a.output,
        Command::Snapshot(a) => &a.output,
        Command::VerifyBundle(a) => &a.output,
        Command::Pin(_) => return None,
        Command::TrustRoots { command } => match command {
            TrustRootsCommand::Show { output, .. } | TrustRootsCommand::Update { output, .. } => {
                output
            }
        },
    })
}

fn report_error(e: &AppError, format: Format) {
    eprintln!("npm-provenance: error: {e}");
    if format != Format::Text {
        let doc = serde_json::json!({
            "schema": "npm-provenance/error/v1",
            "error": {
                "kind": e.kind(),
                "message": e.to_string(),
                "path": e.path().map(|p| p.display().to_string()),
            }
        });
        write_stdout(format!("{doc:#}\n").as_bytes());
    }
}

/// Writes a rendered report to `--output FILE` (atomically) or stdout.
#[allow(dead_code)] // used by the report-writing commands as they land
pub(crate) fn emit(output: &OutputArgs, bytes: &[u8]) -> Result<(), AppError> {
    match &output.output {
        Some(path) => crate::util::write_atomic(path, bytes).map_err(|source| AppError::Write {
            path: path.clone(),
            source,
        }),
        None => {
            write_stdout(bytes);
            Ok(())
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly.
fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if out.write_all(bytes).and_then(|_| out.flush()).is_err() {
        // Broken pipe or closed stdout: nothing more can be said there.
    }
}

/// Parses the hidden `--danger-now` value.
#[allow(dead_code)] // used by the time-dependent commands as they land
pub(crate) fn danger_now(output: &OutputArgs) -> Result<Option<jiff::Timestamp>, AppError> {
    output
        .danger_now
        .as_deref()
        .map(|s| {
            s.parse::<jiff::Timestamp>()
                .map_err(|e| AppError::Usage(format!("--danger-now {s:?}: {e}")))
        })
        .transpose()
}
