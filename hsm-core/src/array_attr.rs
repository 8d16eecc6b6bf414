//! The attribute-array attributes `CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE` and
//! `CKA_DERIVE_TEMPLATE`: a key's nested template, stored as one attribute value, and the
//! rules that use it when the key wraps, unwraps or derives.
//!
//! A nested template is stored as bytes like every other value, in an encoding of our own
//! (below) so that old records, which simply lack these types, stay readable. The encoding is
//! canonical — sorted by type, one entry per type — so that two templates with the same
//! attributes are the same bytes and `C_FindObjects` can compare them as it compares others.

use cryptoki_sys as ck;

use crate::attr::{AttrKind, AttrType, Attributes, Template, kind_of, parse_bool, validate_value};
use crate::error::{Error, Result};
use crate::object::{SECRET_COMPONENTS, TOKEN_SET};

/// The attribute types whose value is an array of `CK_ATTRIBUTE`. (`CKA_ALLOWED_MECHANISMS`
/// also carries `CKF_ARRAY_ATTRIBUTE`, but its value is an array of mechanism types.)
pub const TEMPLATE_TYPES: [AttrType; 3] = [
    ck::CKA_WRAP_TEMPLATE,
    ck::CKA_UNWRAP_TEMPLATE,
    ck::CKA_DERIVE_TEMPLATE,
];

/// True when `ty`'s value is a nested template.
pub fn is_template(ty: AttrType) -> bool {
    TEMPLATE_TYPES.contains(&ty)
}

/// Version byte of the encoding; an empty template is the empty byte string.
const FORMAT: u8 = 1;
/// Bytes before each value: the type (u64) and the value's length (u32), big-endian.
const ENTRY_HEADER: usize = 8 + 4;

/// Encodes a nested template canonically: sorted by type, the last value of a repeated type
/// winning (as for any template). Values longer than 4 GiB cannot come through PKCS#11, whose
/// intake stops at 1 GiB; they are cut rather than made a panic.
pub fn encode(template: &[(AttrType, Vec<u8>)]) -> Vec<u8> {
    let mut sorted: Vec<&(AttrType, Vec<u8>)> = Vec::with_capacity(template.len());
    for entry in template.iter().rev() {
        if !sorted.iter().any(|(ty, _)| *ty == entry.0) {
            sorted.push(entry);
        }
    }
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by_key(|(ty, _)| *ty);
    let mut out = vec![FORMAT];
    for (ty, value) in sorted {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        // Eight bytes wherever CK_ULONG is narrower, so the encoding is the same everywhere.
        #[allow(clippy::useless_conversion)]
        let ty = u64::from(*ty);
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&value[..len as usize]);
    }
    out
}

/// Decodes what [`encode`] made. Anything else (a wrong version, a version byte alone, a cut
/// entry, types out of order or repeated) is refused, so one template has exactly one
/// encoding.
pub fn decode(outer: AttrType, bytes: &[u8]) -> Result<Template> {
    let invalid = || Error::AttributeValueInvalid(outer);
    let Some((&format, mut rest)) = bytes.split_first() else {
        return Ok(Vec::new());
    };
    if format != FORMAT || rest.is_empty() {
        return Err(invalid());
    }
    let mut template: Template = Vec::new();
    while !rest.is_empty() {
        if rest.len() < ENTRY_HEADER {
            return Err(invalid());
        }
        let (header, tail) = rest.split_at(ENTRY_HEADER);
        let mut ty = [0u8; 8];
        ty.copy_from_slice(&header[..8]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[8..]);
        let ty = AttrType::try_from(u64::from_be_bytes(ty)).map_err(|_| invalid())?;
        let len = u32::from_be_bytes(len) as usize;
        if tail.len() < len || template.last().is_some_and(|(last, _)| *last >= ty) {
            return Err(invalid());
        }
        let (value, tail) = tail.split_at(len);
        template.push((ty, value.to_vec()));
        rest = tail;
    }
    Ok(template)
}

/// Checks a stored nested template: it decodes, every inner attribute is one this token knows
/// with a well-formed value, and none is itself a template or key material. Key material has
/// no place here: applied to a new key it would replace the key's value, and matched against
/// a key to be wrapped it would let a caller test that key's bits. Unwrap and derive
/// templates are applied to new keys, so they may not name what only the token sets.
pub fn validate(outer: AttrType, bytes: &[u8]) -> Result<()> {
    let invalid = || Error::AttributeValueInvalid(outer);
    for (ty, value) in decode(outer, bytes)? {
        if kind_of(ty) == Some(AttrKind::Template) || SECRET_COMPONENTS.contains(&ty) {
            return Err(invalid());
        }
        if outer != ck::CKA_WRAP_TEMPLATE && TOKEN_SET.contains(&ty) {
            return Err(invalid());
        }
        validate_value(ty, &value).map_err(|_| invalid())?;
    }
    Ok(())
}

