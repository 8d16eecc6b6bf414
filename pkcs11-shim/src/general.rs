//! General-purpose functions: `C_Initialize`, `C_Finalize`, `C_GetInfo`, and the ways a client
//! finds the function tables (`C_GetFunctionList`, `C_GetInterfaceList`, `C_GetInterface`).

use std::ffi::c_void;

use cryptoki_sys as ck;
use hsm_core::config::Pkcs11Version;

use crate::error::{bad_args, rv};
use crate::ffi;
use crate::guard::run;
use crate::identity;
use crate::state;
use crate::tables::{self, INTERFACES, Interface};

/// `C_Initialize`: `NULL`, or arguments whose mutex callbacks are all set or all unset and
/// whose `pReserved` is NULL. Locking is always internal, whatever the flags ask.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Initialize(init_args: *mut c_void) -> ck::CK_RV {
    run("C_Initialize", move || {
        if !init_args.is_null() {
            // SAFETY: a non-NULL argument is a CK_C_INITIALIZE_ARGS by the PKCS#11 contract.
            let args = unsafe { ffi::get(init_args as *const ck::CK_C_INITIALIZE_ARGS) }?;
            if !args.pReserved.is_null() {
                return bad_args();
            }
            let callbacks = [
                args.CreateMutex.is_some(),
                args.DestroyMutex.is_some(),
                args.LockMutex.is_some(),
                args.UnlockMutex.is_some(),
            ];
            if callbacks.iter().any(|c| *c) && !callbacks.iter().all(|c| *c) {
                return bad_args();
            }
        }
        state::initialize()
    })
}

/// `C_Finalize`: `pReserved` must be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Finalize(reserved: *mut c_void) -> ck::CK_RV {
    run("C_Finalize", move || {
        if !reserved.is_null() {
            return bad_args();
        }
        state::finalize()
    })
}

fn info(version: ck::CK_VERSION) -> ck::CK_INFO {
    let identity = identity::current();
    ck::CK_INFO {
        cryptokiVersion: version,
        manufacturerID: ffi::padded(identity.manufacturer),
        flags: 0,
        libraryDescription: ffi::padded(identity.library_description),
        libraryVersion: identity.library_version,
    }
}

/// `C_GetInfo` as the 3.0 interface reports it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInfo(out: *mut ck::CK_INFO) -> ck::CK_RV {
    run("C_GetInfo", move || {
        state::hsm()?;
        // SAFETY: `out` is the caller's CK_INFO to fill.
        unsafe { ffi::put(out, info(tables::VERSION_3_0)) }
    })
}

/// `C_GetInfo` as the 2.40 function list reports it: a client that asked for the 2.40 table
/// is told it talks to a 2.40 library.
pub unsafe extern "C" fn get_info_240(out: *mut ck::CK_INFO) -> ck::CK_RV {
    run("C_GetInfo", move || {
        state::hsm()?;
        // SAFETY: `out` is the caller's CK_INFO to fill.
        unsafe { ffi::put(out, info(tables::VERSION_2_40)) }
    })
}

/// `C_GetFunctionList`: the 2.40 table.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetFunctionList(out: *mut *mut ck::CK_FUNCTION_LIST) -> ck::CK_RV {
    run("C_GetFunctionList", move || {
        // SAFETY: `out` is the caller's pointer slot; the table is a static nobody writes.
        unsafe { ffi::put(out, tables::function_list_240()) }
    })
}

/// `C_GetInterfaceList`: the 3.0 interface, then the 2.40 one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterfaceList(
    list: *mut ck::CK_INTERFACE,
    count: *mut ck::CK_ULONG,
) -> ck::CK_RV {
    run("C_GetInterfaceList", move || {
        let interfaces: Vec<ck::CK_INTERFACE> = INTERFACES.iter().map(Interface::raw).collect();
        // SAFETY: `count` and `list` follow the two-call convention of this function.
        unsafe { ffi::list_output(list, count, &interfaces) }
    })
}

/// The version `C_GetInterface` gives a client that names none: 3.0, unless the
/// configuration asks the module to present 2.40 (it may be called before `C_Initialize`, so
/// the configuration is read here if need be).
fn default_version() -> Option<ck::CK_VERSION> {
    let presents_2_40 = match state::hsm() {
        Ok(hsm) => hsm.presents_2_40(),
        Err(_) => hsm_core::Config::load().is_ok_and(|c| c.pkcs11_version == Pkcs11Version::V2_40),
    };
    Some(if presents_2_40 {
        tables::VERSION_2_40
    } else {
        tables::VERSION_3_0
    })
}

/// `C_GetInterface`: by name ("PKCS 11" or NULL) and version (NULL for the default, 3.0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterface(
    name: *mut ck::CK_UTF8CHAR,
    version: *mut ck::CK_VERSION,
    out: *mut *mut ck::CK_INTERFACE,
    flags: ck::CK_FLAGS,
) -> ck::CK_RV {
    run("C_GetInterface", move || {
        if out.is_null() {
            return bad_args();
        }
        if !name.is_null() {
            // SAFETY: a non-NULL name is a NUL-terminated string by the PKCS#11 contract.
            let name = unsafe { std::ffi::CStr::from_ptr(name as *const std::ffi::c_char) };
            if name.to_bytes() != b"PKCS 11" {
                return bad_args();
            }
        }
        let wanted = if version.is_null() {
            default_version()
        } else {
            // SAFETY: a non-NULL version points to a CK_VERSION.
            Some(unsafe { ffi::get(version as *const ck::CK_VERSION) }?)
        };
        let found = INTERFACES.iter().find(|i| {
            let v = i.version();
            wanted.is_none_or(|w| w.major == v.major && w.minor == v.minor)
                && flags & !i.raw().flags == 0
        });
        match found {
            // SAFETY: `out` is the caller's pointer slot; the interface is static.
            Some(interface) => unsafe { ffi::put(out, interface.as_ptr()) },
            None => rv(ck::CKR_ARGUMENTS_BAD),
        }
    })
}
