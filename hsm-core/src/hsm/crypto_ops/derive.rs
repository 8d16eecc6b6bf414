//! `C_DeriveKey`: ECDH, AES encryption of data, the simple derivations (concatenation,
//! XOR, bit extraction) and the SP 800-108 KDFs. Every derived key is a secret key built
//! from the caller's template like any other, and takes from its inputs the protection
//! PKCS#11 says it must keep.

use std::sync::Arc;

use cryptoki_sys as ck;

use crate::array_attr;
use crate::attr::{Attributes, Template};
use crate::crypto::{self, AesCipher, AesMode, Direction, PrivateKeyMaterial};
use crate::error::{Error, Result};
use crate::hsm::Hsm;
use crate::keys;
use crate::mechanism::{self, DeriveMechanism, EcKdf, Mechanism, SECRET_KEY_BYTES};
use crate::object::{self, Origin};
use crate::secret::SecretBytes;
use crate::token::{ObjectEntry, Token, UserType};

/// Derived keys of simple mechanisms from a protected base must be at least this long, so
/// that a short key cut from a sensitive one cannot be brute-forced through the MACs or
/// ciphertexts it makes (the "key conjuring" attacks on PKCS#11).
const MIN_PROTECTED_SLICE: usize = 16;

/// The keys a derivation reads: the base key, and for CKM_CONCATENATE_BASE_AND_KEY the
/// second key.
struct Inputs {
    base: Arc<ObjectEntry>,
    other: Option<Arc<ObjectEntry>>,
}

impl Inputs {
    fn all(&self) -> impl Iterator<Item = &Arc<ObjectEntry>> {
        std::iter::once(&self.base).chain(self.other.as_ref())
    }

    /// True when every input has this attribute true.
    fn all_true(&self, ty: ck::CK_ATTRIBUTE_TYPE) -> bool {
        self.all().all(|key| key.attrs.bool(ty) == Some(true))
    }

    /// True when any input is sensitive or unextractable.
    fn protected(&self) -> bool {
        self.all().any(|key| {
            key.attrs.bool(ck::CKA_SENSITIVE) != Some(false)
                || key.attrs.bool(ck::CKA_EXTRACTABLE) != Some(true)
        })
    }
}

fn value(entry: &ObjectEntry) -> Result<&[u8]> {
    entry
        .attrs
        .get(ck::CKA_VALUE)
        .ok_or_else(|| Error::Corrupt("a secret key without CKA_VALUE".into()))
}

/// The class and key type a mechanism's base key must have (`None`: any secret key).
fn base_kind(mechanism: &DeriveMechanism) -> (ck::CK_OBJECT_CLASS, Option<ck::CK_KEY_TYPE>) {
    match mechanism {
        DeriveMechanism::Ecdh { .. } => (ck::CKO_PRIVATE_KEY, Some(ck::CKK_EC)),
        DeriveMechanism::AesEcbData(_) | DeriveMechanism::AesCbcData { .. } => {
            (ck::CKO_SECRET_KEY, Some(ck::CKK_AES))
        }
        _ => (ck::CKO_SECRET_KEY, None),
    }
}

/// A new key's attributes from its template, before its value: a generic secret key unless
/// the template says otherwise, able to do only what the template grants.
fn derived_attrs(template: &Template, origin: Origin) -> Result<Attributes> {
    if template.iter().any(|(ty, _)| *ty == ck::CKA_VALUE) {
        return Err(Error::TemplateInconsistent(
            "a derived key's CKA_VALUE comes from the derivation".into(),
        ));
    }
    let mut defaults = Attributes::new();
    defaults.set_ulong(ck::CKA_CLASS, ck::CKO_SECRET_KEY);
    defaults.set_ulong(ck::CKA_KEY_TYPE, ck::CKK_GENERIC_SECRET);
    for usage in [
        ck::CKA_ENCRYPT,
        ck::CKA_DECRYPT,
        ck::CKA_SIGN,
        ck::CKA_VERIFY,
        ck::CKA_WRAP,
        ck::CKA_UNWRAP,
        ck::CKA_DERIVE,
    ] {
        defaults.set_bool(usage, false);
    }
    let attrs = object::from_template(template, origin, &defaults)?;
    if attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
        return Err(Error::TemplateInconsistent(
            "key derivation makes secret keys".into(),
        ));
    }
    Ok(attrs)
}