/// True when two values of `ty` say the same: booleans by truth (any non-zero byte is
/// true), everything else byte for byte.
fn same_value(ty: AttrType, a: &[u8], b: &[u8]) -> bool {
    if kind_of(ty) == Some(AttrKind::Bool) {
        return matches!((parse_bool(ty, a), parse_bool(ty, b)), (Ok(x), Ok(y)) if x == y);
    }
    a == b
}

/// The key's nested template of type `ty`; none (or an empty one) when the key has none.
pub fn of(attrs: &Attributes, ty: AttrType) -> Result<Template> {
    attrs
        .get(ty)
        .map_or(Ok(Vec::new()), |bytes| decode(ty, bytes))
}

/// The template a new key is built from when its parent key has an unwrap or derive
/// template: the parent's first, then the caller's, which may repeat the parent's attributes
/// but not contradict them (PKCS#11 3.0, `C_UnwrapKey` and `C_DeriveKey`).
pub fn apply(parent: &Template, caller: &Template) -> Result<Template> {
    for (ty, value) in caller {
        if let Some((_, required)) = parent.iter().find(|(t, _)| t == ty)
            && !same_value(*ty, required, value)
        {
            return Err(Error::TemplateInconsistent(format!(
                "attribute {ty:#x} contradicts the key's unwrap or derive template"
            )));
        }
    }
    Ok(parent.iter().chain(caller).cloned().collect())
}

/// True when `attrs` has every attribute of a wrap template with the same value.
pub fn satisfies(attrs: &Attributes, template: &Template) -> bool {
    template.iter().all(|(ty, value)| {
        attrs
            .get(*ty)
            .is_some_and(|have| same_value(*ty, have, value))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::attr::ulong_bytes;

    #[test]
    fn encoding_is_canonical_and_strict() {
        let a = vec![
            (ck::CKA_LABEL, b"x".to_vec()),
            (ck::CKA_EXTRACTABLE, vec![1]),
            (ck::CKA_LABEL, b"y".to_vec()),
        ];
        // Sorted by type: CKA_LABEL (3) before CKA_EXTRACTABLE (0x162).
        let b = vec![
            (ck::CKA_LABEL, b"y".to_vec()),
            (ck::CKA_EXTRACTABLE, vec![1]),
        ];
        assert_eq!(encode(&a), encode(&b));
        assert_eq!(decode(ck::CKA_WRAP_TEMPLATE, &encode(&a)).unwrap(), b);
        assert!(encode(&[]).is_empty());
        assert!(decode(ck::CKA_WRAP_TEMPLATE, &[]).unwrap().is_empty());
        let bytes = encode(&b);
        // Cut anywhere but after the first entry (which leaves a valid, shorter template).
        let first_entry = 1 + ENTRY_HEADER + 1;
        for cut in (1..bytes.len()).filter(|cut| *cut != first_entry) {
            assert!(
                decode(ck::CKA_WRAP_TEMPLATE, &bytes[..cut]).is_err(),
                "{cut}"
            );
        }
        let first = decode(ck::CKA_WRAP_TEMPLATE, &bytes[..first_entry]).unwrap();
        assert_eq!(first, b[..1]);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode(ck::CKA_WRAP_TEMPLATE, &trailing).is_err());
        let mut version = bytes;
        version[0] = 2;
        assert!(decode(ck::CKA_WRAP_TEMPLATE, &version).is_err());
    }

    #[test]
    fn validation_refuses_nesting_key_material_and_token_set_attributes() {
        let ok = encode(&[(ck::CKA_CLASS, ulong_bytes(ck::CKO_SECRET_KEY))]);
        validate(ck::CKA_UNWRAP_TEMPLATE, &ok).unwrap();
        for bad in [
            vec![(ck::CKA_WRAP_TEMPLATE, Vec::new())],
            vec![(ck::CKA_VALUE, vec![0; 16])],
            vec![(ck::CKA_CLASS, vec![1])],
            vec![(0x7fff_0000, Vec::new())],
        ] {
            assert!(validate(ck::CKA_WRAP_TEMPLATE, &encode(&bad)).is_err());
        }
        let local = encode(&[(ck::CKA_LOCAL, vec![1])]);
        validate(ck::CKA_WRAP_TEMPLATE, &local).unwrap();
        assert!(validate(ck::CKA_DERIVE_TEMPLATE, &local).is_err());
    }

    #[test]
    fn booleans_compare_by_truth() {
        let parent = vec![(ck::CKA_EXTRACTABLE, vec![0])];
        apply(&parent, &vec![(ck::CKA_EXTRACTABLE, vec![0])]).unwrap();
        assert!(apply(&parent, &vec![(ck::CKA_EXTRACTABLE, vec![0xff])]).is_err());
        let mut attrs = Attributes::new();
        attrs.set(ck::CKA_SENSITIVE, vec![0xff]);
        assert!(satisfies(&attrs, &vec![(ck::CKA_SENSITIVE, vec![1])]));
        assert!(!satisfies(&attrs, &vec![(ck::CKA_EXTRACTABLE, vec![1])]));
    }
}
