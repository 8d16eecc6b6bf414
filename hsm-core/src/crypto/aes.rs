//! AES key generation and AES key wrap (RFC 3394, CKM_AES_KEY_WRAP; RFC 5649, CKM_AES_KEY_WRAP_PAD).
//!
//! aws-lc-rs's `key_wrap` covers 128- and 256-bit KEKs; 192-bit KEKs (allowed by both RFCs
//! and PKCS#11) go through our own implementation of the same algorithm over aws-lc's AES-ECB.

use aws_lc_rs::cipher::{
    AES_192, DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::key_wrap::{self, AesKek, KeyWrap, KeyWrapPadded};
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;
use crate::secret::SecretBytes;

/// RFC 3394 §2.2.3.1 default initial value.
const KW_IV: [u8; 8] = [0xa6; 8];
/// RFC 5649 §3 alternative initial value (high half); the low half is the length.
const KWP_AIV: [u8; 4] = [0xa6, 0x59, 0x59, 0xa6];

/// Draws a fresh AES key of 16, 24 or 32 bytes.
pub fn generate_aes_key(len: usize) -> Result<SecretBytes, CryptoError> {
    if !matches!(len, 16 | 24 | 32) {
        return Err(CryptoError::KeySizeRange);
    }
    SecretBytes::random(len).map_err(|_| CryptoError::Rng)
}

/// Draws a fresh generic secret (HMAC) key; 1..=512 bytes, the range the token offers.
pub fn generate_secret(len: usize) -> Result<SecretBytes, CryptoError> {
    if !(1..=512).contains(&len) {
        return Err(CryptoError::KeySizeRange);
    }
    SecretBytes::random(len).map_err(|_| CryptoError::Rng)
}

/// Wraps `key` under `kek` (RFC 3394 when `pad` is false, RFC 5649 when true).
pub fn aes_key_wrap(kek: &[u8], key: &[u8], pad: bool) -> Result<Vec<u8>, CryptoError> {
    if pad {
        if key.is_empty() || key.len() > u32::MAX as usize {
            return Err(CryptoError::DataLenRange);
        }
    } else if key.len() < 16 || !key.len().is_multiple_of(8) {
        return Err(CryptoError::DataLenRange);
    }
    match kek.len() {
        16 | 32 => {
            let kek = lc_kek(kek)?;
            let mut out = vec![0u8; key.len() + 16];
            let len = if pad {
                kek.wrap_with_padding(key, &mut out)
            } else {
                kek.wrap(key, &mut out)
            }
            .map_err(|_| CryptoError::Internal("AES key wrap failed".into()))?
            .len();
            out.truncate(len);
            Ok(out)
        }
        24 => Ecb::new(kek)?.wrap(key, pad),
        _ => Err(CryptoError::KeySizeRange),
    }
}

/// Unwraps `wrapped` under `kek`; any integrity failure is `WrappedKeyInvalid`.
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8], pad: bool) -> Result<SecretBytes, CryptoError> {
    let min = if pad { 16 } else { 24 };
    if wrapped.len() < min || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::WrappedKeyInvalid);
    }
    match kek.len() {
        16 | 32 => {
            let kek = lc_kek(kek)?;
            let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
            let plain = if pad {
                kek.unwrap_with_padding(wrapped, &mut out)
            } else {
                kek.unwrap(wrapped, &mut out)
            }
            .map_err(|_| CryptoError::WrappedKeyInvalid)?;
            Ok(SecretBytes::from_slice(plain))
        }
        24 => Ecb::new(kek)?.unwrap(wrapped, pad),
        _ => Err(CryptoError::KeySizeRange),
    }
}

fn lc_kek(kek: &[u8]) -> Result<AesKek, CryptoError> {
    let cipher = if kek.len() == 16 {
        &key_wrap::AES_128
    } else {
        &key_wrap::AES_256
    };
    AesKek::new(cipher, kek).map_err(|_| CryptoError::KeySizeRange)
}

/// AES-ECB block operations under one KEK, for the wrap rounds of RFC 3394 §2.2.
pub(crate) struct Ecb {
    enc: EncryptingKey,
    dec: DecryptingKey,
}

impl Ecb {
    pub(crate) fn new(kek: &[u8]) -> Result<Self, CryptoError> {
        let alg = match kek.len() {
            16 => &aws_lc_rs::cipher::AES_128,
            24 => &AES_192,
            32 => &aws_lc_rs::cipher::AES_256,
            _ => return Err(CryptoError::KeySizeRange),
        };
        let bad = |_| CryptoError::KeySizeRange;
        Ok(Self {
            enc: EncryptingKey::ecb(UnboundCipherKey::new(alg, kek).map_err(bad)?).map_err(bad)?,
            dec: DecryptingKey::ecb(UnboundCipherKey::new(alg, kek).map_err(bad)?).map_err(bad)?,
        })
    }

