//! IANA's `root-anchors.xml` (RFC 7958, RFC 9718): read with quick-xml into [`TrustAnchor`],
//! and written back in IANA's layout, whole or one `KeyDigest` at a time.
//!
//! The reader is strict: a DTD, any entity other than XML's five predefined ones and
//! character references, unknown elements or attributes, repeated or missing fields are
//! errors. `validFrom` / `validUntil` stay the strings they are (xsd:dateTime). RFC 9718's
//! optional `PublicKey` and `Flags` are read and, when present, checked against the tag and
//! digest.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domain::base::name::{Name, ToName};
use quick_xml::escape::escape;

use super::anchor_xml::{Attrs, Element, parse_tree};
use super::key::{DnsKey, PROTOCOL_DNSSEC};
use super::trust::Anchor;

/// Why a trust-anchor document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    #[error("trust anchor XML: {0}")]
    Xml(String),
    #[error("trust anchor XML: a DTD is not allowed")]
    Dtd,
    #[error("trust anchor XML: entity &{0}; is not allowed")]
    Entity(String),
    #[error("trust anchor XML: unexpected {0}")]
    Unexpected(String),
    #[error("trust anchor XML: missing {0}")]
    Missing(String),
    #[error("trust anchor XML: {0} appears more than once")]
    Duplicate(String),
    #[error("trust anchor XML: bad {field} {value:?}")]
    BadValue { field: &'static str, value: String },
    #[error("trust anchor XML: KeyDigest {0}: PublicKey does not match KeyTag / Digest")]
    Inconsistent(String),
}

/// The `TrustAnchor` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    pub id: String,
    pub source: String,
    /// The zone, as written (`.` for the root).
    pub zone: String,
    pub digests: Vec<KeyDigest>,
}

/// One `KeyDigest`: a DS with its validity window and, per RFC 9718, optionally the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDigest {
    /// The key's label (`Kjqmt7v`, …), which is also the HSM `CKA_LABEL`.
    pub id: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    pub digest: Vec<u8>,
    pub public_key: Option<Vec<u8>>,
    pub flags: Option<u16>,
}

impl TrustAnchor {
    /// Reads a trust-anchor document.
    pub fn parse(xml: &str) -> Result<Self, AnchorError> {
        let root = parse_tree(xml)?;
        if root.name != "TrustAnchor" {
            return Err(AnchorError::Unexpected(format!(
                "root element <{}>",
                root.name
            )));
        }
        let mut attrs = Attrs::new(&root, &["id", "source"])?;
        let (id, source) = (attrs.required("id")?, attrs.required("source")?);
        let mut zone = None;
        let mut digests = Vec::new();
        for child in &root.children {
            match child.name.as_str() {
                "Zone" => set_once(&mut zone, "Zone", child.leaf_text()?.to_string())?,
                "KeyDigest" => digests.push(KeyDigest::from_element(child)?),
                other => return Err(AnchorError::Unexpected(format!("element <{other}>"))),
            }
        }
        let zone = zone.ok_or_else(|| AnchorError::Missing("Zone".into()))?;
        if digests.is_empty() {
            return Err(AnchorError::Missing("KeyDigest".into()));
        }
        let anchor = TrustAnchor {
            id,
            source,
            zone,
            digests,
        };
        let owner = anchor.zone_name()?;
        for digest in &anchor.digests {
            digest.check_public_key(&owner)?;
        }
        Ok(anchor)
    }

    /// The zone as a domain name.
    pub fn zone_name(&self) -> Result<Name<Vec<u8>>, AnchorError> {
        Name::from_str(&self.zone).map_err(|_| AnchorError::BadValue {
            field: "Zone",
            value: self.zone.clone(),
        })
    }

    /// Every KeyDigest as a DS anchor for the zone verifier (validity windows not applied).
    pub fn anchors(&self) -> Result<Vec<Anchor>, AnchorError> {
        let owner = self.zone_name()?;
        Ok(self
            .digests
            .iter()
            .map(|d| Anchor::Ds {
                owner: owner.clone(),
                key_tag: d.key_tag,
                algorithm: d.algorithm,
                digest_type: d.digest_type,
                digest: d.digest.clone(),
            })
            .collect())
    }

