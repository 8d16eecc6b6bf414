//! Key objects ↔ key material: reads a key's components out of its attributes for the crypto
//! provider, and writes generated or imported material into attributes.

use cryptoki_sys as ck;

use crate::attr::Attributes;
use crate::crypto::{Curve, PrivateKeyMaterial, PublicKeyMaterial, RsaPrivateParts};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// `CKA_EC_PARAMS` of Ed25519 as the OID 1.3.101.112 (RFC 8410), which we emit.
pub const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `CKA_EC_PARAMS` of Ed25519 as the printable string PKCS#11 3.0 also allows.
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// `CKA_EC_PARAMS` of Ed448 as the OID 1.3.101.113 (RFC 8410), which we emit.
pub const ED448_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x71];
/// `CKA_EC_PARAMS` of Ed448 as a printable string.
const ED448_NAME: &[u8] = b"\x13\x0aedwards448";

/// The Edwards curves `CKK_EC_EDWARDS` keys are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdCurve {
    Ed25519,
    Ed448,
}

impl EdCurve {
    /// Reads `CKA_EC_PARAMS` given as the curve's OID or its printable name.
    pub fn from_params(params: &[u8]) -> Option<EdCurve> {
        match params {
            ED25519_OID | ED25519_NAME => Some(EdCurve::Ed25519),
            ED448_OID | ED448_NAME => Some(EdCurve::Ed448),
            _ => None,
        }
    }

    /// Length of the public key (and of the seed).
    pub fn key_len(self) -> usize {
        match self {
            EdCurve::Ed25519 => 32,
            EdCurve::Ed448 => 57,
        }
    }
}

fn required(attrs: &Attributes, ty: ck::CK_ATTRIBUTE_TYPE) -> Result<&[u8]> {
    attrs.get(ty).ok_or(Error::TemplateIncomplete(ty))
}

fn secret(attrs: &Attributes, ty: ck::CK_ATTRIBUTE_TYPE) -> Result<SecretBytes> {
    required(attrs, ty).map(SecretBytes::from_slice)
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// Wraps an EC point in the DER OCTET STRING `CKA_EC_POINT` carries.
pub fn ec_point_der(point: &[u8]) -> Vec<u8> {
    let mut der = vec![0x04];
    if point.len() < 0x80 {
        der.push(point.len() as u8);
    } else {
        der.push(0x81);
        der.push(point.len() as u8);
    }
    der.extend_from_slice(point);
    der
}

/// Unwraps `CKA_EC_POINT` (or an ECDH peer's point), accepting the raw point too, as some
/// clients send it bare.
pub(crate) fn ec_point_raw(value: &[u8], expected_len: usize) -> Result<Vec<u8>> {
    if value.len() == expected_len {
        return Ok(value.to_vec());
    }
    match value {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() == expected_len => {
            Ok(rest.to_vec())
        }
        [0x04, 0x81, len, rest @ ..]
            if usize::from(*len) == rest.len() && rest.len() == expected_len =>
        {
            Ok(rest.to_vec())
        }
        _ => Err(Error::AttributeValueInvalid(ck::CKA_EC_POINT)),
    }
}

/// The curve named by `CKA_EC_PARAMS` of an ECDSA key.
pub fn curve_of(attrs: &Attributes) -> Result<Curve> {
    let params = required(attrs, ck::CKA_EC_PARAMS)?;
    Curve::from_der_oid(params).ok_or(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))
}

/// Sets `CKA_EC_PARAMS` to the curve's OID, unless it holds explicit parameters equal to that
/// curve's: those are kept verbatim, so the caller reads back what it gave.
fn set_ec_params(attrs: &mut Attributes, curve: Curve) {
    let keep = attrs.get(ck::CKA_EC_PARAMS).is_some_and(|params| {
        params.first() == Some(&0x30) && Curve::from_der_oid(params) == Some(curve)
    });
    if !keep {
        attrs.set(ck::CKA_EC_PARAMS, curve.der_oid().to_vec());
    }
}

