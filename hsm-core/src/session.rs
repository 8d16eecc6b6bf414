//! A session and its active operations. Each kind of operation (find, sign, verify, digest)
//! has its own slot; starting one while it is active is an error, and any error while it
//! runs ends it, as the spec requires.

use std::sync::Arc;

use crate::crypto::{Digest, HashAlg, SignMechanism, SigningKey, VerifyingKey};

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
    pub key: Arc<dyn SigningKey>,
    pub mechanism: SignMechanism,
    pub data: Vec<u8>,
    pub stage: Stage,
}

#[derive(Debug)]
pub struct VerifyOp {
    pub key: Arc<dyn VerifyingKey>,
    pub mechanism: SignMechanism,
    pub data: Vec<u8>,
    pub stage: Stage,
}

#[derive(Debug)]
pub struct DigestOp {
    pub alg: HashAlg,
    pub context: Digest,
    pub stage: Stage,
}