    /// The document (which should hold at least one KeyDigest) in IANA's layout: XML
    /// declaration, one element per line, no indentation, no newline after `</TrustAnchor>`
    /// (as `root-anchors.xml` is published).
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<TrustAnchor id=\"{}\" source=\"{}\">\n<Zone>{}</Zone>\n",
            escape(self.id.as_str()),
            escape(self.source.as_str()),
            escape(self.zone.as_str())
        ));
        for digest in &self.digests {
            out.push_str(&digest.to_xml());
        }
        out.push_str("</TrustAnchor>");
        out
    }
}

impl KeyDigest {
    /// The entry for `key` at `owner` (`strongroom key trust-anchor LABEL`): SHA-256 digest,
    /// and RFC 9718's PublicKey and Flags when `with_public_key`.
    pub fn for_key<N: ToName + ?Sized>(
        id: &str,
        valid_from: &str,
        valid_until: Option<&str>,
        owner: &N,
        key: &DnsKey,
        with_public_key: bool,
    ) -> Self {
        KeyDigest {
            id: id.to_string(),
            valid_from: valid_from.to_string(),
            valid_until: valid_until.map(str::to_string),
            key_tag: key.key_tag(),
            algorithm: key.algorithm,
            digest_type: 2,
            digest: key.ds_sha256(owner).to_vec(),
            public_key: with_public_key.then(|| key.public_key.clone()),
            flags: with_public_key.then_some(key.flags),
        }
    }

    /// The DNSKEY, when the entry carries RFC 9718's PublicKey (flags default to 257).
    pub fn dnskey(&self) -> Option<DnsKey> {
        let public_key = self.public_key.clone()?;
        Some(DnsKey {
            flags: self.flags.unwrap_or(257),
            protocol: PROTOCOL_DNSSEC,
            algorithm: self.algorithm,
            public_key,
        })
    }

    /// One `<KeyDigest>` element in IANA's layout, ending with a newline.
    pub fn to_xml(&self) -> String {
        let mut out = format!(
            "<KeyDigest id=\"{}\" validFrom=\"{}\"",
            escape(self.id.as_str()),
            escape(self.valid_from.as_str())
        );
        if let Some(until) = &self.valid_until {
            out.push_str(&format!(" validUntil=\"{}\"", escape(until.as_str())));
        }
        out.push_str(&format!(
            concat!(
                ">\n<KeyTag>{}</KeyTag>\n<Algorithm>{}</Algorithm>\n",
                "<DigestType>{}</DigestType>\n<Digest>{}</Digest>\n"
            ),
            self.key_tag,
            self.algorithm,
            self.digest_type,
            hex::encode_upper(&self.digest)
        ));
        if let Some(public_key) = &self.public_key {
            out.push_str(&format!(
                "<PublicKey>{}</PublicKey>\n",
                STANDARD.encode(public_key)
            ));
        }
        if let Some(flags) = self.flags {
            out.push_str(&format!("<Flags>{flags}</Flags>\n"));
        }
        out.push_str("</KeyDigest>\n");
        out
    }

