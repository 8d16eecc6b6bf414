//! AES-CMAC signing, EdDSA variants and Ed448 keys, and `C_DigestKey`, through
//! [`hsm_core::Hsm`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{CkEddsaParams, Mechanism};
use hsm_core::{Error, Hsm};

/// RFC 4493 §4: the key, the 40-byte message of example 3 and its tag.
const CMAC_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const CMAC_MESSAGE: &str =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411";
const CMAC_TAG: &str = "dfa66747de9ae63030ca32611497c827";

fn aes_key(hsm: &Hsm, session: u64, value: &[u8], extra: &[(u64, bool)]) -> u64 {
    let mut template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        (ck::CKA_VALUE, value.to_vec()),
    ];
    template.extend(extra.iter().map(|(ty, v)| bool_attr(*ty, *v)));
    hsm.create_object(session, &template).unwrap()
}

#[test]
fn aes_cmac_signs_and_verifies_rfc4493_in_one_or_many_parts() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "cmac");
    let session = user_session(&hsm, slot);
    let key = aes_key(&hsm, session, &hex::decode(CMAC_KEY).unwrap(), &[]);
    let message = hex::decode(CMAC_MESSAGE).unwrap();
    let tag = hex::decode(CMAC_TAG).unwrap();
    let cmac = Mechanism::new(ck::CKM_AES_CMAC);
    hsm.sign_init(session, &cmac, key).unwrap();
    assert_eq!(hsm.sign_len(session).unwrap(), 16);
    assert_eq!(hsm.sign(session, &message).unwrap(), tag);
    hsm.sign_init(session, &cmac, key).unwrap();
    for part in message.chunks(7) {
        hsm.sign_update(session, part).unwrap();
    }
    assert_eq!(hsm.sign_final(session).unwrap(), tag);
    hsm.verify_init(session, &cmac, key).unwrap();
    hsm.verify(session, &message, &tag).unwrap();
    let mut bad = tag.clone();
    bad[0] ^= 1;
    hsm.verify_init(session, &cmac, key).unwrap();
    hsm.verify_update(session, &message).unwrap();
    assert!(matches!(
        hsm.verify_final(session, &bad),
        Err(Error::Crypto(_))
    ));
    // CMAC_GENERAL: the leading bytes of the tag; a length out of 1..=16 is refused.
    let general =
        |len: u64| Mechanism::with_parameter(ck::CKM_AES_CMAC_GENERAL, len.to_ne_bytes().to_vec());
    hsm.sign_init(session, &general(8), key).unwrap();
    assert_eq!(hsm.sign(session, &message).unwrap(), tag[..8]);
    hsm.verify_init(session, &general(8), key).unwrap();
    hsm.verify(session, &message, &tag[..8]).unwrap();
    assert!(matches!(
        hsm.sign_init(session, &general(17), key),
        Err(Error::MechanismParamInvalid(_))
    ));
    // A generic secret is no CMAC key; an AES key without CKA_SIGN may not sign.
    let generic = hsm
        .create_object(
            session,
            &vec![
                (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_GENERIC_SECRET)),
                (ck::CKA_VALUE, vec![1; 16]),
            ],
        )
        .unwrap();
    assert!(matches!(
        hsm.sign_init(session, &cmac, generic),
        Err(Error::KeyTypeInconsistent)
    ));
    let no_sign = aes_key(&hsm, session, &[2; 32], &[(ck::CKA_SIGN, false)]);
    assert!(matches!(
        hsm.sign_init(session, &cmac, no_sign),
        Err(Error::KeyFunctionNotPermitted(_))
    ));
}

fn eddsa(prehash: bool, context: &[u8]) -> Mechanism {
    Mechanism::eddsa(CkEddsaParams {
        ph_flag: prehash,
        context: context.to_vec(),
    })
}

