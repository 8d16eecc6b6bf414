//! The key seam end to end: the legacy test KSK (RSA-2048, label "KSK1") on an embedded
//! token, behind our PKCS#11 module and behind SoftHSM 2, signed on both of IANA's paths.
//! PKCS#1 v1.5 is deterministic, so every store and path must give the very signature the
//! `rsa` crate computes in software from the PEM file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};
use cryptoki_sys as ck;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::crypto::{self, PrivateKeyMaterial, RsaPrivateParts};
use hsm_core::kdf::KdfParams;
use hsm_core::mechanism::Mechanism;
use hsm_core::token::NewToken;
use hsm_core::{Config, Hsm};
use sha2::Digest;
use signer::admin::activation::KeyAccess;
use signer::admin::key::{self, Algorithm};
use signer::keystore::{
    Curve, EmbeddedStore, KeyKind, KeyRef, KeyStore, KeyStoreError, Pkcs11Store, PublicKey,
    SignMechanism, SigningPath, mechanism, signing_input,
};
use zeroize::Zeroizing;

const TOKEN: &str = "ksk-token";
const USER_PIN: &str = "user-pin-1234";
const SO_PIN: &str = "so-pin-123456";
/// The label IANA's legacy tools gave the first test KSK.
const KSK: &str = "KSK1";
/// Set in the child process that drives the PKCS#11 modules (one module state per process).
const CHILD_ENV: &str = "KEYSTORE_TEST_CHILD";
const STRONGROOM_MODULE_ENV: &str = "KEYSTORE_TEST_STRONGROOM_MODULE";
const SOFTHSM_MODULE_ENV: &str = "KEYSTORE_TEST_SOFTHSM_MODULE";
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// SHA-256 DigestInfo prefix (RFC 8017 §9.2), as vectors.md §1 gives it.
const SHA256_DIGEST_INFO: &str = "3031300d060960864801650304020105000420";
/// RFC 5702 §6.1's signed data (vectors.md §1): RRSIG RDATA without signature ‖ the A RR.
const SIGNED_DATA: &str = "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b";

fn ksk_file() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/ksr/legacy/rsa2048-1.key"
    ))
    .to_path_buf()
}

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
    let pem = std::fs::read_to_string(ksk_file()).unwrap();
    let key = rsa::PrivateKey::from_pkcs1_pem(&pem).unwrap();
    rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(data)
        .to_vec()
}

fn ksk_parts() -> RsaPrivateParts {
    match crypto::import_private_key(&std::fs::read(ksk_file()).unwrap()).unwrap() {
        PrivateKeyMaterial::Rsa(parts) => parts,
        other => panic!("the legacy KSK is not RSA: {other:?}"),
    }
}

/// Signs the RFC 5702 input with `KSK1` on both paths and checks what every store must agree
/// on; returns the signature.
fn check_ksk(store: &dyn KeyStore) -> Vec<u8> {
    let parts = ksk_parts();
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

fn pin_file(dir: &Path, name: &str, pin: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn bool_attr(ty: ck::CK_ATTRIBUTE_TYPE, value: bool) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ty, vec![u8::from(value)])
}

#[test]
fn embedded_token_signs_on_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_token_dir(dir.path().join("tokens"));
    config.pin_kdf = KdfParams::TESTING;
    config.card_kdf = KdfParams::TESTING;
    let hsm = Arc::new(Hsm::new(config).unwrap());
    hsm.create_token(&NewToken {
        label: TOKEN,
        so_pin: SO_PIN.as_bytes(),
        user_pin: Some(USER_PIN.as_bytes()),
        slot_id: 0,
        pin_kdf: KdfParams::TESTING,
        quorum: None,
    })
    .unwrap();
    let access = KeyAccess {
        pin_file: Some(pin_file(dir.path(), "user.pin", USER_PIN)),
        ..KeyAccess::default()
    };
    // As `strongroom key import` and `strongroom key generate` do it.
    key::import(&hsm, TOKEN, KSK, &ksk_file(), None, &access).unwrap();
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

/// Where a module under test is, or `None` (skipped loudly, or a failure under
/// `STRONGROOM_REQUIRE_TOOLS=1`) when it is missing.
fn module_or_skip(path: Option<PathBuf>, what: &str, how: &str) -> Option<PathBuf> {
    if let Some(path) = path.filter(|p| p.is_file()) {
        return Some(path);
    }
    if std::env::var_os("STRONGROOM_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{what} is missing and STRONGROOM_REQUIRE_TOOLS=1: {how}");
    }
    eprintln!("\n*** SKIPPED: {what} is missing ({how}); its key store test did NOT run ***\n");
    None
}

/// The built `libstrongroom_pkcs11.so`: `STRONGROOM_TEST_MODULE`, else next to the test
/// binaries (cargo does not build it for `cargo test -p signer`).
fn strongroom_module() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRONGROOM_TEST_MODULE") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libstrongroom_pkcs11.so"),
        deps.join("../libstrongroom_pkcs11.so"),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

