//! Algorithm identifiers, mechanisms and key material shared by every backend.
//!
//! Key material is plain data (big-endian integers, points, seeds) so the store can persist it
//! and either provider can load it; secret parts live in [`SecretBytes`] only.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::CryptoError;
use crate::secret::SecretBytes;

/// Hash functions usable as digests and inside signature mechanisms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// All supported hashes, for tests and mechanism lists.
    pub const ALL: [HashAlg; 5] = [
        HashAlg::Sha1,
        HashAlg::Sha224,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// DER prefix of the PKCS#1 v1.5 DigestInfo (RFC 8017 §9.2 note 1); the hash follows it.
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            HashAlg::Sha224 => &[
                0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x04, 0x05, 0x00, 0x04, 0x1c,
            ],
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// DigestInfo (prefix ‖ hash), the `T` that PKCS#1 v1.5 signs.
    pub fn digest_info(self, hash: &[u8]) -> Vec<u8> {
        let mut t = Vec::with_capacity(self.digest_info_prefix().len() + hash.len());
        t.extend_from_slice(self.digest_info_prefix());
        t.extend_from_slice(hash);
        t
    }

    /// Recognises a DigestInfo built with one of our prefixes and returns the hash inside.
    pub fn parse_digest_info(t: &[u8]) -> Option<(HashAlg, &[u8])> {
        HashAlg::ALL.into_iter().find_map(|alg| {
            let rest = t.strip_prefix(alg.digest_info_prefix())?;
            (rest.len() == alg.output_len()).then_some((alg, rest))
        })
    }
}

/// NIST curves for ECDSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Curve {
    P256,
    P384,
    P521,
}

const P256_OID_DER: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID_DER: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521_OID_DER: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

impl Curve {
    /// DER of the namedCurve OID, the value of `CKA_EC_PARAMS`.
    pub fn der_oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => P256_OID_DER,
            Curve::P384 => P384_OID_DER,
            Curve::P521 => P521_OID_DER,
        }
    }

    /// Reads `CKA_EC_PARAMS` given as a namedCurve OID, (PKCS#11 3.0) a PrintableString
    /// name, or explicit parameters (specifiedCurve) whose every constant is this curve's:
    /// a key keeps the caller's bytes while its arithmetic is the named curve's.
    pub fn from_der_oid(der: &[u8]) -> Option<Curve> {
        match der {
            P256_OID_DER => return Some(Curve::P256),
            P384_OID_DER => return Some(Curve::P384),
            P521_OID_DER => return Some(Curve::P521),
            [0x30, ..] => return super::ec_params::specified_curve(der),
            _ => {}
        }
        // PrintableString (tag 0x13) with a short-form length.
        let (&[0x13, len], name) = der.split_first_chunk::<2>()? else {
            return None;
        };
        if usize::from(len) != name.len() {
            return None;
        }
        match name {
            b"prime256v1" | b"secp256r1" | b"P-256" => Some(Curve::P256),
            b"secp384r1" | b"P-384" => Some(Curve::P384),
            b"secp521r1" | b"P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// Size of a field element and of a scalar in bytes.
    pub fn field_len(self) -> usize {
        self.bits().div_ceil(8)
    }

    /// Size of the field (and of the order) in bits.
    pub fn bits(self) -> usize {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    /// Length of an r‖s signature.
    pub fn signature_len(self) -> usize {
        2 * self.field_len()
    }

    /// Length of an uncompressed point 0x04‖X‖Y.
    pub fn point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    /// The hash that pairs with the curve in DNSSEC (RFC 6605) and aws-lc's fast path.
    pub fn native_hash(self) -> HashAlg {
        match self {
            Curve::P256 => HashAlg::Sha256,
            Curve::P384 => HashAlg::Sha384,
            Curve::P521 => HashAlg::Sha512,
        }
    }
}

/// Parameters of RSASSA-PSS (`CK_RSA_PKCS_PSS_PARAMS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PssParams {
    pub hash: HashAlg,
    pub mgf_hash: HashAlg,
    pub salt_len: usize,
}

/// A signature mechanism and its parameters, independent of PKCS#11 numbering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SignMechanism {
    /// CKM_RSA_PKCS: type-1 padding over the input (normally a DigestInfo), ≤ k-11 bytes.
    RsaPkcs,
    /// CKM_RSA_X_509: raw RSA, input ≤ k bytes, left-padded with zeros.
    RsaX509,
    /// CKM_SHA*_RSA_PKCS: hashes the data, then PKCS#1 v1.5 over the DigestInfo.
    RsaPkcsHash(HashAlg),
    /// CKM_RSA_PKCS_PSS: the input is the hash (length `params.hash.output_len()`).
    RsaPss(PssParams),
    /// CKM_SHA*_RSA_PKCS_PSS: hashes the data with `params.hash`, then PSS.
    RsaPssHash(PssParams),
    /// CKM_ECDSA: the input is a hash of any length (truncated or padded per SEC 1).
    Ecdsa,
    /// CKM_ECDSA_SHA*: hashes the data first.
    EcdsaHash(HashAlg),
    /// CKM_EDDSA: the RFC 8032 variant follows from the key's curve and the parameters.
    EdDsa(EdDsaParams),
}

