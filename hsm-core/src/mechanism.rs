//! The mechanisms the token offers, their `CK_MECHANISM_INFO`, and the parsing of a caller's
//! mechanism (type + parameter bytes) into what the crypto provider executes.

use cryptoki_sys as ck;

use crate::attr::ULONG_LEN;
use crate::crypto::{
    AesMode, EdDsaParams, GcmSpec, HashAlg, OaepParams, PssParams, RsaCrypt, SignMechanism,
};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

mod derive;

pub use derive::{
    CkAesCbcDataParams, CkEcdh1Params, CkKbkdfParams, CounterFormat, DeriveMechanism,
    DkmLengthFormat, EcKdf, KbkdfData, derive_mechanism,
};

/// A mechanism as a caller passes it: the type and its parameter, as raw bytes when the C
/// parameter is plain data, or read into owned form when it holds pointers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mechanism {
    pub mechanism: ck::CK_MECHANISM_TYPE,
    pub parameter: Vec<u8>,
    pub pointer_params: Option<PointerParams>,
}

impl Mechanism {
    pub fn new(mechanism: ck::CK_MECHANISM_TYPE) -> Self {
        Self::with_parameter(mechanism, Vec::new())
    }

    /// A mechanism whose parameter is plain bytes (an IV, `CK_AES_CTR_PARAMS`, PSS params).
    pub fn with_parameter(mechanism: ck::CK_MECHANISM_TYPE, parameter: Vec<u8>) -> Self {
        Self {
            mechanism,
            parameter,
            pointer_params: None,
        }
    }

    /// CKM_AES_GCM with its parameters.
    pub fn gcm(params: CkGcmParams) -> Self {
        Self {
            pointer_params: Some(PointerParams::Gcm(params)),
            ..Self::new(ck::CKM_AES_GCM)
        }
    }

    /// CKM_RSA_PKCS_OAEP with its parameters.
    pub fn oaep(params: CkOaepParams) -> Self {
        Self::with_pointer_params(ck::CKM_RSA_PKCS_OAEP, PointerParams::Oaep(params))
    }

    /// CKM_EDDSA with `CK_EDDSA_PARAMS`.
    pub fn eddsa(params: CkEddsaParams) -> Self {
        Self::with_pointer_params(ck::CKM_EDDSA, PointerParams::Eddsa(params))
    }

    /// A mechanism whose C parameter holds pointers, read into owned form.
    pub fn with_pointer_params(mechanism: ck::CK_MECHANISM_TYPE, params: PointerParams) -> Self {
        Self {
            pointer_params: Some(params),
            ..Self::new(mechanism)
        }
    }
}

/// A mechanism parameter that holds pointers in C, read into owned form at the C boundary so
/// hsm-core never sees a pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointerParams {
    Gcm(CkGcmParams),
    Oaep(CkOaepParams),
    Eddsa(CkEddsaParams),
    Ecdh1(CkEcdh1Params),
    AesCbcData(CkAesCbcDataParams),
    /// `CK_KEY_DERIVATION_STRING_DATA`: the data of the concatenation and XOR derivations
    /// and of `CKM_AES_ECB_ENCRYPT_DATA`. It may be key material, so it is kept secret.
    DerivationData(SecretBytes),
    Kbkdf(CkKbkdfParams),
}

/// `CK_EDDSA_PARAMS`, owned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CkEddsaParams {
    pub ph_flag: bool,
    pub context: Vec<u8>,
}

/// `CK_GCM_PARAMS`, owned. `iv_bits` is kept but not used: clients disagree on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CkGcmParams {
    pub iv: Vec<u8>,
    pub iv_bits: ck::CK_ULONG,
    pub aad: Vec<u8>,
    pub tag_bits: ck::CK_ULONG,
}

