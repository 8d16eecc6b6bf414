//! `C_DeriveKey` through [`hsm_core::Hsm`]: ECDH between two token keys, AES encryption of
//! data, the simple derivations with the protection they pass on, the SP 800-108 KDFs, and
//! the attributes every derived key gets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{
    CkAesCbcDataParams, CkEcdh1Params, CkKbkdfParams, CounterFormat, KbkdfData, Mechanism,
    PointerParams,
};
use hsm_core::secret::SecretBytes;
use hsm_core::{Error, Hsm};

fn ulong(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes.try_into().unwrap())
}

fn secret_key(hsm: &Hsm, session: u64, value: &[u8], extra: &[(u64, bool)]) -> u64 {
    let mut template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_GENERIC_SECRET)),
        (ck::CKA_VALUE, value.to_vec()),
        bool_attr(ck::CKA_DERIVE, true),
    ];
    template.extend(extra.iter().map(|(ty, v)| bool_attr(*ty, *v)));
    hsm.create_object(session, &template).unwrap()
}

/// A template for a readable derived key.
fn readable(len: Option<u64>) -> Template {
    let mut template = vec![
        bool_attr(ck::CKA_SENSITIVE, false),
        bool_attr(ck::CKA_EXTRACTABLE, true),
    ];
    if let Some(len) = len {
        template.push((ck::CKA_VALUE_LEN, ulong_bytes(len)));
    }
    template
}

const OPEN: &[(u64, bool)] = &[(ck::CKA_SENSITIVE, false), (ck::CKA_EXTRACTABLE, true)];

fn value(hsm: &Hsm, session: u64, key: u64) -> hsm_core::Result<Vec<u8>> {
    hsm.get_attributes(session, key, &[ck::CKA_VALUE])
        .unwrap()
        .remove(0)
}

fn data(m: ck::CK_MECHANISM_TYPE, bytes: &[u8]) -> Mechanism {
    Mechanism::with_pointer_params(
        m,
        PointerParams::DerivationData(SecretBytes::from_slice(bytes)),
    )
}

fn ec_pair(hsm: &Hsm, session: u64) -> (u64, u64, Vec<u8>) {
    let public: Template = vec![(ck::CKA_EC_PARAMS, P256_OID.to_vec())];
    let private: Template = vec![bool_attr(ck::CKA_DERIVE, true)];
    let (public, private) = hsm
        .generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &public,
            &private,
        )
        .unwrap();
    let point = hsm
        .get_attributes(session, public, &[ck::CKA_EC_POINT])
        .unwrap()
        .remove(0)
        .unwrap();
    (public, private, point)
}

fn ecdh(public_data: &[u8], kdf: u64, shared_data: &[u8]) -> Mechanism {
    Mechanism::with_pointer_params(
        ck::CKM_ECDH1_DERIVE,
        PointerParams::Ecdh1(CkEcdh1Params {
            kdf,
            shared_data: shared_data.to_vec(),
            public_data: public_data.to_vec(),
        }),
    )
}

