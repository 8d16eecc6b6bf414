//! What an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG RDATA without its signature, followed by
//! the covered RRset in canonical form and order (§6.2, §6.3).
//!
//! Every piece of DNS encoding here is `domain`'s: `ProtoRrsig::compose_canonical` writes the
//! RRSIG prefix, `Record::compose_canonical` each RR (lower-cased owner, canonical RDATA), and
//! `CanonicalOrd` sorts and de-duplicates the RRset.

use domain::base::cmp::CanonicalOrd;
use domain::base::iana::{Class, Rtype, SecurityAlgorithm};
use domain::base::name::{Name, RelativeName, ToName};
use domain::base::rdata::{ComposeRecordData, RecordData, UnknownRecordData};
use domain::base::{Record, Ttl};
use domain::rdata::dnssec::{ProtoRrsig, Timestamp};
use domain::rdata::{Dnskey, Rrsig};

use super::key::{DnsKey, KeyError};

/// The RRSIG RDATA fields that are signed (everything but the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrsigFields {
    pub type_covered: u16,
    pub algorithm: u8,
    pub labels: u8,
    pub original_ttl: u32,
    /// Seconds since 1970 modulo 2^32 (RFC 4034 §3.1.5).
    pub expiration: u32,
    pub inception: u32,
    pub key_tag: u16,
    pub signer_name: Name<Vec<u8>>,
}

/// Why the signed data could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedDataError {
    #[error("the RRset is empty")]
    EmptyRrset,
    #[error("RRSIG covers type {covered} but the records are of type {records}")]
    TypeMismatch { covered: u16, records: u16 },
    #[error("record TTL {ttl} differs from the RRSIG original TTL {original_ttl}")]
    TtlMismatch { ttl: u32, original_ttl: u32 },
    #[error("RRSIG labels {labels} exceeds the {owner_labels} labels of the owner name")]
    LabelsExceedOwner { labels: u8, owner_labels: u8 },
    #[error("RDATA of {0} bytes is longer than 65535")]
    RdataTooLong(usize),
    #[error("DNSKEY: {0}")]
    Key(#[from] KeyError),
}

impl RrsigFields {
    /// The root DNSKEY RRSIG of a KSK ceremony (type 48, labels 0, signer `.`).
    pub fn root_dnskey(
        algorithm: u8,
        original_ttl: u32,
        inception: u32,
        expiration: u32,
        key_tag: u16,
    ) -> Self {
        RrsigFields {
            type_covered: Rtype::DNSKEY.to_int(),
            algorithm,
            labels: 0,
            original_ttl,
            expiration,
            inception,
            key_tag,
            signer_name: Name::root_vec(),
        }
    }

    /// The fields of a parsed RRSIG (its signature is left out).
    pub fn from_rrsig<O, N: ToName>(rrsig: &Rrsig<O, N>) -> Self {
        RrsigFields {
            type_covered: rrsig.type_covered().to_int(),
            algorithm: rrsig.algorithm().to_int(),
            labels: rrsig.labels(),
            original_ttl: rrsig.original_ttl().as_secs(),
            expiration: rrsig.expiration().into_int(),
            inception: rrsig.inception().into_int(),
            key_tag: rrsig.key_tag(),
            signer_name: rrsig.signer_name().to_name(),
        }
    }

    fn proto(&self) -> ProtoRrsig<&Name<Vec<u8>>> {
        ProtoRrsig::new(
            Rtype::from_int(self.type_covered),
            SecurityAlgorithm::from_int(self.algorithm),
            self.labels,
            Ttl::from_secs(self.original_ttl),
            Timestamp::from(self.expiration),
            Timestamp::from(self.inception),
            self.key_tag,
            &self.signer_name,
        )
    }

    /// RRSIG RDATA without the signature, in canonical form (signer name lower-cased).
    pub fn rdata_prefix(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let Ok(()) = self.proto().compose_canonical(&mut out);
        out
    }

