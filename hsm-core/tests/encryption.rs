//! Encryption and decryption through sessions: AES modes with the two-call convention, RSA
//! PKCS#1 v1.5 / OAEP / raw, key-usage rules and how errors end an operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{CkGcmParams, CkOaepParams, Mechanism};
use hsm_core::session::Output;
use hsm_core::{Error, Hsm};

/// SP 800-38A F.2.1: AES-128-CBC.
const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const CIPHER: &str = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn data(output: Output) -> Vec<u8> {
    match output {
        Output::Data(data) => data.expose().to_vec(),
        Output::Needed(n) => panic!("only a length ({n}) came back"),
    }
}

fn needed(output: Output) -> usize {
    match output {
        Output::Needed(n) => n,
        Output::Data(_) => panic!("data came back where only a length was expected"),
    }
}

const ROOM: Option<usize> = Some(usize::MAX);

fn aes_key(hsm: &Hsm, session: u64, value: &[u8], extra: Template) -> u64 {
    let mut template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
        (ck::CKA_VALUE, value.to_vec()),
    ];
    template.extend(extra);
    hsm.create_object(session, &template).unwrap()
}

fn cbc() -> Mechanism {
    Mechanism::with_parameter(ck::CKM_AES_CBC, unhex(IV))
}

#[test]
fn aes_cbc_with_the_two_call_convention() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "enc");
    let session = user_session(&hsm, slot);
    let key = aes_key(&hsm, session, &unhex(KEY), vec![]);

    hsm.encrypt_init(session, &cbc(), key).unwrap();
    assert!(matches!(
        hsm.encrypt_init(session, &cbc(), key),
        Err(Error::OperationActive)
    ));
    // A size query and a short buffer leave the operation as it was.
    assert_eq!(
        needed(hsm.encrypt(session, &unhex(PLAIN), None).unwrap()),
        64
    );
    assert_eq!(
        needed(hsm.encrypt(session, &unhex(PLAIN), Some(10)).unwrap()),
        64
    );
    assert_eq!(
        data(hsm.encrypt(session, &unhex(PLAIN), Some(64)).unwrap()),
        unhex(CIPHER)
    );
    assert!(matches!(
        hsm.encrypt(session, b"", ROOM),
        Err(Error::OperationNotInitialized)
    ));

    // Multi-part decryption, in uneven parts, with a size query before each. The query
    // answers a bound (never 0 for input); a short buffer learns the exact length.
    hsm.decrypt_init(session, &cbc(), key).unwrap();
    let ct = unhex(CIPHER);
    let mut plain = Vec::new();
    for (part, exact) in [(&ct[..7], 0), (&ct[7..40], 32), (&ct[40..], 32)] {
        let bound = needed(hsm.decrypt_update(session, part, None).unwrap());
        assert!(bound >= exact && bound > 0);
        if exact > 0 {
            let short = hsm.decrypt_update(session, part, Some(exact - 1)).unwrap();
            assert_eq!(needed(short), exact);
        }
        let out = data(hsm.decrypt_update(session, part, Some(exact)).unwrap());
        assert_eq!(out.len(), exact);
        plain.extend(out);
    }
    // Nothing is left, but the size query asks for a byte: see crypt.rs.
    assert_eq!(needed(hsm.decrypt_final(session, None).unwrap()), 1);
    plain.extend(data(hsm.decrypt_final(session, ROOM).unwrap()));
    assert_eq!(plain, unhex(PLAIN));
    // A single-part call after an update is refused and ends the operation.
    hsm.encrypt_init(session, &cbc(), key).unwrap();
    data(hsm.encrypt_update(session, &[0; 16], ROOM).unwrap());
    assert!(matches!(
        hsm.encrypt(session, &[0; 16], ROOM),
        Err(Error::OperationActive)
    ));
    assert!(matches!(
        hsm.encrypt_final(session, ROOM),
        Err(Error::OperationNotInitialized)
    ));
    // A partial block is an error at the end, and the error ends the operation.
    hsm.encrypt_init(session, &cbc(), key).unwrap();
    let err = hsm.encrypt(session, &[0; 17], ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_DATA_LEN_RANGE);
    assert!(matches!(
        hsm.encrypt(session, &[0; 16], ROOM),
        Err(Error::OperationNotInitialized)
    ));
    hsm.decrypt_init(session, &cbc(), key).unwrap();
    let err = hsm.decrypt(session, &[0; 17], ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_ENCRYPTED_DATA_LEN_RANGE);
}

