//! AES encryption modes for `C_Encrypt` / `C_Decrypt`: ECB, CBC, CBC with PKCS#7 padding and
//! CTR as streams, GCM over buffered input.
//!
//! The block work runs on aws-lc-rs. The stream bookkeeping is ours: partial blocks, the last
//! block CBC_PAD decryption holds back until the end, and the counter width of PKCS#11 CTR
//! (aws-lc counts over all 128 bits). Ending a stream ([`AesCipher::finish`]) reads the state
//! without changing it, so a caller whose output buffer was too small can ask again.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use super::CryptoError;
use super::gcm::{self, GcmStream};

const BLOCK: usize = 16;
/// Bound on what GCM buffers before its single pass, so a runaway caller cannot exhaust memory.
const MAX_BUFFERED: usize = 64 * 1024 * 1024;
/// The longest GCM IV accepted; any length from 1 byte works (SP 800-38D allows up to 2^64
/// bits, PKCS#11 2.40 256 bytes). aws-lc-rs serves 96-bit IVs with full tags, `gcm` the rest.
pub const GCM_MAX_IV_LEN: usize = 4096;

/// An AES mode and its parameters.
#[derive(Clone, PartialEq, Eq)]
pub enum AesMode {
    Ecb,
    Cbc {
        iv: [u8; BLOCK],
    },
    /// CBC with PKCS#7 padding (CKM_AES_CBC_PAD).
    CbcPad {
        iv: [u8; BLOCK],
    },
    /// CTR as PKCS#11 defines it: the low `counter_bits` bits of `block` count blocks, and
    /// running past their end is an error rather than a wrap.
    Ctr {
        counter_bits: u32,
        block: [u8; BLOCK],
    },
    Gcm(GcmSpec),
}

impl fmt::Debug for AesMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AesMode::Ecb => "Ecb",
            AesMode::Cbc { .. } => "Cbc",
            AesMode::CbcPad { .. } => "CbcPad",
            AesMode::Ctr { .. } => "Ctr",
            AesMode::Gcm(_) => "Gcm",
        })
    }
}

/// GCM parameters: the IV, the additional authenticated data and the tag length in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcmSpec {
    pub iv: Vec<u8>,
    pub aad: Vec<u8>,
    pub tag_len: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Encrypt,
    Decrypt,
}

enum Key {
    Enc(EncryptingKey),
    Dec(DecryptingKey),
    Gcm(LessSafeKey),
}

#[derive(Clone)]
enum State {
    Ecb,
    Cbc {
        iv: [u8; BLOCK],
        pad: bool,
    },
    Ctr {
        counter: u128,
        blocks_left: u128,
        keystream: Zeroizing<[u8; BLOCK]>,
        used: usize,
    },
    /// GCM decryption: everything is buffered until the tag can be checked.
    Gcm(GcmSpec),
    /// GCM encryption, streamed (boxed: GHASH state is large).
    GcmEnc(Box<GcmStream>),
}

