//! Sign (including HMAC and CMAC), verify, digest, wrap and unwrap through sessions;
//! encryption and decryption are in [`crypt`], key derivation in [`derive`]. The key is
//! parsed (once, cached on its object) at `*Init`; the crypto itself runs with no lock but the
//! session's own.

use cryptoki_sys as ck;
use zeroize::Zeroize;

use super::{Hsm, lock};
use crate::array_attr;
use crate::attr::{Attributes, Template};
use crate::crypto::{self, Cmac, Digest, Hmac, Mac, RsaCrypt, SignMechanism};
use crate::error::{Error, Result};
use crate::mechanism::{self, CryptMechanism, MacMechanism, Mechanism};
use crate::object::{self, Origin};
use crate::session::{DigestOp, SignKind, SignOp, Stage, VerifyKind, VerifyOp};
use crate::token::{ObjectEntry, Token, UserType};

mod crypt;
mod derive;

/// Upper bound on data buffered for a multi-part sign or verify, so a runaway caller cannot
/// exhaust memory.
const MAX_BUFFERED: usize = 64 * 1024 * 1024;

fn check_key_type(attrs: &Attributes, mechanism: &SignMechanism) -> Result<()> {
    if attrs.ulong(ck::CKA_KEY_TYPE) == Some(mechanism::sign_key_type(mechanism)) {
        Ok(())
    } else {
        Err(Error::KeyTypeInconsistent)
    }
}

/// A MAC keyed by a secret key object with `usage` (CKA_SIGN or CKA_VERIFY) set: HMAC takes
/// a generic secret or the CKK_SHA*_HMAC type of its hash (not AES), CMAC an AES key. Using
/// secret key material needs the user's login, as signing does.
fn mac(
    token: &Token,
    entry: &ObjectEntry,
    mechanism: MacMechanism,
    usage: ck::CK_ATTRIBUTE_TYPE,
) -> Result<Mac> {
    if entry.attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
        return Err(Error::KeyTypeInconsistent);
    }
    let key_type = entry.attrs.ulong(ck::CKA_KEY_TYPE);
    let fits = match mechanism {
        MacMechanism::Hmac(alg) => {
            key_type == Some(ck::CKK_GENERIC_SECRET)
                || key_type == Some(mechanism::hmac_key_type(alg))
        }
        MacMechanism::AesCmac { .. } => key_type == Some(ck::CKK_AES),
    };
    if !fits {
        return Err(Error::KeyTypeInconsistent);
    }
    if token.login_state() != Some(UserType::User) {
        return Err(Error::UserNotLoggedIn);
    }
    if entry.attrs.bool(usage) != Some(true) {
        return Err(Error::KeyFunctionNotPermitted(if usage == ck::CKA_SIGN {
            "CKA_SIGN is false"
        } else {
            "CKA_VERIFY is false"
        }));
    }
    let value = entry
        .attrs
        .get(ck::CKA_VALUE)
        .ok_or_else(|| Error::Corrupt("a secret key without CKA_VALUE".into()))?;
    Ok(match mechanism {
        MacMechanism::Hmac(alg) => Mac::Hmac(Box::new(Hmac::new(alg, value))),
        MacMechanism::AesCmac { tag_len } => Mac::Cmac(Cmac::new(value, tag_len)?),
    })
}

pub(super) fn append(data: &mut Vec<u8>, part: &[u8]) -> Result<()> {
    if data.len().saturating_add(part.len()) > MAX_BUFFERED {
        return Err(Error::DataLenRange);
    }
    data.extend_from_slice(part);
    Ok(())
}

