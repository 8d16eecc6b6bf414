//! Argon2id key derivation and PIN verifiers.
//!
//! PINs are short and guessable, so every key or verifier derived from one goes through a
//! memory-hard function whose cost is stored next to the result: the parameters can be raised
//! later without breaking existing files, and files written with weak parameters stay readable.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::secret::SecretKey;

/// Largest memory cost accepted from a file: above this a crafted file could exhaust memory.
pub const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
/// Largest number of passes accepted from a file: above this a crafted file could hang us.
pub const MAX_T_COST: u32 = 100;
/// Largest parallelism accepted from a file.
pub const MAX_P_COST: u32 = 64;
/// Shortest salt accepted (Argon2's own minimum).
pub const MIN_SALT_LEN: usize = 8;
/// Salt length used for new verifiers and cards.
pub const SALT_LEN: usize = 16;

/// Errors of key derivation; none of them contains secret material.
#[derive(Debug, thiserror::Error)]
pub enum KdfError {
    #[error("invalid key-derivation parameters: {0}")]
    InvalidParams(String),
    #[error("key-derivation salt is too short: {len} bytes, at least {MIN_SALT_LEN} required")]
    SaltTooShort { len: usize },
    #[error("Argon2id key derivation failed: {0}")]
    Argon2(String),
    #[error("the operating system's random number generator failed")]
    Rng,
}

