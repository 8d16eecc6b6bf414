//! DNSSEC for the root DNSKEY RRset: keys, tags, DS, signing input, verification, zone text.
//!
//! The DNS vocabulary — names, DNSKEY/RRSIG/DS record data, key tags, canonical form and
//! order, zone-file parsing and presentation — is the `domain` crate's; signatures are
//! checked with aws-lc-rs (and `rsa` for RSA keys under 1024 bits).
//!
//! * [`key`]: [`DnsKey`], key tags, revocation, DS digests, presentation lines.
//! * [`rrsig`]: [`RrsigFields`] and the signed data of RFC 4034 §3.1.8.1.
//! * [`verify`]: [`verify()`], and the `CKM_RSA_PKCS` / `CKM_RSA_X_509` inputs.
//! * [`zone`], [`zone_verify`]: zone text → RRsets → a per-RRSIG [`ZoneReport`].
//! * [`trust`], [`anchor`]: trust anchors and IANA's `root-anchors.xml`.

pub mod anchor;
mod anchor_xml;
pub mod key;
pub mod rrsig;
pub mod trust;
pub mod verify;
pub mod zone;
pub mod zone_verify;

pub use anchor::{AnchorError, KeyDigest, TrustAnchor};
pub use key::{DnsKey, FLAG_REVOKE, FLAG_SEP, FLAG_ZONE, KeyError, PROTOCOL_DNSSEC};
pub use rrsig::{
    RrsigFields, SignedDataError, rrset_signed_data, rrset_signed_data_wire, signed_data,
    timestamp_text,
};
pub use trust::Anchor;
pub use verify::{VerifyError, digest_info, emsa_pkcs1_v15, verify};
pub use zone::{RrsetEntry, ZoneError, ZoneRecord, group_rrsets, parse_zone_text};
pub use zone_verify::{SignatureFailure, SignatureReport, ZoneReport, verify_zone_text};
