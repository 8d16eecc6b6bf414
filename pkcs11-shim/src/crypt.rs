//! Encryption and decryption, single- and multi-part. A size query or a short buffer leaves
//! the operation as it was (hsm-core checks the room before it changes anything).

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::ffi;

cryptoki_fn! {
    /// `C_EncryptInit`; a NULL mechanism ends an active encryption (PKCS#11 3.0).
    fn C_EncryptInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE) |hsm| {
        if mechanism.is_null() {
            return Ok(hsm.cancel_operations(session, ck::CKF_ENCRYPT)?);
        }
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        Ok(hsm.encrypt_init(session, &mechanism, key)?)
    }
}

cryptoki_fn! {
    /// `C_Encrypt`.
    fn C_Encrypt(
        session: ck::CK_SESSION_HANDLE,
        data: *mut ck::CK_BYTE,
        data_len: ck::CK_ULONG,
        out: *mut ck::CK_BYTE,
        out_len: *mut ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `data` holds `data_len` bytes; `out`/`out_len` follow the two-call convention.
        let (data, room) = unsafe { (ffi::bytes(data, data_len)?, ffi::output_capacity(out, out_len)?) };
        let result = hsm.encrypt(session, &data, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_EncryptUpdate`.
    fn C_EncryptUpdate(
        session: ck::CK_SESSION_HANDLE,
        part: *mut ck::CK_BYTE,
        part_len: ck::CK_ULONG,
        out: *mut ck::CK_BYTE,
        out_len: *mut ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `part` holds `part_len` bytes; `out`/`out_len` follow the two-call convention.
        let (part, room) = unsafe { (ffi::bytes(part, part_len)?, ffi::output_capacity(out, out_len)?) };
        let result = hsm.encrypt_update(session, &part, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_EncryptFinal`.
    fn C_EncryptFinal(session: ck::CK_SESSION_HANDLE, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG) |hsm| {
        // SAFETY: `out`/`out_len` follow the two-call convention.
        let room = unsafe { ffi::output_capacity(out, out_len) }?;
        let result = hsm.encrypt_final(session, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_DecryptInit`; a NULL mechanism ends an active decryption (PKCS#11 3.0).
    fn C_DecryptInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE) |hsm| {
        if mechanism.is_null() {
            return Ok(hsm.cancel_operations(session, ck::CKF_DECRYPT)?);
        }
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        Ok(hsm.decrypt_init(session, &mechanism, key)?)
    }
}

cryptoki_fn! {
    /// `C_Decrypt`.
    fn C_Decrypt(
        session: ck::CK_SESSION_HANDLE,
        data: *mut ck::CK_BYTE,
        data_len: ck::CK_ULONG,
        out: *mut ck::CK_BYTE,
        out_len: *mut ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `data` holds `data_len` bytes; `out`/`out_len` follow the two-call convention.
        let (data, room) = unsafe { (ffi::bytes(data, data_len)?, ffi::output_capacity(out, out_len)?) };
        let result = hsm.decrypt(session, &data, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_DecryptUpdate`.
    fn C_DecryptUpdate(
        session: ck::CK_SESSION_HANDLE,
        part: *mut ck::CK_BYTE,
        part_len: ck::CK_ULONG,
        out: *mut ck::CK_BYTE,
        out_len: *mut ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `part` holds `part_len` bytes; `out`/`out_len` follow the two-call convention.
        let (part, room) = unsafe { (ffi::bytes(part, part_len)?, ffi::output_capacity(out, out_len)?) };
        let result = hsm.decrypt_update(session, &part, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_DecryptFinal`.
    fn C_DecryptFinal(session: ck::CK_SESSION_HANDLE, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG) |hsm| {
        // SAFETY: `out`/`out_len` follow the two-call convention.
        let room = unsafe { ffi::output_capacity(out, out_len) }?;
        let result = hsm.decrypt_final(session, room)?;
        // SAFETY: as above.
        unsafe { ffi::write_output(out, out_len, &result) }
    }
}
