//! The values of `CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE` and `CKA_DERIVE_TEMPLATE`: arrays
//! of `CK_ATTRIBUTE` (`ulValueLen` = n × `sizeof(CK_ATTRIBUTE)`), read into hsm-core's
//! encoding and written back with the three-call convention of PKCS#11 3.0 §5.7
//! `C_GetAttributeValue`:
//!
//! 1. `pValue` NULL: `ulValueLen` = n × `sizeof(CK_ATTRIBUTE)`;
//! 2. an array of n elements whose `pValue` are all NULL: each element gets a type and its
//!    value's length (the caller cannot know the types, so the module tells them, as SoftHSM
//!    does);
//! 3. otherwise each element is answered for its own type, like a top-level attribute.
//!
//! The caller's array is a byte buffer to PKCS#11 (`pValue` is `void *`), so its elements are
//! read and written unaligned. Templates nest one level only.

use cryptoki_sys as ck;
use hsm_core::array_attr;
use hsm_core::attr::Template;

use super::{MAX_LEN, bytes, fill_one};
use crate::error::{ShimResult, bad_args, rv};

/// Bytes of one `CK_ATTRIBUTE`.
const ATTRIBUTE_SIZE: usize = std::mem::size_of::<ck::CK_ATTRIBUTE>();

/// Reads element `i` of a caller's attribute array.
///
/// # Safety
/// `array` must be valid for reading `i + 1` `CK_ATTRIBUTE`s (alignment not needed).
unsafe fn element(array: *const ck::CK_ATTRIBUTE, i: usize) -> ck::CK_ATTRIBUTE {
    // SAFETY: in bounds by the caller's contract; the read is unaligned.
    unsafe { array.add(i).read_unaligned() }
}

/// Reads the nested template of `outer` (one of the template types) into hsm-core's encoding.
///
/// # Safety
/// `outer.pValue` must be NULL (only with length 0) or point to `outer.ulValueLen` readable
/// bytes holding `CK_ATTRIBUTE`s whose `pValue` are NULL or valid for their `ulValueLen`.
pub(super) unsafe fn read(outer: &ck::CK_ATTRIBUTE) -> ShimResult<Vec<u8>> {
    let len = outer.ulValueLen;
    if outer.pValue.is_null() {
        return if len == 0 { Ok(Vec::new()) } else { bad_args() };
    }
    if len > MAX_LEN {
        return bad_args();
    }
    if !(len as usize).is_multiple_of(ATTRIBUTE_SIZE) {
        return rv(ck::CKR_ATTRIBUTE_VALUE_INVALID);
    }
    let array = outer.pValue as *const ck::CK_ATTRIBUTE;
    let mut template: Template = Vec::new();
    for i in 0..len as usize / ATTRIBUTE_SIZE {
        // SAFETY: `i` is below the number of whole attributes in the caller's value.
        let inner = unsafe { element(array, i) };
        if array_attr::is_template(inner.type_) {
            // One level only: a nested array would be a pointer structure stored as bytes.
            return rv(ck::CKR_ATTRIBUTE_VALUE_INVALID);
        }
        // SAFETY: the inner value pointer and length come from the caller's template.
        let value = unsafe { bytes(inner.pValue as *const ck::CK_BYTE, inner.ulValueLen) }?;
        template.push((inner.type_, value));
    }
    Ok(array_attr::encode(&template))
}

