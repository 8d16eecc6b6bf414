//! RSA signature encodings: EMSA-PKCS1-v1_5 type 1 and EMSA-PSS with any hash, MGF1 hash and
//! salt length (RFC 8017 §9). Neither aws-lc-rs nor the `rsa` crate accepts arbitrary PKCS#11
//! PSS parameters (MGF1 hash ≠ message hash), so the pure encoding lives here and feeds the raw
//! private operation.

use super::aes::ct_eq;
use super::{CryptoError, HashAlg, PssParams};

/// The hash function a backend hashes with (aws-lc or RustCrypto).
pub(crate) type HashFn = fn(HashAlg, &[u8]) -> Vec<u8>;

/// EMSA-PKCS1-v1_5 type 1 block of `k` bytes around `t`: 00 01 FF…FF 00 ‖ T.
pub(crate) fn pkcs1_type1(t: &[u8], k: usize) -> Result<Vec<u8>, CryptoError> {
    if t.len() + 11 > k {
        return Err(CryptoError::DataLenRange);
    }
    let mut em = vec![0xffu8; k];
    em[0] = 0;
    em[1] = 1;
    em[k - t.len() - 1] = 0;
    em[k - t.len()..].copy_from_slice(t);
    Ok(em)
}

/// The length of EM for a modulus of `mod_bits`: emBits = modBits - 1.
pub(crate) fn pss_em_len(mod_bits: usize) -> usize {
    (mod_bits - 1).div_ceil(8)
}

/// Rejects PSS parameters the key cannot carry (RFC 8017 §9.1.1 step 3).
pub(crate) fn check_pss_params(params: &PssParams, mod_bits: usize) -> Result<(), CryptoError> {
    let h_len = params.hash.output_len();
    if pss_em_len(mod_bits) < h_len + params.salt_len + 2 {
        return Err(CryptoError::MechanismParamInvalid);
    }
    Ok(())
}

fn mgf1(hash: HashFn, alg: HashAlg, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + alg.output_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut input = Vec::with_capacity(seed.len() + 4);
        input.extend_from_slice(seed);
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&hash(alg, &input));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

fn pss_h(hash: HashFn, alg: HashAlg, m_hash: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut m_prime = vec![0u8; 8];
    m_prime.extend_from_slice(m_hash);
    m_prime.extend_from_slice(salt);
    hash(alg, &m_prime)
}

/// EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with a caller-chosen salt; returns EM of `pss_em_len` bytes.
pub(crate) fn pss_encode(
    hash: HashFn,
    params: &PssParams,
    m_hash: &[u8],
    salt: &[u8],
    mod_bits: usize,
) -> Result<Vec<u8>, CryptoError> {
    let h_len = params.hash.output_len();
    if m_hash.len() != h_len {
        return Err(CryptoError::DataLenRange);
    }
    check_pss_params(params, mod_bits)?;
    let em_bits = mod_bits - 1;
    let em_len = pss_em_len(mod_bits);
    let h = pss_h(hash, params.hash, m_hash, salt);
    let db_len = em_len - h_len - 1;
    let mut db = vec![0u8; db_len];
    db[db_len - salt.len() - 1] = 1;
    db[db_len - salt.len()..].copy_from_slice(salt);
    let mask = mgf1(hash, params.mgf_hash, &h, db_len);
    for (d, m) in db.iter_mut().zip(&mask) {
        *d ^= m;
    }
    db[0] &= 0xff >> (8 * em_len - em_bits);
    let mut em = db;
    em.extend_from_slice(&h);
    em.push(0xbc);
    Ok(em)
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2); `em` is the recovered message representative (k bytes).
pub(crate) fn pss_verify(
    hash: HashFn,
    params: &PssParams,
    m_hash: &[u8],
    em: &[u8],
    mod_bits: usize,
) -> Result<(), CryptoError> {
    let h_len = params.hash.output_len();
    if m_hash.len() != h_len {
        return Err(CryptoError::DataLenRange);
    }
    let em_bits = mod_bits - 1;
    let em_len = pss_em_len(mod_bits);
    let s_len = params.salt_len;
    // When emLen < k the representative has a leading zero octet.
    let Some((lead, em)) = em.split_at_checked(em.len().saturating_sub(em_len)) else {
        return Err(CryptoError::SignatureInvalid);
    };
    if em.len() != em_len || lead.iter().any(|&b| b != 0) || em_len < h_len + s_len + 2 {
        return Err(CryptoError::SignatureInvalid);
    }
    let top_mask = 0xffu8 >> (8 * em_len - em_bits);
    if em[em_len - 1] != 0xbc || em[0] & !top_mask != 0 {
        return Err(CryptoError::SignatureInvalid);
    }
    let db_len = em_len - h_len - 1;
    let h = &em[db_len..em_len - 1];
    let mask = mgf1(hash, params.mgf_hash, h, db_len);
    let mut db: Vec<u8> = em[..db_len].iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    db[0] &= top_mask;
    let ps_len = db_len - s_len - 1;
    if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 1 {
        return Err(CryptoError::SignatureInvalid);
    }
    let h2 = pss_h(hash, params.hash, m_hash, &db[ps_len + 1..]);
    if ct_eq(h, &h2) {
        Ok(())
    } else {
        Err(CryptoError::SignatureInvalid)
    }
}
