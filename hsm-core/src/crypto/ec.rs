//! ECDSA on the pure-Rust `p256`/`p384`/`p521` crates: prehash signing over a hash of any length
//! (SEC 1 §4.1.3 step 5 truncation, left-padding when shorter), which aws-lc-rs cannot do,
//! plus public point derivation and scalar generation.

use p256::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};

use super::digest::OsRng;
use super::{CryptoError, Curve};
use crate::secret::SecretBytes;

/// Left-pads a scalar to the field length (CKA_VALUE and BIND may drop leading zeros).
fn padded_scalar(curve: Curve, d: &[u8]) -> Result<SecretBytes, CryptoError> {
    let len = curve.field_len();
    if d.is_empty() || d.len() > len {
        return Err(CryptoError::KeyImport(format!(
            "EC private scalar for {curve:?} must be 1..={len} bytes, got {}",
            d.len()
        )));
    }
    let mut out = vec![0u8; len];
    out[len - d.len()..].copy_from_slice(d);
    Ok(SecretBytes::new(out))
}

fn bad_scalar(curve: Curve) -> CryptoError {
    CryptoError::KeyImport(format!(
        "EC private scalar is not in [1, n-1] for {curve:?}"
    ))
}

/// A validated ECDSA private key.
pub(crate) enum SoftEcPrivate {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl std::fmt::Debug for SoftEcPrivate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SoftEcPrivate({:?})", self.curve())
    }
}

impl SoftEcPrivate {
    pub(crate) fn new(curve: Curve, d: &[u8]) -> Result<Self, CryptoError> {
        let d = padded_scalar(curve, d)?;
        Ok(match curve {
            Curve::P256 => SoftEcPrivate::P256(
                p256::ecdsa::SigningKey::from_slice(d.expose()).map_err(|_| bad_scalar(curve))?,
            ),
            Curve::P384 => SoftEcPrivate::P384(
                p384::ecdsa::SigningKey::from_slice(d.expose()).map_err(|_| bad_scalar(curve))?,
            ),
            Curve::P521 => SoftEcPrivate::P521(
                p521::ecdsa::SigningKey::from_slice(d.expose()).map_err(|_| bad_scalar(curve))?,
            ),
        })
    }

    pub(crate) fn curve(&self) -> Curve {
        match self {
            SoftEcPrivate::P256(_) => Curve::P256,
            SoftEcPrivate::P384(_) => Curve::P384,
            SoftEcPrivate::P521(_) => Curve::P521,
        }
    }

    /// Uncompressed public point 0x04 ‖ X ‖ Y.
    pub(crate) fn public_point(&self) -> Vec<u8> {
        match self {
            SoftEcPrivate::P256(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            SoftEcPrivate::P384(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            SoftEcPrivate::P521(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// Signs a prehash of any non-zero length; RFC 6979 k hedged with fresh randomness.
    pub(crate) fn sign_prehash(&self, z: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if z.is_empty() {
            return Err(CryptoError::DataLenRange);
        }
        let failed = |_| CryptoError::Internal("ECDSA signing failed".into());
        Ok(match self {
            SoftEcPrivate::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, z).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            SoftEcPrivate::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, z).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            SoftEcPrivate::P521(k) => {
                let sig: p521::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, z).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
        })
    }
}

/// An ECDSA public key (a validated curve point).
#[derive(Debug)]
pub(crate) enum SoftEcPublic {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

impl SoftEcPublic {
    /// Accepts only the uncompressed encoding 0x04 ‖ X ‖ Y of a point on `curve`.
    pub(crate) fn new(curve: Curve, point: &[u8]) -> Result<Self, CryptoError> {
        if point.len() != curve.point_len() || point.first() != Some(&0x04) {
            return Err(CryptoError::KeyImport(format!(
                "EC point for {curve:?} must be uncompressed (0x04 ‖ X ‖ Y, {} bytes)",
                curve.point_len()
            )));
        }
        let bad = |_| CryptoError::KeyImport(format!("EC point is not on {curve:?}"));
        Ok(match curve {
            Curve::P256 => {
                SoftEcPublic::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?)
            }
            Curve::P384 => {
                SoftEcPublic::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?)
            }
            Curve::P521 => {
                SoftEcPublic::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?)
            }
        })
    }

    pub(crate) fn curve(&self) -> Curve {
        match self {
            SoftEcPublic::P256(_) => Curve::P256,
            SoftEcPublic::P384(_) => Curve::P384,
            SoftEcPublic::P521(_) => Curve::P521,
        }
    }

    /// Verifies r ‖ s over a prehash of any non-zero length.
    pub(crate) fn verify_prehash(&self, z: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != self.curve().signature_len() {
            return Err(CryptoError::SignatureLenRange);
        }
        if z.is_empty() {
            return Err(CryptoError::DataLenRange);
        }
        let ok = match self {
            SoftEcPublic::P256(k) => p256::ecdsa::Signature::from_slice(sig)
                .map(|s| k.verify_prehash(z, &s).is_ok())
                .unwrap_or(false),
            SoftEcPublic::P384(k) => p384::ecdsa::Signature::from_slice(sig)
                .map(|s| k.verify_prehash(z, &s).is_ok())
                .unwrap_or(false),
            SoftEcPublic::P521(k) => p521::ecdsa::Signature::from_slice(sig)
                .map(|s| k.verify_prehash(z, &s).is_ok())
                .unwrap_or(false),
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::SignatureInvalid)
        }
    }
}

/// Derives the uncompressed public point of scalar `d`.
pub(crate) fn public_point(curve: Curve, d: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(SoftEcPrivate::new(curve, d)?.public_point())
}

/// Draws a uniformly random valid scalar by rejection sampling.
pub(crate) fn generate_scalar(curve: Curve) -> Result<SecretBytes, CryptoError> {
    loop {
        let d = SecretBytes::random(curve.field_len()).map_err(|_| CryptoError::Rng)?;
        if SoftEcPrivate::new(curve, d.expose()).is_ok() {
            return Ok(d);
        }
    }
}
