//! Verifies every RRSIG in zone text against the RRset of its own entry, and (given trust
//! anchors) that the signing keys chain to one of them.
//!
//! The signing key of an RRSIG over a DNSKEY RRset at its signer's name is looked for in that
//! RRset itself (the self-signature a resolver checks); for any other RRset, among every
//! DNSKEY at the signer's name in the text. Keys match by key tag, algorithm and protocol 3
//! (tags collide, so each candidate is tried), and must have the Zone Key flag (RFC 4034
//! §2.1.1). Validity periods are reported, not judged against a clock: the fixtures are
//! history, and the ceremony checks its own windows.
//!
//! With anchors, a DNSKEY RRset is *trusted* when one of its RRSIGs verifies with a key that
//! matches an anchor; an RRSIG is then anchored when its key matches an anchor or sits in a
//! trusted DNSKEY RRset of its signer. A verified RRSIG that is not anchored fails.

use std::collections::BTreeSet;

use domain::base::iana::Rtype;
use domain::base::name::{Name, ToName};
use domain::rdata::ZoneRecordData;

use super::key::{DnsKey, PROTOCOL_DNSSEC};
use super::rrsig::{RrsigFields, SignedDataError, rrset_signed_data, timestamp_text};
use super::trust::Anchor;
use super::verify::{VerifyError, verify};
use super::zone::{RrsetEntry, ZoneError, canonical_owner, group_rrsets, parse_zone_text};

/// Why one RRSIG failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFailure {
    #[error("no records of the covered type in this entry")]
    EmptyRrset,
    #[error("no DNSKEY with tag {key_tag} and algorithm {algorithm} at the signer's name")]
    NoKey { key_tag: u16, algorithm: u8 },
    #[error("the DNSKEY with tag {0} lacks the Zone Key flag")]
    NotZoneKey(u16),
    #[error("signed data: {0}")]
    SignedData(#[from] SignedDataError),
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("verifies with key {0}, which does not chain to a trust anchor")]
    NotAnchored(u16),
}

/// The outcome for one RRSIG of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// Position among the RRSIGs of the text, from 0.
    pub index: usize,
    /// Owner name with its trailing dot (`.` for the root).
    pub owner: String,
    /// Covered type mnemonic, e.g. `DNSKEY`.
    pub type_covered: String,
    pub algorithm: u8,
    pub key_tag: u16,
    /// `YYYYMMDDHHMMSS` UTC.
    pub inception: String,
    pub expiration: String,
    /// Distinct records in the covered RRset.
    pub rrset_size: usize,
    pub result: Result<(), SignatureFailure>,
}

/// All RRSIGs of a text, in text order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZoneReport {
    pub signatures: Vec<SignatureReport>,
}

impl ZoneReport {
    /// True when there is at least one RRSIG and every one verified (and chained, if anchors
    /// were given).
    pub fn all_ok(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(|s| s.result.is_ok())
    }

    /// The RRSIGs that failed.
    pub fn failures(&self) -> impl Iterator<Item = &SignatureReport> {
        self.signatures.iter().filter(|s| s.result.is_err())
    }
}

/// What crypto verification of one RRSIG found.
struct Checked {
    report: SignatureReport,
    rrset: usize,
    signer: Name<Vec<u8>>,
    key: Option<DnsKey>,
}

/// Parses `text`, verifies every RRSIG in it and checks the chain to `anchors` (none: the
/// chain is not checked). Errors only when the text cannot be parsed; per-RRSIG failures are
/// in the report.
pub fn verify_zone_text(text: &str, anchors: &[Anchor]) -> Result<ZoneReport, ZoneError> {
    let rrsets = group_rrsets(parse_zone_text(text)?);
    let mut checked: Vec<Checked> = Vec::new();
    for (rrset_index, rrset) in rrsets.iter().enumerate() {
        for (index, rrsig) in &rrset.signatures {
            let fields = RrsigFields::from_rrsig(rrsig);
            let candidates = signing_candidates(&rrsets, rrset, &fields);
            let outcome = check_signature(rrset, &fields, rrsig.signature(), &candidates);
            let rrset_size = distinct_records(rrset);
            checked.push(Checked {
                report: SignatureReport {
                    index: *index,
                    owner: rrset.owner.fmt_with_dot().to_string(),
                    type_covered: rrset.rtype.to_string(),
                    algorithm: fields.algorithm,
                    key_tag: fields.key_tag,
                    inception: timestamp_text(fields.inception),
                    expiration: timestamp_text(fields.expiration),
                    rrset_size,
                    result: outcome.as_ref().map(|_| ()).map_err(Clone::clone),
                },
                rrset: rrset_index,
                signer: fields.signer_name,
                key: outcome.ok(),
            });
        }
    }
    if !anchors.is_empty() {
        check_chain(&rrsets, &mut checked, anchors);
    }
    let mut signatures: Vec<SignatureReport> = checked.into_iter().map(|c| c.report).collect();
    signatures.sort_by_key(|s| s.index);
    Ok(ZoneReport { signatures })
}

