//! The ceremony's command-line surface: `ksr`, `skr`, `rrset`, and the key source flags they
//! share with `key ds` / `key trust-anchor`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use signer::admin::Output;
use signer::admin::activation::KeyAccess;
use signer::commands::keysource::{KeySource, parse_algorithm};
use signer::commands::rrset;
use signer::error::{CliResult, fail};
use signer::keystore::SigningPath;

/// Where the keys are: the embedded token (`--token`) or a PKCS#11 module (`--module`).
#[derive(Args, Clone, Debug, Default)]
pub struct KeySourceArgs {
    /// The embedded token holding the key.
    #[arg(long)]
    pub token: Option<String>,
    /// A PKCS#11 module to use instead of the embedded token.
    #[arg(long)]
    pub module: Option<PathBuf>,
    /// The token's label in that module.
    #[arg(long)]
    pub token_label: Option<String>,
    /// File holding the user PIN (for a module: absent = no login, empty = empty PIN).
    #[arg(long)]
    pub pin_file: Option<PathBuf>,
    /// An officer's card (repeat for each card of the quorum).
    #[arg(long)]
    pub card: Vec<PathBuf>,
    /// The PIN file of each --card, in the same order.
    #[arg(long)]
    pub card_pin_file: Vec<PathBuf>,
}

impl KeySourceArgs {
    pub fn source(&self) -> CliResult<KeySource> {
        if let Some(module) = &self.module {
            let Some(token) = self.token_label.clone().or_else(|| self.token.clone()) else {
                return fail("--module needs --token-label LABEL");
            };
            return Ok(KeySource::Pkcs11 {
                module: module.clone(),
                token,
                pin_file: self.pin_file.clone(),
            });
        }
        let Some(token) = self.token.clone() else {
            return fail(
                "name the token holding the key: --token LABEL (or --module PATH --token-label LABEL)",
            );
        };
        Ok(KeySource::Embedded {
            token,
            access: KeyAccess {
                pin_file: self.pin_file.clone(),
                cards: self.card.clone(),
                card_pin_files: self.card_pin_file.clone(),
            },
        })
    }
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum RrsetCommand {
    /// Sign the DNSKEY RRset of a zone text with a KSK: the RRset and its RRSIG out.
    Sign {
        zone_file: PathBuf,
        /// The KSK's label (CKA_LABEL).
        #[arg(long)]
        key: String,
        /// YYYYMMDDHHMMSS or YYYY-MM-DDTHH:MM:SS (UTC).
        #[arg(long)]
        inception: String,
        #[arg(long)]
        expiration: String,
        /// TTL of the RRset (default: the text's, else 172800).
        #[arg(long)]
        ttl: Option<u32>,
        /// DNSSEC algorithm for an RSA key (default RSASHA256).
        #[arg(long)]
        algorithm: Option<String>,
        /// Let the token hash (CKM_SHA256_RSA_PKCS) instead of CKM_RSA_X_509 on a host-built block.
        #[arg(long)]
        token_hashing: bool,
        #[command(flatten)]
        source: KeySourceArgs,
    },
    /// Verify every RRSIG of a zone text, chained to a trust anchor file when given.
    Verify {
        zone_file: PathBuf,
        /// An RFC 9718 root-anchors.xml.
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
}

pub fn run_rrset(command: RrsetCommand) -> CliResult<Output> {
    match command {
        RrsetCommand::Sign {
            zone_file,
            key,
            inception,
            expiration,
            ttl,
            algorithm,
            token_hashing,
            source,
        } => {
            let algorithm = algorithm.as_deref().map(parse_algorithm).transpose()?;
            let request = rrset::SignRequest {
                zone_file: &zone_file,
                key_label: &key,
                inception: &inception,
                expiration: &expiration,
                ttl,
                algorithm,
                path: signing_path(token_hashing),
            };
            rrset::sign(&source.source()?, &request)
        }
        RrsetCommand::Verify { zone_file, anchor } => {
            rrset::verify_file(&zone_file, anchor.as_deref())
        }
    }
}

pub fn signing_path(token_hashing: bool) -> SigningPath {
    if token_hashing {
        SigningPath::TokenHashing
    } else {
        SigningPath::HostPadding
    }
}
