//! `[keys.NAME]`: the KSKs a ceremony may use, and what the HSM's key must be for each —
//! the identity (DS digest, key tag, RSA size and exponent) and the dates it may sign in.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::config::ConfigError;
use crate::keystore::SigningPath;
use crate::ksr::Timestamp;
use crate::policy::DnssecAlgorithm;

/// DNSSEC algorithms a KSK may have: those the key stores sign and the ceremony can verify
/// in software before accepting a signature (Ed448 has no software verifier here).
pub const KSK_ALGORITHMS: [u8; 5] = [8, 10, 13, 14, 15];

/// `[keys.NAME]`: one KSK and what the HSM's key must be for it (kskm's `keys` entries).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KskConfig {
    /// Free text for the transcript (`Root DNSSEC KSK 2017`).
    #[serde(default)]
    pub description: Option<String>,
    /// `CKA_LABEL` in the HSM, which becomes the SKR's `keyIdentifier`.
    pub label: String,
    /// Required in a file; `None` only from
    /// [`CeremonyConfig::default_for`](super::CeremonyConfig::default_for), where it is the
    /// key's own (RSA → RSASHA256, P-256 → 13, P-384 → 14, Ed25519 → 15).
    #[serde(default)]
    pub algorithm: Option<DnssecAlgorithm>,
    /// The key may sign bundles whose inception is at or after this.
    #[serde(deserialize_with = "de_time")]
    pub valid_from: Timestamp,
    /// The key may sign bundles whose expiration is at or before this.
    #[serde(default, deserialize_with = "de_opt_time")]
    pub valid_until: Option<Timestamp>,
    /// Expected key tag of the DNSKEY (flags 257).
    #[serde(default)]
    pub key_tag: Option<u16>,
    /// Expected SHA-256 DS digest of the DNSKEY (flags 257, owner `.`).
    #[serde(default)]
    pub ds_sha256: Option<DsDigest>,
    /// Expected RSA modulus size in bits.
    #[serde(default)]
    pub rsa_size: Option<u32>,
    /// Expected RSA public exponent.
    #[serde(default)]
    pub rsa_exponent: Option<u64>,
    /// How the signature input reaches the key; IANA's default is host padding.
    #[serde(default)]
    pub signing_path: SigningPathConfig,
}

impl KskConfig {
    /// A key known only by its label (the no-configuration path): no identity to check, no
    /// dates, the algorithm the key's own.
    pub fn unknown(label: &str) -> Self {
        Self {
            description: None,
            label: label.to_owned(),
            algorithm: None,
            valid_from: Timestamp::from_unix(0),
            valid_until: None,
            key_tag: None,
            ds_sha256: None,
            rsa_size: None,
            rsa_exponent: None,
            signing_path: SigningPathConfig::default(),
        }
    }
}

/// `signing_path = "host-padding" | "token-hashing"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningPathConfig {
    /// `CKM_RSA_X_509` with the EMSA block built here (kskm's default).
    #[default]
    HostPadding,
    /// `CKM_SHA256_RSA_PKCS` and friends (kskm's `hash_using_hsm: true`).
    TokenHashing,
}

impl From<SigningPathConfig> for SigningPath {
    fn from(p: SigningPathConfig) -> Self {
        match p {
            SigningPathConfig::HostPadding => SigningPath::HostPadding,
            SigningPathConfig::TokenHashing => SigningPath::TokenHashing,
        }
    }
}

/// A SHA-256 DS digest, written as 64 hex digits (any case; spaces allowed, as printed
/// in ceremony scripts).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DsDigest(pub [u8; 32]);

impl DsDigest {
    /// Parses 64 hex digits, ignoring spaces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = hex::decode(&compact)
            .map_err(|e| format!("{text:?} is not a hex SHA-256 digest: {e}"))?;
        let digest: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "{text:?} is {} bytes; a SHA-256 DS digest is 32 bytes (64 hex digits)",
                b.len()
            )
        })?;
        Ok(Self(digest))
    }
}

/// Upper-case hex, as IANA prints DS digests.
impl fmt::Display for DsDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(self.0))
    }
}

impl fmt::Debug for DsDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DsDigest({self})")
    }
}

impl<'de> Deserialize<'de> for DsDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Per-key rules; `from_file` requires the algorithm (a file must say what it expects).
pub(super) fn validate_keys(
    keys: &BTreeMap<String, KskConfig>,
    from_file: bool,
) -> Result<(), ConfigError> {
    let mut labels: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, key) in keys {
        let bad = |reason: String| ConfigError::Key {
            name: name.clone(),
            reason,
        };
        if key.label.is_empty() {
            return Err(bad("label is empty".into()));
        }
        if let Some(other) = labels.insert(&key.label, name) {
            return Err(bad(format!(
                "label {:?} is also the label of [keys.{other}]; the HSM finds keys by \
                 label, so each key needs its own",
                key.label
            )));
        }
        match key.algorithm {
            None if from_file => {
                return Err(bad(
                    "algorithm is required (RSASHA256, ECDSAP256SHA256, ED25519, …)".into(),
                ));
            }
            Some(alg) if !KSK_ALGORITHMS.contains(&alg.0) => {
                return Err(bad(format!(
                    "algorithm {alg} cannot be a KSK here (supported: RSASHA256 (8), \
                     RSASHA512 (10), ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), \
                     ED25519 (15))"
                )));
            }
            _ => {}
        }
        let rsa = key.algorithm.is_some_and(|a| matches!(a.0, 8 | 10));
        if !rsa && (key.rsa_size.is_some() || key.rsa_exponent.is_some()) {
            return Err(bad(
                "rsa_size / rsa_exponent are given but the algorithm is not RSA".into(),
            ));
        }
        if let Some(until) = key.valid_until
            && until < key.valid_from
        {
            return Err(bad(format!(
                "valid_until {until} is before valid_from {}",
                key.valid_from
            )));
        }
    }
    Ok(())
}

/// A time in the config: a quoted xsd:dateTime (`"2017-02-02T00:00:00+00:00"`), or a TOML
/// date-time / date literal in UTC (a bare date means midnight).
fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Time {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let text = match Time::deserialize(d)? {
        Time::Text(text) => text,
        Time::Toml(dt) => dt.to_string(),
    };
    let full = if text.len() == 10 {
        format!("{text}T00:00:00")
    } else {
        text
    };
    Timestamp::parse_xsd(&full).map_err(serde::de::Error::custom)
}

fn de_opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    de_time(d).map(Some)
}
