//! Sign, verify, digest, wrap and unwrap through sessions. The key is parsed (once, cached on
//! its object) at `*Init`; the crypto itself runs with no lock but the session's own.

use cryptoki_sys as ck;
use zeroize::Zeroize;

use super::{Hsm, lock};
use crate::attr::{Attributes, Template};
use crate::crypto::{self, Digest, SignMechanism};
use crate::error::{Error, Result};
use crate::mechanism::{self, Mechanism};
use crate::object::{self, Origin};
use crate::session::{DigestOp, SignOp, Stage, VerifyOp};
use crate::token::UserType;

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

fn append(data: &mut Vec<u8>, part: &[u8]) -> Result<()> {
    if data.len().saturating_add(part.len()) > MAX_BUFFERED {
        return Err(Error::DataLenRange);
    }
    data.extend_from_slice(part);
    Ok(())
}

impl Hsm {
    /// `C_SignInit`.
    pub fn sign_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let handle = self.session(session)?;
        if lock(&handle).sign.is_some() {
            return Err(Error::OperationActive);
        }
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
        let key = entry.signing_key(token.provider())?;
        let mut session = lock(&handle);
        if session.sign.is_some() {
            return Err(Error::OperationActive);
        }
        session.sign = Some(SignOp {
            key,
            mechanism: sign_mechanism,
            data: Vec::new(),
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
        Ok(op.key.signature_len(&op.mechanism))
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
        Ok(op.key.sign(&op.mechanism, data)?)
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
        if let Err(e) = append(&mut op.data, part) {
            session.sign = None;
            return Err(e);
        }
        Ok(())
    }

    /// `C_SignFinal`.
    pub fn sign_final(&self, session: u64) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .sign
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(op.key.sign(&op.mechanism, &op.data)?)
    }

    /// `C_VerifyInit`: with a public key, or the public half of a private key.
    pub fn verify_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let handle = self.session(session)?;
        if lock(&handle).verify.is_some() {
            return Err(Error::OperationActive);
        }
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
        let key = entry.verifying_key(token.provider())?;
        let mut session = lock(&handle);
        if session.verify.is_some() {
            return Err(Error::OperationActive);
        }
        session.verify = Some(VerifyOp {
            key,
            mechanism: sign_mechanism,
            data: Vec::new(),
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
        Ok(op.key.verify(&op.mechanism, data, signature)?)
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
        if let Err(e) = append(&mut op.data, part) {
            session.verify = None;
            return Err(e);
        }
        Ok(())
    }

    /// `C_VerifyFinal`.
    pub fn verify_final(&self, session: u64, signature: &[u8]) -> Result<()> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .verify
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(op.key.verify(&op.mechanism, &op.data, signature)?)
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

    /// `C_DigestFinal`.
    pub fn digest_final(&self, session: u64) -> Result<Vec<u8>> {
        let handle = self.session(session)?;
        let op = lock(&handle)
            .digest
            .take()
            .ok_or(Error::OperationNotInitialized)?;
        Ok(op.context.finish())
    }

    /// `C_WrapKey` with `CKM_AES_KEY_WRAP(_PAD)`: exports an extractable secret key (for key
    /// backup between tokens); private keys are not wrapped by this token.
    pub fn wrap_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        wrapping: u64,
        key: u64,
    ) -> Result<Vec<u8>> {
        let (_, _, token) = self.session_token(session)?;
        let pad = wrap_padding(mechanism)?;
        let kek = self
            .visible(&token, wrapping)
            .map_err(|_| Error::KeyHandleInvalid(wrapping))?;
        let target = self
            .visible(&token, key)
            .map_err(|_| Error::KeyHandleInvalid(key))?;
        if kek.attrs.ulong(ck::CKA_KEY_TYPE) != Some(ck::CKK_AES)
            || kek.attrs.bool(ck::CKA_WRAP) != Some(true)
        {
            return Err(Error::KeyFunctionNotPermitted(
                "the wrapping key is not an AES key with CKA_WRAP",
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
        let kek_value = kek
            .attrs
            .get(ck::CKA_VALUE)
            .ok_or(Error::KeyHandleInvalid(wrapping))?;
        let value = target
            .attrs
            .get(ck::CKA_VALUE)
            .ok_or(Error::KeyHandleInvalid(key))?;
        Ok(crypto::aes_key_wrap(kek_value, value, pad)?)
    }

    /// `C_UnwrapKey` with `CKM_AES_KEY_WRAP(_PAD)`: imports a wrapped secret key.
    pub fn unwrap_key(
        &self,
        session: u64,
        mechanism: &Mechanism,
        unwrapping: u64,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<u64> {
        let (_, rw, token) = self.session_token(session)?;
        let pad = wrap_padding(mechanism)?;
        let kek = self
            .visible(&token, unwrapping)
            .map_err(|_| Error::KeyHandleInvalid(unwrapping))?;
        if kek.attrs.ulong(ck::CKA_KEY_TYPE) != Some(ck::CKK_AES)
            || kek.attrs.bool(ck::CKA_UNWRAP) != Some(true)
        {
            return Err(Error::KeyFunctionNotPermitted(
                "the unwrapping key is not an AES key with CKA_UNWRAP",
            ));
        }
        let kek_value = kek
            .attrs
            .get(ck::CKA_VALUE)
            .ok_or(Error::KeyHandleInvalid(unwrapping))?;
        let value = crypto::aes_key_unwrap(kek_value, wrapped, pad)?;
        let mut with_value = template.clone();
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

fn wrap_padding(mechanism: &Mechanism) -> Result<bool> {
    match mechanism.mechanism {
        ck::CKM_AES_KEY_WRAP => Ok(false),
        ck::CKM_AES_KEY_WRAP_PAD => Ok(true),
        other => Err(Error::MechanismInvalid(other)),
    }
}

impl Hsm {
    /// `C_SessionCancel`: ends the operations `flags` names (`CKF_SIGN`, `CKF_VERIFY`,
    /// `CKF_DIGEST`, `CKF_FIND_OBJECTS`).
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
        if flags & ck::CKF_FIND_OBJECTS != 0 {
            session.find = None;
        }
        Ok(())
    }
}
