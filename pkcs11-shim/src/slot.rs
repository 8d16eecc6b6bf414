//! Slot and token management: slots, token and mechanism info, `C_InitToken`, PINs.

use std::ffi::c_void;

use cryptoki_sys as ck;
use hsm_core::hsm::{MAX_PIN_LEN, MIN_PIN_LEN};
use hsm_core::mechanism;

use crate::cryptoki_fn;
use crate::error::rv;
use crate::ffi;
use crate::identity;

cryptoki_fn! {
    /// `C_GetSlotList`: every slot has a token present (the free slot's is uninitialised).
    fn C_GetSlotList(_token_present: ck::CK_BBOOL, list: *mut ck::CK_SLOT_ID, count: *mut ck::CK_ULONG) |hsm| {
        let slots = hsm.slot_list()?;
        // SAFETY: `list`/`count` follow this function's two-call convention.
        unsafe { ffi::list_output(list, count, &slots) }
    }
}

cryptoki_fn! {
    /// `C_GetSlotInfo`.
    fn C_GetSlotInfo(slot: ck::CK_SLOT_ID, out: *mut ck::CK_SLOT_INFO) |hsm| {
        hsm.slot_token(slot)?;
        let info = ck::CK_SLOT_INFO {
            slotDescription: ffi::padded(&format!("Strongroom slot {slot}")),
            manufacturerID: ffi::padded(identity::current().slot_manufacturer),
            flags: ck::CKF_TOKEN_PRESENT,
            hardwareVersion: identity::current().hardware_version,
            firmwareVersion: identity::current().hardware_version,
        };
        // SAFETY: `out` is the caller's CK_SLOT_INFO.
        unsafe { ffi::put(out, info) }
    }
}

cryptoki_fn! {
    /// `C_GetTokenInfo`: the free slot shows an uninitialised token.
    fn C_GetTokenInfo(slot: ck::CK_SLOT_ID, out: *mut ck::CK_TOKEN_INFO) |hsm| {
        let mut info = ck::CK_TOKEN_INFO {
            label: ffi::padded(""),
            manufacturerID: ffi::padded(identity::current().slot_manufacturer),
            model: ffi::padded("uninitialised"),
            serialNumber: ffi::padded(""),
            flags: ck::CKF_RNG | ck::CKF_LOGIN_REQUIRED,
            ulMaxSessionCount: ck::CK_EFFECTIVELY_INFINITE,
            ulSessionCount: 0,
            ulMaxRwSessionCount: ck::CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: 0,
            ulMaxPinLen: MAX_PIN_LEN as ck::CK_ULONG,
            ulMinPinLen: MIN_PIN_LEN as ck::CK_ULONG,
            ulTotalPublicMemory: ck::CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: ck::CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: ck::CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: ck::CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: identity::current().hardware_version,
            firmwareVersion: identity::current().hardware_version,
            utcTime: [b' '; 16],
        };
        if hsm.slot_token(slot)?.is_some() {
            let token = hsm.token_info(slot)?;
            info.label = ffi::padded(&token.summary.label);
            info.model = ffi::padded(&token.model);
            info.serialNumber = ffi::padded(&token.summary.serial);
            info.flags = token.summary.flags;
            info.ulSessionCount = token.session_count as ck::CK_ULONG;
            info.ulRwSessionCount = token.rw_session_count as ck::CK_ULONG;
        }
        // SAFETY: `out` is the caller's CK_TOKEN_INFO.
        unsafe { ffi::put(out, info) }
    }
}

cryptoki_fn! {
    /// `C_GetMechanismList`.
    fn C_GetMechanismList(slot: ck::CK_SLOT_ID, list: *mut ck::CK_MECHANISM_TYPE, count: *mut ck::CK_ULONG) |hsm| {
        hsm.slot_token(slot)?;
        let mechanisms: Vec<ck::CK_MECHANISM_TYPE> = mechanism::SUPPORTED.iter().map(|(m, _)| *m).collect();
        // SAFETY: `list`/`count` follow this function's two-call convention.
        unsafe { ffi::list_output(list, count, &mechanisms) }
    }
}

cryptoki_fn! {
    /// `C_GetMechanismInfo`.
    fn C_GetMechanismInfo(slot: ck::CK_SLOT_ID, kind: ck::CK_MECHANISM_TYPE, out: *mut ck::CK_MECHANISM_INFO) |hsm| {
        hsm.slot_token(slot)?;
        let info = mechanism::mechanism_info(kind)?;
        let info = ck::CK_MECHANISM_INFO { ulMinKeySize: info.min_key_size, ulMaxKeySize: info.max_key_size, flags: info.flags };
        // SAFETY: `out` is the caller's CK_MECHANISM_INFO.
        unsafe { ffi::put(out, info) }
    }
}

cryptoki_fn! {
    /// `C_InitToken`: creates a token in the free slot, or wipes and relabels an existing one.
    fn C_InitToken(slot: ck::CK_SLOT_ID, pin: *mut ck::CK_UTF8CHAR, pin_len: ck::CK_ULONG, label: *mut ck::CK_UTF8CHAR) |hsm| {
        // SAFETY: the SO PIN is `pin_len` bytes at `pin`.
        let so_pin = unsafe { ffi::pin(pin, pin_len) }?;
        // SAFETY: `label` is the caller's 32-byte field (or a C string).
        let label = unsafe { ffi::label(label) }?;
        hsm.init_token(slot, so_pin.expose(), &label)?;
        Ok(())
    }
}

cryptoki_fn! {
    /// `C_InitPIN`.
    fn C_InitPIN(session: ck::CK_SESSION_HANDLE, pin: *mut ck::CK_UTF8CHAR, pin_len: ck::CK_ULONG) |hsm| {
        // SAFETY: the new PIN is `pin_len` bytes at `pin`.
        let pin = unsafe { ffi::pin(pin, pin_len) }?;
        hsm.init_pin(session, pin.expose())?;
        Ok(())
    }
}

cryptoki_fn! {
    /// `C_SetPIN`.
    fn C_SetPIN(
        session: ck::CK_SESSION_HANDLE,
        old: *mut ck::CK_UTF8CHAR,
        old_len: ck::CK_ULONG,
        new: *mut ck::CK_UTF8CHAR,
        new_len: ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: each PIN is its length in bytes at its pointer.
        let (old, new) = unsafe { (ffi::pin(old, old_len)?, ffi::pin(new, new_len)?) };
        hsm.set_pin(session, old.expose(), new.expose())?;
        Ok(())
    }
}

cryptoki_fn! {
    /// `C_WaitForSlotEvent`: tokens do not come and go, so there is never an event; a
    /// blocking wait would never return and is not offered.
    fn C_WaitForSlotEvent(flags: ck::CK_FLAGS, _slot: *mut ck::CK_SLOT_ID, _reserved: *mut c_void) |_hsm| {
        if flags & ck::CKF_DONT_BLOCK != 0 {
            rv(ck::CKR_NO_EVENT)
        } else {
            rv(ck::CKR_FUNCTION_NOT_SUPPORTED)
        }
    }
}