/// The length a key of these attributes asks for: `CKA_VALUE_LEN`, or `default` (the
/// mechanism's natural output length) when that fits the key type.
fn wanted_len(attrs: &Attributes, default: Option<usize>) -> Result<usize> {
    let aes = attrs.ulong(ck::CKA_KEY_TYPE) == Some(ck::CKK_AES);
    let len = match attrs.ulong(ck::CKA_VALUE_LEN) {
        Some(len) => usize::try_from(len).map_err(|_| Error::KeySizeRange(len.to_string()))?,
        None => default
            .filter(|len| !aes || matches!(len, 16 | 24 | 32))
            .ok_or(Error::TemplateIncomplete(ck::CKA_VALUE_LEN))?,
    };
    let fits = if aes {
        matches!(len, 16 | 24 | 32)
    } else {
        SECRET_KEY_BYTES.contains(&(len as ck::CK_ULONG))
    };
    if !fits {
        return Err(Error::KeySizeRange(format!(
            "a derived key of {len} bytes does not fit its key type"
        )));
    }
    Ok(len)
}

/// Bits `first_bit..` of `key` (bit 0 is the high bit of the first byte), wrapping round
/// the end, as CKM_EXTRACT_KEY_FROM_KEY defines.
fn extract_bits(key: &[u8], first_bit: u64, len: usize) -> Result<SecretBytes> {
    let total = key.len() * 8;
    let first = usize::try_from(first_bit)
        .ok()
        .filter(|first| *first < total && len <= key.len())
        .ok_or(Error::MechanismParamInvalid(ck::CKM_EXTRACT_KEY_FROM_KEY))?;
    let mut out = vec![0u8; len];
    for j in 0..len * 8 {
        let src = (first + j) % total;
        let bit = (key[src / 8] >> (7 - src % 8)) & 1;
        out[j / 8] |= bit << (7 - j % 8);
    }
    Ok(SecretBytes::new(out))
}

/// The output of a mechanism that makes one key (all but the KDFs), before truncation to
/// the key's length.
fn natural_output(
    mechanism: &DeriveMechanism,
    inputs: &Inputs,
    wanted: Option<usize>,
) -> Result<SecretBytes> {
    let base = value(&inputs.base)?;
    let join = |a: &[u8], b: &[u8]| SecretBytes::new([a, b].concat());
    Ok(match mechanism {
        DeriveMechanism::Ecdh {
            kdf,
            shared_data,
            public,
        } => {
            let PrivateKeyMaterial::Ec { curve, d } = keys::private_material(&inputs.base.attrs)?
            else {
                return Err(Error::KeyTypeInconsistent);
            };
            let peer = keys::ec_point_raw(public, curve.point_len())
                .map_err(|_| Error::MechanismParamInvalid(ck::CKM_ECDH1_DERIVE))?;
            let z = crypto::ecdh(curve, d.expose(), &peer)?;
            match kdf {
                EcKdf::Null => z,
                EcKdf::X963(hash) => {
                    let len = wanted.unwrap_or(z.len());
                    crypto::x963_kdf(*hash, z.expose(), shared_data, len)?
                }
            }
        }
        DeriveMechanism::AesEcbData(data) => aes_encrypt(base, AesMode::Ecb, data)?,
        DeriveMechanism::AesCbcData { iv, data } => {
            aes_encrypt(base, AesMode::Cbc { iv: *iv }, data)?
        }
        DeriveMechanism::ConcatenateBaseAndKey(_) => {
            let other = inputs.other.as_ref().ok_or(Error::KeyTypeInconsistent)?;
            join(base, value(other)?)
        }
        DeriveMechanism::ConcatenateBaseAndData(data) => join(base, data.expose()),
        DeriveMechanism::ConcatenateDataAndBase(data) => join(data.expose(), base),
        DeriveMechanism::XorBaseAndData(data) => {
            SecretBytes::new(base.iter().zip(data.expose()).map(|(k, d)| k ^ d).collect())
        }
        DeriveMechanism::ExtractKeyFromKey(first_bit) => extract_bits(
            base,
            *first_bit,
            wanted.ok_or(Error::TemplateIncomplete(ck::CKA_VALUE_LEN))?,
        )?,
        DeriveMechanism::Kbkdf { .. } => {
            return Err(Error::MechanismInvalid(ck::CKM_SP800_108_COUNTER_KDF));
        }
    })
}

