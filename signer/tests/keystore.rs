//! The key seam end to end: the legacy test KSK (RSA-2048, label "KSK1") on an embedded
//! token, behind our PKCS#11 module and behind SoftHSM 2, signed on both of IANA's paths.
//! PKCS#1 v1.5 is deterministic, so every store and path must give the very signature the
//! `rsa` crate computes in software from the PEM file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::Mechanism;
use sha2::Digest;
use signer::admin::activation::KeyAccess;
use signer::admin::key::{self, Algorithm};
use signer::keystore::{
    Curve, EmbeddedStore, KeyKind, KeyRef, KeyStore, KeyStoreError, Pkcs11Store, PublicKey,
    SignMechanism, SigningPath, mechanism, signing_input,
};
use support::fixtures::{legacy_key, legacy_key_parts};
use support::modules::{
    EmbeddedToken, Module, Modules, TOKEN, USER_PIN, child_modules, create_rsa_key_pair,
    embedded_token, init_token, pin_file,
};
use zeroize::Zeroizing;

/// The label IANA's legacy tools gave the first test KSK.
const KSK: &str = "KSK1";
/// SHA-256 DigestInfo prefix (RFC 8017 §9.2), as vectors.md §1 gives it.
const SHA256_DIGEST_INFO: &str = "3031300d060960864801650304020105000420";
/// RFC 5702 §6.1's signed data (vectors.md §1): RRSIG RDATA without signature ‖ the A RR.
const SIGNED_DATA: &str = "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b";

fn data() -> Vec<u8> {
    hex::decode(SIGNED_DATA).unwrap()
}

/// The EMSA-PKCS1-v1_5 block for SHA-256, built here independently of the store's helper.
fn emsa_sha256(data: &[u8], modulus_len: usize) -> Vec<u8> {
    let mut t = hex::decode(SHA256_DIGEST_INFO).unwrap();
    t.extend_from_slice(&sha2::Sha256::digest(data));
    let mut block = vec![0x00, 0x01];
    block.resize(modulus_len - t.len() - 1, 0xff);
    block.push(0x00);
    block.extend_from_slice(&t);
    assert_eq!(block.len(), modulus_len);
    block
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, in software with the `rsa` crate.
fn software_signature(data: &[u8]) -> Vec<u8> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let pem = std::fs::read_to_string(legacy_key(1)).unwrap();
    let key = rsa::PrivateKey::from_pkcs1_pem(&pem).unwrap();
    rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(data)
        .to_vec()
}

/// Signs the RFC 5702 input with `KSK1` on both paths and checks what every store must agree
/// on; returns the signature.
fn check_ksk(store: &dyn KeyStore) -> Vec<u8> {
    let parts = legacy_key_parts(1);
    let key = store.key(KSK).unwrap();
    assert_eq!(key.label(), KSK);
    assert_eq!(key.kind(), KeyKind::Rsa { modulus_len: 256 });
    assert_eq!(
        store.public_key(&key).unwrap(),
        PublicKey::Rsa {
            modulus: parts.n.clone(),
            exponent: parts.e.clone()
        },
        "{}",
        store.describe()
    );
    let data = data();
    let block = emsa_sha256(&data, 256);
    assert_eq!(
        signing_input(&key, 8, SigningPath::HostPadding, &data).unwrap(),
        block
    );
    assert_eq!(
        signing_input(&key, 8, SigningPath::TokenHashing, &data).unwrap(),
        data
    );
    assert_eq!(
        mechanism(&key, 8, SigningPath::HostPadding).unwrap(),
        SignMechanism::RsaX509
    );
    assert_eq!(
        mechanism(&key, 8, SigningPath::TokenHashing).unwrap(),
        SignMechanism::Sha256RsaPkcs
    );
    let host = store
        .sign(&key, 8, SigningPath::HostPadding, &block)
        .unwrap();
    let token = store
        .sign(&key, 8, SigningPath::TokenHashing, &data)
        .unwrap();
    assert_eq!(
        host,
        token,
        "{}: CKM_RSA_X_509 and CKM_SHA256_RSA_PKCS disagree",
        store.describe()
    );
    assert_eq!(
        host,
        software_signature(&data),
        "{}: not the software signature",
        store.describe()
    );

    // The store refuses what would sign the wrong bytes or make a useless signature.
    let raw = store.sign(&key, 8, SigningPath::HostPadding, &data);
    assert!(
        matches!(raw, Err(KeyStoreError::BadInput { .. })),
        "raw data on the host-padding path: {raw:?}"
    );
    let mut sha512_block = block.clone();
    sha512_block[256 - 32 - 19 + 14] = 0x03;
    let wrong_hash = store.sign(&key, 8, SigningPath::HostPadding, &sha512_block);
    assert!(
        matches!(wrong_hash, Err(KeyStoreError::BadInput { .. })),
        "a block with another DigestInfo: {wrong_hash:?}"
    );
    let ecdsa = store
        .sign(&key, 13, SigningPath::TokenHashing, &data)
        .unwrap_err()
        .to_string();
    assert!(
        ecdsa.contains("KSK1") && ecdsa.contains("RSA-2048") && ecdsa.contains("13"),
        "{ecdsa}"
    );

    let unknown = store.key("KSK9").unwrap_err().to_string();
    assert!(
        unknown.contains("\"KSK9\"") && unknown.contains("\"KSK1\"") && unknown.contains(TOKEN),
        "the error names the label, the token and the labels there: {unknown}"
    );
    assert!(store.labels().unwrap().contains(&KSK.to_string()));
    host
}

