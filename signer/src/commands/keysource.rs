//! Where the ceremony's keys live: the embedded token (the default) or any PKCS#11 module,
//! chosen on the command line and opened as one [`KeyStore`].

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::admin::activation::KeyAccess;
use crate::admin::open_hsm;
use crate::error::{CliError, CliResult, fail, in_file};
use crate::keystore::{EmbeddedStore, KeyKind, KeyStore, Pkcs11Store, PublicKey};

/// The key source named by the command line.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A token of the embedded HSM, with the usual PIN and card flags.
    Embedded { token: String, access: KeyAccess },
    /// A token of a PKCS#11 module; no PIN file means no login, an empty one an empty-PIN
    /// login (as PED-authenticated HSMs need).
    Pkcs11 {
        module: PathBuf,
        token: String,
        pin_file: Option<PathBuf>,
    },
}

impl KeySource {
    /// Opens the store (activating and logging in to an embedded token).
    pub fn open(&self) -> CliResult<Box<dyn KeyStore>> {
        match self {
            KeySource::Embedded { token, access } => {
                let hsm = Arc::new(open_hsm()?);
                let store =
                    EmbeddedStore::open(hsm, token, access).map_err(|e| CliError(e.to_string()))?;
                Ok(Box::new(store))
            }
            KeySource::Pkcs11 {
                module,
                token,
                pin_file,
            } => {
                let pin = match pin_file {
                    None => None,
                    Some(path) => {
                        let text = Zeroizing::new(in_file(path, std::fs::read_to_string(path))?);
                        Some(Zeroizing::new(
                            text.trim_end_matches(['\n', '\r']).to_string(),
                        ))
                    }
                };
                let store =
                    Pkcs11Store::open(module, token, pin).map_err(|e| CliError(e.to_string()))?;
                Ok(Box::new(store))
            }
        }
    }
}

/// The DNSSEC algorithm a key signs with: RSA keys take `rsa_algorithm` (8 RSASHA256 unless
/// asked otherwise), the others follow from their curve.
pub fn dnssec_algorithm(public: &PublicKey, rsa_algorithm: Option<u8>) -> CliResult<u8> {
    match (public.kind(), rsa_algorithm) {
        (KeyKind::Rsa { .. }, None) => Ok(8),
        (KeyKind::Rsa { .. }, Some(a @ (5 | 7 | 8 | 10))) => Ok(a),
        (KeyKind::Rsa { .. }, Some(a)) => fail(format!("algorithm {a} is not an RSA algorithm")),
        (KeyKind::Ec(curve), _) => Ok(if curve.field_len() == 32 { 13 } else { 14 }),
        (KeyKind::Ed25519, _) => Ok(15),
        (KeyKind::Ed448, _) => Ok(16),
    }
}

/// Parses a DNSSEC algorithm given by number or mnemonic.
pub fn parse_algorithm(text: &str) -> CliResult<u8> {
    let known = [
        ("RSASHA1", 5),
        ("RSASHA1-NSEC3-SHA1", 7),
        ("RSASHA256", 8),
        ("RSASHA512", 10),
        ("ECDSAP256SHA256", 13),
        ("ECDSAP384SHA384", 14),
        ("ED25519", 15),
        ("ED448", 16),
    ];
    if let Ok(number) = text.parse::<u8>() {
        return Ok(number);
    }
    known
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            CliError(format!(
                "unknown DNSSEC algorithm {text:?}: give a number or one of RSASHA256, RSASHA512, ECDSAP256SHA256, ECDSAP384SHA384, ED25519, ED448"
            ))
        })
}
