//! `npm-provenance verify`.

use crate::cli::VerifyArgs;
use crate::error::AppError;

pub fn run(_args: VerifyArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("verify"))
}
