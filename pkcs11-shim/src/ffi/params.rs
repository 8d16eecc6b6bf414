//! Mechanism parameters that hold pointers, for EdDSA and key derivation: read here, with
//! what they point to, into hsm-core's owned forms. A pointer/length pair inside a
//! parameter that cannot be right is the parameter's fault (`CKR_MECHANISM_PARAM_INVALID`).

use cryptoki_sys as ck;
use hsm_core::attr::Template;
use hsm_core::mechanism::{
    CkAesCbcDataParams, CkEcdh1Params, CkEddsaParams, CkKbkdfParams, CounterFormat,
    DkmLengthFormat, KbkdfData, Mechanism, PointerParams,
};
use hsm_core::secret::SecretBytes;

use super::{param_bytes, param_invalid, param_struct, slice, template};
use crate::error::{ShimResult, bad_args};

/// Most data params and additional keys a KDF may list: far beyond any real use.
const MAX_ITEMS: ck::CK_ULONG = 1024;

/// Reads `CK_EDDSA_PARAMS`; no parameter at all is plain EdDSA.
///
/// # Safety
/// A non-NULL `pParameter` must point to `ulParameterLen` readable bytes holding a
/// `CK_EDDSA_PARAMS` whose `pContextData` is valid for `ulContextDataLen` bytes.
pub(super) unsafe fn eddsa(m: &ck::CK_MECHANISM) -> ShimResult<Mechanism> {
    if m.pParameter.is_null() && m.ulParameterLen == 0 {
        return Ok(Mechanism::new(ck::CKM_EDDSA));
    }
    // SAFETY: forwarded contract.
    let Some(p) = (unsafe { param_struct::<ck::CK_EDDSA_PARAMS>(m) }) else {
        return param_invalid();
    };
    Ok(Mechanism::eddsa(CkEddsaParams {
        ph_flag: p.phFlag != 0,
        // SAFETY: the context pointer and length come from the caller's CK_EDDSA_PARAMS.
        context: unsafe { param_bytes(p.pContextData, p.ulContextDataLen) }?,
    }))
}

/// Reads the parameter of a derivation mechanism that holds pointers: ECDH, AES encryption
/// of data, and the concatenation and XOR of a key with data.
///
/// # Safety
/// `pParameter` must be NULL (rejected) or point to `ulParameterLen` readable bytes holding
/// the mechanism's parameter struct, whose inner pointers are valid for their lengths.
pub(super) unsafe fn derivation(m: &ck::CK_MECHANISM) -> ShimResult<Mechanism> {
    let params = match m.mechanism {
        ck::CKM_ECDH1_DERIVE => {
            // SAFETY: forwarded contract: the parameter is a CK_ECDH1_DERIVE_PARAMS.
            let Some(p) = (unsafe { param_struct::<ck::CK_ECDH1_DERIVE_PARAMS>(m) }) else {
                return param_invalid();
            };
            PointerParams::Ecdh1(CkEcdh1Params {
                kdf: p.kdf,
                // SAFETY: the shared data pointer and length come from the caller's params.
                shared_data: unsafe { param_bytes(p.pSharedData, p.ulSharedDataLen) }?,
                // SAFETY: as above, for the peer's public point.
                public_data: unsafe { param_bytes(p.pPublicData, p.ulPublicDataLen) }?,
            })
        }
        ck::CKM_AES_CBC_ENCRYPT_DATA => {
            // SAFETY: forwarded contract: the parameter is a CK_AES_CBC_ENCRYPT_DATA_PARAMS.
            let Some(p) = (unsafe { param_struct::<ck::CK_AES_CBC_ENCRYPT_DATA_PARAMS>(m) }) else {
                return param_invalid();
            };
            PointerParams::AesCbcData(CkAesCbcDataParams {
                iv: p.iv,
                // SAFETY: the data pointer and length come from the caller's params.
                data: SecretBytes::new(unsafe { param_bytes(p.pData, p.length) }?),
            })
        }
        _ => {
            // SAFETY: forwarded contract: the parameter is a CK_KEY_DERIVATION_STRING_DATA.
            let Some(p) = (unsafe { param_struct::<ck::CK_KEY_DERIVATION_STRING_DATA>(m) }) else {
                return param_invalid();
            };
            // SAFETY: the data pointer and length come from the caller's params.
            PointerParams::DerivationData(SecretBytes::new(unsafe {
                param_bytes(p.pData, p.ulLen)
            }?))
        }
    };
    Ok(Mechanism::with_pointer_params(m.mechanism, params))
}

/// Where the handles of a KDF's additional keys go: the `phKey` of each `CK_DERIVED_KEY`.
#[derive(Debug, Default)]
pub struct DerivedKeySlots(Vec<*mut ck::CK_OBJECT_HANDLE>);