/// The Edwards curve `CKA_EC_PARAMS` of an EdDSA key names.
pub fn edwards_curve(attrs: &Attributes) -> Result<EdCurve> {
    EdCurve::from_params(required(attrs, ck::CKA_EC_PARAMS)?)
        .ok_or(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))
}

/// The private key material of a private key object.
pub fn private_material(attrs: &Attributes) -> Result<PrivateKeyMaterial> {
    match attrs.ulong(ck::CKA_KEY_TYPE) {
        Some(ck::CKK_RSA) => Ok(PrivateKeyMaterial::Rsa(RsaPrivateParts {
            n: strip_zeros(required(attrs, ck::CKA_MODULUS)?),
            e: strip_zeros(required(attrs, ck::CKA_PUBLIC_EXPONENT)?),
            d: secret(attrs, ck::CKA_PRIVATE_EXPONENT)?,
            p: secret(attrs, ck::CKA_PRIME_1)?,
            q: secret(attrs, ck::CKA_PRIME_2)?,
            dp: secret(attrs, ck::CKA_EXPONENT_1)?,
            dq: secret(attrs, ck::CKA_EXPONENT_2)?,
            qinv: secret(attrs, ck::CKA_COEFFICIENT)?,
        })),
        Some(ck::CKK_EC) => Ok(PrivateKeyMaterial::Ec {
            curve: curve_of(attrs)?,
            d: secret(attrs, ck::CKA_VALUE)?,
        }),
        Some(ck::CKK_EC_EDWARDS) => {
            let seed = secret(attrs, ck::CKA_VALUE)?;
            Ok(match edwards_curve(attrs)? {
                EdCurve::Ed25519 => PrivateKeyMaterial::Ed25519 { seed },
                EdCurve::Ed448 => PrivateKeyMaterial::Ed448 { seed },
            })
        }
        _ => Err(Error::KeyTypeInconsistent),
    }
}

/// The public key material of a public key object.
pub fn public_material(attrs: &Attributes) -> Result<PublicKeyMaterial> {
    match attrs.ulong(ck::CKA_KEY_TYPE) {
        Some(ck::CKK_RSA) => Ok(PublicKeyMaterial::Rsa {
            n: strip_zeros(required(attrs, ck::CKA_MODULUS)?),
            e: strip_zeros(required(attrs, ck::CKA_PUBLIC_EXPONENT)?),
        }),
        Some(ck::CKK_EC) => {
            let curve = curve_of(attrs)?;
            let point = ec_point_raw(
                required(attrs, ck::CKA_EC_POINT)?,
                1 + 2 * curve.field_len(),
            )?;
            Ok(PublicKeyMaterial::Ec { curve, point })
        }
        Some(ck::CKK_EC_EDWARDS) => {
            let curve = edwards_curve(attrs)?;
            let raw = ec_point_raw(required(attrs, ck::CKA_EC_POINT)?, curve.key_len())?;
            Ok(match curve {
                EdCurve::Ed25519 => PublicKeyMaterial::Ed25519 {
                    public: raw
                        .try_into()
                        .map_err(|_| Error::AttributeValueInvalid(ck::CKA_EC_POINT))?,
                },
                EdCurve::Ed448 => PublicKeyMaterial::Ed448 { public: raw },
            })
        }
        _ => Err(Error::KeyTypeInconsistent),
    }
}

/// The key type a material belongs to.
pub fn key_type_of(public: &PublicKeyMaterial) -> ck::CK_KEY_TYPE {
    match public {
        PublicKeyMaterial::Rsa { .. } => ck::CKK_RSA,
        PublicKeyMaterial::Ec { .. } => ck::CKK_EC,
        PublicKeyMaterial::Ed25519 { .. } | PublicKeyMaterial::Ed448 { .. } => ck::CKK_EC_EDWARDS,
    }
}