/// DNSKEYs that may have made the RRSIG: tag, algorithm and protocol match (see module docs).
fn signing_candidates(
    rrsets: &[RrsetEntry],
    rrset: &RrsetEntry,
    fields: &RrsigFields,
) -> Vec<DnsKey> {
    let own_keys = rrset.rtype == Rtype::DNSKEY && rrset.owner.name_eq(&fields.signer_name);
    let pool: Vec<&RrsetEntry> = if own_keys {
        vec![rrset]
    } else {
        rrsets
            .iter()
            .filter(|r| r.rtype == Rtype::DNSKEY && r.owner.name_eq(&fields.signer_name))
            .collect()
    };
    let mut keys: Vec<DnsKey> = Vec::new();
    for key in pool.iter().flat_map(|r| dnskeys(r)) {
        if key.algorithm == fields.algorithm
            && key.protocol == PROTOCOL_DNSSEC
            && key.key_tag() == fields.key_tag
            && !keys.contains(&key)
        {
            keys.push(key);
        }
    }
    keys
}

/// Builds the signed data over the entry's own RRset and tries each candidate key; returns
/// the key that verified.
fn check_signature(
    rrset: &RrsetEntry,
    fields: &RrsigFields,
    signature: &[u8],
    candidates: &[DnsKey],
) -> Result<DnsKey, SignatureFailure> {
    if rrset.records.is_empty() {
        return Err(SignatureFailure::EmptyRrset);
    }
    let signed = rrset_signed_data(fields, &rrset.owner, rrset.class, &rrset.records)?;
    let mut failure = SignatureFailure::NoKey {
        key_tag: fields.key_tag,
        algorithm: fields.algorithm,
    };
    for key in candidates {
        if !key.is_zone_key() {
            failure = SignatureFailure::NotZoneKey(fields.key_tag);
            continue;
        }
        match verify(key, &signed, signature) {
            Ok(()) => return Ok(key.clone()),
            Err(err) => failure = SignatureFailure::Verify(err),
        }
    }
    Err(failure)
}

/// Marks verified RRSIGs whose key does not chain to an anchor as failed.
fn check_chain(rrsets: &[RrsetEntry], checked: &mut [Checked], anchors: &[Anchor]) {
    let anchored_key =
        |owner: &Name<Vec<u8>>, key: &DnsKey| anchors.iter().any(|a| a.matches(owner, key));
    let trusted: BTreeSet<usize> = checked
        .iter()
        .filter(|c| rrsets[c.rrset].rtype == Rtype::DNSKEY)
        .filter(|c| {
            c.key
                .as_ref()
                .is_some_and(|key| anchored_key(&c.signer, key))
        })
        .map(|c| c.rrset)
        .collect();
    for c in checked.iter_mut() {
        let Some(key) = &c.key else { continue };
        let signer = canonical_owner(&c.signer);
        let chained = anchored_key(&c.signer, key)
            || trusted.iter().any(|&i| {
                canonical_owner(&rrsets[i].owner) == signer
                    && dnskeys(&rrsets[i]).any(|k| k == *key)
            });
        if !chained {
            c.report.result = Err(SignatureFailure::NotAnchored(key.key_tag()));
        }
    }
}

/// The DNSKEYs of an RRset entry (none unless it is a DNSKEY RRset).
fn dnskeys(rrset: &RrsetEntry) -> impl Iterator<Item = DnsKey> + '_ {
    rrset.records.iter().filter_map(|data| match data {
        ZoneRecordData::Dnskey(key) => Some(DnsKey::from_domain(key)),
        _ => None,
    })
}

