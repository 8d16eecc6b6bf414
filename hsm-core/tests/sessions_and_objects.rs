//! The PKCS#11 behaviour of tokens, sessions and objects, through [`hsm_core::Hsm`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::Error;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::Mechanism;

fn ulong(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes.try_into().unwrap())
}

#[test]
fn slots_are_stable_and_the_free_slot_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    assert_eq!(
        hsm.slot_list().unwrap(),
        vec![0],
        "only the free slot at first"
    );
    let first = init_pin_only_token(&hsm, "first");
    let second = init_pin_only_token(&hsm, "second");
    assert_eq!((first, second), (0, 1));
    assert_eq!(hsm.slot_list().unwrap(), vec![0, 1, 2]);
    assert!(matches!(hsm.slot_token(7), Err(Error::SlotInvalid(7))));
    // Another process sees the same numbering.
    let other = test_hsm(dir.path());
    assert_eq!(other.slot_list().unwrap(), vec![0, 1, 2]);
    assert_eq!(other.slot_token(1).unwrap().unwrap().label(), "second");
    let info = other.token_info(0).unwrap();
    assert_eq!(info.model, "no quorum");
    let flags = info.summary.flags;
    assert_ne!(flags & ck::CKF_TOKEN_INITIALIZED, 0);
    assert_ne!(flags & ck::CKF_USER_PIN_INITIALIZED, 0);
    assert_ne!(flags & ck::CKF_LOGIN_REQUIRED, 0);
}

#[test]
fn key_generation_without_class_or_key_type_and_readable_public_parts() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "keys");
    let session = user_session(&hsm, slot);
    let (public, private) = generate_pair(&hsm, session, "ec", false).unwrap();
    let values = hsm
        .get_attributes(
            session,
            public,
            &[
                ck::CKA_CLASS,
                ck::CKA_KEY_TYPE,
                ck::CKA_EC_POINT,
                ck::CKA_LOCAL,
            ],
        )
        .unwrap();
    assert_eq!(ulong(values[0].as_ref().unwrap()), ck::CKO_PUBLIC_KEY);
    assert_eq!(ulong(values[1].as_ref().unwrap()), ck::CKK_EC);
    let point = values[2].as_ref().unwrap();
    assert_eq!(
        point.len(),
        67,
        "P-256 CKA_EC_POINT is a 67-byte DER OCTET STRING"
    );
    assert_eq!(&point[..3], &[0x04, 0x41, 0x04]);
    assert_eq!(values[3].as_ref().unwrap(), &vec![1]);

    let values = hsm
        .get_attributes(
            session,
            private,
            &[
                ck::CKA_EC_PARAMS,
                ck::CKA_VALUE,
                ck::CKA_ALWAYS_SENSITIVE,
                ck::CKA_NEVER_EXTRACTABLE,
                ck::CKA_MODULUS,
            ],
        )
        .unwrap();
    assert_eq!(
        values[0].as_ref().unwrap(),
        &P256_OID.to_vec(),
        "public parts stay readable"
    );
    assert!(matches!(
        values[1],
        Err(Error::AttributeSensitive(ck::CKA_VALUE))
    ));
    assert_eq!(values[2].as_ref().unwrap(), &vec![1]);
    assert_eq!(values[3].as_ref().unwrap(), &vec![1]);
    assert!(matches!(
        values[4],
        Err(Error::AttributeTypeInvalid(ck::CKA_MODULUS))
    ));

    let (_, rsa_private) = generate_pair(&hsm, session, "rsa", true).unwrap();
    let values = hsm
        .get_attributes(
            session,
            rsa_private,
            &[ck::CKA_MODULUS, ck::CKA_PUBLIC_EXPONENT, ck::CKA_PRIME_1],
        )
        .unwrap();
    assert_eq!(values[0].as_ref().unwrap().len(), 256);
    assert_eq!(values[1].as_ref().unwrap(), &vec![1, 0, 1]);
    assert!(matches!(
        values[2],
        Err(Error::AttributeSensitive(ck::CKA_PRIME_1))
    ));
}

