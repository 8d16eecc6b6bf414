//! EC keys whose `CKA_EC_PARAMS` spell out P-256/P-384/P-521 explicitly (specifiedCurve):
//! imported, generated, used to sign, verify and derive, and read back byte for byte; a
//! look-alike is refused as an unknown curve is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{CkEcdh1Params, Mechanism, PointerParams};
use hsm_core::{Error, Hsm};

/// The shared encodings (`fixtures/ec-explicit-params.rs`).
mod explicit {
    #![allow(dead_code)] // each includer uses its own subset
    include!("../../fixtures/ec-explicit-params.rs");
}
/// python-pkcs11's `test_import_key_params` parameters: P-521 in an older OpenSSL's encoding
/// (b in 65 bytes), with a seed.
use explicit::P521_EXPLICIT_SHORT_B as PY_PARAMS;
use explicit::{P256_EXPLICIT_SEED, P384_EXPLICIT, P521_EXPLICIT_SEED};

/// The public point of that test's key.
const PY_POINT: &str = "\
    040130b82d8131411abd1fed8ad6c19b023e92f169442f50abf3d82ea0862166c5cd84cc18310d8fb2c27986\
    e13fbe1156612474cf7883a75517075d78af9117be60c4016c7fdf672a9f09ee35bc8977f5bc21aa58bcdfd0\
    008ff5a8c5766e8a5a4a697069bc66f1db7f3450886b79cd6316322d38e83f5e9f5d39e7234192bb674c15ab\
    55";

/// A P-521 key from `openssl ecparam -name secp521r1 -genkey`: its private scalar...
const KEY_D: &str = "\
    01d5a0dc054c2a3c637d54f39f7ee79608e61ceea561a07d838121a2afc6cc05d141345a6a88d12a5ded733e\
    3c0016cc8dfbc06b6d5ad7d3afc4e2f8479eb09f5cd9";

/// ... and its public point.
const KEY_Q: &str = "\
    0401d20f6c1170fb1a0d1e155933c303d773398caa3a9a62a820cce7ef5896dd3ab180cd362bee3e4a5ebc74\
    e574f5a9b6396e1249742075373163eb32274deec3579c017546e4944c501b195345d41788d59ad953e1c6c7\
    0c410a159c09752e3f822f29fc8e51faeac2f91cad15e7c2e02ad2e4d8f733932b375dc239f5f349c8b8912e\
    6a";

/// `openssl dgst -sha512 -sign` of [`MESSAGE`] with that key, as r ‖ s.
const OPENSSL_SIGNATURE: &str = "\
    00223c1eb2819ed125ac3867da17df867b94d1ad4344f654d687a0eaf981758eb06eb682fb5ff3e13df6d683\
    dcfc9fce84c17925d09c5efa87780771f8025c4972b7005425aa24170f1ab1dd4c8f3cb50ee6114a25065f04\
    8ddc4eda86baa55dd73f35cf77d31731396ba66bf4d95b6f2e4d023112ce292f5d70569791a2982a3d301493";

const MESSAGE: &[u8] = b"signed by openssl over explicit P-521 parameters";

/// DER of the P-521 namedCurve OID.
const P521_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// `CKA_EC_POINT`: the point in a DER OCTET STRING.
fn point_der(point: &[u8]) -> Vec<u8> {
    hsm_core::keys::ec_point_der(point)
}

fn public_key(hsm: &Hsm, session: u64, params: &[u8], point: &[u8]) -> hsm_core::Result<u64> {
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_PUBLIC_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_EC)),
        (ck::CKA_EC_PARAMS, params.to_vec()),
        (ck::CKA_EC_POINT, point_der(point)),
        bool_attr(ck::CKA_VERIFY, true),
    ];
    hsm.create_object(session, &template)
}