/// Signs with the P-256 key "EC1" on both paths and verifies; returns the key and its point.
/// Without `must_offer_ecdsa_sha256` (SoftHSM 2.6 has CKM_ECDSA only) the token-hashing path
/// may instead fail, with an error that names the missing mechanism.
fn check_ecdsa(store: &dyn KeyStore, must_offer_ecdsa_sha256: bool) -> (KeyRef, Vec<u8>) {
    let data = data();
    let ec = store.key("EC1").unwrap();
    assert_eq!(ec.kind(), KeyKind::Ec(Curve::P256));
    let public = store.public_key(&ec).unwrap();
    let PublicKey::Ec { curve, point } = &public else {
        panic!("EC1's public key: {public:?}");
    };
    assert_eq!((*curve, point.len(), point[0]), (Curve::P256, 65, 0x04));
    assert_eq!(public.dnskey_public_key(), point[1..]);
    let digest = signing_input(&ec, 13, SigningPath::HostPadding, &data).unwrap();
    assert_eq!(digest, sha2::Sha256::digest(&data).to_vec());
    let verifier = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    for (path, input) in [
        (SigningPath::HostPadding, &digest),
        (SigningPath::TokenHashing, &data),
    ] {
        let signature = match store.sign(&ec, 13, path, input) {
            Ok(signature) => signature,
            Err(KeyStoreError::MechanismNotOffered {
                mechanism: SignMechanism::EcdsaSha256,
                ..
            }) if !must_offer_ecdsa_sha256 => {
                eprintln!("{}: no CKM_ECDSA_SHA256, as expected", store.describe());
                continue;
            }
            Err(e) => panic!("{path:?}: {e}"),
        };
        assert_eq!(signature.len(), 64, "{path:?}: r ‖ s, not DER");
        verifier.verify(&data, &signature).unwrap_or_else(|_| {
            panic!(
                "{}, {path:?}: the ECDSA signature does not verify",
                store.describe()
            )
        });
    }
    assert!(matches!(
        store.sign(&ec, 13, SigningPath::HostPadding, &data),
        Err(KeyStoreError::BadInput { .. })
    ));
    assert!(matches!(
        store.sign(&ec, 14, SigningPath::TokenHashing, &data),
        Err(KeyStoreError::AlgorithmMismatch { .. })
    ));
    (ec, point.clone())
}

fn bool_attr(ty: ck::CK_ATTRIBUTE_TYPE, value: bool) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ty, vec![u8::from(value)])
}

