//! P-521 through sessions: generation, the long-form CKA_EC_POINT, ECDSA with and without
//! hashing, and a public key object made from the generated point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{Mechanism, mechanism_info};

const P521_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

#[test]
fn p521_keys_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "p521");
    let session = user_session(&hsm, slot);
    assert_eq!(
        mechanism_info(ck::CKM_EC_KEY_PAIR_GEN)
            .unwrap()
            .max_key_size,
        521
    );
    let public_template: Template = vec![
        bool_attr(ck::CKA_TOKEN, true),
        (ck::CKA_EC_PARAMS, P521_OID.to_vec()),
    ];
    let private_template: Template = vec![bool_attr(ck::CKA_TOKEN, true)];
    let (public, private) = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &public_template,
            &private_template,
        )
        .unwrap();
    let values = hsm
        .get_attributes(session, public, &[ck::CKA_EC_POINT, ck::CKA_EC_PARAMS])
        .unwrap();
    let point = values[0].as_ref().unwrap().clone();
    assert_eq!(point.len(), 136, "DER OCTET STRING of a 133-byte point");
    assert_eq!(&point[..4], &[0x04, 0x81, 0x85, 0x04]);
    assert_eq!(values[1].as_ref().unwrap(), P521_OID);

    let hash = [0x5au8; 64];
    for (mechanism, data) in [
        (ck::CKM_ECDSA, &hash[..]),
        (ck::CKM_ECDSA, &hash[..20]),
        (ck::CKM_ECDSA, &[0x11u8; 80][..]),
        (ck::CKM_ECDSA_SHA512, &b"message"[..]),
        (ck::CKM_ECDSA_SHA256, &b"message"[..]),
    ] {
        let mechanism = Mechanism::new(mechanism);
        hsm.sign_init(session, &mechanism, private).unwrap();
        assert_eq!(hsm.sign_len(session).unwrap(), 132);
        let signature = hsm.sign(session, data).unwrap();
        assert_eq!(signature.len(), 132);
        hsm.verify_init(session, &mechanism, public).unwrap();
        hsm.verify(session, data, &signature).unwrap();
    }

    // A public key object made from the point (as another token would import it).
    let import: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_PUBLIC_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_EC)),
        (ck::CKA_EC_PARAMS, P521_OID.to_vec()),
        (ck::CKA_EC_POINT, point),
    ];
    let imported = hsm.create_object(session, &import).unwrap();
    let mechanism = Mechanism::new(ck::CKM_ECDSA_SHA384);
    hsm.sign_init(session, &mechanism, private).unwrap();
    let signature = hsm.sign(session, b"imported").unwrap();
    hsm.verify_init(session, &mechanism, imported).unwrap();
    hsm.verify(session, b"imported", &signature).unwrap();
}