fn distinct_records(rrset: &RrsetEntry) -> usize {
    use domain::base::cmp::CanonicalOrd as _;
    let mut sorted: Vec<_> = rrset.records.iter().collect();
    sorted.sort_by(|a, b| a.canonical_cmp(b));
    sorted.dedup_by(|a, b| a.canonical_cmp(b).is_eq());
    sorted.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::dnssec::rrsig::{rrset_signed_data_wire, signed_data};
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use domain::base::iana::Class;

    const INCEPTION: u32 = 1_700_000_000;
    const EXPIRATION: u32 = 1_800_000_000;

    /// A signed `example.` zone: KSK (257) and ZSK (256) Ed25519 keys, DNSKEY RRset signed by
    /// the KSK (unless `sign_dnskey` is false), `www.example. A` signed by the ZSK.
    struct Zone {
        ksk: DnsKey,
        zsk: DnsKey,
        text: String,
    }

    fn zone(zsk_flags: u16, sign_dnskey: bool) -> Zone {
        let ksk_pair = Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap();
        let zsk_pair = Ed25519KeyPair::from_seed_unchecked(&[2; 32]).unwrap();
        let ksk = DnsKey::from_eddsa(257, 15, ksk_pair.public_key().as_ref()).unwrap();
        let zsk = DnsKey::from_eddsa(zsk_flags, 15, zsk_pair.public_key().as_ref()).unwrap();
        let apex = Name::<Vec<u8>>::vec_from_str("example.").unwrap();
        let www = Name::<Vec<u8>>::vec_from_str("www.example.").unwrap();
        let fields = |type_covered: u16, labels: u8, key: &DnsKey| RrsigFields {
            type_covered,
            algorithm: 15,
            labels,
            original_ttl: 3600,
            expiration: EXPIRATION,
            inception: INCEPTION,
            key_tag: key.key_tag(),
            signer_name: apex.clone(),
        };
        let rrsig_line = |owner: &str, f: &RrsigFields, sig: &[u8]| {
            format!(
                "{owner} 3600 IN RRSIG {} 15 {} 3600 {EXPIRATION} {INCEPTION} {} example. {}\n",
                Rtype::from_int(f.type_covered),
                f.labels,
                f.key_tag,
                STANDARD.encode(sig)
            )
        };
        let mut text = String::new();
        text.push_str(&format!("{}\n", ksk.presentation(&apex, 3600).unwrap()));
        text.push_str(&format!("{}\n", zsk.presentation(&apex, 3600).unwrap()));
        if sign_dnskey {
            let f = fields(48, 1, &ksk);
            let data = signed_data(&f, &apex, 3600, &[ksk.clone(), zsk.clone()]).unwrap();
            text.push_str(&rrsig_line("example.", &f, ksk_pair.sign(&data).as_ref()));
        }
        text.push_str("www.example. 3600 IN A 192.0.2.1\n");
        let f = fields(1, 2, &zsk);
        let data = rrset_signed_data_wire(&f, &www, Class::IN, 1, &[&[192, 0, 2, 1]]).unwrap();
        text.push_str(&rrsig_line(
            "www.example.",
            &f,
            zsk_pair.sign(&data).as_ref(),
        ));
        Zone { ksk, zsk, text }
    }

    fn results(report: &ZoneReport) -> Vec<Result<(), SignatureFailure>> {
        report.signatures.iter().map(|s| s.result.clone()).collect()
    }

    fn anchor(key: &DnsKey) -> Vec<Anchor> {
        vec![Anchor::Key {
            owner: Name::vec_from_str("example.").unwrap(),
            key: key.clone(),
        }]
    }

    #[test]
    fn chain_from_ksk_anchor_through_trusted_dnskey_set() {
        let z = zone(256, true);
        let report = verify_zone_text(&z.text, &anchor(&z.ksk)).unwrap();
        assert!(report.all_ok(), "{report:#?}");
        assert_eq!(report.signatures[1].owner, "www.example.");
        assert_eq!(report.signatures[1].type_covered, "A");
        assert_eq!(report.signatures[0].rrset_size, 2);
        // Anchored at the ZSK instead: the A RRSIG chains, the KSK's DNSKEY RRSIG does not.
        let report = verify_zone_text(&z.text, &anchor(&z.zsk)).unwrap();
        assert_eq!(
            results(&report),
            [Err(SignatureFailure::NotAnchored(z.ksk.key_tag())), Ok(())]
        );
        // Without anchors only the signatures are checked.
        assert!(verify_zone_text(&z.text, &[]).unwrap().all_ok());
    }

    #[test]
    fn unsigned_dnskey_set_does_not_carry_trust() {
        let z = zone(256, false);
        let report = verify_zone_text(&z.text, &anchor(&z.ksk)).unwrap();
        assert_eq!(
            results(&report),
            [Err(SignatureFailure::NotAnchored(z.zsk.key_tag()))]
        );
        assert!(verify_zone_text(&z.text, &[]).unwrap().all_ok());
    }

    #[test]
    fn key_without_zone_flag_is_not_used() {
        let z = zone(0, true);
        let report = verify_zone_text(&z.text, &[]).unwrap();
        assert_eq!(
            results(&report),
            [Ok(()), Err(SignatureFailure::NotZoneKey(z.zsk.key_tag()))]
        );
    }

    #[test]
    fn rrsig_without_records_and_empty_text() {
        let z = zone(256, true);
        let text = z.text.replace("www.example. 3600 IN A 192.0.2.1\n", "");
        let report = verify_zone_text(&text, &[]).unwrap();
        assert_eq!(
            results(&report),
            [Ok(()), Err(SignatureFailure::EmptyRrset)]
        );
        let empty = verify_zone_text("; nothing\n", &[]).unwrap();
        assert!(empty.signatures.is_empty() && !empty.all_ok());
    }
}
