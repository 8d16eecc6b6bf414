//! The KSR/SKR document as plain data: what the file says, in file order, nothing derived.
//!
//! Policy checks, key tags and signatures are computed elsewhere from these values; keeping
//! the model dumb means the parser can be audited against the schema alone.

use super::time::{Timestamp, XsdDuration};

/// One `<KSR>` document: a request (KSR) or a response (SKR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsrDocument {
    /// `id` attribute; the SKR echoes the KSR's.
    pub id: String,
    /// `serial` attribute.
    pub serial: u64,
    /// `domain` attribute (`.` for the root).
    pub domain: String,
    /// The single `<Request>` or `<Response>`.
    pub body: Body,
}

/// Which way the document goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A KSR from the Root Zone Maintainer.
    Request(Request),
    /// An SKR from the KSK operator.
    Response(Response),
}

/// `<Request>`: the ZSK policy and the bundles to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Optional `timestamp` attribute, kept as written (never used by IANA).
    pub timestamp: Option<String>,
    /// `<RequestPolicy><ZSK>`.
    pub policy: SignaturePolicy,
    /// `<RequestBundle>`s in file order.
    pub bundles: Vec<Bundle>,
}

/// `<Response>`: both policies and the signed bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Optional `timestamp` attribute, kept as written (never used by IANA).
    pub timestamp: Option<String>,
    /// `<ResponsePolicy><KSK>`.
    pub ksk_policy: SignaturePolicy,
    /// `<ResponsePolicy><ZSK>`, echoed from the KSR.
    pub zsk_policy: SignaturePolicy,
    /// `<ResponseBundle>`s in file order.
    pub bundles: Vec<Bundle>,
}

/// The body of a `<ZSK>` or `<KSK>` policy element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignaturePolicy {
    pub publish_safety: XsdDuration,
    pub retire_safety: XsdDuration,
    pub max_signature_validity: XsdDuration,
    pub min_signature_validity: XsdDuration,
    pub max_validity_overlap: XsdDuration,
    pub min_validity_overlap: XsdDuration,
    /// `<SignatureAlgorithm>`s in file order (at least one).
    pub algorithms: Vec<AlgorithmPolicy>,
}

/// One `<SignatureAlgorithm algorithm="N">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    /// DNSSEC algorithm number.
    pub algorithm: u8,
    /// The key parameters given in the child element.
    pub params: AlgorithmParams,
}

/// The child of `<SignatureAlgorithm>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgorithmParams {
    /// `<RSA size=".." exponent=".."/>`.
    Rsa { size: u32, exponent: u64 },
    /// `<ECDSA size=".."/>`.
    Ecdsa { size: u32 },
    /// `<EdDSA size=".."/>` (kskm reads it; no real file has one).
    EdDsa { size: u32 },
    /// No child element.
    None,
}

/// A `<RequestBundle>` or `<ResponseBundle>`: one slot of the quarter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// `id` attribute (a UUID in practice).
    pub id: String,
    /// `<Inception>`.
    pub inception: Timestamp,
    /// `<Expiration>`.
    pub expiration: Timestamp,
    /// `<Signer keyIdentifier>`s (requests only; absent from every real file).
    pub signers: Vec<String>,
    /// `<Key>`s in file order (at least one).
    pub keys: Vec<Key>,
    /// `<Signature>`s in file order (at least one).
    pub signatures: Vec<Signature>,
}

impl Bundle {
    /// Orders the keys as current kskm writes them (stable sort by key tag). Older kskm and
    /// the legacy tool wrote them unsorted, so the writer leaves the order to the caller.
    pub fn sort_keys_by_tag(&mut self) {
        self.keys.sort_by_key(|k| k.key_tag);
    }
}

/// A `<Key>`: one DNSKEY record of the bundle's RRset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// `keyIdentifier` attribute: the HSM label for KSKs, hex DER name for Verisign ZSKs.
    pub key_identifier: String,
    /// `keyTag` attribute as written (not recomputed here).
    pub key_tag: u16,
    pub ttl: u32,
    /// 256, 257 or 385.
    pub flags: u16,
    /// Always 3.
    pub protocol: u8,
    pub algorithm: u8,
    /// `<PublicKey>` decoded from base64: the DNSKEY public-key field.
    pub public_key: Vec<u8>,
}

/// A `<Signature>`: one RRSIG over the bundle's DNSKEY RRset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `keyIdentifier` attribute of the signing key.
    pub key_identifier: String,
    pub ttl: u32,
    /// RR type number; only DNSKEY (48) is accepted.
    pub type_covered: u16,
    pub algorithm: u8,
    pub labels: u8,
    pub original_ttl: u32,
    pub expiration: Timestamp,
    pub inception: Timestamp,
    pub key_tag: u16,
    /// Signer's name as written (`.`).
    pub signers_name: String,
    /// `<SignatureData>` decoded from base64.
    pub signature_data: Vec<u8>,
}

/// The RR type the signatures cover.
pub const TYPE_DNSKEY: u16 = 48;

/// DNSKEY flags a KSR/SKR may carry (kskm's rule): ZSK, KSK, revoked KSK.
pub const ALLOWED_FLAGS: [u16; 3] = [256, 257, 385];

/// Upper bound on a KSR/SKR file, as in kskm: checked before any parsing.
pub const MAX_DOCUMENT_BYTES: usize = 1_048_576;