impl Hsm {
    /// `C_SignInit`: a private key, or for HMAC a secret key.
    pub fn sign_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let handle = self.session(session)?;
        if lock(&handle).sign.is_some() {
            return Err(Error::OperationActive);
        }
        let kind = if let Some(mac_mechanism) = mechanism::mac_mechanism(mechanism)? {
            let entry = self
                .visible(&token, key)
                .map_err(|_| Error::KeyHandleInvalid(key))?;
            SignKind::Mac(mac(&token, &entry, mac_mechanism, ck::CKA_SIGN)?)
        } else {
            let sign_mechanism = mechanism::sign_mechanism(mechanism)?;
            let entry = self
                .visible(&token, key)
                .map_err(|_| Error::KeyHandleInvalid(key))?;
            if entry.attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_PRIVATE_KEY) {
                return Err(Error::KeyTypeInconsistent);
            }
            if token.login_state() != Some(UserType::User) {
                return Err(Error::UserNotLoggedIn);
            }
            if entry.attrs.bool(ck::CKA_SIGN) != Some(true) {
                return Err(Error::KeyFunctionNotPermitted("CKA_SIGN is false"));
            }
            check_key_type(&entry.attrs, &sign_mechanism)?;
            SignKind::Key {
                key: entry.signing_key(token.provider())?,
                mechanism: sign_mechanism,
                data: Vec::new(),
            }
        };
        let mut session = lock(&handle);
        if session.sign.is_some() {
            return Err(Error::OperationActive);
        }
        session.sign = Some(SignOp {
            kind,
            stage: Stage::Fresh,
        });
        Ok(())
    }

    /// Length of the signature the active operation will produce (for the size query).
    pub fn sign_len(&self, session: u64) -> Result<usize> {
        let handle = self.session(session)?;
        let session = lock(&handle);
        let op = session
            .sign
            .as_ref()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(match &op.kind {
            SignKind::Key { key, mechanism, .. } => key.signature_len(mechanism),
            SignKind::Mac(mac) => mac.tag_len(),
        })
    }

    /// `C_Sign`: single-part; ends the operation whatever the outcome.
    pub fn sign(&self, session: u64, data: &[u8]) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .sign
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        if op.stage != Stage::Fresh {
            return Err(Error::OperationActive);
        }
        match op.kind {
            SignKind::Key { key, mechanism, .. } => Ok(key.sign(&mechanism, data)?),
            SignKind::Mac(mut mac) => {
                mac.update(data)?;
                Ok(mac.sign()?)
            }
        }
    }

    /// `C_SignUpdate`.
    pub fn sign_update(&self, session: u64, part: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let op = session
            .sign
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        op.stage = Stage::MultiPart;
        let appended = match &mut op.kind {
            SignKind::Key { data, .. } => append(data, part),
            SignKind::Mac(mac) => mac.update(part).map_err(Error::from),
        };
        if appended.is_err() {
            session.sign = None;
        }
        appended
    }

    /// `C_SignFinal`.
    pub fn sign_final(&self, session: u64) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .sign
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        match op.kind {
            SignKind::Key {
                key,
                mechanism,
                data,
            } => Ok(key.sign(&mechanism, &data)?),
            SignKind::Mac(mac) => Ok(mac.sign()?),
        }
    }

    /// `C_VerifyInit`: with a public key, the public half of a private key, or for HMAC a
    /// secret key.
    pub fn verify_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let handle = self.session(session)?;
        if lock(&handle).verify.is_some() {
            return Err(Error::OperationActive);
        }
        let kind = if let Some(mac_mechanism) = mechanism::mac_mechanism(mechanism)? {
            let entry = self
                .visible(&token, key)
                .map_err(|_| Error::KeyHandleInvalid(key))?;
            VerifyKind::Mac(mac(&token, &entry, mac_mechanism, ck::CKA_VERIFY)?)
        } else {
            let sign_mechanism = mechanism::sign_mechanism(mechanism)?;
            let entry = self
                .visible(&token, key)
                .map_err(|_| Error::KeyHandleInvalid(key))?;
            match entry.attrs.ulong(ck::CKA_CLASS) {
                Some(ck::CKO_PUBLIC_KEY) => {
                    if entry.attrs.bool(ck::CKA_VERIFY) != Some(true) {
                        return Err(Error::KeyFunctionNotPermitted("CKA_VERIFY is false"));
                    }
                }
                Some(ck::CKO_PRIVATE_KEY) => {}
                _ => return Err(Error::KeyTypeInconsistent),
            }
            check_key_type(&entry.attrs, &sign_mechanism)?;
            VerifyKind::Key {
                key: entry.verifying_key(token.provider())?,
                mechanism: sign_mechanism,
                data: Vec::new(),
            }
        };
        let mut session = lock(&handle);
        if session.verify.is_some() {
            return Err(Error::OperationActive);
        }
        session.verify = Some(VerifyOp {
            kind,
            stage: Stage::Fresh,
        });
        Ok(())
    }

    /// `C_Verify`: single-part; ends the operation.
    pub fn verify(&self, session: u64, data: &[u8], signature: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .verify
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        if op.stage != Stage::Fresh {
            return Err(Error::OperationActive);
        }
        match op.kind {
            VerifyKind::Key { key, mechanism, .. } => Ok(key.verify(&mechanism, data, signature)?),
            VerifyKind::Mac(mut mac) => {
                mac.update(data)?;
                Ok(mac.verify(signature)?)
            }
        }
    }

    /// `C_VerifyUpdate`.
    pub fn verify_update(&self, session: u64, part: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let op = session
            .verify
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        op.stage = Stage::MultiPart;
        let appended = match &mut op.kind {
            VerifyKind::Key { data, .. } => append(data, part),
            VerifyKind::Mac(mac) => mac.update(part).map_err(Error::from),
        };
        if appended.is_err() {
            session.verify = None;
        }
        appended
    }

    /// `C_VerifyFinal`.
    pub fn verify_final(&self, session: u64, signature: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .verify
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        match op.kind {
            VerifyKind::Key {
                key,
                mechanism,
                data,
            } => Ok(key.verify(&mechanism, &data, signature)?),
            VerifyKind::Mac(mac) => Ok(mac.verify(signature)?),
        }
    }

    /// `C_DigestInit`.
    pub fn digest_init(&self, session: u64, mechanism: &Mechanism) -> Result<()> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        if session.digest.is_some() {
            return Err(Error::OperationActive);
        }
        let alg = mechanism::digest_alg(mechanism.mechanism)?;
        session.digest = Some(DigestOp {
            alg,
            context: Digest::new(alg),
            stage: Stage::Fresh,
        });
        Ok(())
    }

    /// Length of the active digest's output.
    pub fn digest_len(&self, session: u64) -> Result<usize> {
        let handle = self.session(session)?;
        let session = lock(&handle);
        Ok(session
            .digest
            .as_ref()
            .ok_or(Error::OperationNotInitialized)?
            .alg
            .output_len())
    }

    /// `C_Digest`: single-part.
    pub fn digest(&self, session: u64, data: &[u8]) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .digest
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        if op.stage != Stage::Fresh {
            return Err(Error::OperationActive);
        }
        Ok(crypto::digest(op.alg, data))
    }

    /// `C_DigestUpdate`.
    pub fn digest_update(&self, session: u64, part: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let op = session
            .digest
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        op.stage = Stage::MultiPart;
        op.context.update(part);
        Ok(())
    }

    /// `C_DigestKey`: adds a secret key's value to the active digest. The value never leaves
    /// the token, so sensitive keys may be digested too; any error ends the digest.
    pub fn digest_key(&self, session: u64, key: u64) -> Result<()> {
        let handle = self.session(session)?;
        if lock(&handle).digest.is_none() {
            return Err(Error::OperationNotInitialized);
        }
        let entry = self.session_token(session).and_then(|(_, _, token)| {
            let entry = self
                .visible(&token, key)
                .map_err(|_| Error::KeyHandleInvalid(key))?;
            if entry.attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
                return Err(Error::KeyIndigestible);
            }
            if token.login_state() != Some(UserType::User) {
                return Err(Error::UserNotLoggedIn);
            }
            Ok(entry)
        });
        let mut session = lock(&handle);
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                session.digest = None;
                return Err(e);
            }
        };
        let value = entry
            .attrs
            .get(ck::CKA_VALUE)
            .ok_or_else(|| Error::Corrupt("a secret key without CKA_VALUE".into()))?;
        let op = session
            .digest
            .as_mut()
            .ok_or(Error::OperationNotInitialized)?;
        op.stage = Stage::MultiPart;
        op.context.update(value);
        Ok(())
    }

    /// `C_DigestFinal`.
    pub fn digest_final(&self, session: u64) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .digest
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(op.context.finish())
    }

    /// `C_WrapKey` with `CKM_AES_KEY_WRAP(_PAD)`, `CKM_RSA_PKCS_OAEP` or `CKM_RSA_PKCS`: exports an
    /// extractable secret key (for key backup between tokens); private keys are not wrapped
    /// by this token.
    pub fn wrap_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        wrapping: u64,
        key: u64,
    ) -> Result<Vec<u8>> {
        let (_, _, token) = self.session_token(session)?;
        let wrap = wrap_mechanism(mechanism)?;
        let kek = self
            .visible(&token, wrapping)
            .map_err(|_| Error::KeyHandleInvalid(wrapping))?;
        let target = self
            .visible(&token, key)
            .map_err(|_| Error::KeyHandleInvalid(key))?;
        let (class, key_type) = match wrap {
            Wrap::Aes(_) => (ck::CKO_SECRET_KEY, ck::CKK_AES),
            Wrap::Rsa(_) => (ck::CKO_PUBLIC_KEY, ck::CKK_RSA),
        };
        if kek.attrs.ulong(ck::CKA_CLASS) != Some(class)
            || kek.attrs.ulong(ck::CKA_KEY_TYPE) != Some(key_type)
            || kek.attrs.bool(ck::CKA_WRAP) != Some(true)
        {
            return Err(Error::KeyFunctionNotPermitted(
                "the wrapping key is not an AES key (AES key wrap) or an RSA public key (RSA) \
                 with CKA_WRAP",
            ));
        }
        if target.attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
            return Err(Error::KeyFunctionNotPermitted(
                "only secret keys can be wrapped",
            ));
        }
        if target.attrs.bool(ck::CKA_EXTRACTABLE) != Some(true) {
            return Err(Error::KeyFunctionNotPermitted("the key is not extractable"));
        }
        // The wrapping key's CKA_WRAP_TEMPLATE: only keys with all its attributes.
        let wrap_template = array_attr::of(&kek.attrs, ck::CKA_WRAP_TEMPLATE)?;
        if !array_attr::satisfies(&target.attrs, &wrap_template) {
            return Err(Error::KeyNotWrappable(
                "the key does not match the wrapping key's CKA_WRAP_TEMPLATE",
            ));
        }
        let value = target
            .attrs
            .get(ck::CKA_VALUE)
            .ok_or(Error::KeyHandleInvalid(key))?;
        match wrap {
            Wrap::Aes(pad) => {
                let kek_value = kek
                    .attrs
                    .get(ck::CKA_VALUE)
                    .ok_or(Error::KeyHandleInvalid(wrapping))?;
                Ok(crypto::aes_key_wrap(kek_value, value, pad)?)
            }
            Wrap::Rsa(params) => Ok(kek
                .verifying_key(token.provider())?
                .encrypt(&params, value)?),
        }
    }

    /// `C_UnwrapKey` with `CKM_AES_KEY_WRAP(_PAD)`, `CKM_RSA_PKCS_OAEP` or `CKM_RSA_PKCS`:
    /// imports a wrapped secret key.
    pub fn unwrap_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        unwrapping: u64,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<u64> {
        let (_, rw, token) = self.session_token(session)?;
        let wrap = wrap_mechanism(mechanism)?;
        let kek = self
            .visible(&token, unwrapping)
            .map_err(|_| Error::KeyHandleInvalid(unwrapping))?;
        let (class, key_type) = match wrap {
            Wrap::Aes(_) => (ck::CKO_SECRET_KEY, ck::CKK_AES),
            Wrap::Rsa(_) => (ck::CKO_PRIVATE_KEY, ck::CKK_RSA),
        };
        if kek.attrs.ulong(ck::CKA_CLASS) != Some(class)
            || kek.attrs.ulong(ck::CKA_KEY_TYPE) != Some(key_type)
            || kek.attrs.bool(ck::CKA_UNWRAP) != Some(true)
        {
            return Err(Error::KeyFunctionNotPermitted(
                "the unwrapping key is not an AES key (AES key wrap) or an RSA private key (RSA) \
                 with CKA_UNWRAP",
            ));
        }
        // The unwrapping key's CKA_UNWRAP_TEMPLATE first; the caller's may not contradict it.
        let unwrap_template = array_attr::of(&kek.attrs, ck::CKA_UNWRAP_TEMPLATE)?;
        let mut with_value = array_attr::apply(&unwrap_template, template)?;
        let value = match wrap {
            Wrap::Aes(pad) => {
                let kek_value = kek
                    .attrs
                    .get(ck::CKA_VALUE)
                    .ok_or(Error::KeyHandleInvalid(unwrapping))?;
                crypto::aes_key_unwrap(kek_value, wrapped, pad)?
            }
            Wrap::Rsa(params) => {
                if token.login_state() != Some(UserType::User) {
                    return Err(Error::UserNotLoggedIn);
                }
                kek.signing_key(token.provider())?
                    .decrypt(&params, wrapped)
                    .map_err(|e| match e {
                        crypto::CryptoError::EncryptedDataInvalid
                        | crypto::CryptoError::EncryptedDataLenRange => Error::WrappedKeyInvalid,
                        other => Error::Crypto(other),
                    })?
            }
        };
        with_value.push((ck::CKA_VALUE, value.expose().to_vec()));
        let built = object::from_template(&with_value, Origin::Unwrapped, &Attributes::new());
        if let Some((_, value)) = with_value.last_mut() {
            value.zeroize();
        }
        let mut attrs = built?;
        if attrs.ulong(ck::CKA_CLASS) != Some(ck::CKO_SECRET_KEY) {
            return Err(Error::TemplateInconsistent(
                "only secret keys can be unwrapped".into(),
            ));
        }
        if attrs.ulong(ck::CKA_KEY_TYPE) == Some(ck::CKK_AES)
            && !matches!(value.len(), 16 | 24 | 32)
        {
            return Err(Error::WrappedKeyInvalid);
        }
        if attrs.bool(ck::CKA_TOKEN) == Some(true) && !rw {
            return Err(Error::SessionReadOnly);
        }
        if attrs.bool(ck::CKA_PRIVATE) == Some(true) && token.login_state() != Some(UserType::User)
        {
            return Err(Error::UserNotLoggedIn);
        }
        object::finish_key(&mut attrs, Origin::Unwrapped);
        let owner = (attrs.bool(ck::CKA_TOKEN) != Some(true)).then_some(session);
        Ok(token.insert_objects(vec![(attrs, owner)])?[0])
    }
}