    fn from_element(element: &Element) -> Result<Self, AnchorError> {
        let mut attrs = Attrs::new(element, &["id", "validFrom", "validUntil"])?;
        let (id, valid_from) = (attrs.required("id")?, attrs.required("validFrom")?);
        let valid_until = attrs.optional("validUntil");
        let mut fields: [Option<&str>; 6] = [None; 6];
        const NAMES: [&str; 6] = [
            "KeyTag",
            "Algorithm",
            "DigestType",
            "Digest",
            "PublicKey",
            "Flags",
        ];
        for child in &element.children {
            let slot = NAMES.iter().position(|n| *n == child.name).ok_or_else(|| {
                AnchorError::Unexpected(format!("element <{}> in KeyDigest", child.name))
            })?;
            set_once(&mut fields[slot], NAMES[slot], child.leaf_text()?)?;
        }
        let [tag, alg, dtype, digest, public_key, flags] = fields;
        let digest_type: u8 = number("DigestType", need(dtype, "DigestType", &id)?)?;
        let digest_text = need(digest, "Digest", &id)?;
        let digest = hex::decode(digest_text)
            .ok()
            .filter(|d| {
                !d.is_empty() && expected_digest_len(digest_type).is_none_or(|n| n == d.len())
            })
            .ok_or_else(|| AnchorError::BadValue {
                field: "Digest",
                value: digest_text.into(),
            })?;
        let public_key = match public_key {
            Some(text) => {
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                Some(
                    STANDARD
                        .decode(&compact)
                        .map_err(|_| AnchorError::BadValue {
                            field: "PublicKey",
                            value: text.into(),
                        })?,
                )
            }
            None => None,
        };
        Ok(KeyDigest {
            key_tag: number("KeyTag", need(tag, "KeyTag", &id)?)?,
            algorithm: number("Algorithm", need(alg, "Algorithm", &id)?)?,
            digest_type,
            digest,
            public_key,
            flags: flags.map(|f| number("Flags", f)).transpose()?,
            id,
            valid_from,
            valid_until,
        })
    }

    /// With a PublicKey present, its tag and digest must be the ones stated.
    fn check_public_key(&self, owner: &Name<Vec<u8>>) -> Result<(), AnchorError> {
        let Some(key) = self.dnskey() else {
            return Ok(());
        };
        let digest_ok = key
            .ds_digest(owner, self.digest_type)
            .is_ok_and(|d| d == self.digest);
        if key.key_tag() != self.key_tag || !digest_ok {
            return Err(AnchorError::Inconsistent(self.id.clone()));
        }
        Ok(())
    }
}

/// A required KeyDigest field.
fn need<'a>(value: Option<&'a str>, field: &str, id: &str) -> Result<&'a str, AnchorError> {
    value.ok_or_else(|| AnchorError::Missing(format!("{field} in KeyDigest {id}")))
}

fn expected_digest_len(digest_type: u8) -> Option<usize> {
    match digest_type {
        1 => Some(20),
        2 => Some(32),
        4 => Some(48),
        _ => None,
    }
}