/// `CK_RSA_PKCS_OAEP_PARAMS`, owned; `source_data` is the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CkOaepParams {
    pub hash_alg: ck::CK_MECHANISM_TYPE,
    pub mgf: ck::CK_RSA_PKCS_MGF_TYPE,
    pub source: ck::CK_RSA_PKCS_OAEP_SOURCE_TYPE,
    pub source_data: Vec<u8>,
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
const CRYPT: ck::CK_FLAGS = ck::CKF_ENCRYPT | ck::CKF_DECRYPT;
/// Generic secret and HMAC keys: 1..=512 bytes.
pub const SECRET_KEY_BYTES: std::ops::RangeInclusive<ck::CK_ULONG> = 1..=512;
const SECRET_MIN: ck::CK_ULONG = *SECRET_KEY_BYTES.start();
const SECRET_MAX: ck::CK_ULONG = *SECRET_KEY_BYTES.end();
const EC_MAX_BITS: ck::CK_ULONG = 521;
const EC_FLAGS: ck::CK_FLAGS = ck::CKF_EC_F_P | ck::CKF_EC_NAMEDCURVE | ck::CKF_EC_UNCOMPRESS;

/// Every mechanism the token supports, in the order `C_GetMechanismList` reports them.
pub const SUPPORTED: &[(ck::CK_MECHANISM_TYPE, MechanismInfo)] = &[
    (
        ck::CKM_RSA_PKCS_KEY_PAIR_GEN,
        info(RSA_MIN, RSA_MAX, ck::CKF_GENERATE_KEY_PAIR),
    ),
    (
        ck::CKM_RSA_PKCS,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY | CRYPT),
    ),
    (
        ck::CKM_RSA_X_509,
        info(RSA_MIN, RSA_MAX, SIGN_VERIFY | CRYPT),
    ),
    (
        ck::CKM_RSA_PKCS_OAEP,
        info(RSA_MIN, RSA_MAX, CRYPT | ck::CKF_WRAP | ck::CKF_UNWRAP),
    ),
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
        info(256, EC_MAX_BITS, ck::CKF_GENERATE_KEY_PAIR | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA_SHA1,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA_SHA224,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA_SHA256,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA_SHA384,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_ECDSA_SHA512,
        info(256, EC_MAX_BITS, SIGN_VERIFY | EC_FLAGS),
    ),
    (
        ck::CKM_EC_EDWARDS_KEY_PAIR_GEN,
        info(255, 448, ck::CKF_GENERATE_KEY_PAIR),
    ),
    (ck::CKM_EDDSA, info(255, 448, SIGN_VERIFY)),
    (
        ck::CKM_ECDH1_DERIVE,
        info(256, EC_MAX_BITS, ck::CKF_DERIVE | EC_FLAGS),
    ),
    (ck::CKM_SHA_1, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA224, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA256, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA384, info(0, 0, ck::CKF_DIGEST)),
    (ck::CKM_SHA512, info(0, 0, ck::CKF_DIGEST)),
    // HMAC key sizes are in bytes, as CKA_VALUE_LEN is; the generic secret key generator's
    // are in bits, as the spec says for that mechanism.
    (
        ck::CKM_SHA_1_HMAC,
        info(SECRET_MIN, SECRET_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA224_HMAC,
        info(SECRET_MIN, SECRET_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA256_HMAC,
        info(SECRET_MIN, SECRET_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA384_HMAC,
        info(SECRET_MIN, SECRET_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_SHA512_HMAC,
        info(SECRET_MIN, SECRET_MAX, SIGN_VERIFY),
    ),
    (
        ck::CKM_GENERIC_SECRET_KEY_GEN,
        info(SECRET_MIN * 8, SECRET_MAX * 8, ck::CKF_GENERATE),
    ),
    (
        ck::CKM_SHA_1_KEY_GEN,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_GENERATE),
    ),
    (
        ck::CKM_SHA224_KEY_GEN,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_GENERATE),
    ),
    (
        ck::CKM_SHA256_KEY_GEN,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_GENERATE),
    ),
    (
        ck::CKM_SHA384_KEY_GEN,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_GENERATE),
    ),
    (
        ck::CKM_SHA512_KEY_GEN,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_GENERATE),
    ),
    (ck::CKM_AES_KEY_GEN, info(16, 32, ck::CKF_GENERATE)),
    (ck::CKM_AES_ECB, info(16, 32, CRYPT)),
    (ck::CKM_AES_CBC, info(16, 32, CRYPT)),
    (ck::CKM_AES_CBC_PAD, info(16, 32, CRYPT)),
    (ck::CKM_AES_CTR, info(16, 32, CRYPT)),
    (ck::CKM_AES_GCM, info(16, 32, CRYPT)),
    (
        ck::CKM_AES_KEY_WRAP,
        info(16, 32, ck::CKF_WRAP | ck::CKF_UNWRAP),
    ),
    (
        ck::CKM_AES_KEY_WRAP_PAD,
        info(16, 32, ck::CKF_WRAP | ck::CKF_UNWRAP),
    ),
    (ck::CKM_AES_CMAC, info(16, 32, SIGN_VERIFY)),
    (ck::CKM_AES_CMAC_GENERAL, info(16, 32, SIGN_VERIFY)),
    (ck::CKM_AES_ECB_ENCRYPT_DATA, info(16, 32, ck::CKF_DERIVE)),
    (ck::CKM_AES_CBC_ENCRYPT_DATA, info(16, 32, ck::CKF_DERIVE)),
    // The simple derivations take any secret key; sizes in bytes, as CKA_VALUE_LEN's.
    (
        ck::CKM_CONCATENATE_BASE_AND_KEY,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_CONCATENATE_BASE_AND_DATA,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_CONCATENATE_DATA_AND_BASE,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_XOR_BASE_AND_DATA,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_EXTRACT_KEY_FROM_KEY,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_SP800_108_COUNTER_KDF,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
    ),
    (
        ck::CKM_SP800_108_FEEDBACK_KDF,
        info(SECRET_MIN, SECRET_MAX, ck::CKF_DERIVE),
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
        SignMechanism::EdDsa(_) => ck::CKK_EC_EDWARDS,
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
        // No CK_EDDSA_PARAMS: plain Ed25519, or Ed448 with an empty context.
        ck::CKM_EDDSA => SignMechanism::EdDsa(match &mechanism.pointer_params {
            None => EdDsaParams::PURE,
            Some(PointerParams::Eddsa(p)) => {
                EdDsaParams::new(p.ph_flag, &p.context).ok_or(Error::MechanismParamInvalid(m))?
            }
            Some(_) => return Err(Error::MechanismParamInvalid(m)),
        }),
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

/// The hash of an HMAC signing mechanism, or `None` for any other mechanism.
pub fn hmac_alg(mechanism: ck::CK_MECHANISM_TYPE) -> Option<HashAlg> {
    Some(match mechanism {
        ck::CKM_SHA_1_HMAC => HashAlg::Sha1,
        ck::CKM_SHA224_HMAC => HashAlg::Sha224,
        ck::CKM_SHA256_HMAC => HashAlg::Sha256,
        ck::CKM_SHA384_HMAC => HashAlg::Sha384,
        ck::CKM_SHA512_HMAC => HashAlg::Sha512,
        _ => return None,
    })
}

/// A MAC signing mechanism: HMAC over a generic secret or HMAC key, or AES-CMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacMechanism {
    Hmac(HashAlg),
    /// CKM_AES_CMAC (16-byte tags) or CKM_AES_CMAC_GENERAL with its tag length.
    AesCmac {
        tag_len: usize,
    },
}

