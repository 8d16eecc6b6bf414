//! The spec's object rules: which attributes a class has, their defaults, which are read-only,
//! which are sensitive, and how `CKA_LOCAL` / `CKA_ALWAYS_SENSITIVE` / `CKA_NEVER_EXTRACTABLE`
//! follow from how the object came to be.

use cryptoki_sys as ck;

use crate::array_attr::is_template;
use crate::attr::{AttrType, Attributes, Template, parse_bool, parse_ulong, validate_value};
use crate::error::{Error, Result};

/// How an object came into the token; it decides the attributes only the token may set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `C_CreateObject` or an import: the key material came from outside.
    Created,
    /// Generated inside the token by this mechanism.
    Generated(ck::CK_MECHANISM_TYPE),
    /// Unwrapped from a wrapped key.
    Unwrapped,
    /// Derived (`C_DeriveKey`) from keys that were all always sensitive / never extractable,
    /// as the flags say: the new key is so only if they were.
    Derived {
        always_sensitive: bool,
        never_extractable: bool,
    },
}

const COMMON: &[AttrType] = &[
    ck::CKA_CLASS,
    ck::CKA_TOKEN,
    ck::CKA_PRIVATE,
    ck::CKA_MODIFIABLE,
    ck::CKA_LABEL,
    ck::CKA_COPYABLE,
    ck::CKA_DESTROYABLE,
    ck::CKA_UNIQUE_ID,
];

const DATA: &[AttrType] = &[ck::CKA_APPLICATION, ck::CKA_OBJECT_ID, ck::CKA_VALUE];

const CERTIFICATE: &[AttrType] = &[
    ck::CKA_CERTIFICATE_TYPE,
    ck::CKA_TRUSTED,
    ck::CKA_CERTIFICATE_CATEGORY,
    ck::CKA_CHECK_VALUE,
    ck::CKA_START_DATE,
    ck::CKA_END_DATE,
    ck::CKA_PUBLIC_KEY_INFO,
    ck::CKA_SUBJECT,
    ck::CKA_ID,
    ck::CKA_ISSUER,
    ck::CKA_SERIAL_NUMBER,
    ck::CKA_VALUE,
    ck::CKA_URL,
    ck::CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
    ck::CKA_HASH_OF_ISSUER_PUBLIC_KEY,
    ck::CKA_JAVA_MIDP_SECURITY_DOMAIN,
    ck::CKA_NAME_HASH_ALGORITHM,
];

const KEY: &[AttrType] = &[
    ck::CKA_KEY_TYPE,
    ck::CKA_ID,
    ck::CKA_START_DATE,
    ck::CKA_END_DATE,
    ck::CKA_DERIVE,
    ck::CKA_LOCAL,
    ck::CKA_KEY_GEN_MECHANISM,
    ck::CKA_ALLOWED_MECHANISMS,
];

const PUBLIC_KEY: &[AttrType] = &[
    ck::CKA_WRAP_TEMPLATE,
    ck::CKA_SUBJECT,
    ck::CKA_ENCRYPT,
    ck::CKA_VERIFY,
    ck::CKA_VERIFY_RECOVER,
    ck::CKA_WRAP,
    ck::CKA_TRUSTED,
    ck::CKA_PUBLIC_KEY_INFO,
];

const PRIVATE_KEY: &[AttrType] = &[
    ck::CKA_UNWRAP_TEMPLATE,
    ck::CKA_DERIVE_TEMPLATE,
    ck::CKA_SUBJECT,
    ck::CKA_SENSITIVE,
    ck::CKA_DECRYPT,
    ck::CKA_SIGN,
    ck::CKA_SIGN_RECOVER,
    ck::CKA_UNWRAP,
    ck::CKA_EXTRACTABLE,
    ck::CKA_ALWAYS_SENSITIVE,
    ck::CKA_NEVER_EXTRACTABLE,
    ck::CKA_WRAP_WITH_TRUSTED,
    ck::CKA_ALWAYS_AUTHENTICATE,
    ck::CKA_PUBLIC_KEY_INFO,
];

