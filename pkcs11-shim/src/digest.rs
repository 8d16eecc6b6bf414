//! Message digests, single- and multi-part, and of secret keys (`C_DigestKey`).

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::ffi;

cryptoki_fn! {
    /// `C_DigestInit`: digest mechanisms take no parameter, and any given is ignored.
    fn C_DigestInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM) |hsm| {
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        Ok(hsm.digest_init(session, &mechanism)?)
    }
}

cryptoki_fn! {
    /// `C_Digest`.
    fn C_Digest(
        session: ck::CK_SESSION_HANDLE,
        data: *mut ck::CK_BYTE,
        data_len: ck::CK_ULONG,
        digest: *mut ck::CK_BYTE,
        digest_len: *mut ck::CK_ULONG,
    ) |hsm| {
        let needed = hsm.digest_len(session)?;
        // SAFETY: `digest`/`digest_len` follow the two-call convention.
        if !unsafe { ffi::output_room(digest, digest_len, needed) }? {
            return Ok(());
        }
        // SAFETY: `data` holds `data_len` bytes.
        let data = unsafe { ffi::bytes(data, data_len) }?;
        let result = hsm.digest(session, &data)?;
        // SAFETY: as above.
        unsafe { ffi::output(digest, digest_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_DigestUpdate`.
    fn C_DigestUpdate(session: ck::CK_SESSION_HANDLE, part: *mut ck::CK_BYTE, part_len: ck::CK_ULONG) |hsm| {
        // SAFETY: `part` holds `part_len` bytes.
        let part = unsafe { ffi::bytes(part, part_len) }?;
        Ok(hsm.digest_update(session, &part)?)
    }
}

cryptoki_fn! {
    /// `C_DigestFinal`.
    fn C_DigestFinal(session: ck::CK_SESSION_HANDLE, digest: *mut ck::CK_BYTE, digest_len: *mut ck::CK_ULONG) |hsm| {
        let needed = hsm.digest_len(session)?;
        // SAFETY: `digest`/`digest_len` follow the two-call convention.
        if !unsafe { ffi::output_room(digest, digest_len, needed) }? {
            return Ok(());
        }
        let result = hsm.digest_final(session)?;
        // SAFETY: as above.
        unsafe { ffi::output(digest, digest_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_DigestKey`: adds a secret key's value to the active digest inside the token.
    fn C_DigestKey(session: ck::CK_SESSION_HANDLE, key: ck::CK_OBJECT_HANDLE) |hsm| {
        Ok(hsm.digest_key(session, key)?)
    }
}