impl DerivedKeySlots {
    /// Checks every slot can take a handle, before any key is made.
    pub fn check(&self) -> ShimResult {
        if self.0.iter().any(|slot| slot.is_null()) {
            return bad_args();
        }
        Ok(())
    }

    /// Writes the additional keys' handles, in order.
    ///
    /// # Safety
    /// The slots must still be the caller's writable `phKey` pointers, as they are for the
    /// whole `C_DeriveKey` call.
    pub unsafe fn write(&self, handles: &[ck::CK_OBJECT_HANDLE]) -> ShimResult {
        for (slot, handle) in self.0.iter().zip(handles) {
            // SAFETY: forwarded contract; each slot was checked non-NULL.
            unsafe { super::put(*slot, *handle) }?;
        }
        Ok(())
    }
}

/// Reads `CK_SP800_108_KDF_PARAMS` or `CK_SP800_108_FEEDBACK_KDF_PARAMS`, their data
/// params, IV and additional keys' templates, and keeps where the additional handles go.
///
/// # Safety
/// `pParameter` must be NULL (rejected) or point to `ulParameterLen` readable bytes holding
/// the mechanism's KDF parameters, whose arrays and the structures and bytes they point to
/// are valid for their lengths.
pub(super) unsafe fn kbkdf(m: &ck::CK_MECHANISM) -> ShimResult<(Mechanism, DerivedKeySlots)> {
    // (prf, data params, IV, additional keys) in either layout.
    let (prf, count, data, iv, keys_count, keys) = if m.mechanism == ck::CKM_SP800_108_FEEDBACK_KDF
    {
        // SAFETY: forwarded contract: the parameter is a CK_SP800_108_FEEDBACK_KDF_PARAMS.
        let Some(p) = (unsafe { param_struct::<ck::CK_SP800_108_FEEDBACK_KDF_PARAMS>(m) }) else {
            return param_invalid();
        };
        // SAFETY: the IV pointer and length come from the caller's params.
        let iv = unsafe { param_bytes(p.pIV, p.ulIVLen) }?;
        let (n, d) = (p.ulNumberOfDataParams, p.pDataParams);
        (
            p.prfType,
            n,
            d,
            iv,
            p.ulAdditionalDerivedKeys,
            p.pAdditionalDerivedKeys,
        )
    } else {
        // SAFETY: forwarded contract: the parameter is a CK_SP800_108_KDF_PARAMS.
        let Some(p) = (unsafe { param_struct::<ck::CK_SP800_108_KDF_PARAMS>(m) }) else {
            return param_invalid();
        };
        let (n, d) = (p.ulNumberOfDataParams, p.pDataParams);
        (
            p.prfType,
            n,
            d,
            Vec::new(),
            p.ulAdditionalDerivedKeys,
            p.pAdditionalDerivedKeys,
        )
    };
    if count > MAX_ITEMS || keys_count > MAX_ITEMS {
        return param_invalid();
    }
    // SAFETY: the data params array and its length come from the caller's params.
    let data = unsafe { slice(data, count) }.or_else(|_| param_invalid())?;
    let data = data
        .iter()
        // SAFETY: each data param's value pointer and length come from the caller.
        .map(|d| unsafe { prf_data(d) })
        .collect::<ShimResult<Vec<_>>>()?;
    // SAFETY: the additional keys array and its length come from the caller's params.
    let keys = unsafe { slice(keys, keys_count) }.or_else(|_| param_invalid())?;
    let additional_keys = keys
        .iter()
        // SAFETY: each additional key's template comes from the caller with its count.
        .map(|k| unsafe { template(k.pTemplate, k.ulAttributeCount) })
        .collect::<ShimResult<Vec<Template>>>()?;
    let slots = DerivedKeySlots(keys.iter().map(|k| k.phKey).collect());
    let params = CkKbkdfParams {
        prf,
        data,
        iv,
        additional_keys,
    };
    Ok((
        Mechanism::with_pointer_params(m.mechanism, PointerParams::Kbkdf(params)),
        slots,
    ))
}