#[test]
fn ecdh_both_sides_agree_with_raw_or_der_points_and_kdfs() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "ecdh");
    let session = user_session(&hsm, slot);
    let (_, alice, alice_point) = ec_pair(&hsm, session);
    let (_, bob, bob_point) = ec_pair(&hsm, session);
    // DER OCTET STRING on one side, the raw point on the other.
    let ab = hsm
        .derive_key(
            session,
            &ecdh(&bob_point, ck::CKD_NULL, &[]),
            alice,
            &readable(None),
        )
        .unwrap();
    let ba = hsm
        .derive_key(
            session,
            &ecdh(&alice_point[2..], ck::CKD_NULL, &[]),
            bob,
            &readable(None),
        )
        .unwrap();
    let z = value(&hsm, session, ab).unwrap();
    assert_eq!(z.len(), 32);
    assert_eq!(z, value(&hsm, session, ba).unwrap());
    let attrs = hsm
        .get_attributes(
            session,
            ab,
            &[
                ck::CKA_CLASS,
                ck::CKA_KEY_TYPE,
                ck::CKA_LOCAL,
                ck::CKA_KEY_GEN_MECHANISM,
                ck::CKA_ALWAYS_SENSITIVE,
                ck::CKA_NEVER_EXTRACTABLE,
                ck::CKA_VALUE_LEN,
                ck::CKA_SIGN,
            ],
        )
        .unwrap();
    let got: Vec<Vec<u8>> = attrs.into_iter().map(Result::unwrap).collect();
    assert_eq!(ulong(&got[0]), ck::CKO_SECRET_KEY);
    assert_eq!(ulong(&got[1]), ck::CKK_GENERIC_SECRET);
    assert_eq!(got[2], [0], "derived keys are not local");
    assert_eq!(ulong(&got[3]), ck::CK_UNAVAILABLE_INFORMATION);
    assert_eq!((got[4].as_slice(), got[5].as_slice()), (&[0][..], &[0][..]));
    assert_eq!(ulong(&got[6]), 32);
    assert_eq!(
        got[7],
        [0],
        "a derived key does only what its template grants"
    );

    // An AES key of 16 bytes keeps the secret's trailing bytes; the X9.63 KDF with shared
    // data gives the same key on both sides, and differs from the raw secret.
    let aes: Template = vec![
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        (ck::CKA_VALUE_LEN, ulong_bytes(16)),
        bool_attr(ck::CKA_SENSITIVE, false),
        bool_attr(ck::CKA_EXTRACTABLE, true),
    ];
    let short = hsm
        .derive_key(session, &ecdh(&bob_point, ck::CKD_NULL, &[]), alice, &aes)
        .unwrap();
    assert_eq!(value(&hsm, session, short).unwrap(), z[16..]);
    let kdf = |point: &[u8], key| {
        let mechanism = ecdh(point, ck::CKD_SHA256_KDF, b"info");
        let derived = hsm.derive_key(session, &mechanism, key, &aes).unwrap();
        value(&hsm, session, derived).unwrap()
    };
    let k1 = kdf(&bob_point, alice);
    assert_eq!(k1, kdf(&alice_point, bob));
    assert_ne!(k1, z[16..]);

    // A point off the curve, shared data with CKD_NULL, a sensitive result.
    let mut off = bob_point.clone();
    off[40] ^= 1;
    let refused = |mechanism: Mechanism| {
        hsm.derive_key(session, &mechanism, alice, &readable(None))
            .unwrap_err()
    };
    assert!(matches!(
        refused(ecdh(&off, ck::CKD_NULL, &[])),
        Error::Crypto(_)
    ));
    assert!(matches!(
        refused(ecdh(&bob_point, ck::CKD_NULL, b"x")),
        Error::MechanismParamInvalid(_)
    ));
    let hidden = hsm
        .derive_key(
            session,
            &ecdh(&bob_point, ck::CKD_NULL, &[]),
            alice,
            &vec![],
        )
        .unwrap();
    assert!(matches!(
        value(&hsm, session, hidden),
        Err(Error::AttributeSensitive(_))
    ));
}

#[test]
fn a_base_key_without_cka_derive_or_of_the_wrong_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "refusals");
    let session = user_session(&hsm, slot);
    let mut template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_GENERIC_SECRET)),
        (ck::CKA_VALUE, vec![1; 16]),
    ];
    let no_derive = hsm.create_object(session, &template).unwrap();
    let mechanism = data(ck::CKM_CONCATENATE_BASE_AND_DATA, b"more");
    assert!(matches!(
        hsm.derive_key(session, &mechanism, no_derive, &readable(None)),
        Err(Error::KeyFunctionNotPermitted(_))
    ));
    template.push(bool_attr(ck::CKA_DERIVE, true));
    let generic = hsm.create_object(session, &template).unwrap();
    let cbc = Mechanism::with_pointer_params(
        ck::CKM_AES_CBC_ENCRYPT_DATA,
        PointerParams::AesCbcData(CkAesCbcDataParams {
            iv: [0; 16],
            data: SecretBytes::from_slice(&[1; 32]),
        }),
    );
    assert!(matches!(
        hsm.derive_key(session, &cbc, generic, &readable(None)),
        Err(Error::KeyTypeInconsistent)
    ));
    // A template naming the value, or another class.
    let mut with_value = readable(None);
    with_value.push((ck::CKA_VALUE, vec![0; 4]));
    assert!(matches!(
        hsm.derive_key(session, &mechanism, generic, &with_value),
        Err(Error::TemplateInconsistent(_))
    ));
    let data_object = vec![(ck::CKA_CLASS, ulong_bytes(ck::CKO_DATA))];
    assert!(
        hsm.derive_key(session, &mechanism, generic, &data_object)
            .is_err()
    );
    assert!(matches!(
        hsm.derive_key(session, &mechanism, 9999, &readable(None)),
        Err(Error::KeyHandleInvalid(9999))
    ));
}

