//! `strongroom rrset sign` and `rrset verify`: zone text in, the DNSKEY RRset and its RRSIG
//! out — the root ceremony's product without the XML — and every RRSIG of a zone text checked,
//! against trust anchors when given.

use std::path::Path;

use base64::Engine as _;
use domain::base::name::{Name, ToName};
use domain::rdata::ZoneRecordData;
use serde_json::json;

use super::keysource::{KeySource, dnssec_algorithm};
use crate::admin::Output;
use crate::dnssec::{
    Anchor, DnsKey, FLAG_SEP, FLAG_ZONE, RrsigFields, TrustAnchor, parse_zone_text, signed_data,
    verify, verify_zone_text,
};
use crate::error::{CliError, CliResult, fail, in_file};
use crate::keystore::{SigningPath, signing_input};
use crate::ksr::Timestamp;

/// What `rrset sign` is asked to do.
#[derive(Debug)]
pub struct SignRequest<'a> {
    pub zone_file: &'a Path,
    pub key_label: &'a str,
    pub inception: &'a str,
    pub expiration: &'a str,
    /// TTL of the published RRset (and the RRSIG's original TTL); the text's when absent.
    pub ttl: Option<u32>,
    pub algorithm: Option<u8>,
    pub path: SigningPath,
}

/// Reads a time as an RRSIG field (`YYYYMMDDHHMMSS`) or an xsd:dateTime.
pub fn parse_time(text: &str) -> CliResult<Timestamp> {
    Timestamp::parse_rrsig(text)
        .or_else(|_| Timestamp::parse_xsd(text))
        .map_err(|_| {
            CliError(format!(
                "{text:?} is neither YYYYMMDDHHMMSS nor YYYY-MM-DDTHH:MM:SS[+00:00]"
            ))
        })
}