#[test]
fn sign_and_verify_with_every_key_type_and_an_error_ends_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "sign");
    let session = user_session(&hsm, slot);
    let (rsa_pub, rsa_priv) = generate_pair(&hsm, session, "rsa", true).unwrap();
    let (ec_pub, ec_priv) = generate_pair(&hsm, session, "ec", false).unwrap();
    let ed = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_EDWARDS_KEY_PAIR_GEN),
            &vec![bool_attr(ck::CKA_TOKEN, true)],
            &vec![bool_attr(ck::CKA_TOKEN, true)],
        )
        .unwrap();
    for (mechanism, public, private, len) in [
        (ck::CKM_SHA256_RSA_PKCS, rsa_pub, rsa_priv, 256),
        (ck::CKM_ECDSA_SHA256, ec_pub, ec_priv, 64),
        (ck::CKM_EDDSA, ed.0, ed.1, 64),
    ] {
        let mechanism = Mechanism::new(mechanism);
        hsm.sign_init(session, &mechanism, private).unwrap();
        assert_eq!(hsm.sign_len(session).unwrap(), len);
        let signature = hsm.sign(session, b"data to sign").unwrap();
        assert_eq!(signature.len(), len);
        hsm.verify_init(session, &mechanism, public).unwrap();
        hsm.verify(session, b"data to sign", &signature).unwrap();
        hsm.verify_init(session, &mechanism, public).unwrap();
        assert!(matches!(
            hsm.verify(session, b"other data", &signature),
            Err(Error::Crypto(_))
        ));
        // The failed verify ended the operation.
        assert!(matches!(
            hsm.verify(session, b"data to sign", &signature),
            Err(Error::OperationNotInitialized)
        ));
        // Multi-part gives the same result as single-part for deterministic RSA.
        hsm.sign_init(session, &mechanism, private).unwrap();
        hsm.sign_update(session, b"data ").unwrap();
        hsm.sign_update(session, b"to sign").unwrap();
        let multi = hsm.sign_final(session).unwrap();
        hsm.verify_init(session, &mechanism, public).unwrap();
        hsm.verify(session, b"data to sign", &multi).unwrap();
    }
    assert!(matches!(
        hsm.sign_init(session, &Mechanism::new(ck::CKM_ECDSA), rsa_priv),
        Err(Error::KeyTypeInconsistent)
    ));
    assert!(matches!(
        hsm.sign_init(session, &Mechanism::new(ck::CKM_RSA_PKCS), 999_999),
        Err(Error::KeyHandleInvalid(_))
    ));
    hsm.sign_init(session, &Mechanism::new(ck::CKM_RSA_PKCS), rsa_priv)
        .unwrap();
    assert!(matches!(
        hsm.sign_init(session, &Mechanism::new(ck::CKM_RSA_PKCS), rsa_priv),
        Err(Error::OperationActive)
    ));
    assert!(
        hsm.sign(session, &[0u8; 300]).is_err(),
        "too long for CKM_RSA_PKCS"
    );
    assert!(
        matches!(hsm.sign(session, b"x"), Err(Error::OperationNotInitialized)),
        "the error ended it"
    );
}

#[test]
fn digests_match_known_values() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "digest");
    let session = hsm.open_session(slot, false).unwrap();
    hsm.digest_init(session, &Mechanism::new(ck::CKM_SHA256))
        .unwrap();
    assert_eq!(hsm.digest_len(session).unwrap(), 32);
    let single = hsm.digest(session, b"abc").unwrap();
    assert_eq!(
        hex::encode(&single),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    hsm.digest_init(session, &Mechanism::new(ck::CKM_SHA256))
        .unwrap();
    hsm.digest_update(session, b"a").unwrap();
    hsm.digest_update(session, b"bc").unwrap();
    assert_eq!(hsm.digest_final(session).unwrap(), single);
}

