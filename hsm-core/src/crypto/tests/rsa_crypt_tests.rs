//! RSA encryption: round trips through both providers, cross-checks against aws-lc-rs's own
//! RSAES-OAEP and RSAES-PKCS1-v1_5, labels, implicit rejection and length rules.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
    OAEP_SHA512_MGF1SHA512, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey,
};

use super::*;

/// An aws-lc-rs RSA-2048 key and the same key as our material.
fn lc_key() -> &'static (PrivateDecryptingKey, PrivateKeyMaterial) {
    static KEY: OnceLock<(PrivateDecryptingKey, PrivateKeyMaterial)> = OnceLock::new();
    KEY.get_or_init(|| {
        let lc = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let der = AsDer::as_der(&lc).unwrap();
        let ours = import_private_key(der.as_ref()).unwrap();
        (lc, ours)
    })
}

fn oaep(hash: HashAlg, mgf_hash: HashAlg, label: &[u8]) -> RsaCrypt {
    RsaCrypt::Oaep(OaepParams {
        hash,
        mgf_hash,
        label: label.to_vec(),
    })
}

fn lc_oaep(hash: HashAlg) -> &'static OaepAlgorithm {
    match hash {
        HashAlg::Sha1 => &OAEP_SHA1_MGF1SHA1,
        HashAlg::Sha256 => &OAEP_SHA256_MGF1SHA256,
        HashAlg::Sha384 => &OAEP_SHA384_MGF1SHA384,
        _ => &OAEP_SHA512_MGF1SHA512,
    }
}

#[test]
fn oaep_with_a_label_interoperates_with_aws_lc() {
    let (lc, key) = lc_key();
    let lc_public = OaepPublicEncryptingKey::new(lc.public_key()).unwrap();
    let lc_private = OaepPrivateDecryptingKey::new(lc.clone()).unwrap();
    let message = b"a session key, say";
    for hash in [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ] {
        for label in [&b""[..], b"strongroom label"] {
            let mech = oaep(hash, hash, label);
            for (signer, verifier) in signers(key).iter().zip(verifiers(key).iter()) {
                // Ours → aws-lc.
                let ct = verifier.encrypt(&mech, message).unwrap();
                assert_eq!(ct.len(), 256);
                let mut out = vec![0u8; 256];
                let plain = lc_private
                    .decrypt(lc_oaep(hash), &ct, &mut out, Some(label))
                    .unwrap();
                assert_eq!(plain, message);
                // aws-lc → ours.
                let mut ct = vec![0u8; 256];
                let ct = lc_public
                    .encrypt(lc_oaep(hash), message, &mut ct, Some(label))
                    .unwrap();
                assert_eq!(signer.decrypt(&mech, ct).unwrap().expose(), message);
                // The wrong label fails like any other bad ciphertext.
                let other = oaep(hash, hash, b"another label");
                assert_eq!(
                    signer.decrypt(&other, ct).unwrap_err(),
                    CryptoError::EncryptedDataInvalid
                );
            }
        }
    }
}

#[test]
fn oaep_with_a_foreign_mgf1_hash_round_trips() {
    let (_, key) = lc_key();
    let [signer, _] = signers(key);
    let [verifier, _] = verifiers(key);
    for (hash, mgf) in [
        (HashAlg::Sha256, HashAlg::Sha1),
        (HashAlg::Sha1, HashAlg::Sha512),
        (HashAlg::Sha224, HashAlg::Sha384),
    ] {
        let mech = oaep(hash, mgf, b"label");
        let ct = verifier.encrypt(&mech, b"m").unwrap();
        assert_eq!(signer.decrypt(&mech, &ct).unwrap().expose(), b"m");
        assert_eq!(
            signer
                .decrypt(&oaep(hash, hash, b"label"), &ct)
                .unwrap_err(),
            CryptoError::EncryptedDataInvalid
        );
    }
    // The largest message: k - 2hLen - 2 bytes.
    let mech = oaep(HashAlg::Sha256, HashAlg::Sha256, b"");
    let max = 256 - 2 * 32 - 2;
    let ct = verifier.encrypt(&mech, &vec![9; max]).unwrap();
    assert_eq!(signer.decrypt(&mech, &ct).unwrap().len(), max);
    assert_eq!(
        verifier.encrypt(&mech, &vec![9; max + 1]).unwrap_err(),
        CryptoError::DataLenRange
    );
}

