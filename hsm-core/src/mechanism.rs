//! The mechanisms the token offers, their `CK_MECHANISM_INFO`, and the parsing of a caller's
//! mechanism (type + parameter bytes) into what the crypto provider executes.

use cryptoki_sys as ck;

use crate::attr::ULONG_LEN;
use crate::crypto::{HashAlg, PssParams, SignMechanism};
use crate::error::{Error, Result};

/// A mechanism as a caller passes it: the type and its raw parameter bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mechanism {
    pub mechanism: ck::CK_MECHANISM_TYPE,
    pub parameter: Vec<u8>,
}

impl Mechanism {
    pub fn new(mechanism: ck::CK_MECHANISM_TYPE) -> Self {
        Self {
            mechanism,
            parameter: Vec::new(),
        }
    }
}

/// `CK_MECHANISM_INFO` without the C layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MechanismInfo {
    pub min_key_size: ck::CK_ULONG,
    pub max_key_size: ck::CK_ULONG,
    pub flags: ck::CK_FLAGS,
}

/// RSA modulus sizes the token generates and keeps, in bits: the range DNSSEC uses (RFC 5702).
pub const RSA_KEY_BITS: std::ops::RangeInclusive<ck::CK_ULONG> = 1024..=4096;
const RSA_MIN: ck::CK_ULONG = *RSA_KEY_BITS.start();
const RSA_MAX: ck::CK_ULONG = *RSA_KEY_BITS.end();

const SIGN_VERIFY: ck::CK_FLAGS = ck::CKF_SIGN | ck::CKF_VERIFY;
const EC_FLAGS: ck::CK_FLAGS = ck::CKF_EC_F_P | ck::CKF_EC_NAMEDCURVE | ck::CKF_EC_UNCOMPRESS;