/// A key-wrapping mechanism: AES key wrap (padded or not), or RSA-OAEP / RSA PKCS#1 v1.5.
///
/// PKCS#1 v1.5 unwrapping decrypts with implicit rejection: a ciphertext with bad padding
/// yields a pseudo-random "key" whose length is as likely to fit the key type as a real
/// one's, so whether the unwrap succeeds tells an attacker nothing about the padding.
enum Wrap {
    Aes(bool),
    Rsa(RsaCrypt),
}

fn wrap_mechanism(mechanism: &Mechanism) -> Result<Wrap> {
    if matches!(
        mechanism.mechanism,
        ck::CKM_RSA_PKCS_OAEP | ck::CKM_RSA_PKCS
    ) {
        return match mechanism::crypt_mechanism(mechanism)? {
            CryptMechanism::Rsa(params) => Ok(Wrap::Rsa(params)),
            CryptMechanism::Aes(_) => Err(Error::MechanismInvalid(mechanism.mechanism)),
        };
    }
    wrap_padding(mechanism).map(Wrap::Aes)
}

fn wrap_padding(mechanism: &Mechanism) -> Result<bool> {
    match mechanism.mechanism {
        ck::CKM_AES_KEY_WRAP => Ok(false),
        ck::CKM_AES_KEY_WRAP_PAD => Ok(true),
        other => Err(Error::MechanismInvalid(other)),
    }
}

impl Hsm {
    /// `C_SessionCancel`: ends the operations `flags` names (`CKF_SIGN`, `CKF_VERIFY`,
    /// `CKF_DIGEST`, `CKF_ENCRYPT`, `CKF_DECRYPT`, `CKF_FIND_OBJECTS`).
    pub fn cancel_operations(&self, session: u64, flags: ck::CK_FLAGS) -> Result<()> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        if flags & ck::CKF_SIGN != 0 {
            session.sign = None;
        }
        if flags & ck::CKF_VERIFY != 0 {
            session.verify = None;
        }
        if flags & ck::CKF_DIGEST != 0 {
            session.digest = None;
        }
        if flags & ck::CKF_ENCRYPT != 0 {
            session.encrypt = None;
        }
        if flags & ck::CKF_DECRYPT != 0 {
            session.decrypt = None;
        }
        if flags & ck::CKF_FIND_OBJECTS != 0 {
            session.find = None;
        }
        Ok(())
    }
}
