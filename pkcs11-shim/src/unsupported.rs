//! Functions this token does not offer. Each still checks that the library is initialised
//! and answers `CKR_FUNCTION_NOT_SUPPORTED`: operation state, recover and dual-function
//! calls, and the 3.0 message API. The README lists them with the reasons.

use std::ffi::c_void;

use cryptoki_sys as ck;

use crate::cryptoki_not_supported;

cryptoki_not_supported! {
    C_GetOperationState(session: ck::CK_SESSION_HANDLE, state: *mut ck::CK_BYTE, len: *mut ck::CK_ULONG);
    C_SetOperationState(session: ck::CK_SESSION_HANDLE, state: *mut ck::CK_BYTE, len: ck::CK_ULONG, enc: ck::CK_OBJECT_HANDLE, auth: ck::CK_OBJECT_HANDLE);
    C_SignRecoverInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_SignRecover(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_VerifyRecoverInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_VerifyRecover(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_DigestEncryptUpdate(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_DecryptDigestUpdate(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_SignEncryptUpdate(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_DecryptVerifyUpdate(session: ck::CK_SESSION_HANDLE, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_MessageEncryptInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_EncryptMessage(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, aad: *mut ck::CK_BYTE, aad_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_EncryptMessageBegin(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, aad: *mut ck::CK_BYTE, aad_len: ck::CK_ULONG);
    C_EncryptMessageNext(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG, flags: ck::CK_FLAGS);
    C_MessageEncryptFinal(session: ck::CK_SESSION_HANDLE);
    C_MessageDecryptInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_DecryptMessage(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, aad: *mut ck::CK_BYTE, aad_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_DecryptMessageBegin(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, aad: *mut ck::CK_BYTE, aad_len: ck::CK_ULONG);
    C_DecryptMessageNext(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG, flags: ck::CK_FLAGS);
    C_MessageDecryptFinal(session: ck::CK_SESSION_HANDLE);
    C_MessageSignInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_SignMessage(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_SignMessageBegin(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG);
    C_SignMessageNext(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, out: *mut ck::CK_BYTE, out_len: *mut ck::CK_ULONG);
    C_MessageSignFinal(session: ck::CK_SESSION_HANDLE);
    C_MessageVerifyInit(session: ck::CK_SESSION_HANDLE, mechanism: *mut ck::CK_MECHANISM, key: ck::CK_OBJECT_HANDLE);
    C_VerifyMessage(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, signature: *mut ck::CK_BYTE, signature_len: ck::CK_ULONG);
    C_VerifyMessageBegin(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG);
    C_VerifyMessageNext(session: ck::CK_SESSION_HANDLE, params: *mut c_void, params_len: ck::CK_ULONG, data: *mut ck::CK_BYTE, data_len: ck::CK_ULONG, signature: *mut ck::CK_BYTE, signature_len: ck::CK_ULONG);
    C_MessageVerifyFinal(session: ck::CK_SESSION_HANDLE);
}