#[test]
fn aes_cbc_pad_ctr_and_gcm() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "enc");
    let session = user_session(&hsm, slot);
    let key = aes_key(&hsm, session, &[0x42; 32], vec![]);
    let message = b"two-call conventions are a PKCS#11 rite of passage";

    // CBC_PAD: the last block waits for DecryptFinal; its size query bounds the plaintext.
    let pad = Mechanism::with_parameter(ck::CKM_AES_CBC_PAD, vec![9; 16]);
    hsm.encrypt_init(session, &pad, key).unwrap();
    assert_eq!(needed(hsm.encrypt(session, message, None).unwrap()), 64);
    let ct = data(hsm.encrypt(session, message, ROOM).unwrap());
    assert_eq!(ct.len(), 64);
    hsm.decrypt_init(session, &pad, key).unwrap();
    assert_eq!(
        data(hsm.decrypt_update(session, &ct[..48], ROOM).unwrap()).len(),
        32
    );
    assert_eq!(
        data(hsm.decrypt_update(session, &ct[48..], ROOM).unwrap()).len(),
        16
    );
    assert_eq!(needed(hsm.decrypt_final(session, None).unwrap()), 15);
    // The real output is the last 2 bytes: a 1-byte buffer is too small, 2 bytes are enough.
    assert_eq!(message.len(), 50);
    assert_eq!(needed(hsm.decrypt_final(session, Some(1)).unwrap()), 2);
    assert_eq!(
        data(hsm.decrypt_final(session, Some(2)).unwrap()),
        &message[48..]
    );
    // Bad padding: CKR_ENCRYPTED_DATA_INVALID, and the operation is over.
    let mut bad = ct.clone();
    bad[50] ^= 1;
    hsm.decrypt_init(session, &pad, key).unwrap();
    let err = hsm.decrypt(session, &bad, ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_ENCRYPTED_DATA_INVALID);
    assert!(matches!(
        hsm.decrypt_final(session, ROOM),
        Err(Error::OperationNotInitialized)
    ));

    // CTR: a stream; the counter block is CK_AES_CTR_PARAMS.
    let mut params = 32u64.to_ne_bytes().to_vec();
    params.extend_from_slice(&[0xf0; 16]);
    let ctr = Mechanism::with_parameter(ck::CKM_AES_CTR, params);
    hsm.encrypt_init(session, &ctr, key).unwrap();
    let mut stream = Vec::new();
    for part in message.chunks(7) {
        assert_eq!(
            needed(hsm.encrypt_update(session, part, None).unwrap()),
            part.len()
        );
        stream.extend(data(hsm.encrypt_update(session, part, ROOM).unwrap()));
    }
    stream.extend(data(hsm.encrypt_final(session, ROOM).unwrap()));
    hsm.decrypt_init(session, &ctr, key).unwrap();
    assert_eq!(data(hsm.decrypt(session, &stream, ROOM).unwrap()), message);

    // GCM, with a parameter struct that held pointers in C.
    let gcm = |aad: &[u8]| {
        Mechanism::gcm(CkGcmParams {
            iv: vec![3; 12],
            iv_bits: 96,
            aad: aad.to_vec(),
            tag_bits: 128,
        })
    };
    hsm.encrypt_init(session, &gcm(b"header"), key).unwrap();
    assert_eq!(
        needed(hsm.encrypt(session, message, None).unwrap()),
        message.len() + 16
    );
    let sealed = data(hsm.encrypt(session, message, ROOM).unwrap());
    hsm.decrypt_init(session, &gcm(b"header"), key).unwrap();
    for part in sealed.chunks(10) {
        assert_eq!(data(hsm.decrypt_update(session, part, ROOM).unwrap()), b"");
    }
    assert_eq!(data(hsm.decrypt_final(session, ROOM).unwrap()), message);
    // Encrypting in parts streams the ciphertext, and the tag comes last.
    hsm.encrypt_init(session, &gcm(b"header"), key).unwrap();
    let mut parts = data(hsm.encrypt_update(session, &message[..20], ROOM).unwrap());
    assert_eq!(parts.len(), 20);
    parts.extend(data(
        hsm.encrypt_update(session, &message[20..], ROOM).unwrap(),
    ));
    assert_eq!(needed(hsm.encrypt_final(session, None).unwrap()), 16);
    parts.extend(data(hsm.encrypt_final(session, ROOM).unwrap()));
    assert_eq!(parts, sealed);
    // Decryption waits for the tag, yet a size query still asks for room: clients that
    // size their buffer by it (PyKCS11) would otherwise never hand the data over.
    hsm.decrypt_init(session, &gcm(b"header"), key).unwrap();
    assert_eq!(
        needed(hsm.decrypt_update(session, &sealed, None).unwrap()),
        sealed.len()
    );
    assert_eq!(
        data(hsm.decrypt_update(session, &sealed, Some(0)).unwrap()),
        b""
    );
    assert_eq!(data(hsm.decrypt_final(session, ROOM).unwrap()), message);
    hsm.decrypt_init(session, &gcm(b"other header"), key)
        .unwrap();
    let err = hsm.decrypt(session, &sealed, ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_ENCRYPTED_DATA_INVALID);
    // GCM parameters are required.
    let err = hsm
        .encrypt_init(session, &Mechanism::new(ck::CKM_AES_GCM), key)
        .unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_MECHANISM_PARAM_INVALID);
    // ECB takes the key alone; cancelling ends an operation.
    hsm.encrypt_init(session, &Mechanism::new(ck::CKM_AES_ECB), key)
        .unwrap();
    hsm.cancel_operations(session, ck::CKF_ENCRYPT).unwrap();
    hsm.encrypt_init(session, &Mechanism::new(ck::CKM_AES_ECB), key)
        .unwrap();
    assert_eq!(
        data(hsm.encrypt(session, &[0; 32], ROOM).unwrap()).len(),
        32
    );
}

