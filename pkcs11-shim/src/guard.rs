//! The one guard every exported function runs through: the not-initialised check, the panic
//! barrier, and the single `Result` → `CK_RV` conversion, with logging of what went wrong.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use cryptoki_sys as ck;
use hsm_core::Hsm;

use crate::error::ShimResult;
use crate::{log, state};

/// Runs `body` with the initialised HSM.
pub fn with_hsm(name: &'static str, body: impl FnOnce(&Arc<Hsm>) -> ShimResult) -> ck::CK_RV {
    run(name, || body(&state::hsm()?))
}

/// Runs `body` that works without an initialised HSM (`C_Initialize`, `C_GetFunctionList`...).
pub fn run(name: &'static str, body: impl FnOnce() -> ShimResult) -> ck::CK_RV {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ck::CKR_OK,
        Ok(Err(e)) => {
            log::failure(name, &e);
            e.rv()
        }
        Err(_) => {
            log::error(&format!(
                "{name}: internal panic caught; returning CKR_GENERAL_ERROR"
            ));
            ck::CKR_GENERAL_ERROR
        }
    }
}

/// Declares an exported PKCS#11 function whose body runs inside [`with_hsm`] with `$hsm`
/// bound to the HSM. Bodies are closures returning [`ShimResult`].
#[macro_export]
macro_rules! cryptoki_fn {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident : $ty:ty),* $(,)?) |$hsm:ident| $body:block) => {
        $(#[$meta])*
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> cryptoki_sys::CK_RV {
            $crate::guard::with_hsm(stringify!($name), move |$hsm| -> $crate::error::ShimResult { $body })
        }
    };
}

/// Declares an exported function that is not offered: it still checks initialisation, so a
/// client sees the same order of errors as for any other call.
#[macro_export]
macro_rules! cryptoki_not_supported {
    ($($name:ident($($arg:ident : $ty:ty),* $(,)?);)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: not offered by this token.")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($(_: $ty),*) -> cryptoki_sys::CK_RV {
            $crate::guard::with_hsm(stringify!($name), |_| $crate::error::rv(cryptoki_sys::CKR_FUNCTION_NOT_SUPPORTED))
        }
    )*};
}
