//! A session and its active operations. Each kind of operation (find, sign, verify, digest,
//! encrypt, decrypt) has its own slot; starting one while it is active is an error, and any
//! error while it runs ends it, as the spec requires.

use std::sync::Arc;

use crate::crypto::{
    AesCipher, Digest, HashAlg, Mac, RsaCrypt, SignMechanism, SigningKey, VerifyingKey,
};
use crate::secret::SecretBytes;

/// An open session.
#[derive(Debug)]
pub struct Session {
    pub handle: u64,
    pub slot: u64,
    pub read_write: bool,
    pub find: Option<FindOp>,
    pub sign: Option<SignOp>,
    pub verify: Option<VerifyOp>,
    pub digest: Option<DigestOp>,
    pub encrypt: Option<CryptOp>,
    pub decrypt: Option<CryptOp>,
}

impl Session {
    pub fn new(handle: u64, slot: u64, read_write: bool) -> Self {
        Self {
            handle,
            slot,
            read_write,
            find: None,
            sign: None,
            verify: None,
            digest: None,
            encrypt: None,
            decrypt: None,
        }
    }
}

/// A search in progress: the matching handles, handed out in order.
#[derive(Debug)]
pub struct FindOp {
    pub results: Vec<u64>,
    pub position: usize,
}

/// Whether an operation has been fed through `*Update`, which rules out the single-part call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Fresh,
    MultiPart,
}

#[derive(Debug)]
pub struct SignOp {
    pub kind: SignKind,
    pub stage: Stage,
}

/// How a signature is made: a private key over buffered data, or a MAC (HMAC, CMAC) as data
/// arrives.
#[derive(Debug)]
pub enum SignKind {
    Key {
        key: Arc<dyn SigningKey>,
        mechanism: SignMechanism,
        data: Vec<u8>,
    },
    Mac(Mac),
}

#[derive(Debug)]
pub struct VerifyOp {
    pub kind: VerifyKind,
    pub stage: Stage,
}

#[derive(Debug)]
pub enum VerifyKind {
    Key {
        key: Arc<dyn VerifyingKey>,
        mechanism: SignMechanism,
        data: Vec<u8>,
    },
    Mac(Mac),
}

#[derive(Debug)]
pub struct DigestOp {
    pub alg: HashAlg,
    pub context: Digest,
    pub stage: Stage,
}

/// An encryption or decryption in progress.
#[derive(Debug)]
pub struct CryptOp {
    pub engine: CryptEngine,
    pub stage: Stage,
}

#[derive(Debug)]
pub enum CryptEngine {
    /// AES: a stream, except GCM, which buffers.
    Aes(AesCipher),
    /// RSA is single-part by nature; multi-part input is buffered, as for signing.
    RsaEncrypt {
        key: Arc<dyn VerifyingKey>,
        mechanism: RsaCrypt,
        data: Vec<u8>,
    },
    RsaDecrypt {
        key: Arc<dyn SigningKey>,
        mechanism: RsaCrypt,
        data: Vec<u8>,
    },
}

/// What a call that produces output returns under PKCS#11's two-call convention: the output,
/// or, for a size query or a buffer too small for it, only its length (the operation stays
/// active). Decrypted output is secret, so every output travels as [`SecretBytes`].
#[derive(Debug)]
pub enum Output {
    Data(SecretBytes),
    Needed(usize),
}

impl Output {
    /// The output bytes, or `None` when only a length was returned.
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            Output::Data(data) => Some(data.expose()),
            Output::Needed(_) => None,
        }
    }
}