/// Writes a public key's components into a public key object.
pub fn set_public_attrs(attrs: &mut Attributes, public: &PublicKeyMaterial) {
    attrs.set_ulong(ck::CKA_KEY_TYPE, key_type_of(public));
    match public {
        PublicKeyMaterial::Rsa { n, e } => {
            attrs.set(ck::CKA_MODULUS, n.clone());
            attrs.set(ck::CKA_PUBLIC_EXPONENT, e.clone());
        }
        PublicKeyMaterial::Ec { curve, point } => {
            set_ec_params(attrs, *curve);
            attrs.set(ck::CKA_EC_POINT, ec_point_der(point));
        }
        PublicKeyMaterial::Ed25519 { public } => {
            attrs.default_bytes(ck::CKA_EC_PARAMS, ED25519_OID);
            attrs.set(ck::CKA_EC_POINT, ec_point_der(public));
        }
        PublicKeyMaterial::Ed448 { public } => {
            attrs.default_bytes(ck::CKA_EC_PARAMS, ED448_OID);
            attrs.set(ck::CKA_EC_POINT, ec_point_der(public));
        }
    }
}

/// Writes a private key's components into a private key object; the public components
/// (`CKA_MODULUS`, `CKA_PUBLIC_EXPONENT`, `CKA_EC_PARAMS`) stay readable, the rest are
/// secret components the object rules hide.
pub fn set_private_attrs(
    attrs: &mut Attributes,
    private: &PrivateKeyMaterial,
    public: &PublicKeyMaterial,
) {
    attrs.set_ulong(ck::CKA_KEY_TYPE, key_type_of(public));
    match private {
        PrivateKeyMaterial::Rsa(parts) => {
            attrs.set(ck::CKA_MODULUS, parts.n.clone());
            attrs.set(ck::CKA_PUBLIC_EXPONENT, parts.e.clone());
            attrs.set(ck::CKA_PRIVATE_EXPONENT, parts.d.expose().to_vec());
            attrs.set(ck::CKA_PRIME_1, parts.p.expose().to_vec());
            attrs.set(ck::CKA_PRIME_2, parts.q.expose().to_vec());
            attrs.set(ck::CKA_EXPONENT_1, parts.dp.expose().to_vec());
            attrs.set(ck::CKA_EXPONENT_2, parts.dq.expose().to_vec());
            attrs.set(ck::CKA_COEFFICIENT, parts.qinv.expose().to_vec());
        }
        PrivateKeyMaterial::Ec { curve, d } => {
            set_ec_params(attrs, *curve);
            attrs.set(ck::CKA_VALUE, d.expose().to_vec());
        }
        PrivateKeyMaterial::Ed25519 { seed } => {
            attrs.default_bytes(ck::CKA_EC_PARAMS, ED25519_OID);
            attrs.set(ck::CKA_VALUE, seed.expose().to_vec());
        }
        PrivateKeyMaterial::Ed448 { seed } => {
            attrs.default_bytes(ck::CKA_EC_PARAMS, ED448_OID);
            attrs.set(ck::CKA_VALUE, seed.expose().to_vec());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_is_a_der_octet_string_and_raw_points_are_accepted() {
        let point = [0x04u8; 65];
        let der = ec_point_der(&point);
        assert_eq!(der.len(), 67, "P-256 CKA_EC_POINT is 67 bytes");
        assert_eq!(&der[..2], &[0x04, 0x41]);
        assert_eq!(ec_point_raw(&der, 65).unwrap(), point);
        assert_eq!(ec_point_raw(&point, 65).unwrap(), point);
        assert!(ec_point_raw(&der[..66], 65).is_err());
        // P-521: 133 bytes need the long form of the DER length.
        let point = [0x04u8; 133];
        let der = ec_point_der(&point);
        assert_eq!(&der[..3], &[0x04, 0x81, 0x85]);
        assert_eq!(der.len(), 136);
        assert_eq!(ec_point_raw(&der, 133).unwrap(), point);
        assert_eq!(ec_point_raw(&point, 133).unwrap(), point);
    }
}