const SECRET_KEY: &[AttrType] = &[
    ck::CKA_WRAP_TEMPLATE,
    ck::CKA_UNWRAP_TEMPLATE,
    ck::CKA_DERIVE_TEMPLATE,
    ck::CKA_SENSITIVE,
    ck::CKA_ENCRYPT,
    ck::CKA_DECRYPT,
    ck::CKA_SIGN,
    ck::CKA_VERIFY,
    ck::CKA_WRAP,
    ck::CKA_UNWRAP,
    ck::CKA_EXTRACTABLE,
    ck::CKA_ALWAYS_SENSITIVE,
    ck::CKA_NEVER_EXTRACTABLE,
    ck::CKA_CHECK_VALUE,
    ck::CKA_WRAP_WITH_TRUSTED,
    ck::CKA_TRUSTED,
    ck::CKA_VALUE,
    ck::CKA_VALUE_LEN,
];

const RSA_PUBLIC: &[AttrType] = &[
    ck::CKA_MODULUS,
    ck::CKA_MODULUS_BITS,
    ck::CKA_PUBLIC_EXPONENT,
];
const RSA_PRIVATE: &[AttrType] = &[
    ck::CKA_MODULUS,
    ck::CKA_PUBLIC_EXPONENT,
    ck::CKA_PRIVATE_EXPONENT,
    ck::CKA_PRIME_1,
    ck::CKA_PRIME_2,
    ck::CKA_EXPONENT_1,
    ck::CKA_EXPONENT_2,
    ck::CKA_COEFFICIENT,
];
const EC_PUBLIC: &[AttrType] = &[ck::CKA_EC_PARAMS, ck::CKA_EC_POINT];
const EC_PRIVATE: &[AttrType] = &[ck::CKA_EC_PARAMS, ck::CKA_VALUE];

/// Attributes that reveal secret key material: hidden while the key is sensitive or not
/// extractable, and always sealed on disk.
pub const SECRET_COMPONENTS: &[AttrType] = &[
    ck::CKA_PRIVATE_EXPONENT,
    ck::CKA_PRIME_1,
    ck::CKA_PRIME_2,
    ck::CKA_EXPONENT_1,
    ck::CKA_EXPONENT_2,
    ck::CKA_COEFFICIENT,
    ck::CKA_VALUE,
];

/// Attributes only the token sets; a template that names them is refused.
pub(crate) const TOKEN_SET: &[AttrType] = &[
    ck::CKA_LOCAL,
    ck::CKA_ALWAYS_SENSITIVE,
    ck::CKA_NEVER_EXTRACTABLE,
    ck::CKA_KEY_GEN_MECHANISM,
    ck::CKA_UNIQUE_ID,
];

/// Attributes that cannot change after creation (beyond [`TOKEN_SET`]).
const FIXED_AFTER_CREATION: &[AttrType] = &[
    ck::CKA_CLASS,
    ck::CKA_KEY_TYPE,
    ck::CKA_TOKEN,
    ck::CKA_PRIVATE,
    ck::CKA_MODIFIABLE,
    ck::CKA_CERTIFICATE_TYPE,
    ck::CKA_MODULUS,
    ck::CKA_MODULUS_BITS,
    ck::CKA_PUBLIC_EXPONENT,
    ck::CKA_PRIVATE_EXPONENT,
    ck::CKA_PRIME_1,
    ck::CKA_PRIME_2,
    ck::CKA_EXPONENT_1,
    ck::CKA_EXPONENT_2,
    ck::CKA_COEFFICIENT,
    ck::CKA_EC_PARAMS,
    ck::CKA_EC_POINT,
    ck::CKA_VALUE,
    ck::CKA_VALUE_LEN,
    ck::CKA_ALWAYS_AUTHENTICATE,
    ck::CKA_WRAP_WITH_TRUSTED,
    // Set once: a template that could be loosened later would restrict nothing.
    ck::CKA_WRAP_TEMPLATE,
    ck::CKA_UNWRAP_TEMPLATE,
    ck::CKA_DERIVE_TEMPLATE,
];

