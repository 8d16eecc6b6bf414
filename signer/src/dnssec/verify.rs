//! Signature verification for DNSSEC algorithms, and the RSA inputs an HSM is handed.
//!
//! Verification is aws-lc-rs (RSA PKCS#1 v1.5, ECDSA in the fixed r ‖ s form, Ed25519). RSA
//! keys below aws-lc-rs's 1024-bit floor (the 512-bit RFC 5702 §6.1 example) go to `rsa`.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};

use super::key::{DnsKey, strip_leading_zeros};

/// DER `DigestInfo` prefixes (RFC 8017 §9.2 note 1); the hash follows them.
pub const DIGEST_INFO_SHA1: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
pub const DIGEST_INFO_SHA256: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
pub const DIGEST_INFO_SHA512: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// Smallest RSA modulus accepted at all (RFC 3110 §2 allows 512 bits); aws-lc-rs takes 1024+.
const RSA_MIN_BITS: usize = 512;
const AWS_LC_RSA_MIN_BITS: usize = 1024;
/// aws-lc-rs's ceiling.
const RSA_MAX_BITS: usize = 8192;

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("DNSSEC algorithm {0} is not supported")]
    UnsupportedAlgorithm(u8),
    #[error("malformed public key for algorithm {algorithm}: {reason}")]
    MalformedKey { algorithm: u8, reason: String },
    #[error("the signature does not verify")]
    BadSignature,
    #[error("an RSA modulus of {modulus_len} bytes cannot hold a {needed}-byte PKCS#1 block")]
    ModulusTooShort { modulus_len: usize, needed: usize },
}

/// The RSA parts of a DNSSEC algorithm: hash, DigestInfo prefix, aws-lc-rs parameters.
struct RsaScheme {
    hash: &'static digest::Algorithm,
    digest_info: &'static [u8],
    params: &'static RsaParameters,
}

/// RSASHA1 (5), RSASHA1-NSEC3-SHA1 (7), RSASHA256 (8), RSASHA512 (10).
fn rsa_scheme(algorithm: u8) -> Option<RsaScheme> {
    match algorithm {
        5 | 7 => Some(RsaScheme {
            hash: &digest::SHA1_FOR_LEGACY_USE_ONLY,
            digest_info: DIGEST_INFO_SHA1,
            params: &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        }),
        8 => Some(RsaScheme {
            hash: &digest::SHA256,
            digest_info: DIGEST_INFO_SHA256,
            params: &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        }),
        10 => Some(RsaScheme {
            hash: &digest::SHA512,
            digest_info: DIGEST_INFO_SHA512,
            params: &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        }),
        _ => None,
    }
}

