//! The NIST SP 800-108 key-based KDFs in counter and feedback mode (CKM_SP800_108_*_KDF),
//! with AES-CMAC or HMAC as the PRF. The PRF input is laid out field by field as PKCS#11's
//! `CK_PRF_DATA_PARAM` list says; the keys (primary first, then the additional ones) take
//! consecutive bytes of the derived keying material.

use super::{Cmac, CryptoError, HashAlg, Hmac};
use crate::secret::SecretBytes;

/// The PRF of the KDF, keyed by the base key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KbkdfPrf {
    AesCmac,
    Hmac(HashAlg),
}

impl KbkdfPrf {
    fn output_len(self) -> usize {
        match self {
            KbkdfPrf::AesCmac => 16,
            KbkdfPrf::Hmac(alg) => alg.output_len(),
        }
    }

    fn run(self, key: &[u8], input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            KbkdfPrf::AesCmac => {
                let mut mac = Cmac::new(key, 16)?;
                mac.update(input)?;
                mac.sign()
            }
            KbkdfPrf::Hmac(alg) => {
                let mut mac = Hmac::new(alg, key);
                mac.update(input);
                Ok(mac.sign())
            }
        }
    }
}

/// An integer field of the PRF input: its width (8..=64 bits, a multiple of 8) and byte
/// order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntFormat {
    pub little_endian: bool,
    pub width_bits: u32,
}

impl IntFormat {
    /// `value` in this format, or `None` when it does not fit the width.
    fn encode(self, value: u64) -> Option<Vec<u8>> {
        let width = (self.width_bits / 8) as usize;
        if width == 0 || width > 8 || (width < 8 && value >> (8 * width) != 0) {
            return None;
        }
        let be = value.to_be_bytes();
        let mut bytes = be[8 - width..].to_vec();
        if self.little_endian {
            bytes.reverse();
        }
        Some(bytes)
    }
}

/// One field of the PRF input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KbkdfField {
    /// The block counter i, from 1.
    Counter(IntFormat),
    /// Feedback mode's previous block: K(i-1), the IV for the first block.
    Previous,
    /// The length L of the derived keying material in bits: of all the keys, or of all the
    /// PRF blocks (`sum_of_segments`).
    DkmLength {
        sum_of_segments: bool,
        format: IntFormat,
    },
    Bytes(Vec<u8>),
}

/// A validated KDF: the PRF, the input layout and the feedback IV (empty in counter mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KbkdfLayout {
    pub prf: KbkdfPrf,
    pub fields: Vec<KbkdfField>,
    pub iv: Vec<u8>,
}

