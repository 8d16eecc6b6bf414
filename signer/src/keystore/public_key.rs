//! Public keys as tokens hold them: decoding `CKA_MODULUS`/`CKA_PUBLIC_EXPONENT` and
//! `CKA_EC_PARAMS`/`CKA_EC_POINT`, whichever of the encodings tokens actually return.

use cryptoki_sys as ck;

use super::KeyKind;

/// The NIST curves DNSSEC uses (RFC 6605).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
}

const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const ED448_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x71];

impl Curve {
    /// Length of a coordinate, of a scalar, and of the digest DNSSEC signs with the curve.
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// `CKA_EC_PARAMS`: the DER of the namedCurve OID.
    pub fn der_oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => P256_OID,
            Curve::P384 => P384_OID,
        }
    }
}

impl std::fmt::Display for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        })
    }
}

/// A key's public half.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// Big-endian, without leading zero bytes.
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// `point` is uncompressed: `04 ‖ x ‖ y`.
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
    Ed448(Vec<u8>),
}

impl PublicKey {
    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::Rsa { modulus, .. } => KeyKind::Rsa {
                modulus_len: modulus.len(),
            },
            PublicKey::Ec { curve, .. } => KeyKind::Ec(*curve),
            PublicKey::Ed25519(_) => KeyKind::Ed25519,
            PublicKey::Ed448(_) => KeyKind::Ed448,
        }
    }

    /// The DNSKEY public key field: RFC 3110 for RSA (exponent length, exponent, modulus),
    /// `x ‖ y` for ECDSA (RFC 6605), the raw key for EdDSA (RFC 8080).
    pub fn dnskey_public_key(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa { modulus, exponent } => {
                let mut out = Vec::with_capacity(3 + exponent.len() + modulus.len());
                match u8::try_from(exponent.len()) {
                    Ok(len) => out.push(len),
                    Err(_) => {
                        out.push(0);
                        // Exponents are a few bytes; one over 65535 bytes is not a key.
                        let len = u16::try_from(exponent.len()).unwrap_or(u16::MAX);
                        out.extend_from_slice(&len.to_be_bytes());
                    }
                }
                out.extend_from_slice(exponent);
                out.extend_from_slice(modulus);
                out
            }
            PublicKey::Ec { point, .. } => point.get(1..).unwrap_or_default().to_vec(),
            PublicKey::Ed25519(key) | PublicKey::Ed448(key) => key.clone(),
        }
    }
}

/// The attributes of one key object that carry its public half; absent or unreadable ones
/// are `None`.
#[derive(Clone, Debug, Default)]
pub(super) struct KeyAttributes {
    pub key_type: Option<ck::CK_KEY_TYPE>,
    pub modulus: Option<Vec<u8>>,
    pub public_exponent: Option<Vec<u8>>,
    pub ec_params: Option<Vec<u8>>,
    pub ec_point: Option<Vec<u8>>,
}

/// The key types the seam handles, from `CKA_KEY_TYPE` and `CKA_EC_PARAMS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    Rsa,
    Ec(Curve),
    Ed25519,
    Ed448,
}

impl KeyAttributes {
    /// The key's family; an error names what is unsupported.
    pub fn family(&self) -> Result<Family, String> {
        match self.key_type {
            Some(ck::CKK_RSA) => Ok(Family::Rsa),
            Some(ck::CKK_EC) => match self.ec_params.as_deref() {
                Some(P256_OID) => Ok(Family::Ec(Curve::P256)),
                Some(P384_OID) => Ok(Family::Ec(Curve::P384)),
                Some(other) => Err(format!(
                    "an EC key on a curve DNSSEC does not use (CKA_EC_PARAMS {})",
                    hex::encode(other)
                )),
                None => Err("an EC key without CKA_EC_PARAMS".into()),
            },
            Some(ck::CKK_EC_EDWARDS) => match self.ec_params.as_deref() {
                Some(ED25519_OID | b"\x13\x0cedwards25519") => Ok(Family::Ed25519),
                Some(ED448_OID | b"\x13\x0aedwards448") => Ok(Family::Ed448),
                Some(other) => Err(format!(
                    "an EdDSA key on an unknown curve (CKA_EC_PARAMS {})",
                    hex::encode(other)
                )),
                None => Err("an EdDSA key without CKA_EC_PARAMS".into()),
            },
            Some(other) => Err(format!(
                "a key of type 0x{other:x}, not RSA, ECDSA or EdDSA"
            )),
            None => Err("an object without CKA_KEY_TYPE".into()),
        }
    }

