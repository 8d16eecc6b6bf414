//! `CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE` and `CKA_DERIVE_TEMPLATE` through
//! [`hsm_core::Hsm`]: set when a key is made, stored (sealed) with it and read back, fixed
//! after creation, and the three rules — the key to be wrapped must match the wrapping key's
//! wrap template; an unwrapped or derived key gets its parent's template, which the caller's
//! may not contradict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::array_attr;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{Mechanism, PointerParams};
use hsm_core::secret::SecretBytes;
use hsm_core::{Error, Hsm};

fn aes_key(hsm: &Hsm, session: u64, extra: Template) -> hsm_core::Result<u64> {
    let mut template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        (ck::CKA_VALUE, vec![0x42; 32]),
    ];
    template.extend(extra);
    hsm.create_object(session, &template)
}

fn template_attr(ty: ck::CK_ATTRIBUTE_TYPE, inner: &Template) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ty, array_attr::encode(inner))
}

fn read(hsm: &Hsm, session: u64, key: u64, ty: ck::CK_ATTRIBUTE_TYPE) -> hsm_core::Result<Vec<u8>> {
    hsm.get_attributes(session, key, &[ty]).unwrap().remove(0)
}

fn read_template(hsm: &Hsm, session: u64, key: u64, ty: ck::CK_ATTRIBUTE_TYPE) -> Template {
    array_attr::decode(ty, &read(hsm, session, key, ty).unwrap()).unwrap()
}

fn unwrap_template() -> Template {
    vec![
        bool_attr(ck::CKA_EXTRACTABLE, false),
        label_attr("from-the-template"),
    ]
}

#[test]
fn templates_are_stored_sealed_and_read_back_in_canonical_order() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "templates");
    let session = user_session(&hsm, slot);
    let inner = unwrap_template();
    let kek = aes_key(
        &hsm,
        session,
        vec![
            bool_attr(ck::CKA_TOKEN, true),
            label_attr("kek"),
            template_attr(ck::CKA_UNWRAP_TEMPLATE, &inner),
        ],
    )
    .unwrap();
    // Sorted by type: CKA_LABEL (3) before CKA_EXTRACTABLE (0x162).
    let expected = vec![inner[1].clone(), inner[0].clone()];
    assert_eq!(
        read_template(&hsm, session, kek, ck::CKA_UNWRAP_TEMPLATE),
        expected
    );
    // A key without a template has the empty one, as any key stored before templates does.
    assert_eq!(
        read(&hsm, session, kek, ck::CKA_WRAP_TEMPLATE).unwrap(),
        b""
    );
    let plain = aes_key(&hsm, session, vec![bool_attr(ck::CKA_TOKEN, true)]).unwrap();
    assert_eq!(
        read(&hsm, session, plain, ck::CKA_DERIVE_TEMPLATE).unwrap(),
        b""
    );

    // Found by the template, in whatever order the finder gives it.
    let found = all_objects(
        &hsm,
        session,
        &vec![template_attr(ck::CKA_UNWRAP_TEMPLATE, &expected)],
    );
    assert_eq!(found, [kek]);

    // Fixed after creation, even by a copy.
    let loosen = vec![template_attr(ck::CKA_UNWRAP_TEMPLATE, &Vec::new())];
    assert!(matches!(
        hsm.set_attributes(session, kek, &loosen),
        Err(Error::AttributeReadOnly(ck::CKA_UNWRAP_TEMPLATE))
    ));
    assert!(matches!(
        hsm.copy_object(session, kek, &loosen),
        Err(Error::AttributeReadOnly(ck::CKA_UNWRAP_TEMPLATE))
    ));

    // A fresh process reads it back from the sealed record.
    let other = test_hsm(dir.path());
    let session = user_session(&other, slot);
    let found = all_objects(&other, session, &vec![label_attr("kek")]);
    assert_eq!(found.len(), 1);
    assert_eq!(
        read_template(&other, session, found[0], ck::CKA_UNWRAP_TEMPLATE),
        expected
    );
}