fn number<T: FromStr>(field: &'static str, text: &str) -> Result<T, AnchorError> {
    text.parse().map_err(|_| AnchorError::BadValue {
        field,
        value: text.into(),
    })
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), AnchorError> {
    if slot.replace(value).is_some() {
        return Err(AnchorError::Duplicate(name.into()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ROOT_ANCHORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/ksr/root-anchors.xml"
    ));

    #[test]
    fn reads_iana_file_and_writes_it_back_byte_for_byte() {
        let anchor = TrustAnchor::parse(ROOT_ANCHORS).unwrap();
        assert_eq!(anchor.id, "E9724F53-1851-4F86-85E5-F1392102940B");
        assert_eq!(
            anchor.source,
            "http://data.iana.org/root-anchors/root-anchors.xml"
        );
        assert_eq!(anchor.zone, ".");
        let summary: Vec<(&str, u16, Option<&str>)> = anchor
            .digests
            .iter()
            .map(|d| (d.id.as_str(), d.key_tag, d.valid_until.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Kjqmt7v", 19036, Some("2019-01-11T00:00:00+00:00")),
                ("Klajeyz", 20326, None),
                ("Kmyv6jo", 38696, None)
            ]
        );
        assert_eq!(anchor.digests[2].valid_from, "2024-07-18T00:00:00+00:00");
        assert_eq!(
            hex::encode_upper(&anchor.digests[2].digest),
            "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"
        );
        assert_eq!(anchor.to_xml(), ROOT_ANCHORS);
        assert_eq!(anchor.anchors().unwrap().len(), 3);
    }

    #[test]
    fn rfc9718_public_key_round_trip_and_consistency() {
        let ksk2024 = DnsKey::new(257, 8, STANDARD.decode("AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=").unwrap()).unwrap();
        let digest = KeyDigest::for_key(
            "Kmyv6jo",
            "2024-07-18T00:00:00+00:00",
            None,
            &Name::root_vec(),
            &ksk2024,
            true,
        );
        let original = TrustAnchor::parse(ROOT_ANCHORS).unwrap();
        assert_eq!(digest.digest, original.digests[2].digest);
        assert_eq!(digest.key_tag, 38696);
        let doc = TrustAnchor {
            id: "X".into(),
            source: "https://example.invalid/a?b=1&c=2".into(),
            zone: ".".into(),
            digests: vec![digest.clone()],
        };
        let xml = doc.to_xml();
        assert!(xml.contains("source=\"https://example.invalid/a?b=1&amp;c=2\""));
        assert!(xml.contains("<Flags>257</Flags>\n</KeyDigest>\n</TrustAnchor>"));
        assert_eq!(TrustAnchor::parse(&xml).unwrap(), doc);
        assert_eq!(digest.dnskey(), Some(ksk2024));
        // A PublicKey that does not belong to the digest is refused.
        let wrong = xml.replace("<KeyTag>38696</KeyTag>", "<KeyTag>38697</KeyTag>");
        assert_eq!(
            TrustAnchor::parse(&wrong),
            Err(AnchorError::Inconsistent("Kmyv6jo".into()))
        );
    }

    #[test]
    fn refuses_dtd_entities_and_strays() {
        let dtd = ROOT_ANCHORS.replace(
            "<TrustAnchor ",
            "<!DOCTYPE TrustAnchor [<!ENTITY x \"y\">]>\n<TrustAnchor ",
        );
        assert_eq!(TrustAnchor::parse(&dtd), Err(AnchorError::Dtd));
        let entity = ROOT_ANCHORS.replace("<Zone>.</Zone>", "<Zone>&x;</Zone>");
        assert_eq!(
            TrustAnchor::parse(&entity),
            Err(AnchorError::Entity("x".into()))
        );
        let attr_entity = ROOT_ANCHORS.replace("id=\"Kjqmt7v\"", "id=\"&x;\"");
        assert!(matches!(
            TrustAnchor::parse(&attr_entity),
            Err(AnchorError::Entity(_))
        ));
        let predefined = ROOT_ANCHORS.replace("id=\"Kjqmt7v\"", "id=\"K&amp;&#x41;\"");
        assert_eq!(
            TrustAnchor::parse(&predefined).unwrap().digests[0].id,
            "K&A"
        );
        let unknown = ROOT_ANCHORS.replace("<Zone>.</Zone>", "<Zone>.</Zone><Extra/>");
        assert!(matches!(
            TrustAnchor::parse(&unknown),
            Err(AnchorError::Unexpected(_))
        ));
        let twice = ROOT_ANCHORS.replace(
            "<KeyTag>19036</KeyTag>",
            "<KeyTag>19036</KeyTag><KeyTag>1</KeyTag>",
        );
        assert_eq!(
            TrustAnchor::parse(&twice),
            Err(AnchorError::Duplicate("KeyTag".into()))
        );
        let missing = ROOT_ANCHORS.replace("<DigestType>2</DigestType>", "");
        assert!(matches!(
            TrustAnchor::parse(&missing),
            Err(AnchorError::Missing(_))
        ));
        let short = ROOT_ANCHORS.replace("49AAC11D", "49AA");
        assert!(matches!(
            TrustAnchor::parse(&short),
            Err(AnchorError::BadValue {
                field: "Digest",
                ..
            })
        ));
        let attr = ROOT_ANCHORS.replace(
            "<KeyDigest id=\"Klajeyz\"",
            "<KeyDigest bogus=\"1\" id=\"Klajeyz\"",
        );
        assert!(matches!(
            TrustAnchor::parse(&attr),
            Err(AnchorError::Unexpected(_))
        ));
        assert!(
            TrustAnchor::parse("<TrustAnchor id=\"a\" source=\"b\"><Zone>.</Zone></TrustAnchor>")
                .is_err()
        );
    }
}
