//! MACs behind one type for the sessions: HMAC ([`Hmac`]) and AES-CMAC (RFC 4493,
//! CKM_AES_CMAC and CKM_AES_CMAC_GENERAL) on aws-lc-rs, computed as the data arrives and
//! verified in constant time.

use std::fmt;

use aws_lc_rs::cmac;
use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::{CryptoError, Hmac};

/// An AES-CMAC computation in progress. The key lives only inside aws-lc's context.
#[derive(Clone)]
pub struct Cmac {
    ctx: cmac::Context,
    tag_len: usize,
}

impl Cmac {
    /// Starts a CMAC under an AES key of 16, 24 or 32 bytes, giving `tag_len` (1..=16) bytes
    /// of tag: the leading bytes of the full tag (CKM_AES_CMAC_GENERAL).
    pub fn new(key: &[u8], tag_len: usize) -> Result<Self, CryptoError> {
        let alg = match key.len() {
            16 => cmac::AES_128,
            24 => cmac::AES_192,
            32 => cmac::AES_256,
            _ => return Err(CryptoError::KeySizeRange),
        };
        if !(1..=16).contains(&tag_len) {
            return Err(CryptoError::MechanismParamInvalid);
        }
        let key = cmac::Key::new(alg, key).map_err(|_| CryptoError::KeySizeRange)?;
        Ok(Self {
            ctx: cmac::Context::with_key(&key),
            tag_len,
        })
    }

    pub fn update(&mut self, data: &[u8]) -> Result<(), CryptoError> {
        self.ctx
            .update(data)
            .map_err(|_| CryptoError::Internal("CMAC update failed".into()))
    }

    pub fn sign(self) -> Result<Vec<u8>, CryptoError> {
        let tag = self
            .ctx
            .sign()
            .map_err(|_| CryptoError::Internal("CMAC failed".into()))?;
        tag.as_ref()
            .get(..self.tag_len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| CryptoError::Internal("CMAC tag too short".into()))
    }
}

impl fmt::Debug for Cmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cmac")
            .field("tag_len", &self.tag_len)
            .finish_non_exhaustive()
    }
}

/// A MAC in progress, for `C_Sign*` / `C_Verify*` with a secret key.
#[derive(Clone, Debug)]
pub enum Mac {
    /// Boxed: aws-lc's HMAC context is over a kilobyte.
    Hmac(Box<Hmac>),
    Cmac(Cmac),
}

impl Mac {
    /// Length of the tag the mechanism produces.
    pub fn tag_len(&self) -> usize {
        match self {
            Mac::Hmac(mac) => mac.tag_len(),
            Mac::Cmac(mac) => mac.tag_len,
        }
    }

    pub fn update(&mut self, data: &[u8]) -> Result<(), CryptoError> {
        match self {
            Mac::Hmac(mac) => {
                mac.update(data);
                Ok(())
            }
            Mac::Cmac(mac) => mac.update(data),
        }
    }

    pub fn sign(self) -> Result<Vec<u8>, CryptoError> {
        match self {
            Mac::Hmac(mac) => Ok(mac.sign()),
            Mac::Cmac(mac) => mac.sign(),
        }
    }

    /// Compares the tag in constant time; a tag of the wrong length is `SignatureLenRange`.
    pub fn verify(self, tag: &[u8]) -> Result<(), CryptoError> {
        match self {
            Mac::Hmac(mac) => mac.verify(tag),
            Mac::Cmac(mac) => {
                if tag.len() != mac.tag_len {
                    return Err(CryptoError::SignatureLenRange);
                }
                let expected = mac.sign()?;
                verify_slices_are_equal(&expected, tag).map_err(|_| CryptoError::SignatureInvalid)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const MESSAGE: &str = concat!(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    );

    /// RFC 4493 §4, examples 1-4, whole and in parts.
    #[test]
    fn rfc4493_vectors() {
        let key = hex::decode(KEY).unwrap();
        let message = hex::decode(MESSAGE).unwrap();
        for (len, tag) in [
            (0, "bb1d6929e95937287fa37d129b756746"),
            (16, "070a16b46b4d4144f79bdd9dd04a287c"),
            (40, "dfa66747de9ae63030ca32611497c827"),
            (64, "51f0bebf7e3b9d92fc49741779363cfe"),
        ] {
            let mut mac = Mac::Cmac(Cmac::new(&key, 16).unwrap());
            let (first, rest) = message[..len].split_at(len / 3);
            mac.update(first).unwrap();
            mac.update(rest).unwrap();
            assert_eq!(mac.tag_len(), 16);
            assert_eq!(hex::encode(mac.clone().sign().unwrap()), tag);
            mac.clone().verify(&hex::decode(tag).unwrap()).unwrap();
            let mut bad = hex::decode(tag).unwrap();
            bad[15] ^= 1;
            assert_eq!(mac.clone().verify(&bad), Err(CryptoError::SignatureInvalid));
            assert_eq!(mac.verify(&bad[..8]), Err(CryptoError::SignatureLenRange));
        }
    }

    #[test]
    fn general_tags_are_truncated_and_keys_checked() {
        let key = hex::decode(KEY).unwrap();
        let mut mac = Mac::Cmac(Cmac::new(&key, 4).unwrap());
        mac.update(&hex::decode(&MESSAGE[..32]).unwrap()).unwrap();
        assert_eq!(
            mac.clone().sign().unwrap(),
            hex::decode("070a16b4").unwrap()
        );
        mac.verify(&hex::decode("070a16b4").unwrap()).unwrap();
        assert_eq!(
            Cmac::new(&key[..15], 16).unwrap_err(),
            CryptoError::KeySizeRange
        );
        assert_eq!(
            Cmac::new(&key, 17).unwrap_err(),
            CryptoError::MechanismParamInvalid
        );
        for len in [24, 32] {
            Cmac::new(&vec![1; len], 16).unwrap();
        }
    }
}
