//! Where tokens live and how expensive PIN derivation is: read from `STRONGROOM_CONF`, else the
//! user's, else the system's configuration file, else built-in defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::kdf::KdfParams;

/// The environment variable naming the configuration file.
pub const CONF_ENV: &str = "STRONGROOM_CONF";
/// The system-wide configuration file.
pub const SYSTEM_CONF: &str = "/etc/strongroom/strongroom.toml";

/// The loaded configuration and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Directory holding one sub-directory per token.
    pub token_dir: PathBuf,
    /// Argon2id cost for user and SO PINs.
    pub pin_kdf: KdfParams,
    /// Argon2id cost for crypto-officer card PINs.
    pub card_kdf: KdfParams,
    /// Which file was read and why, for `strongroom token list` and logs.
    pub source: String,
    /// Where and how much the PKCS#11 module logs.
    pub log: LogConfig,
    /// The PKCS#11 version the module presents by default: "3.0", or "2.40" for clients and
    /// test suites written against 2.40 tokens such as SoftHSM 2.6 (no `CKA_UNIQUE_ID`, the
    /// 2.40 function table from `C_GetInterface`).
    pub pkcs11_version: Pkcs11Version,
    /// Whose identity strings the module reports: its own, or SoftHSM's, for test suites and
    /// clients that branch on SoftHSM's manufacturer strings and library version.
    pub identity: Identity,
    /// Quorum tokens activated without a person: card files with PIN files (mode 0600).
    /// The weakest channel, for daemons and tests.
    pub unattended: Vec<Unattended>,
    /// Labels of tokens that set `CKF_PROTECTED_AUTHENTICATION_PATH`: `C_Login` with a NULL
    /// PIN then asks the officers for their cards, and the user for the PIN, on the terminal.
    pub protected_authentication_path: Vec<String>,
}

/// The PKCS#11 version presented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Pkcs11Version {
    #[default]
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "2.40")]
    V2_40,
}

/// The identity strings the module reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    #[default]
    Strongroom,
    SoftHSM,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pkcs11Section {
    #[serde(default)]
    version: Pkcs11Version,
    #[serde(default)]
    identity: Identity,
}

/// One token's unattended activation: enough cards, each with the file holding its PIN.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unattended {
    /// The token's label.
    pub token: String,
    pub cards: Vec<CardSource>,
}

/// A card file and its PIN file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSource {
    pub card: PathBuf,
    pub pin_file: PathBuf,
}

/// The module's logging: a level like SoftHSM's (`error`, `warning`, `info`, `debug`) and a
/// file, or standard error when none is given. Secrets are never logged at any level.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default = "default_log_level")]
    pub level: String,
    pub file: Option<PathBuf>,
}

fn default_log_level() -> String {
    "warning".to_string()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: default_log_level(),
            file: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    token_dir: Option<PathBuf>,
    #[serde(default)]
    kdf: KdfSection,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    unattended: Vec<Unattended>,
    #[serde(default)]
    pkcs11: Pkcs11Section,
    #[serde(default)]
    protected_authentication_path: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfSection {
    pin: Option<KdfParams>,
    card: Option<KdfParams>,
}

impl Config {
    /// A configuration for one token directory with the default costs.
    pub fn with_token_dir(token_dir: impl Into<PathBuf>) -> Self {
        Self {
            token_dir: token_dir.into(),
            pin_kdf: KdfParams::PIN,
            card_kdf: KdfParams::CARD,
            source: "built in".into(),
            log: LogConfig::default(),
            pkcs11_version: Pkcs11Version::V3_0,
            identity: Identity::Strongroom,
            unattended: Vec::new(),
            protected_authentication_path: Vec::new(),
        }
    }

    /// Loads the configuration the way every Strongroom program does.
    pub fn load() -> Result<Self> {
        if let Some(path) = std::env::var_os(CONF_ENV) {
            let path = PathBuf::from(path);
            return Self::from_file(&path, &format!("{} (from ${CONF_ENV})", path.display()));
        }
        if let Some(home) = std::env::var_os("HOME") {
            let user = Path::new(&home).join(".config/strongroom/strongroom.toml");
            if user.exists() {
                return Self::from_file(&user, &format!("{} (user default)", user.display()));
            }
        }
        let system = Path::new(SYSTEM_CONF);
        if system.exists() {
            return Self::from_file(system, &format!("{SYSTEM_CONF} (system default)"));
        }
        let base = std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(".config/strongroom"))
            .unwrap_or_else(|| PathBuf::from("/etc/strongroom"));
        let mut config = Self::with_token_dir(base.join("tokens"));
        config.source = format!(
            "no configuration file; tokens in {}",
            config.token_dir.display()
        );
        Ok(config)
    }

    /// Reads one TOML file; a relative `token_dir` is taken relative to the file.
    pub fn from_file(path: &Path, source: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let beside = path.parent().unwrap_or(Path::new("."));
        let token_dir = match file.token_dir {
            Some(dir) if dir.is_relative() => beside.join(dir),
            Some(dir) => dir,
            None => beside.join("tokens"),
        };
        Ok(Self {
            token_dir,
            pin_kdf: file.kdf.pin.unwrap_or(KdfParams::PIN),
            card_kdf: file.kdf.card.unwrap_or(KdfParams::CARD),
            source: source.to_string(),
            log: file.log,
            pkcs11_version: file.pkcs11.version,
            identity: file.pkcs11.identity,
            protected_authentication_path: file.protected_authentication_path,
            unattended: file
                .unattended
                .into_iter()
                .map(|u| Unattended {
                    token: u.token,
                    cards: u
                        .cards
                        .into_iter()
                        .map(|c| CardSource {
                            card: beside.join(c.card),
                            pin_file: beside.join(c.pin_file),
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn relative_token_dir_is_beside_the_file_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strongroom.toml");
        std::fs::write(
            &path,
            "token_dir = \"tok\"\n[kdf]\npin = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }\n",
        )
        .unwrap();
        let config = Config::from_file(&path, "test").unwrap();
        assert_eq!(config.token_dir, dir.path().join("tok"));
        assert_eq!(
            config.pin_kdf,
            KdfParams {
                m_cost_kib: 8,
                t_cost: 1,
                p_cost: 1
            }
        );
        assert_eq!(config.card_kdf, KdfParams::CARD);
        std::fs::write(&path, "tokens_dir = \"x\"\n").unwrap();
        let error = Config::from_file(&path, "test").unwrap_err().to_string();
        assert!(
            error.contains("strongroom.toml") && error.contains("tokens_dir"),
            "{error}"
        );
    }
}
