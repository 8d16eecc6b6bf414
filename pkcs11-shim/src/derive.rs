//! Key derivation (`C_DeriveKey`): ECDH, AES encryption of data, concatenation, XOR, bit
//! extraction and the SP 800-108 KDFs, whose additional keys' handles go back through their
//! `CK_DERIVED_KEY` entries.

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::error::{bad_args, rv};
use crate::ffi;

cryptoki_fn! {
    /// `C_DeriveKey`.
    fn C_DeriveKey(
        session: ck::CK_SESSION_HANDLE,
        mechanism: *mut ck::CK_MECHANISM,
        base: ck::CK_OBJECT_HANDLE,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
        out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        // SAFETY: the mechanism and the `count`-attribute template are the caller's.
        let ((mechanism, slots), template) =
            unsafe { (ffi::derive_mechanism(mechanism)?, ffi::template(template, count)?) };
        slots.check()?;
        let handles = hsm.derive_keys(session, &mechanism, base, &template)?;
        let Some((first, additional)) = handles.split_first() else {
            return rv(ck::CKR_GENERAL_ERROR);
        };
        // SAFETY: `out` is the caller's handle slot; the additional slots are the caller's
        // `phKey` pointers, checked non-NULL above.
        unsafe {
            ffi::put(out, *first)?;
            slots.write(additional)
        }
    }
}