/// Every mechanism the token supports, in the order `C_GetMechanismList` reports them.
pub const SUPPORTED: &[(ck::CK_MECHANISM_TYPE, MechanismInfo)] = &[
    (
        ck::CKM_RSA_PKCS_KEY_PAIR_GEN,
        info(RSA_MIN, RSA_MAX, ck::CKF_GENERATE_KEY_PAIR),
    ),
    (ck::CKM_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_RSA_X_509, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_SHA1_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_SHA224_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_SHA256_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_SHA384_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_SHA512_RSA_PKCS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (ck::CKM_RSA_PKCS_PSS, info(RSA_MIN, RSA_MAX, SIGN_VERIFY)),
    (
        ck::CKM_SHA1_RSA_PKCS_PSS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA224_RSA_PKCS_PSS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA256_RSA_PKCS_PSS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA384_RSA_PKCS_PSS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA512_RSA_PKCS_PSS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_EC_KEY_PAIR_GEN,
        info(256, 384, ck::CKF_GENERATE_KEY_PAIR | EC_FLAGS),
    ),
    (ck::CKM_ECDSA, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (ck::CKM_ECDSA_SHA1, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (ck::CKM_ECDSA_SHA224, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (ck::CKM_ECDSA_SHA256, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (ck::CKM_ECDSA_SHA384, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (ck::CKM_ECDSA_SHA512, info(256, 384, SIGN_VERIFY | EC_FLAGS)),
    (
        ck::CKM_EC_EDWARDS_KEY_PAIR_GEN,
        info(255, 255, ck::CKF_GENERATE_KEY_PAIR),
    ),
    (ck::CKM_EDDSA, info(255, 255, SIGN_VERIFY)),
    (ck::CKM_SHA_1, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA224, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA256, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA384, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA512, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_AES_KEY_GEN, info(16, 32, ck::CKF_GENERATE)),
    (
        ck::CKM_AES_KEY_WRAP,
        info(16, 32, ck::CKF_WRAP | ck::CKF_UNWRAP),
    ),
    (
        ck::CKM_AES_KEY_WRAP_PAD,
        info(16, 32, ck::CKF_WRAP | ck::CKF_UNWRAP),
    ),
];

const fn info(min: ck::CK_ULONG, max: ck::CK_ULONG, flags: ck::CK_FLAGS) -> MechanismInfo {
    MechanismInfo {
        min_key_size: min,
        max_key_size: max,
        flags,
    }
}

/// `C_GetMechanismInfo`.
pub fn mechanism_info(mechanism: ck::CK_MECHANISM_TYPE) -> Result<MechanismInfo> {
    SUPPORTED
        .iter()
        .find(|(m, _)| *m == mechanism)
        .map(|(_, info)| *info)
        .ok_or(Error::MechanismInvalid(mechanism))
}

/// The digest a digesting mechanism computes.
pub fn digest_alg(mechanism: ck::CK_MECHANISM_TYPE) -> Result<HashAlg> {
    Ok(match mechanism {
        ck::CKM_SHA_1 => HashAlg::Sha1,
        ck::CKM_SHA224 => HashAlg::Sha224,
        ck::CKM_SHA256 => HashAlg::Sha256,
        ck::CKM_SHA384 => HashAlg::Sha384,
        ck::CKM_SHA512 => HashAlg::Sha512,
        other => return Err(Error::MechanismInvalid(other)),
    })
}

/// The key type a signing mechanism needs.
pub fn sign_key_type(mechanism: &SignMechanism) -> ck::CK_KEY_TYPE {
    match mechanism {
        SignMechanism::RsaPkcs
        | SignMechanism::RsaX509
        | SignMechanism::RsaPkcsHash(_)
        | SignMechanism::RsaPss(_)
        | SignMechanism::RsaPssHash(_) => ck::CKK_RSA,
        SignMechanism::Ecdsa | SignMechanism::EcdsaHash(_) => ck::CKK_EC,
        SignMechanism::EdDsa => ck::CKK_EC_EDWARDS,
    }
}

/// Parses a sign/verify mechanism. Parameters of mechanisms that take none are ignored, as
/// real clients sometimes pass stray ones.
pub fn sign_mechanism(mechanism: &Mechanism) -> Result<SignMechanism> {
    let m = mechanism.mechanism;
    Ok(match m {
        ck::CKM_RSA_PKCS => SignMechanism::RsaPkcs,
        ck::CKM_RSA_X_509 => SignMechanism::RsaX509,
        ck::CKM_SHA1_RSA_PKCS => SignMechanism::RsaPkcsHash(HashAlg::Sha1),
        ck::CKM_SHA224_RSA_PKCS => SignMechanism::RsaPkcsHash(HashAlg::Sha224),
        ck::CKM_SHA256_RSA_PKCS => SignMechanism::RsaPkcsHash(HashAlg::Sha256),
        ck::CKM_SHA384_RSA_PKCS => SignMechanism::RsaPkcsHash(HashAlg::Sha384),
        ck::CKM_SHA512_RSA_PKCS => SignMechanism::RsaPkcsHash(HashAlg::Sha512),
        ck::CKM_RSA_PKCS_PSS => SignMechanism::RsaPss(pss_params(mechanism, None)?),
        ck::CKM_SHA1_RSA_PKCS_PSS => {
            SignMechanism::RsaPssHash(pss_params(mechanism, Some(HashAlg::Sha1))?)
        }
        ck::CKM_SHA224_RSA_PKCS_PSS => {
            SignMechanism::RsaPssHash(pss_params(mechanism, Some(HashAlg::Sha224))?)
        }
        ck::CKM_SHA256_RSA_PKCS_PSS => {
            SignMechanism::RsaPssHash(pss_params(mechanism, Some(HashAlg::Sha256))?)
        }
        ck::CKM_SHA384_RSA_PKCS_PSS => {
            SignMechanism::RsaPssHash(pss_params(mechanism, Some(HashAlg::Sha384))?)
        }
        ck::CKM_SHA512_RSA_PKCS_PSS => {
            SignMechanism::RsaPssHash(pss_params(mechanism, Some(HashAlg::Sha512))?)
        }
        ck::CKM_ECDSA => SignMechanism::Ecdsa,
        ck::CKM_ECDSA_SHA1 => SignMechanism::EcdsaHash(HashAlg::Sha1),
        ck::CKM_ECDSA_SHA224 => SignMechanism::EcdsaHash(HashAlg::Sha224),
        ck::CKM_ECDSA_SHA256 => SignMechanism::EcdsaHash(HashAlg::Sha256),
        ck::CKM_ECDSA_SHA384 => SignMechanism::EcdsaHash(HashAlg::Sha384),
        ck::CKM_ECDSA_SHA512 => SignMechanism::EcdsaHash(HashAlg::Sha512),
        ck::CKM_EDDSA => {
            // CK_EDDSA_PARAMS selects Ed25519ph/ctx; only pure Ed25519 (no parameters, or
            // phFlag false with no context) is offered.
            if mechanism.parameter.len() > ULONG_LEN
                && mechanism.parameter.first().copied().unwrap_or(0) != 0
            {
                return Err(Error::MechanismParamInvalid(m));
            }
            SignMechanism::EdDsa
        }
        other => return Err(Error::MechanismInvalid(other)),
    })
}

fn hash_of_mechanism(m: ck::CK_ULONG, mechanism: ck::CK_MECHANISM_TYPE) -> Result<HashAlg> {
    digest_alg(m).map_err(|_| Error::MechanismParamInvalid(mechanism))
}

fn hash_of_mgf(mgf: ck::CK_ULONG, mechanism: ck::CK_MECHANISM_TYPE) -> Result<HashAlg> {
    Ok(match mgf {
        ck::CKG_MGF1_SHA1 => HashAlg::Sha1,
        ck::CKG_MGF1_SHA224 => HashAlg::Sha224,
        ck::CKG_MGF1_SHA256 => HashAlg::Sha256,
        ck::CKG_MGF1_SHA384 => HashAlg::Sha384,
        ck::CKG_MGF1_SHA512 => HashAlg::Sha512,
        _ => return Err(Error::MechanismParamInvalid(mechanism)),
    })
}

/// `CK_RSA_PKCS_PSS_PARAMS` is three `CK_ULONG`s: hashAlg, mgf, sLen.
fn pss_params(mechanism: &Mechanism, implied_hash: Option<HashAlg>) -> Result<PssParams> {
    let m = mechanism.mechanism;
    let p = &mechanism.parameter;
    if p.len() != 3 * ULONG_LEN {
        return Err(Error::MechanismParamInvalid(m));
    }
    let field = |i: usize| -> Result<ck::CK_ULONG> {
        let bytes: [u8; ULONG_LEN] = p[i * ULONG_LEN..(i + 1) * ULONG_LEN]
            .try_into()
            .map_err(|_| Error::MechanismParamInvalid(m))?;
        Ok(ck::CK_ULONG::from_ne_bytes(bytes))
    };
    let hash = hash_of_mechanism(field(0)?, m)?;
    if implied_hash.is_some_and(|h| h != hash) {
        return Err(Error::MechanismParamInvalid(m));
    }
    let mgf_hash = hash_of_mgf(field(1)?, m)?;
    let salt_len = usize::try_from(field(2)?).map_err(|_| Error::MechanismParamInvalid(m))?;
    Ok(PssParams {
        hash,
        mgf_hash,
        salt_len,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn pss_param_bytes(hash: ck::CK_ULONG, mgf: ck::CK_ULONG, salt: ck::CK_ULONG) -> Vec<u8> {
        [hash, mgf, salt]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect()
    }

    #[test]
    fn every_listed_sign_mechanism_parses() {
        for (m, info) in SUPPORTED {
            if info.flags & ck::CKF_SIGN == 0 {
                continue;
            }
            let parameter = match *m {
                ck::CKM_RSA_PKCS_PSS | ck::CKM_SHA256_RSA_PKCS_PSS => {
                    pss_param_bytes(ck::CKM_SHA256, ck::CKG_MGF1_SHA256, 32)
                }
                ck::CKM_SHA1_RSA_PKCS_PSS => pss_param_bytes(ck::CKM_SHA_1, ck::CKG_MGF1_SHA1, 20),
                ck::CKM_SHA224_RSA_PKCS_PSS => {
                    pss_param_bytes(ck::CKM_SHA224, ck::CKG_MGF1_SHA224, 28)
                }
                ck::CKM_SHA384_RSA_PKCS_PSS => {
                    pss_param_bytes(ck::CKM_SHA384, ck::CKG_MGF1_SHA384, 48)
                }
                ck::CKM_SHA512_RSA_PKCS_PSS => {
                    pss_param_bytes(ck::CKM_SHA512, ck::CKG_MGF1_SHA512, 64)
                }
                _ => Vec::new(),
            };
            sign_mechanism(&Mechanism {
                mechanism: *m,
                parameter,
            })
            .unwrap();
        }
    }

    #[test]
    fn pss_parameters_are_checked() {
        let bad_len = Mechanism {
            mechanism: ck::CKM_RSA_PKCS_PSS,
            parameter: vec![0; 3],
        };
        assert!(matches!(
            sign_mechanism(&bad_len),
            Err(Error::MechanismParamInvalid(_))
        ));
        let mismatched = Mechanism {
            mechanism: ck::CKM_SHA256_RSA_PKCS_PSS,
            parameter: pss_param_bytes(ck::CKM_SHA512, ck::CKG_MGF1_SHA256, 32),
        };
        assert!(matches!(
            sign_mechanism(&mismatched),
            Err(Error::MechanismParamInvalid(_))
        ));
        assert!(matches!(
            sign_mechanism(&Mechanism::new(ck::CKM_MD5_RSA_PKCS)),
            Err(Error::MechanismInvalid(_))
        ));
    }
}