#[test]
fn private_objects_are_hidden_before_login_and_sealed_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "hidden");
    let session = user_session(&hsm, slot);
    let secret_value = b"a-private-data-value-that-must-not-leak".to_vec();
    let private_data: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA)),
        bool_attr(ck::CKA_TOKEN, true),
        bool_attr(ck::CKA_PRIVATE, true),
        label_attr("secret-data"),
        (ck::CKA_VALUE, secret_value.clone()),
    ];
    hsm.create_object(session, &private_data).unwrap();
    generate_pair(&hsm, session, "pair", false).unwrap();
    assert_eq!(all_objects(&hsm, session, &Vec::new()).len(), 3);
    hsm.logout(session).unwrap();
    assert!(
        matches!(hsm.logout(session), Err(Error::UserNotLoggedIn)),
        "a second logout is an error"
    );
    assert_eq!(
        all_objects(&hsm, session, &Vec::new()).len(),
        1,
        "only the public key is visible"
    );
    // Nothing private in clear on disk.
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(secret_value.len()).any(|w| w == secret_value),
            "{} leaks",
            entry.display()
        );
    }
    // A fresh process, logged in, reads it back.
    let other = test_hsm(dir.path());
    let session = user_session(&other, slot);
    let found = all_objects(&other, session, &vec![label_attr("secret-data")]);
    assert_eq!(found.len(), 1);
    let value = other
        .get_attributes(session, found[0], &[ck::CKA_VALUE])
        .unwrap();
    assert_eq!(value[0].as_ref().unwrap(), &secret_value);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn session_objects_die_with_their_session_and_duplicate_ids_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "session");
    let keeper = user_session(&hsm, slot);
    let session = hsm.open_session(slot, true).unwrap();
    let object = |token: bool| -> Template {
        vec![
            (ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA)),
            bool_attr(ck::CKA_TOKEN, token),
            bool_attr(ck::CKA_PRIVATE, false),
            (ck::CKA_APPLICATION, b"app".to_vec()),
        ]
    };
    hsm.create_object(session, &object(false)).unwrap();
    hsm.create_object(session, &object(true)).unwrap();
    hsm.create_object(session, &object(true)).unwrap();
    let app = || vec![(ck::CKA_APPLICATION, b"app".to_vec())];
    assert_eq!(all_objects(&hsm, keeper, &app()).len(), 3);
    hsm.close_session(session).unwrap();
    assert_eq!(all_objects(&hsm, keeper, &app()).len(), 2);

    // Two key pairs may share a CKA_ID (OpenDNSSEC and ldns rely on ids, not on uniqueness).
    let with_id: Template = vec![bool_attr(ck::CKA_TOKEN, true), (ck::CKA_ID, vec![7])];
    let mut public = with_id.clone();
    public.push((ck::CKA_EC_PARAMS, P256_OID.to_vec()));
    for _ in 0..2 {
        hsm.generate_key_pair(
            keeper,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &public,
            &with_id,
        )
        .unwrap();
    }
    assert_eq!(
        all_objects(&hsm, keeper, &vec![(ck::CKA_ID, vec![7])]).len(),
        4
    );
}

#[test]
fn read_only_sessions_and_attribute_rules() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "rules");
    let rw = user_session(&hsm, slot);
    let ro = hsm.open_session(slot, false).unwrap();
    let token_data: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA)),
        bool_attr(ck::CKA_TOKEN, true),
        label_attr("d"),
    ];
    assert!(matches!(
        hsm.create_object(ro, &token_data),
        Err(Error::SessionReadOnly)
    ));
    let handle = hsm.create_object(rw, &token_data).unwrap();
    assert!(matches!(
        hsm.destroy_object(ro, handle),
        Err(Error::SessionReadOnly)
    ));
    let (_, private) = generate_pair(&hsm, rw, "k", false).unwrap();
    assert!(matches!(
        hsm.set_attributes(rw, private, &vec![bool_attr(ck::CKA_SENSITIVE, false)]),
        Err(Error::AttributeReadOnly(ck::CKA_SENSITIVE))
    ));
    assert!(matches!(
        hsm.set_attributes(
            rw,
            private,
            &vec![(ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA))]
        ),
        Err(Error::AttributeReadOnly(ck::CKA_CLASS))
    ));
    hsm.set_attributes(rw, private, &vec![label_attr("renamed")])
        .unwrap();
    assert_eq!(
        all_objects(&hsm, rw, &vec![label_attr("renamed")]),
        vec![private],
        "handles survive updates"
    );
    let local: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA)),
        bool_attr(ck::CKA_LOCAL, true),
    ];
    assert!(matches!(
        hsm.create_object(rw, &local),
        Err(Error::AttributeReadOnly(ck::CKA_LOCAL))
    ));
    let no_class: Template = vec![label_attr("x")];
    assert!(matches!(
        hsm.create_object(rw, &no_class),
        Err(Error::TemplateIncomplete(ck::CKA_CLASS))
    ));
    assert!(matches!(
        hsm.login(ro, ck::CKU_USER, USER_PIN),
        Err(Error::UserAlreadyLoggedIn)
    ));
    hsm.logout(rw).unwrap();
    assert!(matches!(
        hsm.login(rw, ck::CKU_SO, SO_PIN),
        Err(Error::SessionReadOnlyExists)
    ));
}

