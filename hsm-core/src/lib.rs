//! Strongroom's software HSM as a library.
//!
//! Tokens live in an encrypted store under one directory each; their master key exists only in
//! memory, rebuilt from a quorum of crypto-officer cards (or unsealed by a PIN on PIN-only
//! tokens). The PKCS#11 module and the `strongroom` CLI are thin layers over [`Hsm`].
#![forbid(unsafe_code)]

pub mod aead;
pub mod array_attr;
pub mod attr;
pub mod config;
pub mod crypto;
pub mod error;
pub mod hsm;
pub mod kdf;
pub mod keys;
pub mod mechanism;
pub mod object;
pub mod quorum;
pub mod secret;
pub mod session;
pub mod store;
pub mod token;

pub use config::Config;
pub use error::{Error, Result};
pub use hsm::Hsm;
