//! Ed448 and Ed448ph (RFC 8032 §5.2, CKM_EDDSA on `CKA_EC_PARAMS` edwards448) on the
//! pure-Rust `ed448-goldilocks` crate for both providers: aws-lc-rs offers no Ed448.
//! Ed448 always carries a context (dom4), empty when the caller gives none.

use std::sync::Arc;

use ed448_goldilocks::shake::Shake256;
use ed448_goldilocks::shake::digest::Update as _;
use ed448_goldilocks::{PreHasherXof, Signature};

use super::types::KeyKind;
use super::{CryptoError, EdDsaParams, PublicKeyMaterial, SignMechanism, SigningKey, VerifyingKey};
use crate::secret::SecretBytes;

/// Seed and public key length (RFC 8032 §5.2.5).
pub(crate) const KEY_LEN: usize = 57;
const SIGNATURE_LEN: usize = 114;

fn signing_key(seed: &[u8]) -> Result<ed448_goldilocks::SigningKey, CryptoError> {
    ed448_goldilocks::SigningKey::try_from(seed).map_err(|_| {
        CryptoError::KeyImport(format!(
            "Ed448 seed must be {KEY_LEN} bytes, got {}",
            seed.len()
        ))
    })
}

/// Derives the 57-byte public key from a seed (RFC 8032 §5.2.5).
pub(crate) fn public_from_seed(seed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(signing_key(seed)?.verifying_key().to_bytes().to_vec())
}

/// Draws a fresh seed.
pub(crate) fn generate_seed() -> Result<SecretBytes, CryptoError> {
    SecretBytes::random(KEY_LEN).map_err(|_| CryptoError::Rng)
}

fn eddsa_params(mech: &SignMechanism) -> Result<EdDsaParams, CryptoError> {
    KeyKind::Ed448.check(mech)?;
    match mech {
        SignMechanism::EdDsa(params) => Ok(params.clone()),
        _ => Err(CryptoError::KeyTypeInconsistent),
    }
}

/// The SHAKE256 (64-byte) prehash of Ed448ph.
fn prehashed(data: &[u8]) -> PreHasherXof<Shake256> {
    Shake256::default().chain(data).into()
}

/// An Ed448 signing key (the crate zeroizes it on drop).
pub(crate) struct Ed448Signer {
    key: ed448_goldilocks::SigningKey,
    public: PublicKeyMaterial,
}

impl std::fmt::Debug for Ed448Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed448Signer")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Ed448Signer {
    pub(crate) fn load(seed: &SecretBytes) -> Result<Arc<dyn SigningKey>, CryptoError> {
        let key = signing_key(seed.expose())?;
        let public = PublicKeyMaterial::Ed448 {
            public: key.verifying_key().to_bytes().to_vec(),
        };
        Ok(Arc::new(Self { key, public }))
    }
}

impl SigningKey for Ed448Signer {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let params = eddsa_params(mech)?;
        let signature = if params.prehash() {
            self.key
                .sign_prehashed(Some(params.context()), prehashed(data))
        } else {
            self.key.sign_ctx(params.context(), data)
        }
        .map_err(|_| CryptoError::MechanismParamInvalid)?;
        Ok(signature.to_bytes().to_vec())
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        SIGNATURE_LEN
    }
}

/// An Ed448 verifying key.
#[derive(Debug)]
pub(crate) struct Ed448Verifier {
    key: ed448_goldilocks::VerifyingKey,
    public: PublicKeyMaterial,
}

impl Ed448Verifier {
    pub(crate) fn load(public: &[u8]) -> Result<Arc<dyn VerifyingKey>, CryptoError> {
        let rejected = || CryptoError::KeyImport("Ed448 public key rejected".into());
        let bytes: &[u8; KEY_LEN] = public.try_into().map_err(|_| rejected())?;
        let key = ed448_goldilocks::VerifyingKey::from_bytes(bytes).map_err(|_| rejected())?;
        Ok(Arc::new(Self {
            key,
            public: PublicKeyMaterial::Ed448 {
                public: public.to_vec(),
            },
        }))
    }
}

impl VerifyingKey for Ed448Verifier {
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
        let signature =
            Signature::from_slice(signature).map_err(|_| CryptoError::SignatureInvalid)?;
        let verified = if params.prehash() {
            self.key
                .verify_prehashed(&signature, Some(params.context()), prehashed(data))
        } else {
            self.key.verify_ctx(&signature, params.context(), data)
        };
        verified.map_err(|_| CryptoError::SignatureInvalid)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }
}
