//! Session management: open, close, info, login and logout.

use std::ffi::c_void;

use cryptoki_sys as ck;

use hsm_core::hsm::dialog::TerminalDialog;

use crate::cryptoki_fn;
use crate::error::{bad_args, rv};
use crate::ffi;

cryptoki_fn! {
    /// `C_OpenSession`: serial sessions only; notification callbacks are never called.
    fn C_OpenSession(
        slot: ck::CK_SLOT_ID,
        flags: ck::CK_FLAGS,
        _application: *mut c_void,
        _notify: ck::CK_NOTIFY,
        out: *mut ck::CK_SESSION_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        if flags & ck::CKF_SERIAL_SESSION == 0 {
            return rv(ck::CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        let session = hsm.open_session(slot, flags & ck::CKF_RW_SESSION != 0)?;
        // SAFETY: `out` is the caller's session handle slot.
        unsafe { ffi::put(out, session) }
    }
}

cryptoki_fn! {
    /// `C_CloseSession`.
    fn C_CloseSession(session: ck::CK_SESSION_HANDLE) |hsm| {
        Ok(hsm.close_session(session)?)
    }
}

cryptoki_fn! {
    /// `C_CloseAllSessions`.
    fn C_CloseAllSessions(slot: ck::CK_SLOT_ID) |hsm| {
        Ok(hsm.close_all_sessions(slot)?)
    }
}

cryptoki_fn! {
    /// `C_GetSessionInfo`.
    fn C_GetSessionInfo(session: ck::CK_SESSION_HANDLE, out: *mut ck::CK_SESSION_INFO) |hsm| {
        let info = hsm.session_info(session)?;
        let info = ck::CK_SESSION_INFO { slotID: info.slot, state: info.state, flags: info.flags, ulDeviceError: 0 };
        // SAFETY: `out` is the caller's CK_SESSION_INFO.
        unsafe { ffi::put(out, info) }
    }
}

cryptoki_fn! {
    /// `C_Login`.
    fn C_Login(session: ck::CK_SESSION_HANDLE, user: ck::CK_USER_TYPE, pin: *mut ck::CK_UTF8CHAR, pin_len: ck::CK_ULONG) |hsm| {
        if pin.is_null() {
            // The protected authentication path: the dialog runs on the terminal.
            return Ok(hsm.login_with_dialog(session, user, &mut TerminalDialog)?);
        }
        // SAFETY: the PIN is `pin_len` bytes at `pin`.
        let pin = unsafe { ffi::pin(pin, pin_len) }?;
        Ok(hsm.login(session, user, pin.expose())?)
    }
}

cryptoki_fn! {
    /// `C_LoginUser` (3.0): tokens here have no user names, so it is `C_Login`.
    fn C_LoginUser(
        session: ck::CK_SESSION_HANDLE,
        user: ck::CK_USER_TYPE,
        pin: *mut ck::CK_UTF8CHAR,
        pin_len: ck::CK_ULONG,
        _username: *mut ck::CK_UTF8CHAR,
        _username_len: ck::CK_ULONG,
    ) |hsm| {
        if pin.is_null() {
            return Ok(hsm.login_with_dialog(session, user, &mut TerminalDialog)?);
        }
        // SAFETY: the PIN is `pin_len` bytes at `pin`.
        let pin = unsafe { ffi::pin(pin, pin_len) }?;
        Ok(hsm.login(session, user, pin.expose())?)
    }
}

cryptoki_fn! {
    /// `C_Logout`: a second logout is `CKR_USER_NOT_LOGGED_IN`.
    fn C_Logout(session: ck::CK_SESSION_HANDLE) |hsm| {
        Ok(hsm.logout(session)?)
    }
}

cryptoki_fn! {
    /// `C_SessionCancel` (3.0): ends the session's active operations named by `flags`.
    fn C_SessionCancel(session: ck::CK_SESSION_HANDLE, flags: ck::CK_FLAGS) |hsm| {
        Ok(hsm.cancel_operations(session, flags)?)
    }
}

cryptoki_fn! {
    /// `C_GetFunctionStatus`: a legacy function; nothing runs in parallel.
    fn C_GetFunctionStatus(session: ck::CK_SESSION_HANDLE) |hsm| {
        hsm.session_info(session)?;
        rv(ck::CKR_FUNCTION_NOT_PARALLEL)
    }
}

cryptoki_fn! {
    /// `C_CancelFunction`: a legacy function; nothing runs in parallel.
    fn C_CancelFunction(session: ck::CK_SESSION_HANDLE) |hsm| {
        hsm.session_info(session)?;
        rv(ck::CKR_FUNCTION_NOT_PARALLEL)
    }
}
