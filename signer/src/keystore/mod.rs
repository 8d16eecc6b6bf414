//! The signer's key seam: one [`KeyStore`] trait over the two places a ceremony key can live,
//! an embedded hsm-core token ([`EmbeddedStore`]) and any PKCS#11 module ([`Pkcs11Store`]).
//!
//! It follows IANA's ksrsigner (kskm `misc/hsm.py`): keys are found by `CKA_LABEL` alone and a
//! label must name exactly one private key; the signature input reaches the key by one of two
//! paths chosen per key ([`SigningPath`]); the public key is read from the private object, or
//! from the public object of the same label when the private object does not carry it.

mod embedded;
mod pkcs11;
mod public_key;

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::Digest;

use crate::dnssec::verify::{DIGEST_INFO_SHA256, DIGEST_INFO_SHA512};

pub use embedded::EmbeddedStore;
pub use pkcs11::Pkcs11Store;
pub use public_key::{Curve, PublicKey};

/// How a signature input reaches the key (IANA's two paths, chosen per key by
/// `hash_using_hsm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningPath {
    /// The host pads or hashes; the token applies the bare key: RSA gets the full
    /// EMSA-PKCS1-v1_5 block (`CKM_RSA_X_509`), ECDSA the digest (`CKM_ECDSA`), EdDSA the data
    /// (`CKM_EDDSA`). IANA's default, and the only path some HSMs offer for RSA.
    HostPadding,
    /// The token hashes the data itself: `CKM_SHA256_RSA_PKCS` / `CKM_SHA512_RSA_PKCS`
    /// (DNSSEC algorithms 8 / 10), `CKM_ECDSA_SHA256` / `CKM_ECDSA_SHA384` (13 / 14),
    /// `CKM_EDDSA` (15 / 16).
    TokenHashing,
}

/// What kind of key a [`KeyRef`] names, as far as choosing a mechanism needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `modulus_len` is the modulus length in bytes: the length of the EMSA-PKCS1-v1_5 block
    /// and of every signature.
    Rsa {
        modulus_len: usize,
    },
    Ec(Curve),
    Ed25519,
    Ed448,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { modulus_len } => write!(f, "RSA-{}", modulus_len * 8),
            KeyKind::Ec(curve) => write!(f, "ECDSA {curve}"),
            KeyKind::Ed25519 => f.write_str("Ed25519"),
            KeyKind::Ed448 => f.write_str("Ed448"),
        }
    }
}

/// A private key found by [`KeyStore::key`]. It is only meaningful to the store that returned
/// it: the others refuse it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    label: String,
    kind: KeyKind,
    /// The store that found the key ([`next_store_id`]).
    store: u64,
    /// The private key's object handle in that store's session.
    handle: u64,
}

impl KeyRef {
    /// The key's `CKA_LABEL`: the `keyIdentifier` of the SKR.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }
}

/// The signing mechanism a store uses for one signature, named as PKCS#11 names it so the
/// ceremony transcript can record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignMechanism {
    RsaX509,
    Sha256RsaPkcs,
    Sha512RsaPkcs,
    Ecdsa,
    EcdsaSha256,
    EcdsaSha384,
    /// `CKM_EDDSA` without parameters: pure Ed25519 (RFC 8080).
    EddsaEd25519,
    /// `CKM_EDDSA` with `CK_EDDSA_PARAMS { phFlag = false, no context }`: pure Ed448.
    EddsaEd448,
}

impl SignMechanism {
    /// The PKCS#11 name, e.g. `CKM_RSA_X_509`.
    pub fn name(self) -> &'static str {
        match self {
            SignMechanism::RsaX509 => "CKM_RSA_X_509",
            SignMechanism::Sha256RsaPkcs => "CKM_SHA256_RSA_PKCS",
            SignMechanism::Sha512RsaPkcs => "CKM_SHA512_RSA_PKCS",
            SignMechanism::Ecdsa => "CKM_ECDSA",
            SignMechanism::EcdsaSha256 => "CKM_ECDSA_SHA256",
            SignMechanism::EcdsaSha384 => "CKM_ECDSA_SHA384",
            SignMechanism::EddsaEd25519 | SignMechanism::EddsaEd448 => "CKM_EDDSA",
        }
    }
}

