//! The crypto provider: one struct of trait objects, chosen at start-up (rustls-style).
//!
//! [`AWS_LC`] is the fast, constant-time path; it falls back internally to the pure-Rust
//! crates for what aws-lc-rs cannot express (raw RSA, PKCS#1 v1.5 over an arbitrary
//! DigestInfo, PSS with foreign MGF1/salt, ECDSA over a hash of another length, RSA keys under
//! 2048 bits). [`RUST_CRYPTO`] is the pure `rsa` 0.10 / `p256` / `p384` / `p521` implementation that
//! serves as the second implementation in differential tests (EdDSA is shared: Ed25519 on
//! aws-lc-rs, with `ed25519-dalek` for Ed25519ctx/ph, and Ed448 on `ed448-goldilocks`).
//!
//! Loading a key validates it and builds the backend objects once; the caller caches the
//! returned `Arc` per object so signing never re-parses.
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::Arc;

mod aes;
mod awslc;
mod cipher;
mod digest;
mod ec;
mod ec_params;
mod ecdh;
mod ed25519;
mod ed448;
mod gcm;
mod hmac;
mod import;
mod kbkdf;
mod mac;
mod padding;
mod rsa_crypt;
mod rsa_soft;
mod rustcrypto;
mod types;

#[cfg(test)]
mod tests;

pub use aes::{aes_key_unwrap, aes_key_wrap, generate_aes_key, generate_secret};
pub use cipher::{AesCipher, AesMode, Direction, GCM_MAX_IV_LEN, GcmSpec};
pub use digest::{Digest, digest, random_bytes};
pub use ecdh::{ecdh, x963_kdf};
pub use hmac::Hmac;
pub use import::import_private_key;
pub use kbkdf::{IntFormat, KbkdfField, KbkdfLayout, KbkdfPrf, kbkdf};
pub use mac::{Cmac, Mac};
pub use types::{
    Curve, EdDsaParams, HashAlg, OaepParams, PrivateKeyMaterial, PssParams, PublicKeyMaterial,
    RsaCrypt, RsaPrivateParts, SignMechanism,
};

use crate::secret::SecretBytes;

/// Errors of the crypto layer; each maps onto one PKCS#11 return code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// CKR_MECHANISM_INVALID: the mechanism is not supported at all.
    #[error("mechanism not supported")]
    MechanismInvalid,
    /// CKR_MECHANISM_PARAM_INVALID: e.g. a PSS salt too long for the modulus.
    #[error("mechanism parameters invalid")]
    MechanismParamInvalid,
    /// CKR_KEY_TYPE_INCONSISTENT: the mechanism does not fit the key.
    #[error("mechanism does not fit the key type")]
    KeyTypeInconsistent,
    /// CKR_KEY_SIZE_RANGE.
    #[error("key size out of range")]
    KeySizeRange,
    /// CKR_DATA_LEN_RANGE.
    #[error("input length out of range for the mechanism")]
    DataLenRange,
    /// CKR_DATA_INVALID (e.g. a raw RSA block not below the modulus).
    #[error("input invalid for the mechanism")]
    DataInvalid,
    /// CKR_SIGNATURE_INVALID.
    #[error("signature invalid")]
    SignatureInvalid,
    /// CKR_SIGNATURE_LEN_RANGE.
    #[error("signature has the wrong length")]
    SignatureLenRange,
    /// CKR_WRAPPED_KEY_INVALID.
    #[error("wrapped key invalid")]
    WrappedKeyInvalid,
    /// CKR_ENCRYPTED_DATA_INVALID: bad padding, a failed GCM tag, a ciphertext not below n.
    #[error("encrypted data invalid")]
    EncryptedDataInvalid,
    /// CKR_ENCRYPTED_DATA_LEN_RANGE: a ciphertext of a length the mechanism cannot produce.
    #[error("encrypted data has the wrong length")]
    EncryptedDataLenRange,
    /// CKR_ATTRIBUTE_VALUE_INVALID (e.g. an unusable RSA public exponent for generation).
    #[error("attribute value invalid: {0}")]
    AttributeValueInvalid(String),
    /// The key text or components are malformed or inconsistent; the message says how.
    #[error("key import: {0}")]
    KeyImport(String),
    /// CKR_FUNCTION_FAILED: the OS RNG failed.
    #[error("random number generator failed")]
    Rng,
    /// CKR_GENERAL_ERROR: a backend failed unexpectedly.
    #[error("internal crypto error: {0}")]
    Internal(String),
}

