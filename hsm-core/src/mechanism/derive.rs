//! Key derivation mechanisms (`C_DeriveKey`) and their parameters, parsed.

use cryptoki_sys as ck;

use super::{Mechanism, PointerParams, hmac_alg};
use crate::attr::{Template, ULONG_LEN};
use crate::crypto::{HashAlg, IntFormat, KbkdfField, KbkdfLayout, KbkdfPrf};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// `CK_ECDH1_DERIVE_PARAMS`, owned. `public_data` is the peer's point, raw or as a DER
/// OCTET STRING.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CkEcdh1Params {
    pub kdf: ck::CK_EC_KDF_TYPE,
    pub shared_data: Vec<u8>,
    pub public_data: Vec<u8>,
}

/// `CK_AES_CBC_ENCRYPT_DATA_PARAMS`, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CkAesCbcDataParams {
    pub iv: [u8; 16],
    pub data: SecretBytes,
}

/// `CK_SP800_108_KDF_PARAMS` / `CK_SP800_108_FEEDBACK_KDF_PARAMS`, owned. `iv` is the
/// feedback mode's (empty when the caller gives none); `additional_keys` holds the
/// templates of `pAdditionalDerivedKeys`, whose handles the caller writes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CkKbkdfParams {
    pub prf: ck::CK_MECHANISM_TYPE,
    pub data: Vec<KbkdfData>,
    pub iv: Vec<u8>,
    pub additional_keys: Vec<Template>,
}

/// One `CK_PRF_DATA_PARAM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KbkdfData {
    /// The counter (counter mode, with its format) or the previous block (feedback mode,
    /// no format).
    IterationVariable(Option<CounterFormat>),
    /// `CK_SP800_108_OPTIONAL_COUNTER`: a counter beside the feedback.
    Counter(CounterFormat),
    DkmLength(DkmLengthFormat),
    ByteArray(Vec<u8>),
}

/// `CK_SP800_108_COUNTER_FORMAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterFormat {
    pub little_endian: bool,
    pub width_bits: ck::CK_ULONG,
}

/// `CK_SP800_108_DKM_LENGTH_FORMAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DkmLengthFormat {
    pub method: ck::CK_SP800_108_DKM_LENGTH_METHOD,
    pub little_endian: bool,
    pub width_bits: ck::CK_ULONG,
}

/// The KDF applied to an ECDH shared secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcKdf {
    /// CKD_NULL: the shared secret itself.
    Null,
    /// CKD_SHA*_KDF: the ANSI X9.63 KDF with this hash.
    X963(HashAlg),
}

/// A key derivation mechanism, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeriveMechanism {
    /// CKM_ECDH1_DERIVE: `public` is the peer's point as given.
    Ecdh {
        kdf: EcKdf,
        shared_data: Vec<u8>,
        public: Vec<u8>,
    },
    /// CKM_AES_ECB_ENCRYPT_DATA.
    AesEcbData(SecretBytes),
    /// CKM_AES_CBC_ENCRYPT_DATA.
    AesCbcData {
        iv: [u8; 16],
        data: SecretBytes,
    },
    /// CKM_CONCATENATE_BASE_AND_KEY: the handle of the second key.
    ConcatenateBaseAndKey(u64),
    ConcatenateBaseAndData(SecretBytes),
    ConcatenateDataAndBase(SecretBytes),
    XorBaseAndData(SecretBytes),
    /// CKM_EXTRACT_KEY_FROM_KEY: the index of the first bit to take.
    ExtractKeyFromKey(u64),
    /// CKM_SP800_108_COUNTER_KDF or CKM_SP800_108_FEEDBACK_KDF, with the templates of the
    /// additional keys.
    Kbkdf {
        layout: KbkdfLayout,
        additional_keys: Vec<Template>,
    },
}

impl DeriveMechanism {
    /// True for the mechanisms whose output is a plain function of the base key's bits
    /// (concatenation, XOR, extraction): the spec makes their keys at least as protected as
    /// their inputs, else a sensitive key could be copied out into a readable one.
    pub fn is_simple(&self) -> bool {
        matches!(
            self,
            DeriveMechanism::ConcatenateBaseAndKey(_)
                | DeriveMechanism::ConcatenateBaseAndData(_)
                | DeriveMechanism::ConcatenateDataAndBase(_)
                | DeriveMechanism::XorBaseAndData(_)
                | DeriveMechanism::ExtractKeyFromKey(_)
        )
    }
}