/// Reads one `CK_PRF_DATA_PARAM` and the value it points to.
///
/// # Safety
/// `pValue` must be NULL or valid for `ulValueLen` bytes of the structure its type names.
unsafe fn prf_data(d: &ck::CK_PRF_DATA_PARAM) -> ShimResult<KbkdfData> {
    let value = ck::CK_MECHANISM {
        mechanism: 0,
        pParameter: d.pValue,
        ulParameterLen: d.ulValueLen,
    };
    Ok(match d.type_ {
        ck::CK_SP800_108_ITERATION_VARIABLE if d.pValue.is_null() => {
            if d.ulValueLen != 0 {
                return param_invalid();
            }
            KbkdfData::IterationVariable(None)
        }
        ck::CK_SP800_108_ITERATION_VARIABLE => {
            // SAFETY: forwarded contract; the value is a CK_SP800_108_COUNTER_FORMAT.
            let format = unsafe { counter_format(&value) }?;
            KbkdfData::IterationVariable(Some(format))
        }
        ck::CK_SP800_108_OPTIONAL_COUNTER => {
            // SAFETY: forwarded contract; the value is a CK_SP800_108_COUNTER_FORMAT.
            KbkdfData::Counter(unsafe { counter_format(&value) }?)
        }
        ck::CK_SP800_108_DKM_LENGTH => {
            // SAFETY: forwarded contract; the value is a CK_SP800_108_DKM_LENGTH_FORMAT.
            let Some(f) = (unsafe { param_struct::<ck::CK_SP800_108_DKM_LENGTH_FORMAT>(&value) })
            else {
                return param_invalid();
            };
            KbkdfData::DkmLength(DkmLengthFormat {
                method: f.dkmLengthMethod,
                little_endian: f.bLittleEndian != 0,
                width_bits: f.ulWidthInBits,
            })
        }
        ck::CK_SP800_108_BYTE_ARRAY => {
            // SAFETY: forwarded contract; the value is `ulValueLen` bytes.
            KbkdfData::ByteArray(unsafe { param_bytes(d.pValue as *const u8, d.ulValueLen) }?)
        }
        _ => return param_invalid(),
    })
}

