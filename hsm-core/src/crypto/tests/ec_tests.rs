//! ECDSA: cross-verification of both providers over hashes of every length, RFC 6605 vectors,
//! curve parameters and failure modes.

use super::*;

/// RFC 6605 §6.1: signed data rebuilt from the RRSIG and A lines (checked with Python).
const RFC6605_P256_DATA: &str = "00010d0300000e104c88b1374c63c737d960076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c0000201";
const RFC6605_P256_DNSKEY: &str =
    "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==";
const RFC6605_P256_SIG: &str =
    "qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==";
const RFC6605_P384_DATA: &str = "00010e0300000e104c88b4e94c63cae92a13076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c0000201";
const RFC6605_P384_DNSKEY: &str = "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40";
const RFC6605_P384_SIG: &str = "/L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm";

#[test]
fn ecdsa_signatures_verify_across_providers() {
    let msg = b"example.net. DNSKEY";
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        for generator in providers() {
            let key = generator.keygen.ec(curve).unwrap();
            let public = key.public().unwrap();
            let PublicKeyMaterial::Ec { point, .. } = &public else {
                panic!()
            };
            assert_eq!(point.len(), curve.point_len());
            let vers = verifiers(&key);
            for signer in signers(&key) {
                assert_eq!(signer.public(), &public);
                let mut cases: Vec<(SignMechanism, Vec<u8>)> = HashAlg::ALL
                    .iter()
                    .map(|&h| (SignMechanism::EcdsaHash(h), msg.to_vec()))
                    .collect();
                // Prehashes shorter than, equal to and longer than the curve order.
                for len in [1, 2, 20, 28, 32, 48, 64, 65, 66, 67, 100] {
                    let z: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
                    cases.push((SignMechanism::Ecdsa, z));
                }
                for (mech, data) in &cases {
                    let sig = signer.sign(mech, data).unwrap();
                    assert_eq!(sig.len(), curve.signature_len());
                    assert_eq!(signer.signature_len(mech), curve.signature_len());
                    assert_verifies(&vers, mech, data, &sig);
                    if let SignMechanism::EcdsaHash(h) = mech {
                        assert_verifies(&vers, &SignMechanism::Ecdsa, &digest(*h, msg), &sig);
                    }
                }
            }
        }
    }
}

#[test]
fn ecdsa_prehash_is_truncated_or_left_padded() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = AWS_LC.keygen.ec(curve).unwrap();
        let vers = verifiers(&key);
        let n = curve.field_len();
        let long: Vec<u8> = (0..n + 16).map(|i| i as u8 ^ 0x9c).collect();
        for signer in signers(&key) {
            // Longer than the order: only the leftmost bits count (SEC 1 §4.1.3 step 5).
            let sig = signer.sign(&SignMechanism::Ecdsa, &long).unwrap();
            assert_verifies(&vers, &SignMechanism::Ecdsa, &long[..n], &sig);
            // Shorter: the value is the integer, so leading zero octets change nothing.
            let sig = signer.sign(&SignMechanism::Ecdsa, &[0x12, 0x34]).unwrap();
            assert_verifies(&vers, &SignMechanism::Ecdsa, &[0, 0, 0x12, 0x34], &sig);
        }
    }
}

fn rfc6605_case(text: &[u8], curve: Curve, data_hex: &str, dnskey: &str, sig_b64: &str) {
    let key = import_private_key(text).unwrap();
    let mut point = vec![0x04];
    point.extend_from_slice(&b64(dnskey));
    assert_eq!(
        key.public().unwrap(),
        PublicKeyMaterial::Ec { curve, point }
    );
    let data = unhex(data_hex);
    let published = b64(sig_b64);
    let hash_alg = curve.native_hash();
    let vers = verifiers(&key);
    let hashed = SignMechanism::EcdsaHash(hash_alg);
    assert_verifies(&vers, &hashed, &data, &published);
    assert_verifies(
        &vers,
        &SignMechanism::Ecdsa,
        &digest(hash_alg, &data),
        &published,
    );
    for signer in signers(&key) {
        let sig = signer.sign(&hashed, &data).unwrap();
        assert_verifies(&vers, &hashed, &data, &sig);
    }
}

#[test]
fn rfc6605_published_signatures_verify() {
    rfc6605_case(
        include_bytes!("../../../../fixtures/rfc6605-ecdsap256.private"),
        Curve::P256,
        RFC6605_P256_DATA,
        RFC6605_P256_DNSKEY,
        RFC6605_P256_SIG,
    );
    rfc6605_case(
        include_bytes!("../../../../fixtures/rfc6605-ecdsap384.private"),
        Curve::P384,
        RFC6605_P384_DATA,
        RFC6605_P384_DNSKEY,
        RFC6605_P384_SIG,
    );
}

