//! Zone-file text → records (parsed by `domain`'s zone-file scanner) → RRsets, each RRset
//! carrying the RRSIGs that cover it.
//!
//! Grouping rule. Records of one owner, class and type form an RRset in the order they appear.
//! An RRset is *closed* by the first RRSIG covering it that follows at least one of its
//! records; a later record of the same owner, class and type then opens a new RRset, and
//! RRSIGs attach to the newest RRset of their owner, class and covered type (an RRSIG that
//! comes before any record of its RRset attaches to the RRset those records then form). So a
//! file that lists the same RRset several times, each copy followed by its own RRSIG — the
//! root-zone history in `root-dnskey-rrsig-2023-2026.zone` — yields one RRset per copy and
//! each RRSIG is checked against the records of its own entry, never a merged set. Comments
//! do not split RRsets: zone files put `; KSK` / `; ZSK` comment lines between the records of
//! one RRset, and `domain`'s scanner drops comments anyway.

use std::collections::BTreeMap;

use domain::base::iana::{Class, Rtype};
use domain::base::name::{FlattenInto, Name, ToName};
use domain::base::rdata::RecordData as _;
use domain::rdata::{Rrsig, ZoneRecordData};
use domain::zonefile::inplace::{Entry, Zonefile};

/// Record data with owned octets and flat names.
pub type RecordData = ZoneRecordData<Vec<u8>, Name<Vec<u8>>>;
/// A parsed RRSIG.
pub type RrsigData = Rrsig<Vec<u8>, Name<Vec<u8>>>;

/// Why zone text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("zone text: {0}")]
    Parse(String),
    #[error("zone text: $INCLUDE is not followed (give the included text itself)")]
    Include,
    #[error("zone text: record data too long")]
    TooLong,
}

/// One record of the text.
#[derive(Debug, Clone)]
pub struct ZoneRecord {
    pub owner: Name<Vec<u8>>,
    pub class: Class,
    pub ttl: u32,
    pub data: RecordData,
}

/// An RRset as it appears in the text, with the RRSIGs that cover it (see the module docs).
#[derive(Debug, Clone)]
pub struct RrsetEntry {
    pub owner: Name<Vec<u8>>,
    pub class: Class,
    pub rtype: Rtype,
    /// The records' data in text order (duplicates kept; the signed data drops them).
    pub records: Vec<RecordData>,
    /// The RRSIGs covering this RRset, each with its position among all RRSIGs of the text.
    pub signatures: Vec<(usize, RrsigData)>,
}

/// Parses zone text with `domain`'s scanner. Names must be absolute (or `$ORIGIN` set in the
/// text); `$INCLUDE` is refused so that what is checked is exactly the text given.
pub fn parse_zone_text(text: &str) -> Result<Vec<ZoneRecord>, ZoneError> {
    let mut zonefile = Zonefile::new();
    zonefile.extend_from_slice(text.as_bytes());
    // The scanner wants every record to end with a line feed.
    if !text.ends_with('\n') {
        zonefile.extend_from_slice(b"\n");
    }
    let mut records = Vec::new();
    while let Some(entry) = zonefile
        .next_entry()
        .map_err(|err| ZoneError::Parse(err.to_string()))?
    {
        let record = match entry {
            Entry::Record(record) => record,
            Entry::Include { .. } => return Err(ZoneError::Include),
        };
        let owner: Name<Vec<u8>> = record.owner().to_name();
        let (class, ttl) = (record.class(), record.ttl().as_secs());
        let data: RecordData = record
            .into_data()
            .try_flatten_into()
            .map_err(|_| ZoneError::TooLong)?;
        records.push(ZoneRecord {
            owner,
            class,
            ttl,
            data,
        });
    }
    Ok(records)
}