#[test]
fn embedded_token_signs_on_both_paths() {
    let EmbeddedToken { hsm, access, dir } = embedded_token();
    // As `strongroom key import` and `strongroom key generate` do it.
    key::import(&hsm, TOKEN, KSK, &legacy_key(1), None, &access).unwrap();
    key::generate(&hsm, TOKEN, "EC1", Algorithm::P256, None, &access).unwrap();
    key::generate(&hsm, TOKEN, "ED1", Algorithm::Ed25519, None, &access).unwrap();

    let store = EmbeddedStore::open(hsm.clone(), TOKEN, &access).unwrap();
    let description = store.describe();
    assert!(
        description.starts_with(&format!("embedded token {TOKEN:?} (serial ")),
        "{description}"
    );
    check_ksk(&store);

    // ECDSA P-256: randomised, so both paths are checked by verifying.
    let data = data();
    let (ec, point) = check_ecdsa(&store, true);
    // The private object has no CKA_EC_POINT: the point came from the public object, so
    // compare it with that object's attribute.
    let session = hsm.open_session(0, false).unwrap();
    hsm.find_init(
        session,
        &vec![
            (ck::CKA_LABEL, b"EC1".to_vec()),
            (ck::CKA_CLASS, ulong_bytes(ck::CKO_PUBLIC_KEY)),
        ],
    )
    .unwrap();
    let ec_public = hsm.find_next(session, 2).unwrap();
    assert_eq!(ec_public.len(), 1);
    hsm.find_final(session).unwrap();
    let stored = hsm
        .get_attributes(session, ec_public[0], &[ck::CKA_EC_POINT])
        .unwrap();
    assert_eq!(stored[0].as_ref().unwrap()[2..], point[..]);
    hsm.close_session(session).unwrap();

    // Ed25519 (RFC 8080 PureEdDSA): both paths are CKM_EDDSA on the data.
    let ed = store.key("ED1").unwrap();
    let PublicKey::Ed25519(ed_public) = store.public_key(&ed).unwrap() else {
        panic!("ED1 is not Ed25519");
    };
    let host = store
        .sign(&ed, 15, SigningPath::HostPadding, &data)
        .unwrap();
    let token = store
        .sign(&ed, 15, SigningPath::TokenHashing, &data)
        .unwrap();
    assert_eq!(host, token, "Ed25519 is deterministic");
    UnparsedPublicKey::new(&ED25519, &ed_public)
        .verify(&data, &host)
        .expect("the Ed25519 signature verifies");

    // Two private keys under one label: the ceremony could not tell which is meant.
    let session = hsm.open_session(0, true).unwrap();
    for _ in 0..2 {
        let public: Template = vec![
            bool_attr(ck::CKA_TOKEN, true),
            (ck::CKA_LABEL, b"DUP".to_vec()),
            (ck::CKA_EC_PARAMS, Curve::P256.der_oid().to_vec()),
        ];
        let private: Template = vec![
            bool_attr(ck::CKA_TOKEN, true),
            bool_attr(ck::CKA_PRIVATE, true),
            bool_attr(ck::CKA_SIGN, true),
            (ck::CKA_LABEL, b"DUP".to_vec()),
        ];
        hsm.generate_key_pair(
            session,
            &Mechanism::new(ck::CKM_EC_KEY_PAIR_GEN),
            &public,
            &private,
        )
        .unwrap();
    }
    hsm.close_session(session).unwrap();
    let duplicate = store.key("DUP").unwrap_err();
    assert!(
        matches!(duplicate, KeyStoreError::DuplicateLabel { count: 2, .. }),
        "{duplicate:?}"
    );
    assert!(duplicate.to_string().contains("\"DUP\""), "{duplicate}");
    let labels = store.labels().unwrap();
    for label in [KSK, "EC1", "ED1"] {
        assert_eq!(
            labels.iter().filter(|l| *l == label).count(),
            1,
            "{labels:?}"
        );
    }
    assert_eq!(labels.iter().filter(|l| *l == "DUP").count(), 2);

    // A KeyRef works only with the store that found it.
    let other = EmbeddedStore::open(hsm.clone(), TOKEN, &access).unwrap();
    let foreign = other.sign(&ec, 13, SigningPath::TokenHashing, &data);
    assert!(
        matches!(foreign, Err(KeyStoreError::ForeignKey { .. })),
        "{foreign:?}"
    );
    drop(other);
    drop(store);

    // With every session closed the user is logged out, so a wrong PIN is really tried.
    let wrong = KeyAccess {
        pin_file: Some(pin_file(dir.path(), "wrong.pin", "not-the-pin")),
        ..KeyAccess::default()
    };
    let error = EmbeddedStore::open(hsm.clone(), TOKEN, &wrong).unwrap_err();
    assert!(
        matches!(error, KeyStoreError::Login { .. }) && error.to_string().contains(TOKEN),
        "{error}"
    );
    let missing = EmbeddedStore::open(hsm, "no-such-token", &access)
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("\"no-such-token\"") && missing.contains(TOKEN),
        "{missing}"
    );
}

/// Our module and SoftHSM, each set up as PyKCS11 users do (C_InitToken, C_InitPIN, the key
/// imported with C_CreateObject) and then used through [`Pkcs11Store`]. They run in a child
/// process: C_Initialize is once per process, and the modules read their configuration from
/// the environment there.
#[test]
fn pkcs11_modules_sign_like_the_embedded_token() {
    let Some(modules) = Modules::find_or_skip("key store test") else {
        return;
    };
    modules.run_child("child_pkcs11_stores");
}

