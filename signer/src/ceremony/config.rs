//! The ceremony configuration: where the KSKs live, which keys they are, the KSK policy the
//! SKR declares, the KSR checks' knobs, and the schemas that say which KSK does what in each
//! bundle.
//!
//! Modelled on kskm's `ksrsigner.yaml` (reference §7) so an operator's settings carry over,
//! but TOML and ours: one `[hsm]` (the embedded token or one PKCS#11 module), signing paths
//! named for what they do, unknown keys refused everywhere so a misspelt setting cannot
//! silently fall back to a default.
//!
//! ```toml
//! [hsm]
//! pkcs11 = { module = "/usr/lib/softhsm/libsofthsm2.so", token = "ksk", pin_file = "pin" }
//!
//! [keys.ksk_current]
//! label = "Klajeyz"
//! algorithm = "RSASHA256"
//! valid_from = "2017-02-02T00:00:00+00:00"
//! key_tag = 20326
//! ds_sha256 = "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
//! rsa_size = 2048
//! rsa_exponent = 65537
//!
//! [schemas.normal.1]   # optional: the built-in schemas cover IANA's four phases
//! publish = "ksk_current"
//! sign = "ksk_current"
//! ```

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use super::keys::{self, KskConfig};
use super::schema::{self, Schema, SlotConfig};
use crate::ksr::XsdDuration;
use crate::policy::{PolicyConfigError, RequestPolicy, ResponsePolicy};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyConfig {
    /// Where the KSKs are.
    pub hsm: HsmConfig,
    /// The KSKs by the name schemas use (`ksk_current`, `ksk_next`, …).
    #[serde(default)]
    pub keys: BTreeMap<String, KskConfig>,
    /// What the SKR declares and how its RRSIGs are made.
    #[serde(default)]
    pub ksk_policy: KskPolicy,
    /// The knobs of the KSR checks (reference §3).
    #[serde(default)]
    pub request_policy: RequestPolicy,
    /// How SKRs (the previous one, and ours) are validated.
    #[serde(default)]
    pub response_policy: ResponsePolicy,
    /// Schemas defined here; a name not defined here falls back to a built-in schema.
    #[serde(default)]
    pub schemas: BTreeMap<String, BTreeMap<String, SlotConfig>>,
}

/// `[hsm]`: exactly one of `embedded` or `pkcs11`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum HsmConfig {
    /// A Strongroom token opened in-process (`embedded = { token = "LABEL" }`).
    Embedded { token: String },
    /// A PKCS#11 module (ours, SoftHSM, a hardware HSM).
    Pkcs11 {
        module: PathBuf,
        token: String,
        /// The user PIN's file. Absent: no login (a token that needs none). An empty file:
        /// `C_Login` with an empty PIN, as IANA does for HSMs with their own PIN entry.
        #[serde(default)]
        pin_file: Option<PathBuf>,
    },
}

impl HsmConfig {
    /// The token label.
    pub fn token(&self) -> &str {
        match self {
            HsmConfig::Embedded { token } | HsmConfig::Pkcs11 { token, .. } => token,
        }
    }

    /// The PKCS#11 user PIN from `pin_file`: `None` without a file, else its first line
    /// (possibly empty). The file must not be accessible to group or others, since it
    /// unlocks the KSK.
    pub fn read_pin(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        let HsmConfig::Pkcs11 {
            pin_file: Some(path),
            ..
        } = self
        else {
            return Ok(None);
        };
        let io = |e: std::io::Error| ConfigError::PinFile {
            path: path.clone(),
            reason: e.to_string(),
        };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ConfigError::PinFile {
                path: path.clone(),
                reason: format!(
                    "mode {:o} lets other users read it; chmod 600 it",
                    mode & 0o777
                ),
            });
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        let line = text.split('\n').next().unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        Ok(Some(Zeroizing::new(line.to_owned())))
    }

    /// Resolves relative paths against `base` (the config file's directory).
    fn rebase(&mut self, base: &Path) {
        if let HsmConfig::Pkcs11 {
            module, pin_file, ..
        } = self
        {
            if module.is_relative() && module.components().count() > 1 {
                // A bare file name is left for the dynamic loader's search path.
                *module = base.join(&*module);
            }
            if let Some(pin) = pin_file.as_mut().filter(|p| p.is_relative()) {
                *pin = base.join(&*pin);
            }
        }
    }
}

