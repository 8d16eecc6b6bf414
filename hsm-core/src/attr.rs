//! Attribute vocabulary: raw PKCS#11 attribute values keyed by `CKA_*` type, with typed access.
//!
//! Values are kept in the byte form PKCS#11 uses on this platform (`CK_BBOOL` is one byte,
//! `CK_ULONG` is native-endian of the platform's width), so `C_GetAttributeValue` copies them
//! out unchanged and template matching is a byte comparison.

use std::collections::BTreeMap;
use std::fmt;

use cryptoki_sys as ck;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// A `CKA_*` attribute type.
pub type AttrType = ck::CK_ATTRIBUTE_TYPE;

/// Width of `CK_ULONG` on this platform.
pub const ULONG_LEN: usize = std::mem::size_of::<ck::CK_ULONG>();

/// The value shape an attribute type must have, used to reject malformed templates early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrKind {
    Bool,
    Ulong,
    Bytes,
    /// `CK_DATE`: empty or exactly 8 ASCII digits.
    Date,
    /// An array of `CK_ATTRIBUTE` (`CKA_WRAP_TEMPLATE` and kin), stored as
    /// [`crate::array_attr`] encodes it.
    Template,
}

/// The shape of a known attribute type; `None` for types this token does not know.
pub fn kind_of(ty: AttrType) -> Option<AttrKind> {
    use AttrKind::*;
    let kind = match ty {
        ck::CKA_TOKEN
        | ck::CKA_PRIVATE
        | ck::CKA_MODIFIABLE
        | ck::CKA_COPYABLE
        | ck::CKA_DESTROYABLE
        | ck::CKA_TRUSTED
        | ck::CKA_SENSITIVE
        | ck::CKA_ENCRYPT
        | ck::CKA_DECRYPT
        | ck::CKA_WRAP
        | ck::CKA_UNWRAP
        | ck::CKA_SIGN
        | ck::CKA_SIGN_RECOVER
        | ck::CKA_VERIFY
        | ck::CKA_VERIFY_RECOVER
        | ck::CKA_DERIVE
        | ck::CKA_EXTRACTABLE
        | ck::CKA_LOCAL
        | ck::CKA_NEVER_EXTRACTABLE
        | ck::CKA_ALWAYS_SENSITIVE
        | ck::CKA_WRAP_WITH_TRUSTED
        | ck::CKA_ALWAYS_AUTHENTICATE => Bool,
        ck::CKA_CLASS
        | ck::CKA_KEY_TYPE
        | ck::CKA_CERTIFICATE_TYPE
        | ck::CKA_CERTIFICATE_CATEGORY
        | ck::CKA_JAVA_MIDP_SECURITY_DOMAIN
        | ck::CKA_NAME_HASH_ALGORITHM
        | ck::CKA_MODULUS_BITS
        | ck::CKA_VALUE_LEN
        | ck::CKA_KEY_GEN_MECHANISM => Ulong,
        ck::CKA_START_DATE | ck::CKA_END_DATE => Date,
        ck::CKA_WRAP_TEMPLATE | ck::CKA_UNWRAP_TEMPLATE | ck::CKA_DERIVE_TEMPLATE => Template,
        ck::CKA_LABEL
        | ck::CKA_UNIQUE_ID
        | ck::CKA_APPLICATION
        | ck::CKA_OBJECT_ID
        | ck::CKA_VALUE
        | ck::CKA_ID
        | ck::CKA_SUBJECT
        | ck::CKA_ISSUER
        | ck::CKA_SERIAL_NUMBER
        | ck::CKA_URL
        | ck::CKA_HASH_OF_SUBJECT_PUBLIC_KEY
        | ck::CKA_HASH_OF_ISSUER_PUBLIC_KEY
        | ck::CKA_CHECK_VALUE
        | ck::CKA_PUBLIC_KEY_INFO
        | ck::CKA_MODULUS
        | ck::CKA_PUBLIC_EXPONENT
        | ck::CKA_PRIVATE_EXPONENT
        | ck::CKA_PRIME_1
        | ck::CKA_PRIME_2
        | ck::CKA_EXPONENT_1
        | ck::CKA_EXPONENT_2
        | ck::CKA_COEFFICIENT
        | ck::CKA_EC_PARAMS
        | ck::CKA_EC_POINT
        | ck::CKA_ALLOWED_MECHANISMS => Bytes,
        _ => return None,
    };
    Some(kind)
}

/// Encodes a `CK_ULONG` the way the platform's C ABI lays it out.
pub fn ulong_bytes(value: ck::CK_ULONG) -> Vec<u8> {
    value.to_ne_bytes().to_vec()
}

/// Decodes a `CK_ULONG`, rejecting a value of the wrong width.
pub fn parse_ulong(ty: AttrType, bytes: &[u8]) -> Result<ck::CK_ULONG> {
    let array: [u8; ULONG_LEN] = bytes
        .try_into()
        .map_err(|_| Error::AttributeValueInvalid(ty))?;
    Ok(ck::CK_ULONG::from_ne_bytes(array))
}

/// Decodes a `CK_BBOOL`: one byte, zero is false and anything else true.
pub fn parse_bool(ty: AttrType, bytes: &[u8]) -> Result<bool> {
    match bytes {
        [b] => Ok(*b != 0),
        _ => Err(Error::AttributeValueInvalid(ty)),
    }
}