#[test]
fn user_pin_locks_after_ten_failures_and_the_lock_persists() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "lockout");
    let session = hsm.open_session(slot, true).unwrap();
    let flags = |hsm: &hsm_core::Hsm| hsm.token_info(slot).unwrap().summary.flags;
    assert!(matches!(
        hsm.login(session, ck::CKU_USER, b"wrong-pin"),
        Err(Error::PinIncorrect)
    ));
    assert_ne!(flags(&hsm) & ck::CKF_USER_PIN_COUNT_LOW, 0);
    hsm.login(session, ck::CKU_USER, USER_PIN).unwrap();
    assert_eq!(
        flags(&hsm) & ck::CKF_USER_PIN_COUNT_LOW,
        0,
        "a success resets the counter"
    );
    hsm.logout(session).unwrap();
    for _ in 0..9 {
        assert!(matches!(
            hsm.login(session, ck::CKU_USER, b"wrong-pin"),
            Err(Error::PinIncorrect)
        ));
    }
    assert_ne!(flags(&hsm) & ck::CKF_USER_PIN_FINAL_TRY, 0);
    assert!(matches!(
        hsm.login(session, ck::CKU_USER, b"wrong-pin"),
        Err(Error::PinIncorrect)
    ));
    assert_ne!(flags(&hsm) & ck::CKF_USER_PIN_LOCKED, 0);
    assert!(matches!(
        hsm.login(session, ck::CKU_USER, USER_PIN),
        Err(Error::PinLocked)
    ));
    let other = test_hsm(dir.path());
    let session = other.open_session(slot, true).unwrap();
    assert!(
        matches!(
            other.login(session, ck::CKU_USER, USER_PIN),
            Err(Error::PinLocked)
        ),
        "persisted"
    );
    assert_ne!(
        other.token_info(slot).unwrap().summary.flags & ck::CKF_USER_PIN_LOCKED,
        0
    );
}

#[test]
fn so_pin_locks_too_and_init_token_wipes_objects() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "wipe");
    let session = user_session(&hsm, slot);
    generate_pair(&hsm, session, "k", true).unwrap();
    hsm.close_session(session).unwrap();
    assert!(matches!(
        hsm.init_token(slot, b"wrong-so-pin", "wiped"),
        Err(Error::PinIncorrect)
    ));
    hsm.init_token(slot, SO_PIN, "wiped").unwrap();
    let info = hsm.token_info(slot).unwrap();
    assert_eq!(info.summary.label, "wiped");
    assert_eq!(info.summary.objects, 0);
    assert_eq!(info.summary.flags & ck::CKF_USER_PIN_INITIALIZED, 0);
    let session = hsm.open_session(slot, true).unwrap();
    for _ in 0..10 {
        assert!(matches!(
            hsm.login(session, ck::CKU_SO, b"wrong-so-pin"),
            Err(Error::PinIncorrect)
        ));
    }
    assert_ne!(
        hsm.token_info(slot).unwrap().summary.flags & ck::CKF_SO_PIN_LOCKED,
        0
    );
    assert!(matches!(
        hsm.login(session, ck::CKU_SO, SO_PIN),
        Err(Error::PinLocked)
    ));
}

#[test]
fn set_pin_changes_the_pin_and_keeps_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "setpin");
    let session = user_session(&hsm, slot);
    generate_pair(&hsm, session, "k", false).unwrap();
    hsm.set_pin(session, USER_PIN, b"new-user-pin").unwrap();
    assert!(matches!(
        hsm.set_pin(session, b"bad", b"x"),
        Err(Error::PinLenRange { .. })
    ));
    hsm.close_session(session).unwrap();
    let other = test_hsm(dir.path());
    let session = other.open_session(slot, true).unwrap();
    assert!(matches!(
        other.login(session, ck::CKU_USER, USER_PIN),
        Err(Error::PinIncorrect)
    ));
    other.login(session, ck::CKU_USER, b"new-user-pin").unwrap();
    assert_eq!(
        all_objects(
            &other,
            session,
            &vec![(ck::CKA_CLASS, ulong_bytes(ck::CKO_PRIVATE_KEY))]
        )
        .len(),
        1
    );
}

