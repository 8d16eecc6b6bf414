//! [`EmbeddedStore`]: keys on a Strongroom token opened in this process through hsm-core,
//! with no PKCS#11 module in between.

use std::sync::{Arc, Mutex, PoisonError};

use cryptoki_sys as ck;
use hsm_core::Hsm;
use hsm_core::attr::{Template, ulong_bytes};
use hsm_core::mechanism::{CkEddsaParams, Mechanism};

use super::public_key::KeyAttributes;
use super::{
    KeyRef, KeyStore, KeyStoreError, PublicKey, SignMechanism, SigningPath, check_owner,
    checked_mechanism, next_store_id, resolve_public_key,
};
use crate::admin::activation::{KeyAccess, user_session};

/// Handles fetched per `find_next` call.
const FIND_BATCH: usize = 64;

/// A logged-in session on an embedded token. The store owns the session and closes it when
/// dropped.
#[derive(Debug)]
pub struct EmbeddedStore {
    hsm: Arc<Hsm>,
    session: u64,
    token_label: String,
    serial: String,
    id: u64,
    /// A session runs one search and one signature at a time: callers sharing the store take
    /// turns.
    busy: Mutex<()>,
}

impl EmbeddedStore {
    /// Opens the token labelled `token_label` the way `strongroom key` commands do: activates
    /// a quorum token with the officers' cards, opens a session and logs the user in.
    pub fn open(
        hsm: Arc<Hsm>,
        token_label: &str,
        access: &KeyAccess,
    ) -> Result<Self, KeyStoreError> {
        let location = || {
            format!(
                "the embedded token directory {}",
                hsm.config().token_dir.display()
            )
        };
        let tokens = hsm.tokens().map_err(|e| KeyStoreError::Token {
            store: location(),
            operation: "list tokens".into(),
            reason: e.to_string(),
        })?;
        let mut matching = tokens.iter().filter(|t| t.label() == token_label);
        let token = match (matching.next(), matching.count()) {
            (Some(token), 0) => token.clone(),
            (None, _) => {
                return Err(KeyStoreError::TokenNotFound {
                    token: token_label.to_string(),
                    location: location(),
                    present: tokens.iter().map(|t| t.label()).collect(),
                });
            }
            (Some(_), others) => {
                return Err(KeyStoreError::DuplicateToken {
                    token: token_label.to_string(),
                    location: location(),
                    count: others + 1,
                });
            }
        };
        let session = user_session(&hsm, &token, access).map_err(|e| KeyStoreError::Login {
            store: format!("embedded token {token_label:?} (serial {})", token.serial()),
            reason: e.0,
        })?;
        Self::new(hsm, session)
    }

    /// Wraps a session the caller opened and logged in; the store takes it over.
    pub fn new(hsm: Arc<Hsm>, session: u64) -> Result<Self, KeyStoreError> {
        let token = hsm
            .session_info(session)
            .and_then(|info| hsm.slot_token(info.slot))
            .ok()
            .flatten()
            .ok_or_else(|| KeyStoreError::Token {
                store: "embedded HSM".into(),
                operation: "open".into(),
                reason: format!("session {session} is not an open session on a token"),
            })?;
        Ok(Self {
            token_label: token.label(),
            serial: token.serial(),
            hsm,
            session,
            id: next_store_id(),
            busy: Mutex::new(()),
        })
    }

    fn error(&self, operation: &str, e: hsm_core::Error) -> KeyStoreError {
        KeyStoreError::Token {
            store: self.describe(),
            operation: operation.to_string(),
            reason: e.to_string(),
        }
    }

    /// All objects matching `template`; the search always ends, so the session stays usable.
    fn find(&self, template: &Template) -> Result<Vec<u64>, KeyStoreError> {
        let _turn = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        self.hsm
            .find_init(self.session, template)
            .map_err(|e| self.error("C_FindObjectsInit", e))?;
        let mut handles = Vec::new();
        let found = loop {
            match self.hsm.find_next(self.session, FIND_BATCH) {
                Ok(batch) if batch.is_empty() => break Ok(handles),
                Ok(batch) => handles.extend(batch),
                Err(e) => break Err(self.error("C_FindObjects", e)),
            }
        };
        let ended = self
            .hsm
            .find_final(self.session)
            .map_err(|e| self.error("C_FindObjectsFinal", e));
        let handles = found?;
        ended?;
        Ok(handles)
    }

    fn find_keys(
        &self,
        class: ck::CK_OBJECT_CLASS,
        label: Option<&str>,
    ) -> Result<Vec<u64>, KeyStoreError> {
        let mut template: Template = vec![(ck::CKA_CLASS, ulong_bytes(class))];
        if let Some(label) = label {
            template.push((ck::CKA_LABEL, label.as_bytes().to_vec()));
        }
        self.find(&template)
    }

