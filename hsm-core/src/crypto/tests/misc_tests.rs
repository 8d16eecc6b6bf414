//! Digests, randomness, AES key wrap, Ed25519 and secret redaction.

use super::super::aes::Ecb;
use super::super::digest::soft_digest;
use super::*;

#[test]
fn digests_match_fips_180_vectors() {
    let expected = [
        (HashAlg::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            HashAlg::Sha224,
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            HashAlg::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            HashAlg::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            HashAlg::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    for (alg, hex_digest) in expected {
        assert_eq!(hex::encode(digest(alg, b"abc")), hex_digest);
        assert_eq!(hex::encode(soft_digest(alg, b"abc")), hex_digest);
        assert_eq!(digest(alg, b"abc").len(), alg.output_len());
        let mut multi = Digest::new(alg);
        multi.update(b"a");
        multi.update(b"");
        let copy = multi.clone();
        multi.update(b"bc");
        assert_eq!(hex::encode(multi.finish()), hex_digest);
        assert_eq!(copy.finish(), digest(alg, b"a"));
        let long = vec![0x61; 10_000];
        assert_eq!(digest(alg, &long), soft_digest(alg, &long));
        let prefix = alg.digest_info_prefix();
        assert_eq!(usize::from(prefix[prefix.len() - 1]), alg.output_len());
        assert_eq!(prefix.len() + alg.output_len(), usize::from(prefix[1]) + 2);
    }
}

#[test]
fn random_bytes_are_filled() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    random_bytes(&mut a).unwrap();
    random_bytes(&mut b).unwrap();
    assert_ne!(a, b);
    random_bytes(&mut []).unwrap();
    for len in [16, 24, 32] {
        assert_eq!(generate_aes_key(len).unwrap().len(), len);
    }
    assert_eq!(generate_aes_key(20).unwrap_err(), CryptoError::KeySizeRange);
}

/// RFC 3394 §4.1, §4.2, §4.4, §4.6 and RFC 5649 §6 (checked with Python `cryptography`).
const KW_VECTORS: [(&str, &str, &str, bool); 6] = [
    (
        "000102030405060708090A0B0C0D0E0F",
        "00112233445566778899AABBCCDDEEFF",
        "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
        false,
    ),
    (
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF",
        "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
        false,
    ),
    (
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF0001020304050607",
        "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
        false,
    ),
    (
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        false,
    ),
    (
        "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
        "c37b7e6492584340bed12207808941155068f738",
        "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
        true,
    ),
    (
        "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
        "466f7250617369",
        "afbeb0f07dfbf5419200f2ccb50bb24f",
        true,
    ),
];

#[test]
fn aes_key_wrap_vectors() {
    for (kek, key, wrapped, pad) in KW_VECTORS {
        let (kek, key, wrapped) = (unhex(kek), unhex(key), unhex(wrapped));
        assert_eq!(aes_key_wrap(&kek, &key, pad).unwrap(), wrapped);
        assert_eq!(
            aes_key_unwrap(&kek, &wrapped, pad).unwrap().expose(),
            key.as_slice()
        );
        // Our own wrap rounds agree with the vector for every KEK size, not just AES-192.
        let ecb = Ecb::new(&kek).unwrap();
        assert_eq!(ecb.wrap(&key, pad).unwrap(), wrapped);
        assert_eq!(ecb.unwrap(&wrapped, pad).unwrap().expose(), key.as_slice());
    }
}

#[test]
fn aes_key_wrap_round_trips_and_rejects_tampering() {
    for kek_len in [16, 24, 32] {
        let kek = generate_aes_key(kek_len).unwrap();
        let ecb = Ecb::new(kek.expose()).unwrap();
        for (len, pad) in [
            (16usize, false),
            (24, false),
            (32, false),
            (1, true),
            (8, true),
            (9, true),
            (31, true),
            (32, true),
        ] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let wrapped = aes_key_wrap(kek.expose(), &key, pad).unwrap();
            assert_eq!(wrapped.len(), len.div_ceil(8) * 8 + 8);
            assert_eq!(
                ecb.wrap(&key, pad).unwrap(),
                wrapped,
                "kek {kek_len} len {len}"
            );
            let unwrapped = aes_key_unwrap(kek.expose(), &wrapped, pad).unwrap();
            assert_eq!(unwrapped.expose(), key.as_slice());
            for i in [0, wrapped.len() - 1] {
                let mut bad = wrapped.clone();
                bad[i] ^= 0x40;
                assert_eq!(
                    aes_key_unwrap(kek.expose(), &bad, pad).unwrap_err(),
                    CryptoError::WrappedKeyInvalid
                );
            }
            // Unwrapping with the other algorithm must not succeed either.
            assert!(aes_key_unwrap(kek.expose(), &wrapped, !pad).is_err());
        }
    }
    let kek = [0u8; 16];
    assert_eq!(
        aes_key_wrap(&kek, &[0; 12], false),
        Err(CryptoError::DataLenRange)
    );
    assert_eq!(
        aes_key_wrap(&kek, &[0; 8], false),
        Err(CryptoError::DataLenRange)
    );
    assert_eq!(
        aes_key_wrap(&kek, &[], true),
        Err(CryptoError::DataLenRange)
    );
    assert_eq!(
        aes_key_wrap(&[0; 20], &[0; 16], false),
        Err(CryptoError::KeySizeRange)
    );
    assert_eq!(
        aes_key_unwrap(&kek, &[0; 20], false).unwrap_err(),
        CryptoError::WrappedKeyInvalid
    );
    assert_eq!(
        aes_key_unwrap(&kek, &[0; 8], true).unwrap_err(),
        CryptoError::WrappedKeyInvalid
    );
}

