//! A token object as a process holds it: attributes plus its parsed keys, cached.

use std::sync::{Arc, OnceLock};

use cryptoki_sys as ck;

use crate::attr::Attributes;
use crate::crypto::{CryptoProvider, SigningKey, VerifyingKey};
use crate::error::Result;
use crate::keys;
use crate::store::ObjectId;

/// A decoded object and its parsed keys, cached so a key is parsed once, not per operation.
#[derive(Debug)]
pub struct ObjectEntry {
    pub id: ObjectId,
    pub handle: u64,
    pub attrs: Attributes,
    /// The session that owns a session object; `None` for token objects.
    pub session: Option<u64>,
    /// The sealed body of a private token object's record, kept so a PIN-only token can
    /// drop the decrypted form at logout and decode it again at the next login.
    pub(super) sealed_record: Option<Vec<u8>>,
    signer: OnceLock<Arc<dyn SigningKey>>,
    verifier: OnceLock<Arc<dyn VerifyingKey>>,
}

impl ObjectEntry {
    pub(super) fn new(
        id: ObjectId,
        handle: u64,
        attrs: Attributes,
        session: Option<u64>,
        sealed_record: Option<Vec<u8>>,
    ) -> Self {
        Self {
            id,
            handle,
            attrs,
            session,
            sealed_record,
            signer: OnceLock::new(),
            verifier: OnceLock::new(),
        }
    }

    pub fn is_private(&self) -> bool {
        self.attrs.bool(ck::CKA_PRIVATE).unwrap_or(true)
    }

    pub fn is_token_object(&self) -> bool {
        self.session.is_none()
    }

    /// The parsed private key, built on first use and then shared.
    pub fn signing_key(&self, provider: &CryptoProvider) -> Result<Arc<dyn SigningKey>> {
        if let Some(key) = self.signer.get() {
            return Ok(key.clone());
        }
        let material = keys::private_material(&self.attrs)?;
        let key = provider.keys.load_private(&material)?;
        Ok(self.signer.get_or_init(|| key).clone())
    }

    /// The parsed public key (of a public key object, or the public half of a private key).
    pub fn verifying_key(&self, provider: &CryptoProvider) -> Result<Arc<dyn VerifyingKey>> {
        if let Some(key) = self.verifier.get() {
            return Ok(key.clone());
        }
        let material = match self.attrs.ulong(ck::CKA_CLASS) {
            Some(ck::CKO_PRIVATE_KEY) => self.signing_key(provider)?.public().clone(),
            _ => keys::public_material(&self.attrs)?,
        };
        let key = provider.keys.load_public(&material)?;
        Ok(self.verifier.get_or_init(|| key).clone())
    }
}