impl std::fmt::Display for SignMechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a key lives and how to use it. Object-safe: the ceremony holds a
/// `Box<dyn KeyStore>` chosen by its configuration.
pub trait KeyStore {
    /// Finds exactly one private key by `CKA_LABEL`, as IANA finds KSKs (by label only: they
    /// carry no `CKA_ID`). No match and several matches are both errors.
    fn key(&self, label: &str) -> Result<KeyRef, KeyStoreError>;

    /// The key's public half, read from the token.
    fn public_key(&self, key: &KeyRef) -> Result<PublicKey, KeyStoreError>;

    /// Signs `input`, already prepared as `path` requires (see [`signing_input`]), with the
    /// mechanism [`mechanism`] picks from the key, the DNSSEC algorithm and the path.
    fn sign(
        &self,
        key: &KeyRef,
        dnssec_algorithm: u8,
        path: SigningPath,
        input: &[u8],
    ) -> Result<Vec<u8>, KeyStoreError>;

    /// One line naming the store for the ceremony transcript: the module or embedded token
    /// with its label, manufacturer, model and serial.
    fn describe(&self) -> String;

    /// The labels of the private keys visible in the session, in token order (duplicates
    /// included, so an inventory shows them), for error messages and inventories.
    fn labels(&self) -> Result<Vec<String>, KeyStoreError>;
}

/// Why a key could not be found or used; every message names the key, label or token.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("cannot load the PKCS#11 module {module}: {reason}")]
    Module { module: String, reason: String },
    #[error(
        "no token labelled {token:?} in {location}; {}",
        list_or_none("tokens present", present)
    )]
    TokenNotFound {
        token: String,
        location: String,
        present: Vec<String>,
    },
    #[error(
        "{count} tokens are labelled {token:?} in {location}: the label must name exactly one token"
    )]
    DuplicateToken {
        token: String,
        location: String,
        count: usize,
    },
    #[error("cannot log in to {store}: {reason}")]
    Login { store: String, reason: String },
    #[error("no private key labelled {label:?} on {store}; {}", key_hint(available, *logged_in))]
    KeyNotFound {
        label: String,
        store: String,
        available: Vec<String>,
        logged_in: bool,
    },
    #[error(
        "{count} private keys are labelled {label:?} on {store}: the ceremony finds keys by label, \
         so a label must name exactly one key"
    )]
    DuplicateLabel {
        label: String,
        store: String,
        count: usize,
    },
    #[error("key {label:?} on {store}: {reason}")]
    PublicKey {
        label: String,
        store: String,
        reason: String,
    },
    #[error("key {label:?} is an {kind} key and cannot sign DNSSEC algorithm {algorithm}")]
    AlgorithmMismatch {
        label: String,
        kind: KeyKind,
        algorithm: u8,
    },
    #[error("key {label:?}, {mechanism}: {reason}")]
    BadInput {
        label: String,
        mechanism: SignMechanism,
        reason: String,
    },
    #[error(
        "{store} does not offer {mechanism}, which key {label:?} needs on the {path:?} path: \
         sign with this key on the other path"
    )]
    MechanismNotOffered {
        label: String,
        store: String,
        mechanism: SignMechanism,
        path: SigningPath,
    },
    #[error("key {label:?} was found by another key store than {store}")]
    ForeignKey { label: String, store: String },
    #[error("{store}: {operation}: {reason}")]
    Token {
        store: String,
        operation: String,
        reason: String,
    },
}

fn list_or_none(what: &str, items: &[String]) -> String {
    if items.is_empty() {
        format!("{what}: none")
    } else {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("{what}: {}", quoted.join(", "))
    }
}

fn key_hint(available: &[String], logged_in: bool) -> String {
    let list = list_or_none("private keys there", available);
    if logged_in {
        list
    } else {
        format!("{list} (not logged in: private keys are visible only after login; give a PIN)")
    }
}

