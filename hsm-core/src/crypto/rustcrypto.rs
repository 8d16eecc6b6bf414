//! The pure-Rust provider: `rsa` 0.10, `p256`, `p384`, `p521`, hashing with `sha1`/`sha2`.
//!
//! It is the second implementation the differential tests compare aws-lc-rs against, and the
//! fallback objects the aws-lc provider wraps for mechanisms aws-lc-rs cannot express.

use std::sync::Arc;

use super::digest::soft_digest;
use super::ec::{self, SoftEcPrivate, SoftEcPublic};
use super::ed448::{self, Ed448Signer, Ed448Verifier};
use super::ed25519::{self, Ed25519Signer, Ed25519Verifier};
use super::padding::HashFn;
use super::rsa_crypt;
use super::rsa_soft::{SoftRsaPrivate, SoftRsaPublic};
use super::types::KeyKind;
use super::{
    CryptoError, Curve, KeyGenerator, KeyLoader, PrivateKeyMaterial, PublicKeyMaterial, RsaCrypt,
    SignMechanism, SigningKey, VerifyingKey,
};
use crate::secret::SecretBytes;

pub(crate) struct RustCryptoKeys;
pub(crate) struct RustCryptoKeygen;

impl KeyLoader for RustCryptoKeys {
    fn load_private(&self, key: &PrivateKeyMaterial) -> Result<Arc<dyn SigningKey>, CryptoError> {
        match key {
            PrivateKeyMaterial::Rsa(parts) => {
                let key = SoftRsaPrivate::from_parts(parts)?;
                let public = key.public().material().clone();
                Ok(Arc::new(RsaSigner { key, public }))
            }
            PrivateKeyMaterial::Ec { curve, d } => {
                let key = SoftEcPrivate::new(*curve, d.expose())?;
                let public = PublicKeyMaterial::Ec {
                    curve: *curve,
                    point: key.public_point(),
                };
                Ok(Arc::new(EcSigner { key, public }))
            }
            PrivateKeyMaterial::Ed25519 { seed } => Ed25519Signer::load(seed),
            PrivateKeyMaterial::Ed448 { seed } => Ed448Signer::load(seed),
        }
    }

    fn load_public(&self, key: &PublicKeyMaterial) -> Result<Arc<dyn VerifyingKey>, CryptoError> {
        match key {
            PublicKeyMaterial::Rsa { n, e } => Ok(Arc::new(RsaVerifier {
                key: SoftRsaPublic::new(n, e)?,
                public: key.clone(),
            })),
            PublicKeyMaterial::Ec { curve, point } => Ok(Arc::new(EcVerifier {
                key: SoftEcPublic::new(*curve, point)?,
                public: key.clone(),
            })),
            PublicKeyMaterial::Ed25519 { public } => Ed25519Verifier::load(public),
            PublicKeyMaterial::Ed448 { public } => Ed448Verifier::load(public),
        }
    }
}

impl KeyGenerator for RustCryptoKeygen {
    fn rsa(&self, bits: u32, public_exponent: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
        let (bits, e) = super::rsa_keygen_params(bits, public_exponent)?;
        Ok(PrivateKeyMaterial::Rsa(SoftRsaPrivate::generate(bits, &e)?))
    }

    fn ec(&self, curve: Curve) -> Result<PrivateKeyMaterial, CryptoError> {
        Ok(PrivateKeyMaterial::Ec {
            curve,
            d: ec::generate_scalar(curve)?,
        })
    }

    fn ed25519(&self) -> Result<PrivateKeyMaterial, CryptoError> {
        Ok(PrivateKeyMaterial::Ed25519 {
            seed: ed25519::generate_seed()?,
        })
    }

    fn ed448(&self) -> Result<PrivateKeyMaterial, CryptoError> {
        Ok(PrivateKeyMaterial::Ed448 {
            seed: ed448::generate_seed()?,
        })
    }
}

/// RSA signing entirely on the `rsa` crate.
#[derive(Debug)]
struct RsaSigner {
    key: SoftRsaPrivate,
    public: PublicKeyMaterial,
}

impl SigningKey for RsaSigner {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        KeyKind::Rsa.check(mech)?;
        self.key.sign(soft_digest, mech, data)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        self.key.modulus_len()
    }

    fn decrypt(&self, mech: &RsaCrypt, data: &[u8]) -> Result<SecretBytes, CryptoError> {
        rsa_crypt::decrypt(&self.key, mech, data)
    }
}

#[derive(Debug)]
struct RsaVerifier {
    key: SoftRsaPublic,
    public: PublicKeyMaterial,
}

impl VerifyingKey for RsaVerifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        KeyKind::Rsa.check(mech)?;
        self.key.verify(soft_digest, mech, data, signature)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn encrypt(&self, mech: &RsaCrypt, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        rsa_crypt::encrypt(&self.key, mech, data)
    }
}

/// The prehash an ECDSA mechanism signs: the input itself, or its digest.
pub(crate) fn ecdsa_prehash(
    hash: HashFn,
    mech: &SignMechanism,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match *mech {
        SignMechanism::Ecdsa => Ok(data.to_vec()),
        SignMechanism::EcdsaHash(alg) => Ok(hash(alg, data)),
        _ => Err(CryptoError::KeyTypeInconsistent),
    }
}

#[derive(Debug)]
struct EcSigner {
    key: SoftEcPrivate,
    public: PublicKeyMaterial,
}

impl SigningKey for EcSigner {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key
            .sign_prehash(&ecdsa_prehash(soft_digest, mech, data)?)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        self.key.curve().signature_len()
    }
}

#[derive(Debug)]
struct EcVerifier {
    key: SoftEcPublic,
    public: PublicKeyMaterial,
}

impl VerifyingKey for EcVerifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let z = ecdsa_prehash(soft_digest, mech, data)?;
        self.key.verify_prehash(&z, signature)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }
}
