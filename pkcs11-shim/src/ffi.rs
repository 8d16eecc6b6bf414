//! All pointer intake of the module: small `unsafe` helpers that turn the caller's C
//! arguments into Rust values and write results back, each relying on the PKCS#11 contract
//! for that argument. Every other file works on safe values only.

use cryptoki_sys as ck;
use hsm_core::attr::Template;
use hsm_core::mechanism::{CkGcmParams, CkOaepParams, Mechanism};
use hsm_core::session::Output;

use crate::error::{ShimResult, bad_args, rv};

mod array;
mod params;

pub use params::DerivedKeySlots;

/// Largest attribute or data length accepted from a caller: beyond this a length is garbage.
const MAX_LEN: ck::CK_ULONG = 1 << 30;

/// Reads `len` bytes at `ptr`; a NULL pointer is only accepted with length 0.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes, as PKCS#11 requires of every
/// (pointer, length) input pair.
pub unsafe fn bytes(ptr: *const ck::CK_BYTE, len: ck::CK_ULONG) -> ShimResult<Vec<u8>> {
    if ptr.is_null() {
        return if len == 0 { Ok(Vec::new()) } else { bad_args() };
    }
    if len > MAX_LEN {
        return bad_args();
    }
    // SAFETY: non-NULL and, by the caller's contract, valid for `len` bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len as usize) }.to_vec())
}

/// Reads a 32-byte blank-padded label (`C_InitToken`). Stops at a NUL, because some clients
/// (PyKCS11) pass a shorter C string; reading on past it could leave their buffer.
///
/// # Safety
/// `ptr` must be NULL (rejected) or point to 32 readable bytes or a NUL-terminated string.
pub unsafe fn label(ptr: *const ck::CK_UTF8CHAR) -> ShimResult<String> {
    if ptr.is_null() {
        return bad_args();
    }
    let mut bytes = Vec::with_capacity(32);
    for i in 0..32 {
        // SAFETY: byte `i` is within the 32-byte field, or before the string's NUL.
        let byte = unsafe { ptr.add(i).read() };
        if byte == 0 {
            break;
        }
        bytes.push(byte);
    }
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches(' ')
        .to_string())
}

/// Reads a PIN: NULL with length 0 is an empty PIN.
///
/// # Safety
/// As [`bytes`].
pub unsafe fn pin(
    ptr: *const ck::CK_UTF8CHAR,
    len: ck::CK_ULONG,
) -> ShimResult<hsm_core::secret::SecretBytes> {
    // SAFETY: forwarded contract.
    Ok(hsm_core::secret::SecretBytes::new(unsafe {
        bytes(ptr, len)
    }?))
}