/// An AES encryption or decryption in progress. Cloning is cheap (the key schedule is
/// shared), which is how a single-part call runs without touching the operation.
#[derive(Clone)]
pub struct AesCipher {
    key: Arc<Key>,
    direction: Direction,
    state: State,
    pending: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for AesCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesCipher")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

fn failed(what: &'static str) -> impl Fn(aws_lc_rs::error::Unspecified) -> CryptoError {
    move |_| CryptoError::Internal(format!("aws-lc-rs {what} failed"))
}

impl AesCipher {
    /// Sets up `mode` under an AES key of 16, 24 or 32 bytes.
    pub fn new(key: &[u8], mode: AesMode, direction: Direction) -> Result<Self, CryptoError> {
        let alg = match key.len() {
            16 => &AES_128,
            24 => &AES_192,
            32 => &AES_256,
            _ => return Err(CryptoError::KeySizeRange),
        };
        let unbound = || UnboundCipherKey::new(alg, key).map_err(|_| CryptoError::KeySizeRange);
        let block_key = |cbc: bool| -> Result<Key, CryptoError> {
            let bad = failed("AES key setup");
            Ok(match (direction, cbc) {
                (Direction::Encrypt, false) => {
                    Key::Enc(EncryptingKey::ecb(unbound()?).map_err(bad)?)
                }
                (Direction::Encrypt, true) => {
                    Key::Enc(EncryptingKey::cbc(unbound()?).map_err(bad)?)
                }
                (Direction::Decrypt, false) => {
                    Key::Dec(DecryptingKey::ecb(unbound()?).map_err(bad)?)
                }
                (Direction::Decrypt, true) => {
                    Key::Dec(DecryptingKey::cbc(unbound()?).map_err(bad)?)
                }
            })
        };
        let (key, state) = match mode {
            AesMode::Ecb => (block_key(false)?, State::Ecb),
            AesMode::Cbc { iv } => (block_key(true)?, State::Cbc { iv, pad: false }),
            AesMode::CbcPad { iv } => (block_key(true)?, State::Cbc { iv, pad: true }),
            AesMode::Ctr {
                counter_bits,
                block,
            } => {
                if !(1..=128).contains(&counter_bits) {
                    return Err(CryptoError::MechanismParamInvalid);
                }
                let counter = u128::from_be_bytes(block);
                // Blocks before the counter field wraps: 2^bits - its value (2^128 saturates).
                let mask = u128::MAX >> (128 - counter_bits);
                let blocks_left = (mask - (counter & mask)).saturating_add(1);
                // The keystream is the encryption of counter blocks, in both directions.
                let key = EncryptingKey::ecb(unbound()?).map_err(failed("AES key setup"))?;
                let state = State::Ctr {
                    counter,
                    blocks_left,
                    keystream: Zeroizing::new([0; BLOCK]),
                    used: BLOCK,
                };
                (Key::Enc(key), state)
            }
            AesMode::Gcm(spec) => {
                if !(1..=GCM_MAX_IV_LEN).contains(&spec.iv.len())
                    || !(4..=16).contains(&spec.tag_len)
                {
                    return Err(CryptoError::MechanismParamInvalid);
                }
                if direction == Direction::Encrypt {
                    let ecb = EncryptingKey::ecb(unbound()?).map_err(failed("AES key setup"))?;
                    let stream = GcmStream::new(&ecb, &spec)?;
                    (Key::Enc(ecb), State::GcmEnc(Box::new(stream)))
                } else {
                    let key = if spec.iv.len() == aead::NONCE_LEN && spec.tag_len == 16 {
                        let alg = match key.len() {
                            16 => &aead::AES_128_GCM,
                            24 => &aead::AES_192_GCM,
                            _ => &aead::AES_256_GCM,
                        };
                        let unbound =
                            UnboundKey::new(alg, key).map_err(|_| CryptoError::KeySizeRange)?;
                        Key::Gcm(LessSafeKey::new(unbound))
                    } else {
                        Key::Enc(EncryptingKey::ecb(unbound()?).map_err(failed("AES key setup"))?)
                    };
                    (key, State::Gcm(spec))
                }
            }
        };
        Ok(Self {
            key: Arc::new(key),
            direction,
            state,
            pending: Zeroizing::new(Vec::new()),
        })
    }

    /// The error for input whose length the mode cannot take.
    fn len_error(&self) -> CryptoError {
        match self.direction {
            Direction::Encrypt => CryptoError::DataLenRange,
            Direction::Decrypt => CryptoError::EncryptedDataLenRange,
        }
    }

    /// Exactly how many bytes [`Self::update`] returns for `len` more bytes of input.
    pub fn update_len(&self, len: usize) -> usize {
        let n = self.pending.len().saturating_add(len);
        match (&self.state, self.direction) {
            // The last block may be padding: it waits for the end.
            (State::Cbc { pad: true, .. }, Direction::Decrypt) if n.is_multiple_of(BLOCK) => {
                n.saturating_sub(BLOCK)
            }
            (State::Ecb | State::Cbc { .. }, _) => n / BLOCK * BLOCK,
            (State::Ctr { .. } | State::GcmEnc(_), _) => len,
            (State::Gcm(_), _) => 0,
        }
    }

    /// What a size query for [`Self::update`] answers: at least [`Self::update_len`], and
    /// not 0 for input that may produce output later. Clients that size their buffer by the
    /// answer and pass an empty (NULL) one for 0 would otherwise never feed the data.
    pub fn update_bound(&self, len: usize) -> usize {
        self.update_len(len).max(len)
    }

