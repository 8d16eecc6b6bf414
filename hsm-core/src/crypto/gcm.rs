//! AES-GCM for IVs of any length (SP 800-38D §7.1), which aws-lc-rs does not take: it
//! accepts 96-bit nonces only, while PKCS#11 allows 1..=2^32-1 bytes and clients use others.
//! GHASH is the RustCrypto `ghash` crate (constant time); the block cipher is aws-lc's.

use aws_lc_rs::cipher::EncryptingKey;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use zeroize::Zeroizing;

use super::CryptoError;
use super::cipher::GcmSpec;

const BLOCK: usize = 16;

fn encrypt_blocks(ecb: &EncryptingKey, blocks: &mut [u8]) -> Result<(), CryptoError> {
    ecb.encrypt(blocks)
        .map(|_| ())
        .map_err(|_| CryptoError::Internal("aws-lc-rs AES-ECB failed".into()))
}

/// The hash subkey H = E(K, 0¹²⁸), inside a GHASH instance.
fn ghash(ecb: &EncryptingKey) -> Result<GHash, CryptoError> {
    let mut h = Zeroizing::new([0u8; BLOCK]);
    encrypt_blocks(ecb, h.as_mut())?;
    Ok(GHash::new(&(*h).into()))
}

/// The length block [len(A)]₆₄ ‖ [len(C)]₆₄, in bits.
fn lengths(a: usize, c: usize) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..8].copy_from_slice(&((a as u64) * 8).to_be_bytes());
    block[8..].copy_from_slice(&((c as u64) * 8).to_be_bytes());
    block
}

/// The pre-counter block J0 = GHASH(IV ‖ 0^(s+64) ‖ [len(IV)]₆₄) (or IV ‖ 0³¹1 for 96 bits).
fn j0(hash: &GHash, iv: &[u8]) -> [u8; BLOCK] {
    if iv.len() == 12 {
        let mut block = [0u8; BLOCK];
        block[..12].copy_from_slice(iv);
        block[15] = 1;
        return block;
    }
    let mut hash = hash.clone();
    hash.update_padded(iv);
    hash.update(&[lengths(0, iv.len()).into()]);
    hash.finalize().into()
}

/// GCTR from inc32(J0): the counter is the low 32 bits and wraps, as the standard says.
fn gctr(ecb: &EncryptingKey, j0: &[u8; BLOCK], data: &mut [u8]) -> Result<(), CryptoError> {
    let start = u32::from_be_bytes([j0[12], j0[13], j0[14], j0[15]]);
    let blocks = data.len().div_ceil(BLOCK);
    let mut stream = Zeroizing::new(Vec::with_capacity(blocks * BLOCK));
    for i in 0..blocks {
        stream.extend_from_slice(&j0[..12]);
        let counter = start.wrapping_add(1).wrapping_add(i as u32);
        stream.extend_from_slice(&counter.to_be_bytes());
    }
    encrypt_blocks(ecb, &mut stream)?;
    for (byte, k) in data.iter_mut().zip(stream.iter()) {
        *byte ^= k;
    }
    Ok(())
}

/// The full 128-bit tag E(K, J0) ⊕ GHASH(A ‖ C ‖ lengths).
fn tag(
    ecb: &EncryptingKey,
    hash: &GHash,
    j0: &[u8; BLOCK],
    aad: &[u8],
    ct: &[u8],
) -> Result<[u8; BLOCK], CryptoError> {
    let mut s = hash.clone();
    s.update_padded(aad);
    s.update_padded(ct);
    s.update(&[lengths(aad.len(), ct.len()).into()]);
    let s: [u8; BLOCK] = s.finalize().into();
    let mut mask = *j0;
    encrypt_blocks(ecb, &mut mask)?;
    let mut out = [0u8; BLOCK];
    for (o, (a, b)) in out.iter_mut().zip(mask.iter().zip(&s)) {
        *o = a ^ b;
    }
    Ok(out)
}

/// Checks the tag, in constant time, before decrypting anything.
pub(super) fn open(
    ecb: &EncryptingKey,
    spec: &GcmSpec,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let Some(ct_len) = sealed.len().checked_sub(spec.tag_len) else {
        return Err(CryptoError::EncryptedDataLenRange);
    };
    let (ct, given) = sealed.split_at(ct_len);
    let hash = ghash(ecb)?;
    let j0 = j0(&hash, &spec.iv);
    let expected = tag(ecb, &hash, &j0, &spec.aad, ct)?;
    verify_slices_are_equal(&expected[..spec.tag_len], given)
        .map_err(|_| CryptoError::EncryptedDataInvalid)?;
    let mut plain = ct.to_vec();
    gctr(ecb, &j0, &mut plain)?;
    Ok(plain)
}

