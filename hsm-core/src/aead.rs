//! AES-256-GCM sealing of private data.
//!
//! Every private object and every card share is sealed here, so the format is fixed in one
//! place: `nonce (12) || ciphertext || tag (16)`, with a fresh random nonce per call. Random
//! 96-bit nonces are safe for far more messages than a token will ever write under one key.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};
use zeroize::Zeroize;

use crate::secret::{SecretBytes, SecretKey};

/// Length of the random nonce at the start of a sealed blob.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag at the end of a sealed blob.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed blob adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Errors of sealing and opening; they never reveal key or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum AeadError {
    #[error("sealed data is truncated: {len} bytes, at least {OVERHEAD} expected")]
    Truncated { len: usize },
    #[error(
        "authentication failed: wrong key, data bound to another context, or the data was modified"
    )]
    Authentication,
    #[error("encryption failed: the data is too large for AES-GCM")]
    TooLarge,
    #[error("the operating system's random number generator failed")]
    Rng,
}

fn cipher(key: &SecretKey<32>) -> Aes256Gcm {
    // The cipher keeps only the expanded key, which the `zeroize` feature wipes on drop.
    Aes256Gcm::new(key.expose().into())
}

/// Encrypts and authenticates `plaintext`, binding it to `aad` (which is not encrypted).
pub fn seal(key: &SecretKey<32>, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, AeadError> {
    let mut nonce_bytes = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce_bytes).map_err(|_| AeadError::Rng)?;
    let nonce = Nonce::<Aes256Gcm>::from(nonce_bytes);

    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(plaintext);
    match cipher(key).encrypt_inout_detached(&nonce, aad, out[NONCE_LEN..].as_mut().into()) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(_) => {
            // `out` may still hold plaintext.
            out.zeroize();
            Err(AeadError::TooLarge)
        }
    }
}

/// Checks and decrypts a blob made by [`seal`] with the same key and `aad`.
pub fn open(key: &SecretKey<32>, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, AeadError> {
    if sealed.len() < OVERHEAD {
        return Err(AeadError::Truncated { len: sealed.len() });
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| AeadError::Authentication)?;
    let tag = Tag::<Aes256Gcm>::try_from(tag).map_err(|_| AeadError::Authentication)?;

    let mut buf = ciphertext.to_vec();
    match cipher(key).decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag) {
        Ok(()) => Ok(SecretBytes::new(buf)),
        Err(_) => {
            buf.zeroize();
            Err(AeadError::Authentication)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey<32> {
        SecretKey::new([b; 32])
    }

    #[test]
    fn round_trip() {
        for len in [0usize, 1, 15, 16, 17, 100, 4096] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = seal(&key(1), b"serial/42", &pt).unwrap();
            assert_eq!(sealed.len(), pt.len() + OVERHEAD);
            assert_eq!(
                open(&key(1), b"serial/42", &sealed).unwrap().expose(),
                &pt[..]
            );
        }
    }

    #[test]
    fn known_answer_nist_gcm_test_case_14() {
        // McGrew & Viega GCM test case 14: 256-bit zero key, zero IV, one zero block.
        let k = SecretKey::new([0u8; 32]);
        let mut sealed = vec![0u8; NONCE_LEN];
        sealed.extend(hex::decode("cea7403d4d606b6e074ec5d3baf39d18").unwrap());
        sealed.extend(hex::decode("d0d1c8a799996bf0265b98b5d48ab919").unwrap());
        assert_eq!(open(&k, b"", &sealed).unwrap().expose(), &[0u8; 16]);
    }

    #[test]
    fn nonces_are_fresh() {
        let a = seal(&key(1), b"", b"same").unwrap();
        let b = seal(&key(1), b"", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_or_aad_fails_authentication() {
        let sealed = seal(&key(1), b"token-A/obj-1", b"private").unwrap();
        assert!(matches!(
            open(&key(2), b"token-A/obj-1", &sealed),
            Err(AeadError::Authentication)
        ));
        assert!(matches!(
            open(&key(1), b"token-A/obj-2", &sealed),
            Err(AeadError::Authentication)
        ));
    }

    #[test]
    fn every_flipped_bit_fails_authentication() {
        let sealed = seal(&key(7), b"aad", b"some private bytes").unwrap();
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    matches!(open(&key(7), b"aad", &bad), Err(AeadError::Authentication)),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn truncation_is_reported_distinctly() {
        let sealed = seal(&key(1), b"", b"").unwrap();
        assert_eq!(sealed.len(), OVERHEAD);
        for len in 0..OVERHEAD {
            assert!(matches!(
                open(&key(1), b"", &sealed[..len]),
                Err(AeadError::Truncated { len: l }) if l == len
            ));
        }
        // A truncated but still long enough blob fails authentication.
        let sealed = seal(&key(1), b"", b"0123456789").unwrap();
        assert!(matches!(
            open(&key(1), b"", &sealed[..sealed.len() - 1]),
            Err(AeadError::Authentication)
        ));
    }
}
