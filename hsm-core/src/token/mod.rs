//! One token: its metadata, its objects (token objects from the store, session objects in
//! memory), its login state and its master key while activated.
//!
//! Every public method first brings the in-memory view up to date with the store (other
//! processes may have written), and every write happens inside one store transaction under the
//! token's exclusive lock.

mod auth;
mod entry;
mod index;
pub mod meta;
mod record;
mod state;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cryptoki_sys as ck;

use crate::attr::{AttrType, Attributes};
use crate::crypto::CryptoProvider;
use crate::error::{Error, Result};
use crate::kdf::KdfParams;
use crate::quorum::{self, QuorumRecord};
use crate::secret::{SecretBytes, Tmk};
use crate::store::{Changes, FileStore, ObjectId, SeenState, Storage, Transaction};
use index::Index;
use meta::{PinState, TokenMeta};

pub use entry::ObjectEntry;
pub use meta::{MAX_PIN_FAILURES, MAX_PIN_LEN, MIN_PIN_LEN};
use state::{TokenState, sealed_body};

/// Object handles are unique across all tokens of the process, as SoftHSM's are, so a handle
/// from one slot can never silently address an object in another.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A PKCS#11 user role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserType {
    So,
    User,
}

/// What a new token starts with.
#[derive(Clone, Copy, Debug)]
pub struct NewToken<'a> {
    pub label: &'a str,
    pub so_pin: &'a [u8],
    pub user_pin: Option<&'a [u8]>,
    pub slot_id: u64,
    pub pin_kdf: KdfParams,
    /// `None` makes a PIN-only token.
    pub quorum: Option<NewQuorum<'a>>,
}

/// The quorum of a new token: one PIN per card, in card order.
#[derive(Clone, Copy, Debug)]
pub struct NewQuorum<'a> {
    pub threshold: u8,
    pub card_pins: &'a [SecretBytes],
    pub card_kdf: KdfParams,
}

/// A snapshot of what `C_GetTokenInfo` and `strongroom token list` show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSummary {
    pub label: String,
    pub serial: String,
    pub slot_id: u64,
    pub flags: ck::CK_FLAGS,
    pub quorum: Option<(u8, u8)>,
    pub activated: bool,
    pub objects: usize,
}

/// One token, shared by all sessions of the process.
pub struct Token {
    storage: Box<dyn Storage>,
    provider: &'static CryptoProvider,
    state: RwLock<TokenState>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

fn new_serial() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| Error::Rng)?;
    Ok(hex::encode(bytes))
}

fn new_object_id() -> Result<ObjectId> {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|_| Error::Rng)?;
        let id = u64::from_be_bytes(bytes);
        if id != 0 {
            return Ok(id);
        }
    }
}

impl Token {
    /// Creates a token directory with its first metadata; for a quorum token also returns
    /// the card files (index i is card i+1) for the caller to hand out.
    pub fn create(
        dir: &Path,
        new: &NewToken<'_>,
        provider: &'static CryptoProvider,
    ) -> Result<(Self, Vec<Vec<u8>>)> {
        if new.label.len() > 32 {
            return Err(Error::LabelTooLong);
        }
        let serial = new_serial()?;
        let tmk = Tmk::random().map_err(|_| Error::Rng)?;
        let (cards, quorum) = match &new.quorum {
            Some(q) => {
                let (cards, record) = quorum::write_cards(
                    &tmk,
                    &serial,
                    new.label,
                    1,
                    q.threshold,
                    q.card_pins,
                    q.card_kdf,
                )?;
                (cards, Some(record))
            }
            None => (Vec::new(), None),
        };
        let pin_only_tmk = if quorum.is_none() { Some(&tmk) } else { None };
        let so = PinState::new(new.so_pin, new.pin_kdf, &serial, UserType::So, pin_only_tmk)?;
        let user = match new.user_pin {
            Some(pin) => Some(PinState::new(
                pin,
                new.pin_kdf,
                &serial,
                UserType::User,
                pin_only_tmk,
            )?),
            None => None,
        };
        let meta = TokenMeta {
            format: meta::META_FORMAT,
            serial,
            label: new.label.to_string(),
            slot_id: new.slot_id,
            so,
            user,
            quorum,
            kcv: quorum::key_check_value(&tmk),
            pin_kdf: new.pin_kdf,
        };
        let store = FileStore::create(dir, &meta.encode()?)?;
        let token = Self::open(Box::new(store), provider)?;
        Ok((token, cards))
    }