#[test]
fn aes_encryption_of_data_derives_the_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "aes data");
    let session = user_session(&hsm, slot);
    // FIPS-197 appendix C.1: AES-128 of 00112233...eeff under 000102...0f.
    let key = hsm
        .create_object(
            session,
            &vec![
                (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
                (
                    ck::CKA_VALUE,
                    hex::decode("000102030405060708090a0b0c0d0e0f").unwrap(),
                ),
                bool_attr(ck::CKA_DERIVE, true),
            ],
        )
        .unwrap();
    let plain = hex::decode("00112233445566778899aabbccddeeff").unwrap();
    let expected = "69c4e0d86a7b0430d8cdb78070b4c55a";
    let mut aes = readable(None);
    aes.push((ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)));
    let ecb = data(ck::CKM_AES_ECB_ENCRYPT_DATA, &plain);
    let derived = hsm.derive_key(session, &ecb, key, &aes).unwrap();
    assert_eq!(
        hex::encode(value(&hsm, session, derived).unwrap()),
        expected
    );
    // CBC with a zero IV over one block is the same; the IV is used.
    let cbc = |iv: [u8; 16], data: &[u8]| {
        Mechanism::with_pointer_params(
            ck::CKM_AES_CBC_ENCRYPT_DATA,
            PointerParams::AesCbcData(CkAesCbcDataParams {
                iv,
                data: SecretBytes::from_slice(data),
            }),
        )
    };
    let derived = hsm
        .derive_key(session, &cbc([0; 16], &plain), key, &aes)
        .unwrap();
    assert_eq!(
        hex::encode(value(&hsm, session, derived).unwrap()),
        expected
    );
    let derived = hsm
        .derive_key(session, &cbc([1; 16], &plain), key, &aes)
        .unwrap();
    assert_ne!(
        hex::encode(value(&hsm, session, derived).unwrap()),
        expected
    );
    // Data that is not whole blocks, or too short for the key asked for.
    let mut aes256 = aes.clone();
    aes256.push((ck::CKA_VALUE_LEN, ulong_bytes(32)));
    for (mechanism, template) in [
        (data(ck::CKM_AES_ECB_ENCRYPT_DATA, &[0; 31]), &aes),
        (data(ck::CKM_AES_ECB_ENCRYPT_DATA, &plain), &aes256),
        (cbc([0; 16], &[0; 17]), &aes),
    ] {
        assert!(matches!(
            hsm.derive_key(session, &mechanism, key, template),
            Err(Error::MechanismParamInvalid(_))
        ));
    }
}

#[test]
fn simple_derivations_compute_what_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "simple");
    let session = user_session(&hsm, slot);
    let base = secret_key(&hsm, session, &[0x12, 0x34, 0x56], OPEN);
    let other = secret_key(&hsm, session, &[0x78, 0x90, 0x01], OPEN);
    let derive = |mechanism: Mechanism, key, len| {
        let derived = hsm
            .derive_key(session, &mechanism, key, &readable(len))
            .unwrap();
        value(&hsm, session, derived).unwrap()
    };
    let handle = Mechanism::with_parameter(
        ck::CKM_CONCATENATE_BASE_AND_KEY,
        other.to_ne_bytes().to_vec(),
    );
    assert_eq!(
        derive(handle, base, None),
        [0x12, 0x34, 0x56, 0x78, 0x90, 0x01]
    );
    assert_eq!(
        derive(data(ck::CKM_CONCATENATE_BASE_AND_DATA, b"\xab"), base, None),
        [0x12, 0x34, 0x56, 0xab]
    );
    assert_eq!(
        derive(
            data(ck::CKM_CONCATENATE_DATA_AND_BASE, b"\xab"),
            base,
            Some(2)
        ),
        [0xab, 0x12]
    );
    assert_eq!(
        derive(data(ck::CKM_XOR_BASE_AND_DATA, &[0xff, 0xff]), base, None),
        [0xed, 0xcb]
    );
    // PKCS#11 3.0 §2.43.7's example.
    let spec = secret_key(&hsm, session, &[0x32, 0x9F, 0x84, 0xA9], OPEN);
    let extract =
        Mechanism::with_parameter(ck::CKM_EXTRACT_KEY_FROM_KEY, 21u64.to_ne_bytes().to_vec());
    assert_eq!(derive(extract.clone(), spec, Some(2)), [0x95, 0x26]);
    assert!(matches!(
        hsm.derive_key(session, &extract, spec, &readable(None)),
        Err(Error::TemplateIncomplete(ck::CKA_VALUE_LEN))
    ));
    assert!(matches!(
        hsm.derive_key(
            session,
            &data(ck::CKM_XOR_BASE_AND_DATA, &[0; 2]),
            base,
            &readable(Some(3))
        ),
        Err(Error::KeySizeRange(_))
    ));
}