    /// The full RRSIG RDATA with `signature` appended.
    pub fn rdata(&self, signature: &[u8]) -> Vec<u8> {
        let mut out = self.rdata_prefix();
        out.extend_from_slice(signature);
        out
    }

    /// Inception in presentation form, `YYYYMMDDHHMMSS` UTC.
    pub fn inception_text(&self) -> String {
        timestamp_text(self.inception)
    }

    /// Expiration in presentation form, `YYYYMMDDHHMMSS` UTC.
    pub fn expiration_text(&self) -> String {
        timestamp_text(self.expiration)
    }
}

/// Signed data of a DNSKEY RRSIG: RRSIG prefix ‖ the DNSKEY RRs at `owner`, class IN, in
/// canonical order with duplicates removed. `ttl` is the TTL the keys are published with; it
/// must equal the RRSIG original TTL (that is what §3.1.8.1 puts into the signed RRs), so a
/// mismatch is refused rather than signed.
pub fn signed_data<N: ToName>(
    fields: &RrsigFields,
    owner: &N,
    ttl: u32,
    keys: &[DnsKey],
) -> Result<Vec<u8>, SignedDataError> {
    if ttl != fields.original_ttl {
        return Err(SignedDataError::TtlMismatch {
            ttl,
            original_ttl: fields.original_ttl,
        });
    }
    let rdata = keys
        .iter()
        .map(DnsKey::to_domain)
        .collect::<Result<Vec<Dnskey<&[u8]>>, _>>()?;
    rrset_signed_data(fields, owner, Class::IN, &rdata)
}

/// Signed data over any RRset: `rdata` are the records' data (any `domain` record data type,
/// e.g. `ZoneRecordData` from a zone file). They must all be of the covered type; they are
/// sorted by canonical RDATA and de-duplicated here, so the caller's order does not matter.
/// A `labels` field smaller than the owner's label count means a wildcard expansion: the
/// owner becomes `*.` and the rightmost `labels` labels (RFC 4035 §5.3.2).
pub fn rrset_signed_data<N, D>(
    fields: &RrsigFields,
    owner: &N,
    class: Class,
    rdata: &[D],
) -> Result<Vec<u8>, SignedDataError>
where
    N: ToName,
    D: RecordData + ComposeRecordData + CanonicalOrd,
{
    let covered = Rtype::from_int(fields.type_covered);
    if let Some(other) = rdata.iter().map(RecordData::rtype).find(|&t| t != covered) {
        return Err(SignedDataError::TypeMismatch {
            covered: fields.type_covered,
            records: other.to_int(),
        });
    }
    let mut sorted: Vec<&D> = rdata.iter().collect();
    sorted.sort_by(|a, b| a.canonical_cmp(b));
    sorted.dedup_by(|a, b| a.canonical_cmp(b).is_eq());
    if sorted.is_empty() {
        return Err(SignedDataError::EmptyRrset);
    }
    let owner = signing_owner(owner, fields.labels)?;
    let ttl = Ttl::from_secs(fields.original_ttl);
    let mut out = fields.rdata_prefix();
    for data in sorted {
        let Ok(()) = Record::new(&owner, class, ttl, data).compose_canonical(&mut out);
    }
    Ok(out)
}