    /// Opens a token over any store.
    pub fn open(storage: Box<dyn Storage>, provider: &'static CryptoProvider) -> Result<Self> {
        let mut seen = SeenState::default();
        let changes = storage.refresh(&mut seen)?.ok_or_else(|| {
            Error::Corrupt("the token store reported nothing on first load".into())
        })?;
        let meta_bytes = changes
            .meta
            .as_deref()
            .ok_or_else(|| Error::Corrupt("the token has no metadata".into()))?;
        let meta = TokenMeta::decode(meta_bytes)?;
        let mut state = TokenState {
            seen,
            meta,
            objects: HashMap::new(),
            sealed: HashMap::new(),
            handles: HashMap::new(),
            handle_of: HashMap::new(),
            index: Index::default(),
            tmk: None,
            login: None,
        };
        state.apply(Changes {
            meta: None,
            ..changes
        })?;
        Ok(Self {
            storage,
            provider,
            state: RwLock::new(state),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, TokenState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, TokenState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Brings the in-memory view up to date with what other processes wrote.
    pub fn sync(&self) -> Result<()> {
        let mut state = self.write_state();
        let mut seen = std::mem::take(&mut state.seen);
        let changes = self.storage.refresh(&mut seen);
        state.seen = seen;
        if let Some(changes) = changes? {
            state.apply(changes)?;
        }
        Ok(())
    }

    /// Runs `f` inside one store transaction under the token's exclusive lock, after applying
    /// whatever other processes changed; nothing is committed if `f` fails.
    fn transact<R>(
        &self,
        f: impl FnOnce(&mut TokenState, &mut dyn Transaction) -> Result<R>,
    ) -> Result<R> {
        let mut state = self.write_state();
        let mut seen = std::mem::take(&mut state.seen);
        let begun = self.storage.begin(&mut seen);
        state.seen = seen;
        let (mut txn, changes) = begun?;
        if let Some(changes) = changes {
            state.apply(changes)?;
        }
        let result = f(&mut state, txn.as_mut())?;
        txn.commit()?;
        Ok(result)
    }

    pub fn serial(&self) -> String {
        self.read().meta.serial.clone()
    }

    pub fn label(&self) -> String {
        self.read().meta.label.clone()
    }

    pub fn slot_id(&self) -> u64 {
        self.read().meta.slot_id
    }

    pub fn quorum(&self) -> Option<QuorumRecord> {
        self.read().meta.quorum.clone()
    }

    pub fn login_state(&self) -> Option<UserType> {
        self.read().login
    }

    pub fn is_activated(&self) -> bool {
        self.read().tmk.is_some()
    }

    pub fn provider(&self) -> &'static CryptoProvider {
        self.provider
    }

    /// Token flags and identity, as `C_GetTokenInfo` reports them.
    pub fn summary(&self) -> TokenSummary {
        let state = self.read();
        let meta = &state.meta;
        let mut flags = ck::CKF_RNG
            | ck::CKF_LOGIN_REQUIRED
            | ck::CKF_TOKEN_INITIALIZED
            | ck::CKF_RESTORE_KEY_NOT_NEEDED;
        if let Some(user) = &meta.user {
            flags |= ck::CKF_USER_PIN_INITIALIZED;
            flags |= pin_flags(
                user.failures,
                ck::CKF_USER_PIN_COUNT_LOW,
                ck::CKF_USER_PIN_FINAL_TRY,
                ck::CKF_USER_PIN_LOCKED,
            );
        }
        flags |= pin_flags(
            meta.so.failures,
            ck::CKF_SO_PIN_COUNT_LOW,
            ck::CKF_SO_PIN_FINAL_TRY,
            ck::CKF_SO_PIN_LOCKED,
        );
        TokenSummary {
            label: meta.label.clone(),
            serial: meta.serial.clone(),
            slot_id: meta.slot_id,
            flags,
            quorum: meta.quorum.as_ref().map(|q| (q.threshold, q.count)),
            activated: state.tmk.is_some(),
            objects: state
                .objects
                .values()
                .filter(|e| e.is_token_object())
                .count()
                + state.sealed.len(),
        }
    }

    /// Stores new objects — token objects durably, in one transaction so a key pair is
    /// never half there; session objects (with their owning session) in memory — and returns
    /// their handles in order.
    pub fn insert_objects(&self, objects: Vec<(Attributes, Option<u64>)>) -> Result<Vec<u64>> {
        let with_ids = objects
            .into_iter()
            .map(|(mut attrs, session)| {
                let id = new_object_id()?;
                // CKA_UNIQUE_ID (3.0): the object id, which no other object of the token has.
                attrs.set(ck::CKA_UNIQUE_ID, format!("{id:016x}").into_bytes());
                Ok((id, attrs, session))
            })
            .collect::<Result<Vec<_>>>()?;
        if with_ids.iter().all(|(_, _, session)| session.is_some()) {
            let mut state = self.write_state();
            return Ok(with_ids
                .into_iter()
                .map(|(id, attrs, session)| state.insert(id, attrs, session, None))
                .collect());
        }
        self.transact(|state, txn| {
            let serial = state.meta.serial.clone();
            let mut encoded = Vec::with_capacity(with_ids.len());
            for (id, attrs, session) in &with_ids {
                if session.is_none() {
                    let bytes = record::encode(&serial, *id, attrs, state.tmk.as_ref())?;
                    txn.write_object(*id, &bytes)?;
                    encoded.push(Some(sealed_body(*id, &bytes)?));
                } else {
                    encoded.push(None);
                }
            }
            Ok(with_ids
                .into_iter()
                .zip(encoded)
                .map(|((id, attrs, session), sealed)| {
                    state.insert(id, attrs, session, sealed.flatten())
                })
                .collect())
        })
    }

    /// Replaces an object's attributes (after the caller applied the update rules).
    pub fn replace_object(&self, handle: u64, attrs: Attributes) -> Result<()> {
        let entry = self
            .entry(handle)
            .ok_or(Error::ObjectHandleInvalid(handle))?;
        if let Some(session) = entry.session {
            let mut state = self.write_state();
            state.forget(entry.id);
            state.insert_with_handle(entry.id, handle, attrs, Some(session), None);
            return Ok(());
        }
        self.transact(|state, txn| {
            if !state.objects.contains_key(&entry.id) {
                return Err(Error::ObjectHandleInvalid(handle));
            }
            let serial = state.meta.serial.clone();
            let bytes = record::encode(&serial, entry.id, &attrs, state.tmk.as_ref())?;
            txn.write_object(entry.id, &bytes)?;
            let sealed = sealed_body(entry.id, &bytes)?;
            state.forget(entry.id);
            state.insert_with_handle(entry.id, handle, attrs, None, sealed);
            Ok(())
        })
    }

    /// Destroys an object.
    pub fn remove_object(&self, handle: u64) -> Result<()> {
        let entry = self
            .entry(handle)
            .ok_or(Error::ObjectHandleInvalid(handle))?;
        if entry.session.is_some() {
            self.write_state().forget(entry.id);
            return Ok(());
        }
        self.transact(|state, txn| {
            // Another process may have destroyed it since we looked.
            if !state.objects.contains_key(&entry.id) {
                return Err(Error::ObjectHandleInvalid(handle));
            }
            txn.remove_object(entry.id)?;
            state.forget(entry.id);
            Ok(())
        })
    }

    /// Drops the session objects a closing session owned.
    pub fn drop_session_objects(&self, session: u64) {
        let mut state = self.write_state();
        let ids: Vec<ObjectId> = state
            .objects
            .values()
            .filter(|e| e.session == Some(session))
            .map(|e| e.id)
            .collect();
        for id in ids {
            state.forget(id);
        }
    }

    pub fn entry(&self, handle: u64) -> Option<Arc<ObjectEntry>> {
        let state = self.read();
        let id = state.handles.get(&handle)?;
        state.objects.get(id).cloned()
    }

    /// Handles of the objects matching `template`; private objects only when `user_visible`.
    pub fn find(&self, template: &[(AttrType, Vec<u8>)], user_visible: bool) -> Vec<u64> {
        let state = self.read();
        let mut found: Vec<(u64, ObjectId)> = state
            .index
            .candidates(template)
            .into_iter()
            .filter_map(|id| state.objects.get(&id))
            .filter(|e| user_visible || !e.is_private())
            .filter(|e| e.attrs.matches(template))
            .map(|e| (e.handle, e.id))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(h, _)| h).collect()
    }
}

fn pin_flags(
    failures: u32,
    low: ck::CK_FLAGS,
    final_try: ck::CK_FLAGS,
    locked: ck::CK_FLAGS,
) -> ck::CK_FLAGS {
    match failures {
        0 => 0,
        f if f >= MAX_PIN_FAILURES => locked,
        f if f == MAX_PIN_FAILURES - 1 => low | final_try,
        _ => low,
    }
}
