//! Tests of the crypto provider: differential (aws-lc vs pure Rust), published vectors,
//! import formats and failure modes. Keys are generated once and shared across tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};

use base64::Engine as _;

use super::*;

mod cipher_tests;
mod ec_params_tests;
mod ec_tests;
mod eddsa_tests;
mod import_tests;
mod misc_tests;
mod rsa_crypt_tests;
mod rsa_tests;

pub(super) fn providers() -> [&'static CryptoProvider; 2] {
    [&AWS_LC, &RUST_CRYPTO]
}

pub(super) fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub(super) fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The first IANA legacy test key (2048 bits, e = 65537), PKCS#1 PEM.
pub(super) fn legacy_key_1() -> &'static PrivateKeyMaterial {
    static KEY: OnceLock<PrivateKeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| {
        import_private_key(include_bytes!("../../../../fixtures/legacy/rsa2048-1.key")).unwrap()
    })
}

pub(super) fn legacy_key_2() -> &'static PrivateKeyMaterial {
    static KEY: OnceLock<PrivateKeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| {
        import_private_key(include_bytes!("../../../../fixtures/legacy/rsa2048-2.key")).unwrap()
    })
}

/// A 1024-bit key from the `rsa` crate (aws-lc-rs cannot generate this size).
pub(super) fn rsa_1024() -> &'static PrivateKeyMaterial {
    static KEY: OnceLock<PrivateKeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| RUST_CRYPTO.keygen.rsa(1024, &[1, 0, 1]).unwrap())
}

/// A 1025-bit key: emLen = k - 1 in PSS, the corner case of RFC 8017 §9.1.
pub(super) fn rsa_1025() -> &'static PrivateKeyMaterial {
    static KEY: OnceLock<PrivateKeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| RUST_CRYPTO.keygen.rsa(1025, &[1, 0, 1]).unwrap())
}

/// A 4096-bit key from aws-lc-rs key generation.
pub(super) fn rsa_4096() -> &'static PrivateKeyMaterial {
    static KEY: OnceLock<PrivateKeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| AWS_LC.keygen.rsa(4096, &[1, 0, 1]).unwrap())
}

/// Loads `key` in both providers: [aws-lc, rustcrypto].
pub(super) fn signers(key: &PrivateKeyMaterial) -> [Arc<dyn SigningKey>; 2] {
    providers().map(|p| p.keys.load_private(key).unwrap())
}

pub(super) fn verifiers(key: &PrivateKeyMaterial) -> [Arc<dyn VerifyingKey>; 2] {
    let public = key.public().unwrap();
    providers().map(|p| p.keys.load_public(&public).unwrap())
}

/// Asserts that both providers accept `sig`.
pub(super) fn assert_verifies(
    verifiers: &[Arc<dyn VerifyingKey>; 2],
    mech: &SignMechanism,
    data: &[u8],
    sig: &[u8],
) {
    for (v, name) in verifiers.iter().zip(["aws-lc", "rustcrypto"]) {
        v.verify(mech, data, sig)
            .unwrap_or_else(|e| panic!("{name} rejects {mech:?}: {e}"));
    }
}

/// DNSSEC key tag (RFC 4034 App. B) of a DNSKEY with protocol 3.
pub(super) fn key_tag(flags: u16, alg: u8, public_key: &[u8]) -> u16 {
    let mut rdata = flags.to_be_bytes().to_vec();
    rdata.extend_from_slice(&[3, alg]);
    rdata.extend_from_slice(public_key);
    let mut acc: u32 = 0;
    for (i, &b) in rdata.iter().enumerate() {
        acc += if i % 2 == 0 {
            u32::from(b) << 8
        } else {
            u32::from(b)
        };
    }
    acc += (acc >> 16) & 0xffff;
    (acc & 0xffff) as u16
}

/// DNSKEY public key field of an RSA key (RFC 3110).
pub(super) fn rsa_dnskey(public: &PublicKeyMaterial) -> Vec<u8> {
    let PublicKeyMaterial::Rsa { n, e } = public else {
        panic!("not RSA");
    };
    let mut out = vec![u8::try_from(e.len()).unwrap()];
    out.extend_from_slice(e);
    out.extend_from_slice(n);
    out
}
