//! The strings and versions the module reports about itself. By default Strongroom's; with
//! `[pkcs11] identity = "softhsm"`, SoftHSM 2.6's, for suites and clients that branch on
//! them (PyKCS11's tests skip most of themselves below library version 2 and compare
//! manufacturer strings with SoftHSM's).

use cryptoki_sys as ck;
use hsm_core::config::Identity;

use crate::state;

/// One identity's strings.
#[derive(Debug)]
pub struct Strings {
    pub manufacturer: &'static str,
    pub library_description: &'static str,
    pub library_version: ck::CK_VERSION,
    pub slot_manufacturer: &'static str,
    pub hardware_version: ck::CK_VERSION,
}

const STRONGROOM: Strings = Strings {
    manufacturer: "Strongroom",
    library_description: "Strongroom software HSM",
    library_version: ck::CK_VERSION { major: 0, minor: 1 },
    slot_manufacturer: "Strongroom",
    hardware_version: ck::CK_VERSION { major: 0, minor: 1 },
};

const SOFTHSM: Strings = Strings {
    manufacturer: "SoftHSM",
    library_description: "Implementation of PKCS11",
    library_version: ck::CK_VERSION { major: 2, minor: 6 },
    slot_manufacturer: "SoftHSM project",
    hardware_version: ck::CK_VERSION { major: 2, minor: 6 },
};

/// The identity in force (Strongroom's before `C_Initialize`).
pub fn current() -> &'static Strings {
    match state::hsm().map(|hsm| hsm.config().identity) {
        Ok(Identity::SoftHSM) => &SOFTHSM,
        _ => &STRONGROOM,
    }
}