/// Writes one value through an out-pointer.
///
/// # Safety
/// `out` must be NULL (rejected) or valid for a write of `T`.
pub unsafe fn put<T>(out: *mut T, value: T) -> ShimResult {
    if out.is_null() {
        return bad_args();
    }
    // SAFETY: non-NULL and writable by the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Reads one value through an in-pointer.
///
/// # Safety
/// `ptr` must be NULL (rejected) or valid for a read of `T`.
pub unsafe fn get<T: Copy>(ptr: *const T) -> ShimResult<T> {
    if ptr.is_null() {
        return bad_args();
    }
    // SAFETY: non-NULL and readable by the caller's contract.
    Ok(unsafe { ptr.read() })
}

/// The two-call output convention: with `out` NULL, report the length; with a short buffer,
/// report the length and `CKR_BUFFER_TOO_SMALL`; otherwise copy.
///
/// # Safety
/// `out_len` must be valid for read and write; `out` must be NULL or valid for `*out_len`
/// bytes.
pub unsafe fn output(out: *mut ck::CK_BYTE, out_len: ck::CK_ULONG_PTR, data: &[u8]) -> ShimResult {
    // SAFETY: forwarded contract.
    let capacity = unsafe { get(out_len) }?;
    // SAFETY: forwarded contract.
    unsafe { put(out_len, data.len() as ck::CK_ULONG) }?;
    if out.is_null() {
        return Ok(());
    }
    if (capacity as usize) < data.len() {
        return rv(ck::CKR_BUFFER_TOO_SMALL);
    }
    // SAFETY: `out` holds at least `capacity >= data.len()` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), out, data.len()) };
    Ok(())
}

/// The question the two-call convention asks before any work is done: `None` when only the
/// length is wanted or the buffer is short (the length has been reported), else the
/// capacity. Lets a caller keep an operation alive across a size query.
///
/// # Safety
/// As [`output`].
pub unsafe fn output_room(
    out: *mut ck::CK_BYTE,
    out_len: ck::CK_ULONG_PTR,
    needed: usize,
) -> ShimResult<bool> {
    // SAFETY: forwarded contract.
    let capacity = unsafe { get(out_len) }?;
    if out.is_null() {
        // SAFETY: forwarded contract.
        unsafe { put(out_len, needed as ck::CK_ULONG) }?;
        return Ok(false);
    }
    if (capacity as usize) < needed {
        // SAFETY: forwarded contract.
        unsafe { put(out_len, needed as ck::CK_ULONG) }?;
        return rv(ck::CKR_BUFFER_TOO_SMALL);
    }
    Ok(true)
}

/// A list output (`C_GetSlotList`, `C_GetMechanismList`) with the two-call convention.
///
/// # Safety
/// `count` must be valid for read and write; `list` NULL or valid for `*count` items.
pub unsafe fn list_output<T: Copy>(
    list: *mut T,
    count: ck::CK_ULONG_PTR,
    items: &[T],
) -> ShimResult {
    // SAFETY: forwarded contract.
    let capacity = unsafe { get(count) }?;
    // SAFETY: forwarded contract.
    unsafe { put(count, items.len() as ck::CK_ULONG) }?;
    if list.is_null() {
        return Ok(());
    }
    if (capacity as usize) < items.len() {
        return rv(ck::CKR_BUFFER_TOO_SMALL);
    }
    // SAFETY: `list` holds at least `capacity >= items.len()` writable items.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), list, items.len()) };
    Ok(())
}

/// Reads a template (types and values).
///
/// # Safety
/// `template` must be NULL (only with `count` 0) or point to `count` attributes whose
/// `pValue` is NULL or valid for `ulValueLen` bytes.
pub unsafe fn template(
    template: *const ck::CK_ATTRIBUTE,
    count: ck::CK_ULONG,
) -> ShimResult<Template> {
    // SAFETY: forwarded contract.
    let attributes = unsafe { slice(template, count) }?;
    attributes
        .iter()
        .map(|a| {
            let value = if hsm_core::array_attr::is_template(a.type_) {
                // SAFETY: the value of a template type is an array of attributes, ulValueLen
                // bytes long, by the caller's contract.
                unsafe { array::read(a) }?
            } else {
                // SAFETY: the attribute's value pointer and length come from the caller's
                // template.
                unsafe { bytes(a.pValue as *const ck::CK_BYTE, a.ulValueLen) }?
            };
            Ok((a.type_, value))
        })
        .collect()
}

/// Borrows a caller's array.
///
/// # Safety
/// `ptr` must be NULL (only with `count` 0) or point to `count` initialised items that outlive
/// the returned borrow.
unsafe fn slice<'a, T>(ptr: *const T, count: ck::CK_ULONG) -> ShimResult<&'a [T]> {
    if ptr.is_null() {
        return if count == 0 { Ok(&[]) } else { bad_args() };
    }
    if count > MAX_LEN {
        return bad_args();
    }
    // SAFETY: non-NULL, and valid for `count` items by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count as usize) })
}

/// The attribute types a `C_GetAttributeValue` template asks for.
///
/// # Safety
/// `template` must point to `count` attributes.
pub unsafe fn attribute_types(
    template: *const ck::CK_ATTRIBUTE,
    count: ck::CK_ULONG,
) -> ShimResult<Vec<ck::CK_ATTRIBUTE_TYPE>> {
    // SAFETY: forwarded contract.
    Ok(unsafe { slice(template, count) }?
        .iter()
        .map(|a| a.type_)
        .collect())
}

/// Fills a `C_GetAttributeValue` template: every attribute that can be given is given; the
/// others get `CK_UNAVAILABLE_INFORMATION`, and the call's return code is the first problem
/// met (sensitive, invalid type, or buffer too small), as the spec asks. Template-typed
/// attributes are arrays, answered by [`array::fill`].
///
/// # Safety
/// `template` must point to `count` writable attributes whose `pValue` is NULL or valid for
/// `ulValueLen` bytes (for a template type: an array of attributes, each likewise).
pub unsafe fn fill_attributes(
    template: *mut ck::CK_ATTRIBUTE,
    count: ck::CK_ULONG,
    values: Vec<Result<Vec<u8>, hsm_core::Error>>,
) -> ShimResult {
    if template.is_null() || count as usize != values.len() {
        return bad_args();
    }
    let mut first_problem: Option<ck::CK_RV> = None;
    for (i, value) in values.into_iter().enumerate() {
        // SAFETY: `i < count`, and the caller's template has `count` writable entries.
        let attribute = unsafe { &mut *template.add(i) };
        let problem = match value {
            Err(e) => {
                attribute.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
                Some(e.ck_rv())
            }
            Ok(value) if hsm_core::array_attr::is_template(attribute.type_) => {
                // SAFETY: forwarded contract, for an array value.
                unsafe { array::fill(attribute, &value) }
            }
            // SAFETY: forwarded contract.
            Ok(value) => unsafe { fill_one(attribute, &value) },
        };
        if first_problem.is_none() {
            first_problem = problem;
        }
    }
    match first_problem {
        Some(code) => rv(code),
        None => Ok(()),
    }
}

/// Answers one attribute: its length when `pValue` is NULL, its value when it fits, else
/// `CK_UNAVAILABLE_INFORMATION` and the problem `CKR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `attribute.pValue` must be NULL or valid for writing `attribute.ulValueLen` bytes.
unsafe fn fill_one(attribute: &mut ck::CK_ATTRIBUTE, value: &[u8]) -> Option<ck::CK_RV> {
    if attribute.pValue.is_null() {
        attribute.ulValueLen = value.len() as ck::CK_ULONG;
        return None;
    }
    if (attribute.ulValueLen as usize) < value.len() {
        attribute.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
        return Some(ck::CKR_BUFFER_TOO_SMALL);
    }
    // SAFETY: pValue is valid for ulValueLen >= value.len() bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), attribute.pValue as *mut u8, value.len());
    }
    attribute.ulValueLen = value.len() as ck::CK_ULONG;
    None
}

