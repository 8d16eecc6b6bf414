//! Ed25519 (CKM_EDDSA, pure) on aws-lc-rs for both providers: no pure-Rust Ed25519 crate is
//! among the project's dependencies.

use std::sync::Arc;

use aws_lc_rs::signature::{self as sig, KeyPair as _};

use super::types::KeyKind;
use super::{CryptoError, PublicKeyMaterial, SignMechanism, SigningKey, VerifyingKey};
use crate::secret::SecretBytes;

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

/// An Ed25519 signing key.
pub(crate) struct Ed25519Signer {
    pair: sig::Ed25519KeyPair,
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
        let public = PublicKeyMaterial::Ed25519 {
            public: public_of(&pair)?,
        };
        Ok(Arc::new(Self { pair, public }))
    }
}

impl SigningKey for Ed25519Signer {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        KeyKind::Ed25519.check(mech)?;
        Ok(self.pair.sign(data).as_ref().to_vec())
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        64
    }
}

/// An Ed25519 verifying key.
#[derive(Debug)]
pub(crate) struct Ed25519Verifier {
    key: sig::ParsedPublicKey,
    public: PublicKeyMaterial,
}

impl Ed25519Verifier {
    pub(crate) fn load(public: &[u8; 32]) -> Result<Arc<dyn VerifyingKey>, CryptoError> {
        let key = sig::ParsedPublicKey::new(&sig::ED25519, public)
            .map_err(|_| CryptoError::KeyImport("Ed25519 public key rejected".into()))?;
        Ok(Arc::new(Self {
            key,
            public: PublicKeyMaterial::Ed25519 { public: *public },
        }))
    }
}

impl VerifyingKey for Ed25519Verifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        KeyKind::Ed25519.check(mech)?;
        if signature.len() != 64 {
            return Err(CryptoError::SignatureLenRange);
        }
        self.key
            .verify_sig(data, signature)
            .map_err(|_| CryptoError::SignatureInvalid)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }
}
