//! Byte strings that hold secrets: wiped on drop, never printed.
//!
//! Every TMK, share, PIN and private key component passes through these types so that a stray
//! `{:?}` or a log line cannot leak it, and so the memory is zeroized when the value goes away.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret byte string of any length (PINs, shares, private key components).
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; the caller's copy is moved, not duplicated.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret; the caller remains responsible for its own copy.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Reads a secret from the OS random number generator.
    pub fn random(len: usize) -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0u8; len];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

/// A fixed-size secret key (the TMK, key-encryption keys).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey<const N: usize>([u8; N]);

impl<const N: usize> SecretKey<N> {
    pub fn new(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh key from the OS random number generator.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; N];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Builds a key from a slice of exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; N] = bytes.try_into().ok()?;
        Some(Self(array))
    }

    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for SecretKey<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey<{N}>([REDACTED])")
    }
}

/// The token master key: 256 bits, reconstructed from a quorum or unsealed by a PIN.
pub type Tmk = SecretKey<32>;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = SecretBytes::from_slice(b"hunter2-secret");
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("REDACTED"));
        let key = Tmk::new([0x41; 32]);
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("65") && !shown.contains("41") && !shown.contains("AAAA"),
            "{shown}"
        );
    }

    #[test]
    fn random_keys_differ() {
        let a = Tmk::random().unwrap();
        let b = Tmk::random().unwrap();
        assert_ne!(a.expose(), b.expose());
    }
}
