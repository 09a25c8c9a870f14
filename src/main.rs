//! `npm-provenance`: arguments → [`npm_provenance::app::run`] → exit code
//! (0 clean, 1 findings at or above the fail level, 2 no complete report possible).
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = npm_provenance::app::main_with_args(std::env::args_os());
    ExitCode::from(code)
}