/// A fresh identity for a store, so a [`KeyRef`] cannot be used with a store that did not
/// find it (object handles of different sessions collide).
fn next_store_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Checks that `key` came from the store `store_id`.
fn check_owner(
    key: &KeyRef,
    store_id: u64,
    store: impl FnOnce() -> String,
) -> Result<(), KeyStoreError> {
    if key.store == store_id {
        Ok(())
    } else {
        Err(KeyStoreError::ForeignKey {
            label: key.label.clone(),
            store: store(),
        })
    }
}

/// The one private key a label names, as IANA's tool requires: none, or more than one, is
/// an error naming the label and the store (with the labels it does hold).
fn only_key<H: Copy>(
    label: &str,
    handles: &[H],
    store: &dyn KeyStore,
    logged_in: bool,
) -> Result<H, KeyStoreError> {
    match handles {
        [handle] => Ok(*handle),
        [] => Err(KeyStoreError::KeyNotFound {
            label: label.to_string(),
            store: store.describe(),
            available: store.labels().unwrap_or_default(),
            logged_in,
        }),
        several => Err(KeyStoreError::DuplicateLabel {
            label: label.to_string(),
            store: store.describe(),
            count: several.len(),
        }),
    }
}

/// RFC 8017 §9.2: at least eight 0xFF bytes of padding.
const MIN_PADDING: usize = 8;

/// The hash DNSSEC algorithms 8 and 10 use: (DigestInfo prefix, digest length).
fn rsa_hash(algorithm: u8) -> Option<(&'static [u8], usize)> {
    match algorithm {
        8 => Some((DIGEST_INFO_SHA256, 32)),
        10 => Some((DIGEST_INFO_SHA512, 64)),
        _ => None,
    }
}

fn mismatch(key: &KeyRef, algorithm: u8) -> KeyStoreError {
    KeyStoreError::AlgorithmMismatch {
        label: key.label.clone(),
        kind: key.kind,
        algorithm,
    }
}

/// The mechanism for `key`, DNSSEC `algorithm` and `path`; refuses a key that cannot make
/// that algorithm's signatures (RSA: 8, 10; P-256: 13; P-384: 14; Ed25519: 15; Ed448: 16).
pub fn mechanism(
    key: &KeyRef,
    algorithm: u8,
    path: SigningPath,
) -> Result<SignMechanism, KeyStoreError> {
    use SignMechanism as M;
    use SigningPath::{HostPadding, TokenHashing};
    Ok(match (key.kind, algorithm, path) {
        (KeyKind::Rsa { .. }, 8 | 10, HostPadding) => M::RsaX509,
        (KeyKind::Rsa { .. }, 8, TokenHashing) => M::Sha256RsaPkcs,
        (KeyKind::Rsa { .. }, 10, TokenHashing) => M::Sha512RsaPkcs,
        (KeyKind::Ec(Curve::P256), 13, HostPadding)
        | (KeyKind::Ec(Curve::P384), 14, HostPadding) => M::Ecdsa,
        (KeyKind::Ec(Curve::P256), 13, TokenHashing) => M::EcdsaSha256,
        (KeyKind::Ec(Curve::P384), 14, TokenHashing) => M::EcdsaSha384,
        (KeyKind::Ed25519, 15, _) => M::EddsaEd25519,
        (KeyKind::Ed448, 16, _) => M::EddsaEd448,
        _ => return Err(mismatch(key, algorithm)),
    })
}