/// Parses a MAC mechanism; `None` for any other mechanism.
pub fn mac_mechanism(mechanism: &Mechanism) -> Result<Option<MacMechanism>> {
    let m = mechanism.mechanism;
    if let Some(alg) = hmac_alg(m) {
        return Ok(Some(MacMechanism::Hmac(alg)));
    }
    Ok(match m {
        ck::CKM_AES_CMAC => Some(MacMechanism::AesCmac { tag_len: 16 }),
        ck::CKM_AES_CMAC_GENERAL => {
            // CK_MAC_GENERAL_PARAMS: the tag length in bytes, 1 to the block size.
            let bytes: [u8; ULONG_LEN] = mechanism
                .parameter
                .as_slice()
                .try_into()
                .map_err(|_| Error::MechanismParamInvalid(m))?;
            let tag_len = usize::try_from(ck::CK_ULONG::from_ne_bytes(bytes))
                .ok()
                .filter(|len| (1..=16).contains(len))
                .ok_or(Error::MechanismParamInvalid(m))?;
            Some(MacMechanism::AesCmac { tag_len })
        }
        _ => None,
    })
}

/// The PKCS#11 3.0 key type of HMAC keys for one hash (CKK_SHA256_HMAC...).
pub fn hmac_key_type(alg: HashAlg) -> ck::CK_KEY_TYPE {
    match alg {
        HashAlg::Sha1 => ck::CKK_SHA_1_HMAC,
        HashAlg::Sha224 => ck::CKK_SHA224_HMAC,
        HashAlg::Sha256 => ck::CKK_SHA256_HMAC,
        HashAlg::Sha384 => ck::CKK_SHA384_HMAC,
        HashAlg::Sha512 => ck::CKK_SHA512_HMAC,
    }
}

