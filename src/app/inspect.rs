//! `npm-provenance inspect`.

use crate::cli::InspectArgs;
use crate::error::AppError;

pub fn run(_args: InspectArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("inspect"))
}
