//! Operational errors of the application edge: what makes a complete report impossible
//! (exit code 2). Verification failures are never errors; they are findings.

use std::path::PathBuf;

/// An error that ends a command with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Arguments that do not fit together or cannot be parsed.
    #[error("{0}")]
    Usage(String),
    /// A user-supplied file that cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A user-supplied file that cannot be parsed; `problem` says what is wrong and where.
    #[error("{path}: {problem}")]
    Parse { path: PathBuf, problem: String },
    /// A file that cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No inventory (no lockfile, no node_modules) or an empty one.
    #[error("{0}")]
    Inventory(String),
}

impl AppError {
    /// Stable kind for the `npm-provenance/error/v1` JSON document.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Usage(_) => "usage",
            AppError::Read { .. } => "read",
            AppError::Parse { .. } => "parse",
            AppError::Write { .. } => "write",
            AppError::Inventory(_) => "inventory",
        }
    }

    /// The file this error is about, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            AppError::Read { path, .. }
            | AppError::Parse { path, .. }
            | AppError::Write { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Shorthand for a parse error on `path`.
    pub fn parse(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        AppError::Parse {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// Shorthand for a read error on `path`.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AppError::Read {
            path: path.into(),
            source,
        }
    }
}

/// Exit codes shared by every command (DESIGN §1).
pub mod exit {
    /// No finding at or above the fail level.
    pub const CLEAN: u8 = 0;
    /// At least one finding at or above the fail level (or a verification failure).
    pub const FINDINGS: u8 = 1;
    /// No complete report was possible.
    pub const ERROR: u8 = 2;
}