/// Groups records into RRsets by the rule in the module docs, in order of first appearance.
pub fn group_rrsets(records: Vec<ZoneRecord>) -> Vec<RrsetEntry> {
    // Key: canonical (lower-case) owner, class, type → index of the newest RRset.
    let mut newest: BTreeMap<(Vec<u8>, u16, u16), usize> = BTreeMap::new();
    let mut closed: Vec<bool> = Vec::new();
    let mut rrsets: Vec<RrsetEntry> = Vec::new();
    let mut signature_count = 0;
    for ZoneRecord {
        owner, class, data, ..
    } in records
    {
        let rrsig = match data {
            ZoneRecordData::Rrsig(rrsig) => Ok(rrsig),
            other => Err(other),
        };
        let rtype = match &rrsig {
            Ok(rrsig) => rrsig.type_covered(),
            Err(other) => other.rtype(),
        };
        let key = (canonical_owner(&owner), class.to_int(), rtype.to_int());
        let open = newest.get(&key).copied().filter(|&index| match &rrsig {
            Ok(_) => true,
            Err(_) => !closed[index],
        });
        let index = open.unwrap_or_else(|| {
            rrsets.push(RrsetEntry {
                owner,
                class,
                rtype,
                records: Vec::new(),
                signatures: Vec::new(),
            });
            closed.push(false);
            newest.insert(key, rrsets.len() - 1);
            rrsets.len() - 1
        });
        let rrset = &mut rrsets[index];
        match rrsig {
            Ok(rrsig) => {
                rrset.signatures.push((signature_count, rrsig));
                signature_count += 1;
                closed[index] = !rrset.records.is_empty();
            }
            Err(data) => rrset.records.push(data),
        }
    }
    rrsets
}

/// Owner name bytes in canonical (lower-case) wire form, for grouping.
pub(crate) fn canonical_owner<N: ToName + ?Sized>(name: &N) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(()) = name.compose_canonical(&mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ROOT_2012: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/ksr/root-dnskey-rrsig-2012-06-15.zone"
    ));
    const ROOT_2023: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/ksr/root-dnskey-rrsig-2023-2026.zone"
    ));

    #[test]
    fn root_2012_one_rrset() {
        let rrsets = group_rrsets(parse_zone_text(ROOT_2012).unwrap());
        assert_eq!(rrsets.len(), 1);
        assert_eq!(rrsets[0].rtype, Rtype::DNSKEY);
        assert_eq!(rrsets[0].records.len(), 2);
        assert_eq!(rrsets[0].signatures.len(), 1);
        assert!(rrsets[0].owner.is_root());
    }

    #[test]
    fn root_2023_one_rrset_per_entry() {
        let records = parse_zone_text(ROOT_2023).unwrap();
        assert_eq!(records.len(), 292 + 102);
        let rrsets = group_rrsets(records);
        assert_eq!(rrsets.len(), 102);
        assert!(
            rrsets
                .iter()
                .all(|r| r.signatures.len() == 1 && r.rtype == Rtype::DNSKEY)
        );
        assert_eq!(rrsets.iter().map(|r| r.records.len()).sum::<usize>(), 292);
        let order: Vec<usize> = rrsets.iter().map(|r| r.signatures[0].0).collect();
        assert_eq!(order, (0..102).collect::<Vec<_>>());
    }

    #[test]
    fn grouping_rule() {
        let text = "\
; ZSK
a.example. 300 IN TXT \"one\"
; KSK comment between the records of one RRset
A.example. 300 IN TXT \"two\"
a.example. 300 IN RRSIG TXT 8 2 300 20300101000000 20000101000000 1 example. AAAA
a.example. 300 IN RRSIG TXT 8 2 300 20300101000000 20000101000000 2 example. AAAA
a.example. 300 IN TXT \"three\"
a.example. 300 IN RRSIG TXT 8 2 300 20300101000000 20000101000000 3 example. AAAA
b.example. 300 IN RRSIG A 8 2 300 20300101000000 20000101000000 4 example. AAAA
b.example. 300 IN A 192.0.2.1
a.example. 300 IN A 192.0.2.2";
        let rrsets = group_rrsets(parse_zone_text(text).unwrap());
        let summary: Vec<(usize, Vec<u16>)> = rrsets
            .iter()
            .map(|r| {
                (
                    r.records.len(),
                    r.signatures.iter().map(|(_, s)| s.key_tag()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![(2, vec![1, 2]), (1, vec![3]), (1, vec![4]), (1, vec![])]
        );
        assert_eq!(rrsets[3].rtype, Rtype::A);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_zone_text("www 300 IN A 192.0.2.1\n"),
            Err(ZoneError::Parse(_))
        ));
        assert_eq!(
            parse_zone_text("$INCLUDE /etc/passwd\n").unwrap_err(),
            ZoneError::Include
        );
        assert!(parse_zone_text("").unwrap().is_empty());
    }
}
