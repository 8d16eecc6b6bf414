//! ECDH (CKM_ECDH1_DERIVE) on P-256/P-384/P-521 with aws-lc-rs, and the ANSI X9.63 KDF
//! (CKD_SHA*_KDF) applied to the shared secret.

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ECDH_P521, UnparsedPublicKey};

use super::digest::Digest;
use super::{CryptoError, Curve, HashAlg};
use crate::secret::SecretBytes;

fn algorithm(curve: Curve) -> &'static agreement::Algorithm {
    match curve {
        Curve::P256 => &ECDH_P256,
        Curve::P384 => &ECDH_P384,
        Curve::P521 => &ECDH_P521,
    }
}

/// The shared secret Z (the x-coordinate of d·Q, field-length bytes) of our private scalar
/// `d` and the peer's uncompressed point. A point not on the curve is
/// `MechanismParamInvalid`: it came in the mechanism's parameter.
pub fn ecdh(curve: Curve, d: &[u8], peer_point: &[u8]) -> Result<SecretBytes, CryptoError> {
    let len = curve.field_len();
    if d.is_empty() || d.len() > len {
        return Err(CryptoError::KeyImport(format!(
            "EC private scalar for {curve:?} must be 1..={len} bytes"
        )));
    }
    let mut scalar = vec![0u8; len];
    scalar[len - d.len()..].copy_from_slice(d);
    let scalar = SecretBytes::new(scalar);
    let private = agreement::PrivateKey::from_private_key(algorithm(curve), scalar.expose())
        .map_err(|_| CryptoError::KeyImport("aws-lc-rs rejected the EC private key".into()))?;
    if peer_point.len() != curve.point_len() || peer_point.first() != Some(&0x04) {
        return Err(CryptoError::MechanismParamInvalid);
    }
    let peer = UnparsedPublicKey::new(algorithm(curve), peer_point);
    agreement::agree(&private, peer, CryptoError::MechanismParamInvalid, |z| {
        Ok(SecretBytes::from_slice(z))
    })
}

/// The ANSI X9.63 KDF (SEC 1 §3.6.1): `len` bytes of H(Z ‖ counter ‖ SharedInfo) for
/// counter = 1, 2, ... as a 32-bit big-endian integer.
pub fn x963_kdf(
    hash: HashAlg,
    z: &[u8],
    shared_info: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    let blocks = len.div_ceil(hash.output_len());
    if u32::try_from(blocks).is_err() {
        return Err(CryptoError::DataLenRange);
    }
    let mut out = Vec::with_capacity(blocks * hash.output_len());
    for counter in 1..=blocks as u32 {
        let mut digest = Digest::new(hash);
        digest.update(z);
        digest.update(&counter.to_be_bytes());
        digest.update(shared_info);
        out.extend_from_slice(SecretBytes::new(digest.finish()).expose());
    }
    out.truncate(len);
    Ok(SecretBytes::new(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::crypto::ec;

    #[test]
    fn both_sides_agree_on_every_curve() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let a = ec::generate_scalar(curve).unwrap();
            let b = ec::generate_scalar(curve).unwrap();
            let a_pub = ec::public_point(curve, a.expose()).unwrap();
            let b_pub = ec::public_point(curve, b.expose()).unwrap();
            let ab = ecdh(curve, a.expose(), &b_pub).unwrap();
            let ba = ecdh(curve, b.expose(), &a_pub).unwrap();
            assert_eq!(ab, ba);
            assert_eq!(ab.len(), curve.field_len());
            let mut off_curve = b_pub.clone();
            off_curve[10] ^= 1;
            assert_eq!(
                ecdh(curve, a.expose(), &off_curve).unwrap_err(),
                CryptoError::MechanismParamInvalid
            );
        }
    }

    /// RFC 5903 §8.1: the P-256 ECDH example (Z is the x-coordinate of the shared point).
    #[test]
    fn rfc5903_p256_vector() {
        let i = hex::decode("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433")
            .unwrap();
        let gr = hex::decode(concat!(
            "04D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63",
            "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
        ))
        .unwrap();
        let z = ecdh(Curve::P256, &i, &gr).unwrap();
        assert_eq!(
            hex::encode_upper(z.expose()),
            "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"
        );
    }

    /// The X9.63 KDF against the first SHA-256 case of NIST's CAVS ansx963_2001 vectors.
    #[test]
    fn x963_kdf_vector() {
        let z = hex::decode("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08").unwrap();
        let out = x963_kdf(HashAlg::Sha256, &z, &[], 16).unwrap();
        assert_eq!(
            hex::encode(out.expose()),
            "443024c3dae66b95e6f5670601558f71"
        );
    }
}