/// Signed data from RDATA given as wire bytes (`rtype` is the covered type). The bytes are
/// compared and written as they are, so they must already be canonical: fine for types
/// without domain names in their RDATA (A, AAAA, DNSKEY, DS, TXT …); use
/// [`rrset_signed_data`] with parsed record data for NS, MX, SOA and the like.
pub fn rrset_signed_data_wire<N: ToName>(
    fields: &RrsigFields,
    owner: &N,
    class: Class,
    rtype: u16,
    rdata: &[&[u8]],
) -> Result<Vec<u8>, SignedDataError> {
    let rdata = rdata
        .iter()
        .map(|data| {
            UnknownRecordData::from_octets(Rtype::from_int(rtype), *data)
                .map_err(|_| SignedDataError::RdataTooLong(data.len()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    rrset_signed_data(fields, owner, class, &rdata)
}

/// The owner name as it enters the signed data: itself, or the wildcard it was expanded from.
fn signing_owner<N: ToName>(owner: &N, labels: u8) -> Result<Name<Vec<u8>>, SignedDataError> {
    let owner: Name<Vec<u8>> = owner.to_name();
    let owner_labels = owner.rrsig_label_count();
    if labels > owner_labels {
        return Err(SignedDataError::LabelsExceedOwner {
            labels,
            owner_labels,
        });
    }
    if labels == owner_labels {
        return Ok(owner);
    }
    // `label_count` includes the root label, hence the `+ 1`.
    let suffix = owner
        .iter_suffixes()
        .find(|suffix| suffix.label_count() == usize::from(labels) + 1)
        .ok_or(SignedDataError::LabelsExceedOwner {
            labels,
            owner_labels,
        })?;
    let wildcard = RelativeName::wildcard_vec().chain(suffix).map_err(|_| {
        SignedDataError::LabelsExceedOwner {
            labels,
            owner_labels,
        }
    })?;
    Ok(wildcard.to_name())
}

/// `YYYYMMDDHHMMSS` (UTC) of an RRSIG time. `domain` 0.12 parses this form but prints the
/// integer; the civil date is the KSR model's (one implementation of the calendar).
pub fn timestamp_text(seconds: u32) -> String {
    crate::ksr::Timestamp::from_unix(i64::from(seconds)).to_rrsig()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use std::str::FromStr;

    fn name(text: &str) -> Name<Vec<u8>> {
        Name::from_str(text).unwrap()
    }

    fn example_fields(alg: u8, tag: u16) -> RrsigFields {
        RrsigFields {
            type_covered: 1,
            algorithm: alg,
            labels: 3,
            original_ttl: 3600,
            expiration: "20300101000000".parse::<Timestamp>().unwrap().into_int(),
            inception: "20000101000000".parse::<Timestamp>().unwrap().into_int(),
            key_tag: tag,
            signer_name: name("example.net."),
        }
    }

    #[test]
    fn rfc5702_signed_data() {
        // vectors.md §1 and §2: www.example.net. A 192.0.2.91.
        let a = [192u8, 0, 2, 91];
        let owner = name("www.example.net.");
        let sha256 = rrset_signed_data_wire(&example_fields(8, 9033), &owner, Class::IN, 1, &[&a]);
        assert_eq!(
            hex::encode(sha256.unwrap()),
            "0001080300000e1070dbd880386d43802349076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b"
        );
        let sha512 = rrset_signed_data_wire(&example_fields(10, 3740), &owner, Class::IN, 1, &[&a]);
        assert_eq!(
            hex::encode(sha512.unwrap()),
            "00010a0300000e1070dbd880386d43800e9c076578616d706c65036e65740003777777076578616d706c65036e6574000001000100000e100004c000025b"
        );
        // Upper-case owner and signer names are lower-cased in the signed data.
        let mut fields = example_fields(8, 9033);
        fields.signer_name = name("Example.NET.");
        let upper = rrset_signed_data_wire(&fields, &name("WWW.example.net."), Class::IN, 1, &[&a]);
        let lower = rrset_signed_data_wire(&example_fields(8, 9033), &owner, Class::IN, 1, &[&a]);
        assert_eq!(upper, lower);
    }

    #[test]
    fn root_prefix_and_order() {
        // vectors.md §7: KSK-2010 over the 2018-Q1 bundle 1.
        let fields = RrsigFields::root_dnskey(8, 172800, 0x5a497a00, 0x5a652980, 19036);
        assert_eq!(
            hex::encode(fields.rdata_prefix()),
            "003008000002a3005a6529805a497a004a5c00"
        );
        assert_eq!(fields.inception_text(), "20180101000000");
        assert_eq!(fields.expiration_text(), "20180122000000");
        // Order and duplicates do not matter; a TTL other than the original TTL is refused.
        let k1 = DnsKey::new(257, 8, vec![3, 1, 0, 1, 0xc3]).unwrap();
        let k2 = DnsKey::new(256, 8, vec![3, 1, 0, 1, 0xd1]).unwrap();
        let root = Name::root_vec();
        let a = signed_data(&fields, &root, 172800, &[k1.clone(), k2.clone()]).unwrap();
        let b = signed_data(
            &fields,
            &root,
            172800,
            &[k2.clone(), k1.clone(), k2.clone()],
        )
        .unwrap();
        assert_eq!(a, b);
        // The 256 key sorts first (flags are the first RDATA bytes).
        let first_rr = &a[fields.rdata_prefix().len()..];
        assert_eq!(&first_rr[..11], &[0, 0, 48, 0, 1, 0, 2, 0xa3, 0, 0, 9]);
        assert_eq!(&first_rr[11..13], &[1, 0]);
        assert_eq!(
            signed_data(&fields, &root, 86400, std::slice::from_ref(&k1)),
            Err(SignedDataError::TtlMismatch {
                ttl: 86400,
                original_ttl: 172800
            })
        );
        assert_eq!(
            signed_data(&fields, &root, 172800, &[]),
            Err(SignedDataError::EmptyRrset)
        );
        let mut not_dnskey = fields.clone();
        not_dnskey.type_covered = 1;
        assert_eq!(
            signed_data(&not_dnskey, &root, 172800, &[k1]),
            Err(SignedDataError::TypeMismatch {
                covered: 1,
                records: 48
            })
        );
    }

    #[test]
    fn wildcard_owner_and_labels() {
        let mut fields = example_fields(8, 9033);
        fields.labels = 2;
        let a = [192u8, 0, 2, 91];
        let expanded =
            rrset_signed_data_wire(&fields, &name("www.example.net."), Class::IN, 1, &[&a]);
        let wildcard =
            rrset_signed_data_wire(&fields, &name("*.example.net."), Class::IN, 1, &[&a]);
        assert_eq!(expanded.unwrap(), wildcard.clone().unwrap());
        assert!(hex::encode(wildcard.unwrap()).contains("012a076578616d706c65036e657400"));
        fields.labels = 4;
        assert_eq!(
            rrset_signed_data_wire(&fields, &name("www.example.net."), Class::IN, 1, &[&a]),
            Err(SignedDataError::LabelsExceedOwner {
                labels: 4,
                owner_labels: 3
            })
        );
    }

    #[test]
    fn fields_from_parsed_rrsig() {
        let sig = STANDARD.decode("kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==").unwrap();
        let fields = example_fields(8, 9033);
        let rrsig = Rrsig::new(
            Rtype::A,
            SecurityAlgorithm::RSASHA256,
            3,
            Ttl::from_secs(3600),
            Timestamp::from(fields.expiration),
            Timestamp::from(fields.inception),
            9033,
            name("example.net."),
            sig.clone(),
        )
        .unwrap();
        assert_eq!(RrsigFields::from_rrsig(&rrsig), fields);
        let mut wire = Vec::new();
        let Ok(()) = rrsig.compose_rdata(&mut wire);
        assert_eq!(fields.rdata(&sig), wire);
    }

    #[test]
    fn timestamps() {
        for text in [
            "19700101000000",
            "20000229235959",
            "20380119031407",
            "21060207062815",
            "20260910000000",
        ] {
            let secs = text.parse::<Timestamp>().unwrap().into_int();
            assert_eq!(timestamp_text(secs), text);
        }
        assert_eq!(timestamp_text(u32::MAX), "21060207062815");
    }
}
