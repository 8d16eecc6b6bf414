//! [`Hsm`]: the whole HSM as one process sees it — slots, tokens, sessions — with the
//! PKCS#11 semantics the module and the CLI both rely on.
//!
//! Locking: the slot table and the session table each have a lock held only for lookups;
//! each session has its own mutex; a token's state lock is held for bookkeeping and store I/O
//! but never across signing, key generation or Argon2.

mod activation;
mod crypto_ops;
pub mod dialog;
mod objects;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use cryptoki_sys as ck;

use crate::config::{Config, Pkcs11Version};
use crate::crypto::{self, CryptoProvider};
use crate::error::{Error, Result};
use crate::quorum::OpenedCard;
use crate::session::Session;
use crate::store;
use crate::token::{NewQuorum, NewToken, Token, TokenSummary, UserType};

pub use crate::token::{MAX_PIN_LEN, MIN_PIN_LEN};

/// What `C_GetTokenInfo` needs beyond the token's own summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub summary: TokenSummary,
    /// "no quorum" or "quorum M of N", as the model string tells operators plainly.
    pub model: String,
    pub session_count: usize,
    pub rw_session_count: usize,
}

/// `C_GetSessionInfo` without the C layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub slot: u64,
    pub state: ck::CK_STATE,
    pub flags: ck::CK_FLAGS,
}

#[derive(Debug, Default)]
struct Slots {
    tokens: BTreeMap<u64, Arc<Token>>,
    dirs: HashMap<PathBuf, u64>,
}

/// The HSM of one process.
pub struct Hsm {
    config: Config,
    provider: &'static CryptoProvider,
    slots: RwLock<Slots>,
    sessions: RwLock<HashMap<u64, Arc<Mutex<Session>>>>,
    next_session: AtomicU64,
}

