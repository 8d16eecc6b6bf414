//! One token: its metadata, its objects (token objects from the store, session objects in
//! memory), its login state and its master key while activated.
//!
//! Every public method first brings the in-memory view up to date with the store (other
//! processes may have written), and every write happens inside one store transaction under the
//! token's exclusive lock.

mod index;
pub mod meta;
mod record;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cryptoki_sys as ck;

use crate::attr::{AttrType, Attributes};
use crate::crypto::{CryptoProvider, SigningKey, VerifyingKey};
use crate::error::{Error, Result};
use crate::kdf::KdfParams;
use crate::keys;
use crate::quorum::{self, OpenedCard, QuorumRecord};
use crate::secret::{SecretBytes, Tmk};
use crate::store::{Changes, FileStore, ObjectId, SeenState, Storage, Transaction};
use index::Index;
use meta::{PinState, Role, TokenMeta};

pub use meta::{MAX_PIN_FAILURES, MAX_PIN_LEN, MIN_PIN_LEN};

/// Object handles are unique across all tokens of the process, as SoftHSM's are, so a handle
/// from one slot can never silently address an object in another.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A PKCS#11 user role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserType {
    So,
    User,
}

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
    sealed_record: Option<Vec<u8>>,
    signer: OnceLock<Arc<dyn SigningKey>>,
    verifier: OnceLock<Arc<dyn VerifyingKey>>,
}

