//! The ceremony's command-line surface: `ksr`, `skr`, `rrset`, and the key source flags they
//! share with `key ds` / `key trust-anchor`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use signer::admin::Output;
use signer::commands::keysource::{KeySource, parse_algorithm};
use signer::commands::{ksr, rrset};
use signer::error::{CliResult, fail};
use signer::keystore::SigningPath;

/// Where the keys are: the embedded token (`--token`) or a PKCS#11 module (`--module`).
#[derive(Args, Clone, Debug, Default)]
pub struct KeySourceArgs {
    /// The embedded token holding the key.
    #[arg(long)]
    pub token: Option<String>,
    /// A PKCS#11 module to use instead of the embedded token. Its user PIN is --pin-file's:
    /// without one there is no login, an empty file is an empty-PIN login.
    #[arg(long)]
    pub module: Option<PathBuf>,
    /// The token's label in that module.
    #[arg(long)]
    pub token_label: Option<String>,
    #[command(flatten)]
    pub access: crate::AccessArgs,
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
                pin_file: self.access.pin_file.clone(),
            });
        }
        let Some(token) = self.token.clone() else {
            return fail(
                "name the token holding the key: --token LABEL (or --module PATH --token-label LABEL)",
            );
        };
        Ok(KeySource::Embedded {
            token,
            access: self.access.clone().into(),
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

/// The files and choices of a KSR ceremony, shared by `ksr sign` and `ksr check`.
#[derive(Args, Clone, Debug)]
pub struct CeremonyFlags {
    /// The KSR received from the Root Zone Maintainer.
    pub ksr: PathBuf,
    /// Ceremony configuration (TOML): HSM, KSKs, policy knobs, schemas. Without it: IANA's
    /// default policy with --ksk on the embedded --token.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The SKR of the previous cycle, for the chain checks.
    #[arg(long)]
    pub previous_skr: Option<PathBuf>,
    /// normal, pre-publish, rollover, revoke (and publish+, rollover+, revoke+), or one of
    /// the configuration's.
    #[arg(long, default_value = "normal")]
    pub schema: String,
    /// The clock the checks use (YYYY-MM-DDTHH:MM:SS[+00:00]); default: the system clock.
    #[arg(long)]
    pub now: Option<String>,
    /// Without --config: the KSK label (a second one is ksk_next).
    #[arg(long)]
    pub ksk: Vec<String>,
    /// Where the transcript is written (ksr sign: SKR.transcript.txt by default).
    #[arg(long)]
    pub transcript: Option<PathBuf>,
    /// Without --config: the embedded token holding the KSKs.
    #[arg(long)]
    pub token: Option<String>,
    /// The embedded token's PIN and cards (asked for on the terminal when absent).
    #[command(flatten)]
    pub access: crate::AccessArgs,
}

impl CeremonyFlags {
    fn args(self) -> ksr::CeremonyArgs {
        ksr::CeremonyArgs {
            ksr: self.ksr,
            config: self.config,
            previous_skr: self.previous_skr,
            schema: self.schema,
            now: self.now,
            ksk_labels: self.ksk,
            token: self.token,
            access: self.access.into(),
            transcript: self.transcript,
            hsm: None,
            quiet: false,
        }
    }
}

#[derive(Subcommand)]
pub enum KsrCommand {
    /// Check a KSR, sign it with the KSKs after an explicit "Yes", write and verify the SKR.
    Sign {
        #[command(flatten)]
        flags: CeremonyFlags,
        /// Where the SKR is written (never over an existing file).
        #[arg(long)]
        out: PathBuf,
        /// Skip the "Yes" confirmation (scripted ceremonies, tests).
        #[arg(long)]
        yes: bool,
    },
    /// Run every check on a KSR, the KSK checks in the HSM included, without signing.
    Check {
        #[command(flatten)]
        flags: CeremonyFlags,
    },
}

#[derive(Subcommand)]
pub enum SkrCommand {
    /// Verify every signature of an SKR, bundle by bundle (and that it answers --ksr).
    Verify {
        skr: PathBuf,
        #[arg(long)]
        ksr: Option<PathBuf>,
    },
}

pub fn run_ksr(command: KsrCommand) -> CliResult<Output> {
    match command {
        KsrCommand::Sign { flags, out, yes } => ksr::sign(&flags.args(), &out, yes),
        KsrCommand::Check { flags } => ksr::check(&flags.args()),
    }
}

pub fn run_skr(command: SkrCommand) -> CliResult<Output> {
    match command {
        SkrCommand::Verify { skr, ksr } => ksr::verify(&skr, ksr.as_deref()),
    }
}
