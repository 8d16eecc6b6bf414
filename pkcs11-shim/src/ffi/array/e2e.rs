//! The template attributes through the exported functions, as a C client meets them: set by
//! `C_CreateObject`, read back with `C_GetAttributeValue`'s three calls, found by
//! `C_FindObjects`, and enforced by `C_WrapKey` and `C_UnwrapKey`. (The `cryptoki` crate
//! 0.12 has no attribute-array attributes, so this drives the C functions directly.) The
//! module keeps one state per process, so the test runs itself again in a child process with
//! a scratch configuration of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::c_void;
use std::process::Command;
use std::ptr::null_mut;

use cryptoki_sys as ck;

use crate::exports::*;

const CHILD_ENV: &str = "STRONGROOM_SHIM_TEMPLATE_E2E";
const SO_PIN: &[u8] = b"so-pin-1234";
const USER_PIN: &[u8] = b"user-pin-1234";

#[test]
fn templates_through_the_exported_functions() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    let dir = std::env::temp_dir().join(format!(
        "strongroom-shim-template-e2e-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("strongroom.toml");
    let log = dir.join("module.log");
    let cheap = "{ m_cost_kib = 8, t_cost = 1, p_cost = 1 }";
    std::fs::write(
        &conf,
        format!(
            "token_dir = \"tokens\"\n[kdf]\npin = {cheap}\ncard = {cheap}\n[log]\nlevel = \"info\"\nfile = \"{}\"\n",
            log.display()
        ),
    )
    .unwrap();
    let module = module_path!();
    let name = module.split_once("::").map_or(module, |(_, rest)| rest);
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("{name}::templates_through_the_exported_functions"),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("STRONGROOM_CONF", &conf)
        .env_remove("STRONGROOM_ACTIVATION_FD")
        .env_remove("STRONGROOM_ACTIVATION_PID")
        .output()
        .unwrap();
    let module_log = std::fs::read_to_string(&log).unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}\nmodule log:\n{module_log}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn attr<T>(type_: ck::CK_ATTRIBUTE_TYPE, value: &mut [T]) -> ck::CK_ATTRIBUTE {
    ck::CK_ATTRIBUTE {
        type_,
        pValue: value.as_mut_ptr() as *mut c_void,
        ulValueLen: std::mem::size_of_val(value) as ck::CK_ULONG,
    }
}

fn query(type_: ck::CK_ATTRIBUTE_TYPE) -> ck::CK_ATTRIBUTE {
    ck::CK_ATTRIBUTE {
        type_,
        pValue: null_mut(),
        ulValueLen: 0,
    }
}

fn count<T>(items: &[T]) -> ck::CK_ULONG {
    items.len() as ck::CK_ULONG
}

/// An AES key with `extra` attributes, created through `C_CreateObject`.
fn aes_key(session: ck::CK_SESSION_HANDLE, extra: &[ck::CK_ATTRIBUTE]) -> ck::CK_OBJECT_HANDLE {
    let mut class = ck::CKO_SECRET_KEY.to_ne_bytes();
    let mut key_type = ck::CKK_AES.to_ne_bytes();
    let mut value = [7u8; 16];
    let mut template = vec![
        attr(ck::CKA_CLASS, &mut class),
        attr(ck::CKA_KEY_TYPE, &mut key_type),
        attr(ck::CKA_VALUE, &mut value),
    ];
    template.extend_from_slice(extra);
    let mut key = 0;
    // SAFETY: the template's values (here and the caller's) live until the call returns.
    let rv = unsafe { C_CreateObject(session, template.as_mut_ptr(), count(&template), &mut key) };
    assert_eq!(rv, ck::CKR_OK);
    key
}

/// A PIN-only token in the free slot and a read-write session with the user logged in.
fn user_session() -> ck::CK_SESSION_HANDLE {
    // SAFETY: no initialisation arguments.
    assert_eq!(unsafe { C_Initialize(null_mut()) }, ck::CKR_OK);
    let mut slots = [0; 8];
    let mut n = count(&slots);
    // SAFETY: `slots` holds `n` entries.
    let rv = unsafe { C_GetSlotList(ck::CK_FALSE, slots.as_mut_ptr(), &mut n) };
    assert_eq!(rv, ck::CKR_OK);
    let slot = slots[n as usize - 1];
    let mut so = SO_PIN.to_vec();
    let mut user = USER_PIN.to_vec();
    let mut label = [b' '; 32];
    label[..8].copy_from_slice(b"template");
    let (so_len, user_len) = (count(&so), count(&user));
    // SAFETY: the PIN holds `so_len` bytes and the label 32.
    let rv = unsafe { C_InitToken(slot, so.as_mut_ptr(), so_len, label.as_mut_ptr()) };
    assert_eq!(rv, ck::CKR_OK);
    let mut session = 0;
    let flags = ck::CKF_SERIAL_SESSION | ck::CKF_RW_SESSION;
    // SAFETY: no application data or callback; `session` receives the handle.
    let rv = unsafe { C_OpenSession(slot, flags, null_mut(), None, &mut session) };
    assert_eq!(rv, ck::CKR_OK);
    // SAFETY: each PIN pointer holds its stated length.
    unsafe {
        assert_eq!(
            C_Login(session, ck::CKU_SO, so.as_mut_ptr(), so_len),
            ck::CKR_OK
        );
        assert_eq!(C_InitPIN(session, user.as_mut_ptr(), user_len), ck::CKR_OK);
        assert_eq!(C_Logout(session), ck::CKR_OK);
        assert_eq!(
            C_Login(session, ck::CKU_USER, user.as_mut_ptr(), user_len),
            ck::CKR_OK
        );
    }
    session
}

fn child() {
    let session = user_session();
    let mut yes = [1u8];
    let mut no = [0u8];
    let mut label = *b"unwrapped";
    let mut backup = *b"backup";
    let mut unwrap_template = [
        attr(ck::CKA_LABEL, &mut label),
        attr(ck::CKA_EXTRACTABLE, &mut no),
    ];
    let mut wrap_template = [attr(ck::CKA_ID, &mut backup)];
    let kek = aes_key(
        session,
        &[
            attr(ck::CKA_WRAP, &mut yes),
            attr(ck::CKA_UNWRAP, &mut yes),
            attr(ck::CKA_UNWRAP_TEMPLATE, &mut unwrap_template),
            attr(ck::CKA_WRAP_TEMPLATE, &mut wrap_template),
        ],
    );

    // 1: the array's length.
    let mut outer = [query(ck::CKA_UNWRAP_TEMPLATE)];
    // SAFETY: one attribute with a NULL value: a size query.
    let rv = unsafe { C_GetAttributeValue(session, kek, outer.as_mut_ptr(), 1) };
    assert_eq!(rv, ck::CKR_OK);
    assert_eq!(
        outer[0].ulValueLen as usize,
        2 * std::mem::size_of::<ck::CK_ATTRIBUTE>()
    );
    // 2: each element's type and length, in the order of their types.
    let mut inner = [query(0), query(0)];
    outer[0] = attr(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
    // SAFETY: the value is a live two-element array of attributes with NULL values.
    let rv = unsafe { C_GetAttributeValue(session, kek, outer.as_mut_ptr(), 1) };
    assert_eq!(rv, ck::CKR_OK);
    let shape: Vec<_> = inner.iter().map(|a| (a.type_, a.ulValueLen)).collect();
    assert_eq!(shape, [(ck::CKA_LABEL, 9), (ck::CKA_EXTRACTABLE, 1)]);
    // 3: the values.
    let mut flag = vec![9u8; 1];
    let mut text = vec![0u8; 9];
    inner = [
        attr(ck::CKA_EXTRACTABLE, &mut flag),
        attr(ck::CKA_LABEL, &mut text),
    ];
    outer[0] = attr(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
    // SAFETY: as above, each element's value now a buffer of its stated length.
    let rv = unsafe { C_GetAttributeValue(session, kek, outer.as_mut_ptr(), 1) };
    assert_eq!(rv, ck::CKR_OK);
    assert_eq!((flag.as_slice(), text.as_slice()), (&[0u8][..], &label[..]));

    // A key without templates has empty ones.
    let mut ext = [1u8];
    let target = aes_key(
        session,
        &[
            attr(ck::CKA_EXTRACTABLE, &mut ext),
            attr(ck::CKA_ID, &mut backup),
        ],
    );
    let mut outer = [query(ck::CKA_WRAP_TEMPLATE)];
    // SAFETY: a size query.
    let rv = unsafe { C_GetAttributeValue(session, target, outer.as_mut_ptr(), 1) };
    assert_eq!((rv, outer[0].ulValueLen), (ck::CKR_OK, 0));

    // Found by its template, whatever the order the finder lists the attributes in.
    let mut reordered = [
        attr(ck::CKA_EXTRACTABLE, &mut no),
        attr(ck::CKA_LABEL, &mut label),
    ];
    let mut find = [attr(ck::CKA_UNWRAP_TEMPLATE, &mut reordered)];
    let mut found = [0; 4];
    let mut n = 0;
    // SAFETY: a one-attribute template; `found` holds 4 handles.
    unsafe {
        assert_eq!(C_FindObjectsInit(session, find.as_mut_ptr(), 1), ck::CKR_OK);
        assert_eq!(
            C_FindObjects(session, found.as_mut_ptr(), 4, &mut n),
            ck::CKR_OK
        );
        assert_eq!(C_FindObjectsFinal(session), ck::CKR_OK);
    }
    assert_eq!(&found[..n as usize], [kek]);

    // C_WrapKey: the key must match the wrap template.
    let mut mechanism = ck::CK_MECHANISM {
        mechanism: ck::CKM_AES_KEY_WRAP,
        pParameter: null_mut(),
        ulParameterLen: 0,
    };
    let mut wrapped = [0u8; 64];
    let mut wrapped_len = count(&wrapped);
    let other = aes_key(session, &[attr(ck::CKA_EXTRACTABLE, &mut ext)]);
    // SAFETY: `wrapped` holds `wrapped_len` bytes.
    let rv = unsafe {
        C_WrapKey(
            session,
            &mut mechanism,
            kek,
            other,
            wrapped.as_mut_ptr(),
            &mut wrapped_len,
        )
    };
    assert_eq!(rv, ck::CKR_KEY_NOT_WRAPPABLE);
    wrapped_len = count(&wrapped);
    // SAFETY: as above.
    let rv = unsafe {
        C_WrapKey(
            session,
            &mut mechanism,
            kek,
            target,
            wrapped.as_mut_ptr(),
            &mut wrapped_len,
        )
    };
    assert_eq!(rv, ck::CKR_OK);

    // C_UnwrapKey: the caller's template may not contradict the unwrap template, which then
    // applies to the new key.
    let mut class = ck::CKO_SECRET_KEY.to_ne_bytes();
    let mut key_type = ck::CKK_AES.to_ne_bytes();
    let mut template = [
        attr(ck::CKA_CLASS, &mut class),
        attr(ck::CKA_KEY_TYPE, &mut key_type),
        attr(ck::CKA_EXTRACTABLE, &mut yes),
    ];
    let mut key = 0;
    // SAFETY: `wrapped` holds `wrapped_len` bytes; the template's values are live.
    let rv = unsafe {
        C_UnwrapKey(
            session,
            &mut mechanism,
            kek,
            wrapped.as_mut_ptr(),
            wrapped_len,
            template.as_mut_ptr(),
            3,
            &mut key,
        )
    };
    assert_eq!(rv, ck::CKR_TEMPLATE_INCONSISTENT);
    // SAFETY: as above, without the contradicting attribute.
    let rv = unsafe {
        C_UnwrapKey(
            session,
            &mut mechanism,
            kek,
            wrapped.as_mut_ptr(),
            wrapped_len,
            template.as_mut_ptr(),
            2,
            &mut key,
        )
    };
    assert_eq!(rv, ck::CKR_OK);
    let mut got_label = [0u8; 9];
    let mut got_flag = [9u8];
    let mut read = [
        attr(ck::CKA_LABEL, &mut got_label),
        attr(ck::CKA_EXTRACTABLE, &mut got_flag),
    ];
    // SAFETY: two attributes with buffers of their stated lengths.
    let rv = unsafe { C_GetAttributeValue(session, key, read.as_mut_ptr(), 2) };
    assert_eq!((rv, got_label, got_flag), (ck::CKR_OK, label, [0]));
    // SAFETY: no reserved argument.
    assert_eq!(unsafe { C_Finalize(null_mut()) }, ck::CKR_OK);
}