/// Signs the DNSKEY RRset of the zone text (the KSK added with flags 257 when absent).
pub fn sign(source: &KeySource, request: &SignRequest<'_>) -> CliResult<Output> {
    let text = in_file(
        request.zone_file,
        std::fs::read_to_string(request.zone_file),
    )?;
    let records = in_file(request.zone_file, parse_zone_text(&text))?;
    let mut owner: Option<Name<Vec<u8>>> = None;
    let mut text_ttl = None;
    let mut keys: Vec<DnsKey> = Vec::new();
    for record in &records {
        let ZoneRecordData::Dnskey(dnskey) = &record.data else {
            continue;
        };
        match &owner {
            Some(o) if o.name_eq(&record.owner) => {}
            Some(o) => {
                return fail(format!(
                    "{}: DNSKEY records of two owners, {o} and {}",
                    request.zone_file.display(),
                    record.owner
                ));
            }
            None => owner = Some(record.owner.clone()),
        }
        text_ttl.get_or_insert(record.ttl);
        keys.push(DnsKey::from_domain(dnskey));
    }
    let owner = owner.unwrap_or_else(Name::root_vec);
    let ttl = request.ttl.or(text_ttl).unwrap_or(172_800);
    let (inception, expiration) = (
        parse_time(request.inception)?,
        parse_time(request.expiration)?,
    );
    if expiration <= inception {
        return fail("the expiration must come after the inception");
    }

    let store = source.open()?;
    let key = store
        .key(request.key_label)
        .map_err(|e| CliError(e.to_string()))?;
    let public = store
        .public_key(&key)
        .map_err(|e| CliError(e.to_string()))?;
    let algorithm = dnssec_algorithm(&public, request.algorithm)?;
    let ksk = DnsKey::new(FLAG_ZONE | FLAG_SEP, algorithm, public.dnskey_public_key())
        .map_err(|e| CliError(e.to_string()))?;
    if !keys
        .iter()
        .any(|k| k.public_key == ksk.public_key && k.algorithm == ksk.algorithm)
    {
        keys.push(ksk.clone());
    }
    let signer_key = keys
        .iter()
        .find(|k| k.public_key == ksk.public_key && k.algorithm == ksk.algorithm)
        .cloned()
        .unwrap_or(ksk);
    let labels = u8::try_from(owner.label_count().saturating_sub(1)).unwrap_or(0);
    let mut fields = RrsigFields::root_dnskey(
        algorithm,
        ttl,
        inception.serial(),
        expiration.serial(),
        signer_key.key_tag(),
    );
    fields.labels = labels;
    fields.signer_name = owner.clone();
    let data = signed_data(&fields, &owner, ttl, &keys).map_err(|e| CliError(e.to_string()))?;
    let input =
        signing_input(&key, algorithm, request.path, &data).map_err(|e| CliError(e.to_string()))?;
    let signature = store
        .sign(&key, algorithm, request.path, &input)
        .map_err(|e| CliError(e.to_string()))?;
    verify(&signer_key, &data, &signature).map_err(|e| {
        CliError(format!(
            "the token's signature does not verify with its own public key: {e}"
        ))
    })?;

    let mut human = String::new();
    let mut sorted = keys.clone();
    sorted.sort_by_key(DnsKey::rdata);
    for k in &sorted {
        let line = k
            .presentation(&owner, ttl)
            .map_err(|e| CliError(e.to_string()))?;
        human.push_str(&format!("{line} ; tag {}\n", k.key_tag()));
    }
    // Written by hand only to show the times as YYYYMMDDHHMMSS, which domain prints as
    // integers; the record itself was checked above through domain's encoding.
    let rrsig_line = format!(
        "{} {ttl} IN RRSIG DNSKEY {algorithm} {} {ttl} {} {} {} {} {}",
        owner.fmt_with_dot(),
        fields.labels,
        fields.expiration_text(),
        fields.inception_text(),
        fields.key_tag,
        owner.fmt_with_dot(),
        base64::engine::general_purpose::STANDARD.encode(&signature)
    );
    human.push_str(&rrsig_line);
    human.push('\n');
    Ok(Output {
        json: json!({
            "owner": owner.to_string(),
            "key_tag": fields.key_tag,
            "keys": sorted.len(),
            "zone": human,
        }),
        human,
    })
}

/// Verifies every RRSIG of the zone text; with `anchor_file`, the DNSKEY RRsets must also
/// chain to one of its keys. Fails when any signature does not verify.
pub fn verify_file(zone_file: &Path, anchor_file: Option<&Path>) -> CliResult<Output> {
    let text = in_file(zone_file, std::fs::read_to_string(zone_file))?;
    let anchors: Vec<Anchor> = match anchor_file {
        None => Vec::new(),
        Some(path) => {
            let xml = in_file(path, std::fs::read_to_string(path))?;
            let anchor = in_file(path, TrustAnchor::parse(&xml))?;
            in_file(path, anchor.anchors())?
        }
    };
    let report = in_file(zone_file, verify_zone_text(&text, &anchors))?;
    let mut human = String::new();
    for s in &report.signatures {
        let verdict = match &s.result {
            Ok(()) => "ok".to_string(),
            Err(failure) => format!("FAILED: {failure}"),
        };
        human.push_str(&format!(
            "RRSIG #{} {} {} alg {} tag {} {}–{} over {} records: {verdict}\n",
            s.index + 1,
            s.owner,
            s.type_covered,
            s.algorithm,
            s.key_tag,
            s.inception,
            s.expiration,
            s.rrset_size
        ));
    }
    let failed = report.failures().count();
    human.push_str(&format!(
        "{} signatures, {} verified, {failed} failed{}\n",
        report.signatures.len(),
        report.signatures.len() - failed,
        if anchor_file.is_some() {
            " (DNSKEY RRsets checked against the trust anchors)"
        } else {
            ""
        }
    ));
    if !report.all_ok() {
        return Err(CliError(human));
    }
    Ok(Output {
        json: json!({ "signatures": report.signatures.len(), "failed": failed }),
        human,
    })
}