#[test]
fn pkcs1_v15_round_trips_and_rejects_implicitly() {
    let (lc, key) = lc_key();
    let lc_public = Pkcs1PublicEncryptingKey::new(lc.public_key()).unwrap();
    let lc_private = Pkcs1PrivateDecryptingKey::new(lc.clone()).unwrap();
    let message = b"premaster secret";
    for (signer, verifier) in signers(key).iter().zip(verifiers(key).iter()) {
        let ct = verifier.encrypt(&RsaCrypt::Pkcs1, message).unwrap();
        let mut out = vec![0u8; 256];
        assert_eq!(lc_private.decrypt(&ct, &mut out).unwrap(), message);
        assert_eq!(
            signer.decrypt(&RsaCrypt::Pkcs1, &ct).unwrap().expose(),
            message
        );
        let mut lc_ct = vec![0u8; 256];
        let lc_ct = lc_public.encrypt(message, &mut lc_ct).unwrap();
        assert_eq!(
            signer.decrypt(&RsaCrypt::Pkcs1, lc_ct).unwrap().expose(),
            message
        );
        // Bad padding is not an error (that would be Bleichenbacher's oracle): it decrypts to
        // a pseudo-random message fixed by the key and the ciphertext.
        let mut tampered = ct.clone();
        tampered[100] ^= 0x40;
        let first = signer.decrypt(&RsaCrypt::Pkcs1, &tampered).unwrap();
        let again = signer.decrypt(&RsaCrypt::Pkcs1, &tampered).unwrap();
        assert_ne!(first.expose(), message);
        assert_eq!(first.expose(), again.expose());
        // Length rules: k - 11 bytes at most; the ciphertext exactly k bytes and below n.
        assert!(verifier.encrypt(&RsaCrypt::Pkcs1, &[1; 245]).is_ok());
        assert_eq!(
            verifier.encrypt(&RsaCrypt::Pkcs1, &[1; 246]).unwrap_err(),
            CryptoError::DataLenRange
        );
        assert_eq!(
            signer.decrypt(&RsaCrypt::Pkcs1, &ct[1..]).unwrap_err(),
            CryptoError::EncryptedDataLenRange
        );
        assert_eq!(
            signer.decrypt(&RsaCrypt::Pkcs1, &[0xff; 256]).unwrap_err(),
            CryptoError::EncryptedDataInvalid
        );
    }
}

#[test]
fn raw_rsa_is_the_bare_permutation() {
    let key = rsa_1024();
    for (signer, verifier) in signers(key).iter().zip(verifiers(key).iter()) {
        let ct = verifier.encrypt(&RsaCrypt::X509, b"short").unwrap();
        assert_eq!(ct.len(), 128);
        let plain = signer.decrypt(&RsaCrypt::X509, &ct).unwrap();
        let mut expected = vec![0u8; 123];
        expected.extend_from_slice(b"short");
        assert_eq!(plain.expose(), expected);
        // Raw encryption is raw verification's inverse: it matches a raw signature.
        let sig = signer.sign(&SignMechanism::RsaX509, &ct).unwrap();
        assert_eq!(sig, expected);
        assert_eq!(
            verifier.encrypt(&RsaCrypt::X509, &[0xff; 128]).unwrap_err(),
            CryptoError::DataInvalid
        );
        assert_eq!(
            verifier.encrypt(&RsaCrypt::X509, &[1; 129]).unwrap_err(),
            CryptoError::DataLenRange
        );
    }
}

#[test]
fn only_rsa_keys_encrypt() {
    let ec = AWS_LC.keygen.ec(Curve::P256).unwrap();
    for (signer, verifier) in signers(&ec).iter().zip(verifiers(&ec).iter()) {
        assert_eq!(
            signer.decrypt(&RsaCrypt::Pkcs1, &[0; 64]).unwrap_err(),
            CryptoError::KeyTypeInconsistent
        );
        assert_eq!(
            verifier.encrypt(&RsaCrypt::X509, b"m").unwrap_err(),
            CryptoError::KeyTypeInconsistent
        );
    }
}
