//! Key import: PKCS#1, PKCS#8 (PEM and DER), SEC1, BIND; clear errors for malformed input.

use aws_lc_rs::signature::KeyPair as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::EncodePrivateKey as _;

use super::*;

const LEGACY_1: &str = include_str!("../../../../fixtures/legacy/rsa2048-1.key");
const LEGACY_2: &str = include_str!("../../../../fixtures/legacy/rsa2048-2.key");
const RFC5702: &str = include_str!("../../../../fixtures/rfc5702-rsasha256.private");

fn import_err(input: &[u8]) -> String {
    match import_private_key(input) {
        Err(CryptoError::KeyImport(msg)) => msg,
        other => panic!("expected a KeyImport error, got {other:?}"),
    }
}

fn same_private(a: &PrivateKeyMaterial, b: &PrivateKeyMaterial) -> bool {
    match (a, b) {
        (PrivateKeyMaterial::Rsa(x), PrivateKeyMaterial::Rsa(y)) => {
            x.n == y.n
                && x.e == y.e
                && x.d == y.d
                && x.p == y.p
                && x.q == y.q
                && x.dp == y.dp
                && x.dq == y.dq
                && x.qinv == y.qinv
        }
        (
            PrivateKeyMaterial::Ec { curve: c1, d: d1 },
            PrivateKeyMaterial::Ec { curve: c2, d: d2 },
        ) => c1 == c2 && d1 == d2,
        (PrivateKeyMaterial::Ed25519 { seed: s1 }, PrivateKeyMaterial::Ed25519 { seed: s2 }) => {
            s1 == s2
        }
        _ => false,
    }
}

#[test]
fn legacy_pkcs1_keys_import_with_their_dnskey_tags() {
    for (pem, tag, modulus_prefix) in [
        (LEGACY_1, 5017, "e0d192b74756662bd366b339705def5564bad763"),
        (LEGACY_2, 55186, "c060848849a7c5cd14fefd72cd418fe3"),
    ] {
        let key = import_private_key(pem.as_bytes()).unwrap();
        let public = key.public().unwrap();
        assert_eq!(public.bits(), 2048);
        let PublicKeyMaterial::Rsa { n, e } = &public else {
            panic!()
        };
        assert!(hex::encode(n).starts_with(modulus_prefix));
        assert_eq!(e, &[1, 0, 1]);
        assert_eq!(key_tag(257, 8, &rsa_dnskey(&public)), tag);
        // The signers derive the same public key as the material does.
        for signer in signers(&key) {
            assert_eq!(signer.public(), &public);
        }
    }
}

#[test]
fn rsa_pkcs8_pem_and_der_import() {
    let rsa_key = rsa::PrivateKey::from_pkcs1_pem(LEGACY_2).unwrap();
    let der = rsa_key.to_pkcs8_der().unwrap();
    let pem = rsa_key.to_pkcs8_pem(rsa::pkcs8::LineEnding::CRLF).unwrap();
    let pkcs1 = import_private_key(LEGACY_2.as_bytes()).unwrap();
    let from_der = import_private_key(der.as_bytes()).unwrap();
    let from_pem = import_private_key(pem.as_bytes()).unwrap();
    assert!(same_private(&pkcs1, &from_der));
    assert!(same_private(&pkcs1, &from_pem));
    // Untagged PKCS#1 DER too.
    let pkcs1_der = {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        rsa_key.to_pkcs1_der().unwrap()
    };
    assert!(same_private(
        &pkcs1,
        &import_private_key(pkcs1_der.as_bytes()).unwrap()
    ));
}

#[test]
fn ec_and_ed25519_pkcs8_from_aws_lc_import() {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
        Ed25519KeyPair,
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    for (alg, curve) in [
        (&ECDSA_P256_SHA256_FIXED_SIGNING, Curve::P256),
        (&ECDSA_P384_SHA384_FIXED_SIGNING, Curve::P384),
    ] {
        let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(alg, doc.as_ref()).unwrap();
        let key = import_private_key(doc.as_ref()).unwrap();
        let expected = PublicKeyMaterial::Ec {
            curve,
            point: pair.public_key().as_ref().to_vec(),
        };
        assert_eq!(key.public().unwrap(), expected);
    }
    for doc in [
        Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap(),
        Ed25519KeyPair::generate_pkcs8(&rng).unwrap(),
    ] {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(doc.as_ref()).unwrap();
        let key = import_private_key(doc.as_ref()).unwrap();
        let expected = PublicKeyMaterial::Ed25519 {
            public: pair.public_key().as_ref().try_into().unwrap(),
        };
        assert_eq!(key.public().unwrap(), expected);
    }
}