/// Reads a mechanism. Parameters are copied only for mechanisms that take them: others may
/// carry garbage (PowerDNS passes uninitialised `pParameter`/`ulParameterLen` with SHA-1).
/// Parameters that hold pointers (GCM, OAEP) are read here, with what they point to, so
/// hsm-core gets owned values only.
///
/// # Safety
/// `mechanism` must be NULL (rejected) or point to a `CK_MECHANISM` whose parameter is valid
/// for its length when the mechanism takes one, and whose inner pointers (IV, AAD, OAEP
/// label) are valid for their lengths.
pub unsafe fn mechanism(mechanism: *const ck::CK_MECHANISM) -> ShimResult<Mechanism> {
    // SAFETY: forwarded contract.
    let m = unsafe { get(mechanism) }?;
    match m.mechanism {
        // SAFETY: forwarded contract: the parameter is a CK_GCM_PARAMS.
        ck::CKM_AES_GCM => return Ok(Mechanism::gcm(unsafe { gcm_params(&m) }?)),
        // SAFETY: forwarded contract: the parameter is a CK_RSA_PKCS_OAEP_PARAMS.
        ck::CKM_RSA_PKCS_OAEP => return Ok(Mechanism::oaep(unsafe { oaep_params(&m) }?)),
        // SAFETY: forwarded contract: the parameter is absent or a CK_EDDSA_PARAMS.
        ck::CKM_EDDSA => return unsafe { params::eddsa(&m) },
        ck::CKM_ECDH1_DERIVE
        | ck::CKM_AES_ECB_ENCRYPT_DATA
        | ck::CKM_AES_CBC_ENCRYPT_DATA
        | ck::CKM_CONCATENATE_BASE_AND_DATA
        | ck::CKM_CONCATENATE_DATA_AND_BASE
        | ck::CKM_XOR_BASE_AND_DATA => {
            // SAFETY: forwarded contract: the parameter is the mechanism's derivation params.
            return unsafe { params::derivation(&m) };
        }
        ck::CKM_SP800_108_COUNTER_KDF | ck::CKM_SP800_108_FEEDBACK_KDF => {
            // SAFETY: forwarded contract: the parameter is the mechanism's KDF params.
            return Ok(unsafe { params::kbkdf(&m) }?.0);
        }
        _ => {}
    }
    let parameter = if takes_parameter(m.mechanism) {
        // SAFETY: for these mechanisms the parameter is part of the caller's contract.
        unsafe { bytes(m.pParameter as *const ck::CK_BYTE, m.ulParameterLen) }?
    } else {
        Vec::new()
    };
    Ok(Mechanism::with_parameter(m.mechanism, parameter))
}

