//! Message digests and randomness.
//!
//! [`Digest`] runs on aws-lc-rs (fast, multi-part); [`soft_digest`] runs on the RustCrypto
//! `sha1`/`sha2` crates so the pure provider hashes independently of aws-lc.

use std::fmt;

use aws_lc_rs::digest as lc;
use sha2::Digest as _;

use super::{CryptoError, HashAlg};

fn lc_algorithm(alg: HashAlg) -> &'static lc::Algorithm {
    match alg {
        HashAlg::Sha1 => &lc::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha224 => &lc::SHA224,
        HashAlg::Sha256 => &lc::SHA256,
        HashAlg::Sha384 => &lc::SHA384,
        HashAlg::Sha512 => &lc::SHA512,
    }
}

/// A multi-part digest (`C_DigestInit` / `C_DigestUpdate` / `C_DigestFinal`).
#[derive(Clone)]
pub struct Digest {
    alg: HashAlg,
    ctx: lc::Context,
}

impl Digest {
    pub fn new(alg: HashAlg) -> Self {
        Self {
            alg,
            ctx: lc::Context::new(lc_algorithm(alg)),
        }
    }

    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digest")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// One-shot digest on aws-lc-rs.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    lc::digest(lc_algorithm(alg), data).as_ref().to_vec()
}

/// One-shot digest on the RustCrypto crates (the second implementation).
pub(crate) fn soft_digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashAlg::Sha224 => sha2::Sha224::digest(data).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Rng)
}

/// The OS RNG in the `rand_core` shape the `rsa` crate wants for blinding and key generation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OsRng;

impl rsa::rand_core::TryRng for OsRng {
    type Error = getrandom::Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        getrandom::u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        getrandom::u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        getrandom::fill(dst)
    }
}

impl rsa::rand_core::TryCryptoRng for OsRng {}