#[test]
fn templates_are_set_at_generation_and_refused_where_they_do_not_belong() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "templates");
    let session = user_session(&hsm, slot);
    let wrap = vec![bool_attr(ck::CKA_SENSITIVE, false)];
    let derive = vec![(ck::CKA_VALUE_LEN, ulong_bytes(16))];
    let public: Template = vec![
        (ck::CKA_EC_PARAMS, P256_OID.to_vec()),
        template_attr(ck::CKA_WRAP_TEMPLATE, &wrap),
    ];
    let private: Template = vec![
        template_attr(ck::CKA_UNWRAP_TEMPLATE, &unwrap_template()),
        template_attr(ck::CKA_DERIVE_TEMPLATE, &derive),
    ];
    let (public, private) = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &public,
            &private,
        )
        .unwrap();
    assert_eq!(
        read_template(&hsm, session, public, ck::CKA_WRAP_TEMPLATE),
        wrap
    );
    assert_eq!(
        read_template(&hsm, session, private, ck::CKA_DERIVE_TEMPLATE),
        derive
    );
    let secret = hsm
        .generate_key(
            session,
            &Mechanism::new(ck::CKM_AES_KEY_GEN),
            &vec![
                (ck::CKA_VALUE_LEN, ulong_bytes(32)),
                template_attr(ck::CKA_WRAP_TEMPLATE, &wrap),
            ],
        )
        .unwrap();
    assert_eq!(
        read_template(&hsm, session, secret, ck::CKA_WRAP_TEMPLATE),
        wrap
    );

    // A public key does not unwrap; a private key does not wrap; data objects have none.
    let err = hsm.generate_key_pair(
        session,
        &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
        &vec![
            (ck::CKA_EC_PARAMS, P256_OID.to_vec()),
            template_attr(ck::CKA_UNWRAP_TEMPLATE, &wrap),
        ],
        &Vec::new(),
    );
    assert!(matches!(
        err,
        Err(Error::AttributeTypeInvalid(ck::CKA_UNWRAP_TEMPLATE))
    ));
    let data: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA)),
        template_attr(ck::CKA_WRAP_TEMPLATE, &wrap),
    ];
    assert!(matches!(
        hsm.create_object(session, &data),
        Err(Error::AttributeTypeInvalid(ck::CKA_WRAP_TEMPLATE))
    ));

    // Malformed templates, nested ones, key material and token-set attributes are refused.
    let refused = [
        (ck::CKA_WRAP_TEMPLATE, vec![7, 0, 0]),
        template_attr(
            ck::CKA_WRAP_TEMPLATE,
            &vec![template_attr(ck::CKA_UNWRAP_TEMPLATE, &Vec::new())],
        ),
        template_attr(ck::CKA_UNWRAP_TEMPLATE, &vec![(ck::CKA_VALUE, vec![0; 32])]),
        template_attr(
            ck::CKA_DERIVE_TEMPLATE,
            &vec![bool_attr(ck::CKA_LOCAL, true)],
        ),
        template_attr(ck::CKA_WRAP_TEMPLATE, &vec![(ck::CKA_CLASS, vec![1])]),
    ];
    for attr in refused {
        let ty = attr.0;
        assert!(
            matches!(aes_key(&hsm, session, vec![attr]), Err(Error::AttributeValueInvalid(t)) if t == ty),
            "{ty:#x}"
        );
    }
    // A wrap template may ask for what the token sets: only keys made in the token.
    let local_only = vec![bool_attr(ck::CKA_LOCAL, true)];
    aes_key(
        &hsm,
        session,
        vec![template_attr(ck::CKA_WRAP_TEMPLATE, &local_only)],
    )
    .unwrap();
}

#[test]
fn the_wrapped_key_must_match_the_wrap_template() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "templates");
    let session = user_session(&hsm, slot);
    let wrap = vec![
        (ck::CKA_ID, b"backup".to_vec()),
        bool_attr(ck::CKA_SENSITIVE, true),
    ];
    let kek = aes_key(
        &hsm,
        session,
        vec![template_attr(ck::CKA_WRAP_TEMPLATE, &wrap)],
    )
    .unwrap();
    let wrap_pad = Mechanism::new(ck::CKM_AES_KEY_WRAP_PAD);
    let extractable = bool_attr(ck::CKA_EXTRACTABLE, true);
    let matching = aes_key(
        &hsm,
        session,
        vec![extractable.clone(), (ck::CKA_ID, b"backup".to_vec())],
    )
    .unwrap();
    hsm.wrap_key(session, &wrap_pad, kek, matching).unwrap();
    for extra in [
        vec![(ck::CKA_ID, b"other".to_vec())],
        vec![],
        vec![
            (ck::CKA_ID, b"backup".to_vec()),
            bool_attr(ck::CKA_SENSITIVE, false),
        ],
    ] {
        let mut template = vec![extractable.clone()];
        template.extend(extra);
        let key = aes_key(&hsm, session, template).unwrap();
        let err = hsm.wrap_key(session, &wrap_pad, kek, key).unwrap_err();
        assert!(matches!(err, Error::KeyNotWrappable(_)), "{err}");
        assert_eq!(err.ck_rv(), ck::CKR_KEY_NOT_WRAPPABLE);
    }
    // A wrapping key without a template wraps any extractable key, as before.
    let open_kek = aes_key(&hsm, session, Vec::new()).unwrap();
    let other = aes_key(&hsm, session, vec![extractable]).unwrap();
    hsm.wrap_key(session, &wrap_pad, open_kek, other).unwrap();
}