#[test]
fn ecdsa_failures() {
    let key = RUST_CRYPTO.keygen.ec(Curve::P256).unwrap();
    let vers = verifiers(&key);
    let mech = SignMechanism::EcdsaHash(HashAlg::Sha256);
    for signer in signers(&key) {
        let sig = signer.sign(&mech, b"m").unwrap();
        for v in &vers {
            assert_eq!(
                v.verify(&mech, b"m", &sig[..63]),
                Err(CryptoError::SignatureLenRange)
            );
            let mut flipped = sig.clone();
            flipped[5] ^= 1;
            assert_eq!(
                v.verify(&mech, b"m", &flipped),
                Err(CryptoError::SignatureInvalid)
            );
            assert_eq!(
                v.verify(&mech, b"n", &sig),
                Err(CryptoError::SignatureInvalid)
            );
            assert_eq!(
                v.verify(&mech, b"m", &[0; 64]),
                Err(CryptoError::SignatureInvalid)
            );
            assert_eq!(
                v.verify(&SignMechanism::RsaPkcs, b"m", &sig),
                Err(CryptoError::KeyTypeInconsistent)
            );
            assert_eq!(
                v.verify(&SignMechanism::Ecdsa, b"", &sig),
                Err(CryptoError::DataLenRange)
            );
        }
        assert_eq!(
            signer.sign(&SignMechanism::Ecdsa, b""),
            Err(CryptoError::DataLenRange)
        );
        for wrong in [
            SignMechanism::RsaPkcs,
            SignMechanism::RsaX509,
            SignMechanism::EdDsa(EdDsaParams::PURE),
        ] {
            assert_eq!(
                signer.sign(&wrong, b"m"),
                Err(CryptoError::KeyTypeInconsistent)
            );
        }
    }
}

#[test]
fn invalid_ec_keys_are_rejected() {
    let PublicKeyMaterial::Ec { point, .. } =
        AWS_LC.keygen.ec(Curve::P256).unwrap().public().unwrap()
    else {
        panic!()
    };
    let mut off_curve = point.clone();
    off_curve[40] ^= 1;
    let mut compressed = vec![0x02 | (point[64] & 1)];
    compressed.extend_from_slice(&point[1..33]);
    let bad_publics = [
        PublicKeyMaterial::Ec {
            curve: Curve::P256,
            point: off_curve,
        },
        PublicKeyMaterial::Ec {
            curve: Curve::P256,
            point: compressed,
        },
        PublicKeyMaterial::Ec {
            curve: Curve::P384,
            point: point.clone(),
        },
    ];
    // The P-256 order n: d = 0 and d = n are outside [1, n-1].
    let order = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let bad_privates = [
        PrivateKeyMaterial::Ec {
            curve: Curve::P256,
            d: crate::secret::SecretBytes::new(vec![0; 32]),
        },
        PrivateKeyMaterial::Ec {
            curve: Curve::P256,
            d: crate::secret::SecretBytes::new(order),
        },
        PrivateKeyMaterial::Ec {
            curve: Curve::P256,
            d: crate::secret::SecretBytes::new(vec![1; 33]),
        },
    ];
    for provider in providers() {
        for bad in &bad_publics {
            assert!(matches!(
                provider.keys.load_public(bad),
                Err(CryptoError::KeyImport(_))
            ));
        }
        for bad in &bad_privates {
            assert!(matches!(
                provider.keys.load_private(bad),
                Err(CryptoError::KeyImport(_))
            ));
        }
    }
    // A scalar with leading zero octets dropped still loads (CKA_VALUE may be minimal).
    let short = PrivateKeyMaterial::Ec {
        curve: Curve::P256,
        d: crate::secret::SecretBytes::new(vec![7; 31]),
    };
    let [a, r] = signers(&short);
    assert_eq!(a.public(), r.public());
}