    fn attributes(&self, handle: u64) -> Result<KeyAttributes, KeyStoreError> {
        let types = [
            ck::CKA_KEY_TYPE,
            ck::CKA_MODULUS,
            ck::CKA_PUBLIC_EXPONENT,
            ck::CKA_EC_PARAMS,
            ck::CKA_EC_POINT,
        ];
        let values = self
            .hsm
            .get_attributes(self.session, handle, &types)
            .map_err(|e| self.error("C_GetAttributeValue", e))?;
        let mut values = values.into_iter().map(Result::ok);
        let mut next = || values.next().flatten();
        Ok(KeyAttributes {
            key_type: next().and_then(|b| b.try_into().ok().map(ck::CK_ULONG::from_ne_bytes)),
            modulus: next(),
            public_exponent: next(),
            ec_params: next(),
            ec_point: next(),
        })
    }

    fn public_key_of(&self, label: &str, handle: u64) -> Result<PublicKey, KeyStoreError> {
        let private = self.attributes(handle)?;
        resolve_public_key(label, &|| self.describe(), &private, || {
            self.find_keys(ck::CKO_PUBLIC_KEY, Some(label))?
                .into_iter()
                .map(|h| self.attributes(h))
                .collect()
        })
    }

    fn is_logged_in(&self) -> bool {
        self.hsm.session_info(self.session).is_ok_and(|info| {
            info.state == ck::CKS_RW_USER_FUNCTIONS || info.state == ck::CKS_RO_USER_FUNCTIONS
        })
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Nothing to report to: the session is gone either way.
        let _ = self.hsm.close_session(self.session);
    }
}

fn hsm_mechanism(mechanism: SignMechanism) -> Mechanism {
    match mechanism {
        SignMechanism::RsaX509 => Mechanism::new(ck::CKM_RSA_X_509),
        SignMechanism::Sha256RsaPkcs => Mechanism::new(ck::CKM_SHA256_RSA_PKCS),
        SignMechanism::Sha512RsaPkcs => Mechanism::new(ck::CKM_SHA512_RSA_PKCS),
        SignMechanism::Ecdsa => Mechanism::new(ck::CKM_ECDSA),
        SignMechanism::EcdsaSha256 => Mechanism::new(ck::CKM_ECDSA_SHA256),
        SignMechanism::EcdsaSha384 => Mechanism::new(ck::CKM_ECDSA_SHA384),
        SignMechanism::EddsaEd25519 => Mechanism::new(ck::CKM_EDDSA),
        SignMechanism::EddsaEd448 => Mechanism::eddsa(CkEddsaParams::default()),
    }
}

impl KeyStore for EmbeddedStore {
    fn key(&self, label: &str) -> Result<KeyRef, KeyStoreError> {
        let handles = self.find_keys(ck::CKO_PRIVATE_KEY, Some(label))?;
        let handle = super::only_key(label, &handles, self, self.is_logged_in())?;
        let kind = self.public_key_of(label, handle)?.kind();
        Ok(KeyRef {
            label: label.to_string(),
            kind,
            store: self.id,
            handle,
        })
    }

    fn public_key(&self, key: &KeyRef) -> Result<PublicKey, KeyStoreError> {
        check_owner(key, self.id, || self.describe())?;
        self.public_key_of(&key.label, key.handle)
    }

    fn sign(
        &self,
        key: &KeyRef,
        dnssec_algorithm: u8,
        path: SigningPath,
        input: &[u8],
    ) -> Result<Vec<u8>, KeyStoreError> {
        check_owner(key, self.id, || self.describe())?;
        let mechanism = checked_mechanism(key, dnssec_algorithm, path, input)?;
        let failed = |operation: &str, e: hsm_core::Error| match e {
            hsm_core::Error::MechanismInvalid(_) => KeyStoreError::MechanismNotOffered {
                label: key.label.clone(),
                store: self.describe(),
                mechanism,
                path,
            },
            e => KeyStoreError::Token {
                store: self.describe(),
                operation: format!("{operation} with {mechanism} and key {:?}", key.label),
                reason: e.to_string(),
            },
        };
        let _turn = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        self.hsm
            .sign_init(self.session, &hsm_mechanism(mechanism), key.handle)
            .map_err(|e| failed("C_SignInit", e))?;
        self.hsm
            .sign(self.session, input)
            .map_err(|e| failed("C_Sign", e))
    }

    fn describe(&self) -> String {
        format!(
            "embedded token {:?} (serial {})",
            self.token_label, self.serial
        )
    }

    fn labels(&self) -> Result<Vec<String>, KeyStoreError> {
        self.find_keys(ck::CKO_PRIVATE_KEY, None)?
            .into_iter()
            .map(|handle| {
                let values = self
                    .hsm
                    .get_attributes(self.session, handle, &[ck::CKA_LABEL])
                    .map_err(|e| self.error("C_GetAttributeValue", e))?;
                let label = values
                    .into_iter()
                    .next()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                Ok(String::from_utf8_lossy(&label).into_owned())
            })
            .collect()
    }
}