/// What the key must sign for `data` (the RRSIG signing input) on `path`: on
/// [`SigningPath::HostPadding`] the EMSA-PKCS1-v1_5 block for RSA, the digest for ECDSA, the
/// data for EdDSA; on [`SigningPath::TokenHashing`] the data itself.
pub fn signing_input(
    key: &KeyRef,
    algorithm: u8,
    path: SigningPath,
    data: &[u8],
) -> Result<Vec<u8>, KeyStoreError> {
    let mechanism = mechanism(key, algorithm, path)?;
    Ok(match (mechanism, key.kind) {
        (SignMechanism::RsaX509, KeyKind::Rsa { modulus_len }) => {
            let (prefix, _) = rsa_hash(algorithm).ok_or_else(|| mismatch(key, algorithm))?;
            let digest = if algorithm == 8 {
                sha2::Sha256::digest(data).to_vec()
            } else {
                sha2::Sha512::digest(data).to_vec()
            };
            let t_len = prefix.len() + digest.len();
            if modulus_len < t_len + 3 + MIN_PADDING {
                return Err(KeyStoreError::BadInput {
                    label: key.label.clone(),
                    mechanism,
                    reason: format!(
                        "a {}-bit modulus is too short for algorithm {algorithm}",
                        modulus_len * 8
                    ),
                });
            }
            let mut block = Vec::with_capacity(modulus_len);
            block.extend_from_slice(&[0x00, 0x01]);
            block.resize(modulus_len - t_len - 1, 0xff);
            block.push(0x00);
            block.extend_from_slice(prefix);
            block.extend_from_slice(&digest);
            block
        }
        (SignMechanism::Ecdsa, KeyKind::Ec(Curve::P256)) => sha2::Sha256::digest(data).to_vec(),
        (SignMechanism::Ecdsa, KeyKind::Ec(Curve::P384)) => sha2::Sha384::digest(data).to_vec(),
        _ => data.to_vec(),
    })
}

/// Picks the mechanism and refuses an input that is not what the path promises, so a caller's
/// mistake cannot turn into a signature over the wrong bytes (`CKM_RSA_X_509` signs anything).
fn checked_mechanism(
    key: &KeyRef,
    algorithm: u8,
    path: SigningPath,
    input: &[u8],
) -> Result<SignMechanism, KeyStoreError> {
    let mechanism = mechanism(key, algorithm, path)?;
    let bad = |reason: String| KeyStoreError::BadInput {
        label: key.label.clone(),
        mechanism,
        reason,
    };
    match (mechanism, key.kind) {
        (SignMechanism::RsaX509, KeyKind::Rsa { modulus_len }) => {
            let (prefix, digest_len) =
                rsa_hash(algorithm).ok_or_else(|| mismatch(key, algorithm))?;
            if input.len() != modulus_len {
                return Err(bad(format!(
                    "the EMSA-PKCS1-v1_5 block is {} bytes, the modulus {modulus_len}",
                    input.len()
                )));
            }
            let t_len = prefix.len() + digest_len;
            let padding_end = modulus_len.saturating_sub(t_len + 1);
            let well_formed = padding_end >= 2 + MIN_PADDING
                && input[..2] == [0x00, 0x01]
                && input[2..padding_end].iter().all(|b| *b == 0xff)
                && input[padding_end] == 0x00
                && &input[padding_end + 1..padding_end + 1 + prefix.len()] == prefix;
            if !well_formed {
                return Err(bad(format!(
                    "the input is not an EMSA-PKCS1-v1_5 block for algorithm {algorithm} \
                     (00 01 FF.. 00, DigestInfo of SHA-{}, digest)",
                    digest_len * 8
                )));
            }
        }
        (SignMechanism::Ecdsa, KeyKind::Ec(curve)) if input.len() != curve.field_len() => {
            return Err(bad(format!(
                "the digest is {} bytes; algorithm {algorithm} signs a {}-byte SHA-{} digest",
                input.len(),
                curve.field_len(),
                curve.field_len() * 8
            )));
        }
        _ => {}
    }
    Ok(mechanism)
}

