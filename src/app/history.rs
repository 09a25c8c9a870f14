//! `npm-provenance history`.

use crate::cli::HistoryArgs;
use crate::error::AppError;

pub fn run(_args: HistoryArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("history"))
}
