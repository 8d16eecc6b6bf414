//! The token's metadata record: identity, PIN verifiers and failure counters, the quorum
//! record, and — on PIN-only tokens — the TMK sealed under each PIN.

use serde::{Deserialize, Serialize};

use super::UserType;
use crate::aead;
use crate::error::{Error, Result};
use crate::kdf::{self, KdfParams, PinVerifier};
use crate::quorum::QuorumRecord;
use crate::secret::{SecretKey, Tmk};

/// Format version of the metadata record; bumped on any incompatible change.
pub const META_FORMAT: u16 = 1;

/// Failed logins after which a PIN is locked.
pub const MAX_PIN_FAILURES: u32 = 10;

/// PIN length limits reported in the token info and enforced on every PIN change.
pub const MIN_PIN_LEN: usize = 4;
pub const MAX_PIN_LEN: usize = 255;

/// The TMK sealed under a key derived from one PIN (PIN-only tokens only).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WrappedTmk {
    salt: [u8; 16],
    sealed: Vec<u8>,
}

/// One role's PIN: its verifier, its persistent failure counter and, on PIN-only tokens, the
/// TMK it unlocks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PinState {
    pub verifier: PinVerifier,
    pub failures: u32,
    pub wrapped_tmk: Option<WrappedTmk>,
}

/// What `token.meta` holds.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenMeta {
    pub format: u16,
    pub serial: String,
    pub label: String,
    pub slot_id: u64,
    pub so: PinState,
    pub user: Option<PinState>,
    /// `None` on a PIN-only token, whose TMK is sealed under the PINs instead.
    pub quorum: Option<QuorumRecord>,
    /// Key-check value of the TMK, to recognise the right key however it was obtained.
    pub kcv: [u8; 16],
    pub pin_kdf: KdfParams,
}

impl std::fmt::Debug for TokenMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenMeta")
            .field("serial", &self.serial)
            .field("label", &self.label)
            .field("slot_id", &self.slot_id)
            .field("quorum", &self.quorum)
            .finish_non_exhaustive()
    }
}

impl TokenMeta {
    /// The PIN state of a role.
    pub fn pin(&self, user: UserType) -> Result<&PinState> {
        match user {
            UserType::So => Ok(&self.so),
            UserType::User => self.user.as_ref().ok_or(Error::UserPinNotInitialized),
        }
    }

    pub fn pin_mut(&mut self, user: UserType) -> Result<&mut PinState> {
        match user {
            UserType::So => Ok(&mut self.so),
            UserType::User => self.user.as_mut().ok_or(Error::UserPinNotInitialized),
        }
    }

    pub fn set_pin(&mut self, user: UserType, pin: PinState) {
        match user {
            UserType::So => self.so = pin,
            UserType::User => self.user = Some(pin),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        postcard::to_allocvec(self)
            .map_err(|e| Error::Corrupt(format!("cannot encode token metadata: {e}")))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let meta: Self = postcard::from_bytes(bytes)
            .map_err(|e| Error::Corrupt(format!("token metadata does not decode: {e}")))?;
        if meta.format != META_FORMAT {
            return Err(Error::Corrupt(format!(
                "token metadata format {} is not supported (expected {META_FORMAT})",
                meta.format
            )));
        }
        Ok(meta)
    }
}

/// The AAD of a wrapped TMK binds the token and the role, so one PIN's wrap cannot stand in
/// for another's.
fn tmk_aad(serial: &str, role: UserType) -> Vec<u8> {
    let role = match role {
        UserType::So => "so",
        UserType::User => "user",
    };
    format!("strongroom-tmk-v1\0{serial}\0{role}").into_bytes()
}

/// Checks a PIN's length against the token's limits.
pub fn check_pin_len(pin: &[u8]) -> Result<()> {
    if (MIN_PIN_LEN..=MAX_PIN_LEN).contains(&pin.len()) {
        Ok(())
    } else {
        Err(Error::PinLenRange {
            min: MIN_PIN_LEN,
            max: MAX_PIN_LEN,
        })
    }
}

impl PinState {
    /// A fresh PIN state; `tmk` is sealed under the PIN when the token is PIN-only.
    pub fn new(
        pin: &[u8],
        params: KdfParams,
        serial: &str,
        role: UserType,
        tmk: Option<&Tmk>,
    ) -> Result<Self> {
        check_pin_len(pin)?;
        let verifier = PinVerifier::new(pin, params)?;
        let wrapped_tmk = match tmk {
            Some(tmk) => Some(wrap_tmk(pin, params, serial, role, tmk)?),
            None => None,
        };
        Ok(Self {
            verifier,
            failures: 0,
            wrapped_tmk,
        })
    }

    pub fn locked(&self) -> bool {
        self.failures >= MAX_PIN_FAILURES
    }

    /// Unseals the TMK with a PIN already verified.
    pub fn unwrap_tmk(
        &self,
        pin: &[u8],
        params: KdfParams,
        serial: &str,
        role: UserType,
    ) -> Result<Option<Tmk>> {
        let Some(wrapped) = &self.wrapped_tmk else {
            return Ok(None);
        };
        let kek = kdf::derive_key(pin, &wrapped.salt, params)?;
        let plain = aead::open(&kek, &tmk_aad(serial, role), &wrapped.sealed)
            .map_err(|_| Error::Corrupt("the TMK sealed under the PIN does not open".into()))?;
        Tmk::from_slice(plain.expose()).map(Some).ok_or_else(|| {
            Error::Corrupt("the TMK sealed under the PIN has the wrong length".into())
        })
    }
}

fn wrap_tmk(
    pin: &[u8],
    params: KdfParams,
    serial: &str,
    role: UserType,
    tmk: &Tmk,
) -> Result<WrappedTmk> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| Error::Rng)?;
    let kek: SecretKey<32> = kdf::derive_key(pin, &salt, params)?;
    let sealed = aead::seal(&kek, &tmk_aad(serial, role), tmk.expose())
        .map_err(|e| Error::Corrupt(format!("cannot seal the TMK: {e}")))?;
    Ok(WrappedTmk { salt, sealed })
}