/// Checks that a caller-supplied value has the shape its type requires.
pub fn validate_value(ty: AttrType, bytes: &[u8]) -> Result<()> {
    match kind_of(ty) {
        None => Err(Error::AttributeTypeInvalid(ty)),
        Some(AttrKind::Bool) => parse_bool(ty, bytes).map(|_| ()),
        Some(AttrKind::Ulong) => parse_ulong(ty, bytes).map(|_| ()),
        Some(AttrKind::Date) if bytes.is_empty() => Ok(()),
        Some(AttrKind::Date) if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) => Ok(()),
        Some(AttrKind::Date) => Err(Error::AttributeValueInvalid(ty)),
        Some(AttrKind::Bytes) => Ok(()),
        Some(AttrKind::Template) => crate::array_attr::validate(ty, bytes),
    }
}

/// A caller's template: attribute types with values, in the caller's order.
pub type Template = Vec<(AttrType, Vec<u8>)>;

/// Looks up a type in a template (the last occurrence wins, as the spec leaves it open).
pub fn template_value(template: &[(AttrType, Vec<u8>)], ty: AttrType) -> Option<&[u8]> {
    template
        .iter()
        .rev()
        .find(|(t, _)| *t == ty)
        .map(|(_, v)| v.as_slice())
}

/// An object's attributes. Values may hold key material, so they are wiped on drop and
/// never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes(BTreeMap<AttrType, Vec<u8>>);

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, ty: AttrType) -> Option<&[u8]> {
        self.0.get(&ty).map(Vec::as_slice)
    }

    pub fn contains(&self, ty: AttrType) -> bool {
        self.0.contains_key(&ty)
    }

    pub fn bool(&self, ty: AttrType) -> Option<bool> {
        self.get(ty).and_then(|v| parse_bool(ty, v).ok())
    }

    pub fn ulong(&self, ty: AttrType) -> Option<ck::CK_ULONG> {
        self.get(ty).and_then(|v| parse_ulong(ty, v).ok())
    }

    pub fn set(&mut self, ty: AttrType, value: Vec<u8>) {
        if let Some(mut old) = self.0.insert(ty, value) {
            old.zeroize();
        }
    }

    pub fn set_bool(&mut self, ty: AttrType, value: bool) {
        self.set(ty, vec![u8::from(value)]);
    }

    pub fn set_ulong(&mut self, ty: AttrType, value: ck::CK_ULONG) {
        self.set(ty, ulong_bytes(value));
    }

    /// Sets `ty` only where the object does not have it yet.
    pub fn default_bool(&mut self, ty: AttrType, value: bool) {
        if !self.contains(ty) {
            self.set_bool(ty, value);
        }
    }

    pub fn default_bytes(&mut self, ty: AttrType, value: &[u8]) {
        if !self.contains(ty) {
            self.set(ty, value.to_vec());
        }
    }

    pub fn remove(&mut self, ty: AttrType) {
        if let Some(mut old) = self.0.remove(&ty) {
            old.zeroize();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (AttrType, &[u8])> {
        self.0.iter().map(|(t, v)| (*t, v.as_slice()))
    }

    /// True when every attribute of the template is present with the same value.
    pub fn matches(&self, template: &[(AttrType, Vec<u8>)]) -> bool {
        template
            .iter()
            .all(|(ty, value)| self.get(*ty) == Some(value.as_slice()))
    }

    /// Bytes needed to hold every value, for `C_GetObjectSize`.
    pub fn size(&self) -> usize {
        self.0.values().map(|v| v.len() + 2 * ULONG_LEN).sum()
    }
}

impl Drop for Attributes {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the types: values may be key material.
        f.debug_set()
            .entries(self.0.keys().map(|t| format!("{t:#x}")))
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ulong_and_bool_round_trip_and_reject_wrong_width() {
        let mut attrs = Attributes::new();
        attrs.set_ulong(ck::CKA_CLASS, ck::CKO_PRIVATE_KEY);
        attrs.set_bool(ck::CKA_SIGN, true);
        assert_eq!(attrs.ulong(ck::CKA_CLASS), Some(ck::CKO_PRIVATE_KEY));
        assert_eq!(attrs.bool(ck::CKA_SIGN), Some(true));
        assert!(matches!(
            validate_value(ck::CKA_CLASS, &[1, 2, 3]),
            Err(Error::AttributeValueInvalid(ck::CKA_CLASS))
        ));
        assert!(matches!(
            validate_value(ck::CKA_SIGN, &[]),
            Err(Error::AttributeValueInvalid(ck::CKA_SIGN))
        ));
        assert!(matches!(
            validate_value(0x7fff_0000, &[]),
            Err(Error::AttributeTypeInvalid(0x7fff_0000))
        ));
        validate_value(ck::CKA_START_DATE, b"20261128").unwrap();
        assert!(validate_value(ck::CKA_START_DATE, b"2026112").is_err());
    }

    #[test]
    fn debug_shows_types_not_values() {
        let mut attrs = Attributes::new();
        attrs.set(ck::CKA_VALUE, b"topsecret".to_vec());
        let shown = format!("{attrs:?}");
        assert!(!shown.contains("topsecret"));
        assert!(!shown.contains("116"), "{shown}");
    }

    #[test]
    fn matching_is_exact_on_every_template_attribute() {
        let mut attrs = Attributes::new();
        attrs.set(ck::CKA_LABEL, b"ksk".to_vec());
        attrs.set(ck::CKA_ID, vec![1]);
        assert!(attrs.matches(&[(ck::CKA_LABEL, b"ksk".to_vec())]));
        assert!(attrs.matches(&[]));
        assert!(!attrs.matches(&[(ck::CKA_LABEL, b"ks".to_vec())]));
        assert!(!attrs.matches(&[(ck::CKA_LABEL, b"ksk".to_vec()), (ck::CKA_ID, vec![2])]));
    }
}