fn private_key(hsm: &Hsm, session: u64, params: &[u8], d: &[u8]) -> hsm_core::Result<u64> {
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_PRIVATE_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_EC)),
        (ck::CKA_EC_PARAMS, params.to_vec()),
        (ck::CKA_VALUE, d.to_vec()),
        bool_attr(ck::CKA_SIGN, true),
        bool_attr(ck::CKA_DERIVE, true),
    ];
    hsm.create_object(session, &template)
}

fn ec_params(hsm: &Hsm, session: u64, key: u64) -> Vec<u8> {
    hsm.get_attributes(session, key, &[ck::CKA_EC_PARAMS])
        .unwrap()
        .remove(0)
        .unwrap()
}

fn sign(hsm: &Hsm, session: u64, key: u64, m: ck::CK_MECHANISM_TYPE, data: &[u8]) -> Vec<u8> {
    hsm.sign_init(session, &Mechanism::new(m), key).unwrap();
    hsm.sign(session, data).unwrap()
}

fn verify(
    hsm: &Hsm,
    session: u64,
    key: u64,
    m: ck::CK_MECHANISM_TYPE,
    data: &[u8],
    signature: &[u8],
) -> hsm_core::Result<()> {
    hsm.verify_init(session, &Mechanism::new(m), key).unwrap();
    hsm.verify(session, data, signature)
}

fn session(dir: &std::path::Path, label: &str) -> (Hsm, u64) {
    let hsm = test_hsm(dir);
    let slot = init_pin_only_token(&hsm, label);
    let session = user_session(&hsm, slot);
    (hsm, session)
}

#[test]
fn explicit_p521_public_keys_import_verify_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (hsm, session) = session(dir.path(), "explicit");
    // python-pkcs11's key, as its test imports it.
    let params = unhex(PY_PARAMS);
    let key = public_key(&hsm, session, &params, &unhex(PY_POINT)).unwrap();
    assert_eq!(ec_params(&hsm, session, key), params);
    assert_eq!(
        hsm.get_attributes(session, key, &[ck::CKA_EC_POINT])
            .unwrap()
            .remove(0)
            .unwrap(),
        point_der(&unhex(PY_POINT))
    );

    // OpenSSL's key under both encodings of the explicit parameters: OpenSSL's signature
    // verifies, and a signature over other data does not.
    for hex in [PY_PARAMS, P521_EXPLICIT_SEED] {
        let params = unhex(hex);
        let key = public_key(&hsm, session, &params, &unhex(KEY_Q)).unwrap();
        assert_eq!(ec_params(&hsm, session, key), params);
        let signature = unhex(OPENSSL_SIGNATURE);
        verify(
            &hsm,
            session,
            key,
            ck::CKM_ECDSA_SHA512,
            MESSAGE,
            &signature,
        )
        .unwrap();
        let refused = verify(
            &hsm,
            session,
            key,
            ck::CKM_ECDSA_SHA512,
            b"other",
            &signature,
        );
        assert_eq!(refused.unwrap_err().ck_rv(), ck::CKR_SIGNATURE_INVALID);
    }
}

