//! `npm-provenance verify-bundle`: the sigstore-conformance client protocol.

use crate::cli::VerifyBundleArgs;
use crate::error::AppError;

pub fn run(_args: VerifyBundleArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("verify-bundle"))
}
