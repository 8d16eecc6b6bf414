//! `libstrongroom_pkcs11.so`: the PKCS#11 C ABI over hsm-core.
//!
//! No policy lives here, only marshalling: every exported function goes through one guard
//! ([`guard`]) — the not-initialised check, a panic barrier and the single `Result` →
//! `CK_RV` conversion — and all pointer intake is in [`ffi`], each `unsafe` block with its
//! `// SAFETY:` reasoning. Locking is always internal; a forked child starts uninitialised.
// The only crate of the workspace that needs `unsafe`: the C ABI cannot be had without it.
#![allow(unsafe_code)]
// Exported names are the C names of the PKCS#11 specification.
#![allow(non_snake_case)]
// The safety contract of every exported function is the PKCS#11 specification's for that
// function (valid pointers of the stated lengths); restating it 92 times would add nothing.
#![allow(clippy::missing_safety_doc)]

pub mod error;
pub mod ffi;
pub mod guard;
mod identity;
mod log;
mod preload;
pub mod state;
mod tables;
mod unload;

pub mod crypt;
pub mod derive;
pub mod digest;
pub mod general;
pub mod keys;
pub mod object;
pub mod session;
pub mod sign;
pub mod slot;
pub mod unsupported;

/// Every exported `C_*` function, for the function tables.
pub mod exports {
    pub use crate::crypt::*;
    pub use crate::derive::*;
    pub use crate::digest::*;
    pub use crate::general::*;
    pub use crate::keys::*;
    pub use crate::object::*;
    pub use crate::session::*;
    pub use crate::sign::*;
    pub use crate::slot::*;
    pub use crate::unsupported::*;
}
