//! `npm-provenance trust-roots show|update`.

use crate::cli::{OutputArgs, TrustArgs};
use crate::error::AppError;

pub fn show(_output: OutputArgs, _trust: TrustArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("trust-roots show"))
}

pub fn update(_tuf_url: Option<String>, _output: OutputArgs) -> Result<u8, AppError> {
    Err(super::not_implemented("trust-roots update"))
}