/// Answers one template-typed attribute of a `C_GetAttributeValue` call from its stored
/// encoding; returns the problem to report, if any.
///
/// # Safety
/// `outer.pValue` must be NULL or valid for reading and writing `outer.ulValueLen` bytes,
/// and the `pValue` of every element in it NULL or valid for its `ulValueLen` bytes.
pub(super) unsafe fn fill(outer: &mut ck::CK_ATTRIBUTE, encoded: &[u8]) -> Option<ck::CK_RV> {
    let template = match array_attr::decode(outer.type_, encoded) {
        Ok(template) => template,
        Err(e) => {
            outer.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
            return Some(e.ck_rv());
        }
    };
    let needed = template.len() * ATTRIBUTE_SIZE;
    if outer.pValue.is_null() {
        outer.ulValueLen = needed as ck::CK_ULONG;
        return None;
    }
    if (outer.ulValueLen as usize) < needed {
        outer.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
        return Some(ck::CKR_BUFFER_TOO_SMALL);
    }
    outer.ulValueLen = needed as ck::CK_ULONG;
    let array = outer.pValue as *mut ck::CK_ATTRIBUTE;
    let elements: Vec<ck::CK_ATTRIBUTE> = (0..template.len())
        // SAFETY: the caller's buffer holds at least `needed` bytes: `template.len()` elements.
        .map(|i| unsafe { element(array, i) })
        .collect();
    if elements.iter().all(|e| e.pValue.is_null()) {
        for (i, (ty, value)) in template.iter().enumerate() {
            let answer = ck::CK_ATTRIBUTE {
                type_: *ty,
                pValue: std::ptr::null_mut(),
                ulValueLen: value.len() as ck::CK_ULONG,
            };
            // SAFETY: element `i` is within the caller's buffer, as above.
            unsafe { array.add(i).write_unaligned(answer) };
        }
        return None;
    }
    let mut first_problem = None;
    for (i, mut inner) in elements.into_iter().enumerate() {
        let problem = match template.iter().find(|(ty, _)| *ty == inner.type_) {
            None => {
                inner.ulValueLen = ck::CK_UNAVAILABLE_INFORMATION;
                Some(ck::CKR_ATTRIBUTE_TYPE_INVALID)
            }
            // SAFETY: the element's pValue is NULL or valid for its ulValueLen bytes.
            Some((_, value)) => unsafe { fill_one(&mut inner, value) },
        };
        // SAFETY: element `i` is within the caller's buffer, as above.
        unsafe { array.add(i).write_unaligned(inner) };
        first_problem = first_problem.or(problem);
    }
    first_problem
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::ffi::c_void;

    use super::*;

    fn attribute<T>(type_: ck::CK_ATTRIBUTE_TYPE, value: &mut [T]) -> ck::CK_ATTRIBUTE {
        ck::CK_ATTRIBUTE {
            type_,
            pValue: value.as_mut_ptr() as *mut c_void,
            ulValueLen: std::mem::size_of_val(value) as ck::CK_ULONG,
        }
    }

    fn stored() -> Vec<u8> {
        array_attr::encode(&[
            (ck::CKA_LABEL, b"wrapped".to_vec()),
            (ck::CKA_EXTRACTABLE, vec![0]),
        ])
    }

    #[test]
    fn a_nested_template_is_read_into_the_canonical_encoding() {
        let mut label = *b"wrapped";
        let mut no = [0u8];
        let mut inner = [
            attribute(ck::CKA_LABEL, &mut label),
            attribute(ck::CKA_EXTRACTABLE, &mut no),
        ];
        let outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
        // SAFETY: `outer` points to two live attributes whose values outlive the call.
        assert_eq!(unsafe { read(&outer) }.unwrap(), stored());

        let empty = ck::CK_ATTRIBUTE {
            type_: ck::CKA_WRAP_TEMPLATE,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        };
        // SAFETY: an empty template: NULL with length 0.
        assert!(unsafe { read(&empty) }.unwrap().is_empty());

        let mut cut = outer;
        cut.ulValueLen -= 1;
        // SAFETY: the length is one byte short of the live array: refused before reading.
        let result = unsafe { read(&cut) };
        assert_eq!(result.unwrap_err().rv(), ck::CKR_ATTRIBUTE_VALUE_INVALID);

        let mut nested = [attribute(ck::CKA_DERIVE_TEMPLATE, &mut inner)];
        let outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut nested);
        // SAFETY: a live one-attribute array whose element is itself a template.
        let result = unsafe { read(&outer) };
        assert_eq!(result.unwrap_err().rv(), ck::CKR_ATTRIBUTE_VALUE_INVALID);
    }

    #[test]
    fn get_attribute_value_follows_the_three_call_convention() {
        let encoded = stored();
        // 1: the length of the array.
        let mut outer = ck::CK_ATTRIBUTE {
            type_: ck::CKA_UNWRAP_TEMPLATE,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        };
        // SAFETY: a size query: pValue is NULL.
        assert_eq!(unsafe { fill(&mut outer, &encoded) }, None);
        assert_eq!(outer.ulValueLen as usize, 2 * ATTRIBUTE_SIZE);

        // A one-element array is too short.
        let mut short = [attribute::<u8>(0, &mut [])];
        let mut outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut short);
        // SAFETY: a live one-element array.
        let problem = unsafe { fill(&mut outer, &encoded) };
        assert_eq!(problem, Some(ck::CKR_BUFFER_TOO_SMALL));
        assert_eq!(outer.ulValueLen, ck::CK_UNAVAILABLE_INFORMATION);

        // 2: types and lengths.
        let blank = ck::CK_ATTRIBUTE {
            type_: 0,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        };
        let mut inner = [blank, blank];
        let mut outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
        // SAFETY: a live two-element array whose values are all NULL.
        assert_eq!(unsafe { fill(&mut outer, &encoded) }, None);
        let answered: Vec<_> = inner.iter().map(|a| (a.type_, a.ulValueLen)).collect();
        assert_eq!(answered, [(ck::CKA_LABEL, 7), (ck::CKA_EXTRACTABLE, 1)]);

        // 3: the values, each element answered for its own type.
        let mut flag = [9u8];
        let mut label = [0u8; 16];
        let mut inner = [
            attribute(ck::CKA_LABEL, &mut label),
            attribute(ck::CKA_EXTRACTABLE, &mut flag),
        ];
        let mut outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
        // SAFETY: a live two-element array with buffers of the stated lengths.
        assert_eq!(unsafe { fill(&mut outer, &encoded) }, None);
        assert_eq!((inner[0].ulValueLen, inner[1].ulValueLen), (7, 1));
        assert_eq!((&label[..7], flag[0]), (&b"wrapped"[..], 0));

        // An element too small, and a type the template lacks.
        let mut tiny = [0u8; 2];
        let mut other = [0u8; 8];
        let mut inner = [
            attribute(ck::CKA_LABEL, &mut tiny),
            attribute(ck::CKA_ID, &mut other),
        ];
        let mut outer = attribute(ck::CKA_UNWRAP_TEMPLATE, &mut inner);
        // SAFETY: as above.
        let problem = unsafe { fill(&mut outer, &encoded) };
        assert_eq!(problem, Some(ck::CKR_BUFFER_TOO_SMALL));
        assert_eq!(inner[0].ulValueLen, ck::CK_UNAVAILABLE_INFORMATION);
        assert_eq!(inner[1].ulValueLen, ck::CK_UNAVAILABLE_INFORMATION);
    }

    #[test]
    fn an_empty_template_is_an_empty_array() {
        let mut outer = ck::CK_ATTRIBUTE {
            type_: ck::CKA_WRAP_TEMPLATE,
            pValue: std::ptr::null_mut(),
            ulValueLen: 99,
        };
        // SAFETY: a size query.
        assert_eq!(unsafe { fill(&mut outer, &[]) }, None);
        assert_eq!(outer.ulValueLen, 0);
    }
}

#[cfg(test)]
mod e2e;
