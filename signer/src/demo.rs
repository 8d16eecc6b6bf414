//! `strongroom demo`: the whole root KSK ceremony on a throwaway token — a 3-of-7 quorum of
//! officer cards, activation by three of them, an RSA-2048 KSK, a KSR with fresh ZSKs and
//! today's dates signed into an SKR, the SKR verified, and the ceremony transcript printed.
//! IANA's real 2018 Q1 KSR is checked too, with the clock set to its ceremony date.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use domain::base::name::Name;
use hsm_core::quorum;
use hsm_core::{Config, Hsm};
use serde_json::json;

use crate::admin::activation::{KeyAccess, read_card_file};
use crate::admin::{Output, key, token};
use crate::commands::keyinfo::{iana_label, now};
use crate::commands::ksr::{self as ceremony_cmd, CeremonyArgs};
use crate::commands::sample_ksr;
use crate::dnssec::{DnsKey, FLAG_SEP, FLAG_ZONE};
use crate::error::{CliError, CliResult, in_file};
use crate::keystore::{EmbeddedStore, KeyStore};
use crate::ksr::{Body, Timestamp, parse_document, write_ksr};
use crate::policy::{RequestPolicy, check_request};

const THRESHOLD: u8 = 3;
const CARDS: u8 = 7;
const TOKEN: &str = "demo-root";
/// IANA's KSR for 2018 Q1 (ZSKs 46809/41824/39570), carried in the binary so the demo runs
/// from anywhere.
const IANA_KSR_2018_Q1: &[u8] = include_bytes!("../../fixtures/ksr/ksr-root-2018-q1-0-d_to_e.xml");
/// A day at which that KSR was due for signing (its first bundle starts 2018-01-01).
const IANA_KSR_CEREMONY_DAY: &str = "2017-11-01T00:00:00";
const DAY: i64 = 86_400;

fn scratch_dir() -> CliResult<PathBuf> {
    let mut name = [0u8; 6];
    hsm_core::crypto::random_bytes(&mut name)?;
    let dir = std::env::temp_dir().join(format!("strongroom-demo-{}", hex::encode(name)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| {
            CliError(format!(
                "{}: cannot create the scratch directory: {e}",
                dir.display()
            ))
        })?;
    Ok(dir)
}

/// Writes a random PIN into a 0600 file, as an officer's PIN would be kept for a script.
fn pin_file(dir: &Path, name: &str) -> CliResult<PathBuf> {
    use std::io::Write;
    let mut pin = [0u8; 8];
    hsm_core::crypto::random_bytes(&mut pin)?;
    let path = dir.join(name);
    let mut file = in_file(
        &path,
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path),
    )?;
    in_file(&path, writeln!(file, "{}", hex::encode(pin)))?;
    Ok(path)
}

/// Runs the demo; the scratch directory is removed afterwards unless `keep`.
pub fn run(keep: bool) -> CliResult<Output> {
    let dir = scratch_dir()?;
    let result = run_in(&dir);
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut output = result?;
    if keep {
        output
            .human
            .push_str(&format!("scratch directory kept: {}\n", dir.display()));
    }
    Ok(output)
}