/// True for the secret key types that hold HMAC keys (generic secret and CKK_SHA*_HMAC).
pub fn is_mac_key_type(key_type: ck::CK_KEY_TYPE) -> bool {
    key_type == ck::CKK_GENERIC_SECRET
        || HashAlg::ALL
            .into_iter()
            .any(|alg| hmac_key_type(alg) == key_type)
}

/// The secret key type a `C_GenerateKey` mechanism makes.
pub fn secret_key_gen_type(mechanism: ck::CK_MECHANISM_TYPE) -> Result<ck::CK_KEY_TYPE> {
    Ok(match mechanism {
        ck::CKM_AES_KEY_GEN => ck::CKK_AES,
        ck::CKM_GENERIC_SECRET_KEY_GEN => ck::CKK_GENERIC_SECRET,
        ck::CKM_SHA_1_KEY_GEN => ck::CKK_SHA_1_HMAC,
        ck::CKM_SHA224_KEY_GEN => ck::CKK_SHA224_HMAC,
        ck::CKM_SHA256_KEY_GEN => ck::CKK_SHA256_HMAC,
        ck::CKM_SHA384_KEY_GEN => ck::CKK_SHA384_HMAC,
        ck::CKM_SHA512_KEY_GEN => ck::CKK_SHA512_HMAC,
        other => return Err(Error::MechanismInvalid(other)),
    })
}

/// An encryption mechanism, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptMechanism {
    Aes(AesMode),
    Rsa(RsaCrypt),
}

impl CryptMechanism {
    /// The key type the mechanism needs.
    pub fn key_type(&self) -> ck::CK_KEY_TYPE {
        match self {
            CryptMechanism::Aes(_) => ck::CKK_AES,
            CryptMechanism::Rsa(_) => ck::CKK_RSA,
        }
    }
}

