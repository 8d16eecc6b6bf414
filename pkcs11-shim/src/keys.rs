//! Key management: key and key-pair generation, wrap and unwrap; and random numbers.

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::error::bad_args;
use crate::ffi;

cryptoki_fn! {
    /// `C_GenerateKey`.
    fn C_GenerateKey(
        session: ck::CK_SESSION_HANDLE,
        mechanism: *mut ck::CK_MECHANISM,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
        out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        // SAFETY: the mechanism and the `count`-attribute template are the caller's.
        let (mechanism, template) = unsafe { (ffi::mechanism(mechanism)?, ffi::template(template, count)?) };
        let handle = hsm.generate_key(session, &mechanism, &template)?;
        // SAFETY: `out` is the caller's handle slot.
        unsafe { ffi::put(out, handle) }
    }
}

cryptoki_fn! {
    /// `C_GenerateKeyPair`.
    fn C_GenerateKeyPair(
        session: ck::CK_SESSION_HANDLE,
        mechanism: *mut ck::CK_MECHANISM,
        public_template: *mut ck::CK_ATTRIBUTE,
        public_count: ck::CK_ULONG,
        private_template: *mut ck::CK_ATTRIBUTE,
        private_count: ck::CK_ULONG,
        public_out: *mut ck::CK_OBJECT_HANDLE,
        private_out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if public_out.is_null() || private_out.is_null() {
            return bad_args();
        }
        // SAFETY: the mechanism and both templates are the caller's, with their counts.
        let (mechanism, public, private) = unsafe {
            (
                ffi::mechanism(mechanism)?,
                ffi::template(public_template, public_count)?,
                ffi::template(private_template, private_count)?,
            )
        };
        let (public_handle, private_handle) = hsm.generate_key_pair(session, &mechanism, &public, &private)?;
        // SAFETY: both out-pointers are the caller's handle slots.
        unsafe {
            ffi::put(public_out, public_handle)?;
            ffi::put(private_out, private_handle)
        }
    }
}

cryptoki_fn! {
    /// `C_WrapKey`: AES key wrap of extractable secret keys.
    fn C_WrapKey(
        session: ck::CK_SESSION_HANDLE,
        mechanism: *mut ck::CK_MECHANISM,
        wrapping_key: ck::CK_OBJECT_HANDLE,
        key: ck::CK_OBJECT_HANDLE,
        wrapped: *mut ck::CK_BYTE,
        wrapped_len: *mut ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `mechanism` is the caller's CK_MECHANISM.
        let mechanism = unsafe { ffi::mechanism(mechanism) }?;
        let result = hsm.wrap_key(session, &mechanism, wrapping_key, key)?;
        // SAFETY: `wrapped`/`wrapped_len` follow the two-call convention.
        unsafe { ffi::output(wrapped, wrapped_len, &result) }
    }
}

cryptoki_fn! {
    /// `C_UnwrapKey`.
    fn C_UnwrapKey(
        session: ck::CK_SESSION_HANDLE,
        mechanism: *mut ck::CK_MECHANISM,
        unwrapping_key: ck::CK_OBJECT_HANDLE,
        wrapped: *mut ck::CK_BYTE,
        wrapped_len: ck::CK_ULONG,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
        out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        // SAFETY: mechanism, wrapped bytes and template are the caller's, with their lengths.
        let (mechanism, wrapped, template) = unsafe {
            (ffi::mechanism(mechanism)?, ffi::bytes(wrapped, wrapped_len)?, ffi::template(template, count)?)
        };
        let handle = hsm.unwrap_key(session, &mechanism, unwrapping_key, &wrapped, &template)?;
        // SAFETY: `out` is the caller's handle slot.
        unsafe { ffi::put(out, handle) }
    }
}

cryptoki_fn! {
    /// `C_SeedRandom`: the seed is mixed into the kernel's pool.
    fn C_SeedRandom(session: ck::CK_SESSION_HANDLE, seed: *mut ck::CK_BYTE, seed_len: ck::CK_ULONG) |hsm| {
        // SAFETY: `seed` holds `seed_len` bytes.
        let seed = unsafe { ffi::bytes(seed, seed_len) }?;
        Ok(hsm.seed_random(session, &seed)?)
    }
}

cryptoki_fn! {
    /// `C_GenerateRandom`.
    fn C_GenerateRandom(session: ck::CK_SESSION_HANDLE, out: *mut ck::CK_BYTE, len: ck::CK_ULONG) |hsm| {
        if (out.is_null() && len > 0) || len > 1 << 30 {
            return bad_args();
        }
        let bytes = hsm.generate_random(session, len as usize)?;
        let mut capacity = len;
        // SAFETY: `out` holds `len` writable bytes and `bytes.len() == len`.
        unsafe { ffi::output(out, &mut capacity, &bytes) }
    }
}