fn ulong_param(mechanism: &Mechanism) -> Result<ck::CK_ULONG> {
    let bytes: [u8; ULONG_LEN] = mechanism
        .parameter
        .as_slice()
        .try_into()
        .map_err(|_| Error::MechanismParamInvalid(mechanism.mechanism))?;
    Ok(ck::CK_ULONG::from_ne_bytes(bytes))
}

fn ec_kdf(kdf: ck::CK_EC_KDF_TYPE, m: ck::CK_MECHANISM_TYPE) -> Result<EcKdf> {
    Ok(match kdf {
        ck::CKD_NULL => EcKdf::Null,
        ck::CKD_SHA1_KDF => EcKdf::X963(HashAlg::Sha1),
        ck::CKD_SHA224_KDF => EcKdf::X963(HashAlg::Sha224),
        ck::CKD_SHA256_KDF => EcKdf::X963(HashAlg::Sha256),
        ck::CKD_SHA384_KDF => EcKdf::X963(HashAlg::Sha384),
        ck::CKD_SHA512_KDF => EcKdf::X963(HashAlg::Sha512),
        _ => return Err(Error::MechanismParamInvalid(m)),
    })
}

/// Parses a `C_DeriveKey` mechanism and its parameter.
pub fn derive_mechanism(mechanism: &Mechanism) -> Result<DeriveMechanism> {
    let m = mechanism.mechanism;
    let bad = || Error::MechanismParamInvalid(m);
    let data = || match &mechanism.pointer_params {
        Some(PointerParams::DerivationData(data)) => Ok(data.clone()),
        _ => Err(bad()),
    };
    Ok(match m {
        ck::CKM_ECDH1_DERIVE => {
            let Some(PointerParams::Ecdh1(p)) = &mechanism.pointer_params else {
                return Err(bad());
            };
            let kdf = ec_kdf(p.kdf, m)?;
            // CKD_NULL takes no shared data (PKCS#11 3.0 §2.3.18).
            if kdf == EcKdf::Null && !p.shared_data.is_empty() {
                return Err(bad());
            }
            DeriveMechanism::Ecdh {
                kdf,
                shared_data: p.shared_data.clone(),
                public: p.public_data.clone(),
            }
        }
        ck::CKM_AES_ECB_ENCRYPT_DATA => DeriveMechanism::AesEcbData(data()?),
        ck::CKM_AES_CBC_ENCRYPT_DATA => {
            let Some(PointerParams::AesCbcData(p)) = &mechanism.pointer_params else {
                return Err(bad());
            };
            DeriveMechanism::AesCbcData {
                iv: p.iv,
                data: p.data.clone(),
            }
        }
        ck::CKM_CONCATENATE_BASE_AND_KEY => {
            DeriveMechanism::ConcatenateBaseAndKey(ulong_param(mechanism)?)
        }
        ck::CKM_CONCATENATE_BASE_AND_DATA => DeriveMechanism::ConcatenateBaseAndData(data()?),
        ck::CKM_CONCATENATE_DATA_AND_BASE => DeriveMechanism::ConcatenateDataAndBase(data()?),
        ck::CKM_XOR_BASE_AND_DATA => DeriveMechanism::XorBaseAndData(data()?),
        ck::CKM_EXTRACT_KEY_FROM_KEY => DeriveMechanism::ExtractKeyFromKey(ulong_param(mechanism)?),
        ck::CKM_SP800_108_COUNTER_KDF | ck::CKM_SP800_108_FEEDBACK_KDF => {
            let Some(PointerParams::Kbkdf(params)) = &mechanism.pointer_params else {
                return Err(bad());
            };
            DeriveMechanism::Kbkdf {
                layout: kbkdf_layout(params, m == ck::CKM_SP800_108_FEEDBACK_KDF, m)?,
                additional_keys: params.additional_keys.clone(),
            }
        }
        other => return Err(Error::MechanismInvalid(other)),
    })
}