fn oaep(label: &[u8]) -> Mechanism {
    Mechanism::oaep(CkOaepParams {
        hash_alg: ck::CKM_SHA256,
        mgf: ck::CKG_MGF1_SHA256,
        source: ck::CKZ_DATA_SPECIFIED,
        source_data: label.to_vec(),
    })
}

#[test]
fn rsa_oaep_pkcs1_and_raw_through_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "enc");
    let session = user_session(&hsm, slot);
    let (public, private) = generate_pair(&hsm, session, "rsa", true).unwrap();
    let secret = b"a wrapped session key";

    for mechanism in [
        oaep(b"my label"),
        oaep(b""),
        Mechanism::new(ck::CKM_RSA_PKCS),
    ] {
        hsm.encrypt_init(session, &mechanism, public).unwrap();
        assert_eq!(needed(hsm.encrypt(session, secret, None).unwrap()), 256);
        let ct = data(hsm.encrypt(session, secret, ROOM).unwrap());
        assert_eq!(ct.len(), 256);
        hsm.decrypt_init(session, &mechanism, private).unwrap();
        // The size query answers the modulus length; a buffer of the exact plaintext length
        // is enough, one byte less is not.
        assert_eq!(needed(hsm.decrypt(session, &ct, None).unwrap()), 256);
        assert_eq!(
            needed(hsm.decrypt(session, &ct, Some(secret.len() - 1)).unwrap()),
            secret.len()
        );
        assert_eq!(
            data(hsm.decrypt(session, &ct, Some(secret.len())).unwrap()),
            secret
        );
        // Multi-part input is buffered.
        hsm.decrypt_init(session, &mechanism, private).unwrap();
        data(hsm.decrypt_update(session, &ct[..100], ROOM).unwrap());
        data(hsm.decrypt_update(session, &ct[100..], ROOM).unwrap());
        assert_eq!(data(hsm.decrypt_final(session, ROOM).unwrap()), secret);
    }
    // OAEP with the wrong label, and a ciphertext of the wrong length.
    hsm.encrypt_init(session, &oaep(b"label A"), public)
        .unwrap();
    let ct = data(hsm.encrypt(session, secret, ROOM).unwrap());
    hsm.decrypt_init(session, &oaep(b"label B"), private)
        .unwrap();
    let err = hsm.decrypt(session, &ct, ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_ENCRYPTED_DATA_INVALID);
    assert!(matches!(
        hsm.decrypt(session, &ct, ROOM),
        Err(Error::OperationNotInitialized)
    ));
    hsm.decrypt_init(session, &oaep(b"label A"), private)
        .unwrap();
    let err = hsm.decrypt(session, &ct[..255], ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_ENCRYPTED_DATA_LEN_RANGE);
    // Too much plaintext for PKCS#1 v1.5.
    hsm.encrypt_init(session, &Mechanism::new(ck::CKM_RSA_PKCS), public)
        .unwrap();
    let err = hsm.encrypt(session, &[1; 246], ROOM).unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_DATA_LEN_RANGE);
    // Raw RSA returns the whole k-byte block.
    let raw = Mechanism::new(ck::CKM_RSA_X_509);
    hsm.encrypt_init(session, &raw, public).unwrap();
    let ct = data(hsm.encrypt(session, b"raw", ROOM).unwrap());
    hsm.decrypt_init(session, &raw, private).unwrap();
    let block = data(hsm.decrypt(session, &ct, ROOM).unwrap());
    assert_eq!(block.len(), 256);
    assert!(block.ends_with(b"raw") && block[..253].iter().all(|b| *b == 0));
}