    /// At least as many bytes as [`Self::finish`] returns (exact but for CBC_PAD decryption).
    pub fn final_len(&self) -> usize {
        match (&self.state, self.direction) {
            (State::Cbc { pad: true, .. }, Direction::Encrypt) => BLOCK,
            (State::Cbc { pad: true, .. }, Direction::Decrypt) => BLOCK - 1,
            (State::Ecb | State::Cbc { .. } | State::Ctr { .. }, _) => 0,
            (State::GcmEnc(stream), _) => stream.tag_len(),
            (State::Gcm(spec), _) => self.pending.len().saturating_sub(spec.tag_len),
        }
    }

    /// At least as many bytes as a single-part call over `len` bytes returns.
    pub fn one_shot_len(&self, len: usize) -> usize {
        match (&self.state, self.direction) {
            (State::Cbc { pad: true, .. }, Direction::Encrypt) => (len / BLOCK + 1) * BLOCK,
            (State::GcmEnc(stream), _) => len.saturating_add(stream.tag_len()),
            (State::Gcm(spec), _) => len.saturating_sub(spec.tag_len),
            _ => len,
        }
    }

    /// Feeds input; returns the output it completes ([`Self::update_len`] bytes).
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &mut self.state {
            State::Gcm(_) => {
                if self.pending.len().saturating_add(data.len()) > MAX_BUFFERED {
                    return Err(self.len_error());
                }
                self.pending.extend_from_slice(data);
                Ok(Vec::new())
            }
            State::Ctr { .. } => self.ctr(data),
            State::GcmEnc(stream) => match &*self.key {
                Key::Enc(ecb) => stream.update(ecb, data),
                _ => Err(CryptoError::Internal("GCM without its block key".into())),
            },
            State::Ecb | State::Cbc { .. } => {
                let ready = self.update_len(data.len());
                let mut buf = Vec::with_capacity(self.pending.len() + data.len());
                buf.extend_from_slice(&self.pending);
                buf.extend_from_slice(data);
                self.pending = Zeroizing::new(buf.split_off(ready));
                let iv = self.blocks(self.iv(), &mut buf)?;
                if let (State::Cbc { iv: chained, .. }, Some(next)) = (&mut self.state, iv) {
                    *chained = next;
                }
                Ok(buf)
            }
        }
    }

    /// Ends the stream and returns the last output; `self` is left as it was.
    pub fn finish(&self) -> Result<Vec<u8>, CryptoError> {
        match (&self.state, self.direction) {
            (State::Cbc { pad: true, .. }, Direction::Encrypt) => {
                // PKCS#7: 1..=16 bytes, each holding the pad length.
                let pad = BLOCK - self.pending.len();
                let mut block = Zeroizing::new(self.pending.to_vec());
                block.resize(BLOCK, pad as u8);
                let mut out = block.to_vec();
                self.blocks(self.iv(), &mut out)?;
                Ok(out)
            }
            (State::Cbc { pad: true, .. }, Direction::Decrypt) => {
                if self.pending.len() != BLOCK {
                    return Err(CryptoError::EncryptedDataLenRange);
                }
                let mut block = Zeroizing::new(self.pending.to_vec());
                self.blocks(self.iv(), &mut block)?;
                let len = unpad(&block)?;
                Ok(block[..len].to_vec())
            }
            (State::Ecb | State::Cbc { .. }, _) => {
                if self.pending.is_empty() {
                    Ok(Vec::new())
                } else {
                    Err(self.len_error())
                }
            }
            (State::Ctr { .. }, _) => Ok(Vec::new()),
            (State::GcmEnc(stream), _) => match &*self.key {
                Key::Enc(ecb) => stream.finish(ecb),
                _ => Err(CryptoError::Internal("GCM without its block key".into())),
            },
            (State::Gcm(spec), _) => self.gcm_open(spec),
        }
    }

    /// A single-part call: the whole input at once, without changing `self`.
    pub fn one_shot(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut stream = self.clone();
        let mut out = stream.update(data)?;
        let last = stream.finish()?;
        out.extend_from_slice(&last);
        Ok(out)
    }

    fn iv(&self) -> Option<[u8; BLOCK]> {
        match self.state {
            State::Cbc { iv, .. } => Some(iv),
            _ => None,
        }
    }