#[test]
fn ed448_keys_are_generated_and_sign_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "ed448");
    let session = user_session(&hsm, slot);
    for params in [&b"\x13\x0aedwards448"[..], &[0x06, 0x03, 0x2b, 0x65, 0x71]] {
        let public: Template = vec![(ck::CKA_EC_PARAMS, params.to_vec())];
        let (public, private) = hsm
            .generate_key_pair(
                session,
                &Mechanism::new(ck::CKM_EC_EDWARDS_KEY_PAIR_GEN),
                &public,
                &vec![],
            )
            .unwrap();
        let attrs = hsm
            .get_attributes(session, public, &[ck::CKA_EC_PARAMS, ck::CKA_EC_POINT])
            .unwrap();
        assert_eq!(attrs[0].as_ref().unwrap(), params);
        let point = attrs[1].as_ref().unwrap();
        assert_eq!(&point[..2], &[0x04, 57], "a DER OCTET STRING of 57 bytes");
        for mechanism in [
            Mechanism::new(ck::CKM_EDDSA),
            eddsa(false, b"context"),
            eddsa(true, b""),
            eddsa(true, b"context"),
        ] {
            hsm.sign_init(session, &mechanism, private).unwrap();
            assert_eq!(hsm.sign_len(session).unwrap(), 114);
            let signature = hsm.sign(session, b"data").unwrap();
            hsm.verify_init(session, &mechanism, public).unwrap();
            hsm.verify(session, b"data", &signature).unwrap();
            hsm.verify_init(session, &eddsa(false, b"other"), public)
                .unwrap();
            assert!(hsm.verify(session, b"data", &signature).is_err());
        }
    }
    let info = hsm_core::mechanism::mechanism_info(ck::CKM_EDDSA).unwrap();
    assert_eq!((info.min_key_size, info.max_key_size), (255, 448));
}

/// RFC 8032 §7.2 Ed25519ctx ("foo") through imported key objects.
#[test]
fn imported_ed25519_keys_sign_ed25519ctx_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "ed25519ctx");
    let session = user_session(&hsm, slot);
    let params = b"\x13\x0cedwards25519".to_vec();
    let private = hsm
        .create_object(
            session,
            &vec![
                (ck::CKA_CLASS, ulong_bytes(ck::CKO_PRIVATE_KEY)),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_EC_EDWARDS)),
                (ck::CKA_EC_PARAMS, params.clone()),
                (
                    ck::CKA_VALUE,
                    hex::decode("0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6")
                        .unwrap(),
                ),
            ],
        )
        .unwrap();
    let mut point = vec![0x04, 32];
    point.extend(
        hex::decode("dfc9425e4f968f7f0c29f0259cf5f9aed6851c2bb4ad8bfb860cfee0ab248292").unwrap(),
    );
    let public = hsm
        .create_object(
            session,
            &vec![
                (ck::CKA_CLASS, ulong_bytes(ck::CKO_PUBLIC_KEY)),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_EC_EDWARDS)),
                (ck::CKA_EC_PARAMS, params),
                (ck::CKA_EC_POINT, point),
            ],
        )
        .unwrap();
    let message = hex::decode("f726936d19c800494e3fdaff20b276a8").unwrap();
    hsm.sign_init(session, &eddsa(false, b"foo"), private)
        .unwrap();
    let signature = hsm.sign(session, &message).unwrap();
    assert_eq!(
        hex::encode(&signature),
        concat!(
            "55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a",
            "8b36950b95130022907a7fb7c4e9b2d5f6cca685a587b4b21f4b888e4e7edb0d"
        )
    );
    hsm.verify_init(session, &eddsa(false, b"foo"), public)
        .unwrap();
    hsm.verify(session, &message, &signature).unwrap();
    // A context over 255 bytes cannot be encoded.
    assert!(matches!(
        hsm.sign_init(session, &eddsa(false, &[0; 256]), private),
        Err(Error::MechanismParamInvalid(_))
    ));
}

#[test]
fn digest_key_adds_a_secret_keys_value_inside_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "digest key");
    let session = user_session(&hsm, slot);
    let value = [0x5a; 16];
    // Sensitive by default: its value can be digested, never read.
    let key = aes_key(&hsm, session, &value, &[]);
    let sha256 = Mechanism::new(ck::CKM_SHA256);
    hsm.digest_init(session, &sha256).unwrap();
    hsm.digest_update(session, b"data").unwrap();
    hsm.digest_key(session, key).unwrap();
    let with_key = hsm.digest_final(session).unwrap();
    hsm.digest_init(session, &sha256).unwrap();
    assert_eq!(
        hsm.digest(session, &[&b"data"[..], &value].concat())
            .unwrap(),
        with_key
    );
    // A key alone, then a single-part call is refused: the digest has gone multi-part.
    hsm.digest_init(session, &sha256).unwrap();
    hsm.digest_key(session, key).unwrap();
    assert!(hsm.digest(session, b"").is_err());
    // No digest active; a public key (indigestible) ends the digest.
    assert!(matches!(
        hsm.digest_key(session, key),
        Err(Error::OperationNotInitialized)
    ));
    let (public, _) = generate_pair(&hsm, session, "pair", false).unwrap();
    hsm.digest_init(session, &sha256).unwrap();
    let refused = hsm.digest_key(session, public).unwrap_err();
    assert!(matches!(refused, Error::KeyIndigestible));
    assert_eq!(refused.ck_rv(), ck::CKR_KEY_INDIGESTIBLE);
    assert!(matches!(
        hsm.digest_update(session, b"x"),
        Err(Error::OperationNotInitialized)
    ));
}
