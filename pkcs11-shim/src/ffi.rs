//! All pointer intake of the module: small `unsafe` helpers that turn the caller's C
//! arguments into Rust values and write results back, each relying on the PKCS#11 contract
//! for that argument. Every other file works on safe values only.

use cryptoki_sys as ck;
use hsm_core::attr::Template;
use hsm_core::mechanism::Mechanism;

use crate::error::{ShimResult, bad_args, rv};

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
            // SAFETY: the attribute's value pointer and length come from the caller's template.
            let value = unsafe { bytes(a.pValue as *const ck::CK_BYTE, a.ulValueLen) }?;
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
/// met (sensitive, invalid type, or buffer too small), as the spec asks.
///
/// # Safety
/// `template` must point to `count` writable attributes whose `pValue` is NULL or valid for
/// `ulValueLen` bytes.
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
            Ok(value) if attribute.pValue.is_null() => {
                attribute.ulValueLen = value.len() as ck::CK_ULONG;
                None
            }
            Ok(value) if (attribute.ulValueLen as usize) < value.len() => {
                attribute.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
                Some(ck::CKR_BUFFER_TOO_SMALL)
            }
            Ok(value) => {
                // SAFETY: pValue is valid for ulValueLen >= value.len() bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        value.as_ptr(),
                        attribute.pValue as *mut u8,
                        value.len(),
                    );
                }
                attribute.ulValueLen = value.len() as ck::CK_ULONG;
                None
            }
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

/// Reads a mechanism. Parameters are copied only for mechanisms that take them: others may
/// carry garbage (PowerDNS passes uninitialised `pParameter`/`ulParameterLen` with SHA-1).
///
/// # Safety
/// `mechanism` must be NULL (rejected) or point to a `CK_MECHANISM` whose parameter is valid
/// for its length when the mechanism takes one.
pub unsafe fn mechanism(mechanism: *const ck::CK_MECHANISM) -> ShimResult<Mechanism> {
    // SAFETY: forwarded contract.
    let m = unsafe { get(mechanism) }?;
    let parameter = if takes_parameter(m.mechanism) {
        // SAFETY: for these mechanisms the parameter is part of the caller's contract.
        unsafe { bytes(m.pParameter as *const ck::CK_BYTE, m.ulParameterLen) }?
    } else {
        Vec::new()
    };
    Ok(Mechanism {
        mechanism: m.mechanism,
        parameter,
    })
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
            | ck::CKM_EDDSA
    )
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