    /// ECB or CBC over whole blocks; returns the IV that chains to the next call.
    fn blocks(
        &self,
        iv: Option<[u8; BLOCK]>,
        buf: &mut [u8],
    ) -> Result<Option<[u8; BLOCK]>, CryptoError> {
        let Some(last) = buf.len().checked_sub(BLOCK) else {
            return Ok(iv);
        };
        let mut tail = [0u8; BLOCK];
        match (&*self.key, iv) {
            (Key::Enc(key), None) => {
                key.encrypt(buf).map_err(failed("AES-ECB"))?;
            }
            (Key::Dec(key), None) => {
                key.decrypt(buf, DecryptionContext::None)
                    .map_err(failed("AES-ECB"))?;
            }
            (Key::Enc(key), Some(iv)) => {
                let context = EncryptionContext::Iv128(FixedLength::from(iv));
                key.less_safe_encrypt(buf, context)
                    .map_err(failed("AES-CBC"))?;
                tail.copy_from_slice(&buf[last..]);
            }
            (Key::Dec(key), Some(iv)) => {
                tail.copy_from_slice(&buf[last..]);
                let context = DecryptionContext::Iv128(FixedLength::from(iv));
                key.decrypt(buf, context).map_err(failed("AES-CBC"))?;
            }
            (Key::Gcm(_), _) => {
                return Err(CryptoError::Internal("GCM key in a block mode".into()));
            }
        }
        Ok(iv.map(|_| tail))
    }

    /// CTR: XORs the keystream, refusing input that would run the counter past its width.
    fn ctr(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let too_long = self.len_error();
        let Key::Enc(key) = &*self.key else {
            return Err(CryptoError::Internal(
                "CTR without an encrypting key".into(),
            ));
        };
        let State::Ctr {
            counter,
            blocks_left,
            keystream,
            used,
        } = &mut self.state
        else {
            return Err(CryptoError::Internal("CTR state missing".into()));
        };
        let buffered = BLOCK - *used;
        let new_blocks = data.len().saturating_sub(buffered).div_ceil(BLOCK);
        if new_blocks as u128 > *blocks_left {
            return Err(too_long);
        }
        let mut out = data.to_vec();
        let (head, rest) = out.split_at_mut(data.len().min(buffered));
        for (byte, k) in head.iter_mut().zip(&keystream[*used..]) {
            *byte ^= k;
        }
        *used += head.len();
        if rest.is_empty() {
            return Ok(out);
        }
        let mut stream = Zeroizing::new(Vec::with_capacity(new_blocks * BLOCK));
        for _ in 0..new_blocks {
            stream.extend_from_slice(&counter.to_be_bytes());
            *counter = counter.wrapping_add(1);
        }
        *blocks_left -= new_blocks as u128;
        key.encrypt(&mut stream).map_err(failed("AES-CTR"))?;
        for (byte, k) in rest.iter_mut().zip(stream.iter()) {
            *byte ^= k;
        }
        let consumed = rest.len() - (new_blocks - 1) * BLOCK;
        keystream.copy_from_slice(&stream[(new_blocks - 1) * BLOCK..]);
        *used = consumed;
        Ok(out)
    }

    fn nonce(spec: &GcmSpec) -> Result<Nonce, CryptoError> {
        Nonce::try_assume_unique_for_key(&spec.iv).map_err(|_| CryptoError::MechanismParamInvalid)
    }

    fn gcm_open(&self, spec: &GcmSpec) -> Result<Vec<u8>, CryptoError> {
        match &*self.key {
            Key::Gcm(key) => {
                if self.pending.len() < spec.tag_len {
                    return Err(CryptoError::EncryptedDataLenRange);
                }
                let mut buf = Zeroizing::new(self.pending.to_vec());
                let plain = key
                    .open_in_place(Self::nonce(spec)?, Aad::from(&spec.aad), &mut buf)
                    .map_err(|_| CryptoError::EncryptedDataInvalid)?;
                Ok(plain.to_vec())
            }
            Key::Enc(ecb) => gcm::open(ecb, spec, &self.pending),
            Key::Dec(_) => Err(CryptoError::Internal("GCM with a decrypting key".into())),
        }
    }
}

/// The plaintext length of a PKCS#7-padded last block, checked without data-dependent branches.
fn unpad(block: &[u8]) -> Result<usize, CryptoError> {
    let pad = block.last().copied().unwrap_or(0);
    let mut bad = u8::from(pad == 0) | u8::from(usize::from(pad) > BLOCK);
    for (i, &b) in block.iter().enumerate() {
        let in_pad = u8::from(BLOCK - i <= usize::from(pad));
        bad |= in_pad & u8::from(b != pad);
    }
    if bad == 0 {
        Ok(BLOCK - usize::from(pad))
    } else {
        Err(CryptoError::EncryptedDataInvalid)
    }
}
