//! The shim's error: an hsm-core error, or a return code only the C boundary can produce
//! (bad pointers, not initialised, buffer sizes). [`ShimError::rv`] is the one mapping.

use cryptoki_sys as ck;

#[derive(Debug)]
pub enum ShimError {
    Core(hsm_core::Error),
    Rv(ck::CK_RV),
}

impl ShimError {
    pub fn rv(&self) -> ck::CK_RV {
        match self {
            ShimError::Core(e) => e.ck_rv(),
            ShimError::Rv(rv) => *rv,
        }
    }
}

impl From<hsm_core::Error> for ShimError {
    fn from(e: hsm_core::Error) -> Self {
        ShimError::Core(e)
    }
}

pub type ShimResult<T = ()> = Result<T, ShimError>;

/// Shorthand for an error that is only a return code.
pub fn rv<T>(code: ck::CK_RV) -> ShimResult<T> {
    Err(ShimError::Rv(code))
}

/// `CKR_ARGUMENTS_BAD` for a NULL or inconsistent argument.
pub fn bad_args<T>() -> ShimResult<T> {
    rv(ck::CKR_ARGUMENTS_BAD)
}