/// Our module and SoftHSM, each set up as PyKCS11 users do (C_InitToken, C_InitPIN, the key
/// imported with C_CreateObject) and then used through [`Pkcs11Store`]. They run in a child
/// process: C_Initialize is once per process, and the modules read their configuration from
/// the environment there.
#[test]
fn pkcs11_modules_sign_like_the_embedded_token() {
    let ours = module_or_skip(
        strongroom_module(),
        "libstrongroom_pkcs11.so",
        "build it with `cargo build -p pkcs11-shim`",
    );
    let softhsm = module_or_skip(
        Some(PathBuf::from(SOFTHSM)),
        SOFTHSM,
        "install SoftHSM 2 (apt-get install softhsm2)",
    );
    if ours.is_none() && softhsm.is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("strongroom.toml");
    std::fs::write(
        &conf,
        "token_dir = \"tokens\"\n[kdf]\npin = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }\n\
         card = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }\n",
    )
    .unwrap();
    let softhsm_tokens = dir.path().join("softhsm-tokens");
    std::fs::create_dir(&softhsm_tokens).unwrap();
    let softhsm_conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &softhsm_conf,
        format!("directories.tokendir = {}\n", softhsm_tokens.display()),
    )
    .unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "child_pkcs11_stores",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("STRONGROOM_CONF", &conf)
        .env("SOFTHSM2_CONF", &softhsm_conf);
    if let Some(path) = ours {
        child.env(STRONGROOM_MODULE_ENV, path);
    }
    if let Some(path) = softhsm {
        child.env(SOFTHSM_MODULE_ENV, path);
    }
    let output = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the PKCS#11 child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run in a child process by pkcs11_modules_sign_like_the_embedded_token"]
fn child_pkcs11_stores() {
    if std::env::var_os(CHILD_ENV).is_none() {
        eprintln!(
            "child_pkcs11_stores runs only as pkcs11_modules_sign_like_the_embedded_token's child"
        );
        return;
    }
    let expected = software_signature(&data());
    // SoftHSM 2.6 offers CKM_ECDSA but not CKM_ECDSA_SHA256.
    for (env, must_offer_ecdsa_sha256) in
        [(STRONGROOM_MODULE_ENV, true), (SOFTHSM_MODULE_ENV, false)]
    {
        if let Some(module) = std::env::var_os(env) {
            let signature = check_module(Path::new(&module), must_offer_ecdsa_sha256);
            assert_eq!(signature, expected);
        }
    }
}

/// Initialises a token on `module`, imports KSK1 and twice a key pair labelled "DUP" with
/// C_CreateObject (without CKA_ID, as IANA's keys are), and generates the P-256 key "EC1".
fn set_up_token(module: &Path) {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::object::{Attribute, KeyType, ObjectClass};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;

    let context = Pkcs11::new(module).unwrap();
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let free = context
        .get_all_slots()
        .unwrap()
        .into_iter()
        .find(|slot| {
            context
                .get_token_info(*slot)
                .is_ok_and(|info| !info.token_initialized())
        })
        .expect("a slot with an uninitialised token");
    let so_pin = AuthPin::new(SO_PIN.into());
    let user_pin = AuthPin::new(USER_PIN.into());
    context.init_token(free, &so_pin, TOKEN).unwrap();
    // SoftHSM renumbers the slot once its token is initialised: find it again by label.
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| context.get_token_info(*slot).unwrap().label() == TOKEN)
        .unwrap();
    let session = context.open_rw_session(slot).unwrap();
    session.login(UserType::So, Some(&so_pin)).unwrap();
    session.init_pin(&user_pin).unwrap();
    session.logout().unwrap();
    session.login(UserType::User, Some(&user_pin)).unwrap();
    let parts = ksk_parts();
    for label in [KSK, "DUP", "DUP"] {
        let label = label.as_bytes().to_vec();
        session
            .create_object(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::RSA),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Label(label.clone()),
                Attribute::Modulus(parts.n.clone()),
                Attribute::PublicExponent(parts.e.clone()),
                Attribute::PrivateExponent(parts.d.expose().to_vec()),
                Attribute::Prime1(parts.p.expose().to_vec()),
                Attribute::Prime2(parts.q.expose().to_vec()),
                Attribute::Exponent1(parts.dp.expose().to_vec()),
                Attribute::Exponent2(parts.dq.expose().to_vec()),
                Attribute::Coefficient(parts.qinv.expose().to_vec()),
            ])
            .unwrap();
        session
            .create_object(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::RSA),
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::Label(label),
                Attribute::Modulus(parts.n.clone()),
                Attribute::PublicExponent(parts.e.clone()),
            ])
            .unwrap();
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
