//! The built module driven through the Rust `cryptoki` crate, each scenario in its own
//! process (the module keeps one state per process) with its own scratch token directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use strongroom_tests::{
    Scratch, in_child, module_path, quorum_activation, run_in_child, run_in_child_under,
};

const SO_PIN: &str = "so-pin-1234";
const USER_PIN: &str = "user-pin-1234";
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DigestInfo prefix of SHA-256, as OpenDNSSEC and libp11 send with CKM_RSA_PKCS.
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn initialized() -> Pkcs11 {
    let pkcs11 = Pkcs11::new(module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    pkcs11
}

/// Initialises a PIN-only token in the first slot (the free one) as the cryptoki suite does.
fn token(pkcs11: &Pkcs11, label: &str) -> Slot {
    let slot = pkcs11.get_slots_with_token().unwrap().remove(0);
    let so_pin = AuthPin::new(SO_PIN.into());
    pkcs11.init_token(slot, &so_pin, label).unwrap();
    let session = pkcs11.open_rw_session(slot).unwrap();
    session.login(UserType::So, Some(&so_pin)).unwrap();
    session.init_pin(&AuthPin::new(USER_PIN.into())).unwrap();
    session.logout().unwrap();
    slot
}

fn user_session(pkcs11: &Pkcs11, slot: Slot) -> Session {
    let session = pkcs11.open_rw_session(slot).unwrap();
    session
        .login(UserType::User, Some(&AuthPin::new(USER_PIN.into())))
        .unwrap();
    session
}

/// Key pairs the way Knot and OpenDNSSEC ask: no CKA_CLASS, no CKA_KEY_TYPE.
fn dnssec_key_pair(session: &Session, rsa: bool, id: &[u8]) -> (ObjectHandle, ObjectHandle) {
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Id(id.to_vec()),
        Attribute::Verify(true),
    ];
    let private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
        Attribute::Id(id.to_vec()),
    ];
    let mechanism = if rsa {
        public.push(Attribute::ModulusBits(2048.into()));
        public.push(Attribute::PublicExponent(vec![0, 1, 0, 1]));
        Mechanism::RsaPkcsKeyPairGen
    } else {
        public.push(Attribute::EcParams(P256_OID.to_vec()));
        Mechanism::EccKeyPairGen
    };
    session
        .generate_key_pair(&mechanism, &public, &private)
        .unwrap()
}

fn digest_info(hash: &[u8; 32]) -> Vec<u8> {
    let mut input = SHA256_DIGEST_INFO.to_vec();
    input.extend_from_slice(hash);
    input
}

#[test]
#[ignore = "child of general_behaviour"]
fn general_behaviour_child() {
    if !in_child() {
        return;
    }
    let pkcs11 = initialized();
    let again = pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    assert!(matches!(
        again,
        Err(Error::Pkcs11(
            RvError::CryptokiAlreadyInitialized,
            Function::Initialize
        ))
    ));
    let info = pkcs11.get_library_info().unwrap();
    assert_eq!(
        info.cryptoki_version().major(),
        3,
        "the 3.0 interface reports 3.0"
    );
    assert_eq!(info.manufacturer_id(), "Strongroom");

    let all = pkcs11.get_all_slots().unwrap();
    assert_eq!(all.len(), 1, "only the free slot before any token exists");
    let slot = token(&pkcs11, "general");
    let info = pkcs11.get_token_info(slot).unwrap();
    assert_eq!(info.label(), "general");
    assert_eq!(info.model(), "no quorum");
    assert!(info.user_pin_initialized());
    assert_eq!(
        pkcs11.get_all_slots().unwrap().len(),
        2,
        "a new free slot appeared"
    );

    let session = user_session(&pkcs11, slot);
    let (public, private) = dnssec_key_pair(&session, true, &[1, 2, 3, 4]);
    let (ec_public, ec_private) = dnssec_key_pair(&session, false, &[1, 2, 3, 4]);
    // Duplicate CKA_IDs are allowed (PowerDNS gives every key 01020304).
    let same_id = session
        .find_objects(&[Attribute::Id(vec![1, 2, 3, 4])])
        .unwrap();
    assert_eq!(same_id.len(), 4);

    // CKM_RSA_PKCS on a SHA-256 DigestInfo, as OpenDNSSEC and libp11 sign. cryptoki asks the
    // length first (NULL buffer) and then signs: the operation must survive the size query.
    let input = digest_info(&[7u8; 32]);
    let signature = session.sign(&Mechanism::RsaPkcs, private, &input).unwrap();
    assert_eq!(signature.len(), 256);
    session
        .verify(&Mechanism::RsaPkcs, public, &input, &signature)
        .unwrap();
    let ec_signature = session
        .sign(&Mechanism::Ecdsa, ec_private, &[9u8; 32])
        .unwrap();
    assert_eq!(ec_signature.len(), 64, "raw r||s");
    session
        .verify(&Mechanism::Ecdsa, ec_public, &[9u8; 32], &ec_signature)
        .unwrap();
    let bad = session.verify(&Mechanism::Ecdsa, ec_public, &[8u8; 32], &ec_signature);
    assert!(matches!(
        bad,
        Err(Error::Pkcs11(RvError::SignatureInvalid, _))
    ));

    // Per-attribute answers: the EC private key has no CKA_EC_POINT (libp11 asks), the value
    // is sensitive, and the rest still comes back.
    let info = session
        .get_attribute_info(
            ec_private,
            &[
                AttributeType::EcPoint,
                AttributeType::Value,
                AttributeType::EcParams,
            ],
        )
        .unwrap();
    assert_eq!(format!("{:?}", info[0]), "TypeInvalid");
    assert_eq!(format!("{:?}", info[1]), "Sensitive");
    let point = session
        .get_attributes(ec_public, &[AttributeType::EcPoint])
        .unwrap();
    match &point[0] {
        Attribute::EcPoint(p) => assert_eq!(p.len(), 67, "DER OCTET STRING of a P-256 point"),
        other => panic!("{other:?}"),
    }
    let modulus = session
        .get_attributes(private, &[AttributeType::Modulus])
        .unwrap();
    assert!(
        matches!(&modulus[0], Attribute::Modulus(m) if m.len() == 256),
        "public parts of private keys"
    );

    // Errors by the spec, not by SoftHSM.
    let (_, gone) = dnssec_key_pair(&session, false, b"gone");
    session.destroy_object(gone).unwrap();
    assert!(matches!(
        session.sign(&Mechanism::Ecdsa, gone, &[1u8; 32]),
        Err(Error::Pkcs11(RvError::KeyHandleInvalid, _))
    ));
    session.logout().unwrap();
    assert!(matches!(
        session.logout(),
        Err(Error::Pkcs11(RvError::UserNotLoggedIn, _))
    ));
    let hidden = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .unwrap();
    assert!(hidden.is_empty(), "private keys are invisible before login");
    drop(session);
    pkcs11.finalize().unwrap();
}