impl SignMechanism {
    pub(crate) fn is_rsa(&self) -> bool {
        matches!(
            self,
            SignMechanism::RsaPkcs
                | SignMechanism::RsaX509
                | SignMechanism::RsaPkcsHash(_)
                | SignMechanism::RsaPss(_)
                | SignMechanism::RsaPssHash(_)
        )
    }

    pub(crate) fn is_ecdsa(&self) -> bool {
        matches!(self, SignMechanism::Ecdsa | SignMechanism::EcdsaHash(_))
    }
}

/// `CK_EDDSA_PARAMS` once read: RFC 8032's prehash flag and context (at most 255 bytes).
/// No parameter at all reads as [`EdDsaParams::PURE`]: Ed25519, and Ed448 with an empty
/// context.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EdDsaParams {
    prehash: bool,
    context: Vec<u8>,
}

impl EdDsaParams {
    /// Pure EdDSA with no context (plain Ed25519; Ed448 with an empty context).
    pub const PURE: EdDsaParams = EdDsaParams {
        prehash: false,
        context: Vec::new(),
    };

    /// `None` for a context over 255 bytes, which RFC 8032 cannot encode.
    pub fn new(prehash: bool, context: &[u8]) -> Option<EdDsaParams> {
        (context.len() <= 255).then(|| EdDsaParams {
            prehash,
            context: context.to_vec(),
        })
    }

    /// HashEdDSA (Ed25519ph, Ed448ph): the message is hashed first.
    pub fn prehash(&self) -> bool {
        self.prehash
    }

    /// The context, at most 255 bytes.
    pub fn context(&self) -> &[u8] {
        &self.context
    }

    /// Plain Ed25519 on an Ed25519 key: no prehash and no context. Ed25519ctx with an empty
    /// context, which RFC 8032 §8.3 advises against, is read as plain Ed25519, as clients
    /// that always pass `CK_EDDSA_PARAMS` mean.
    pub fn is_pure(&self) -> bool {
        !self.prehash && self.context.is_empty()
    }
}

impl fmt::Debug for EdDsaParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdDsaParams")
            .field("prehash", &self.prehash)
            .field("context", &hex::encode(&self.context))
            .finish()
    }
}

/// Parameters of RSAES-OAEP (`CK_RSA_PKCS_OAEP_PARAMS` once parsed): the label hash, the
/// MGF1 hash and the label (`pSourceData`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OaepParams {
    pub hash: HashAlg,
    pub mgf_hash: HashAlg,
    pub label: Vec<u8>,
}

impl fmt::Debug for OaepParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OaepParams")
            .field("hash", &self.hash)
            .field("mgf_hash", &self.mgf_hash)
            .field("label_len", &self.label.len())
            .finish()
    }
}

/// An RSA encryption scheme, independent of PKCS#11 numbering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RsaCrypt {
    /// CKM_RSA_PKCS: RSAES-PKCS1-v1_5 (type-2 padding), plaintext ≤ k-11 bytes.
    Pkcs1,
    /// CKM_RSA_PKCS_OAEP: plaintext ≤ k-2hLen-2 bytes.
    Oaep(OaepParams),
    /// CKM_RSA_X_509: raw RSA over a block of at most k bytes, left-padded with zeros.
    X509,
}