/// `[ksk_policy]`: the KSK half of the SKR's `ResponsePolicy` and the RRSIG parameters.
/// Defaults are IANA's production values (every real SKR since 2016 declares them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KskPolicy {
    /// RRSIG signer's name; only the root is signed here.
    pub signers_name: String,
    /// TTL of every DNSKEY and RRSIG (and the RRSIG OriginalTTL).
    pub ttl: u32,
    pub publish_safety: XsdDuration,
    pub retire_safety: XsdDuration,
    pub max_signature_validity: XsdDuration,
    pub min_signature_validity: XsdDuration,
    pub max_validity_overlap: XsdDuration,
    pub min_validity_overlap: XsdDuration,
}

impl Default for KskPolicy {
    fn default() -> Self {
        Self {
            signers_name: ".".to_owned(),
            ttl: 172_800,
            publish_safety: XsdDuration::from_secs(0),
            retire_safety: XsdDuration::from_days(28),
            max_signature_validity: XsdDuration::from_days(21),
            min_signature_validity: XsdDuration::from_days(21),
            max_validity_overlap: XsdDuration::from_days(16),
            min_validity_overlap: XsdDuration::from_days(9),
        }
    }
}

/// Why a configuration cannot be used; each message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration is not valid TOML for a ceremony: {0}")]
    Toml(String),
    #[error("{0}")]
    Policy(#[from] PolicyConfigError),
    #[error("[hsm]: {0}")]
    Hsm(String),
    #[error("[keys.{name}]: {reason}")]
    Key { name: String, reason: String },
    #[error("[ksk_policy]: {0}")]
    KskPolicy(String),
    #[error("schema {schema:?}: {reason}")]
    Schema { schema: String, reason: String },
    #[error(
        "no schema {name:?}: neither defined in [schemas] nor built in (built-in: {})",
        schema::BUILTIN.join(", ")
    )]
    UnknownSchema { name: String },
    #[error("PIN file {}: {reason}", path.display())]
    PinFile { path: PathBuf, reason: String },
}