    /// The public key if these attributes carry it, `Ok(None)` if they lack the public
    /// components (the private object of many tokens has no `CKA_EC_POINT`), an error if they
    /// carry something malformed.
    pub fn public_key(&self) -> Result<Option<PublicKey>, String> {
        let family = self.family()?;
        match family {
            Family::Rsa => {
                let (Some(modulus), Some(exponent)) = (&self.modulus, &self.public_exponent) else {
                    return Ok(None);
                };
                let modulus = strip_leading_zeros(modulus);
                let exponent = strip_leading_zeros(exponent);
                if modulus.is_empty() || exponent.is_empty() {
                    return Err("an empty CKA_MODULUS or CKA_PUBLIC_EXPONENT".into());
                }
                Ok(Some(PublicKey::Rsa { modulus, exponent }))
            }
            Family::Ec(curve) => {
                let Some(value) = &self.ec_point else {
                    return Ok(None);
                };
                let point = unwrap_point(value, 1 + 2 * curve.field_len())?;
                if point.first() != Some(&0x04) {
                    return Err(format!(
                        "CKA_EC_POINT is not an uncompressed {curve} point: {}",
                        hex::encode(value)
                    ));
                }
                Ok(Some(PublicKey::Ec { curve, point }))
            }
            Family::Ed25519 => Ok(self
                .ec_point
                .as_deref()
                .map(|v| unwrap_point(v, 32))
                .transpose()?
                .map(PublicKey::Ed25519)),
            Family::Ed448 => Ok(self
                .ec_point
                .as_deref()
                .map(|v| unwrap_point(v, 57))
                .transpose()?
                .map(PublicKey::Ed448)),
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// `CKA_EC_POINT` as tokens return it: the raw point, a DER OCTET STRING around it (the
/// PKCS#11 form, SoftHSM's), or a DER BIT STRING around it (some tokens' EdDSA keys).
/// `len` is the raw point's length, which tells the forms apart.
pub(super) fn unwrap_point(value: &[u8], len: usize) -> Result<Vec<u8>, String> {
    if value.len() == len {
        return Ok(value.to_vec());
    }
    let inner = match value {
        [0x04, n, rest @ ..] if usize::from(*n) == rest.len() => rest,
        [0x04, 0x81, n, rest @ ..] if usize::from(*n) == rest.len() => rest,
        [0x03, n, 0x00, rest @ ..] if usize::from(*n) == rest.len() + 1 => rest,
        [0x03, 0x81, n, 0x00, rest @ ..] if usize::from(*n) == rest.len() + 1 => rest,
        _ => value,
    };
    if inner.len() == len {
        Ok(inner.to_vec())
    } else {
        Err(format!(
            "CKA_EC_POINT is neither a {len}-byte point nor a DER string around one: {}",
            hex::encode(value)
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_ec_point_encoding_tokens_use_is_unwrapped() {
        let point: Vec<u8> = std::iter::once(4).chain(1..=64).collect();
        let mut octet = vec![0x04, 65];
        octet.extend_from_slice(&point);
        let mut bit = vec![0x03, 66, 0x00];
        bit.extend_from_slice(&point);
        for value in [&point, &octet, &bit] {
            assert_eq!(unwrap_point(value, 65).unwrap(), point);
        }
        let ed = [7u8; 32];
        let mut ed_octet = vec![0x04, 32];
        ed_octet.extend_from_slice(&ed);
        assert_eq!(unwrap_point(&ed_octet, 32).unwrap(), ed);
        assert!(unwrap_point(&octet[..66], 65).is_err());
    }

    #[test]
    fn rsa_dnskey_field_is_rfc_3110() {
        let key = PublicKey::Rsa {
            modulus: vec![0xc1, 0x5c],
            exponent: vec![1, 0, 1],
        };
        assert_eq!(key.dnskey_public_key(), vec![3, 1, 0, 1, 0xc1, 0x5c]);
        let point: Vec<u8> = std::iter::once(4).chain(1..=64).collect();
        let ec = PublicKey::Ec {
            curve: Curve::P256,
            point: point.clone(),
        };
        assert_eq!(ec.dnskey_public_key(), point[1..]);
    }
}
