//! Object management through sessions: create, copy, destroy, attributes, search, and key
//! generation — with the spec's checks on session kind, login and visibility.

use std::sync::Arc;

use cryptoki_sys as ck;

use super::{Hsm, lock};
use crate::attr::{AttrType, Attributes, Template, template_value};
use crate::crypto::{self, Curve};
use crate::error::{Error, Result};
use crate::keys;
use crate::mechanism::{self, Mechanism, RSA_KEY_BITS, SECRET_KEY_BYTES};
use crate::object::{self, Origin};
use crate::session::FindOp;
use crate::token::{ObjectEntry, Token, UserType};

/// Public exponent used when a template names none: 65537.
const DEFAULT_EXPONENT: &[u8] = &[0x01, 0x00, 0x01];

impl Hsm {
    /// An object the session may see: private objects only while the user is logged in.
    pub(super) fn visible(&self, token: &Token, handle: u64) -> Result<Arc<ObjectEntry>> {
        let entry = token
            .entry(handle)
            .ok_or(Error::ObjectHandleInvalid(handle))?;
        if entry.is_private() && token.login_state() != Some(UserType::User) {
            return Err(Error::ObjectHandleInvalid(handle));
        }
        Ok(entry)
    }

    /// Checks that this session may hold an object with these attributes.
    pub(super) fn check_may_create(
        token: &Token,
        read_write: bool,
        attrs: &Attributes,
    ) -> Result<()> {
        if attrs.bool(ck::CKA_TOKEN) == Some(true) && !read_write {
            return Err(Error::SessionReadOnly);
        }
        if attrs.bool(ck::CKA_PRIVATE) == Some(true) && token.login_state() != Some(UserType::User)
        {
            return Err(Error::UserNotLoggedIn);
        }
        Ok(())
    }

    pub(super) fn owner(session: u64, attrs: &Attributes) -> Option<u64> {
        (attrs.bool(ck::CKA_TOKEN) != Some(true)).then_some(session)
    }

    /// `C_CreateObject`.
    pub fn create_object(&self, session: u64, template: &Template) -> Result<u64> {
        let (_, rw, token) = self.session_token(session)?;
        token.sync()?;
        let mut attrs = object::from_template(template, Origin::Created, &Attributes::new())?;
        Self::check_may_create(&token, rw, &attrs)?;
        self.validate_key_material(&attrs)?;
        object::finish_key(&mut attrs, Origin::Created);
        let owner = Self::owner(session, &attrs);
        Ok(token.insert_objects(vec![(attrs, owner)])?[0])
    }

