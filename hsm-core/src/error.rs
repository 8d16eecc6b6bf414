//! The crate's one error type and its one mapping to PKCS#11 return codes.
//!
//! Every layer (store, quorum, crypto) keeps its own typed error; they meet here, and
//! [`Error::ck_rv`] is the single place that decides which `CKR_*` a caller sees.

use cryptoki_sys as ck;
use thiserror::Error;

use crate::crypto::CryptoError;
use crate::kdf::KdfError;
use crate::quorum::QuorumError;
use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the HSM, phrased for the operator who reads it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    #[error("slot {0} does not exist")]
    SlotInvalid(u64),
    #[error("the token in slot {0} is not initialised")]
    TokenNotRecognized(u64),
    #[error("no token is labelled {0:?}")]
    TokenNotFound(String),
    #[error("session handle {0} is not open")]
    SessionHandleInvalid(u64),
    #[error("object handle {0} does not exist or is not visible to this session")]
    ObjectHandleInvalid(u64),
    #[error("key handle {0} does not exist or is not visible to this session")]
    KeyHandleInvalid(u64),
    #[error("the session is read-only")]
    SessionReadOnly,
    #[error("a read-only session exists, so the SO cannot log in")]
    SessionReadOnlyExists,
    #[error("a read-write session exists")]
    SessionReadWriteSoExists,
    #[error("sessions are open on the token")]
    SessionExists,
    #[error("only read-write sessions may be opened by an SO")]
    SessionParallelNotSupported,
    #[error("no user is logged in")]
    UserNotLoggedIn,
    #[error("that user is already logged in")]
    UserAlreadyLoggedIn,
    #[error("another user is already logged in")]
    UserAnotherAlreadyLoggedIn,
    #[error("the user PIN has not been initialised")]
    UserPinNotInitialized,
    #[error("unknown user type {0}")]
    UserTypeInvalid(u64),
    #[error("incorrect PIN")]
    PinIncorrect,
    #[error("the PIN is locked after too many failed attempts")]
    PinLocked,
    #[error("PIN length must be between {min} and {max} bytes")]
    PinLenRange { min: usize, max: usize },
    #[error("the token is not activated: it awaits its quorum of {threshold} crypto-officer cards")]
    AwaitingQuorum { threshold: u8 },
    #[error("no operation of that kind is active in this session")]
    OperationNotInitialized,
    #[error("another operation of that kind is already active in this session")]
    OperationActive,
    #[error("mechanism {0:#x} is not supported")]
    MechanismInvalid(u64),
    #[error("bad parameter for mechanism {0:#x}")]
    MechanismParamInvalid(u64),
    #[error("the key cannot be used with this mechanism or function: {0}")]
    KeyFunctionNotPermitted(&'static str),
    #[error("the key type does not fit the mechanism")]
    KeyTypeInconsistent,
    #[error("only secret keys can be digested")]
    KeyIndigestible,
    #[error("key size out of range: {0}")]
    KeySizeRange(String),
    #[error("attribute {0:#x} is not valid for this object")]
    AttributeTypeInvalid(u64),
    #[error("attribute {0:#x} has an invalid value")]
    AttributeValueInvalid(u64),
    #[error("attribute {0:#x} is read-only")]
    AttributeReadOnly(u64),
    #[error("attribute {0:#x} is sensitive and cannot be revealed")]
    AttributeSensitive(u64),
    #[error("template is incomplete: attribute {0:#x} is required")]
    TemplateIncomplete(u64),
    #[error("template is inconsistent: {0}")]
    TemplateInconsistent(String),
    #[error("the object cannot be modified")]
    ActionProhibited,
    #[error("the data is too long or too short for this operation")]
    DataLenRange,
    #[error("the data is invalid for this operation")]
    DataInvalid,
    #[error("the signature is invalid")]
    SignatureInvalid,
    #[error("the signature has the wrong length")]
    SignatureLenRange,
    #[error("the wrapped key is invalid")]
    WrappedKeyInvalid,
    #[error("the key cannot be wrapped with this wrapping key: {0}")]
    KeyNotWrappable(&'static str),
    #[error("the encrypted data is invalid (bad padding or authentication tag)")]
    EncryptedDataInvalid,
    #[error("the encrypted data has a length the mechanism cannot have produced")]
    EncryptedDataLenRange,
    #[error("the output buffer is too small")]
    BufferTooSmall,
    #[error("bad arguments: {0}")]
    ArgumentsBad(&'static str),
    #[error("the function is not supported: {0}")]
    FunctionNotSupported(&'static str),
    #[error("token label must be at most 32 bytes")]
    LabelTooLong,
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Quorum(#[from] QuorumError),
    #[error(transparent)]
    Kdf(#[from] KdfError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the token's data is corrupt: {0}")]
    Corrupt(String),
    #[error("the operating system's random number generator failed")]
    Rng,
}

impl Error {
    /// The PKCS#11 return code for this error: the one mapping between the two worlds.
    pub fn ck_rv(&self) -> ck::CK_RV {
        match self {
            Error::SlotInvalid(_) => ck::CKR_SLOT_ID_INVALID,
            Error::TokenNotRecognized(_) => ck::CKR_TOKEN_NOT_RECOGNIZED,
            Error::TokenNotFound(_) => ck::CKR_TOKEN_NOT_PRESENT,
            Error::SessionHandleInvalid(_) => ck::CKR_SESSION_HANDLE_INVALID,
            Error::ObjectHandleInvalid(_) => ck::CKR_OBJECT_HANDLE_INVALID,
            Error::KeyHandleInvalid(_) => ck::CKR_KEY_HANDLE_INVALID,
            Error::SessionReadOnly => ck::CKR_SESSION_READ_ONLY,
            Error::SessionReadOnlyExists => ck::CKR_SESSION_READ_ONLY_EXISTS,
            Error::SessionReadWriteSoExists => ck::CKR_SESSION_READ_WRITE_SO_EXISTS,
            Error::SessionExists => ck::CKR_SESSION_EXISTS,
            Error::SessionParallelNotSupported => ck::CKR_SESSION_PARALLEL_NOT_SUPPORTED,
            Error::UserNotLoggedIn => ck::CKR_USER_NOT_LOGGED_IN,
            Error::UserAlreadyLoggedIn => ck::CKR_USER_ALREADY_LOGGED_IN,
            Error::UserAnotherAlreadyLoggedIn => ck::CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
            Error::UserPinNotInitialized => ck::CKR_USER_PIN_NOT_INITIALIZED,
            Error::UserTypeInvalid(_) => ck::CKR_USER_TYPE_INVALID,
            Error::PinIncorrect => ck::CKR_PIN_INCORRECT,
            Error::PinLocked => ck::CKR_PIN_LOCKED,
            Error::PinLenRange { .. } => ck::CKR_PIN_LEN_RANGE,
            // C_Login's list of return codes has nothing for "the token is not activated";
            // CKR_FUNCTION_FAILED ("could not be performed") is true and spends no PIN try,
            // and the module logs why.
            Error::AwaitingQuorum { .. } => ck::CKR_FUNCTION_FAILED,
            Error::OperationNotInitialized => ck::CKR_OPERATION_NOT_INITIALIZED,
            Error::OperationActive => ck::CKR_OPERATION_ACTIVE,
            Error::MechanismInvalid(_) => ck::CKR_MECHANISM_INVALID,
            Error::MechanismParamInvalid(_) => ck::CKR_MECHANISM_PARAM_INVALID,
            Error::KeyFunctionNotPermitted(_) => ck::CKR_KEY_FUNCTION_NOT_PERMITTED,
            Error::KeyTypeInconsistent => ck::CKR_KEY_TYPE_INCONSISTENT,
            Error::KeyIndigestible => ck::CKR_KEY_INDIGESTIBLE,
            Error::KeySizeRange(_) => ck::CKR_KEY_SIZE_RANGE,
            Error::AttributeTypeInvalid(_) => ck::CKR_ATTRIBUTE_TYPE_INVALID,
            Error::AttributeValueInvalid(_) => ck::CKR_ATTRIBUTE_VALUE_INVALID,
            Error::AttributeReadOnly(_) => ck::CKR_ATTRIBUTE_READ_ONLY,
            Error::AttributeSensitive(_) => ck::CKR_ATTRIBUTE_SENSITIVE,
            Error::TemplateIncomplete(_) => ck::CKR_TEMPLATE_INCOMPLETE,
            Error::TemplateInconsistent(_) => ck::CKR_TEMPLATE_INCONSISTENT,
            Error::ActionProhibited => ck::CKR_ACTION_PROHIBITED,
            Error::DataLenRange => ck::CKR_DATA_LEN_RANGE,
            Error::DataInvalid => ck::CKR_DATA_INVALID,
            Error::SignatureInvalid => ck::CKR_SIGNATURE_INVALID,
            Error::SignatureLenRange => ck::CKR_SIGNATURE_LEN_RANGE,
            Error::WrappedKeyInvalid => ck::CKR_WRAPPED_KEY_INVALID,
            Error::KeyNotWrappable(_) => ck::CKR_KEY_NOT_WRAPPABLE,
            Error::EncryptedDataInvalid => ck::CKR_ENCRYPTED_DATA_INVALID,
            Error::EncryptedDataLenRange => ck::CKR_ENCRYPTED_DATA_LEN_RANGE,
            Error::BufferTooSmall => ck::CKR_BUFFER_TOO_SMALL,
            Error::ArgumentsBad(_) => ck::CKR_ARGUMENTS_BAD,
            Error::FunctionNotSupported(_) => ck::CKR_FUNCTION_NOT_SUPPORTED,
            Error::LabelTooLong => ck::CKR_ARGUMENTS_BAD,
            Error::Config(_) => ck::CKR_GENERAL_ERROR,
            Error::Store(_) | Error::Corrupt(_) => ck::CKR_DEVICE_ERROR,
            Error::Quorum(_) => ck::CKR_PIN_INCORRECT,
            Error::Kdf(_) => ck::CKR_GENERAL_ERROR,
            Error::Crypto(e) => crypto_rv(e),
            Error::Rng => ck::CKR_DEVICE_ERROR,
        }
    }
}

fn crypto_rv(error: &CryptoError) -> ck::CK_RV {
    match error {
        CryptoError::MechanismInvalid => ck::CKR_MECHANISM_INVALID,
        CryptoError::KeyTypeInconsistent => ck::CKR_KEY_TYPE_INCONSISTENT,
        CryptoError::KeySizeRange => ck::CKR_KEY_SIZE_RANGE,
        CryptoError::DataLenRange => ck::CKR_DATA_LEN_RANGE,
        CryptoError::DataInvalid => ck::CKR_DATA_INVALID,
        CryptoError::SignatureInvalid => ck::CKR_SIGNATURE_INVALID,
        CryptoError::SignatureLenRange => ck::CKR_SIGNATURE_LEN_RANGE,
        CryptoError::WrappedKeyInvalid => ck::CKR_WRAPPED_KEY_INVALID,
        CryptoError::EncryptedDataInvalid => ck::CKR_ENCRYPTED_DATA_INVALID,
        CryptoError::EncryptedDataLenRange => ck::CKR_ENCRYPTED_DATA_LEN_RANGE,
        CryptoError::KeyImport(_) | CryptoError::AttributeValueInvalid(_) => {
            ck::CKR_ATTRIBUTE_VALUE_INVALID
        }
        CryptoError::MechanismParamInvalid => ck::CKR_MECHANISM_PARAM_INVALID,
        CryptoError::Rng => ck::CKR_DEVICE_ERROR,
        CryptoError::Internal(_) => ck::CKR_GENERAL_ERROR,
    }
}
