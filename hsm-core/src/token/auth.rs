//! Logging in, PINs and activation: who may use a token's keys, and the persistent counters
//! that lock a PIN after too many failures.

use super::meta::{self, PinState, Role};
use super::{Token, UserType};
use crate::error::{Error, Result};
use crate::kdf::KdfParams;
use crate::quorum::{self, OpenedCard};
use crate::secret::Tmk;
use crate::store::ObjectId;

impl Token {
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
}

pub(super) fn role_of(user: UserType) -> Role {
    match user {
        UserType::So => Role::So,
        UserType::User => Role::User,
    }
}