/// GCM encryption as a stream: ciphertext leaves with each update and the tag at the end,
/// as clients that encrypt in parts expect (decryption must wait for the tag, so it buffers).
#[derive(Clone)]
pub(super) struct GcmStream {
    hash: GHash,
    j0: [u8; BLOCK],
    /// Keystream blocks used so far; GCM allows 2^32 - 2.
    blocks: u32,
    keystream: Zeroizing<[u8; BLOCK]>,
    used: usize,
    /// Ciphertext not yet hashed: GHASH takes whole blocks until the end.
    unhashed: Vec<u8>,
    aad_len: usize,
    ct_len: usize,
    tag_len: usize,
}

impl GcmStream {
    /// Starts a stream with the AAD already hashed.
    pub(super) fn new(ecb: &EncryptingKey, spec: &GcmSpec) -> Result<Self, CryptoError> {
        let mut hash = ghash(ecb)?;
        let j0 = j0(&hash, &spec.iv);
        hash.update_padded(&spec.aad);
        Ok(Self {
            hash,
            j0,
            blocks: 0,
            keystream: Zeroizing::new([0; BLOCK]),
            used: BLOCK,
            unhashed: Vec::with_capacity(BLOCK),
            aad_len: spec.aad.len(),
            ct_len: 0,
            tag_len: spec.tag_len,
        })
    }

    pub(super) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// Encrypts a part; the output is as long as the input.
    pub(super) fn update(
        &mut self,
        ecb: &EncryptingKey,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut out = data.to_vec();
        let buffered = BLOCK - self.used;
        let (head, rest) = out.split_at_mut(data.len().min(buffered));
        for (byte, k) in head.iter_mut().zip(&self.keystream[self.used..]) {
            *byte ^= k;
        }
        self.used += head.len();
        if !rest.is_empty() {
            let new_blocks = rest.len().div_ceil(BLOCK);
            let total = u32::try_from(new_blocks)
                .ok()
                .and_then(|n| self.blocks.checked_add(n))
                .filter(|&n| n < u32::MAX)
                .ok_or(CryptoError::DataLenRange)?;
            let mut start = self.j0;
            let counter = u32::from_be_bytes([start[12], start[13], start[14], start[15]]);
            start[12..].copy_from_slice(&counter.wrapping_add(self.blocks).to_be_bytes());
            // gctr from "J0 + blocks" is the keystream from where the last part stopped.
            let mut stream = Zeroizing::new(vec![0u8; new_blocks * BLOCK]);
            gctr(ecb, &start, &mut stream)?;
            for (byte, k) in rest.iter_mut().zip(stream.iter()) {
                *byte ^= k;
            }
            let last = (new_blocks - 1) * BLOCK;
            self.keystream.copy_from_slice(&stream[last..]);
            self.used = rest.len() - last;
            self.blocks = total;
        }
        self.ct_len += out.len();
        self.unhashed.extend_from_slice(&out);
        let whole = self.unhashed.len() / BLOCK * BLOCK;
        self.hash.update_padded(&self.unhashed[..whole]);
        self.unhashed.drain(..whole);
        Ok(out)
    }

    /// The tag over everything encrypted so far; the stream itself is left as it was.
    pub(super) fn finish(&self, ecb: &EncryptingKey) -> Result<Vec<u8>, CryptoError> {
        let mut s = self.hash.clone();
        s.update_padded(&self.unhashed);
        s.update(&[lengths(self.aad_len, self.ct_len).into()]);
        let s: [u8; BLOCK] = s.finalize().into();
        let mut mask = self.j0;
        encrypt_blocks(ecb, &mut mask)?;
        Ok(mask
            .iter()
            .zip(&s)
            .map(|(a, b)| a ^ b)
            .take(self.tag_len)
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use aws_lc_rs::cipher::{AES_128, UnboundCipherKey};

    use super::*;

    #[test]
    fn the_counter_wraps_in_its_low_32_bits() {
        let key = UnboundCipherKey::new(&AES_128, &[5; 16]).unwrap();
        let ecb = EncryptingKey::ecb(key).unwrap();
        let mut j0 = [0xaa; BLOCK];
        j0[12..].copy_from_slice(&[0xff; 4]);
        let mut data = [0u8; 2 * BLOCK];
        gctr(&ecb, &j0, &mut data).unwrap();
        // inc32(J0) is …00000000, then …00000001: the nonce part never changes.
        let mut expected = [0xaa; 2 * BLOCK];
        expected[12..16].copy_from_slice(&[0, 0, 0, 0]);
        expected[28..32].copy_from_slice(&[0, 0, 0, 1]);
        encrypt_blocks(&ecb, &mut expected).unwrap();
        assert_eq!(data, expected);
    }
}