/// Reads a `C_DeriveKey` mechanism, with the slots the handles of an SP 800-108 KDF's
/// additional keys go to (none for other mechanisms).
///
/// # Safety
/// As [`mechanism`]; a KDF's `phKey` pointers must stay writable for the whole call.
pub unsafe fn derive_mechanism(
    mechanism_ptr: *const ck::CK_MECHANISM,
) -> ShimResult<(Mechanism, DerivedKeySlots)> {
    // SAFETY: forwarded contract.
    let m = unsafe { get(mechanism_ptr) }?;
    if matches!(
        m.mechanism,
        ck::CKM_SP800_108_COUNTER_KDF | ck::CKM_SP800_108_FEEDBACK_KDF
    ) {
        // SAFETY: forwarded contract: the parameter is the mechanism's KDF params.
        return unsafe { params::kbkdf(&m) };
    }
    // SAFETY: forwarded contract.
    Ok((
        unsafe { mechanism(mechanism_ptr) }?,
        DerivedKeySlots::default(),
    ))
}

fn takes_parameter(mechanism: ck::CK_MECHANISM_TYPE) -> bool {
    matches!(
        mechanism,
        ck::CKM_RSA_PKCS_PSS
            | ck::CKM_SHA1_RSA_PKCS_PSS
            | ck::CKM_SHA224_RSA_PKCS_PSS
            | ck::CKM_SHA256_RSA_PKCS_PSS
            | ck::CKM_SHA384_RSA_PKCS_PSS
            | ck::CKM_SHA512_RSA_PKCS_PSS
            // CK_MAC_GENERAL_PARAMS, the second key's handle, CK_EXTRACT_PARAMS: a CK_ULONG.
            | ck::CKM_AES_CMAC_GENERAL
            | ck::CKM_CONCATENATE_BASE_AND_KEY
            | ck::CKM_EXTRACT_KEY_FROM_KEY
            // The IV, and CK_AES_CTR_PARAMS: plain data without pointers.
            | ck::CKM_AES_CBC
            | ck::CKM_AES_CBC_PAD
            | ck::CKM_AES_CTR
    )
}

fn param_invalid<T>() -> ShimResult<T> {
    rv(ck::CKR_MECHANISM_PARAM_INVALID)
}

/// Reads bytes a mechanism parameter points to; a bad pointer/length pair is the
/// parameter's fault (`CKR_MECHANISM_PARAM_INVALID`), not the call's.
///
/// # Safety
/// As [`bytes`].
unsafe fn param_bytes(ptr: *const ck::CK_BYTE, len: ck::CK_ULONG) -> ShimResult<Vec<u8>> {
    if (ptr.is_null() && len != 0) || len > MAX_LEN {
        return param_invalid();
    }
    // SAFETY: forwarded contract; NULL only with length 0, which `bytes` accepts.
    unsafe { bytes(ptr, len) }
}