    /// Refuses key objects whose components do not form a usable key.
    pub(super) fn validate_key_material(&self, attrs: &Attributes) -> Result<()> {
        match attrs.ulong(ck::CKA_CLASS) {
            Some(ck::CKO_PRIVATE_KEY) => {
                if attrs.ulong(ck::CKA_KEY_TYPE) == Some(ck::CKK_RSA) {
                    // The same range key generation offers: a token keeps no weaker keys.
                    let bits = attrs.get(ck::CKA_MODULUS).map_or(0, object::modulus_bits);
                    if !RSA_KEY_BITS.contains(&bits) {
                        return Err(Error::KeySizeRange(format!(
                            "RSA private keys are {RSA_KEY_BITS:?} bits, not {bits}"
                        )));
                    }
                }
                let material = keys::private_material(attrs)?;
                self.provider.keys.load_private(&material).map_err(|_| {
                    Error::TemplateInconsistent(
                        "the private key components do not form a valid key".into(),
                    )
                })?;
            }
            Some(ck::CKO_PUBLIC_KEY) => {
                let material = keys::public_material(attrs)?;
                self.provider.keys.load_public(&material).map_err(|_| {
                    Error::TemplateInconsistent(
                        "the public key components do not form a valid key".into(),
                    )
                })?;
            }
            Some(ck::CKO_SECRET_KEY) => {
                let len = attrs.get(ck::CKA_VALUE).map_or(0, <[u8]>::len);
                let ok = match attrs.ulong(ck::CKA_KEY_TYPE) {
                    Some(ck::CKK_AES) => matches!(len, 16 | 24 | 32),
                    Some(kt) if mechanism::is_mac_key_type(kt) => {
                        SECRET_KEY_BYTES.contains(&(len as ck::CK_ULONG))
                    }
                    _ => true,
                };
                if !ok {
                    return Err(Error::AttributeValueInvalid(ck::CKA_VALUE));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `C_CopyObject`: a copy with some attributes changed, under the same update rules.
    pub fn copy_object(&self, session: u64, handle: u64, template: &Template) -> Result<u64> {
        let (_, rw, token) = self.session_token(session)?;
        let entry = self.visible(&token, handle)?;
        if entry.attrs.bool(ck::CKA_COPYABLE) == Some(false) {
            return Err(Error::ActionProhibited);
        }
        let mut attrs = entry.attrs.clone();
        let (storage, rest): (Template, Template) =
            template.iter().cloned().partition(|(ty, _)| {
                matches!(*ty, ck::CKA_TOKEN | ck::CKA_PRIVATE | ck::CKA_MODIFIABLE)
            });
        attrs.set_bool(ck::CKA_MODIFIABLE, true);
        object::apply_update(&mut attrs, &rest)?;
        for (ty, value) in storage {
            crate::attr::validate_value(ty, &value)?;
            attrs.set(ty, value);
        }
        Self::check_may_create(&token, rw, &attrs)?;
        let owner = Self::owner(session, &attrs);
        Ok(token.insert_objects(vec![(attrs, owner)])?[0])
    }

    /// `C_DestroyObject`.
    pub fn destroy_object(&self, session: u64, handle: u64) -> Result<()> {
        let (_, rw, token) = self.session_token(session)?;
        token.sync()?;
        let entry = self.visible(&token, handle)?;
        if entry.is_token_object() && !rw {
            return Err(Error::SessionReadOnly);
        }
        if entry.attrs.bool(ck::CKA_DESTROYABLE) == Some(false) {
            return Err(Error::ActionProhibited);
        }
        token.remove_object(handle)
    }

    /// `C_GetAttributeValue`: one result per requested type, so the caller can fill what it
    /// may and flag the rest.
    pub fn get_attributes(
        &self,
        session: u64,
        handle: u64,
        types: &[AttrType],
    ) -> Result<Vec<Result<Vec<u8>>>> {
        let (_, _, token) = self.session_token(session)?;
        let entry = self.visible(&token, handle)?;
        Ok(types
            .iter()
            .map(|ty| {
                if *ty == ck::CKA_UNIQUE_ID && self.presents_2_40() {
                    return Err(Error::AttributeTypeInvalid(*ty));
                }
                object::readable(&entry.attrs, *ty).map(<[u8]>::to_vec)
            })
            .collect())
    }

    /// `C_GetObjectSize`.
    pub fn object_size(&self, session: u64, handle: u64) -> Result<usize> {
        let (_, _, token) = self.session_token(session)?;
        Ok(self.visible(&token, handle)?.attrs.size())
    }

    /// `C_SetAttributeValue`: all or nothing.
    pub fn set_attributes(&self, session: u64, handle: u64, template: &Template) -> Result<()> {
        let (_, rw, token) = self.session_token(session)?;
        token.sync()?;
        let entry = self.visible(&token, handle)?;
        if entry.is_token_object() && !rw {
            return Err(Error::SessionReadOnly);
        }
        if self.presents_2_40() && template.iter().any(|(ty, _)| *ty == ck::CKA_UNIQUE_ID) {
            return Err(Error::AttributeTypeInvalid(ck::CKA_UNIQUE_ID));
        }
        let mut attrs = entry.attrs.clone();
        object::apply_update(&mut attrs, template)?;
        token.replace_object(handle, attrs)
    }

    /// `C_FindObjectsInit`.
    pub fn find_init(&self, session: u64, template: &Template) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let session = self.session(session)?;
        if lock(&session).find.is_some() {
            return Err(Error::OperationActive);
        }
        token.sync()?;
        let results = token.find(template, token.login_state() == Some(UserType::User));
        lock(&session).find = Some(FindOp {
            results,
            position: 0,
        });
        Ok(())
    }

    /// `C_FindObjects`: up to `max` more handles.
    pub fn find_next(&self, session: u64, max: usize) -> Result<Vec<u64>> {
        let session = self.session(session)?;
        let mut session = lock(&session);
        let find = session
            .find
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        let end = find.results.len().min(find.position.saturating_add(max));
        let batch = find.results[find.position..end].to_vec();
        find.position = end;
        Ok(batch)
    }

    /// `C_FindObjectsFinal`.
    pub fn find_final(&self, session: u64) -> Result<()> {
        let session = self.session(session)?;
        lock(&session)
            .find
            .take()
            .map(|_| ())
            .ok_or(Error::OperationNotInitialized)
    }

    /// `C_GenerateKeyPair`: returns (public handle, private handle).
    pub fn generate_key_pair(
        &self,
        session: u64,
        mechanism: &Mechanism,
        public_template: &Template,
        private_template: &Template,
    ) -> Result<(u64, u64)> {
        let (_, rw, token) = self.session_token(session)?;
        let m = mechanism.mechanism;
        let key_type = match m {
            ck::CKM_RSA_PKCS_KEY_PAIR_GEN => ck::CKK_RSA,
            ck::CKM_EC_KEY_PAIR_GEN => ck::CKK_EC,
            ck::CKM_EC_EDWARDS_KEY_PAIR_GEN => ck::CKK_EC_EDWARDS,
            other => return Err(Error::MechanismInvalid(other)),
        };
        let mut public_defaults = Attributes::new();
        public_defaults.set_ulong(ck::CKA_CLASS, ck::CKO_PUBLIC_KEY);
        public_defaults.set_ulong(ck::CKA_KEY_TYPE, key_type);
        let mut private_defaults = Attributes::new();
        private_defaults.set_ulong(ck::CKA_CLASS, ck::CKO_PRIVATE_KEY);
        private_defaults.set_ulong(ck::CKA_KEY_TYPE, key_type);
        let origin = Origin::Generated(m);
        let mut public = object::from_template(public_template, origin, &public_defaults)?;
        let mut private = object::from_template(private_template, origin, &private_defaults)?;
        for (attrs, class) in [
            (&public, ck::CKO_PUBLIC_KEY),
            (&private, ck::CKO_PRIVATE_KEY),
        ] {
            if attrs.ulong(ck::CKA_CLASS) != Some(class)
                || attrs.ulong(ck::CKA_KEY_TYPE) != Some(key_type)
            {
                return Err(Error::TemplateInconsistent(
                    "the templates' class or key type does not fit the mechanism".into(),
                ));
            }
        }
        Self::check_may_create(&token, rw, &public)?;
        Self::check_may_create(&token, rw, &private)?;
        // Generated outside every lock: key generation is the slow part.
        let material = match key_type {
            ck::CKK_RSA => {
                let bits = template_value(public_template, ck::CKA_MODULUS_BITS)
                    .ok_or(Error::TemplateIncomplete(ck::CKA_MODULUS_BITS))
                    .and_then(|v| crate::attr::parse_ulong(ck::CKA_MODULUS_BITS, v))?;
                if !RSA_KEY_BITS.contains(&bits) {
                    return Err(Error::KeySizeRange(format!(
                        "RSA keys are {RSA_KEY_BITS:?} bits, not {bits}"
                    )));
                }
                let exponent = template_value(public_template, ck::CKA_PUBLIC_EXPONENT)
                    .unwrap_or(DEFAULT_EXPONENT);
                self.provider.keygen.rsa(bits as u32, exponent)?
            }
            ck::CKK_EC => {
                let params = template_value(public_template, ck::CKA_EC_PARAMS)
                    .or_else(|| template_value(private_template, ck::CKA_EC_PARAMS))
                    .ok_or(Error::TemplateIncomplete(ck::CKA_EC_PARAMS))?;
                let curve = Curve::from_der_oid(params)
                    .ok_or(Error::AttributeValueInvalid(ck::CKA_EC_PARAMS))?;
                // Both objects carry the template's parameters: explicit ones stay verbatim,
                // a name or OID becomes the OID (keys::set_public_attrs).
                public.set(ck::CKA_EC_PARAMS, params.to_vec());
                private.set(ck::CKA_EC_PARAMS, params.to_vec());
                self.provider.keygen.ec(curve)?
            }
            _ => {
                // Ed25519 unless CKA_EC_PARAMS names edwards448.
                let params = template_value(public_template, ck::CKA_EC_PARAMS)
                    .or_else(|| template_value(private_template, ck::CKA_EC_PARAMS))
                    .unwrap_or(keys::ED25519_OID);
                public.set(ck::CKA_EC_PARAMS, params.to_vec());
                private.set(ck::CKA_EC_PARAMS, params.to_vec());
                match keys::edwards_curve(&public)? {
                    keys::EdCurve::Ed25519 => self.provider.keygen.ed25519()?,
                    keys::EdCurve::Ed448 => self.provider.keygen.ed448()?,
                }
            }
        };
        let public_material = material.public()?;
        keys::set_public_attrs(&mut public, &public_material);
        keys::set_private_attrs(&mut private, &material, &public_material);
        object::finish_key(&mut public, origin);
        object::finish_key(&mut private, origin);
        let owners = (
            Self::owner(session, &public),
            Self::owner(session, &private),
        );
        let handles = token.insert_objects(vec![(public, owners.0), (private, owners.1)])?;
        Ok((handles[0], handles[1]))
    }

    /// `C_GenerateKey`: AES keys (encryption, key backup) and generic secret / HMAC keys.
    pub fn generate_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        template: &Template,
    ) -> Result<u64> {
        let (_, rw, token) = self.session_token(session)?;
        let m = mechanism.mechanism;
        let key_type = mechanism::secret_key_gen_type(m)?;
        let mut defaults = Attributes::new();
        defaults.set_ulong(ck::CKA_CLASS, ck::CKO_SECRET_KEY);
        defaults.set_ulong(ck::CKA_KEY_TYPE, key_type);
        let origin = Origin::Generated(m);
        let mut attrs = object::from_template(template, origin, &defaults)?;
        if attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY)
            || attrs.ulong(ck::CKA_KEY_TYPE) != Some(key_type)
        {
            return Err(Error::TemplateInconsistent(format!(
                "mechanism {m:#x} makes secret keys of type {key_type:#x}"
            )));
        }
        let len = attrs
            .ulong(ck::CKA_VALUE_LEN)
            .ok_or(Error::TemplateIncomplete(ck::CKA_VALUE_LEN))?;
        Self::check_may_create(&token, rw, &attrs)?;
        let value = if key_type == ck::CKK_AES {
            if !matches!(len, 16 | 24 | 32) {
                return Err(Error::KeySizeRange(format!(
                    "AES keys are 16, 24 or 32 bytes, not {len}"
                )));
            }
            crypto::generate_aes_key(len as usize)?
        } else {
            if !SECRET_KEY_BYTES.contains(&len) {
                return Err(Error::KeySizeRange(format!(
                    "generic secret and HMAC keys are {SECRET_KEY_BYTES:?} bytes, not {len}"
                )));
            }
            crypto::generate_secret(len as usize)?
        };
        attrs.set(ck::CKA_VALUE, value.expose().to_vec());
        object::finish_key(&mut attrs, origin);
        let owner = Self::owner(session, &attrs);
        Ok(token.insert_objects(vec![(attrs, owner)])?[0])
    }
}