#[test]
fn sensitive_bits_stay_sensitive_through_simple_derivations() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "protected");
    let session = user_session(&hsm, slot);
    // Sensitive and unextractable by default.
    let secret = secret_key(&hsm, session, &[7; 32], &[]);
    let open = secret_key(&hsm, session, &[1; 4], OPEN);
    let copies = [
        (data(ck::CKM_CONCATENATE_BASE_AND_DATA, b""), secret),
        (data(ck::CKM_XOR_BASE_AND_DATA, &[0; 32]), secret),
        (
            Mechanism::with_parameter(
                ck::CKM_CONCATENATE_BASE_AND_KEY,
                secret.to_ne_bytes().to_vec(),
            ),
            open,
        ),
    ];
    for (mechanism, base) in copies {
        let derived = hsm
            .derive_key(session, &mechanism, base, &readable(None))
            .unwrap();
        assert!(matches!(
            value(&hsm, session, derived),
            Err(Error::AttributeSensitive(_))
        ));
        let attrs = hsm
            .get_attributes(session, derived, &[ck::CKA_SENSITIVE, ck::CKA_EXTRACTABLE])
            .unwrap();
        assert_eq!(attrs[0].as_ref().unwrap(), &[1]);
        assert_eq!(attrs[1].as_ref().unwrap(), &[0]);
    }
    // Short slices of a protected key could be brute-forced through what they sign.
    let extract =
        Mechanism::with_parameter(ck::CKM_EXTRACT_KEY_FROM_KEY, 8u64.to_ne_bytes().to_vec());
    for (mechanism, len) in [
        (extract.clone(), 1),
        (data(ck::CKM_XOR_BASE_AND_DATA, &[0; 32]), 8),
    ] {
        assert!(matches!(
            hsm.derive_key(session, &mechanism, secret, &readable(Some(len))),
            Err(Error::KeySizeRange(_))
        ));
    }
    hsm.derive_key(session, &extract, secret, &readable(Some(16)))
        .unwrap();
}

#[test]
fn kbkdf_makes_additional_keys_from_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "kbkdf");
    let session = user_session(&hsm, slot);
    let base = hsm
        .create_object(
            session,
            &vec![
                (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
                (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
                (ck::CKA_VALUE, vec![9; 32]),
                bool_attr(ck::CKA_DERIVE, true),
            ],
        )
        .unwrap();
    let counter = CounterFormat {
        little_endian: false,
        width_bits: 16,
    };
    let kdf = |data: Vec<KbkdfData>, additional_keys: Vec<Template>| {
        Mechanism::with_pointer_params(
            ck::CKM_SP800_108_COUNTER_KDF,
            PointerParams::Kbkdf(CkKbkdfParams {
                prf: ck::CKM_SHA256_HMAC,
                data,
                iv: Vec::new(),
                additional_keys,
            }),
        )
    };
    let fields = || {
        vec![
            KbkdfData::IterationVariable(Some(counter)),
            KbkdfData::ByteArray(b"label".to_vec()),
        ]
    };
    let whole = hsm
        .derive_keys(session, &kdf(fields(), vec![]), base, &readable(Some(48)))
        .unwrap();
    assert_eq!(whole.len(), 1);
    let keys = hsm
        .derive_keys(
            session,
            &kdf(fields(), vec![readable(Some(32))]),
            base,
            &readable(Some(16)),
        )
        .unwrap();
    assert_eq!(keys.len(), 2);
    let stream = value(&hsm, session, whole[0]).unwrap();
    assert_eq!(value(&hsm, session, keys[0]).unwrap(), stream[..16]);
    assert_eq!(value(&hsm, session, keys[1]).unwrap(), stream[16..]);
    // The counter is missing, or given twice.
    for data in [
        vec![KbkdfData::ByteArray(b"label".to_vec())],
        [fields(), fields()].concat(),
    ] {
        assert!(matches!(
            hsm.derive_keys(session, &kdf(data, vec![]), base, &readable(Some(16))),
            Err(Error::MechanismParamInvalid(_))
        ));
    }
}
