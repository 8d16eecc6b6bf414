//! Object management: create, copy, destroy, attributes and search.

use cryptoki_sys as ck;

use crate::cryptoki_fn;
use crate::error::bad_args;
use crate::ffi;

cryptoki_fn! {
    /// `C_CreateObject`.
    fn C_CreateObject(
        session: ck::CK_SESSION_HANDLE,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
        out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        // SAFETY: `template` holds `count` attributes.
        let template = unsafe { ffi::template(template, count) }?;
        let handle = hsm.create_object(session, &template)?;
        // SAFETY: `out` is the caller's handle slot.
        unsafe { ffi::put(out, handle) }
    }
}

cryptoki_fn! {
    /// `C_CopyObject`.
    fn C_CopyObject(
        session: ck::CK_SESSION_HANDLE,
        object: ck::CK_OBJECT_HANDLE,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
        out: *mut ck::CK_OBJECT_HANDLE,
    ) |hsm| {
        if out.is_null() {
            return bad_args();
        }
        // SAFETY: `template` holds `count` attributes.
        let template = unsafe { ffi::template(template, count) }?;
        let handle = hsm.copy_object(session, object, &template)?;
        // SAFETY: `out` is the caller's handle slot.
        unsafe { ffi::put(out, handle) }
    }
}

cryptoki_fn! {
    /// `C_DestroyObject`.
    fn C_DestroyObject(session: ck::CK_SESSION_HANDLE, object: ck::CK_OBJECT_HANDLE) |hsm| {
        Ok(hsm.destroy_object(session, object)?)
    }
}

cryptoki_fn! {
    /// `C_GetObjectSize`.
    fn C_GetObjectSize(session: ck::CK_SESSION_HANDLE, object: ck::CK_OBJECT_HANDLE, out: *mut ck::CK_ULONG) |hsm| {
        let size = hsm.object_size(session, object)?;
        // SAFETY: `out` is the caller's size slot.
        unsafe { ffi::put(out, size as ck::CK_ULONG) }
    }
}

cryptoki_fn! {
    /// `C_GetAttributeValue`: per-attribute answers, see [`ffi::fill_attributes`].
    fn C_GetAttributeValue(
        session: ck::CK_SESSION_HANDLE,
        object: ck::CK_OBJECT_HANDLE,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `template` holds `count` attributes.
        let types = unsafe { ffi::attribute_types(template, count) }?;
        let values = hsm.get_attributes(session, object, &types)?;
        // SAFETY: the same template, now written back.
        unsafe { ffi::fill_attributes(template, count, values) }
    }
}

cryptoki_fn! {
    /// `C_SetAttributeValue`.
    fn C_SetAttributeValue(
        session: ck::CK_SESSION_HANDLE,
        object: ck::CK_OBJECT_HANDLE,
        template: *mut ck::CK_ATTRIBUTE,
        count: ck::CK_ULONG,
    ) |hsm| {
        // SAFETY: `template` holds `count` attributes.
        let template = unsafe { ffi::template(template, count) }?;
        Ok(hsm.set_attributes(session, object, &template)?)
    }
}

cryptoki_fn! {
    /// `C_FindObjectsInit`.
    fn C_FindObjectsInit(session: ck::CK_SESSION_HANDLE, template: *mut ck::CK_ATTRIBUTE, count: ck::CK_ULONG) |hsm| {
        // SAFETY: `template` holds `count` attributes.
        let template = unsafe { ffi::template(template, count) }?;
        Ok(hsm.find_init(session, &template)?)
    }
}

cryptoki_fn! {
    /// `C_FindObjects`.
    fn C_FindObjects(
        session: ck::CK_SESSION_HANDLE,
        out: *mut ck::CK_OBJECT_HANDLE,
        max: ck::CK_ULONG,
        found: *mut ck::CK_ULONG,
    ) |hsm| {
        if out.is_null() || found.is_null() {
            return bad_args();
        }
        let handles = hsm.find_next(session, max as usize)?;
        let mut capacity = max;
        // SAFETY: `out` holds `max` handles and `handles.len() <= max`.
        unsafe { ffi::list_output(out, &mut capacity, &handles) }?;
        // SAFETY: `found` is the caller's count slot.
        unsafe { ffi::put(found, handles.len() as ck::CK_ULONG) }
    }
}

cryptoki_fn! {
    /// `C_FindObjectsFinal`.
    fn C_FindObjectsFinal(session: ck::CK_SESSION_HANDLE) |hsm| {
        Ok(hsm.find_final(session)?)
    }
}
