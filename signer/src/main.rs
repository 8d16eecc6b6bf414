//! `strongroom`: token administration and (as it lands) the DNSSEC key ceremony.
#![forbid(unsafe_code)]

mod ceremony_cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use signer::admin::activation::KeyAccess;
use signer::admin::{self, Output, card, key, token};
use signer::commands::keyinfo;
use signer::commands::keysource::parse_algorithm;
use signer::demo;
use signer::error::CliResult;

#[derive(Parser)]
#[command(
    name = "strongroom",
    version,
    about = "Strongroom: a software HSM for DNSSEC key ceremonies"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and list tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect crypto-officer card files.
    #[command(subcommand)]
    Card(CardCommand),
    /// Generate, import and list keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The KSK ceremony: check a KSR and sign it into an SKR.
    #[command(subcommand)]
    Ksr(ceremony_cli::KsrCommand),
    /// Verify an SKR.
    #[command(subcommand)]
    Skr(ceremony_cli::SkrCommand),
    /// Sign a zone's DNSKEY RRset with a KSK, or verify a zone's RRSIGs.
    #[command(subcommand)]
    Rrset(ceremony_cli::RrsetCommand),
    /// Register the PKCS#11 module with p11-kit.
    #[command(name = "p11-kit", subcommand)]
    P11Kit(P11KitCommand),
    /// Activate a quorum token and run COMMAND with the activation (nothing on disk).
    Activate {
        #[arg(long)]
        token: String,
        #[command(flatten)]
        access: AccessArgs,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
    /// Run the end-to-end job on a throwaway token in a scratch directory.
    Demo {
        /// Keep the scratch directory instead of deleting it.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token whose master key needs a quorum of M of N officer cards.
    Init {
        #[arg(long)]
        label: String,
        /// Number of cards N.
        #[arg(long)]
        cards: u8,
        /// Cards needed to activate, M.
        #[arg(long)]
        threshold: u8,
        /// Directory the card files are written to.
        #[arg(long)]
        card_dir: PathBuf,
        #[arg(long)]
        so_pin_file: Option<PathBuf>,
        #[arg(long)]
        pin_file: Option<PathBuf>,
        /// PIN file of each card, in card order (repeat); missing ones are asked for.
        #[arg(long)]
        card_pin_file: Vec<PathBuf>,
    },
    /// List slots and tokens: quorum M of N, flags.
    List,
}

#[derive(Subcommand)]
enum P11KitCommand {
    /// Write strongroom.module so p11-kit-aware tools find the module.
    Install {
        /// The module's absolute path (default: Debian's PKCS#11 directory).
        #[arg(long)]
        module: Option<PathBuf>,
        /// p11-kit's module directory (default: /etc/pkcs11/modules for root, else
        /// ~/.config/pkcs11/modules).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CardCommand {
    /// Tell which token and card a card file is, and whether it is intact.
    Verify {
        card: PathBuf,
        #[arg(long)]
        card_pin_file: Option<PathBuf>,
        /// Ask for the card PIN on the terminal to check it too.
        #[arg(long)]
        ask_pin: bool,
    },
}

#[derive(Args, Clone, Debug, Default)]
struct AccessArgs {
    /// File holding the user PIN (asked for on the terminal when absent).
    #[arg(long)]
    pin_file: Option<PathBuf>,
    /// An officer's card (repeat for each card of the quorum).
    #[arg(long)]
    card: Vec<PathBuf>,
    /// The PIN file of each --card, in the same order.
    #[arg(long)]
    card_pin_file: Vec<PathBuf>,
}

impl From<AccessArgs> for KeyAccess {
    fn from(a: AccessArgs) -> Self {
        KeyAccess {
            pin_file: a.pin_file,
            cards: a.card,
            card_pin_files: a.card_pin_file,
        }
    }
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate a key pair on a token.
    Generate {
        #[arg(long)]
        token: String,
        #[arg(long)]
        label: String,
        /// rsa2048, rsa4096, p256, p384 or ed25519.
        #[arg(long)]
        algorithm: String,
        /// CKA_ID in hex (random when absent).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Import a private key: PKCS#8 / PKCS#1 / SEC1 PEM, or a BIND .private file.
    Import {
        #[arg(long)]
        token: String,
        #[arg(long)]
        label: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// List a token's keys (private keys only after login: give --pin-file or --card).
    List {
        #[arg(long)]
        token: String,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Print a KSK's DNSKEY and DS (SHA-256, also in PGP words).
    Ds {
        /// The key's label (CKA_LABEL).
        label: String,
        /// DNSSEC algorithm for an RSA key (default RSASHA256).
        #[arg(long)]
        algorithm: Option<String>,
        #[arg(long, default_value_t = 172_800)]
        ttl: u32,
        #[command(flatten)]
        source: ceremony_cli::KeySourceArgs,
    },
    /// Print an RFC 9718 root-anchors.xml entry for a KSK.
    TrustAnchor {
        label: String,
        #[arg(long)]
        algorithm: Option<String>,
        /// validFrom (default: now).
        #[arg(long)]
        valid_from: Option<String>,
        #[arg(long)]
        valid_until: Option<String>,
        #[command(flatten)]
        source: ceremony_cli::KeySourceArgs,
    },
}

fn run(cli: Cli) -> CliResult<Output> {
    match cli.command {
        Command::Demo { keep } => demo::run(keep),
        Command::P11Kit(P11KitCommand::Install { module, dir }) => {
            admin::p11kit::install(module.as_deref(), dir.as_deref())
        }
        Command::Activate { .. } => signer::error::fail("activate is handled before run"),
        Command::Token(TokenCommand::Init {
            label,
            cards,
            threshold,
            card_dir,
            so_pin_file,
            pin_file,
            card_pin_file,
        }) => {
            let args = token::InitArgs {
                label,
                cards,
                threshold,
                card_dir,
                so_pin_file,
                pin_file,
                card_pin_files: card_pin_file,
            };
            token::init(&admin::open_hsm()?, &args)
        }
        Command::Token(TokenCommand::List) => token::list(&admin::open_hsm()?),
        Command::Card(CardCommand::Verify {
            card: path,
            card_pin_file,
            ask_pin,
        }) => card::verify(
            &admin::open_hsm()?,
            &path,
            card_pin_file.as_deref(),
            ask_pin,
        ),
        Command::Key(KeyCommand::Generate {
            token,
            label,
            algorithm,
            id,
            access,
        }) => {
            let algorithm = key::Algorithm::parse(&algorithm)?;
            key::generate(
                &admin::open_hsm()?,
                &token,
                &label,
                algorithm,
                id.as_deref(),
                &access.into(),
            )
        }
        Command::Key(KeyCommand::Import {
            token,
            label,
            file,
            id,
            access,
        }) => key::import(
            &admin::open_hsm()?,
            &token,
            &label,
            &file,
            id.as_deref(),
            &access.into(),
        ),
        Command::Rrset(command) => ceremony_cli::run_rrset(command),
        Command::Ksr(command) => ceremony_cli::run_ksr(command),
        Command::Skr(command) => ceremony_cli::run_skr(command),
        Command::Key(KeyCommand::Ds {
            label,
            algorithm,
            ttl,
            source,
        }) => {
            let algorithm = algorithm.as_deref().map(parse_algorithm).transpose()?;
            keyinfo::ds(&source.source()?, &label, algorithm, ttl)
        }
        Command::Key(KeyCommand::TrustAnchor {
            label,
            algorithm,
            valid_from,
            valid_until,
            source,
        }) => {
            let algorithm = algorithm.as_deref().map(parse_algorithm).transpose()?;
            keyinfo::trust_anchor(
                &source.source()?,
                &label,
                algorithm,
                valid_from.as_deref(),
                valid_until.as_deref(),
            )
        }
        Command::Key(KeyCommand::List { token, access }) => {
            let login = access.pin_file.is_some() || !access.card.is_empty();
            key::list(&admin::open_hsm()?, &token, &access.into(), login)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    if let Command::Activate {
        token,
        access,
        command,
    } = &cli.command
    {
        let result = admin::open_hsm()
            .and_then(|hsm| admin::activate::run(&hsm, token, &access.clone().into(), command));
        return match result {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(e) => {
                eprintln!("strongroom: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(output) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&output.json).unwrap_or_default()
                );
            } else {
                print!("{}", output.human);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("strongroom: {e}");
            ExitCode::FAILURE
        }
    }
}