fn key_type_attrs(
    class: ck::CK_OBJECT_CLASS,
    key_type: ck::CK_KEY_TYPE,
) -> Option<&'static [AttrType]> {
    let attrs = match (class, key_type) {
        (ck::CKO_PUBLIC_KEY, ck::CKK_RSA) => RSA_PUBLIC,
        (ck::CKO_PRIVATE_KEY, ck::CKK_RSA) => RSA_PRIVATE,
        (ck::CKO_PUBLIC_KEY, ck::CKK_EC | ck::CKK_EC_EDWARDS) => EC_PUBLIC,
        (ck::CKO_PRIVATE_KEY, ck::CKK_EC | ck::CKK_EC_EDWARDS) => EC_PRIVATE,
        (
            ck::CKO_SECRET_KEY,
            ck::CKK_AES
            | ck::CKK_GENERIC_SECRET
            | ck::CKK_SHA_1_HMAC
            | ck::CKK_SHA224_HMAC
            | ck::CKK_SHA256_HMAC
            | ck::CKK_SHA384_HMAC
            | ck::CKK_SHA512_HMAC,
        ) => &[],
        _ => return None,
    };
    Some(attrs)
}

/// True when `ty` is an attribute objects of this class and key type can have.
pub fn allowed(
    class: ck::CK_OBJECT_CLASS,
    key_type: Option<ck::CK_KEY_TYPE>,
    ty: AttrType,
) -> bool {
    if COMMON.contains(&ty) {
        return true;
    }
    let class_attrs: &[&[AttrType]] = match class {
        ck::CKO_DATA => &[DATA],
        ck::CKO_CERTIFICATE => &[CERTIFICATE],
        ck::CKO_PUBLIC_KEY => &[KEY, PUBLIC_KEY],
        ck::CKO_PRIVATE_KEY => &[KEY, PRIVATE_KEY],
        ck::CKO_SECRET_KEY => &[KEY, SECRET_KEY],
        _ => &[],
    };
    if class_attrs.iter().any(|list| list.contains(&ty)) {
        return true;
    }
    key_type
        .and_then(|kt| key_type_attrs(class, kt))
        .is_some_and(|list| list.contains(&ty))
}

/// Attributes a new object of this kind must be given (or generated).
fn required(
    class: ck::CK_OBJECT_CLASS,
    key_type: Option<ck::CK_KEY_TYPE>,
    origin: Origin,
) -> &'static [AttrType] {
    if origin != Origin::Created {
        return &[];
    }
    match (class, key_type) {
        (ck::CKO_CERTIFICATE, _) => &[ck::CKA_CERTIFICATE_TYPE, ck::CKA_VALUE],
        (ck::CKO_PUBLIC_KEY, Some(ck::CKK_RSA)) => &[ck::CKA_MODULUS, ck::CKA_PUBLIC_EXPONENT],
        (ck::CKO_PRIVATE_KEY, Some(ck::CKK_RSA)) => &[
            ck::CKA_MODULUS,
            ck::CKA_PUBLIC_EXPONENT,
            ck::CKA_PRIVATE_EXPONENT,
            ck::CKA_PRIME_1,
            ck::CKA_PRIME_2,
            ck::CKA_EXPONENT_1,
            ck::CKA_EXPONENT_2,
            ck::CKA_COEFFICIENT,
        ],
        (ck::CKO_PUBLIC_KEY, Some(ck::CKK_EC | ck::CKK_EC_EDWARDS)) => {
            &[ck::CKA_EC_PARAMS, ck::CKA_EC_POINT]
        }
        (ck::CKO_PRIVATE_KEY, Some(ck::CKK_EC | ck::CKK_EC_EDWARDS)) => {
            &[ck::CKA_EC_PARAMS, ck::CKA_VALUE]
        }
        (ck::CKO_SECRET_KEY, _) => &[ck::CKA_VALUE],
        _ => &[],
    }
}