#[test]
fn explicit_p521_private_keys_sign_and_derive() {
    let dir = tempfile::tempdir().unwrap();
    let (hsm, session) = session(dir.path(), "explicit");
    let params = unhex(PY_PARAMS);
    let private = private_key(&hsm, session, &params, &unhex(KEY_D)).unwrap();
    assert_eq!(ec_params(&hsm, session, private), params);
    let explicit = public_key(&hsm, session, &params, &unhex(KEY_Q)).unwrap();
    let named = public_key(&hsm, session, P521_OID, &unhex(KEY_Q)).unwrap();
    for m in [ck::CKM_ECDSA_SHA512, ck::CKM_ECDSA_SHA256] {
        let signature = sign(&hsm, session, private, m, MESSAGE);
        assert_eq!(signature.len(), 132);
        verify(&hsm, session, explicit, m, MESSAGE, &signature).unwrap();
        verify(&hsm, session, named, m, MESSAGE, &signature).unwrap();
    }

    // ECDH with a named-curve key agrees from both sides.
    let (peer_public, peer) = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &vec![(ck::CKA_EC_PARAMS, P521_OID.to_vec())],
            &vec![bool_attr(ck::CKA_DERIVE, true)],
        )
        .unwrap();
    let peer_point = hsm
        .get_attributes(session, peer_public, &[ck::CKA_EC_POINT])
        .unwrap()
        .remove(0)
        .unwrap();
    let derive = |base: u64, point: &[u8]| {
        let mechanism = Mechanism::with_pointer_params(
            ck::CKM_ECDH1_DERIVE,
            PointerParams::Ecdh1(CkEcdh1Params {
                kdf: ck::CKD_NULL,
                shared_data: Vec::new(),
                public_data: point.to_vec(),
            }),
        );
        let template: Template = vec![
            bool_attr(ck::CKA_SENSITIVE, false),
            bool_attr(ck::CKA_EXTRACTABLE, true),
        ];
        let key = hsm
            .derive_key(session, &mechanism, base, &template)
            .unwrap();
        hsm.get_attributes(session, key, &[ck::CKA_VALUE])
            .unwrap()
            .remove(0)
            .unwrap()
    };
    let z = derive(private, &peer_point);
    assert_eq!(z.len(), 66);
    assert_eq!(z, derive(peer, &point_der(&unhex(KEY_Q))));
}

#[test]
fn key_pairs_generated_on_explicit_parameters_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let (hsm, session) = session(dir.path(), "explicit");
    for (hex, signature_len) in [
        (P256_EXPLICIT_SEED, 64),
        (P384_EXPLICIT, 96),
        (PY_PARAMS, 132),
    ] {
        let params = unhex(hex);
        let (public, private) = hsm
            .generate_key_pair(
                session,
                &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
                &vec![(ck::CKA_EC_PARAMS, params.clone())],
                &vec![bool_attr(ck::CKA_SIGN, true)],
            )
            .unwrap();
        assert_eq!(ec_params(&hsm, session, public), params);
        assert_eq!(ec_params(&hsm, session, private), params);
        let signature = sign(&hsm, session, private, ck::CKM_ECDSA_SHA256, MESSAGE);
        assert_eq!(signature.len(), signature_len);
        verify(
            &hsm,
            session,
            public,
            ck::CKM_ECDSA_SHA256,
            MESSAGE,
            &signature,
        )
        .unwrap();
    }
    // A named curve still comes back as its OID.
    let (public, private) = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &vec![(ck::CKA_EC_PARAMS, b"\x13\x09secp521r1".to_vec())],
            &Vec::new(),
        )
        .unwrap();
    assert_eq!(ec_params(&hsm, session, public), P521_OID);
    assert_eq!(ec_params(&hsm, session, private), P521_OID);
}

#[test]
fn lookalike_parameters_are_refused_as_an_unknown_curve_is() {
    let dir = tempfile::tempdir().unwrap();
    let (hsm, session) = session(dir.path(), "explicit");
    // b's last byte (just before the seed BIT STRING) changed.
    let mut lookalike = unhex(P521_EXPLICIT_SEED);
    let seed = lookalike
        .windows(3)
        .position(|w| w == [0x03, 0x15, 0x00])
        .unwrap();
    lookalike[seed - 1] ^= 0x01;
    let secp256k1 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
    for params in [&lookalike[..], &secp256k1[..]] {
        assert!(matches!(
            public_key(&hsm, session, params, &unhex(KEY_Q)),
            Err(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))
        ));
        assert!(matches!(
            private_key(&hsm, session, params, &unhex(KEY_D)),
            Err(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))
        ));
        assert!(matches!(
            hsm.generate_key_pair(
                session,
                &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
                &vec![(ck::CKA_EC_PARAMS, params.to_vec())],
                &Vec::new(),
            ),
            Err(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))
        ));
    }
}