impl ObjectEntry {
    fn new(
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

struct TokenState {
    seen: SeenState,
    meta: TokenMeta,
    objects: HashMap<ObjectId, Arc<ObjectEntry>>,
    /// Private token objects read while the TMK was absent, decoded once it arrives.
    sealed: HashMap<ObjectId, Vec<u8>>,
    handles: HashMap<u64, ObjectId>,
    /// Handles stay stable when an object is reloaded after another process changed it.
    handle_of: HashMap<ObjectId, u64>,
    index: Index,
    tmk: Option<Tmk>,
    login: Option<UserType>,
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
        let so = PinState::new(new.so_pin, new.pin_kdf, &serial, Role::So, pin_only_tmk)?;
        let user = match new.user_pin {
            Some(pin) => Some(PinState::new(
                pin,
                new.pin_kdf,
                &serial,
                Role::User,
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

    /// Rebuilds the TMK from a quorum of opened cards; private objects become readable.
    pub fn activate(&self, cards: &[OpenedCard]) -> Result<()> {
        let (serial, record) = {
            let state = self.read();
            let record = state.meta.quorum.clone().ok_or_else(|| {
                Error::Config(format!(
                    "token {:?} has no quorum: its PIN activates it",
                    state.meta.label
                ))
            })?;
            (state.meta.serial.clone(), record)
        };
        let tmk = quorum::reconstruct(&serial, &record, cards)?;
        let mut state = self.write_state();
        state.set_tmk(tmk)
    }

    /// Verifies a PIN (Argon2id outside the lock), counting failures persistently; on
    /// success logs the role in and, on a PIN-only token, unseals the TMK.
    pub fn login(&self, user: UserType, pin: &[u8]) -> Result<()> {
        let (pin_state, serial, params, has_quorum) = {
            let state = self.read();
            if state.login.is_some() {
                return Err(if state.login == Some(user) {
                    Error::UserAlreadyLoggedIn
                } else {
                    Error::UserAnotherAlreadyLoggedIn
                });
            }
            let pin_state = match user {
                UserType::So => state.meta.so.clone(),
                UserType::User => state
                    .meta
                    .user
                    .clone()
                    .ok_or(Error::UserPinNotInitialized)?,
            };
            if user == UserType::User && state.meta.quorum.is_some() && state.tmk.is_none() {
                let threshold = state.meta.quorum.as_ref().map_or(0, |q| q.threshold);
                return Err(Error::AwaitingQuorum { threshold });
            }
            (
                pin_state,
                state.meta.serial.clone(),
                state.meta.pin_kdf,
                state.meta.quorum.is_some(),
            )
        };
        let ok = self.check_pin(user, &pin_state, pin)?;
        if !ok {
            return Err(Error::PinIncorrect);
        }
        let role = role_of(user);
        let tmk = if has_quorum {
            None
        } else {
            pin_state.unwrap_tmk(pin, params, &serial, role)?
        };
        let mut state = self.write_state();
        if let Some(tmk) = tmk {
            state.set_tmk(tmk)?;
        }
        state.login = Some(user);
        Ok(())
    }

    /// Checks `pin` against `pin_state`, persisting the failure counter; `Ok(false)` for a
    /// wrong PIN, `Err(PinLocked)` once the counter has reached its limit.
    fn check_pin(&self, user: UserType, pin_state: &PinState, pin: &[u8]) -> Result<bool> {
        if pin_state.locked() {
            return Err(Error::PinLocked);
        }
        let ok = pin_state.verifier.verify(pin)?;
        let failures_before = pin_state.failures;
        if ok && failures_before == 0 {
            return Ok(true);
        }
        self.transact(|state, txn| {
            let current = match user {
                UserType::So => &mut state.meta.so,
                UserType::User => state
                    .meta
                    .user
                    .as_mut()
                    .ok_or(Error::UserPinNotInitialized)?,
            };
            if current.locked() {
                return Err(Error::PinLocked);
            }
            current.failures = if ok {
                0
            } else {
                current.failures.saturating_add(1)
            };
            txn.write_meta(&state.meta.encode()?)?;
            Ok(())
        })?;
        Ok(ok)
    }

    /// Logs out; a PIN-only token forgets its TMK, as its PIN was its only activation.
    pub fn logout(&self) -> Result<()> {
        let mut state = self.write_state();
        if state.login.take().is_none() {
            return Err(Error::UserNotLoggedIn);
        }
        if state.meta.quorum.is_none() {
            state.drop_tmk();
        }
        Ok(())
    }

    /// `C_InitPIN`: the SO sets the user PIN (and, on a PIN-only token, seals the TMK under it).
    pub fn init_pin(&self, pin: &[u8]) -> Result<()> {
        meta::check_pin_len(pin)?;
        let (serial, params, tmk) = self.pin_change_inputs()?;
        let user = PinState::new(pin, params, &serial, Role::User, tmk.as_ref())?;
        self.transact(|state, txn| {
            state.meta.user = Some(user);
            txn.write_meta(&state.meta.encode()?)?;
            Ok(())
        })
    }

    /// `C_SetPIN`: changes the PIN of the logged-in role (the user's when nobody is logged in).
    pub fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()> {
        meta::check_pin_len(new)?;
        let user = self.read().login.unwrap_or(UserType::User);
        let current = {
            let state = self.read();
            match user {
                UserType::So => state.meta.so.clone(),
                UserType::User => state
                    .meta
                    .user
                    .clone()
                    .ok_or(Error::UserPinNotInitialized)?,
            }
        };
        if !self.check_pin(user, &current, old)? {
            return Err(Error::PinIncorrect);
        }
        let (serial, params, has_quorum) = {
            let state = self.read();
            (
                state.meta.serial.clone(),
                state.meta.pin_kdf,
                state.meta.quorum.is_some(),
            )
        };
        let role = role_of(user);
        let tmk = if has_quorum {
            None
        } else {
            current.unwrap_tmk(old, params, &serial, role)?
        };
        let replacement = PinState::new(new, params, &serial, role, tmk.as_ref())?;
        self.transact(|state, txn| {
            match user {
                UserType::So => state.meta.so = replacement,
                UserType::User => state.meta.user = Some(replacement),
            }
            txn.write_meta(&state.meta.encode()?)?;
            Ok(())
        })
    }

    fn pin_change_inputs(&self) -> Result<(String, KdfParams, Option<Tmk>)> {
        let state = self.read();
        let tmk = if state.meta.quorum.is_none() {
            Some(state.tmk.clone().ok_or(Error::UserNotLoggedIn)?)
        } else {
            None
        };
        Ok((state.meta.serial.clone(), state.meta.pin_kdf, tmk))
    }

    /// `C_InitToken` on an initialised token: checks the SO PIN, destroys every object and the
    /// user PIN, and relabels. A quorum token keeps its quorum (its cards stay valid); a
    /// PIN-only token gets a fresh TMK.
    pub fn reinitialize(&self, so_pin: &[u8], label: &str) -> Result<()> {
        if label.len() > 32 {
            return Err(Error::LabelTooLong);
        }
        let so = self.read().meta.so.clone();
        if !self.check_pin(UserType::So, &so, so_pin)? {
            return Err(Error::PinIncorrect);
        }
        let (serial, params, has_quorum) = {
            let state = self.read();
            (
                state.meta.serial.clone(),
                state.meta.pin_kdf,
                state.meta.quorum.is_some(),
            )
        };
        let fresh_tmk = if has_quorum {
            None
        } else {
            Some(Tmk::random().map_err(|_| Error::Rng)?)
        };
        let so = PinState::new(so_pin, params, &serial, Role::So, fresh_tmk.as_ref())?;
        self.transact(|state, txn| {
            let ids: Vec<ObjectId> = state
                .objects
                .keys()
                .chain(state.sealed.keys())
                .copied()
                .collect();
            for id in ids {
                let is_token = state.objects.get(&id).is_none_or(|e| e.is_token_object());
                if is_token {
                    txn.remove_object(id)?;
                }
                state.forget(id);
            }
            state.meta.label = label.to_string();
            state.meta.user = None;
            state.meta.so = so;
            if let Some(tmk) = &fresh_tmk {
                state.meta.kcv = quorum::key_check_value(tmk);
                state.drop_tmk();
            }
            state.login = None;
            txn.write_meta(&state.meta.encode()?)?;
            Ok(())
        })
    }

    /// Stores new objects — token objects durably, in one transaction so a key pair is
    /// never half there; session objects (with their owning session) in memory — and returns
    /// their handles in order.
    pub fn insert_objects(&self, objects: Vec<(Attributes, Option<u64>)>) -> Result<Vec<u64>> {
        let with_ids = objects
            .into_iter()
            .map(|(attrs, session)| Ok((new_object_id()?, attrs, session)))
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

    /// Re-checks the logged-in user's PIN (`CKU_CONTEXT_SPECIFIC`), counting failures.
    pub fn verify_user_pin(&self, pin: &[u8]) -> Result<()> {
        let user = self
            .read()
            .meta
            .user
            .clone()
            .ok_or(Error::UserPinNotInitialized)?;
        if self.check_pin(UserType::User, &user, pin)? {
            Ok(())
        } else {
            Err(Error::PinIncorrect)
        }
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

/// The sealed body of an encoded record, `None` for a record in the clear.
fn sealed_body(id: ObjectId, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(match record::decode(id, bytes)? {
        record::Decoded::Sealed(body) => Some(body),
        record::Decoded::Clear(_) => None,
    })
}

fn role_of(user: UserType) -> Role {
    match user {
        UserType::So => Role::So,
        UserType::User => Role::User,
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

impl TokenState {
    fn apply(&mut self, changes: Changes) -> Result<()> {
        if let Some(bytes) = changes.meta {
            let meta = TokenMeta::decode(&bytes)?;
            if meta.kcv != self.meta.kcv {
                // Re-initialised elsewhere with a fresh master key: ours no longer fits.
                self.drop_tmk();
                self.login = None;
            }
            self.meta = meta;
        }
        for id in changes.removed {
            self.forget(id);
        }
        for (id, bytes) in changes.upserted {
            let handle = self.handle_of.get(&id).copied();
            self.forget(id);
            match record::decode(id, &bytes)? {
                record::Decoded::Clear(attrs) => {
                    let handle =
                        handle.unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
                    self.insert_with_handle(id, handle, attrs, None, None);
                }
                record::Decoded::Sealed(sealed) => match &self.tmk {
                    Some(tmk) => {
                        let attrs = record::unseal(&self.meta.serial, id, &sealed, tmk)?;
                        let handle =
                            handle.unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
                        self.insert_with_handle(id, handle, attrs, None, Some(sealed));
                    }
                    None => {
                        self.sealed.insert(id, sealed);
                    }
                },
            }
        }
        Ok(())
    }

    fn set_tmk(&mut self, tmk: Tmk) -> Result<()> {
        if quorum::key_check_value(&tmk) != self.meta.kcv {
            return Err(Error::Quorum(quorum::QuorumError::KcvMismatch));
        }
        let sealed = std::mem::take(&mut self.sealed);
        for (id, bytes) in sealed {
            let attrs = record::unseal(&self.meta.serial, id, &bytes, &tmk)?;
            let handle = self
                .handle_of
                .get(&id)
                .copied()
                .unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
            self.insert_with_handle(id, handle, attrs, None, Some(bytes));
        }
        self.tmk = Some(tmk);
        Ok(())
    }

    fn drop_tmk(&mut self) {
        self.tmk = None;
        let sealed: Vec<(ObjectId, Vec<u8>)> = self
            .objects
            .values()
            .filter_map(|e| e.sealed_record.clone().map(|r| (e.id, r)))
            .collect();
        for (id, record) in sealed {
            let handle = self.handle_of.get(&id).copied();
            self.forget(id);
            if let Some(handle) = handle {
                self.handle_of.insert(id, handle);
            }
            self.sealed.insert(id, record);
        }
    }

    fn insert(
        &mut self,
        id: ObjectId,
        attrs: Attributes,
        session: Option<u64>,
        sealed: Option<Vec<u8>>,
    ) -> u64 {
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.insert_with_handle(id, handle, attrs, session, sealed);
        handle
    }

    fn insert_with_handle(
        &mut self,
        id: ObjectId,
        handle: u64,
        attrs: Attributes,
        session: Option<u64>,
        sealed: Option<Vec<u8>>,
    ) {
        self.index.insert(id, &attrs);
        self.handles.insert(handle, id);
        self.handle_of.insert(id, handle);
        self.objects.insert(
            id,
            Arc::new(ObjectEntry::new(id, handle, attrs, session, sealed)),
        );
    }

    /// Removes every trace of an object from memory (not from disk).
    fn forget(&mut self, id: ObjectId) {
        self.sealed.remove(&id);
        if let Some(entry) = self.objects.remove(&id) {
            self.index.remove(id, &entry.attrs);
            self.handles.remove(&entry.handle);
        }
        self.handle_of.remove(&id);
    }
}
