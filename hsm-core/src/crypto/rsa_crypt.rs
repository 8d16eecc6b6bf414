//! RSA encryption on the `rsa` 0.10 crate: RSAES-PKCS1-v1_5, RSAES-OAEP with any hash, MGF1
//! hash and label, and raw RSA. Every private operation is blinded.
//!
//! PKCS#1 v1.5 decryption uses the crate's implicit rejection (draft-irtf-cfrg-rsa-guidance
//! §7.2): a ciphertext with bad padding decrypts to a pseudo-random message derived from the
//! key and the ciphertext instead of failing, so neither an error nor its timing tells an
//! attacker about the padding (the Bleichenbacher/Marvin oracle).

use rsa::Oaep;
use rsa::traits::PaddingScheme;
use sha2::digest::{Digest, FixedOutputReset};

use super::digest::OsRng;
use super::rsa_soft::{SoftRsaPrivate, SoftRsaPublic};
use super::{CryptoError, HashAlg, OaepParams, PublicKeyMaterial, RsaCrypt};
use crate::secret::SecretBytes;

/// Something to do with an OAEP padding whose hash types are chosen at run time.
trait WithOaep {
    type Out;
    fn run<P: PaddingScheme>(self, padding: P) -> Self::Out;
}

fn with_oaep<T: WithOaep>(params: &OaepParams, job: T) -> T::Out {
    match params.hash {
        HashAlg::Sha1 => with_mgf::<sha1::Sha1, T>(params, job),
        HashAlg::Sha224 => with_mgf::<sha2::Sha224, T>(params, job),
        HashAlg::Sha256 => with_mgf::<sha2::Sha256, T>(params, job),
        HashAlg::Sha384 => with_mgf::<sha2::Sha384, T>(params, job),
        HashAlg::Sha512 => with_mgf::<sha2::Sha512, T>(params, job),
    }
}

fn with_mgf<D, T>(params: &OaepParams, job: T) -> T::Out
where
    D: Digest + FixedOutputReset + Send + Sync,
    T: WithOaep,
{
    let label = params.label.clone();
    match params.mgf_hash {
        HashAlg::Sha1 => job.run(Oaep::<D, sha1::Sha1>::new_with_mgf_hash_and_label(label)),
        HashAlg::Sha224 => job.run(Oaep::<D, sha2::Sha224>::new_with_mgf_hash_and_label(label)),
        HashAlg::Sha256 => job.run(Oaep::<D, sha2::Sha256>::new_with_mgf_hash_and_label(label)),
        HashAlg::Sha384 => job.run(Oaep::<D, sha2::Sha384>::new_with_mgf_hash_and_label(label)),
        HashAlg::Sha512 => job.run(Oaep::<D, sha2::Sha512>::new_with_mgf_hash_and_label(label)),
    }
}

struct Encrypt<'a> {
    key: &'a rsa::PublicKey,
    data: &'a [u8],
}

impl WithOaep for Encrypt<'_> {
    type Out = rsa::Result<Vec<u8>>;
    fn run<P: PaddingScheme>(self, padding: P) -> Self::Out {
        self.key.encrypt(&mut OsRng, padding, self.data)
    }
}

struct Decrypt<'a> {
    key: &'a rsa::PrivateKey,
    data: &'a [u8],
}

impl WithOaep for Decrypt<'_> {
    type Out = rsa::Result<Vec<u8>>;
    fn run<P: PaddingScheme>(self, padding: P) -> Self::Out {
        self.key.decrypt_blinded(&mut OsRng, padding, self.data)
    }
}

fn encrypt_err(err: rsa::Error) -> CryptoError {
    match err {
        rsa::Error::MessageTooLong => CryptoError::DataLenRange,
        rsa::Error::Rng => CryptoError::Rng,
        other => CryptoError::Internal(format!("rsa encryption: {other}")),
    }
}

fn decrypt_err(err: rsa::Error) -> CryptoError {
    match err {
        rsa::Error::Rng => CryptoError::Rng,
        _ => CryptoError::EncryptedDataInvalid,
    }
}

/// Encrypts `data` under the public key.
pub(crate) fn encrypt(
    key: &SoftRsaPublic,
    mech: &RsaCrypt,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let k = key.modulus_len();
    match mech {
        RsaCrypt::Pkcs1 => {
            if data.len() + 11 > k {
                return Err(CryptoError::DataLenRange);
            }
            key.rsa_key()
                .encrypt(&mut OsRng, rsa::Pkcs1v15Encrypt, data)
                .map_err(encrypt_err)
        }
        RsaCrypt::Oaep(params) => {
            if data.len() + 2 * params.hash.output_len() + 2 > k {
                return Err(CryptoError::DataLenRange);
            }
            let job = Encrypt {
                key: key.rsa_key(),
                data,
            };
            with_oaep(params, job).map_err(encrypt_err)
        }
        RsaCrypt::X509 => {
            if data.len() > k {
                return Err(CryptoError::DataLenRange);
            }
            let mut block = vec![0u8; k - data.len()];
            block.extend_from_slice(data);
            if !below_modulus(key.material(), &block) {
                return Err(CryptoError::DataInvalid);
            }
            key.raw(&block).map_err(|e| match e {
                CryptoError::SignatureInvalid | CryptoError::SignatureLenRange => {
                    CryptoError::DataInvalid
                }
                other => other,
            })
        }
    }
}

/// Decrypts a ciphertext of exactly k bytes with the private key.
pub(crate) fn decrypt(
    key: &SoftRsaPrivate,
    mech: &RsaCrypt,
    data: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if data.len() != key.modulus_len() {
        return Err(CryptoError::EncryptedDataLenRange);
    }
    // Public information: a ciphertext not below n is no RSA ciphertext at all.
    if !below_modulus(key.public().material(), data) {
        return Err(CryptoError::EncryptedDataInvalid);
    }
    let plain = match mech {
        RsaCrypt::Pkcs1 => key
            .rsa_key()
            .decrypt_blinded(&mut OsRng, rsa::Pkcs1v15Encrypt, data)
            .map_err(decrypt_err)?,
        RsaCrypt::Oaep(params) => {
            let job = Decrypt {
                key: key.rsa_key(),
                data,
            };
            with_oaep(params, job).map_err(decrypt_err)?
        }
        RsaCrypt::X509 => key.raw(data).map_err(|e| match e {
            CryptoError::DataInvalid | CryptoError::DataLenRange => {
                CryptoError::EncryptedDataInvalid
            }
            other => other,
        })?,
    };
    Ok(SecretBytes::new(plain))
}

/// True when the k-byte big-endian `block` is below the modulus (also k bytes once stripped).
fn below_modulus(public: &PublicKeyMaterial, block: &[u8]) -> bool {
    let PublicKeyMaterial::Rsa { n, .. } = public else {
        return false;
    };
    block.len() == n.len() && block < n.as_slice()
}
