//! `strongroom key ds LABEL` and `strongroom key trust-anchor LABEL`: what the parent (or
//! the world, for the root) needs to trust a KSK — its DNSKEY, DS and RFC 9718 entry.

use domain::base::name::Name;
use serde_json::json;

use super::integrity::pgp_words;
use super::keysource::{KeySource, dnssec_algorithm};
use crate::admin::Output;
use crate::dnssec::{DnsKey, FLAG_SEP, FLAG_ZONE, KeyDigest, TrustAnchor};
use crate::error::{CliError, CliResult};
use crate::ksr::Timestamp;

/// The KSK's DNSKEY (flags 257) as the token holds it.
pub fn ksk_dnskey(source: &KeySource, label: &str, algorithm: Option<u8>) -> CliResult<DnsKey> {
    let store = source.open()?;
    let key = store.key(label).map_err(|e| CliError(e.to_string()))?;
    let public = store
        .public_key(&key)
        .map_err(|e| CliError(e.to_string()))?;
    let algorithm = dnssec_algorithm(&public, algorithm)?;
    DnsKey::new(FLAG_ZONE | FLAG_SEP, algorithm, public.dnskey_public_key())
        .map_err(|e| CliError(format!("key {label:?}: {e}")))
}

/// `key ds`: the DNSKEY, its tags (257 and revoked 385) and the SHA-256 DS, with the DS read
/// aloud in PGP words.
pub fn ds(source: &KeySource, label: &str, algorithm: Option<u8>, ttl: u32) -> CliResult<Output> {
    let key = ksk_dnskey(source, label, algorithm)?;
    let root = Name::root_vec();
    let dnskey = key
        .presentation(&root, ttl)
        .map_err(|e| CliError(e.to_string()))?;
    let ds = key
        .ds_presentation(&root, ttl, 2)
        .map_err(|e| CliError(e.to_string()))?;
    let digest = key.ds_sha256(&root);
    let human = format!(
        "; key {label:?}: tag {} (revoked: {})\n{dnskey}\n{ds}\n; DS SHA-256 in PGP words: {}\n",
        key.key_tag(),
        key.revoked().key_tag(),
        pgp_words(&digest)
    );
    Ok(Output {
        human,
        json: json!({
            "label": label,
            "key_tag": key.key_tag(),
            "revoked_key_tag": key.revoked().key_tag(),
            "algorithm": key.algorithm,
            "dnskey": dnskey,
            "ds": ds,
            "ds_sha256": hex::encode_upper(digest),
        }),
    })
}

/// `key trust-anchor`: a `root-anchors.xml` document (RFC 9718) holding the key's entry.
pub fn trust_anchor(
    source: &KeySource,
    label: &str,
    algorithm: Option<u8>,
    valid_from: Option<&str>,
    valid_until: Option<&str>,
) -> CliResult<Output> {
    let key = ksk_dnskey(source, label, algorithm)?;
    let valid_from = match valid_from {
        Some(text) => Timestamp::parse_xsd(text)
            .map_err(|e| CliError(format!("--valid-from: {e}")))?
            .to_xsd(),
        None => now()?.to_xsd(),
    };
    let valid_until = valid_until
        .map(|text| {
            Timestamp::parse_xsd(text)
                .map(|t| t.to_xsd())
                .map_err(|e| CliError(format!("--valid-until: {e}")))
        })
        .transpose()?;
    let root = Name::root_vec();
    let anchor = TrustAnchor {
        id: super::sample_ksr::uuid_v4()?,
        source: "http://data.iana.org/root-anchors/root-anchors.xml".into(),
        zone: ".".into(),
        digests: vec![KeyDigest::for_key(
            label,
            &valid_from,
            valid_until.as_deref(),
            &root,
            &key,
            true,
        )],
    };
    let xml = anchor.to_xml();
    Ok(Output {
        human: format!("{xml}\n"),
        json: json!({ "label": label, "key_tag": key.key_tag(), "xml": xml }),
    })
}

/// IANA's KSK label (kskm `generate_key_label`): `K` and the first six characters of the
/// lower-case base32 of the 4-byte big-endian generation time, e.g. `Klajeyz` for
/// 2016-10-27 18:50:12 UTC.
pub fn iana_label(time: Timestamp) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let seconds = time.serial();
    let mut label = String::from("K");
    for shift in [27u32, 22, 17, 12, 7, 2] {
        label.push(char::from(ALPHABET[((seconds >> shift) & 0x1f) as usize]));
    }
    label
}

/// The current time, for defaults.
pub fn now() -> CliResult<Timestamp> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| CliError(format!("the clock is before 1970: {e}")))?
        .as_secs();
    Ok(Timestamp::from_unix(
        i64::try_from(seconds).unwrap_or(i64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_decode_to_the_real_ksks_generation_times() {
        let at = |text: &str| Timestamp::parse_xsd(text).unwrap_or(Timestamp::from_unix(0));
        assert_eq!(iana_label(at("2010-06-16T21:19:16")), "Kjqmt7v");
        assert_eq!(iana_label(at("2016-10-27T18:50:12")), "Klajeyz");
        assert_eq!(iana_label(at("2024-04-26T17:30:32")), "Kmyv6jo");
    }
}