/// RSA private key components, big-endian unsigned without leading zeros.
#[derive(Clone)]
pub struct RsaPrivateParts {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub d: SecretBytes,
    pub p: SecretBytes,
    pub q: SecretBytes,
    pub dp: SecretBytes,
    pub dq: SecretBytes,
    pub qinv: SecretBytes,
}

impl fmt::Debug for RsaPrivateParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivateParts")
            .field("bits", &bit_len(&self.n))
            .field("e", &hex::encode(&self.e))
            .finish_non_exhaustive()
    }
}

/// A private key as stored: enough to rebuild any backend's key object.
#[derive(Clone)]
pub enum PrivateKeyMaterial {
    Rsa(RsaPrivateParts),
    Ec {
        curve: Curve,
        d: SecretBytes,
    },
    Ed25519 {
        seed: SecretBytes,
    },
    /// RFC 8032 §5.2.5: a 57-byte secret seed.
    Ed448 {
        seed: SecretBytes,
    },
}

impl fmt::Debug for PrivateKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivateKeyMaterial::Rsa(parts) => f.debug_tuple("Rsa").field(parts).finish(),
            PrivateKeyMaterial::Ec { curve, .. } => f
                .debug_struct("Ec")
                .field("curve", curve)
                .finish_non_exhaustive(),
            PrivateKeyMaterial::Ed25519 { .. } => f.write_str("Ed25519 { .. }"),
            PrivateKeyMaterial::Ed448 { .. } => f.write_str("Ed448 { .. }"),
        }
    }
}

impl PrivateKeyMaterial {
    /// Derives the public half (for RSA simply n and e; EC and Ed25519 by scalar multiplication).
    pub fn public(&self) -> Result<PublicKeyMaterial, CryptoError> {
        match self {
            PrivateKeyMaterial::Rsa(parts) => Ok(PublicKeyMaterial::Rsa {
                n: parts.n.clone(),
                e: parts.e.clone(),
            }),
            PrivateKeyMaterial::Ec { curve, d } => Ok(PublicKeyMaterial::Ec {
                curve: *curve,
                point: super::ec::public_point(*curve, d.expose())?,
            }),
            PrivateKeyMaterial::Ed25519 { seed } => Ok(PublicKeyMaterial::Ed25519 {
                public: super::ed25519::public_from_seed(seed.expose())?,
            }),
            PrivateKeyMaterial::Ed448 { seed } => Ok(PublicKeyMaterial::Ed448 {
                public: super::ed448::public_from_seed(seed.expose())?,
            }),
        }
    }
}

/// A public key as stored and as exported in DNSKEY / `CKA_*` attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PublicKeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// `point` is uncompressed: 0x04 ‖ X ‖ Y.
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519 {
        public: [u8; 32],
    },
    /// 57 bytes (a `Vec`: serde derives stop at 32-byte arrays).
    Ed448 {
        public: Vec<u8>,
    },
}

impl PublicKeyMaterial {
    /// Modulus length in bits for RSA, the curve's field size for EC and EdDSA.
    pub fn bits(&self) -> usize {
        match self {
            PublicKeyMaterial::Rsa { n, .. } => bit_len(n),
            PublicKeyMaterial::Ec { curve, .. } => curve.bits(),
            PublicKeyMaterial::Ed25519 { .. } => 256,
            PublicKeyMaterial::Ed448 { .. } => 448,
        }
    }
}

/// Key family, to reject a mechanism that does not fit before touching the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    Ec,
    Ed25519,
    Ed448,
}

impl KeyKind {
    pub(crate) fn check(self, mech: &SignMechanism) -> Result<(), CryptoError> {
        let fits = match self {
            KeyKind::Rsa => mech.is_rsa(),
            KeyKind::Ec => mech.is_ecdsa(),
            KeyKind::Ed25519 | KeyKind::Ed448 => matches!(mech, SignMechanism::EdDsa(_)),
        };
        if fits {
            Ok(())
        } else {
            Err(CryptoError::KeyTypeInconsistent)
        }
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> usize {
    let trimmed = strip_leading_zeros(be);
    match trimmed.first() {
        None => 0,
        Some(&top) => trimmed.len() * 8 - top.leading_zeros() as usize,
    }
}

pub(crate) fn strip_leading_zeros(be: &[u8]) -> &[u8] {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    &be[start..]
}
