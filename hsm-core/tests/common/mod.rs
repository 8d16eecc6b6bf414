//! Shared helpers for hsm-core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::kdf::KdfParams;
use hsm_core::mechanism::Mechanism;
use hsm_core::{Config, Hsm};

pub const SO_PIN: &[u8] = b"so-secret-1234";
pub const USER_PIN: &[u8] = b"user-secret-1234";

/// An HSM over `dir` with Argon2 costs cheap enough for tests.
pub fn test_hsm(dir: &Path) -> Hsm {
    let mut config = Config::with_token_dir(dir);
    config.pin_kdf = KdfParams::TESTING;
    config.card_kdf = KdfParams::TESTING;
    Hsm::new(config).unwrap()
}

/// Initialises a PIN-only token in the free slot the way `C_InitToken` + `C_InitPIN` do.
pub fn init_pin_only_token(hsm: &Hsm, label: &str) -> u64 {
    let slot = *hsm.slot_list().unwrap().last().unwrap();
    assert!(
        hsm.slot_token(slot).unwrap().is_none(),
        "the last slot is the free one"
    );
    hsm.init_token(slot, SO_PIN, label).unwrap();
    let session = hsm.open_session(slot, true).unwrap();
    hsm.login(session, ck::CKU_SO, SO_PIN).unwrap();
    hsm.init_pin(session, USER_PIN).unwrap();
    hsm.logout(session).unwrap();
    hsm.close_session(session).unwrap();
    slot
}

/// A read-write session with the user logged in.
pub fn user_session(hsm: &Hsm, slot: u64) -> u64 {
    let session = hsm.open_session(slot, true).unwrap();
    let token = hsm.slot_token(slot).unwrap().unwrap();
    if token.login_state().is_none() {
        hsm.login(session, ck::CKU_USER, USER_PIN).unwrap();
    }
    session
}

pub fn bool_attr(ty: ck::CK_ATTRIBUTE_TYPE, value: bool) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ty, vec![u8::from(value)])
}

pub fn label_attr(label: &str) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ck::CKA_LABEL, label.as_bytes().to_vec())
}

/// DER OID of P-256 (prime256v1).
pub const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Generates a token key pair: RSA-2048 when `rsa`, else P-256. Returns (public, private).
pub fn generate_pair(
    hsm: &Hsm,
    session: u64,
    label: &str,
    rsa: bool,
) -> hsm_core::Result<(u64, u64)> {
    let mut public: Template = vec![bool_attr(ck::CKA_TOKEN, true), label_attr(label)];
    let private: Template = vec![
        bool_attr(ck::CKA_TOKEN, true),
        bool_attr(ck::CKA_PRIVATE, true),
        bool_attr(ck::CKA_SIGN, true),
        label_attr(label),
    ];
    let mechanism = if rsa {
        public.push((ck::CKA_MODULUS_BITS, ulong_bytes(2048)));
        ck::CKM_RSA_PKCS_KEY_PAIR_GEN
    } else {
        public.push((ck::CKA_EC_PARAMS, P256_OID.to_vec()));
        ck::CKM_EC_KEY_PAIR_GEN
    };
    hsm.generate_key_pair(session, &Mechanism::new(mechanism), &public, &private)
}

/// Every object handle the session can see.
pub fn all_objects(hsm: &Hsm, session: u64, template: &Template) -> Vec<u64> {
    hsm.find_init(session, template).unwrap();
    let mut all = Vec::new();
    loop {
        let batch = hsm.find_next(session, 50).unwrap();
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    hsm.find_final(session).unwrap();
    all
}