/// The public key of a private key object: from its own attributes (IANA reads
/// `CKA_MODULUS`/`CKA_PUBLIC_EXPONENT` there), else from the one public-key object with the
/// same label, which must be of the same key type and curve.
fn resolve_public_key(
    label: &str,
    store: &dyn Fn() -> String,
    private: &public_key::KeyAttributes,
    public_objects: impl FnOnce() -> Result<Vec<public_key::KeyAttributes>, KeyStoreError>,
) -> Result<PublicKey, KeyStoreError> {
    let fail = |reason: String| KeyStoreError::PublicKey {
        label: label.to_string(),
        store: store(),
        reason,
    };
    let family = private
        .family()
        .map_err(|e| fail(format!("the private key is {e}")))?;
    if let Some(key) = private.public_key().map_err(&fail)? {
        return Ok(key);
    }
    let publics = public_objects()?;
    let [public] = publics.as_slice() else {
        return Err(fail(format!(
            "the private key object does not carry its public key, and {} public-key objects \
             carry the label (exactly one is needed)",
            publics.len()
        )));
    };
    let public_family = public
        .family()
        .map_err(|e| fail(format!("the public-key object is {e}")))?;
    if public_family != family {
        return Err(fail(format!(
            "the public-key object of the same label is a {public_family:?} key, the private key \
             a {family:?} key"
        )));
    }
    public
        .public_key()
        .map_err(&fail)?
        .ok_or_else(|| fail("the public-key object lacks its key components".into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key(kind: KeyKind) -> KeyRef {
        KeyRef {
            label: "K".into(),
            kind,
            store: 0,
            handle: 0,
        }
    }

    /// vectors.md §1 (RFC 5702 §6.1, 512-bit key): the signed data and the exact
    /// `CKM_RSA_X_509` input.
    #[test]
    fn host_padding_builds_the_rfc_5702_block() {
        let data = hex::decode(
            "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c\
             65036e6574000001000100000e100004c000025b",
        )
        .unwrap();
        let block = hex::decode(
            "0001ffffffffffffffffffff003031300d0609608648016503040201050004201f3cb0b43035486587\
             6f3a70a5d34ed10a4346fd67869aca7b824bf9218d90cc",
        )
        .unwrap();
        let rsa = key(KeyKind::Rsa { modulus_len: 64 });
        assert_eq!(
            signing_input(&rsa, 8, SigningPath::HostPadding, &data).unwrap(),
            block
        );
        assert_eq!(
            checked_mechanism(&rsa, 8, SigningPath::HostPadding, &block).unwrap(),
            SignMechanism::RsaX509
        );
        // The same block is refused for algorithm 10 (its DigestInfo is SHA-256's).
        assert!(matches!(
            checked_mechanism(&rsa, 10, SigningPath::HostPadding, &block),
            Err(KeyStoreError::BadInput { .. })
        ));
        // A 512-bit modulus cannot hold a SHA-512 block with eight bytes of padding.
        assert!(signing_input(&rsa, 10, SigningPath::HostPadding, &data).is_err());
    }

    #[test]
    fn every_prepared_input_passes_the_checks() {
        let data = b"the RRSIG signing input";
        let cases = [
            (KeyKind::Rsa { modulus_len: 256 }, 8, 256),
            (KeyKind::Rsa { modulus_len: 256 }, 10, 256),
            (KeyKind::Ec(Curve::P256), 13, 32),
            (KeyKind::Ec(Curve::P384), 14, 48),
            (KeyKind::Ed25519, 15, data.len()),
            (KeyKind::Ed448, 16, data.len()),
        ];
        for (kind, algorithm, host_len) in cases {
            let k = key(kind);
            for path in [SigningPath::HostPadding, SigningPath::TokenHashing] {
                let input = signing_input(&k, algorithm, path, data).unwrap();
                let expected_len = match path {
                    SigningPath::HostPadding => host_len,
                    SigningPath::TokenHashing => data.len(),
                };
                assert_eq!(input.len(), expected_len, "{kind} {path:?}");
                checked_mechanism(&k, algorithm, path, &input).unwrap();
            }
        }
        assert!(matches!(
            mechanism(&key(KeyKind::Ec(Curve::P256)), 14, SigningPath::HostPadding),
            Err(KeyStoreError::AlgorithmMismatch { .. })
        ));
        assert!(matches!(
            mechanism(
                &key(KeyKind::Rsa { modulus_len: 256 }),
                5,
                SigningPath::HostPadding
            ),
            Err(KeyStoreError::AlgorithmMismatch { .. })
        ));
    }
}