impl std::fmt::Debug for Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hsm")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hsm {
    /// Opens the HSM over the configured token directory (created if missing).
    pub fn new(config: Config) -> Result<Self> {
        Self::with_provider(config, crypto::default_provider())
    }

    pub fn with_provider(config: Config, provider: &'static CryptoProvider) -> Result<Self> {
        std::fs::create_dir_all(&config.token_dir).map_err(|e| {
            Error::Config(format!(
                "cannot create token directory {}: {e}",
                config.token_dir.display()
            ))
        })?;
        let hsm = Self {
            config,
            provider,
            slots: RwLock::new(Slots::default()),
            sessions: RwLock::new(HashMap::new()),
            next_session: AtomicU64::new(1),
        };
        hsm.rescan()?;
        Ok(hsm)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True when configured to present PKCS#11 2.40 (no 3.0-only attributes).
    pub fn presents_2_40(&self) -> bool {
        self.config.pkcs11_version == Pkcs11Version::V2_40
    }

    pub fn provider(&self) -> &'static CryptoProvider {
        self.provider
    }

    /// Picks up tokens other processes created since the last look.
    fn rescan(&self) -> Result<()> {
        let dirs = store::list_token_dirs(&self.config.token_dir)?;
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        for dir in dirs {
            if slots.dirs.contains_key(&dir) {
                continue;
            }
            let storage = store::FileStore::open(&dir)?;
            let token = Token::open(Box::new(storage), self.provider)?;
            let slot = token.slot_id();
            slots.dirs.insert(dir, slot);
            slots.tokens.insert(slot, Arc::new(token));
        }
        Ok(())
    }

    /// The slot that holds no token yet: the smallest number no token uses.
    fn free_slot(slots: &Slots) -> u64 {
        (0..)
            .find(|n| !slots.tokens.contains_key(n))
            .unwrap_or(u64::MAX)
    }

    /// Every slot: one per token plus the free slot, in slot order.
    pub fn slot_list(&self) -> Result<Vec<u64>> {
        self.rescan()?;
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        let mut list: Vec<u64> = slots.tokens.keys().copied().collect();
        list.push(Self::free_slot(&slots));
        list.sort_unstable();
        Ok(list)
    }

    /// The token in `slot`: `Ok(None)` for the free slot, an error for a slot that is neither.
    pub fn slot_token(&self, slot: u64) -> Result<Option<Arc<Token>>> {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = slots.tokens.get(&slot) {
            return Ok(Some(token.clone()));
        }
        if slot == Self::free_slot(&slots) {
            Ok(None)
        } else {
            Err(Error::SlotInvalid(slot))
        }
    }

    fn token(&self, slot: u64) -> Result<Arc<Token>> {
        self.slot_token(slot)?
            .ok_or(Error::TokenNotRecognized(slot))
    }

    /// The token with this label (the first in slot order if several share it).
    pub fn token_by_label(&self, label: &str) -> Result<Arc<Token>> {
        self.rescan()?;
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots
            .tokens
            .values()
            .find(|t| t.label() == label)
            .cloned()
            .ok_or_else(|| Error::TokenNotFound(label.to_string()))
    }

    /// All tokens, in slot order.
    pub fn tokens(&self) -> Result<Vec<Arc<Token>>> {
        self.rescan()?;
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        Ok(slots.tokens.values().cloned().collect())
    }

    pub fn token_info(&self, slot: u64) -> Result<TokenInfo> {
        let token = self.token(slot)?;
        token.sync()?;
        let mut summary = token.summary();
        if self.protected_path(&token) {
            summary.flags |= ck::CKF_PROTECTED_AUTHENTICATION_PATH;
        }
        let model = match summary.quorum {
            Some((m, n)) => format!("quorum {m} of {n}"),
            None => "no quorum".to_string(),
        };
        let sessions: Vec<(u64, bool)> = self.session_snapshot();
        let in_slot = sessions.iter().filter(|(s, _)| *s == slot);
        let session_count = in_slot.clone().count();
        let rw_session_count = in_slot.filter(|(_, rw)| *rw).count();
        Ok(TokenInfo {
            summary,
            model,
            session_count,
            rw_session_count,
        })
    }

    fn session_snapshot(&self) -> Vec<(u64, bool)> {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        sessions
            .values()
            .map(|s| {
                let s = lock(s);
                (s.slot, s.read_write)
            })
            .collect()
    }

    /// Creates a token in the free slot (or re-initialises the token in `slot`), as
    /// `C_InitToken` does: PIN-only, its TMK sealed under the SO PIN.
    pub fn init_token(&self, slot: u64, so_pin: &[u8], label: &str) -> Result<()> {
        match self.slot_token(slot)? {
            Some(token) => {
                if self.session_snapshot().iter().any(|(s, _)| *s == slot) {
                    return Err(Error::SessionExists);
                }
                token.reinitialize(so_pin, label)
            }
            None => {
                let new = NewToken {
                    label,
                    so_pin,
                    user_pin: None,
                    slot_id: slot,
                    pin_kdf: self.config.pin_kdf,
                    quorum: None,
                };
                self.create_token(&new).map(|_| ())
            }
        }
    }

    /// Creates a new token (with its quorum cards when `new.quorum` is set) in the slot
    /// `new.slot_id` names, or the free slot if that one is taken; returns its slot and cards.
    pub fn create_token(&self, new: &NewToken<'_>) -> Result<(u64, Vec<Vec<u8>>)> {
        let _root = store::lock_root(&self.config.token_dir)?;
        self.rescan()?;
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        let slot = if slots.tokens.contains_key(&new.slot_id) {
            Self::free_slot(&slots)
        } else {
            new.slot_id
        };
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).map_err(|_| Error::Rng)?;
        let dir = self.config.token_dir.join(hex::encode(name));
        let new = NewToken {
            slot_id: slot,
            ..*new
        };
        let (token, cards) = Token::create(&dir, &new, self.provider)?;
        slots.dirs.insert(dir, slot);
        slots.tokens.insert(slot, Arc::new(token));
        Ok((slot, cards))
    }

    /// Creates a quorum token the way `strongroom token init` does.
    pub fn create_quorum_token(
        &self,
        label: &str,
        so_pin: &[u8],
        user_pin: &[u8],
        quorum: NewQuorum<'_>,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        let slot = {
            let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
            Self::free_slot(&slots)
        };
        let new = NewToken {
            label,
            so_pin,
            user_pin: Some(user_pin),
            slot_id: slot,
            pin_kdf: self.config.pin_kdf,
            quorum: Some(quorum),
        };
        self.create_token(&new)
    }

    /// Activates a quorum token with opened cards.
    pub fn activate(&self, slot: u64, cards: &[OpenedCard]) -> Result<()> {
        self.token(slot)?.activate(cards)
    }

    pub fn open_session(&self, slot: u64, read_write: bool) -> Result<u64> {
        let token = self.token(slot)?;
        if !read_write && token.login_state() == Some(UserType::So) {
            return Err(Error::SessionReadWriteSoExists);
        }
        let handle = self.next_session.fetch_add(1, Ordering::Relaxed);
        let session = Session::new(handle, slot, read_write);
        let mut sessions = self
            .sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        sessions.insert(handle, Arc::new(Mutex::new(session)));
        Ok(handle)
    }

    fn session(&self, handle: u64) -> Result<Arc<Mutex<Session>>> {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(&handle)
            .cloned()
            .ok_or(Error::SessionHandleInvalid(handle))
    }

    /// The session's slot, read-write flag and token.
    fn session_token(&self, handle: u64) -> Result<(u64, bool, Arc<Token>)> {
        let session = self.session(handle)?;
        let (slot, rw) = {
            let s = lock(&session);
            (s.slot, s.read_write)
        };
        Ok((slot, rw, self.token(slot)?))
    }

    pub fn close_session(&self, handle: u64) -> Result<()> {
        let (slot, _, token) = self.session_token(handle)?;
        let removed = {
            let mut sessions = self
                .sessions
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            sessions.remove(&handle)
        };
        if removed.is_none() {
            return Err(Error::SessionHandleInvalid(handle));
        }
        token.drop_session_objects(handle);
        // The last session closing logs the token out, as the spec says.
        if !self.session_snapshot().iter().any(|(s, _)| *s == slot) && token.login_state().is_some()
        {
            token.logout()?;
        }
        Ok(())
    }

    pub fn close_all_sessions(&self, slot: u64) -> Result<()> {
        let token = self.token(slot)?;
        let closing: Vec<u64> = {
            let mut sessions = self
                .sessions
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let handles: Vec<u64> = sessions
                .iter()
                .filter(|(_, s)| lock(s).slot == slot)
                .map(|(h, _)| *h)
                .collect();
            for h in &handles {
                sessions.remove(h);
            }
            handles
        };
        for handle in closing {
            token.drop_session_objects(handle);
        }
        if token.login_state().is_some() {
            token.logout()?;
        }
        Ok(())
    }

    pub fn session_info(&self, handle: u64) -> Result<SessionInfo> {
        let (slot, rw, token) = self.session_token(handle)?;
        let state = match (token.login_state(), rw) {
            (None, false) => ck::CKS_RO_PUBLIC_SESSION,
            (None, true) => ck::CKS_RW_PUBLIC_SESSION,
            (Some(UserType::User), false) => ck::CKS_RO_USER_FUNCTIONS,
            (Some(UserType::User), true) => ck::CKS_RW_USER_FUNCTIONS,
            (Some(UserType::So), _) => ck::CKS_RW_SO_FUNCTIONS,
        };
        let mut flags = ck::CKF_SERIAL_SESSION;
        if rw {
            flags |= ck::CKF_RW_SESSION;
        }
        Ok(SessionInfo { slot, state, flags })
    }

    /// `C_Login` for the SO or the user (`CKU_CONTEXT_SPECIFIC` re-checks the user's PIN).
    pub fn login(&self, handle: u64, user_type: ck::CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        let (slot, _, token) = self.session_token(handle)?;
        token.sync()?;
        let user = match user_type {
            ck::CKU_SO => UserType::So,
            ck::CKU_USER => UserType::User,
            ck::CKU_CONTEXT_SPECIFIC => {
                return match token.login_state() {
                    Some(UserType::User) => token.verify_user_pin(pin),
                    _ => Err(Error::UserNotLoggedIn),
                };
            }
            other => return Err(Error::UserTypeInvalid(other)),
        };
        if user == UserType::So
            && self
                .session_snapshot()
                .iter()
                .any(|(s, rw)| *s == slot && !rw)
        {
            return Err(Error::SessionReadOnlyExists);
        }
        if user == UserType::User {
            self.activate_unattended(&token)?;
        }
        token.login(user, pin)
    }

    pub fn logout(&self, handle: u64) -> Result<()> {
        let (_, _, token) = self.session_token(handle)?;
        token.logout()
    }

    pub fn init_pin(&self, handle: u64, pin: &[u8]) -> Result<()> {
        let (_, rw, token) = self.session_token(handle)?;
        if token.login_state() != Some(UserType::So) {
            return Err(Error::UserNotLoggedIn);
        }
        if !rw {
            return Err(Error::SessionReadOnly);
        }
        token.init_pin(pin)
    }

    pub fn set_pin(&self, handle: u64, old: &[u8], new: &[u8]) -> Result<()> {
        let (_, rw, token) = self.session_token(handle)?;
        if !rw {
            return Err(Error::SessionReadOnly);
        }
        token.set_pin(old, new)
    }

    /// `C_SeedRandom`: mixes the caller's seed into the kernel's pool (writing to
    /// /dev/urandom adds to it without crediting entropy), the generator every key comes from.
    pub fn seed_random(&self, handle: u64, seed: &[u8]) -> Result<()> {
        use std::io::Write;
        self.session(handle)?;
        let mut urandom = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/urandom")
            .map_err(|_| Error::Rng)?;
        urandom.write_all(seed).map_err(|_| Error::Rng)
    }

    /// Random bytes from the OS generator, as `C_GenerateRandom` returns them.
    pub fn generate_random(&self, handle: u64, len: usize) -> Result<Vec<u8>> {
        self.session(handle)?;
        let mut bytes = vec![0u8; len];
        crypto::random_bytes(&mut bytes)?;
        Ok(bytes)
    }
}