/// AES encryption of derivation data (CKM_AES_*_ENCRYPT_DATA): the data must be whole
/// blocks. Bad data is the parameter's fault.
fn aes_encrypt(key: &[u8], mode: AesMode, data: &SecretBytes) -> Result<SecretBytes> {
    let m = match mode {
        AesMode::Ecb => ck::CKM_AES_ECB_ENCRYPT_DATA,
        _ => ck::CKM_AES_CBC_ENCRYPT_DATA,
    };
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return Err(Error::MechanismParamInvalid(m));
    }
    let cipher = AesCipher::new(key, mode, Direction::Encrypt)?;
    Ok(SecretBytes::new(cipher.one_shot(data.expose())?))
}

impl Hsm {
    /// `C_DeriveKey`: the handle of the new key.
    pub fn derive_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        base: u64,
        template: &Template,
    ) -> Result<u64> {
        self.derive_keys(session, mechanism, base, template)?
            .first()
            .copied()
            .ok_or_else(|| Error::Corrupt("a derivation made no key".into()))
    }

    /// `C_DeriveKey` with every key it makes: the key of `template` first, then the
    /// additional keys of the SP 800-108 KDFs in the order of their templates.
    pub fn derive_keys(
        &self,
        session: u64,
        mechanism: &Mechanism,
        base: u64,
        template: &Template,
    ) -> Result<Vec<u64>> {
        let (_, rw, token) = self.session_token(session)?;
        token.sync()?;
        let parsed = mechanism::derive_mechanism(mechanism)?;
        let inputs = self.derive_inputs(&token, &parsed, base)?;
        let origin = Origin::Derived {
            always_sensitive: inputs.all_true(ck::CKA_ALWAYS_SENSITIVE),
            never_extractable: inputs.all_true(ck::CKA_NEVER_EXTRACTABLE),
        };
        let mut templates = vec![template];
        if let DeriveMechanism::Kbkdf {
            additional_keys, ..
        } = &parsed
        {
            templates.extend(additional_keys);
        }
        // The base key's CKA_DERIVE_TEMPLATE applies to every key it makes, under the
        // caller's template, which may not contradict it.
        let derive_template = array_attr::of(&inputs.base.attrs, ck::CKA_DERIVE_TEMPLATE)?;
        let mut keys = Vec::with_capacity(templates.len());
        for template in templates {
            let template = array_attr::apply(&derive_template, template)?;
            let mut attrs = derived_attrs(&template, origin)?;
            if parsed.is_simple() && inputs.protected() {
                // Concatenation, XOR and extraction pass the base key's bits on: the new key
                // is as sensitive and as unextractable as its inputs (PKCS#11 3.0 §2.43).
                if inputs
                    .all()
                    .any(|k| k.attrs.bool(ck::CKA_SENSITIVE) != Some(false))
                {
                    attrs.set_bool(ck::CKA_SENSITIVE, true);
                }
                if inputs
                    .all()
                    .any(|k| k.attrs.bool(ck::CKA_EXTRACTABLE) != Some(true))
                {
                    attrs.set_bool(ck::CKA_EXTRACTABLE, false);
                }
            }
            Self::check_may_create(&token, rw, &attrs)?;
            keys.push(attrs);
        }
        let values = self.derive_values(&parsed, &inputs, &keys)?;
        let mut objects = Vec::with_capacity(keys.len());
        for (mut attrs, value) in keys.into_iter().zip(values) {
            attrs.set(ck::CKA_VALUE, value.expose().to_vec());
            self.validate_key_material(&attrs)?;
            object::finish_key(&mut attrs, origin);
            let owner = Self::owner(session, &attrs);
            objects.push((attrs, owner));
        }
        token.insert_objects(objects)
    }

    /// Finds and checks the keys a derivation reads: visible, of the kind the mechanism
    /// takes, the base with CKA_DERIVE, and the user logged in to use them.
    fn derive_inputs(
        &self,
        token: &Token,
        mechanism: &DeriveMechanism,
        base: u64,
    ) -> Result<Inputs> {
        let base_entry = self
            .visible(token, base)
            .map_err(|_| Error::KeyHandleInvalid(base))?;
        let (class, key_type) = base_kind(mechanism);
        if base_entry.attrs.ulong(ck::CKA_CLASS) != Some(class)
            || key_type.is_some_and(|kt| base_entry.attrs.ulong(ck::CKA_KEY_TYPE) != Some(kt))
        {
            return Err(Error::KeyTypeInconsistent);
        }
        if base_entry.attrs.bool(ck::CKA_DERIVE) != Some(true) {
            return Err(Error::KeyFunctionNotPermitted("CKA_DERIVE is false"));
        }
        if token.login_state() != Some(UserType::User) {
            return Err(Error::UserNotLoggedIn);
        }
        let other = match mechanism {
            DeriveMechanism::ConcatenateBaseAndKey(handle) => {
                let other = self
                    .visible(token, *handle)
                    .map_err(|_| Error::MechanismParamInvalid(ck::CKM_CONCATENATE_BASE_AND_KEY))?;
                if other.attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
                    return Err(Error::KeyTypeInconsistent);
                }
                Some(other)
            }
            _ => None,
        };
        Ok(Inputs {
            base: base_entry,
            other,
        })
    }

    /// The values of the new keys, each of the length its attributes ask for.
    fn derive_values(
        &self,
        mechanism: &DeriveMechanism,
        inputs: &Inputs,
        keys: &[Attributes],
    ) -> Result<Vec<SecretBytes>> {
        if let DeriveMechanism::Kbkdf { layout, .. } = mechanism {
            let lens = keys
                .iter()
                .map(|attrs| wanted_len(attrs, None))
                .collect::<Result<Vec<_>>>()?;
            return Ok(crypto::kbkdf(value(&inputs.base)?, layout, &lens)?);
        }
        let attrs = keys
            .first()
            .ok_or_else(|| Error::Corrupt("a derivation without a template".into()))?;
        let requested = attrs
            .ulong(ck::CKA_VALUE_LEN)
            .and_then(|len| usize::try_from(len).ok());
        let output = natural_output(mechanism, inputs, requested)?;
        let len = wanted_len(attrs, Some(output.len()))?;
        if len > output.len() {
            // Too little data for the key is the parameter's fault (python-pkcs11 expects so).
            return Err(match mechanism {
                DeriveMechanism::AesEcbData(_) => {
                    Error::MechanismParamInvalid(ck::CKM_AES_ECB_ENCRYPT_DATA)
                }
                DeriveMechanism::AesCbcData { .. } => {
                    Error::MechanismParamInvalid(ck::CKM_AES_CBC_ENCRYPT_DATA)
                }
                _ => Error::KeySizeRange(format!(
                    "the derivation gives {} bytes, not {len}",
                    output.len()
                )),
            });
        }
        if matches!(
            mechanism,
            DeriveMechanism::XorBaseAndData(_) | DeriveMechanism::ExtractKeyFromKey(_)
        ) && inputs.protected()
            && len < MIN_PROTECTED_SLICE
        {
            return Err(Error::KeySizeRange(format!(
                "a key cut from a sensitive or unextractable key must be at least \
                 {MIN_PROTECTED_SLICE} bytes"
            )));
        }
        let bytes = output.expose();
        // ECDH keeps the trailing bytes of a truncated secret, as SoftHSM does; the other
        // mechanisms the leading ones, as the spec says.
        let kept = match mechanism {
            DeriveMechanism::Ecdh {
                kdf: EcKdf::Null, ..
            } => &bytes[bytes.len() - len..],
            _ => &bytes[..len],
        };
        Ok(vec![SecretBytes::from_slice(kept)])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// PKCS#11 3.0 §2.43.7's example: bits 21.. of 0x329F84A9, two bytes, wrap round.
    #[test]
    fn extraction_follows_the_spec_example() {
        let key = [0x32, 0x9F, 0x84, 0xA9];
        assert_eq!(extract_bits(&key, 21, 2).unwrap().expose(), [0x95, 0x26]);
        assert_eq!(extract_bits(&key, 0, 4).unwrap().expose(), key);
        assert!(extract_bits(&key, 32, 1).is_err());
        assert!(extract_bits(&key, 0, 5).is_err());
    }
}