fn int_format(
    little_endian: bool,
    width_bits: ck::CK_ULONG,
    max_bits: ck::CK_ULONG,
    m: ck::CK_MECHANISM_TYPE,
) -> Result<IntFormat> {
    if width_bits == 0 || width_bits > max_bits || !width_bits.is_multiple_of(8) {
        return Err(Error::MechanismParamInvalid(m));
    }
    Ok(IntFormat {
        little_endian,
        width_bits: width_bits as u32,
    })
}

/// Checks the `CK_PRF_DATA_PARAM` list as PKCS#11 3.0 §2.42 requires: exactly one iteration
/// variable (a counter with its format in counter mode, the feedback without one in feedback
/// mode), an optional counter only in feedback mode, and at most one of each optional field.
fn kbkdf_layout(
    params: &CkKbkdfParams,
    feedback: bool,
    m: ck::CK_MECHANISM_TYPE,
) -> Result<KbkdfLayout> {
    let bad = || Error::MechanismParamInvalid(m);
    let prf = match params.prf {
        ck::CKM_AES_CMAC => KbkdfPrf::AesCmac,
        other => KbkdfPrf::Hmac(hmac_alg(other).ok_or_else(bad)?),
    };
    if !feedback && !params.iv.is_empty() {
        return Err(bad());
    }
    let (mut iteration, mut counters, mut lengths) = (0, 0, 0);
    let mut fields = Vec::with_capacity(params.data.len());
    for data in &params.data {
        fields.push(match data {
            KbkdfData::IterationVariable(format) => {
                iteration += 1;
                match (feedback, format) {
                    (false, Some(f)) => {
                        KbkdfField::Counter(int_format(f.little_endian, f.width_bits, 32, m)?)
                    }
                    (true, None) => KbkdfField::Previous,
                    _ => return Err(bad()),
                }
            }
            KbkdfData::Counter(f) if feedback => {
                counters += 1;
                KbkdfField::Counter(int_format(f.little_endian, f.width_bits, 32, m)?)
            }
            KbkdfData::Counter(_) => return Err(bad()),
            KbkdfData::DkmLength(f) => {
                lengths += 1;
                let sum_of_segments = match f.method {
                    ck::CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS => false,
                    ck::CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS => true,
                    _ => return Err(bad()),
                };
                KbkdfField::DkmLength {
                    sum_of_segments,
                    format: int_format(f.little_endian, f.width_bits, 64, m)?,
                }
            }
            KbkdfData::ByteArray(bytes) => KbkdfField::Bytes(bytes.clone()),
        });
    }
    if iteration != 1 || counters > 1 || lengths > 1 {
        return Err(bad());
    }
    Ok(KbkdfLayout {
        prf,
        fields,
        iv: params.iv.clone(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::mechanism::SUPPORTED;

    fn kbkdf(m: ck::CK_MECHANISM_TYPE, data: Vec<KbkdfData>, iv: &[u8]) -> Result<DeriveMechanism> {
        derive_mechanism(&Mechanism::with_pointer_params(
            m,
            PointerParams::Kbkdf(CkKbkdfParams {
                prf: ck::CKM_AES_CMAC,
                data,
                iv: iv.to_vec(),
                additional_keys: Vec::new(),
            }),
        ))
    }

    const COUNTER: CounterFormat = CounterFormat {
        little_endian: false,
        width_bits: 16,
    };

    #[test]
    fn every_listed_derive_mechanism_is_parsed() {
        let data = PointerParams::DerivationData(SecretBytes::from_slice(&[1; 16]));
        for (m, info) in SUPPORTED {
            if info.flags & ck::CKF_DERIVE == 0 {
                continue;
            }
            let mechanism = match *m {
                ck::CKM_ECDH1_DERIVE => Mechanism::with_pointer_params(
                    *m,
                    PointerParams::Ecdh1(CkEcdh1Params {
                        kdf: ck::CKD_SHA256_KDF,
                        shared_data: b"info".to_vec(),
                        public_data: vec![4; 65],
                    }),
                ),
                ck::CKM_AES_CBC_ENCRYPT_DATA => Mechanism::with_pointer_params(
                    *m,
                    PointerParams::AesCbcData(CkAesCbcDataParams {
                        iv: [0; 16],
                        data: SecretBytes::from_slice(&[1; 16]),
                    }),
                ),
                ck::CKM_CONCATENATE_BASE_AND_KEY | ck::CKM_EXTRACT_KEY_FROM_KEY => {
                    Mechanism::with_parameter(*m, 5u64.to_ne_bytes().to_vec())
                }
                ck::CKM_SP800_108_COUNTER_KDF | ck::CKM_SP800_108_FEEDBACK_KDF => {
                    let feedback = *m == ck::CKM_SP800_108_FEEDBACK_KDF;
                    let iteration = KbkdfData::IterationVariable((!feedback).then_some(COUNTER));
                    kbkdf(*m, vec![iteration], &[]).unwrap();
                    continue;
                }
                _ => Mechanism::with_pointer_params(*m, data.clone()),
            };
            derive_mechanism(&mechanism).unwrap();
        }
    }

    #[test]
    fn parameters_are_checked() {
        let ecdh = |kdf, shared: &[u8]| {
            derive_mechanism(&Mechanism::with_pointer_params(
                ck::CKM_ECDH1_DERIVE,
                PointerParams::Ecdh1(CkEcdh1Params {
                    kdf,
                    shared_data: shared.to_vec(),
                    public_data: vec![4; 65],
                }),
            ))
        };
        assert!(matches!(
            ecdh(ck::CKD_NULL, b"x"),
            Err(Error::MechanismParamInvalid(_))
        ));
        assert!(matches!(
            ecdh(0x77, b""),
            Err(Error::MechanismParamInvalid(_))
        ));
        assert!(derive_mechanism(&Mechanism::new(ck::CKM_XOR_BASE_AND_DATA)).is_err());
        assert!(matches!(
            derive_mechanism(&Mechanism::new(ck::CKM_DES3_ECB_ENCRYPT_DATA)),
            Err(Error::MechanismInvalid(_))
        ));
        let feedback = ck::CKM_SP800_108_FEEDBACK_KDF;
        let counter = ck::CKM_SP800_108_COUNTER_KDF;
        let invalid = [
            // Feedback mode: the iteration variable takes no format; one optional counter.
            kbkdf(
                feedback,
                vec![KbkdfData::IterationVariable(Some(COUNTER))],
                &[],
            ),
            kbkdf(
                feedback,
                vec![
                    KbkdfData::IterationVariable(None),
                    KbkdfData::Counter(COUNTER),
                    KbkdfData::Counter(COUNTER),
                ],
                &[],
            ),
            // Counter mode: a format, no optional counter, no IV, widths of whole bytes.
            kbkdf(counter, vec![KbkdfData::IterationVariable(None)], &[]),
            kbkdf(
                counter,
                vec![
                    KbkdfData::IterationVariable(Some(COUNTER)),
                    KbkdfData::Counter(COUNTER),
                ],
                &[],
            ),
            kbkdf(
                counter,
                vec![KbkdfData::IterationVariable(Some(COUNTER))],
                b"iv",
            ),
            kbkdf(
                counter,
                vec![KbkdfData::IterationVariable(Some(CounterFormat {
                    little_endian: true,
                    width_bits: 12,
                }))],
                &[],
            ),
        ];
        for result in invalid {
            assert!(
                matches!(result, Err(Error::MechanismParamInvalid(_))),
                "{result:?}"
            );
        }
        let Ok(DeriveMechanism::Kbkdf { layout, .. }) = kbkdf(
            feedback,
            vec![
                KbkdfData::IterationVariable(None),
                KbkdfData::Counter(COUNTER),
                KbkdfData::DkmLength(DkmLengthFormat {
                    method: ck::CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS,
                    little_endian: false,
                    width_bits: 32,
                }),
            ],
            b"iv",
        ) else {
            panic!("feedback mode with a counter and a length");
        };
        assert_eq!(layout.iv, b"iv");
        assert_eq!(layout.fields.len(), 3);
    }
}
