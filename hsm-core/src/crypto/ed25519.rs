//! Ed25519 (CKM_EDDSA) for both providers: plain Ed25519 on aws-lc-rs, whose API has no
//! context or prehash; Ed25519ph on `ed25519-dalek`; Ed25519ctx (RFC 8032 §5.1 with the
//! dom2 prefix), which `ed25519-dalek` does not offer, composed here from its expanded secret
//! key and `curve25519-dalek`'s group operations.

use std::sync::Arc;

use aws_lc_rs::signature::{self as sig, KeyPair as _};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::hazmat::ExpandedSecretKey;
use sha2::{Digest as _, Sha512};
use zeroize::Zeroize as _;

use super::types::KeyKind;
use super::{CryptoError, EdDsaParams, PublicKeyMaterial, SignMechanism, SigningKey, VerifyingKey};
use crate::secret::SecretBytes;

const SIGNATURE_LEN: usize = 64;

fn keypair(seed: &[u8]) -> Result<sig::Ed25519KeyPair, CryptoError> {
    if seed.len() != 32 {
        return Err(CryptoError::KeyImport(format!(
            "Ed25519 seed must be 32 bytes, got {}",
            seed.len()
        )));
    }
    sig::Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_| CryptoError::KeyImport("Ed25519 seed rejected".into()))
}

fn public_of(pair: &sig::Ed25519KeyPair) -> Result<[u8; 32], CryptoError> {
    pair.public_key()
        .as_ref()
        .try_into()
        .map_err(|_| CryptoError::Internal("Ed25519 public key is not 32 bytes".into()))
}

/// Derives the public key from a 32-byte seed (RFC 8032 §5.1.5).
pub(crate) fn public_from_seed(seed: &[u8]) -> Result<[u8; 32], CryptoError> {
    public_of(&keypair(seed)?)
}

/// Draws a fresh seed.
pub(crate) fn generate_seed() -> Result<SecretBytes, CryptoError> {
    SecretBytes::random(32).map_err(|_| CryptoError::Rng)
}

/// The EdDSA parameters of a mechanism that must be CKM_EDDSA.
fn eddsa_params(mech: &SignMechanism) -> Result<EdDsaParams, CryptoError> {
    KeyKind::Ed25519.check(mech)?;
    match mech {
        SignMechanism::EdDsa(params) => Ok(params.clone()),
        _ => Err(CryptoError::KeyTypeInconsistent),
    }
}

/// SHA-512 started with dom2(0, context), the prefix of Ed25519ctx (RFC 8032 §5.1).
fn dom2_hash(context: &[u8]) -> Sha512 {
    let mut h = Sha512::new();
    h.update(b"SigEd25519 no Ed25519 collisions");
    // `EdDsaParams` holds at most 255 context bytes, so the length fits its octet.
    h.update([0, context.len() as u8]);
    h.update(context);
    h
}

/// The SHA-512 prehash of Ed25519ph.
fn prehashed(data: &[u8]) -> Sha512 {
    let mut h = Sha512::new();
    h.update(data);
    h
}

/// An Ed25519 signing key.
pub(crate) struct Ed25519Signer {
    pair: sig::Ed25519KeyPair,
    dalek: ed25519_dalek::SigningKey,
    public: PublicKeyMaterial,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    pub(crate) fn load(seed: &SecretBytes) -> Result<Arc<dyn SigningKey>, CryptoError> {
        let pair = keypair(seed.expose())?;
        let secret: &[u8; 32] = seed
            .expose()
            .try_into()
            .map_err(|_| CryptoError::KeyImport("Ed25519 seed must be 32 bytes".into()))?;
        let public = PublicKeyMaterial::Ed25519 {
            public: public_of(&pair)?,
        };
        Ok(Arc::new(Self {
            pair,
            dalek: ed25519_dalek::SigningKey::from_bytes(secret),
            public,
        }))
    }