fn run_in(dir: &Path) -> CliResult<Output> {
    let mut log = String::new();
    let hsm = Arc::new(Hsm::new(Config::with_token_dir(dir.join("tokens")))?);
    log.push_str(&format!(
        "1. scratch token directory {}\n",
        dir.join("tokens").display()
    ));

    let secrets = dir.join("secrets");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&secrets)
        .map_err(|e| CliError(e.to_string()))?;
    let card_pins = (1..=CARDS)
        .map(|i| pin_file(&secrets, &format!("card-{i}.pin")))
        .collect::<CliResult<Vec<_>>>()?;
    let init = token::InitArgs {
        label: TOKEN.into(),
        cards: CARDS,
        threshold: THRESHOLD,
        card_dir: dir.join("cards"),
        so_pin_file: Some(pin_file(&secrets, "so.pin")?),
        pin_file: Some(pin_file(&secrets, "user.pin")?),
        card_pin_files: card_pins.clone(),
    };
    token::init(&hsm, &init)?;
    let card_paths: Vec<PathBuf> = (1..=usize::from(CARDS))
        .map(|i| {
            init.card_dir
                .join(token::card_file_name(&init.label, i, CARDS))
        })
        .collect();
    log.push_str(&format!(
        "2. token {TOKEN:?} created with a {THRESHOLD}-of-{CARDS} quorum; {CARDS} card files written\n"
    ));

    // Two officers are not enough: the token stays dark.
    let token_handle = hsm.token_by_label(TOKEN)?;
    let two: Vec<_> = [1usize, 4]
        .iter()
        .map(|&i| {
            let bytes = read_card_file(&card_paths[i])?;
            let pin = crate::secrets::from_file(&card_pins[i])?;
            in_file(&card_paths[i], quorum::open_card(&bytes, pin.expose()))
        })
        .collect::<CliResult<_>>()?;
    let refused = hsm
        .activate(token_handle.slot_id(), &two)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    log.push_str(&format!("3. two cards refused: {refused}\n"));

    // Three officers (cards 2, 5 and 7) activate it; the KSK is labelled as IANA labels them.
    let chosen = [1usize, 4, 6];
    let access = KeyAccess {
        pin_file: init.pin_file.clone(),
        cards: chosen.iter().map(|&i| card_paths[i].clone()).collect(),
        card_pin_files: chosen.iter().map(|&i| card_pins[i].clone()).collect(),
    };
    let today = now()?;
    let label = iana_label(today);
    let generated = key::generate(&hsm, TOKEN, &label, key::Algorithm::Rsa2048, None, &access)?;
    log.push_str("4. cards 2, 5 and 7 activated the token; user PIN logged in\n");
    log.push_str(&format!("5. {}", generated.human));
    let ksk = {
        let store = EmbeddedStore::open(Arc::clone(&hsm), TOKEN, &access)
            .map_err(|e| CliError(e.to_string()))?;
        let key = store.key(&label).map_err(|e| CliError(e.to_string()))?;
        let public = store
            .public_key(&key)
            .map_err(|e| CliError(e.to_string()))?;
        DnsKey::new(FLAG_ZONE | FLAG_SEP, 8, public.dnskey_public_key())
            .map_err(|e| CliError(e.to_string()))?
    };
    let ds = ksk
        .ds_presentation(&Name::root_vec(), 172_800, 2)
        .map_err(|e| CliError(e.to_string()))?;
    log.push_str(&format!(
        "6. KSK {label} is tag {} (revoked: {}); {ds}\n",
        ksk.key_tag(),
        ksk.revoked().key_tag()
    ));

    // The Root Zone Maintainer's KSR for the cycle starting today, with fresh ZSKs.
    let first_inception = Timestamp::from_unix(today.unix() - today.unix().rem_euclid(DAY));
    let ksr = sample_ksr::generate(first_inception, today)?;
    let ksr_path = dir.join("ksr.xml");
    in_file(&ksr_path, std::fs::write(&ksr_path, write_ksr(&ksr)))?;
    let zsk_tags: Vec<String> = match &ksr.body {
        Body::Request(r) => {
            let mut tags: Vec<u16> = r
                .bundles
                .iter()
                .flat_map(|b| b.keys.iter().map(|k| k.key_tag))
                .collect();
            tags.sort_unstable();
            tags.dedup();
            tags.iter().map(u16::to_string).collect()
        }
        Body::Response(_) => Vec::new(),
    };
    log.push_str(&format!(
        "7. KSR {} written: 9 bundles from {}, ZSKs {}, each bundle signed by its ZSKs\n",
        ksr.id,
        first_inception.to_xsd(),
        zsk_tags.join(", ")
    ));

    // The ceremony: every check, the plan, the signatures, the SKR and its transcript.
    let skr_path = dir.join("skr.xml");
    let transcript_path = dir.join("skr.xml.transcript.txt");
    let args = CeremonyArgs {
        ksr: ksr_path.clone(),
        config: None,
        previous_skr: None,
        schema: "normal".into(),
        now: None,
        ksk_labels: vec![label.clone()],
        token: Some(TOKEN.into()),
        access: access.clone(),
        transcript: Some(transcript_path.clone()),
        hsm: Some(Arc::clone(&hsm)),
        quiet: true,
    };
    let signed = ceremony_cmd::sign(&args, &skr_path, true)?;
    log.push_str(&format!(
        "8. strongroom ksr sign: {} signatures, SKR written (\"Yes\" given by the demo)\n",
        signed.json["signatures"]
    ));
    let verified = ceremony_cmd::verify(&skr_path, Some(&ksr_path))?;
    let verdict = verified
        .human
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    log.push_str(&format!("9. strongroom skr verify --ksr: {verdict}\n"));

    // IANA's real KSR passes the same checks when the clock is set to its ceremony day.
    let iana = parse_document(IANA_KSR_2018_Q1).map_err(|e| CliError(e.to_string()))?;
    let day = Timestamp::parse_xsd(IANA_KSR_CEREMONY_DAY).map_err(|e| CliError(e.to_string()))?;
    let report = check_request(&iana, &RequestPolicy::default(), day);
    log.push_str(&format!(
        "10. IANA's KSR 2018 Q1 ({}), clock set to {IANA_KSR_CEREMONY_DAY}: {} checks passed, {} failed\n",
        iana.id,
        report.passed.len(),
        report.failed().len()
    ));
    if !report.is_ok() {
        return Err(CliError(format!("IANA's KSR failed the checks:\n{report}")));
    }

    let transcript = in_file(&transcript_path, std::fs::read_to_string(&transcript_path))?;
    log.push_str("\n--- ceremony transcript ---\n");
    log.push_str(&transcript);
    let json = json!({
        "quorum": { "threshold": THRESHOLD, "cards": CARDS },
        "two_cards_refused": refused,
        "key": generated.json,
        "ksk": { "label": label, "key_tag": ksk.key_tag(), "ds": ds },
        "ksr_id": ksr.id,
        "skr": signed.json,
        "skr_verified": verdict,
        "iana_ksr_checks_passed": report.passed.len(),
        "transcript": transcript,
    });
    Ok(Output { human: log, json })
}