/// A loaded private key (backend objects built once).
pub trait SigningKey: Send + Sync + fmt::Debug {
    /// Signs `data` as `mech` defines it; PKCS#11 output form (r ‖ s for ECDSA).
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError>;
    fn public(&self) -> &PublicKeyMaterial;
    /// Signature length for `mech` (`C_Sign` with a NULL buffer).
    fn signature_len(&self, mech: &SignMechanism) -> usize;
    /// Decrypts with an RSA encryption scheme; keys of other kinds refuse.
    fn decrypt(&self, _mech: &RsaCrypt, _data: &[u8]) -> Result<SecretBytes, CryptoError> {
        Err(CryptoError::KeyTypeInconsistent)
    }
}

/// A loaded public key.
pub trait VerifyingKey: Send + Sync + fmt::Debug {
    /// `SignatureLenRange` for a wrong-length signature, `SignatureInvalid` for a bad one.
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;
    fn public(&self) -> &PublicKeyMaterial;
    /// Encrypts with an RSA encryption scheme; keys of other kinds refuse.
    fn encrypt(&self, _mech: &RsaCrypt, _data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Err(CryptoError::KeyTypeInconsistent)
    }
}

/// Builds backend key objects from stored material, validating it.
pub trait KeyLoader: Send + Sync {
    fn load_private(&self, key: &PrivateKeyMaterial) -> Result<Arc<dyn SigningKey>, CryptoError>;
    fn load_public(&self, key: &PublicKeyMaterial) -> Result<Arc<dyn VerifyingKey>, CryptoError>;
}

/// Generates key pairs.
pub trait KeyGenerator: Send + Sync {
    /// `bits` in 1024..=4096; `public_exponent` big-endian, odd, 3 ≤ e < 2^33 (empty = 65537).
    fn rsa(&self, bits: u32, public_exponent: &[u8]) -> Result<PrivateKeyMaterial, CryptoError>;
    fn ec(&self, curve: Curve) -> Result<PrivateKeyMaterial, CryptoError>;
    fn ed25519(&self) -> Result<PrivateKeyMaterial, CryptoError>;
    fn ed448(&self) -> Result<PrivateKeyMaterial, CryptoError>;
}

/// A complete backend, selected once at start-up.
pub struct CryptoProvider {
    pub keys: &'static dyn KeyLoader,
    pub keygen: &'static dyn KeyGenerator,
    pub name: &'static str,
}

impl fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// aws-lc-rs with pure-Rust fallbacks for what it cannot express.
pub static AWS_LC: CryptoProvider = CryptoProvider {
    keys: &awslc::AwsLcKeys,
    keygen: &awslc::AwsLcKeygen,
    name: "aws-lc-rs",
};

/// Pure `rsa` 0.10 / `p256` / `p384` / `p521` (EdDSA shared), for differential testing.
pub static RUST_CRYPTO: CryptoProvider = CryptoProvider {
    keys: &rustcrypto::RustCryptoKeys,
    keygen: &rustcrypto::RustCryptoKeygen,
    name: "rustcrypto",
};

/// The provider the HSM uses unless told otherwise.
pub fn default_provider() -> &'static CryptoProvider {
    &AWS_LC
}

/// Checks RSA generation parameters shared by both providers; returns (bits, e).
pub(crate) fn rsa_keygen_params(
    bits: u32,
    public_exponent: &[u8],
) -> Result<(usize, Vec<u8>), CryptoError> {
    if !(1024..=4096).contains(&bits) {
        return Err(CryptoError::KeySizeRange);
    }
    let e = if public_exponent.is_empty() {
        vec![0x01, 0x00, 0x01]
    } else {
        types::strip_leading_zeros(public_exponent).to_vec()
    };
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    let bit_len = types::bit_len(&e);
    if !odd || !(2..=33).contains(&bit_len) {
        return Err(CryptoError::AttributeValueInvalid(
            "RSA public exponent must be odd, at least 3 and below 2^33".into(),
        ));
    }
    Ok((bits as usize, e))
}