/// Builds a new object's attributes from a caller's template: checks every value, refuses
/// attributes the class does not have or only the token may set, applies the defaults, and
/// sets the origin-dependent attributes. Key material of generated keys is added by the
/// caller before [`finish_key`].
pub fn from_template(
    template: &Template,
    origin: Origin,
    defaults: &Attributes,
) -> Result<Attributes> {
    let mut attrs = defaults.clone();
    for (ty, value) in template {
        validate_value(*ty, value)?;
        if *ty == ck::CKA_UNIQUE_ID {
            // The token names every object; a template may not (cryptoki and Kryoptic
            // expect the type to be refused outright here).
            return Err(Error::AttributeTypeInvalid(*ty));
        }
        if TOKEN_SET.contains(ty) {
            return Err(Error::AttributeReadOnly(*ty));
        }
        attrs.set(*ty, value.clone());
    }
    let class = attrs
        .ulong(ck::CKA_CLASS)
        .ok_or(Error::TemplateIncomplete(ck::CKA_CLASS))?;
    let is_key = matches!(
        class,
        ck::CKO_PUBLIC_KEY | ck::CKO_PRIVATE_KEY | ck::CKO_SECRET_KEY
    );
    let key_type = attrs.ulong(ck::CKA_KEY_TYPE);
    if is_key && key_type.is_none() {
        return Err(Error::TemplateIncomplete(ck::CKA_KEY_TYPE));
    }
    if !matches!(
        class,
        ck::CKO_DATA
            | ck::CKO_CERTIFICATE
            | ck::CKO_PUBLIC_KEY
            | ck::CKO_PRIVATE_KEY
            | ck::CKO_SECRET_KEY
    ) {
        return Err(Error::AttributeValueInvalid(ck::CKA_CLASS));
    }
    if let Some(kt) = key_type.filter(|_| is_key)
        && key_type_attrs(class, kt).is_none()
    {
        return Err(Error::TemplateInconsistent(format!(
            "key type {kt:#x} is not supported for object class {class:#x}"
        )));
    }
    if class == ck::CKO_CERTIFICATE
        && attrs
            .ulong(ck::CKA_CERTIFICATE_TYPE)
            .is_some_and(|t| t != ck::CKC_X_509)
    {
        return Err(Error::AttributeValueInvalid(ck::CKA_CERTIFICATE_TYPE));
    }
    let key_type = key_type.filter(|_| is_key);
    for (ty, _) in attrs.iter() {
        if !allowed(class, key_type, ty) {
            return Err(Error::AttributeTypeInvalid(ty));
        }
    }
    for ty in required(class, key_type, origin) {
        if !attrs.contains(*ty) {
            return Err(Error::TemplateIncomplete(*ty));
        }
    }
    apply_defaults(&mut attrs, class, key_type);
    Ok(attrs)
}