/// # Safety
/// As [`param_struct`].
unsafe fn counter_format(value: &ck::CK_MECHANISM) -> ShimResult<CounterFormat> {
    // SAFETY: forwarded contract.
    let Some(f) = (unsafe { param_struct::<ck::CK_SP800_108_COUNTER_FORMAT>(value) }) else {
        return param_invalid();
    };
    Ok(CounterFormat {
        little_endian: f.bLittleEndian != 0,
        width_bits: f.ulWidthInBits,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::ffi::c_void;

    use super::super::{derive_mechanism, mechanism};
    use super::*;

    fn mech<T>(mechanism: ck::CK_MECHANISM_TYPE, param: &mut T) -> ck::CK_MECHANISM {
        ck::CK_MECHANISM {
            mechanism,
            pParameter: param as *mut T as *mut c_void,
            ulParameterLen: std::mem::size_of::<T>() as ck::CK_ULONG,
        }
    }

    #[test]
    fn eddsa_params_are_optional_and_carry_their_context() {
        let none = ck::CK_MECHANISM {
            mechanism: ck::CKM_EDDSA,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        // SAFETY: no parameter.
        let parsed = unsafe { mechanism(&none) }.unwrap();
        assert!(parsed.pointer_params.is_none());
        let mut context = *b"context";
        let mut params = ck::CK_EDDSA_PARAMS {
            phFlag: 1,
            ulContextDataLen: context.len() as ck::CK_ULONG,
            pContextData: context.as_mut_ptr(),
        };
        let m = mech(ck::CKM_EDDSA, &mut params);
        // SAFETY: `m` points to live CK_EDDSA_PARAMS whose context outlives the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        assert_eq!(
            parsed.pointer_params,
            Some(PointerParams::Eddsa(CkEddsaParams {
                ph_flag: true,
                context: context.to_vec(),
            }))
        );
        let mut short = [0u8; 8];
        let m = mech(ck::CKM_EDDSA, &mut short);
        // SAFETY: eight readable bytes, not a CK_EDDSA_PARAMS.
        let result = unsafe { mechanism(&m) };
        assert_eq!(result.unwrap_err().rv(), ck::CKR_MECHANISM_PARAM_INVALID);
    }

    #[test]
    fn derivation_params_are_read_with_what_they_point_to() {
        let mut point = [4u8; 65];
        let mut ecdh = ck::CK_ECDH1_DERIVE_PARAMS {
            kdf: ck::CKD_NULL,
            ulSharedDataLen: 0,
            pSharedData: std::ptr::null_mut(),
            ulPublicDataLen: 65,
            pPublicData: point.as_mut_ptr(),
        };
        let m = mech(ck::CKM_ECDH1_DERIVE, &mut ecdh);
        // SAFETY: live params whose point outlives the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::Ecdh1(p)) = parsed.pointer_params else {
            panic!("no ECDH parameters");
        };
        assert_eq!((p.kdf, p.public_data.len()), (ck::CKD_NULL, 65));

        let mut data = [7u8; 32];
        let mut cbc = ck::CK_AES_CBC_ENCRYPT_DATA_PARAMS {
            iv: [1; 16],
            pData: data.as_mut_ptr(),
            length: 32,
        };
        let m = mech(ck::CKM_AES_CBC_ENCRYPT_DATA, &mut cbc);
        // SAFETY: live params whose data outlives the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        let Some(PointerParams::AesCbcData(p)) = parsed.pointer_params else {
            panic!("no CBC parameters");
        };
        assert_eq!((p.iv, p.data.expose()), ([1; 16], &data[..]));

        let mut string = ck::CK_KEY_DERIVATION_STRING_DATA {
            pData: data.as_mut_ptr(),
            ulLen: 3,
        };
        let m = mech(ck::CKM_XOR_BASE_AND_DATA, &mut string);
        // SAFETY: live params whose data outlives the call.
        let parsed = unsafe { mechanism(&m) }.unwrap();
        assert_eq!(
            parsed.pointer_params,
            Some(PointerParams::DerivationData(SecretBytes::from_slice(
                &[7; 3]
            )))
        );
        // A NULL data pointer with a length is the parameter's fault.
        string.pData = std::ptr::null_mut();
        let m = mech(ck::CKM_XOR_BASE_AND_DATA, &mut string);
        // SAFETY: live params; the NULL pointer must be refused.
        let result = unsafe { mechanism(&m) };
        assert_eq!(result.unwrap_err().rv(), ck::CKR_MECHANISM_PARAM_INVALID);
    }

    #[test]
    fn kdf_params_keep_where_additional_handles_go() {
        let mut counter = ck::CK_SP800_108_COUNTER_FORMAT {
            bLittleEndian: 0,
            ulWidthInBits: 16,
        };
        let mut label = *b"label";
        let mut data = [
            ck::CK_PRF_DATA_PARAM {
                type_: ck::CK_SP800_108_ITERATION_VARIABLE,
                pValue: &mut counter as *mut _ as *mut c_void,
                ulValueLen: std::mem::size_of::<ck::CK_SP800_108_COUNTER_FORMAT>() as ck::CK_ULONG,
            },
            ck::CK_PRF_DATA_PARAM {
                type_: ck::CK_SP800_108_BYTE_ARRAY,
                pValue: label.as_mut_ptr() as *mut c_void,
                ulValueLen: label.len() as ck::CK_ULONG,
            },
        ];
        let mut len = 16u64.to_ne_bytes();
        let mut attributes = [ck::CK_ATTRIBUTE {
            type_: ck::CKA_VALUE_LEN,
            pValue: len.as_mut_ptr() as *mut c_void,
            ulValueLen: len.len() as ck::CK_ULONG,
        }];
        let mut handle: ck::CK_OBJECT_HANDLE = 0;
        let mut keys = [ck::CK_DERIVED_KEY {
            pTemplate: attributes.as_mut_ptr(),
            ulAttributeCount: 1,
            phKey: &mut handle,
        }];
        let mut params = ck::CK_SP800_108_KDF_PARAMS {
            prfType: ck::CKM_AES_CMAC,
            ulNumberOfDataParams: 2,
            pDataParams: data.as_mut_ptr(),
            ulAdditionalDerivedKeys: 1,
            pAdditionalDerivedKeys: keys.as_mut_ptr(),
        };
        let m = mech(ck::CKM_SP800_108_COUNTER_KDF, &mut params);
        // SAFETY: live params; every array and value they point to outlives the call.
        let (parsed, slots) = unsafe { derive_mechanism(&m) }.unwrap();
        let Some(PointerParams::Kbkdf(p)) = parsed.pointer_params else {
            panic!("no KDF parameters");
        };
        assert_eq!(p.prf, ck::CKM_AES_CMAC);
        assert_eq!(
            p.data,
            vec![
                KbkdfData::IterationVariable(Some(CounterFormat {
                    little_endian: false,
                    width_bits: 16,
                })),
                KbkdfData::ByteArray(label.to_vec()),
            ]
        );
        assert_eq!(
            p.additional_keys,
            vec![vec![(ck::CKA_VALUE_LEN, len.to_vec())]]
        );
        slots.check().unwrap();
        // SAFETY: the slot is `handle`, alive and writable.
        unsafe { slots.write(&[42]) }.unwrap();
        assert_eq!(handle, 42);
        let mut no_slot = [ck::CK_DERIVED_KEY {
            phKey: std::ptr::null_mut(),
            ..keys[0]
        }];
        params.pAdditionalDerivedKeys = no_slot.as_mut_ptr();
        let m = mech(ck::CKM_SP800_108_COUNTER_KDF, &mut params);
        // SAFETY: as above, with a NULL handle slot, which `check` must refuse.
        let (_, slots) = unsafe { derive_mechanism(&m) }.unwrap();
        assert_eq!(slots.check().unwrap_err().rv(), ck::CKR_ARGUMENTS_BAD);
    }
}
