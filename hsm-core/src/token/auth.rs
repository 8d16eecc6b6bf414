//! Logging in, PINs and activation: who may use a token's keys, and the persistent counters
//! that lock a PIN after too many failures.

use super::meta::{self, PinState, TokenMeta};
use super::{Token, UserType};
use crate::error::{Error, Result};
use crate::kdf::KdfParams;
use crate::quorum::{self, OpenedCard};
use crate::secret::Tmk;
use crate::store::ObjectId;

/// What every PIN operation needs to know of the token, read under one lock.
struct PinContext {
    serial: String,
    params: KdfParams,
    /// A quorum token's TMK comes from its cards, never from a PIN.
    has_quorum: bool,
}

impl Token {
    fn pin_context(&self) -> PinContext {
        let state = self.read();
        PinContext {
            serial: state.meta.serial.clone(),
            params: state.meta.pin_kdf,
            has_quorum: state.meta.quorum.is_some(),
        }
    }

    fn pin_state(&self, user: UserType) -> Result<PinState> {
        self.read().meta.pin(user).cloned()
    }

    /// Changes the metadata in one transaction (after applying other processes' changes).
    fn update_meta(&self, change: impl FnOnce(&mut TokenMeta) -> Result<()>) -> Result<()> {
        self.transact(|state, txn| {
            change(&mut state.meta)?;
            txn.write_meta(&state.meta.encode()?)?;
            Ok(())
        })
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
        self.write_state().set_tmk(tmk)
    }

    /// Activates with a TMK obtained elsewhere (preload); its key-check value must match.
    pub fn activate_with_key(&self, tmk: Tmk) -> Result<()> {
        if self.read().meta.quorum.is_none() {
            return Err(Error::Config(format!(
                "token {:?} has no quorum: its PIN activates it",
                self.label()
            )));
        }
        self.write_state().set_tmk(tmk)
    }

    /// Verifies a PIN (Argon2id outside the lock), counting failures persistently; on
    /// success logs the role in and, on a PIN-only token, unseals the TMK.
    pub fn login(&self, user: UserType, pin: &[u8]) -> Result<()> {
        {
            let state = self.read();
            match state.login {
                Some(current) if current == user => return Err(Error::UserAlreadyLoggedIn),
                Some(_) => return Err(Error::UserAnotherAlreadyLoggedIn),
                None => {}
            }
            if let (UserType::User, Some(record), None) = (user, &state.meta.quorum, &state.tmk) {
                // Refused before the PIN is tried, so waiting for the quorum costs no try.
                return Err(Error::AwaitingQuorum {
                    threshold: record.threshold,
                });
            }
        }
        let pin_state = self.pin_state(user)?;
        if !self.check_pin(user, &pin_state, pin)? {
            return Err(Error::PinIncorrect);
        }
        let context = self.pin_context();
        let tmk = if context.has_quorum {
            None
        } else {
            pin_state.unwrap_tmk(pin, context.params, &context.serial, user)?
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
        if ok && pin_state.failures == 0 {
            return Ok(true);
        }
        self.update_meta(|meta| {
            let current = meta.pin_mut(user)?;
            if current.locked() {
                return Err(Error::PinLocked);
            }
            current.failures = if ok {
                0
            } else {
                current.failures.saturating_add(1)
            };
            Ok(())
        })?;
        Ok(ok)
    }

    /// Re-checks the logged-in user's PIN (`CKU_CONTEXT_SPECIFIC`), counting failures.
    pub fn verify_user_pin(&self, pin: &[u8]) -> Result<()> {
        let user = self.pin_state(UserType::User)?;
        if self.check_pin(UserType::User, &user, pin)? {
            Ok(())
        } else {
            Err(Error::PinIncorrect)
        }
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

    /// `C_InitPIN`: the SO sets the user PIN (and, on a PIN-only token, seals the TMK under it,
    /// which the SO's login unsealed).
    pub fn init_pin(&self, pin: &[u8]) -> Result<()> {
        meta::check_pin_len(pin)?;
        let context = self.pin_context();
        let tmk = if context.has_quorum {
            None
        } else {
            Some(self.read().tmk.clone().ok_or(Error::UserNotLoggedIn)?)
        };
        let user = PinState::new(
            pin,
            context.params,
            &context.serial,
            UserType::User,
            tmk.as_ref(),
        )?;
        self.update_meta(|meta| {
            meta.set_pin(UserType::User, user);
            Ok(())
        })
    }

    /// `C_SetPIN`: changes the PIN of the logged-in role (the user's when nobody is logged in).
    pub fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()> {
        meta::check_pin_len(new)?;
        let user = self.read().login.unwrap_or(UserType::User);
        let current = self.pin_state(user)?;
        if !self.check_pin(user, &current, old)? {
            return Err(Error::PinIncorrect);
        }
        let context = self.pin_context();
        let tmk = if context.has_quorum {
            None
        } else {
            current.unwrap_tmk(old, context.params, &context.serial, user)?
        };
        let replacement = PinState::new(new, context.params, &context.serial, user, tmk.as_ref())?;
        self.update_meta(|meta| {
            meta.set_pin(user, replacement);
            Ok(())
        })
    }

    /// `C_InitToken` on an initialised token: checks the SO PIN, destroys every object and the
    /// user PIN, and relabels. A quorum token keeps its quorum (its cards stay valid); a
    /// PIN-only token gets a fresh TMK.
    pub fn reinitialize(&self, so_pin: &[u8], label: &str) -> Result<()> {
        if label.len() > 32 {
            return Err(Error::LabelTooLong);
        }
        let so = self.pin_state(UserType::So)?;
        if !self.check_pin(UserType::So, &so, so_pin)? {
            return Err(Error::PinIncorrect);
        }
        let context = self.pin_context();
        let fresh_tmk = if context.has_quorum {
            None
        } else {
            Some(Tmk::random().map_err(|_| Error::Rng)?)
        };
        let so = PinState::new(
            so_pin,
            context.params,
            &context.serial,
            UserType::So,
            fresh_tmk.as_ref(),
        )?;
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
}