/// Argon2id cost parameters, stored alongside whatever they protect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes over the memory.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// For credential cards: a card is opened rarely, so we can afford to make each guess costly.
    pub const CARD: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// For user PINs checked at every login: the OWASP minimum for Argon2id.
    pub const PIN: Self = Self {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// INSECURE: trivially cheap parameters so test suites run fast. Never use for real data.
    pub const TESTING: Self = Self {
        m_cost_kib: 8,
        t_cost: 1,
        p_cost: 1,
    };

    /// Rejects parameters that Argon2 refuses or that are absurd enough to be an attack
    /// (parameters are read from files, which are untrusted).
    pub fn validate(&self) -> Result<(), KdfError> {
        let Self {
            m_cost_kib: m,
            t_cost: t,
            p_cost: p,
        } = *self;
        if p == 0 || p > MAX_P_COST {
            return Err(KdfError::InvalidParams(format!(
                "parallelism {p} is out of range (1..={MAX_P_COST})"
            )));
        }
        if t == 0 || t > MAX_T_COST {
            return Err(KdfError::InvalidParams(format!(
                "time cost {t} is out of range (1..={MAX_T_COST})"
            )));
        }
        let min_m = 8 * p;
        if m < min_m || m > MAX_M_COST_KIB {
            return Err(KdfError::InvalidParams(format!(
                "memory cost {m} KiB is out of range ({min_m}..={MAX_M_COST_KIB} KiB for parallelism {p})"
            )));
        }
        Ok(())
    }

    fn argon2(&self) -> Result<Argon2<'static>, KdfError> {
        self.validate()?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| KdfError::InvalidParams(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Derives a 256-bit key from `secret` (a PIN or passphrase) with Argon2id v1.3.
pub fn derive_key(
    secret: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<SecretKey<32>, KdfError> {
    if salt.len() < MIN_SALT_LEN {
        return Err(KdfError::SaltTooShort { len: salt.len() });
    }
    let argon2 = params.argon2()?;
    let mut out = [0u8; 32];
    let result = argon2.hash_password_into(secret, salt, &mut out);
    let key = SecretKey::new(out);
    out.zeroize();
    result.map_err(|e| KdfError::Argon2(e.to_string()))?;
    Ok(key)
}

/// Compares two byte strings without an early exit, so timing does not reveal where they
/// differ. Lengths are treated as public.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// What a token stores to check a PIN: salt, cost and Argon2id hash, never the PIN.
#[derive(Clone, Serialize, Deserialize)]
pub struct PinVerifier {
    salt: [u8; SALT_LEN],
    params: KdfParams,
    hash: [u8; 32],
}

impl PinVerifier {
    /// Hashes `pin` under a fresh random salt.
    pub fn new(pin: &[u8], params: KdfParams) -> Result<Self, KdfError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| KdfError::Rng)?;
        let key = derive_key(pin, &salt, params)?;
        Ok(Self {
            salt,
            params,
            hash: *key.expose(),
        })
    }

    /// Checks `pin` in constant time; `Ok(false)` means wrong PIN, `Err` a broken verifier.
    pub fn verify(&self, pin: &[u8]) -> Result<bool, KdfError> {
        let key = derive_key(pin, &self.salt, self.params)?;
        Ok(constant_time_eq(key.expose(), &self.hash))
    }

    /// The cost this verifier was made with, so callers can decide to re-hash with a higher one.
    pub fn params(&self) -> KdfParams {
        self.params
    }
}

impl Drop for PinVerifier {
    fn drop(&mut self) {
        // The hash allows an offline guessing attack on the PIN: do not leave it in memory.
        self.hash.zeroize();
    }
}

impl fmt::Debug for PinVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinVerifier")
            .field("params", &self.params)
            .field("hash", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SALT: &[u8] = b"0123456789abcdef";

    #[test]
    fn derive_key_is_deterministic_and_depends_on_every_input() {
        let p = KdfParams::TESTING;
        let k = derive_key(b"1234", SALT, p).unwrap();
        assert_eq!(k.expose(), derive_key(b"1234", SALT, p).unwrap().expose());
        assert_ne!(k.expose(), derive_key(b"1235", SALT, p).unwrap().expose());
        assert_ne!(
            k.expose(),
            derive_key(b"1234", b"0123456789abcdeF", p)
                .unwrap()
                .expose()
        );
        let p2 = KdfParams { t_cost: 2, ..p };
        assert_ne!(k.expose(), derive_key(b"1234", SALT, p2).unwrap().expose());
    }

    #[test]
    fn derive_key_matches_argon2id_reference() {
        // Cross-check against the argon2 crate's own high-level API with identical settings.
        let params = Params::new(32, 2, 1, Some(32)).unwrap();
        let mut expected = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(b"password", b"somesalt", &mut expected)
            .unwrap();
        let p = KdfParams {
            m_cost_kib: 32,
            t_cost: 2,
            p_cost: 1,
        };
        assert_eq!(
            derive_key(b"password", b"somesalt", p).unwrap().expose(),
            &expected
        );
    }

    #[test]
    fn builtin_params_are_valid() {
        for p in [KdfParams::CARD, KdfParams::PIN, KdfParams::TESTING] {
            p.validate().unwrap();
        }
    }

    #[test]
    fn absurd_params_are_rejected() {
        let ok = KdfParams::TESTING;
        let bad = [
            KdfParams {
                m_cost_kib: 0,
                ..ok
            },
            KdfParams { t_cost: 0, ..ok },
            KdfParams { p_cost: 0, ..ok },
            KdfParams {
                m_cost_kib: MAX_M_COST_KIB + 1,
                ..ok
            },
            KdfParams {
                m_cost_kib: u32::MAX,
                ..ok
            },
            KdfParams {
                t_cost: MAX_T_COST + 1,
                ..ok
            },
            KdfParams {
                p_cost: MAX_P_COST + 1,
                m_cost_kib: 1 << 20,
                ..ok
            },
            KdfParams {
                p_cost: 4,
                m_cost_kib: 31,
                ..ok
            },
        ];
        for p in bad {
            let err = derive_key(b"pin", SALT, p).unwrap_err();
            assert!(matches!(err, KdfError::InvalidParams(_)), "{p:?}: {err}");
            assert!(
                err.to_string()
                    .contains("invalid key-derivation parameters")
            );
        }
    }

    #[test]
    fn short_salt_is_rejected() {
        let err = derive_key(b"pin", b"short", KdfParams::TESTING).unwrap_err();
        assert!(matches!(err, KdfError::SaltTooShort { len: 5 }));
    }

    #[test]
    fn pin_verifier_accepts_right_pin_only() {
        let v = PinVerifier::new(b"correct horse", KdfParams::TESTING).unwrap();
        assert!(v.verify(b"correct horse").unwrap());
        assert!(!v.verify(b"correct horsE").unwrap());
        assert!(!v.verify(b"").unwrap());
        assert_eq!(v.params(), KdfParams::TESTING);
    }

    #[test]
    fn pin_verifiers_use_fresh_salts() {
        let a = PinVerifier::new(b"1234", KdfParams::TESTING).unwrap();
        let b = PinVerifier::new(b"1234", KdfParams::TESTING).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn pin_verifier_survives_serialization() {
        let v = PinVerifier::new(b"1234", KdfParams::TESTING).unwrap();
        let bytes = postcard::to_allocvec(&v).unwrap();
        let back: PinVerifier = postcard::from_bytes(&bytes).unwrap();
        assert!(back.verify(b"1234").unwrap());
        assert!(!back.verify(b"4321").unwrap());
    }

    #[test]
    fn pin_verifier_with_absurd_params_from_a_file_is_an_error() {
        let mut v = PinVerifier::new(b"1234", KdfParams::TESTING).unwrap();
        v.params.m_cost_kib = u32::MAX;
        assert!(matches!(v.verify(b"1234"), Err(KdfError::InvalidParams(_))));
    }

    #[test]
    fn pin_verifier_debug_hides_hash() {
        let v = PinVerifier::new(b"1234", KdfParams::TESTING).unwrap();
        let shown = format!("{v:?}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(!shown.contains(&format!("{:?}", v.hash)), "{shown}");
        assert!(!shown.contains(&hex::encode(v.hash)), "{shown}");
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"\x01bc", b"abc"));
    }
}
