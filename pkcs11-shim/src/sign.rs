//! Signing and verification, single- and multi-part, with the two-call size convention
//! (a size query or a short buffer leaves the operation active).

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::ffi;

cryptoki_fn! {
    /// `C_SignInit`.
    fn C_SignInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE) |hsm| {
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        Ok(hsm.sign_init(session, &mechanism, key)?)
    }
}

cryptoki_fn! {
    /// `C_Sign`.
    fn C_Sign(
        session: ck::CK_SESSION_HANDLE,
        data: *mut ck::CK_BYTE,
        data_len: ck::CK_ULONG,
        signature: *mut ck::CK_BYTE,
        signature_len: *mut ck::CK_ULONG,
    ) |hsm| {
        let needed = hsm.sign_len(session)?;
        // SAFETY: `signature`/`signature_len` follow the two-call convention.
        if !unsafe { ffi::output_room(signature, signature_len, needed) }? {
            return Ok(());
        }
        // SAFETY: `data` holds `data_len` bytes.
        let data = unsafe { ffi::bytes(data, data_len) }?;
        let result = hsm.sign(session, &data)?;
        // SAFETY: as above; the buffer was checked to be large enough.
        unsafe { ffi::output(signature, signature_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_SignUpdate`.
    fn C_SignUpdate(session: ck::CK_SESSION_HANDLE, part: *mut ck::CK_BYTE, part_len: ck::CK_ULONG) |hsm| {
        // SAFETY: `part` holds `part_len` bytes.
        let part = unsafe { ffi::bytes(part, part_len) }?;
        Ok(hsm.sign_update(session, &part)?)
    }
}

cryptoki_fn! {
    /// `C_SignFinal`.
    fn C_SignFinal(session: ck::CK_SESSION_HANDLE, signature: *mut ck::CK_BYTE, signature_len: *mut ck::CK_ULONG) |hsm| {
        let needed = hsm.sign_len(session)?;
        // SAFETY: `signature`/`signature_len` follow the two-call convention.
        if !unsafe { ffi::output_room(signature, signature_len, needed) }? {
            return Ok(());
        }
        let result = hsm.sign_final(session)?;
        // SAFETY: as above.
        unsafe { ffi::output(signature, signature_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_VerifyInit`.
    fn C_VerifyInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE) |hsm| {
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        Ok(hsm.verify_init(session, &mechanism, key)?)
    }
}

cryptoki_fn! {
    /// `C_Verify`.
    fn C_Verify(
        session: ck::CK_SESSION_HANDLE,
        data: *mut ck::CK_BYTE,
        data_len: ck::CK_ULONG,
        signature: *mut ck::CK_BYTE,
        signature_len: ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: each input holds its length in bytes.
        let (data, signature) = unsafe { (ffi::bytes(data, data_len)?, ffi::bytes(signature, signature_len)?) };
        Ok(hsm.verify(session, &data, &signature)?)
    }
}

cryptoki_fn! {
    /// `C_VerifyUpdate`.
    fn C_VerifyUpdate(session: ck::CK_SESSION_HANDLE, part: *mut ck::CK_BYTE, part_len: ck::CK_ULONG) |hsm| {
        // SAFETY: `part` holds `part_len` bytes.
        let part = unsafe { ffi::bytes(part, part_len) }?;
        Ok(hsm.verify_update(session, &part)?)
    }
}

cryptoki_fn! {
    /// `C_VerifyFinal`.
    fn C_VerifyFinal(session: ck::CK_SESSION_HANDLE, signature: *mut ck::CK_BYTE, signature_len: ck::CK_ULONG) |hsm| {
        // SAFETY: `signature` holds `signature_len` bytes.
        let signature = unsafe { ffi::bytes(signature, signature_len) }?;
        Ok(hsm.verify_final(session, &signature)?)
    }
}