/// Verifies `signature` (the RRSIG signature field) over `signed_data` with `key`.
/// Algorithms: 5, 7, 8, 10 (RSA), 13, 14 (ECDSA P-256/P-384, r ‖ s), 15 (Ed25519).
/// Ed448 (16) is refused as unsupported: aws-lc-rs has no Ed448.
pub fn verify(key: &DnsKey, signed_data: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let algorithm = key.algorithm;
    if let Some(scheme) = rsa_scheme(algorithm) {
        return verify_rsa(key, &scheme, signed_data, signature);
    }
    let (verifier, key_len): (&'static dyn signature::VerificationAlgorithm, usize) =
        match algorithm {
            13 => (&signature::ECDSA_P256_SHA256_FIXED, 64),
            14 => (&signature::ECDSA_P384_SHA384_FIXED, 96),
            15 => (&signature::ED25519, 32),
            _ => return Err(VerifyError::UnsupportedAlgorithm(algorithm)),
        };
    if key.public_key.len() != key_len {
        return Err(malformed(
            algorithm,
            format!("{} bytes, expected {key_len}", key.public_key.len()),
        ));
    }
    let public_key = if algorithm == 15 {
        key.public_key.clone()
    } else {
        // RFC 6605 stores X ‖ Y; aws-lc-rs wants the uncompressed SEC1 point 04 ‖ X ‖ Y.
        let mut point = Vec::with_capacity(key_len + 1);
        point.push(0x04);
        point.extend_from_slice(&key.public_key);
        point
    };
    UnparsedPublicKey::new(verifier, public_key)
        .verify(signed_data, signature)
        .map_err(|_| VerifyError::BadSignature)
}

fn verify_rsa(
    key: &DnsKey,
    scheme: &RsaScheme,
    signed_data: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let algorithm = key.algorithm;
    let (modulus, exponent) = key
        .rsa_components()
        .ok_or_else(|| malformed(algorithm, "not in RFC 3110 form".into()))?;
    let (n, e) = (strip_leading_zeros(modulus), strip_leading_zeros(exponent));
    let bits = key.rsa_bits().unwrap_or(0);
    if bits < RSA_MIN_BITS {
        return Err(malformed(
            algorithm,
            format!("{bits}-bit modulus is below {RSA_MIN_BITS} bits"),
        ));
    }
    if bits > RSA_MAX_BITS {
        return Err(malformed(
            algorithm,
            format!("{bits}-bit modulus is above {RSA_MAX_BITS} bits"),
        ));
    }
    if e.is_empty() {
        return Err(malformed(algorithm, "zero exponent".into()));
    }
    if bits >= AWS_LC_RSA_MIN_BITS {
        return RsaPublicKeyComponents { n, e }
            .verify(scheme.params, signed_data, signature)
            .map_err(|_| VerifyError::BadSignature);
    }
    // Below aws-lc-rs's floor: `rsa` with an explicit size range and the same DigestInfo.
    let public = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(n),
        rsa::BoxedUint::from_be_slice_vartime(e),
        RSA_MIN_BITS..=AWS_LC_RSA_MIN_BITS - 1,
    )
    .map_err(|err| malformed(algorithm, err.to_string()))?;
    let padding = rsa::Pkcs1v15Sign {
        hash_len: Some(scheme.hash.output_len()),
        prefix: scheme.digest_info.into(),
    };
    let hash = digest::digest(scheme.hash, signed_data);
    public
        .verify(padding, hash.as_ref(), signature)
        .map_err(|_| VerifyError::BadSignature)
}

fn malformed(algorithm: u8, reason: String) -> VerifyError {
    VerifyError::MalformedKey { algorithm, reason }
}

/// `DigestInfo ‖ hash(data)`: what `CKM_RSA_PKCS` signs (the HSM adds the 00 01 FF… padding).
/// SHA-1 for algorithms 5 and 7, SHA-256 for 8, SHA-512 for 10.
pub fn digest_info(algorithm: u8, data: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let scheme = rsa_scheme(algorithm).ok_or(VerifyError::UnsupportedAlgorithm(algorithm))?;
    let mut out = scheme.digest_info.to_vec();
    out.extend_from_slice(digest::digest(scheme.hash, data).as_ref());
    Ok(out)
}