#[test]
fn general_behaviour() {
    run_in_child("general_behaviour_child", &Scratch::new());
}

#[test]
#[ignore = "child of threads_sign_while_sessions_churn"]
fn threads_sign_while_sessions_churn_child() {
    if !in_child() {
        return;
    }
    let pkcs11 = initialized();
    let slot = token(&pkcs11, "threads");
    let setup = user_session(&pkcs11, slot);
    let rsa = dnssec_key_pair(&setup, true, b"rsa");
    let ec = dnssec_key_pair(&setup, false, b"ec");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let churn = scope.spawn(|| {
            let mut rounds = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let session = pkcs11.open_ro_session(slot).unwrap();
                let found = session
                    .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)])
                    .unwrap();
                assert_eq!(found.len(), 2);
                drop(session);
                rounds += 1;
            }
            rounds
        });
        let signers: Vec<_> = (0..8)
            .map(|t| {
                let pkcs11 = &pkcs11;
                scope.spawn(move || {
                    let session = pkcs11.open_ro_session(slot).unwrap();
                    let (public, private, mechanism) = if t % 2 == 0 {
                        (rsa.0, rsa.1, Mechanism::RsaPkcs)
                    } else {
                        (ec.0, ec.1, Mechanism::Ecdsa)
                    };
                    for i in 0..5000u32 {
                        let mut hash = [0u8; 32];
                        hash[..4].copy_from_slice(&i.to_be_bytes());
                        hash[4] = t;
                        let input = if t % 2 == 0 {
                            digest_info(&hash)
                        } else {
                            hash.to_vec()
                        };
                        let signature = session.sign(&mechanism, private, &input).unwrap();
                        session
                            .verify(&mechanism, public, &input, &signature)
                            .unwrap();
                    }
                })
            })
            .collect();
        for signer in signers {
            signer.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(churn.join().unwrap() > 0);
    });
    drop(setup);
    pkcs11.finalize().unwrap();
}

/// 8 threads on 8 sessions sign 5,000 times each (RSA and ECDSA) while another thread opens
/// and closes sessions and searches; every signature verifies, no call fails.
#[test]
fn threads_sign_while_sessions_churn() {
    run_in_child("threads_sign_while_sessions_churn_child", &Scratch::new());
}

/// The same load on a 2-of-3 quorum token, the child started under `strongroom activate`.
#[test]
fn threads_sign_while_sessions_churn_under_activate() {
    let scratch = Scratch::new();
    let wrapper = quorum_activation(
        &scratch,
        env!("CARGO_BIN_EXE_strongroom-under-test"),
        "threads",
        SO_PIN,
        USER_PIN,
    );
    run_in_child_under(
        "threads_sign_while_sessions_churn_child",
        &scratch,
        &wrapper,
    );
}
