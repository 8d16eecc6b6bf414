//! The CLI's error: a message that names the file and the problem, ready for stderr.

use std::fmt;
use std::path::Path;

/// An error as the operator reads it.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<hsm_core::Error> for CliError {
    fn from(e: hsm_core::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<hsm_core::quorum::QuorumError> for CliError {
    fn from(e: hsm_core::quorum::QuorumError) -> Self {
        Self(e.to_string())
    }
}

impl From<hsm_core::crypto::CryptoError> for CliError {
    fn from(e: hsm_core::crypto::CryptoError) -> Self {
        Self(e.to_string())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        Self(format!("cannot write JSON: {e}"))
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// Prefixes an error with the file it concerns.
pub fn in_file<T, E: fmt::Display>(path: &Path, result: Result<T, E>) -> CliResult<T> {
    result.map_err(|e| CliError(format!("{}: {e}", path.display())))
}

/// Builds an error from a message.
pub fn fail<T>(message: impl Into<String>) -> CliResult<T> {
    Err(CliError(message.into()))
}