/// Reads the mechanism's parameter as a `T` when its length is exactly `T`'s.
///
/// # Safety
/// A non-NULL `pParameter` must be readable for `ulParameterLen` bytes.
unsafe fn param_struct<T: Copy>(m: &ck::CK_MECHANISM) -> Option<T> {
    if m.pParameter.is_null() || m.ulParameterLen as usize != std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: non-NULL and readable for size_of::<T>() bytes by the caller's contract; the
    // caller's buffer need not be aligned for T, hence the unaligned read. `T` is a
    // plain-data C struct, valid for any bit pattern.
    Some(unsafe { (m.pParameter as *const T).read_unaligned() })
}

/// `CK_GCM_PARAMS` as PKCS#11 2.40 first published it, without `ulIvBits`; some clients
/// still pass this layout, which its size tells apart.
#[repr(C)]
#[derive(Clone, Copy)]
struct GcmParamsV240 {
    iv: *mut ck::CK_BYTE,
    iv_len: ck::CK_ULONG,
    aad: *mut ck::CK_BYTE,
    aad_len: ck::CK_ULONG,
    tag_bits: ck::CK_ULONG,
}

/// Reads `CK_GCM_PARAMS` (3.0 layout, or the 2.40 one) and the IV and AAD it points to.
///
/// # Safety
/// `pParameter` must be NULL (rejected) or point to `ulParameterLen` readable bytes holding a
/// GCM parameter struct whose `pIv` and `pAAD` are valid for their lengths.
unsafe fn gcm_params(m: &ck::CK_MECHANISM) -> ShimResult<CkGcmParams> {
    // SAFETY: forwarded contract.
    if let Some(p) = unsafe { param_struct::<ck::CK_GCM_PARAMS>(m) } {
        return Ok(CkGcmParams {
            // SAFETY: the IV pointer and length come from the caller's CK_GCM_PARAMS.
            iv: unsafe { param_bytes(p.pIv, p.ulIvLen) }?,
            iv_bits: p.ulIvBits,
            // SAFETY: as above, for the AAD.
            aad: unsafe { param_bytes(p.pAAD, p.ulAADLen) }?,
            tag_bits: p.ulTagBits,
        });
    }
    // SAFETY: forwarded contract.
    if let Some(p) = unsafe { param_struct::<GcmParamsV240>(m) } {
        return Ok(CkGcmParams {
            // SAFETY: the IV pointer and length come from the caller's parameter struct.
            iv: unsafe { param_bytes(p.iv, p.iv_len) }?,
            iv_bits: p.iv_len.saturating_mul(8),
            // SAFETY: as above, for the AAD.
            aad: unsafe { param_bytes(p.aad, p.aad_len) }?,
            tag_bits: p.tag_bits,
        });
    }
    param_invalid()
}

/// Reads `CK_RSA_PKCS_OAEP_PARAMS` and the label (`pSourceData`) it points to.
///
/// # Safety
/// `pParameter` must be NULL (rejected) or point to `ulParameterLen` readable bytes holding a
/// `CK_RSA_PKCS_OAEP_PARAMS` whose `pSourceData` is valid for `ulSourceDataLen` bytes.
unsafe fn oaep_params(m: &ck::CK_MECHANISM) -> ShimResult<CkOaepParams> {
    // SAFETY: forwarded contract.
    let Some(p) = (unsafe { param_struct::<ck::CK_RSA_PKCS_OAEP_PARAMS>(m) }) else {
        return param_invalid();
    };
    Ok(CkOaepParams {
        hash_alg: p.hashAlg,
        mgf: p.mgf,
        source: p.source,
        // SAFETY: the label pointer and length come from the caller's OAEP parameters.
        source_data: unsafe {
            param_bytes(p.pSourceData as *const ck::CK_BYTE, p.ulSourceDataLen)
        }?,
    })
}

/// The caller's room for output under the two-call convention: `None` when `out` is NULL
/// (a size query), else the capacity `*out_len` states.
///
/// # Safety
/// As [`output`].
pub unsafe fn output_capacity(
    out: *mut ck::CK_BYTE,
    out_len: ck::CK_ULONG_PTR,
) -> ShimResult<Option<usize>> {
    // SAFETY: forwarded contract.
    let capacity = unsafe { get(out_len) }?;
    Ok((!out.is_null()).then_some(capacity as usize))
}

