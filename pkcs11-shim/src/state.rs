//! The module's one piece of global state: the HSM opened by `C_Initialize`, with the PID that
//! opened it so a child after `fork` starts uninitialised.

use std::sync::{Arc, PoisonError, RwLock};

use cryptoki_sys as ck;
use hsm_core::{Config, Hsm};

use crate::error::{ShimResult, rv};
use crate::log;

struct Module {
    hsm: Arc<Hsm>,
    pid: u32,
}

static MODULE: RwLock<Option<Module>> = RwLock::new(None);

/// The HSM, or `CKR_CRYPTOKI_NOT_INITIALIZED` (also in a forked child, whose inherited state
/// belongs to its parent).
pub fn hsm() -> ShimResult<Arc<Hsm>> {
    let module = MODULE.read().unwrap_or_else(PoisonError::into_inner);
    match module.as_ref() {
        Some(m) if m.pid == std::process::id() => Ok(m.hsm.clone()),
        _ => rv(ck::CKR_CRYPTOKI_NOT_INITIALIZED),
    }
}

/// Opens the HSM from the configuration; a second call in the same process is
/// `CKR_CRYPTOKI_ALREADY_INITIALIZED`.
pub fn initialize() -> ShimResult {
    let mut module = MODULE.write().unwrap_or_else(PoisonError::into_inner);
    if module.as_ref().is_some_and(|m| m.pid == std::process::id()) {
        return rv(ck::CKR_CRYPTOKI_ALREADY_INITIALIZED);
    }
    let config = Config::load()?;
    log::configure(&config);
    let hsm = Hsm::new(config)?;
    log::info(&format!("initialised: {}", hsm.config().source));
    crate::preload::activate_from_environment(&hsm);
    *module = Some(Module {
        hsm: Arc::new(hsm),
        pid: std::process::id(),
    });
    Ok(())
}

/// Closes every session and forgets every activation and login.
pub fn finalize() -> ShimResult {
    let mut module = MODULE.write().unwrap_or_else(PoisonError::into_inner);
    match module.take() {
        Some(m) if m.pid == std::process::id() => Ok(()),
        _ => rv(ck::CKR_CRYPTOKI_NOT_INITIALIZED),
    }
}