#[test]
fn openssl_generated_keys_import() {
    let cases: [(&[u8], &str); 3] = [
        (
            include_bytes!("../../../../fixtures/ec-p256-pkcs8.pem"),
            "04b46828e84acaf3f822cf803e2df4b69ba295d8547c4463c5e042e9f215924dea119428338b704c51688020bb71260abc4c6d623f2fc37bb606fcac60c4773037",
        ),
        (
            include_bytes!("../../../../fixtures/ec-p384-sec1.pem"),
            "04e3a54c7904e71331f4bada6d3b74f16c911cca77a9bd2d6422222bf95601921964b178ebb379ae54727640f7cd098891b8b060e5d29ea0ba05d181ef08fac712abb7490b8faff9037cf9ff6ca8d5c99c1d80b8eef25faa5f0cac2710c98e15ff",
        ),
        (
            include_bytes!("../../../../fixtures/ed25519-pkcs8.pem"),
            "7e7c7dbf47d401e5d7ff0516a80e91d24f4761cda98ae3def9375730569ffe4a",
        ),
    ];
    for (pem, public_hex) in cases {
        let key = import_private_key(pem).unwrap();
        let public = match key.public().unwrap() {
            PublicKeyMaterial::Ec { point, .. } => point,
            PublicKeyMaterial::Ed25519 { public } => public.to_vec(),
            PublicKeyMaterial::Rsa { .. } | PublicKeyMaterial::Ed448 { .. } => panic!(),
        };
        assert_eq!(hex::encode(public), public_hex);
        signers(&key);
    }
}

#[test]
fn bind_private_key_files_import() {
    let rsa = import_private_key(RFC5702.as_bytes()).unwrap();
    assert!(matches!(rsa, PrivateKeyMaterial::Rsa(_)));
    assert_eq!(key_tag(256, 8, &rsa_dnskey(&rsa.public().unwrap())), 9033);
    let p256 = import_private_key(include_bytes!(
        "../../../../fixtures/rfc6605-ecdsap256.private"
    ))
    .unwrap();
    assert!(matches!(
        p256,
        PrivateKeyMaterial::Ec {
            curve: Curve::P256,
            ..
        }
    ));
    let p384 = import_private_key(include_bytes!(
        "../../../../fixtures/rfc6605-ecdsap384.private"
    ))
    .unwrap();
    assert!(matches!(
        p384,
        PrivateKeyMaterial::Ec {
            curve: Curve::P384,
            ..
        }
    ));
    let ed = import_private_key(include_bytes!(
        "../../../../fixtures/rfc8080-ed25519.private"
    ))
    .unwrap();
    assert!(matches!(ed, PrivateKeyMaterial::Ed25519 { .. }));
    // v1.3 with timing metadata, CRLF line ends and leading blank lines.
    let v13 = RFC5702.replace("v1.2", "v1.3").replace('\n', "\r\n")
        + "Created: 20240101000000\r\nPublish: 20240101000000\r\n";
    let again = import_private_key(format!("\n{v13}").as_bytes()).unwrap();
    assert!(same_private(&rsa, &again));
}

#[test]
fn malformed_input_gives_clear_errors() {
    let secret_b64 = "UR44xX6zB3eaeyvTRzmskHADrPCmPWnr8dxsNwiDGHzrMKLN";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "unrecognised key format"),
        (b"hello".to_vec(), "unrecognised key format"),
        (
            b"Private-key-format: v1.2\nAlgorithm: 8 (RSASHA256)\n".to_vec(),
            "\"Modulus\"",
        ),
        (
            b"Private-key-format: v1.2\nAlgorithm: 3 (DSA)\n".to_vec(),
            "unsupported BIND algorithm 3",
        ),
        (
            b"Private-key-format: v2.0\nAlgorithm: 8\n".to_vec(),
            "Private-key-format v2.0",
        ),
        (b"Private-key-format: v1.2\n".to_vec(), "\"Algorithm\""),
        (
            RFC5702.replace("Exponent1: G2x", "Exponent1: H2x").into_bytes(),
            "inconsistent RSA key components",
        ),
        (
            RFC5702
                .replace("UR44xX6zB3eaeyvTRzmskHADrPCmPWnr8dxsNwiDGHzrMKLN", &format!("{secret_b64}!"))
                .into_bytes(),
            "\"PrivateExponent\" is not valid base64",
        ),
        (
            b"Private-key-format: v1.2\nAlgorithm: 13\nPrivateKey: AAEC\n".to_vec(),
            "must be 32 bytes",
        ),
        (
            b"Private-key-format: v1.2\nAlgorithm: 15\nPrivateKey: AAEC\n".to_vec(),
            "32-byte seed",
        ),
        (
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".to_vec(),
            "is not a supported private key",
        ),
        (
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .to_vec(),
            "encrypted PKCS#8",
        ),
        (
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n"
                .to_vec(),
            "encrypted PEM",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n".to_vec(),
            "no END line",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".to_vec(),
            "not valid base64",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n".to_vec(),
            "malformed PKCS#8",
        ),
        (
            LEGACY_1[..LEGACY_1.len() / 2].to_string().into_bytes(),
            "no END line",
        ),
        (vec![0x30, 0x03, 0x02, 0x01, 0x00], "neither PKCS#8"),
    ];
    for (input, expected) in cases {
        let msg = import_err(&input);
        assert!(msg.contains(expected), "{msg:?} lacks {expected:?}");
        assert!(!msg.contains(secret_b64), "{msg}");
    }
    // An unsupported PKCS#8 algorithm (X25519, 1.3.101.110) is named.
    let x25519 = unhex(
        "302e020100300506032b656e04220420a8abababababababababababababababababababababababababababababab6a",
    );
    assert!(import_err(&x25519).contains("1.3.101.110"));
}