/// Delivers an [`Output`]: the data, or its length alone (with `CKR_BUFFER_TOO_SMALL` when
/// a buffer was given).
///
/// # Safety
/// As [`output`]; the room the output was computed for came from [`output_capacity`].
pub unsafe fn write_output(
    out: *mut ck::CK_BYTE,
    out_len: ck::CK_ULONG_PTR,
    result: &Output,
) -> ShimResult {
    match result {
        // SAFETY: forwarded contract; the data fits the room the caller gave.
        Output::Data(data) => unsafe { output(out, out_len, data.expose()) },
        Output::Needed(needed) => {
            // SAFETY: forwarded contract.
            unsafe { put(out_len, *needed as ck::CK_ULONG) }?;
            if out.is_null() {
                Ok(())
            } else {
                rv(ck::CKR_BUFFER_TOO_SMALL)
            }
        }
    }
}

/// Copies `text` into a fixed, blank-padded field, as PKCS#11 strings are (no NUL).
pub fn padded<const N: usize>(text: &str) -> [ck::CK_UTF8CHAR; N] {
    let mut field = [b' '; N];
    let mut end = text.len().min(N);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    field[..end].copy_from_slice(&text.as_bytes()[..end]);
    field
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::ffi::c_void;

    use super::*;
    use hsm_core::mechanism::PointerParams;
    use hsm_core::secret::SecretBytes;

    fn mech<T>(mechanism: ck::CK_MECHANISM_TYPE, param: &mut T) -> ck::CK_MECHANISM {
        ck::CK_MECHANISM {
            mechanism,
            pParameter: param as *mut T as *mut c_void,
            ulParameterLen: std::mem::size_of::<T>() as ck::CK_ULONG,
        }
    }

    fn rv_of<T: std::fmt::Debug>(result: ShimResult<T>) -> ck::CK_RV {
        result.unwrap_err().rv()
    }

    #[test]
    fn gcm_params_are_read_in_both_layouts() {
        let mut iv = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let mut aad = *b"header";
        let mut v30 = ck::CK_GCM_PARAMS {
            pIv: iv.as_mut_ptr(),
            ulIvLen: 12,
            ulIvBits: 96,
            pAAD: aad.as_mut_ptr(),
            ulAADLen: 6,
            ulTagBits: 128,
        };
        let m = mech(ck::CKM_AES_GCM, &mut v30);
        // SAFETY: `m` points to a live CK_GCM_PARAMS whose IV and AAD outlive the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::Gcm(p)) = parsed.pointer_params else {
            panic!("no GCM parameters");
        };
        assert_eq!((p.iv.as_slice(), p.aad.as_slice()), (&iv[..], &aad[..]));
        assert_eq!((p.iv_bits, p.tag_bits), (96, 128));

        let mut v240 = GcmParamsV240 {
            iv: iv.as_mut_ptr(),
            iv_len: 8,
            aad: std::ptr::null_mut(),
            aad_len: 0,
            tag_bits: 96,
        };
        let m = mech(ck::CKM_AES_GCM, &mut v240);
        // SAFETY: as above, with the 2.40 layout and no AAD.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::Gcm(p)) = parsed.pointer_params else {
            panic!("no GCM parameters");
        };
        assert_eq!(
            (p.iv.as_slice(), p.aad.len(), p.tag_bits),
            (&iv[..8], 0, 96)
        );

        // A NULL AAD with a length, a NULL parameter, or a struct of another size.
        v30.pAAD = std::ptr::null_mut();
        let m = mech(ck::CKM_AES_GCM, &mut v30);
        // SAFETY: the struct is live; its AAD pointer is NULL, which must be refused.
        let result = unsafe { mechanism(&m) };
        assert_eq!(rv_of(result), ck::CKR_MECHANISM_PARAM_INVALID);
        let null = ck::CK_MECHANISM {
            mechanism: ck::CKM_AES_GCM,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        // SAFETY: no parameter at all.
        let result = unsafe { mechanism(&null) };
        assert_eq!(rv_of(result), ck::CKR_MECHANISM_PARAM_INVALID);
        let mut short = [0u8; 24];
        let m = mech(ck::CKM_AES_GCM, &mut short);
        // SAFETY: 24 readable bytes, matching neither layout.
        let result = unsafe { mechanism(&m) };
        assert_eq!(rv_of(result), ck::CKR_MECHANISM_PARAM_INVALID);
    }

    #[test]
    fn oaep_params_carry_their_label() {
        let mut label = *b"my label";
        let mut params = ck::CK_RSA_PKCS_OAEP_PARAMS {
            hashAlg: ck::CKM_SHA256,
            mgf: ck::CKG_MGF1_SHA1,
            source: ck::CKZ_DATA_SPECIFIED,
            pSourceData: label.as_mut_ptr() as *mut c_void,
            ulSourceDataLen: label.len() as ck::CK_ULONG,
        };
        let m = mech(ck::CKM_RSA_PKCS_OAEP, &mut params);
        // SAFETY: `m` points to live OAEP parameters whose label outlives the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::Oaep(p)) = parsed.pointer_params else {
            panic!("no OAEP parameters");
        };
        assert_eq!(p.source_data, label);
        assert_eq!(
            (p.hash_alg, p.mgf, p.source),
            (ck::CKM_SHA256, ck::CKG_MGF1_SHA1, 1)
        );
        params.pSourceData = std::ptr::null_mut();
        params.ulSourceDataLen = 0;
        let m = mech(ck::CKM_RSA_PKCS_OAEP, &mut params);
        // SAFETY: no label: NULL with length 0.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::Oaep(p)) = parsed.pointer_params else {
            panic!("no OAEP parameters");
        };
        assert!(p.source_data.is_empty());
    }

    #[test]
    fn plain_parameters_are_copied_as_bytes() {
        let mut ctr = ck::CK_AES_CTR_PARAMS {
            ulCounterBits: 32,
            cb: [9; 16],
        };
        let m = mech(ck::CKM_AES_CTR, &mut ctr);
        // SAFETY: `m` points to a live CK_AES_CTR_PARAMS.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        assert_eq!(
            parsed.parameter.len(),
            std::mem::size_of::<ck::CK_AES_CTR_PARAMS>()
        );
        assert!(parsed.pointer_params.is_none());
        // ECB takes no parameter: whatever the caller left there is ignored.
        let garbage = ck::CK_MECHANISM {
            mechanism: ck::CKM_AES_ECB,
            pParameter: 0x10 as *mut c_void,
            ulParameterLen: 77,
        };
        // SAFETY: the parameter of ECB is never read.
        assert!(unsafe { mechanism(&garbage) }.unwrap().parameter.is_empty());
    }

    #[test]
    fn sized_outputs_follow_the_two_call_convention() {
        let mut len: ck::CK_ULONG = 0;
        // SAFETY: `len` is a live CK_ULONG; the buffer is NULL.
        let room = unsafe { output_capacity(std::ptr::null_mut(), &mut len) }.unwrap();
        assert_eq!(room, None);
        // SAFETY: as above: a size query writes the length only.
        unsafe { write_output(std::ptr::null_mut(), &mut len, &Output::Needed(48)) }.unwrap();
        assert_eq!(len, 48);
        let mut buf = [0u8; 4];
        len = 4;
        // SAFETY: `buf` holds `len` writable bytes.
        let room = unsafe { output_capacity(buf.as_mut_ptr(), &mut len) }.unwrap();
        assert_eq!(room, Some(4));
        // SAFETY: as above; the output is too large for the buffer.
        let short = unsafe { write_output(buf.as_mut_ptr(), &mut len, &Output::Needed(9)) };
        assert_eq!(rv_of(short), ck::CKR_BUFFER_TOO_SMALL);
        assert_eq!(len, 9);
        len = 4;
        let data = Output::Data(SecretBytes::from_slice(b"abc"));
        // SAFETY: as above; three bytes fit.
        unsafe { write_output(buf.as_mut_ptr(), &mut len, &data) }.unwrap();
        assert_eq!((len, &buf[..3]), (3, &b"abc"[..]));
    }
}
