//! RSA: byte-identical PKCS#1 v1.5 across providers, RFC 5702 vectors, PSS cross-verification,
//! key validation and failure modes.

use proptest::prelude::*;

use super::super::padding;
use super::super::rsa_soft::{SoftRsaPrivate, SoftRsaPublic};
use super::*;

const RFC5702_SHA256_DATA: &str = "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b";
const RFC5702_SHA256_SIG: &str =
    "kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==";
const RFC5702_SHA256_DNSKEY: &str =
    "AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=";
const RFC5702_SHA512_DATA: &str = "00010a0300000e1070dbd880386d43800e9c076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b";
const RFC5702_SHA512_SIG: &str = "tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=";
const RFC5702_SHA512_DNSKEY: &str = "AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSncorffcGmhOL";

fn k_of(key: &PrivateKeyMaterial) -> usize {
    key.public().unwrap().bits().div_ceil(8)
}

/// Every deterministic RSA mechanism over `msg`: hashed, over the DigestInfo, raw block.
fn pkcs1_cases(k: usize, msg: &[u8]) -> Vec<(SignMechanism, Vec<u8>)> {
    let mut cases = Vec::new();
    for h in HashAlg::ALL {
        let t = h.digest_info(&digest(h, msg));
        if t.len() + 11 > k {
            continue;
        }
        cases.push((SignMechanism::RsaPkcsHash(h), msg.to_vec()));
        cases.push((SignMechanism::RsaX509, padding::pkcs1_type1(&t, k).unwrap()));
        cases.push((SignMechanism::RsaPkcs, t));
    }
    // CKM_RSA_PKCS over arbitrary data (not a DigestInfo) and an unusual DigestInfo length.
    cases.push((
        SignMechanism::RsaPkcs,
        b"raw TLS-1.1 style MD5||SHA1 data".to_vec(),
    ));
    cases.push((SignMechanism::RsaPkcs, vec![0x30; 7]));
    cases
}

fn assert_pkcs1_identical(key: &PrivateKeyMaterial, messages: &[&[u8]]) {
    let k = k_of(key);
    let [aws, rust] = signers(key);
    let vers = verifiers(key);
    for msg in messages {
        let cases = pkcs1_cases(k, msg);
        let mut sigs = Vec::new();
        for (mech, data) in &cases {
            let a = aws.sign(mech, data).unwrap();
            let r = rust.sign(mech, data).unwrap();
            assert_eq!(a, r, "{mech:?} differs for a {}-byte input", data.len());
            assert_eq!(a.len(), aws.signature_len(mech));
            assert_verifies(&vers, mech, data, &a);
            sigs.push(a);
        }
        // Hashed, DigestInfo and raw-block forms of one hash give one signature.
        for (i, group) in sigs.chunks(3).enumerate() {
            if let SignMechanism::RsaPkcsHash(_) = cases[3 * i].0 {
                assert!(group.iter().all(|s| *s == group[0]));
            }
        }
    }
}

#[test]
fn pkcs1_v15_identical_across_providers_2048() {
    let long = vec![0x5a; 1000];
    let msgs: [&[u8]; 3] = [b"", b"abc", &long];
    assert_pkcs1_identical(legacy_key_1(), &msgs);
    assert_pkcs1_identical(legacy_key_2(), &msgs[1..2]);
}

#[test]
fn pkcs1_v15_identical_across_providers_1024_1025() {
    let msgs: [&[u8]; 2] = [b"", b"www.example.net"];
    assert_pkcs1_identical(rsa_1024(), &msgs);
    assert_pkcs1_identical(rsa_1025(), &msgs[1..]);
}