#[test]
fn aes_keys_wrap_and_unwrap() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "aes");
    let session = user_session(&hsm, slot);
    let aes = |extractable: bool| -> Template {
        vec![
            (ck::CKA_VALUE_LEN, ulong_bytes(32)),
            bool_attr(ck::CKA_EXTRACTABLE, extractable),
            bool_attr(ck::CKA_SENSITIVE, false),
        ]
    };
    let keygen = Mechanism::new(ck::CKM_AES_KEY_GEN);
    let kek = hsm.generate_key(session, &keygen, &aes(false)).unwrap();
    let key = hsm.generate_key(session, &keygen, &aes(true)).unwrap();
    let wrap = Mechanism::new(ck::CKM_AES_KEY_WRAP_PAD);
    let wrapped = hsm.wrap_key(session, &wrap, kek, key).unwrap();
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        bool_attr(ck::CKA_EXTRACTABLE, true),
        bool_attr(ck::CKA_SENSITIVE, false),
    ];
    let unwrapped = hsm
        .unwrap_key(session, &wrap, kek, &wrapped, &template)
        .unwrap();
    let original = hsm.get_attributes(session, key, &[ck::CKA_VALUE]).unwrap();
    let restored = hsm
        .get_attributes(session, unwrapped, &[ck::CKA_VALUE, ck::CKA_LOCAL])
        .unwrap();
    assert_eq!(original[0].as_ref().unwrap(), restored[0].as_ref().unwrap());
    assert_eq!(
        restored[1].as_ref().unwrap(),
        &vec![0],
        "an unwrapped key is not local"
    );
    assert!(matches!(
        hsm.wrap_key(session, &wrap, key, kek),
        Err(Error::KeyFunctionNotPermitted(_))
    ));
    let mut tampered = wrapped.clone();
    tampered[3] ^= 1;
    assert!(
        hsm.unwrap_key(session, &wrap, kek, &tampered, &template)
            .is_err()
    );
}

#[test]
fn imported_private_keys_are_checked_and_weak_rsa_is_refused() {
    use hsm_core::attr::Attributes;
    use hsm_core::crypto::import_private_key;
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "import");
    let session = user_session(&hsm, slot);
    let template_of = |text: &[u8]| -> Template {
        let material = import_private_key(text).unwrap();
        let mut attrs = Attributes::new();
        hsm_core::keys::set_private_attrs(&mut attrs, &material, &material.public().unwrap());
        let mut template: Template = attrs.iter().map(|(t, v)| (t, v.to_vec())).collect();
        template.push((ck::CKA_CLASS, ulong_bytes(ck::CKO_PRIVATE_KEY)));
        template.push(bool_attr(ck::CKA_TOKEN, true));
        template
    };
    let legacy = template_of(include_bytes!("../../fixtures/legacy/rsa2048-1.key"));
    let handle = hsm.create_object(session, &legacy).unwrap();
    let local = hsm
        .get_attributes(session, handle, &[ck::CKA_LOCAL, ck::CKA_ALWAYS_SENSITIVE])
        .unwrap();
    assert_eq!(
        local[0].as_ref().unwrap(),
        &vec![0],
        "an imported key is not local"
    );
    assert_eq!(local[1].as_ref().unwrap(), &vec![0]);
    let weak = template_of(include_bytes!("../../fixtures/rfc5702-rsasha256.private"));
    assert!(matches!(
        hsm.create_object(session, &weak),
        Err(Error::KeySizeRange(_))
    ));
    let mut broken = legacy.clone();
    for (ty, value) in broken.iter_mut() {
        if *ty == ck::CKA_PRIME_1 {
            value[10] ^= 1;
        }
    }
    assert!(matches!(
        hsm.create_object(session, &broken),
        Err(Error::TemplateInconsistent(_))
    ));
}
