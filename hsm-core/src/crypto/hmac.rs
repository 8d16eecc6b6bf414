//! HMAC (CKM_SHA*_HMAC) on aws-lc-rs: computed as the data arrives, so multi-part MACs need
//! no buffer, and verified in constant time.

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;

use super::{CryptoError, HashAlg};

fn lc_algorithm(alg: HashAlg) -> hmac::Algorithm {
    match alg {
        HashAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha224 => hmac::HMAC_SHA224,
        HashAlg::Sha256 => hmac::HMAC_SHA256,
        HashAlg::Sha384 => hmac::HMAC_SHA384,
        HashAlg::Sha512 => hmac::HMAC_SHA512,
    }
}

/// An HMAC computation in progress. The key lives only inside aws-lc's context.
#[derive(Clone)]
pub struct Hmac {
    alg: HashAlg,
    ctx: hmac::Context,
}

impl Hmac {
    /// Starts an HMAC under `key` (any length; RFC 2104 hashes keys longer than a block).
    pub fn new(alg: HashAlg, key: &[u8]) -> Self {
        let key = hmac::Key::new(lc_algorithm(alg), key);
        Self {
            alg,
            ctx: hmac::Context::with_key(&key),
        }
    }

    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    /// Length of the full tag, which is what CKM_SHA*_HMAC produces.
    pub fn tag_len(&self) -> usize {
        self.alg.output_len()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn sign(self) -> Vec<u8> {
        self.ctx.sign().as_ref().to_vec()
    }

    /// Compares the tag in constant time; a tag of the wrong length is `SignatureLenRange`.
    pub fn verify(self, tag: &[u8]) -> Result<(), CryptoError> {
        if tag.len() != self.tag_len() {
            return Err(CryptoError::SignatureLenRange);
        }
        let expected = self.ctx.sign();
        verify_slices_are_equal(expected.as_ref(), tag).map_err(|_| CryptoError::SignatureInvalid)
    }
}

impl fmt::Debug for Hmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hmac")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}