#[test]
fn key_usage_and_key_type_rules() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "enc");
    let session = user_session(&hsm, slot);
    let (public, private) = generate_pair(&hsm, session, "rsa", true).unwrap();
    let (ec_public, ec_private) = generate_pair(&hsm, session, "ec", false).unwrap();
    let aes = aes_key(&hsm, session, &[1; 16], vec![]);
    let pkcs1 = Mechanism::new(ck::CKM_RSA_PKCS);
    let rv = |e: Error| e.ck_rv();

    // Public keys encrypt, private keys decrypt; not the other way round.
    assert_eq!(
        rv(hsm.encrypt_init(session, &pkcs1, private).unwrap_err()),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    assert_eq!(
        rv(hsm.decrypt_init(session, &pkcs1, public).unwrap_err()),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    // The wrong family of key.
    for (key, mechanism) in [
        (ec_public, pkcs1.clone()),
        (ec_private, pkcs1.clone()),
        (aes, pkcs1.clone()),
        (public, cbc()),
    ] {
        assert_eq!(
            rv(hsm.encrypt_init(session, &mechanism, key).unwrap_err()),
            ck::CKR_KEY_TYPE_INCONSISTENT
        );
    }
    // CKA_ENCRYPT / CKA_DECRYPT false.
    let locked = aes_key(
        &hsm,
        session,
        &[2; 16],
        vec![
            bool_attr(ck::CKA_ENCRYPT, false),
            bool_attr(ck::CKA_DECRYPT, false),
        ],
    );
    assert_eq!(
        rv(hsm.encrypt_init(session, &cbc(), locked).unwrap_err()),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    assert_eq!(
        rv(hsm.decrypt_init(session, &cbc(), locked).unwrap_err()),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    hsm.set_attributes(session, private, &vec![bool_attr(ck::CKA_DECRYPT, false)])
        .unwrap();
    assert_eq!(
        rv(hsm.decrypt_init(session, &pkcs1, private).unwrap_err()),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    // Unknown mechanisms and bad parameters.
    assert_eq!(
        rv(hsm
            .encrypt_init(session, &Mechanism::new(ck::CKM_DES3_ECB), aes)
            .unwrap_err()),
        ck::CKR_MECHANISM_INVALID
    );
    assert_eq!(
        rv(hsm
            .encrypt_init(
                session,
                &Mechanism::with_parameter(ck::CKM_AES_CBC, vec![0; 8]),
                aes
            )
            .unwrap_err()),
        ck::CKR_MECHANISM_PARAM_INVALID
    );
    assert!(matches!(
        hsm.encrypt_update(session, b"x", ROOM),
        Err(Error::OperationNotInitialized)
    ));
}

#[test]
fn oaep_wraps_and_unwraps_secret_keys() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = test_hsm(dir.path());
    let slot = init_pin_only_token(&hsm, "enc");
    let session = user_session(&hsm, slot);
    let (public, private) = generate_pair(&hsm, session, "rsa", true).unwrap();
    let original = aes_key(
        &hsm,
        session,
        &[0x5a; 32],
        vec![bool_attr(ck::CKA_EXTRACTABLE, true)],
    );
    let wrapped = hsm
        .wrap_key(session, &oaep(b"backup"), public, original)
        .unwrap();
    assert_eq!(wrapped.len(), 256);
    let template: Template = vec![
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY)),
        (ck::CKA_KEY_TYPE, ulong_bytes(ck::CKK_AES)),
    ];
    let copy = hsm
        .unwrap_key(session, &oaep(b"backup"), private, &wrapped, &template)
        .unwrap();
    let ecb = Mechanism::new(ck::CKM_AES_ECB);
    let mut outputs = Vec::new();
    for key in [original, copy] {
        hsm.encrypt_init(session, &ecb, key).unwrap();
        outputs.push(data(hsm.encrypt(session, &[3; 16], ROOM).unwrap()));
    }
    assert_eq!(outputs[0], outputs[1]);
    // The wrong label, or the wrong key's half, is refused.
    let err = hsm
        .unwrap_key(session, &oaep(b"other"), private, &wrapped, &template)
        .unwrap_err();
    assert_eq!(err.ck_rv(), ck::CKR_WRAPPED_KEY_INVALID);
    assert_eq!(
        hsm.wrap_key(session, &oaep(b""), private, original)
            .unwrap_err()
            .ck_rv(),
        ck::CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    // PKCS#1 v1.5 key transport works too; raw RSA does not wrap.
    let wrapped = hsm
        .wrap_key(session, &Mechanism::new(ck::CKM_RSA_PKCS), public, original)
        .unwrap();
    let copy = hsm
        .unwrap_key(
            session,
            &Mechanism::new(ck::CKM_RSA_PKCS),
            private,
            &wrapped,
            &template,
        )
        .unwrap();
    hsm.encrypt_init(session, &ecb, copy).unwrap();
    assert_eq!(
        data(hsm.encrypt(session, &[3; 16], ROOM).unwrap()),
        outputs[0]
    );
    assert_eq!(
        hsm.wrap_key(
            session,
            &Mechanism::new(ck::CKM_RSA_X_509),
            public,
            original
        )
        .unwrap_err()
        .ck_rv(),
        ck::CKR_MECHANISM_INVALID
    );
}