    /// Ed25519ctx: RFC 8032 §5.1.6 with dom2(0, context) before the nonce and challenge
    /// hashes.
    fn sign_ctx(&self, context: &[u8], data: &[u8]) -> Vec<u8> {
        let esk = ExpandedSecretKey::from(self.dalek.as_bytes());
        let public = self.dalek.verifying_key();
        let mut r = Scalar::from_hash(
            dom2_hash(context)
                .chain_update(esk.hash_prefix)
                .chain_update(data),
        );
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let k = Scalar::from_hash(
            dom2_hash(context)
                .chain_update(big_r.as_bytes())
                .chain_update(public.as_bytes())
                .chain_update(data),
        );
        let s = k * esk.scalar + r;
        // The nonce would give the key away with the signature; the expanded key wipes itself.
        r.zeroize();
        let mut signature = big_r.to_bytes().to_vec();
        signature.extend_from_slice(s.as_bytes());
        signature
    }
}

impl SigningKey for Ed25519Signer {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let params = eddsa_params(mech)?;
        if params.is_pure() {
            return Ok(self.pair.sign(data).as_ref().to_vec());
        }
        if params.prehash() {
            let signature = self
                .dalek
                .sign_prehashed(prehashed(data), Some(params.context()))
                .map_err(|_| CryptoError::MechanismParamInvalid)?;
            return Ok(signature.to_bytes().to_vec());
        }
        Ok(self.sign_ctx(params.context(), data))
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        SIGNATURE_LEN
    }
}

/// An Ed25519 verifying key.
#[derive(Debug)]
pub(crate) struct Ed25519Verifier {
    key: sig::ParsedPublicKey,
    dalek: ed25519_dalek::VerifyingKey,
    public: PublicKeyMaterial,
}

impl Ed25519Verifier {
    pub(crate) fn load(public: &[u8; 32]) -> Result<Arc<dyn VerifyingKey>, CryptoError> {
        let rejected = || CryptoError::KeyImport("Ed25519 public key rejected".into());
        let key = sig::ParsedPublicKey::new(&sig::ED25519, public).map_err(|_| rejected())?;
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| rejected())?;
        Ok(Arc::new(Self {
            key,
            dalek,
            public: PublicKeyMaterial::Ed25519 { public: *public },
        }))
    }

    /// Ed25519ctx verification: [S]B = R + [k]A, checked as the encoding of [S]B - [k]A
    /// against R (as `ed25519-dalek` does), with S below the group order.
    fn verify_ctx(&self, context: &[u8], data: &[u8], signature: &[u8]) -> bool {
        let (Some(r_bytes), Some(s_bytes)) = (
            signature
                .get(..32)
                .and_then(|r| <[u8; 32]>::try_from(r).ok()),
            signature
                .get(32..)
                .and_then(|s| <[u8; 32]>::try_from(s).ok()),
        ) else {
            return false;
        };
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let k = Scalar::from_hash(
            dom2_hash(context)
                .chain_update(r_bytes)
                .chain_update(self.dalek.as_bytes())
                .chain_update(data),
        );
        let minus_a = -self.dalek.to_edwards();
        let expected_r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
        expected_r.compress() == CompressedEdwardsY(r_bytes)
    }
}

impl VerifyingKey for Ed25519Verifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let params = eddsa_params(mech)?;
        if signature.len() != SIGNATURE_LEN {
            return Err(CryptoError::SignatureLenRange);
        }
        let valid = if params.is_pure() {
            self.key.verify_sig(data, signature).is_ok()
        } else if params.prehash() {
            ed25519_dalek::Signature::from_slice(signature).is_ok_and(|s| {
                self.dalek
                    .verify_prehashed(prehashed(data), Some(params.context()), &s)
                    .is_ok()
            })
        } else {
            self.verify_ctx(params.context(), data, signature)
        };
        if valid {
            Ok(())
        } else {
            Err(CryptoError::SignatureInvalid)
        }
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }
}