fn apply_defaults(
    attrs: &mut Attributes,
    class: ck::CK_OBJECT_CLASS,
    key_type: Option<ck::CK_KEY_TYPE>,
) {
    let secret_class = matches!(class, ck::CKO_PRIVATE_KEY | ck::CKO_SECRET_KEY);
    attrs.default_bool(ck::CKA_TOKEN, false);
    attrs.default_bool(ck::CKA_PRIVATE, secret_class);
    attrs.default_bool(ck::CKA_MODIFIABLE, true);
    attrs.default_bool(ck::CKA_COPYABLE, true);
    attrs.default_bool(ck::CKA_DESTROYABLE, true);
    attrs.default_bytes(ck::CKA_LABEL, b"");
    match class {
        ck::CKO_DATA => {
            attrs.default_bytes(ck::CKA_APPLICATION, b"");
            attrs.default_bytes(ck::CKA_OBJECT_ID, b"");
            attrs.default_bytes(ck::CKA_VALUE, b"");
        }
        ck::CKO_CERTIFICATE => {
            attrs.default_bool(ck::CKA_TRUSTED, false);
            if !attrs.contains(ck::CKA_CERTIFICATE_CATEGORY) {
                attrs.set_ulong(ck::CKA_CERTIFICATE_CATEGORY, 0);
            }
            for ty in [
                ck::CKA_ID,
                ck::CKA_ISSUER,
                ck::CKA_SERIAL_NUMBER,
                ck::CKA_SUBJECT,
                ck::CKA_URL,
            ] {
                attrs.default_bytes(ty, b"");
            }
            attrs.default_bytes(ck::CKA_START_DATE, b"");
            attrs.default_bytes(ck::CKA_END_DATE, b"");
        }
        _ => {}
    }
    if key_type.is_none() {
        return;
    }
    attrs.default_bytes(ck::CKA_ID, b"");
    attrs.default_bytes(ck::CKA_START_DATE, b"");
    attrs.default_bytes(ck::CKA_END_DATE, b"");
    attrs.default_bool(ck::CKA_DERIVE, false);
    attrs.default_bytes(ck::CKA_ALLOWED_MECHANISMS, b"");
    match class {
        ck::CKO_PUBLIC_KEY => {
            attrs.default_bytes(ck::CKA_SUBJECT, b"");
            for ty in [
                ck::CKA_ENCRYPT,
                ck::CKA_VERIFY,
                ck::CKA_VERIFY_RECOVER,
                ck::CKA_WRAP,
            ] {
                attrs.default_bool(ty, true);
            }
            attrs.default_bool(ck::CKA_TRUSTED, false);
        }
        ck::CKO_PRIVATE_KEY => {
            attrs.default_bytes(ck::CKA_SUBJECT, b"");
            for ty in [
                ck::CKA_DECRYPT,
                ck::CKA_SIGN,
                ck::CKA_SIGN_RECOVER,
                ck::CKA_UNWRAP,
            ] {
                attrs.default_bool(ty, true);
            }
            attrs.default_bool(ck::CKA_SENSITIVE, true);
            attrs.default_bool(ck::CKA_EXTRACTABLE, false);
            attrs.default_bool(ck::CKA_WRAP_WITH_TRUSTED, false);
            attrs.default_bool(ck::CKA_ALWAYS_AUTHENTICATE, false);
        }
        ck::CKO_SECRET_KEY => {
            for ty in [
                ck::CKA_ENCRYPT,
                ck::CKA_DECRYPT,
                ck::CKA_SIGN,
                ck::CKA_VERIFY,
                ck::CKA_WRAP,
                ck::CKA_UNWRAP,
            ] {
                attrs.default_bool(ty, true);
            }
            attrs.default_bool(ck::CKA_SENSITIVE, true);
            attrs.default_bool(ck::CKA_EXTRACTABLE, false);
            attrs.default_bool(ck::CKA_WRAP_WITH_TRUSTED, false);
            attrs.default_bool(ck::CKA_TRUSTED, false);
        }
        _ => {}
    }
}

/// Sets the attributes that follow from the key's origin, once its material is in place.
pub fn finish_key(attrs: &mut Attributes, origin: Origin) {
    let Some(class) = attrs.ulong(ck::CKA_CLASS) else {
        return;
    };
    if !matches!(
        class,
        ck::CKO_PUBLIC_KEY | ck::CKO_PRIVATE_KEY | ck::CKO_SECRET_KEY
    ) {
        return;
    }
    let (local, mechanism) = match origin {
        Origin::Generated(mechanism) => (true, mechanism),
        Origin::Created | Origin::Unwrapped | Origin::Derived { .. } => {
            (false, ck::CK_UNAVAILABLE_INFORMATION)
        }
    };
    // Generated keys start protected; derived ones only if their base keys always were.
    let (was_sensitive, was_unextractable) = match origin {
        Origin::Generated(_) => (true, true),
        Origin::Derived {
            always_sensitive,
            never_extractable,
        } => (always_sensitive, never_extractable),
        Origin::Created | Origin::Unwrapped => (false, false),
    };
    attrs.set_bool(ck::CKA_LOCAL, local);
    attrs.set_ulong(ck::CKA_KEY_GEN_MECHANISM, mechanism);
    if class != ck::CKO_PUBLIC_KEY {
        let sensitive = attrs.bool(ck::CKA_SENSITIVE).unwrap_or(true);
        let extractable = attrs.bool(ck::CKA_EXTRACTABLE).unwrap_or(false);
        attrs.set_bool(ck::CKA_ALWAYS_SENSITIVE, was_sensitive && sensitive);
        attrs.set_bool(ck::CKA_NEVER_EXTRACTABLE, was_unextractable && !extractable);
    }
    if class == ck::CKO_PUBLIC_KEY && attrs.ulong(ck::CKA_KEY_TYPE) == Some(ck::CKK_RSA) {
        let bits = attrs.get(ck::CKA_MODULUS).map_or(0, modulus_bits);
        attrs.set_ulong(ck::CKA_MODULUS_BITS, bits);
    }
    if class == ck::CKO_SECRET_KEY {
        let len = attrs.get(ck::CKA_VALUE).map_or(0, <[u8]>::len);
        attrs.set_ulong(ck::CKA_VALUE_LEN, len as ck::CK_ULONG);
    }
}

