//! HMAC through sessions: generic secret and CKK_SHA*_HMAC keys, generated or created, signing
//! and verifying single- and multi-part, against RFC 4231.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::Mechanism;
use hsm_core::{Error, Hsm};

/// RFC 4231 test case 2 and its HMAC-SHA-256 / HMAC-SHA-512 tags.
const KEY: &[u8] = b"Jefe";
const DATA: &[u8] = b"what do ya want for nothing?";
const TAG_256: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
const TAG_512: &str = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";

fn secret_key(hsm: &Hsm, session: u64, key_type: ck::CK_KEY_TYPE, value: &[u8]) -> u64 {
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(key_type)),
        (ck::CKA_VALUE, value.to_vec()),
        bool_attr(ck::CKA_SIGN, true),
        bool_attr(ck::CKA_VERIFY, true),
    ];
    hsm.create_object(session, &template).unwrap()
}

fn mac(hsm: &Hsm, session: u64, mechanism: ck::CK_MECHANISM_TYPE, key: u64) -> Vec<u8> {
    hsm.sign_init(session, &Mechanism::new(mechanism), key)
        .unwrap();
    hsm.sign(session, DATA).unwrap()
}

#[test]
fn rfc4231_through_created_keys_single_and_multi_part() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "hmac");
    let session = user_session(&hsm, slot);
    let generic = secret_key(&hsm, session, ck::CKK_GENERIC_SECRET, KEY);
    let typed = secret_key(&hsm, session, ck::CKK_SHA256_HMAC, KEY);
    for key in [generic, typed] {
        hsm.sign_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        assert_eq!(hsm.sign_len(session).unwrap(), 32);
        assert_eq!(hex::encode(hsm.sign(session, DATA).unwrap()), TAG_256);
        // Multi-part, in uneven pieces.
        hsm.sign_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        for part in DATA.chunks(5) {
            hsm.sign_update(session, part).unwrap();
        }
        assert_eq!(hex::encode(hsm.sign_final(session).unwrap()), TAG_256);
        let tag = hex::decode(TAG_256).unwrap();
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        hsm.verify(session, DATA, &tag).unwrap();
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        hsm.verify_update(session, &DATA[..3]).unwrap();
        hsm.verify_update(session, &DATA[3..]).unwrap();
        hsm.verify_final(session, &tag).unwrap();
        let mut wrong = tag.clone();
        wrong[31] ^= 1;
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        assert!(matches!(
            hsm.verify(session, DATA, &wrong),
            Err(Error::Crypto(_))
        ));
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        let short = hsm.verify(session, DATA, &tag[..16]).unwrap_err();
        assert_eq!(short.ck_rv(), ck::CKR_SIGNATURE_LEN_RANGE);
    }
    // A generic secret serves every HMAC hash.
    assert_eq!(
        hex::encode(mac(&hsm, session, ck::CKM_SHA512_HMAC, generic)),
        TAG_512
    );
}

#[test]
fn hmac_keys_must_fit_the_mechanism() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "hmac");
    let session = user_session(&hsm, slot);
    let sha384_key = secret_key(&hsm, session, ck::CKK_SHA384_HMAC, KEY);
    let aes_key = secret_key(&hsm, session, ck::CKK_AES, &[7; 32]);
    let (_, rsa_private) = generate_pair(&hsm, session, "rsa", true).unwrap();
    for key in [sha384_key, aes_key, rsa_private] {
        assert!(matches!(
            hsm.sign_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key),
            Err(Error::KeyTypeInconsistent)
        ));
        assert!(matches!(
            hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key),
            Err(Error::KeyTypeInconsistent)
        ));
    }
    // The matching hash works with the typed key.
    hsm.sign_init(session, &Mechanism::new(ck::CKM_SHA384_HMAC), sha384_key)
        .unwrap();
    assert_eq!(hsm.sign_len(session).unwrap(), 48);
    hsm.sign(session, DATA).unwrap();
    // CKA_SIGN / CKA_VERIFY false.
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_GENERIC_SECRET)),
        (ck::CKA_VALUE, KEY.to_vec()),
        bool_attr(ck::CKA_SIGN, false),
        bool_attr(ck::CKA_VERIFY, false),
    ];
    let no_use = hsm.create_object(session, &template).unwrap();
    assert!(matches!(
        hsm.sign_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), no_use),
        Err(Error::KeyFunctionNotPermitted(_))
    ));
    assert!(matches!(
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), no_use),
        Err(Error::KeyFunctionNotPermitted(_))
    ));
    // Empty or oversized HMAC keys are refused at creation.
    for len in [0, 513] {
        let template: Template = vec![
            (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
            (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_SHA256_HMAC)),
            (ck::CKA_VALUE, vec![1; len]),
        ];
        assert!(matches!(
            hsm.create_object(session, &template),
            Err(Error::AttributeValueInvalid(ck::CKA_VALUE))
        ));
    }
}