impl CeremonyConfig {
    /// Parses and validates a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads `path`, parses it, and resolves the module and PIN file paths against the
    /// file's directory. Returns the bytes read too, for the transcript's SHA-256.
    pub fn load(path: &Path) -> Result<(Self, Vec<u8>), ConfigError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::Toml(format!("{}: {e}", path.display())))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| ConfigError::Toml(format!("{}: not UTF-8: {e}", path.display())))?;
        let mut config = Self::from_toml(text)?;
        if let Some(dir) = path.parent() {
            config.hsm.rebase(dir);
        }
        Ok((config, bytes))
    }

    /// The configuration of `strongroom ksr sign --ksk LABEL… --token LABEL` without a file:
    /// the embedded token, IANA's default policies, the first label as `ksk_current` and a
    /// second, if given, as `ksk_next`. Nothing is known about the keys beyond their labels,
    /// so the identity checks only warn and validity is not restricted.
    pub fn default_for(ksk_labels: &[String], token: &str) -> Result<Self, ConfigError> {
        if ksk_labels.is_empty() || ksk_labels.len() > 2 {
            return Err(ConfigError::Key {
                name: schema::CURRENT.to_owned(),
                reason: format!(
                    "give one KSK label (ksk_current) or two (ksk_current, ksk_next), not {}",
                    ksk_labels.len()
                ),
            });
        }
        let keys = [schema::CURRENT, schema::NEXT]
            .iter()
            .zip(ksk_labels)
            .map(|(name, label)| ((*name).to_owned(), KskConfig::unknown(label)))
            .collect();
        let config = Self {
            hsm: HsmConfig::Embedded {
                token: token.to_owned(),
            },
            keys,
            ksk_policy: KskPolicy::default(),
            request_policy: RequestPolicy::default(),
            response_policy: ResponsePolicy::default(),
            schemas: BTreeMap::new(),
        };
        keys::validate_keys(&config.keys, false)?;
        Ok(config)
    }

    /// The schema `name` for a KSR of `bundles` bundles: the one defined here, else the
    /// built-in one (whose last slot depends on the bundle count). Every key it names must
    /// be in `[keys]`.
    pub fn schema(&self, name: &str, bundles: usize) -> Result<Schema, ConfigError> {
        let schema = match self.schemas.get(name) {
            Some(slots) => schema::from_table(name, slots, self.request_policy.num_bundles)?,
            None => schema::builtin(name, bundles).ok_or_else(|| ConfigError::UnknownSchema {
                name: name.to_owned(),
            })?,
        };
        schema::check_keys(&schema, &self.keys)?;
        Ok(schema)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.request_policy.validate()?;
        self.response_policy.validate()?;
        self.validate_hsm()?;
        keys::validate_keys(&self.keys, true)?;
        self.validate_ksk_policy()?;
        for (name, slots) in &self.schemas {
            let schema = schema::from_table(name, slots, self.request_policy.num_bundles)?;
            schema::check_keys(&schema, &self.keys)?;
        }
        Ok(())
    }

    fn validate_hsm(&self) -> Result<(), ConfigError> {
        if self.hsm.token().is_empty() {
            return Err(ConfigError::Hsm("the token label is empty".into()));
        }
        if let HsmConfig::Pkcs11 { module, .. } = &self.hsm
            && module.as_os_str().is_empty()
        {
            return Err(ConfigError::Hsm("the PKCS#11 module path is empty".into()));
        }
        Ok(())
    }

    fn validate_ksk_policy(&self) -> Result<(), ConfigError> {
        let p = &self.ksk_policy;
        if p.signers_name != "." {
            return Err(ConfigError::KskPolicy(format!(
                "signers_name is {:?}; this signer makes root KSK signatures only (\".\")",
                p.signers_name
            )));
        }
        if p.ttl == 0 || p.ttl > i32::MAX as u32 {
            return Err(ConfigError::KskPolicy(format!(
                "ttl {} is outside 1..=2147483647 (RFC 2181 §8)",
                p.ttl
            )));
        }
        for (min_name, min, max_name, max) in [
            (
                "min_signature_validity",
                p.min_signature_validity,
                "max_signature_validity",
                p.max_signature_validity,
            ),
            (
                "min_validity_overlap",
                p.min_validity_overlap,
                "max_validity_overlap",
                p.max_validity_overlap,
            ),
        ] {
            if min > max {
                return Err(ConfigError::KskPolicy(format!(
                    "{min_name} ({min}) is longer than {max_name} ({max})"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ceremony::keys::SigningPathConfig;
    use crate::policy::DnssecAlgorithm;

    const MINIMAL: &str = r#"
        [hsm]
        embedded = { token = "ksk" }
        [keys.ksk_current]
        label = "Klajeyz"
        algorithm = "RSASHA256"
        valid_from = "2017-02-02T00:00:00+00:00"
    "#;

    fn err(text: &str) -> String {
        CeremonyConfig::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_iana_production_values() {
        let c = CeremonyConfig::from_toml(MINIMAL).unwrap();
        assert_eq!(
            c.hsm,
            HsmConfig::Embedded {
                token: "ksk".into()
            }
        );
        let p = &c.ksk_policy;
        assert_eq!((p.signers_name.as_str(), p.ttl), (".", 172_800));
        let durations = [
            p.publish_safety,
            p.retire_safety,
            p.max_signature_validity,
            p.min_signature_validity,
            p.max_validity_overlap,
            p.min_validity_overlap,
        ]
        .map(|d| d.to_string());
        assert_eq!(durations, ["PT0S", "P28D", "P21D", "P21D", "P16D", "P9D"]);
        assert_eq!(c.request_policy, RequestPolicy::default());
        let key = &c.keys["ksk_current"];
        assert_eq!(key.algorithm, Some(DnssecAlgorithm(8)));
        assert_eq!(key.signing_path, SigningPathConfig::HostPadding);
        assert_eq!(c.schema("normal", 9).unwrap().slots.len(), 9);
    }

    #[test]
    fn full_key_entry_and_pkcs11() {
        let c = CeremonyConfig::from_toml(
            r#"
            [hsm]
            pkcs11 = { module = "/usr/lib/softhsm/libsofthsm2.so", token = "t", pin_file = "p" }
            [keys.ksk_current]
            description = "Root DNSSEC KSK 2017"
            label = "Klajeyz"
            algorithm = 8
            valid_from = 2017-02-02T00:00:00Z
            valid_until = 2030-01-01
            key_tag = 20326
            ds_sha256 = "e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d"
            rsa_size = 2048
            rsa_exponent = 65537
            signing_path = "token-hashing"
            "#,
        )
        .unwrap();
        let key = &c.keys["ksk_current"];
        assert_eq!(key.valid_from.to_xsd(), "2017-02-02T00:00:00+00:00");
        assert_eq!(
            key.valid_until.unwrap().to_xsd(),
            "2030-01-01T00:00:00+00:00"
        );
        assert_eq!(
            key.ds_sha256.unwrap().to_string(),
            "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
        );
        assert_eq!(key.signing_path, SigningPathConfig::TokenHashing);
        assert_eq!(c.hsm.token(), "t");
        let mut hsm = c.hsm.clone();
        hsm.rebase(Path::new("/etc/strongroom"));
        assert_eq!(
            hsm,
            HsmConfig::Pkcs11 {
                module: "/usr/lib/softhsm/libsofthsm2.so".into(),
                token: "t".into(),
                pin_file: Some("/etc/strongroom/p".into()),
            }
        );
    }

    #[test]
    fn schema_slots_take_a_name_or_a_list() {
        let text = format!(
            "{MINIMAL}\n[keys.ksk_next]\nlabel = \"K2\"\nalgorithm = \"RSASHA256\"\n\
             valid_from = \"2017-02-02T00:00:00\"\n\
             [request_policy]\nnum_bundles = 2\n\
             [schemas.mine.1]\npublish = [\"ksk_current\", \"ksk_next\"]\nsign = \"ksk_current\"\n\
             [schemas.mine.2]\npublish = \"ksk_next\"\nrevoke = \"ksk_current\"\n\
             sign = [\"ksk_next\", \"ksk_current\"]\n"
        );
        let c = CeremonyConfig::from_toml(&text).unwrap();
        let s = c.schema("mine", 2).unwrap();
        assert!(!s.builtin);
        assert_eq!(s.slots[0].publish, ["ksk_current", "ksk_next"]);
        assert_eq!(s.slots[1].revoke, ["ksk_current"]);
        assert_eq!(s.slots[1].sign, ["ksk_next", "ksk_current"]);
        // The built-ins stay available next to it.
        assert!(c.schema("rollover", 2).unwrap().builtin);
    }

    #[test]
    fn clear_errors() {
        let with = |extra: &str| format!("{MINIMAL}\n{extra}");
        let e = err(&with(
            "[request_policy]\nnum_bundles = 1\n[schemas.x.1]\nsign = \"ksk_nxt\"\n",
        ));
        assert!(
            e.contains("schema \"x\"") && e.contains("\"ksk_nxt\"") && e.contains("ksk_current"),
            "{e}"
        );
        let e = err(&with(
            "[request_policy]\nnum_bundles = 1\n[schemas.x.1]\nsign = \"ksk_current\"\n\
             [schemas.x.2]\nsign = \"ksk_current\"\n",
        ));
        assert!(e.contains("slot 2 is beyond the 1 bundles"), "{e}");
        let e = err(&with("[schemas.x.1]\nsign = \"ksk_current\"\n"));
        assert!(e.contains("no slot 2, 3, 4, 5, 6, 7, 8, 9"), "{e}");
        let e = err(&with(
            "[request_policy]\nnum_bundles = 1\n[schemas.x.1]\npublish = \"ksk_current\"\n",
        ));
        assert!(e.contains("slot 1 has no signing key"), "{e}");
        let e = err(&MINIMAL.replace("valid_from", "ds_sha256 = \"49AAC11D\"\nvalid_from"));
        assert!(
            e.contains("ds_sha256") && e.contains("64 hex digits"),
            "{e}"
        );
        let e = err(&MINIMAL.replace("valid_from", "ds_sha256 = \"zz\"\nvalid_from"));
        assert!(e.contains("not a hex SHA-256 digest"), "{e}");
        let e = err(&MINIMAL.replace("RSASHA256", "ED448"));
        assert!(
            e.contains("[keys.ksk_current]") && e.contains("ED448"),
            "{e}"
        );
        let e = err(&MINIMAL.replace("algorithm = \"RSASHA256\"\n", ""));
        assert!(e.contains("algorithm is required"), "{e}");
        let e = err(&MINIMAL.replace("label", "lable"));
        assert!(e.contains("lable"), "{e}");
        let e = err(&with("[ksk_policy]\nttl = 0\n"));
        assert!(e.contains("[ksk_policy]") && e.contains("ttl 0"), "{e}");
        let e = err(&with("[ksk_policy]\nsigners_name = \"example.\"\n"));
        assert!(e.contains("signers_name"), "{e}");
        let e = err(&with(
            "[keys.other]\nlabel = \"Klajeyz\"\nalgorithm = 8\nvalid_from = \"2017-01-01T00:00:00\"\n",
        ));
        assert!(e.contains("also the label"), "{e}");
        let e = err(&MINIMAL.replace(
            "embedded = { token = \"ksk\" }",
            "embedded = { token = \"ksk\" }\npkcs11 = { module = \"m\", token = \"t\" }",
        ));
        assert!(e.contains("hsm"), "{e}");
        let e = err(&MINIMAL.replace("token = \"ksk\"", "token = \"ksk\", pin = \"1\""));
        assert!(e.contains("pin"), "{e}");
        let e = err(&MINIMAL.replace("+00:00", "+02:00"));
        assert!(e.contains("UTC"), "{e}");
        let e = err(&with("[request_policy]\nnum_bundles = 0\n"));
        assert!(e.contains("num_bundles"), "{e}");
        let c = CeremonyConfig::from_toml(MINIMAL).unwrap();
        let e = c.schema("rollover", 9).unwrap_err().to_string();
        assert!(e.contains("ksk_next"), "{e}");
        let e = c.schema("nonesuch", 9).unwrap_err().to_string();
        assert!(e.contains("nonesuch") && e.contains("pre-publish"), "{e}");
    }

    #[test]
    fn default_for_labels() {
        let c = CeremonyConfig::default_for(&["Klajeyz".into()], "ksk").unwrap();
        assert_eq!(c.keys.len(), 1);
        assert_eq!(c.keys["ksk_current"].label, "Klajeyz");
        assert_eq!(c.keys["ksk_current"].algorithm, None);
        assert_eq!(c.hsm.token(), "ksk");
        let s = c.schema("normal", 9).unwrap();
        assert!(s.slots.iter().all(|slot| slot.sign == ["ksk_current"]));
        let two = CeremonyConfig::default_for(&["A".into(), "B".into()], "ksk").unwrap();
        assert_eq!(two.keys["ksk_next"].label, "B");
        assert!(CeremonyConfig::default_for(&[], "ksk").is_err());
        assert!(CeremonyConfig::default_for(&["A".into(), "A".into()], "ksk").is_err());
    }

    #[test]
    fn pin_file_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        let hsm = HsmConfig::Pkcs11 {
            module: "m".into(),
            token: "t".into(),
            pin_file: Some(path.clone()),
        };
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(hsm.read_pin().unwrap().unwrap().as_str(), "");
        std::fs::write(&path, "1234\r\nsecond line").unwrap();
        assert_eq!(hsm.read_pin().unwrap().unwrap().as_str(), "1234");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            hsm.read_pin()
                .unwrap_err()
                .to_string()
                .contains("chmod 600")
        );
        let no_file = HsmConfig::Pkcs11 {
            module: "m".into(),
            token: "t".into(),
            pin_file: None,
        };
        assert!(no_file.read_pin().unwrap().is_none());
    }
}