/// Derives keys of `key_lens` bytes from `key`, in order. `DataLenRange` when the keys need
/// more blocks than the counter or the length field can express.
pub fn kbkdf(
    key: &[u8],
    layout: &KbkdfLayout,
    key_lens: &[usize],
) -> Result<Vec<SecretBytes>, CryptoError> {
    let block_len = layout.prf.output_len();
    let total: usize = key_lens.iter().sum();
    let blocks = total.div_ceil(block_len);
    let too_long = || CryptoError::DataLenRange;
    let bits = |bytes: usize| u64::try_from(bytes).ok().and_then(|b| b.checked_mul(8));
    // Sized up front so that no reallocation leaves a copy of secret bytes behind.
    let mut dkm = Vec::with_capacity(blocks * block_len);
    let input_len: usize = layout
        .fields
        .iter()
        .map(|field| match field {
            KbkdfField::Counter(format) | KbkdfField::DkmLength { format, .. } => {
                (format.width_bits / 8) as usize
            }
            KbkdfField::Previous => layout.iv.len().max(block_len),
            KbkdfField::Bytes(bytes) => bytes.len(),
        })
        .sum();
    let mut previous = SecretBytes::from_slice(&layout.iv);
    for i in 1..=blocks {
        let mut input = Vec::with_capacity(input_len);
        for field in &layout.fields {
            match field {
                KbkdfField::Counter(format) => {
                    let i = u64::try_from(i).map_err(|_| too_long())?;
                    input.extend(format.encode(i).ok_or_else(too_long)?);
                }
                KbkdfField::Previous => input.extend_from_slice(previous.expose()),
                KbkdfField::DkmLength {
                    sum_of_segments,
                    format,
                } => {
                    let len = if *sum_of_segments {
                        blocks * block_len
                    } else {
                        total
                    };
                    let len = bits(len).ok_or_else(too_long)?;
                    input.extend(format.encode(len).ok_or_else(too_long)?);
                }
                KbkdfField::Bytes(bytes) => input.extend_from_slice(bytes),
            }
        }
        // The input holds the previous block in feedback mode: secret too.
        let input = SecretBytes::new(input);
        let block = SecretBytes::new(layout.prf.run(key, input.expose())?);
        dkm.extend_from_slice(block.expose());
        previous = block;
    }
    let dkm = SecretBytes::new(dkm);
    let mut keys = Vec::with_capacity(key_lens.len());
    let mut offset = 0;
    for len in key_lens {
        let bytes = dkm
            .expose()
            .get(offset..offset + len)
            .ok_or_else(|| CryptoError::Internal("KBKDF output too short".into()))?;
        keys.push(SecretBytes::from_slice(bytes));
        offset += len;
    }
    Ok(keys)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn be(width_bits: u32) -> IntFormat {
        IntFormat {
            little_endian: false,
            width_bits,
        }
    }

    /// NIST CAVP KBKDF (SP 800-108) counter mode, CMAC-AES128, counter before the fixed
    /// data, 8-bit counter: COUNT=0 of [PRF=CMAC_AES128] [CTRLOCATION=BEFORE_FIXED]
    /// [RLEN=8_BITS].
    #[test]
    fn cavp_counter_mode_cmac_vector() {
        let key = hex::decode("dff1e50ac0b69dc40f1051d46c2b069c").unwrap();
        let fixed = hex::decode(concat!(
            "c16e6e02c5a3dcc8d78b9ac1306877761310455b4e41469951d9e6c2245a064b",
            "33fd8c3b01203a7824485bf0a64060c4648b707d2607935699316ea5"
        ))
        .unwrap();
        let layout = KbkdfLayout {
            prf: KbkdfPrf::AesCmac,
            fields: vec![KbkdfField::Counter(be(8)), KbkdfField::Bytes(fixed)],
            iv: Vec::new(),
        };
        let out = kbkdf(&key, &layout, &[16]).unwrap();
        assert_eq!(
            hex::encode(out[0].expose()),
            "8be8f0869b3c0ba97b71863d1b9f7813"
        );
    }

    #[test]
    fn keys_take_consecutive_bytes_and_feedback_chains() {
        let key = [7u8; 32];
        let counter = KbkdfLayout {
            prf: KbkdfPrf::Hmac(HashAlg::Sha256),
            fields: vec![
                KbkdfField::Counter(be(32)),
                KbkdfField::Bytes(b"label".to_vec()),
                KbkdfField::DkmLength {
                    sum_of_segments: false,
                    format: be(32),
                },
            ],
            iv: Vec::new(),
        };
        let whole = kbkdf(&key, &counter, &[48]).unwrap();
        let split = kbkdf(&key, &counter, &[16, 32]).unwrap();
        assert_eq!(&whole[0].expose()[..16], split[0].expose());
        assert_eq!(&whole[0].expose()[16..], split[1].expose());

        let feedback = KbkdfLayout {
            prf: KbkdfPrf::AesCmac,
            fields: vec![KbkdfField::Previous, KbkdfField::Counter(be(8))],
            iv: b"sixteen bytes iv".to_vec(),
        };
        let out = kbkdf(&key[..16], &feedback, &[32]).unwrap();
        let mut first = Cmac::new(&key[..16], 16).unwrap();
        first.update(b"sixteen bytes iv\x01").unwrap();
        let first = first.sign().unwrap();
        let mut second = Cmac::new(&key[..16], 16).unwrap();
        second.update(&first).unwrap();
        second.update(&[2]).unwrap();
        assert_eq!(out[0].expose(), [first, second.sign().unwrap()].concat());
    }

    #[test]
    fn a_counter_too_narrow_for_the_blocks_is_refused() {
        let layout = KbkdfLayout {
            prf: KbkdfPrf::AesCmac,
            fields: vec![KbkdfField::Counter(be(8))],
            iv: Vec::new(),
        };
        assert_eq!(
            kbkdf(&[1; 16], &layout, &[16 * 256]).unwrap_err(),
            CryptoError::DataLenRange
        );
        assert_eq!(be(16).encode(0x1234).unwrap(), [0x12, 0x34]);
        let le = IntFormat {
            little_endian: true,
            width_bits: 24,
        };
        assert_eq!(le.encode(0x010203).unwrap(), [3, 2, 1]);
    }
}