    fn encrypt(&self, block: &mut [u8; 16]) -> Result<(), CryptoError> {
        self.enc
            .encrypt(block)
            .map(|_| ())
            .map_err(|_| CryptoError::Internal("AES-ECB encrypt failed".into()))
    }

    fn decrypt(&self, block: &mut [u8; 16]) -> Result<(), CryptoError> {
        self.dec
            .decrypt(block, DecryptionContext::None)
            .map(|_| ())
            .map_err(|_| CryptoError::Internal("AES-ECB decrypt failed".into()))
    }

    /// RFC 3394 §2.2.1 wrapping process W with initial value `iv` over `n ≥ 2` blocks.
    fn w(&self, iv: [u8; 8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let n = plain.len() / 8;
        let mut out = vec![0u8; plain.len() + 8];
        out[..8].copy_from_slice(&iv);
        out[8..].copy_from_slice(plain);
        let mut block = Zeroizing::new([0u8; 16]);
        for j in 0..6 {
            for i in 1..=n {
                block[..8].copy_from_slice(&out[..8]);
                block[8..].copy_from_slice(&out[8 * i..8 * i + 8]);
                self.encrypt(&mut block)?;
                let t = (n * j + i) as u64;
                for (k, b) in t.to_be_bytes().iter().enumerate() {
                    out[k] = block[k] ^ b;
                }
                out[8 * i..8 * i + 8].copy_from_slice(&block[8..]);
            }
        }
        Ok(out)
    }

    /// RFC 3394 §2.2.2 unwrapping process W⁻¹: returns (A, R) with R in a zeroizing buffer.
    fn w_inv(&self, wrapped: &[u8]) -> Result<([u8; 8], Zeroizing<Vec<u8>>), CryptoError> {
        let n = wrapped.len() / 8 - 1;
        let mut a = [0u8; 8];
        a.copy_from_slice(&wrapped[..8]);
        let mut r = Zeroizing::new(wrapped[8..].to_vec());
        let mut block = Zeroizing::new([0u8; 16]);
        for j in (0..6).rev() {
            for i in (1..=n).rev() {
                let t = (n * j + i) as u64;
                for (k, b) in t.to_be_bytes().iter().enumerate() {
                    block[k] = a[k] ^ b;
                }
                block[8..].copy_from_slice(&r[8 * (i - 1)..8 * i]);
                self.decrypt(&mut block)?;
                a.copy_from_slice(&block[..8]);
                r[8 * (i - 1)..8 * i].copy_from_slice(&block[8..]);
            }
        }
        Ok((a, r))
    }

    pub(crate) fn wrap(&self, key: &[u8], pad: bool) -> Result<Vec<u8>, CryptoError> {
        if !pad {
            return self.w(KW_IV, key);
        }
        let mli = u32::try_from(key.len()).map_err(|_| CryptoError::DataLenRange)?;
        let mut aiv = [0u8; 8];
        aiv[..4].copy_from_slice(&KWP_AIV);
        aiv[4..].copy_from_slice(&mli.to_be_bytes());
        let mut padded = Zeroizing::new(key.to_vec());
        padded.resize(key.len().div_ceil(8) * 8, 0);
        if padded.len() == 8 {
            // RFC 5649 §4.1: a single block is encrypted directly.
            let mut block = Zeroizing::new([0u8; 16]);
            block[..8].copy_from_slice(&aiv);
            block[8..].copy_from_slice(&padded);
            self.encrypt(&mut block)?;
            return Ok(block.to_vec());
        }
        self.w(aiv, &padded)
    }

    pub(crate) fn unwrap(&self, wrapped: &[u8], pad: bool) -> Result<SecretBytes, CryptoError> {
        if !pad {
            let (a, r) = self.w_inv(wrapped)?;
            return if ct_eq(&a, &KW_IV) {
                Ok(SecretBytes::from_slice(&r))
            } else {
                Err(CryptoError::WrappedKeyInvalid)
            };
        }
        let (a, mut r) = if wrapped.len() == 16 {
            let mut block = Zeroizing::new([0u8; 16]);
            block.copy_from_slice(wrapped);
            self.decrypt(&mut block)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(&block[..8]);
            (a, Zeroizing::new(block[8..].to_vec()))
        } else {
            self.w_inv(wrapped)?
        };
        // RFC 5649 §3 checks: AIV, 8(n-1) < MLI ≤ 8n, zero padding.
        let mut mli_bytes = [0u8; 4];
        mli_bytes.copy_from_slice(&a[4..]);
        let mli = u32::from_be_bytes(mli_bytes) as usize;
        let n8 = r.len();
        let len_ok = mli > n8.saturating_sub(8) && mli <= n8;
        if !ct_eq(&a[..4], &KWP_AIV) || !len_ok {
            r.zeroize();
            return Err(CryptoError::WrappedKeyInvalid);
        }
        if r[mli..].iter().any(|&b| b != 0) {
            return Err(CryptoError::WrappedKeyInvalid);
        }
        Ok(SecretBytes::from_slice(&r[..mli]))
    }
}

/// Constant-time equality for integrity checks on unwrapped data.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