/// The full EMSA-PKCS1-v1_5 block `00 01 FF…FF 00 ‖ DigestInfo ‖ hash` of `modulus_len`
/// bytes (RFC 8017 §9.2): what IANA's tool sends to `CKM_RSA_X_509` (raw RSA).
pub fn emsa_pkcs1_v15(
    algorithm: u8,
    data: &[u8],
    modulus_len: usize,
) -> Result<Vec<u8>, VerifyError> {
    let t = digest_info(algorithm, data)?;
    // At least 8 bytes of FF padding (RFC 8017 §9.2 step 3).
    let needed = t.len() + 11;
    if modulus_len < needed {
        return Err(VerifyError::ModulusTooShort {
            modulus_len,
            needed,
        });
    }
    let mut em = Vec::with_capacity(modulus_len);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(modulus_len - t.len() - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(&t);
    Ok(em)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn key(flags: u16, alg: u8, b64: &str) -> DnsKey {
        DnsKey::new(flags, alg, STANDARD.decode(b64).unwrap()).unwrap()
    }

    const RFC5702_SIGNED: &str = "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b";

    #[test]
    fn rfc5702_512_bit_uses_rsa_crate() {
        let k = key(
            256,
            8,
            "AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=",
        );
        assert_eq!(k.key_tag(), 9033);
        assert_eq!(k.rsa_bits(), Some(512));
        let data = hex::decode(RFC5702_SIGNED).unwrap();
        let mut sig = STANDARD.decode("kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==").unwrap();
        verify(&k, &data, &sig).unwrap();
        sig[10] ^= 0x01;
        assert_eq!(verify(&k, &data, &sig), Err(VerifyError::BadSignature));
    }

    #[test]
    fn emsa_block_matches_vectors_md() {
        let data = hex::decode(RFC5702_SIGNED).unwrap();
        assert_eq!(
            hex::encode(digest_info(8, &data).unwrap()),
            "3031300d0609608648016503040201050004201f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
        );
        assert_eq!(
            hex::encode(emsa_pkcs1_v15(8, &data, 64).unwrap()),
            "0001ffffffffffffffffffff003031300d0609608648016503040201050004201f3cb0b430354865876f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc"
        );
        assert_eq!(
            emsa_pkcs1_v15(8, &data, 61),
            Err(VerifyError::ModulusTooShort {
                modulus_len: 61,
                needed: 62
            })
        );
        assert_eq!(
            emsa_pkcs1_v15(13, &data, 256),
            Err(VerifyError::UnsupportedAlgorithm(13))
        );
        let sha512 = digest_info(10, &data).unwrap();
        assert_eq!(
            hex::encode(&sha512[..19]),
            "3051300d060960864801650304020305000440"
        );
        assert_eq!(sha512.len(), 19 + 64);
        assert_eq!(digest_info(5, &data).unwrap().len(), 15 + 20);
    }

    #[test]
    fn digest_info_prefixes_agree_with_rsa_crate() {
        let sha256 = rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha256>();
        assert_eq!(&*sha256.prefix, DIGEST_INFO_SHA256);
        let sha512 = rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha512>();
        assert_eq!(&*sha512.prefix, DIGEST_INFO_SHA512);
    }

    #[test]
    fn unsupported_and_malformed() {
        let ed448 = DnsKey::new(257, 16, vec![0; 57]).unwrap();
        assert_eq!(
            verify(&ed448, b"x", &[0; 114]),
            Err(VerifyError::UnsupportedAlgorithm(16))
        );
        let gost = DnsKey::new(257, 12, vec![0; 64]).unwrap();
        assert_eq!(
            verify(&gost, b"x", &[0; 64]),
            Err(VerifyError::UnsupportedAlgorithm(12))
        );
        let short_ec = DnsKey::new(257, 13, vec![1; 63]).unwrap();
        assert!(matches!(
            verify(&short_ec, b"x", &[0; 64]),
            Err(VerifyError::MalformedKey { .. })
        ));
        let tiny_rsa = DnsKey::from_rsa(256, 8, &[0xc1; 32], &[1, 0, 1]).unwrap();
        assert!(matches!(
            verify(&tiny_rsa, b"x", &[0; 32]),
            Err(VerifyError::MalformedKey { .. })
        ));
        let huge_rsa = DnsKey::from_rsa(256, 8, &[0xc1; 1025], &[1, 0, 1]).unwrap();
        assert!(matches!(
            verify(&huge_rsa, b"x", &[0; 1025]),
            Err(VerifyError::MalformedKey { .. })
        ));
        let bad_rfc3110 = DnsKey::new(256, 8, vec![9, 1, 0, 1]).unwrap();
        assert!(matches!(
            verify(&bad_rfc3110, b"x", &[0; 32]),
            Err(VerifyError::MalformedKey { .. })
        ));
    }
}