#[test]
fn pkcs1_v15_identical_across_providers_4096_from_aws_lc() {
    let key = rsa_4096();
    assert_eq!(key.public().unwrap().bits(), 4096);
    assert_pkcs1_identical(key, &[b"root zone DNSKEY RRset"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn pkcs1_sha256_identical_for_random_messages(msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        static SIGNERS: OnceLock<[Arc<dyn SigningKey>; 2]> = OnceLock::new();
        let [aws, rust] = SIGNERS.get_or_init(|| signers(legacy_key_2()));
        let mech = SignMechanism::RsaPkcsHash(HashAlg::Sha256);
        prop_assert_eq!(aws.sign(&mech, &msg).unwrap(), rust.sign(&mech, &msg).unwrap());
    }
}

fn rfc5702_case(text: &[u8], data_hex: &str, sig_b64: &str, dnskey_b64: &str, alg: HashAlg) {
    let key = import_private_key(text).unwrap();
    let public = key.public().unwrap();
    assert_eq!(rsa_dnskey(&public), b64(dnskey_b64));
    let k = k_of(&key);
    let data = unhex(data_hex);
    let expected = b64(sig_b64);
    let t = alg.digest_info(&digest(alg, &data));
    let block = padding::pkcs1_type1(&t, k).unwrap();
    let cases = [
        (SignMechanism::RsaPkcsHash(alg), data.clone()),
        (SignMechanism::RsaPkcs, t),
        (SignMechanism::RsaX509, block),
    ];
    let vers = verifiers(&key);
    for provider in providers() {
        let signer = provider.keys.load_private(&key).unwrap();
        assert_eq!(signer.public(), &public);
        for (mech, input) in &cases {
            let sig = signer.sign(mech, input).unwrap();
            assert_eq!(sig, expected, "{} {mech:?}", provider.name);
            assert_verifies(&vers, mech, input, &sig);
        }
    }
}

#[test]
fn rfc5702_6_1_rsasha256_reproduced() {
    let data = unhex(RFC5702_SHA256_DATA);
    assert_eq!(
        hex::encode(digest(HashAlg::Sha256, &data)),
        "1f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
    );
    let t = HashAlg::Sha256.digest_info(&digest(HashAlg::Sha256, &data));
    assert_eq!(
        hex::encode(padding::pkcs1_type1(&t, 64).unwrap()),
        "0001ffffffffffffffffffff003031300d0609608648016503040201050004201f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
    );
    rfc5702_case(
        include_bytes!("../../../../fixtures/rfc5702-rsasha256.private"),
        RFC5702_SHA256_DATA,
        RFC5702_SHA256_SIG,
        RFC5702_SHA256_DNSKEY,
        HashAlg::Sha256,
    );
}

#[test]
fn rfc5702_6_2_rsasha512_reproduced() {
    rfc5702_case(
        include_bytes!("../../../../fixtures/rfc5702-rsasha512.private"),
        RFC5702_SHA512_DATA,
        RFC5702_SHA512_SIG,
        RFC5702_SHA512_DNSKEY,
        HashAlg::Sha512,
    );
}

fn pss(hash: HashAlg, mgf_hash: HashAlg, salt_len: usize) -> PssParams {
    PssParams {
        hash,
        mgf_hash,
        salt_len,
    }
}

#[test]
fn pss_signatures_verify_across_providers() {
    use HashAlg::*;
    let params = [
        pss(Sha256, Sha256, 32),
        pss(Sha384, Sha384, 48),
        pss(Sha512, Sha512, 64),
        pss(Sha1, Sha1, 20),
        pss(Sha224, Sha224, 28),
        pss(Sha256, Sha256, 0),
        pss(Sha256, Sha256, 20),
        pss(Sha256, Sha1, 32),
        pss(Sha512, Sha256, 10),
    ];
    for key in [legacy_key_1(), rsa_1025()] {
        let sigs = signers(key);
        let vers = verifiers(key);
        let msg = b"PSS message";
        let em_len = (key.public().unwrap().bits() - 1).div_ceil(8);
        for p in params {
            let hash = digest(p.hash, msg);
            if p.hash.output_len() + p.salt_len + 2 > em_len {
                for signer in &sigs {
                    assert_eq!(
                        signer.sign(&SignMechanism::RsaPss(p), &hash),
                        Err(CryptoError::MechanismParamInvalid)
                    );
                }
                continue;
            }
            for signer in &sigs {
                let hashed = SignMechanism::RsaPssHash(p);
                let sig = signer.sign(&hashed, msg).unwrap();
                assert_verifies(&vers, &hashed, msg, &sig);
                assert_verifies(&vers, &SignMechanism::RsaPss(p), &hash, &sig);
                let prehashed = SignMechanism::RsaPss(p);
                let sig = signer.sign(&prehashed, &hash).unwrap();
                assert_verifies(&vers, &hashed, msg, &sig);
                // A different salt length or MGF hash is a different scheme.
                let other = SignMechanism::RsaPss(pss(p.hash, p.mgf_hash, p.salt_len + 1));
                for v in &vers {
                    assert_eq!(
                        v.verify(&other, &hash, &sig),
                        Err(CryptoError::SignatureInvalid)
                    );
                }
            }
        }
    }
}

#[test]
fn own_pss_encoding_agrees_with_rsa_crate() {
    use HashAlg::*;
    for key in [legacy_key_2(), rsa_1025()] {
        let PrivateKeyMaterial::Rsa(parts) = key else {
            panic!()
        };
        let private = SoftRsaPrivate::from_parts(parts).unwrap();
        let public = SoftRsaPublic::new(&parts.n, &parts.e).unwrap();
        for p in [
            pss(Sha256, Sha256, 32),
            pss(Sha1, Sha1, 0),
            pss(Sha512, Sha512, 17),
        ] {
            let hash = digest(p.hash, b"x");
            // Ours signs, the crate verifies (MGF1 = hash takes the crate path) …
            let sig = private.sign_pss_own(digest, &p, &hash).unwrap();
            public.verify_pss(digest, &p, &hash, &sig).unwrap();
            // … and the crate signs, ours verifies.
            let sig = private.sign_pss(digest, &p, &hash).unwrap();
            public.verify_pss_own(digest, &p, &hash, &sig).unwrap();
        }
    }
}

#[test]
fn wrong_length_and_flipped_signatures_are_rejected() {
    let key = legacy_key_1();
    let [aws, _] = signers(key);
    let vers = verifiers(key);
    let msg = b"data";
    let mechs = [
        (SignMechanism::RsaPkcsHash(HashAlg::Sha256), msg.to_vec()),
        (SignMechanism::RsaPkcsHash(HashAlg::Sha1), msg.to_vec()),
        (
            SignMechanism::RsaPkcs,
            HashAlg::Sha256.digest_info(&digest(HashAlg::Sha256, msg)),
        ),
        (SignMechanism::RsaX509, vec![1, 2, 3]),
        (
            SignMechanism::RsaPssHash(pss(HashAlg::Sha256, HashAlg::Sha256, 32)),
            msg.to_vec(),
        ),
        (
            SignMechanism::RsaPssHash(pss(HashAlg::Sha256, HashAlg::Sha1, 8)),
            msg.to_vec(),
        ),
    ];
    for (mech, data) in &mechs {
        let sig = aws.sign(mech, data).unwrap();
        for v in &vers {
            assert_eq!(
                v.verify(mech, data, &sig[1..]),
                Err(CryptoError::SignatureLenRange)
            );
            let mut longer = sig.clone();
            longer.push(0);
            assert_eq!(
                v.verify(mech, data, &longer),
                Err(CryptoError::SignatureLenRange)
            );
            let mut flipped = sig.clone();
            flipped[100] ^= 0x08;
            assert_eq!(
                v.verify(mech, data, &flipped),
                Err(CryptoError::SignatureInvalid)
            );
            // A signature representative ≥ n is invalid, not a length error.
            assert_eq!(
                v.verify(mech, data, &vec![0xff; sig.len()]),
                Err(CryptoError::SignatureInvalid)
            );
            let mut other = data.clone();
            other.push(1);
            assert!(v.verify(mech, &other, &sig).is_err());
        }
    }
}

#[test]
fn rsa_input_limits() {
    let key = legacy_key_1();
    let PublicKeyMaterial::Rsa { n, .. } = key.public().unwrap() else {
        panic!()
    };
    let k = n.len();
    for signer in signers(key) {
        let x509 = SignMechanism::RsaX509;
        assert_eq!(signer.sign(&x509, &n), Err(CryptoError::DataInvalid));
        assert_eq!(
            signer.sign(&x509, &vec![0xff; k]),
            Err(CryptoError::DataInvalid)
        );
        assert_eq!(
            signer.sign(&x509, &vec![1; k + 1]),
            Err(CryptoError::DataLenRange)
        );
        // Shorter input is left-padded with zeros.
        assert_eq!(
            signer.sign(&x509, &[7]).unwrap(),
            signer.sign(&x509, &[0, 0, 7]).unwrap()
        );
        assert_eq!(
            signer.sign(&SignMechanism::RsaPkcs, &vec![1; k - 10]),
            Err(CryptoError::DataLenRange)
        );
        signer
            .sign(&SignMechanism::RsaPkcs, &vec![1; k - 11])
            .unwrap();
        let p = pss(HashAlg::Sha256, HashAlg::Sha256, 32);
        assert_eq!(
            signer.sign(&SignMechanism::RsaPss(p), &[0; 31]),
            Err(CryptoError::DataLenRange)
        );
        let too_salty = pss(HashAlg::Sha512, HashAlg::Sha512, k);
        assert_eq!(
            signer.sign(&SignMechanism::RsaPssHash(too_salty), b"x"),
            Err(CryptoError::MechanismParamInvalid)
        );
        for mech in [
            SignMechanism::Ecdsa,
            SignMechanism::EcdsaHash(HashAlg::Sha256),
            SignMechanism::EdDsa(EdDsaParams::PURE),
        ] {
            assert_eq!(
                signer.sign(&mech, b"x"),
                Err(CryptoError::KeyTypeInconsistent)
            );
        }
    }
    for v in verifiers(key) {
        assert_eq!(
            v.verify(&SignMechanism::EdDsa(EdDsaParams::PURE), b"x", &[0; 64]),
            Err(CryptoError::KeyTypeInconsistent)
        );
        assert_eq!(
            v.verify(&SignMechanism::RsaX509, &vec![1; k + 1], &vec![0; k]),
            Err(CryptoError::DataLenRange)
        );
    }
}

#[test]
fn inconsistent_rsa_components_are_rejected_on_load() {
    let PrivateKeyMaterial::Rsa(parts) = legacy_key_1() else {
        panic!()
    };
    let tamper = |f: &dyn Fn(&mut RsaPrivateParts)| {
        let mut bad = parts.clone();
        f(&mut bad);
        PrivateKeyMaterial::Rsa(bad)
    };
    let bump = |s: &crate::secret::SecretBytes| {
        let mut v = s.expose().to_vec();
        let last = v.len() - 1;
        v[last] ^= 2;
        crate::secret::SecretBytes::new(v)
    };
    let cases = [
        tamper(&|p| p.dp = bump(&p.dp)),
        tamper(&|p| p.dq = bump(&p.dq)),
        tamper(&|p| p.qinv = bump(&p.qinv)),
        tamper(&|p| p.d = bump(&p.d)),
        tamper(&|p| std::mem::swap(&mut p.p, &mut p.q)),
        tamper(&|p| p.e = vec![1, 0, 3]),
    ];
    for bad in &cases {
        for provider in providers() {
            let err = provider.keys.load_private(bad).unwrap_err();
            assert!(matches!(err, CryptoError::KeyImport(_)), "{err:?}");
            assert!(!format!("{err}").contains(&hex::encode(&parts.n[..8])));
        }
    }
}

#[test]
fn rsa_key_generation() {
    // aws-lc fast path (2048, e = 65537) and the rsa-crate path (1024, e = 3).
    let fast = AWS_LC.keygen.rsa(2048, &[1, 0, 1]).unwrap();
    let slow = AWS_LC.keygen.rsa(1024, &[3]).unwrap();
    for (key, bits, e) in [(&fast, 2048, vec![1, 0, 1]), (&slow, 1024, vec![3])] {
        let public = key.public().unwrap();
        assert_eq!(public.bits(), bits);
        let PublicKeyMaterial::Rsa { e: got, .. } = &public else {
            panic!()
        };
        assert_eq!(got, &e);
        let mech = SignMechanism::RsaPkcsHash(HashAlg::Sha256);
        let [a, r] = signers(key);
        let sig = a.sign(&mech, b"m").unwrap();
        assert_eq!(sig, r.sign(&mech, b"m").unwrap());
        assert_verifies(&verifiers(key), &mech, b"m", &sig);
    }
    // No exponent given means 65537; leading zero octets are ignored.
    let default_e = RUST_CRYPTO.keygen.rsa(1024, &[]).unwrap();
    let PublicKeyMaterial::Rsa { e, .. } = default_e.public().unwrap() else {
        panic!()
    };
    assert_eq!(e, [1, 0, 1]);
    for provider in providers() {
        let g = provider.keygen;
        assert_eq!(
            g.rsa(512, &[1, 0, 1]).unwrap_err(),
            CryptoError::KeySizeRange
        );
        assert_eq!(
            g.rsa(8192, &[1, 0, 1]).unwrap_err(),
            CryptoError::KeySizeRange
        );
        for bad_e in [&[2u8][..], &[1], &[0], &[0, 0], &[2, 0, 0, 0, 1]] {
            assert!(matches!(
                g.rsa(2048, bad_e),
                Err(CryptoError::AttributeValueInvalid(_))
            ));
        }
    }
}

#[test]
fn aws_lc_builds_its_key_pair_only_where_it_can() {
    // aws-lc-rs RSA key pairs need ≥ 2048 bits; smaller keys run on the rsa crate alone.
    let big = format!("{:?}", AWS_LC.keys.load_private(legacy_key_1()).unwrap());
    let small = format!("{:?}", AWS_LC.keys.load_private(rsa_1024()).unwrap());
    assert!(big.contains("fast: Some(RsaKeyPair"), "{big}");
    assert!(small.contains("fast: None"), "{small}");
    let pure = format!(
        "{:?}",
        RUST_CRYPTO.keys.load_private(legacy_key_1()).unwrap()
    );
    assert!(!pure.contains("RsaKeyPair"), "{pure}");
}