#[test]
#[ignore = "run in a child process by pkcs11_modules_sign_like_the_embedded_token"]
fn child_pkcs11_stores() {
    let Some(modules) = child_modules("pkcs11_modules_sign_like_the_embedded_token") else {
        return;
    };
    let expected = software_signature(&data());
    for (module, path) in modules {
        // SoftHSM 2.6 offers CKM_ECDSA but not CKM_ECDSA_SHA256.
        let must_offer_ecdsa_sha256 = module == Module::Strongroom;
        let signature = check_module(&path, must_offer_ecdsa_sha256);
        assert_eq!(signature, expected);
    }
}

/// Initialises a token on `module`, imports KSK1 and twice a key pair labelled "DUP" with
/// C_CreateObject (without CKA_ID, as IANA's keys are), and generates the P-256 key "EC1".
fn set_up_token(module: &Path) {
    use cryptoki::object::Attribute;

    let (context, session) = init_token(module);
    let parts = legacy_key_parts(1);
    for label in [KSK, "DUP", "DUP"] {
        create_rsa_key_pair(&session, label, &parts);
    }
    // An ECDSA key generated on the token: its point is read from the public object, in
    // whatever encoding the token returns it (SoftHSM: a DER OCTET STRING).
    session
        .generate_key_pair(
            &cryptoki::mechanism::Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::Label(b"EC1".to_vec()),
                Attribute::EcParams(Curve::P256.der_oid().to_vec()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Label(b"EC1".to_vec()),
            ],
        )
        .unwrap();
    session.close().unwrap();
    context.finalize().unwrap();
}

fn pin(pin: &str) -> Option<Zeroizing<String>> {
    Some(Zeroizing::new(pin.to_string()))
}

/// Everything [`Pkcs11Store`] must do on one module; returns KSK1's signature.
fn check_module(module: &Path, must_offer_ecdsa_sha256: bool) -> Vec<u8> {
    set_up_token(module);
    let store = Pkcs11Store::open(module, TOKEN, pin(USER_PIN)).unwrap();
    let description = store.describe();
    assert!(
        description.starts_with(&format!(
            "PKCS#11 module {}, token {TOKEN:?} (",
            module.display()
        )) && description.contains("serial "),
        "{description}"
    );
    eprintln!("store: {description}");
    let signature = check_ksk(&store);

    let duplicate = store.key("DUP").unwrap_err();
    assert!(
        matches!(duplicate, KeyStoreError::DuplicateLabel { count: 2, .. }),
        "{description}: {duplicate:?}"
    );
    let mut labels = store.labels().unwrap();
    labels.sort();
    assert_eq!(labels, ["DUP", "DUP", "EC1", KSK]);
    check_ecdsa(&store, must_offer_ecdsa_sha256);

    // A second store on the same module shares its initialisation and outlives the first.
    let second = Pkcs11Store::open(module, TOKEN, pin(USER_PIN)).unwrap();
    let key = store.key(KSK).unwrap();
    let foreign = second.sign(&key, 8, SigningPath::TokenHashing, &data());
    assert!(
        matches!(foreign, Err(KeyStoreError::ForeignKey { .. })),
        "{foreign:?}"
    );
    drop(store);
    let key = second.key(KSK).unwrap();
    assert_eq!(
        second
            .sign(&key, 8, SigningPath::TokenHashing, &data())
            .unwrap(),
        signature
    );
    drop(second);

    // Without a PIN there is no login, and the private key is not visible.
    let anonymous = Pkcs11Store::open(module, TOKEN, None).unwrap();
    let hidden = anonymous.key(KSK).unwrap_err().to_string();
    assert!(
        hidden.contains("\"KSK1\"") && hidden.contains("not logged in"),
        "{hidden}"
    );
    drop(anonymous);

    let wrong = Pkcs11Store::open(module, TOKEN, pin("not-the-pin")).unwrap_err();
    let message = wrong.to_string();
    eprintln!("wrong PIN: {message}\nno PIN: {hidden}");
    assert!(
        matches!(wrong, KeyStoreError::Login { .. })
            && message.contains(TOKEN)
            && message.contains("PinIncorrect")
            && message.contains("the PIN is wrong"),
        "{message}"
    );
    // An empty PIN is a real login attempt (as IANA does for PIN-pad HSMs), not "no PIN".
    let empty = Pkcs11Store::open(module, TOKEN, pin("")).unwrap_err();
    assert!(matches!(empty, KeyStoreError::Login { .. }), "{empty}");

    let missing = Pkcs11Store::open(module, "no-such-token", pin(USER_PIN))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("\"no-such-token\"") && missing.contains(&format!("\"{TOKEN}\"")),
        "{missing}"
    );
    signature
}