/// Parses an encrypt/decrypt mechanism and its parameter.
pub fn crypt_mechanism(mechanism: &Mechanism) -> Result<CryptMechanism> {
    let m = mechanism.mechanism;
    let bad = || Error::MechanismParamInvalid(m);
    let iv =
        || -> Result<[u8; 16]> { mechanism.parameter.as_slice().try_into().map_err(|_| bad()) };
    Ok(match m {
        ck::CKM_AES_ECB => CryptMechanism::Aes(AesMode::Ecb),
        ck::CKM_AES_CBC => CryptMechanism::Aes(AesMode::Cbc { iv: iv()? }),
        ck::CKM_AES_CBC_PAD => CryptMechanism::Aes(AesMode::CbcPad { iv: iv()? }),
        ck::CKM_AES_CTR => {
            // CK_AES_CTR_PARAMS: ulCounterBits, then the 16-byte counter block cb.
            let p = &mechanism.parameter;
            let (Some(bits), Some(block)) = (p.get(..ULONG_LEN), p.get(ULONG_LEN..)) else {
                return Err(bad());
            };
            let bits = ck::CK_ULONG::from_ne_bytes(bits.try_into().map_err(|_| bad())?);
            let block: [u8; 16] = block.try_into().map_err(|_| bad())?;
            let counter_bits = u32::try_from(bits)
                .ok()
                .filter(|b| (1..=128).contains(b))
                .ok_or_else(bad)?;
            CryptMechanism::Aes(AesMode::Ctr {
                counter_bits,
                block,
            })
        }
        ck::CKM_AES_GCM => {
            let Some(PointerParams::Gcm(p)) = &mechanism.pointer_params else {
                return Err(bad());
            };
            // SP 800-38D tag lengths: 128, 120, 112, 104, 96, and 64 or 32 bits.
            if !matches!(p.tag_bits, 32 | 64 | 96 | 104 | 112 | 120 | 128)
                || !(1..=crate::crypto::GCM_MAX_IV_LEN).contains(&p.iv.len())
            {
                return Err(bad());
            }
            CryptMechanism::Aes(AesMode::Gcm(GcmSpec {
                iv: p.iv.clone(),
                aad: p.aad.clone(),
                tag_len: (p.tag_bits / 8) as usize,
            }))
        }
        ck::CKM_RSA_PKCS => CryptMechanism::Rsa(RsaCrypt::Pkcs1),
        ck::CKM_RSA_X_509 => CryptMechanism::Rsa(RsaCrypt::X509),
        ck::CKM_RSA_PKCS_OAEP => {
            let Some(PointerParams::Oaep(p)) = &mechanism.pointer_params else {
                return Err(bad());
            };
            let label_ok = match p.source {
                ck::CKZ_DATA_SPECIFIED => true,
                // Some clients leave the source 0 when there is no label.
                0 => p.source_data.is_empty(),
                _ => false,
            };
            if !label_ok {
                return Err(bad());
            }
            CryptMechanism::Rsa(RsaCrypt::Oaep(OaepParams {
                hash: hash_of_mechanism(p.hash_alg, m)?,
                mgf_hash: hash_of_mgf(p.mgf, m)?,
                label: p.source_data.clone(),
            }))
        }
        other => return Err(Error::MechanismInvalid(other)),
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
            let mac = mac_mechanism(&Mechanism::with_parameter(
                *m,
                8usize.to_ne_bytes().to_vec(),
            ));
            if info.flags & ck::CKF_SIGN == 0 || mac.unwrap().is_some() {
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
            sign_mechanism(&Mechanism::with_parameter(*m, parameter)).unwrap();
        }
    }

    #[test]
    fn pss_parameters_are_checked() {
        let bad_len = Mechanism::with_parameter(ck::CKM_RSA_PKCS_PSS, vec![0; 3]);
        assert!(matches!(
            sign_mechanism(&bad_len),
            Err(Error::MechanismParamInvalid(_))
        ));
        let mismatched = Mechanism::with_parameter(
            ck::CKM_SHA256_RSA_PKCS_PSS,
            pss_param_bytes(ck::CKM_SHA512, ck::CKG_MGF1_SHA256, 32),
        );
        assert!(matches!(
            sign_mechanism(&mismatched),
            Err(Error::MechanismParamInvalid(_))
        ));
        assert!(matches!(
            sign_mechanism(&Mechanism::new(ck::CKM_MD5_RSA_PKCS)),
            Err(Error::MechanismInvalid(_))
        ));
    }

    fn ctr_params(bits: ck::CK_ULONG) -> Vec<u8> {
        let mut p = bits.to_ne_bytes().to_vec();
        p.extend_from_slice(&[7; 16]);
        p
    }

    #[test]
    fn every_listed_crypt_mechanism_parses() {
        for (m, info) in SUPPORTED {
            if info.flags & ck::CKF_ENCRYPT == 0 {
                continue;
            }
            let mechanism = match *m {
                ck::CKM_AES_CBC | ck::CKM_AES_CBC_PAD => Mechanism::with_parameter(*m, vec![1; 16]),
                ck::CKM_AES_CTR => Mechanism::with_parameter(*m, ctr_params(32)),
                ck::CKM_AES_GCM => Mechanism::gcm(CkGcmParams {
                    iv: vec![0; 12],
                    iv_bits: 96,
                    aad: b"aad".to_vec(),
                    tag_bits: 128,
                }),
                ck::CKM_RSA_PKCS_OAEP => Mechanism::oaep(CkOaepParams {
                    hash_alg: ck::CKM_SHA256,
                    mgf: ck::CKG_MGF1_SHA1,
                    source: ck::CKZ_DATA_SPECIFIED,
                    source_data: b"label".to_vec(),
                }),
                _ => Mechanism::new(*m),
            };
            let parsed = crypt_mechanism(&mechanism).unwrap();
            assert_eq!(info.flags & ck::CKF_DECRYPT, ck::CKF_DECRYPT);
            if *m == ck::CKM_RSA_PKCS_OAEP {
                assert_eq!(
                    parsed,
                    CryptMechanism::Rsa(RsaCrypt::Oaep(OaepParams {
                        hash: HashAlg::Sha256,
                        mgf_hash: HashAlg::Sha1,
                        label: b"label".to_vec(),
                    }))
                );
            }
        }
    }

    #[test]
    fn crypt_parameters_are_checked() {
        let invalid = |m: Mechanism| {
            assert!(
                matches!(crypt_mechanism(&m), Err(Error::MechanismParamInvalid(_))),
                "{m:?}"
            );
        };
        invalid(Mechanism::with_parameter(ck::CKM_AES_CBC, vec![0; 15]));
        invalid(Mechanism::new(ck::CKM_AES_CBC_PAD));
        invalid(Mechanism::with_parameter(ck::CKM_AES_CTR, ctr_params(0)));
        invalid(Mechanism::with_parameter(ck::CKM_AES_CTR, ctr_params(129)));
        invalid(Mechanism::with_parameter(ck::CKM_AES_CTR, vec![0; 16]));
        invalid(Mechanism::new(ck::CKM_AES_GCM));
        let gcm = CkGcmParams {
            iv: vec![0; 12],
            iv_bits: 0,
            aad: Vec::new(),
            tag_bits: 100,
        };
        invalid(Mechanism::gcm(gcm.clone()));
        invalid(Mechanism::gcm(CkGcmParams {
            iv: Vec::new(),
            tag_bits: 128,
            ..gcm
        }));
        invalid(Mechanism::new(ck::CKM_RSA_PKCS_OAEP));
        let oaep = CkOaepParams {
            hash_alg: ck::CKM_SHA256,
            mgf: ck::CKG_MGF1_SHA256,
            source: 0,
            source_data: b"label without a source".to_vec(),
        };
        invalid(Mechanism::oaep(oaep.clone()));
        invalid(Mechanism::oaep(CkOaepParams {
            mgf: 0x77,
            source: ck::CKZ_DATA_SPECIFIED,
            ..oaep.clone()
        }));
        invalid(Mechanism::oaep(CkOaepParams {
            hash_alg: ck::CKM_MD5,
            source: ck::CKZ_DATA_SPECIFIED,
            ..oaep
        }));
        assert!(matches!(
            crypt_mechanism(&Mechanism::new(ck::CKM_DES3_CBC)),
            Err(Error::MechanismInvalid(_))
        ));
    }

    #[test]
    fn hmac_mechanisms_and_key_types() {
        for alg in HashAlg::ALL {
            assert!(is_mac_key_type(hmac_key_type(alg)));
        }
        assert!(is_mac_key_type(ck::CKK_GENERIC_SECRET));
        assert!(!is_mac_key_type(ck::CKK_AES));
        assert_eq!(hmac_alg(ck::CKM_SHA256_HMAC), Some(HashAlg::Sha256));
        assert_eq!(hmac_alg(ck::CKM_SHA256_HMAC_GENERAL), None);
        assert_eq!(
            secret_key_gen_type(ck::CKM_SHA384_KEY_GEN).unwrap(),
            ck::CKK_SHA384_HMAC
        );
        let info = mechanism_info(ck::CKM_ECDSA).unwrap();
        assert_eq!(info.max_key_size, 521);
        assert_eq!(info.flags & ck::CKF_HW, 0);
    }
}
