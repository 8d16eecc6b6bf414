//! The ceremony's commands: `ksr sign/check`, `skr verify`, `rrset sign/verify`,
//! `key ds/trust-anchor`, each a thin layer over the library that prints what the ceremony
//! reads aloud.

pub mod integrity;
pub mod keyinfo;
pub mod keysource;
pub mod ksr;
pub mod rrset;
pub mod sample_ksr;