#[test]
fn generated_hmac_keys() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "hmac");
    let session = user_session(&hsm, slot);
    let generate = |mechanism: ck::CK_MECHANISM_TYPE, extra: Template| {
        let mut template: Template = vec![bool_attr(ck::CKA_TOKEN, true)];
        template.extend(extra);
        hsm.generate_key(session, &Mechanism::new(mechanism), &template)
    };
    let len = |n: u64| (ck::CKA_VALUE_LEN, ulong_bytes(n));
    let generic = generate(ck::CKM_GENERIC_SECRET_KEY_GEN, vec![len(64)]).unwrap();
    let sha256 = generate(ck::CKM_SHA256_KEY_GEN, vec![len(32)]).unwrap();
    for (key, key_type, mechanism) in [
        (
            generic,
            ck::CKK_GENERIC_SECRET,
            ck::CKM_GENERIC_SECRET_KEY_GEN,
        ),
        (sha256, ck::CKK_SHA256_HMAC, ck::CKM_SHA256_KEY_GEN),
    ] {
        let values = hsm
            .get_attributes(
                session,
                key,
                &[
                    ck::CKA_KEY_TYPE,
                    ck::CKA_VALUE_LEN,
                    ck::CKA_KEY_GEN_MECHANISM,
                    ck::CKA_VALUE,
                ],
            )
            .unwrap();
        assert_eq!(values[0].as_ref().unwrap(), &ulong_bytes(key_type));
        assert_eq!(values[2].as_ref().unwrap(), &ulong_bytes(mechanism));
        assert!(matches!(values[3], Err(Error::AttributeSensitive(_))));
        let tag = mac(&hsm, session, ck::CKM_SHA256_HMAC, key);
        hsm.verify_init(session, &Mechanism::new(ck::CKM_SHA256_HMAC), key)
            .unwrap();
        hsm.verify(session, DATA, &tag).unwrap();
    }
    let value_len = hsm
        .get_attributes(session, generic, &[ck::CKA_VALUE_LEN])
        .unwrap();
    assert_eq!(value_len[0].as_ref().unwrap(), &ulong_bytes(64));
    // The key survives a reload of the token (another process sees the same tag).
    let tag = mac(&hsm, session, ck::CKM_SHA256_HMAC, generic);
    let other = test_hsm(dir.path());
    let other_session = user_session(&other, slot);
    let found = all_objects(&other, other_session, &Template::new())
        .into_iter()
        .find(|h| {
            other
                .get_attributes(other_session, *h, &[ck::CKA_KEY_TYPE])
                .unwrap()[0]
                .as_ref()
                .is_ok_and(|kt| kt == &ulong_bytes(ck::CKK_GENERIC_SECRET))
        })
        .unwrap();
    assert_eq!(mac(&other, other_session, ck::CKM_SHA256_HMAC, found), tag);
    // CKA_VALUE_LEN is required and bounded; the mechanism fixes the key type.
    assert!(matches!(
        generate(ck::CKM_GENERIC_SECRET_KEY_GEN, vec![]),
        Err(Error::TemplateIncomplete(ck::CKA_VALUE_LEN))
    ));
    for bad in [0, 513] {
        assert!(matches!(
            generate(ck::CKM_SHA256_KEY_GEN, vec![len(bad)]),
            Err(Error::KeySizeRange(_))
        ));
    }
    assert!(matches!(
        generate(
            ck::CKM_SHA256_KEY_GEN,
            vec![
                len(32),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_SHA512_HMAC))
            ]
        ),
        Err(Error::TemplateInconsistent(_))
    ));
}
