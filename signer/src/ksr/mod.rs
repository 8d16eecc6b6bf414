//! The KSR/SKR XML documents: their model, reader and writer.
//!
//! The reader accepts every file IANA has exchanged (no declaration, CRLF, zone-less
//! times, `05017` key tags) and refuses any XML feature the format does not need, so that
//! what the operator hashes is exactly what gets checked. The writer reproduces kskm's (and
//! the legacy tool's) SKR layout byte for byte.

mod error;
mod model;
mod node;
mod parse;
mod time;
mod tree;
mod write;

pub use error::{At, XmlError};
pub use model::{
    ALLOWED_FLAGS, AlgorithmParams, AlgorithmPolicy, Body, Bundle, Key, KsrDocument,
    MAX_DOCUMENT_BYTES, Request, Response, Signature, SignaturePolicy, TYPE_DNSKEY,
};
pub use parse::parse_document;
pub use time::{TimeError, Timestamp, XsdDuration};
pub use write::{Layout, write_document, write_ksr, write_skr};