/// Bit length of a big-endian unsigned integer.
pub fn modulus_bits(modulus: &[u8]) -> ck::CK_ULONG {
    let trimmed: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(start) => &modulus[start..],
        None => &[],
    };
    match trimmed.first() {
        Some(first) => (trimmed.len() * 8 - first.leading_zeros() as usize) as ck::CK_ULONG,
        None => 0,
    }
}

/// Reads one attribute as `C_GetAttributeValue` must: unknown to the class → type invalid;
/// secret material of a sensitive or non-extractable key → sensitive. A key without a
/// wrap, unwrap or derive template (every key stored before templates existed, too) has the
/// empty one, as on SoftHSM.
pub fn readable(attrs: &Attributes, ty: AttrType) -> Result<&[u8]> {
    if SECRET_COMPONENTS.contains(&ty) && is_secret_material_holder(attrs) {
        let sensitive = attrs.bool(ck::CKA_SENSITIVE).unwrap_or(true);
        let extractable = attrs.bool(ck::CKA_EXTRACTABLE).unwrap_or(false);
        if sensitive || !extractable {
            return Err(Error::AttributeSensitive(ty));
        }
    }
    match attrs.get(ty) {
        Some(value) => Ok(value),
        None if is_template(ty) && allowed(class_of(attrs), attrs.ulong(ck::CKA_KEY_TYPE), ty) => {
            Ok(&[])
        }
        None => Err(Error::AttributeTypeInvalid(ty)),
    }
}

fn is_secret_material_holder(attrs: &Attributes) -> bool {
    matches!(
        attrs.ulong(ck::CKA_CLASS),
        Some(ck::CKO_PRIVATE_KEY | ck::CKO_SECRET_KEY)
    )
}

/// True when the object's record must be sealed under the TMK on disk.
pub fn needs_sealing(attrs: &Attributes) -> bool {
    attrs.bool(ck::CKA_PRIVATE).unwrap_or(true) || is_secret_material_holder(attrs)
}

/// Applies `C_SetAttributeValue`: the whole template is checked before anything changes.
pub fn apply_update(attrs: &mut Attributes, template: &Template) -> Result<()> {
    if attrs.bool(ck::CKA_MODIFIABLE) == Some(false) {
        return Err(Error::ActionProhibited);
    }
    let class = attrs.ulong(ck::CKA_CLASS).unwrap_or(ck::CKO_DATA);
    let key_type = attrs.ulong(ck::CKA_KEY_TYPE);
    for (ty, value) in template {
        validate_value(*ty, value)?;
        if !allowed(class, key_type, *ty) {
            return Err(Error::AttributeTypeInvalid(*ty));
        }
        if TOKEN_SET.contains(ty) || FIXED_AFTER_CREATION.contains(ty) {
            return Err(Error::AttributeReadOnly(*ty));
        }
        let new = parse_bool(*ty, value).ok();
        let old = attrs.bool(*ty);
        let one_way_violated = match *ty {
            // Once sensitive, always sensitive; once unextractable, always so.
            ck::CKA_SENSITIVE => old == Some(true) && new == Some(false),
            ck::CKA_EXTRACTABLE => old == Some(false) && new == Some(true),
            ck::CKA_COPYABLE | ck::CKA_DESTROYABLE => old == Some(false) && new == Some(true),
            _ => false,
        };
        if one_way_violated {
            return Err(Error::AttributeReadOnly(*ty));
        }
    }
    for (ty, value) in template {
        attrs.set(*ty, value.clone());
    }
    Ok(())
}

/// The object's class, defaulting to data for a record that somehow lacks one.
pub fn class_of(attrs: &Attributes) -> ck::CK_OBJECT_CLASS {
    attrs
        .get(ck::CKA_CLASS)
        .and_then(|v| parse_ulong(ck::CKA_CLASS, v).ok())
        .unwrap_or(ck::CKO_DATA)
}