#[test]
fn ed25519_sign_and_verify() {
    let rfc8080 = import_private_key(include_bytes!(
        "../../../../fixtures/rfc8080-ed25519.private"
    ))
    .unwrap();
    let expected = PublicKeyMaterial::Ed25519 {
        public: b64("l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=")
            .try_into()
            .unwrap(),
    };
    assert_eq!(rfc8080.public().unwrap(), expected);
    let generated = providers().map(|p| p.keygen.ed25519().unwrap());
    for key in [&rfc8080, &generated[0], &generated[1]] {
        let [a, r] = signers(key);
        let vers = verifiers(key);
        let mech = SignMechanism::EdDsa(EdDsaParams::PURE);
        let sig = a.sign(&mech, b"msg").unwrap();
        assert_eq!(sig.len(), 64);
        assert_eq!(a.signature_len(&mech), 64);
        assert_eq!(
            sig,
            r.sign(&mech, b"msg").unwrap(),
            "Ed25519 is deterministic"
        );
        assert_verifies(&vers, &mech, b"msg", &sig);
        for v in &vers {
            assert_eq!(
                v.verify(&mech, b"msg", &sig[..63]),
                Err(CryptoError::SignatureLenRange)
            );
            let mut flipped = sig.clone();
            flipped[10] ^= 1;
            assert_eq!(
                v.verify(&mech, b"msg", &flipped),
                Err(CryptoError::SignatureInvalid)
            );
            assert_eq!(
                v.verify(&SignMechanism::Ecdsa, b"msg", &sig),
                Err(CryptoError::KeyTypeInconsistent)
            );
        }
        assert_eq!(
            a.sign(&SignMechanism::RsaPkcs, b"x"),
            Err(CryptoError::KeyTypeInconsistent)
        );
    }
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let keys = [
        legacy_key_1().clone(),
        import_private_key(include_bytes!(
            "../../../../fixtures/rfc6605-ecdsap256.private"
        ))
        .unwrap(),
        import_private_key(include_bytes!(
            "../../../../fixtures/rfc8080-ed25519.private"
        ))
        .unwrap(),
    ];
    for key in &keys {
        let secret = match key {
            PrivateKeyMaterial::Rsa(parts) => parts.d.expose().to_vec(),
            PrivateKeyMaterial::Ec { d, .. } => d.expose().to_vec(),
            PrivateKeyMaterial::Ed25519 { seed } | PrivateKeyMaterial::Ed448 { seed } => {
                seed.expose().to_vec()
            }
        };
        let needle = hex::encode(&secret[..6]);
        let needle_upper = needle.to_uppercase();
        let decimal = format!("{:?}", &secret[..6])
            .trim_matches(['[', ']'])
            .to_string();
        let mut shown = vec![format!("{key:?}"), format!("{key:#?}")];
        for signer in signers(key) {
            shown.push(format!("{signer:?}"));
        }
        for s in shown {
            assert!(!s.contains(&needle) && !s.contains(&needle_upper), "{s}");
            assert!(!s.contains(&decimal), "{s}");
        }
    }
}