#[test]
fn curve_parameters() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        assert_eq!(Curve::from_der_oid(curve.der_oid()), Some(curve));
    }
    assert_eq!(Curve::P521.der_oid(), unhex("06052b81040023").as_slice());
    assert_eq!(Curve::from_der_oid(b"\x13\x09secp521r1"), Some(Curve::P521));
    assert_eq!(
        (
            Curve::P521.bits(),
            Curve::P521.field_len(),
            Curve::P521.signature_len()
        ),
        (521, 66, 132)
    );
    assert_eq!(Curve::P521.point_len(), 133);
    assert_eq!(
        Curve::P256.der_oid(),
        unhex("06082a8648ce3d030107").as_slice()
    );
    assert_eq!(Curve::P384.der_oid(), unhex("06052b81040022").as_slice());
    assert_eq!(
        Curve::from_der_oid(b"\x13\x0aprime256v1"),
        Some(Curve::P256)
    );
    assert_eq!(Curve::from_der_oid(b"\x13\x09secp384r1"), Some(Curve::P384));
    assert_eq!(Curve::from_der_oid(&unhex("06052b81040024")), None);
    assert_eq!(Curve::from_der_oid(b"\x13\x05P-256x"), None);
    assert_eq!(Curve::from_der_oid(&[]), None);
    assert_eq!(Curve::P384.signature_len(), 96);
}

/// RFC 6979 A.2.7: the P-521 key, and its published SHA-512 signature over "sample".
const RFC6979_P521_X: &str = "00fad06daa62ba3b25d2fb40133da757205de67f5bb0018fee8c86e1b68c7e75caa896eb32f1f47c70855836a6d16fcc1466f6d8fbec67db89ec0c08b0e996b83538";
const RFC6979_P521_POINT: &str = "0401894550d0785932e00eaa23b694f213f8c3121f86dc97a04e5a7167db4e5bcd371123d46e45db6b5d5370a7f20fb633155d38ffa16d2bd761dcac474b9a2f5023a400493101c962cd4d2fddf782285e64584139c2f91b47f87ff82354d6630f746a28a0db25741b5b34a828008b22acc23f924faafbd4d33f81ea66956dfeaa2bfdfcf5";
const RFC6979_P521_SIG: &str = "00c328fafcbd79dd77850370c46325d987cb525569fb63c5d3bc53950e6d4c5f174e25a1ee9017b5d450606add152b534931d7d4e8455cc91f9b15bf05ec36e377fa00617cce7cf5064806c467f678d3b4080d6f1cc50af26ca209417308281b68af282623eaa63e5b5c0723d8b8c37ff0777b1a20f8ccb1dccc43997f1ee0e44da4a67a";

#[test]
fn p521_rfc6979_signature_verifies_in_both_providers() {
    let key = PrivateKeyMaterial::Ec {
        curve: Curve::P521,
        d: crate::secret::SecretBytes::new(unhex(RFC6979_P521_X)),
    };
    assert_eq!(
        key.public().unwrap(),
        PublicKeyMaterial::Ec {
            curve: Curve::P521,
            point: unhex(RFC6979_P521_POINT),
        }
    );
    assert_eq!(key.public().unwrap().bits(), 521);
    let vers = verifiers(&key);
    let sig = unhex(RFC6979_P521_SIG);
    assert_eq!(sig.len(), 132);
    let sha512 = SignMechanism::EcdsaHash(HashAlg::Sha512);
    assert_verifies(&vers, &sha512, b"sample", &sig);
    assert_verifies(
        &vers,
        &SignMechanism::Ecdsa,
        &digest(HashAlg::Sha512, b"sample"),
        &sig,
    );
    for v in &vers {
        assert_eq!(
            v.verify(&sha512, b"sample", &sig[..131]),
            Err(CryptoError::SignatureLenRange)
        );
        assert_eq!(
            v.verify(&sha512, b"samplf", &sig),
            Err(CryptoError::SignatureInvalid)
        );
    }
    // Each provider's signature verifies in the other (aws-lc signs SHA-512 natively).
    for signer in signers(&key) {
        let ours = signer.sign(&sha512, b"sample").unwrap();
        assert_verifies(&vers, &sha512, b"sample", &ours);
    }
}

#[test]
fn p521_keys_import_from_pkcs8_and_sec1() {
    use p521::pkcs8::EncodePrivateKey;
    let x = unhex(RFC6979_P521_X);
    let secret = p521::SecretKey::from_slice(&x).unwrap();
    let pkcs8 = secret.to_pkcs8_der().unwrap();
    let sec1 = secret.to_sec1_der().unwrap();
    for der in [pkcs8.as_bytes(), sec1.as_slice()] {
        let PrivateKeyMaterial::Ec { curve, d } = import_private_key(der).unwrap() else {
            panic!("not EC");
        };
        assert_eq!(curve, Curve::P521);
        assert_eq!(d.expose(), x.as_slice());
    }
}