#[test]
fn an_unwrapped_key_gets_the_unwrap_template_which_the_caller_may_not_contradict() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "templates");
    let session = user_session(&hsm, slot);
    let kek = aes_key(
        &hsm,
        session,
        vec![template_attr(ck::CKA_UNWRAP_TEMPLATE, &unwrap_template())],
    )
    .unwrap();
    let original = aes_key(&hsm, session, vec![bool_attr(ck::CKA_EXTRACTABLE, true)]).unwrap();
    let wrap = Mechanism::new(ck::CKM_AES_KEY_WRAP);
    let wrapped = hsm.wrap_key(session, &wrap, kek, original).unwrap();
    let base: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
    ];
    for conflict in [bool_attr(ck::CKA_EXTRACTABLE, true), label_attr("mine")] {
        let mut template = base.clone();
        template.push(conflict);
        let err = hsm
            .unwrap_key(session, &wrap, kek, &wrapped, &template)
            .unwrap_err();
        assert!(matches!(err, Error::TemplateInconsistent(_)), "{err}");
        assert_eq!(err.ck_rv(), ck::CKR_TEMPLATE_INCONSISTENT);
    }
    // Repeating the template's values is no conflict (any non-zero byte is true).
    let mut template = base.clone();
    template.push((ck::CKA_EXTRACTABLE, vec![0]));
    template.push(bool_attr(ck::CKA_TOKEN, true));
    let copy = hsm
        .unwrap_key(session, &wrap, kek, &wrapped, &template)
        .unwrap();
    let [label, extractable, token] = [ck::CKA_LABEL, ck::CKA_EXTRACTABLE, ck::CKA_TOKEN]
        .map(|ty| read(&hsm, session, copy, ty).unwrap());
    assert_eq!(
        (label.as_slice(), extractable.as_slice(), token.as_slice()),
        (&b"from-the-template"[..], &[0u8][..], &[1u8][..])
    );
    // With the caller's template alone, the key comes out as the template says.
    let bare = hsm
        .unwrap_key(session, &wrap, kek, &wrapped, &base)
        .unwrap();
    assert_eq!(read(&hsm, session, bare, ck::CKA_EXTRACTABLE).unwrap(), [0]);
}

#[test]
fn a_derived_key_gets_the_derive_template_which_the_caller_may_not_contradict() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "templates");
    let session = user_session(&hsm, slot);
    let derive = vec![
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        bool_attr(ck::CKA_ENCRYPT, true),
        label_attr("derived"),
    ];
    let base = aes_key(
        &hsm,
        session,
        vec![
            bool_attr(ck::CKA_DERIVE, true),
            template_attr(ck::CKA_DERIVE_TEMPLATE, &derive),
        ],
    )
    .unwrap();
    let mechanism = Mechanism::with_pointer_params(
        ck::CKM_AES_ECB_ENCRYPT_DATA,
        PointerParams::DerivationData(SecretBytes::from_slice(&[5; 32])),
    );
    let conflicting = vec![bool_attr(ck::CKA_ENCRYPT, false)];
    let err = hsm
        .derive_key(session, &mechanism, base, &conflicting)
        .unwrap_err();
    assert!(matches!(err, Error::TemplateInconsistent(_)), "{err}");
    let key = hsm
        .derive_key(
            session,
            &mechanism,
            base,
            &vec![(ck::CKA_VALUE_LEN, ulong_bytes(16))],
        )
        .unwrap();
    let [key_type, encrypt, label, len] = [
        ck::CKA_KEY_TYPE,
        ck::CKA_ENCRYPT,
        ck::CKA_LABEL,
        ck::CKA_VALUE_LEN,
    ]
    .map(|ty| read(&hsm, session, key, ty).unwrap());
    assert_eq!(key_type, ulong_bytes(ck::CKK_AES));
    assert_eq!(
        (encrypt.as_slice(), label.as_slice()),
        (&[1u8][..], &b"derived"[..])
    );
    assert_eq!(len, ulong_bytes(16));
}
