//! Strongroom's signer: the token-administration commands of the `strongroom` tool today, and
//! the DNSSEC ceremony (KSR in, SKR out) as it lands.
#![forbid(unsafe_code)]

pub mod admin;
pub mod ceremony;
pub mod commands;
pub mod demo;
pub mod dnssec;
pub mod error;
pub mod keystore;
pub mod ksr;
pub mod policy;
pub mod secrets;
