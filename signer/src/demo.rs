//! `strongroom demo`: the end-to-end job on a throwaway token — a 3-of-7 quorum of officer
//! cards, activation by three of them, an RSA-2048 KSK, a signature made and verified.
//!
//! The KSR → SKR ceremony is not built yet; until it is, this is the most end-to-end job
//! there is, and it says so.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cryptoki_sys as ck;
use hsm_core::mechanism::Mechanism;
use hsm_core::quorum;
use hsm_core::{Config, Hsm};
use serde_json::json;

use crate::admin::activation::{KeyAccess, read_card_file, user_session};
use crate::admin::{Output, key, token};
use crate::error::{CliError, CliResult, in_file};

const THRESHOLD: u8 = 3;
const CARDS: u8 = 7;

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
    let hsm = Hsm::new(Config::with_token_dir(dir.join("tokens")))?;
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
        label: "demo-root".into(),
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
    log.push_str(&format!("2. token \"demo-root\" created with a {THRESHOLD}-of-{CARDS} quorum; 7 card files written\n"));

    // Two officers are not enough: the token stays dark.
    let token_handle = hsm.token_by_label("demo-root")?;
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

    // Three officers (cards 2, 5 and 7) activate it.
    let chosen = [1usize, 4, 6];
    let access = KeyAccess {
        pin_file: init.pin_file.clone(),
        cards: chosen.iter().map(|&i| card_paths[i].clone()).collect(),
        card_pin_files: chosen.iter().map(|&i| card_pins[i].clone()).collect(),
    };
    let generated = key::generate(
        &hsm,
        "demo-root",
        "ksk-demo",
        key::Algorithm::Rsa2048,
        None,
        &access,
    )?;
    log.push_str("4. cards 2, 5 and 7 activated the token; user PIN logged in\n");
    log.push_str(&format!("5. {}", generated.human));

    let session = user_session(&hsm, &token_handle, &access)?;
    let label = (ck::CKA_LABEL, b"ksk-demo".to_vec());
    let find = |class: ck::CK_OBJECT_CLASS| -> CliResult<u64> {
        hsm.find_init(
            session,
            &vec![label.clone(), (ck::CKA_CLASS, class.to_ne_bytes().to_vec())],
        )?;
        let found = hsm.find_next(session, 1)?;
        hsm.find_final(session)?;
        found
            .first()
            .copied()
            .ok_or_else(|| CliError("the demo key vanished".into()))
    };
    let (private, public) = (find(ck::CKO_PRIVATE_KEY)?, find(ck::CKO_PUBLIC_KEY)?);
    let message = b". 172800 IN DNSKEY (the root KSK signs the DNSKEY RRset)";
    let mechanism = Mechanism::new(ck::CKM_SHA256_RSA_PKCS);
    hsm.sign_init(session, &mechanism, private)?;
    let signature = hsm.sign(session, message)?;
    hsm.verify_init(session, &mechanism, public)?;
    hsm.verify(session, message, &signature)?;
    hsm.close_session(session)?;
    log.push_str(&format!(
        "6. signed with CKM_SHA256_RSA_PKCS ({} bytes) and verified with the public key\n",
        signature.len()
    ));
    log.push_str("7. not yet: KSR in, SKR out (the ceremony signer is a later issue)\n");
    let json = json!({
        "quorum": { "threshold": THRESHOLD, "cards": CARDS },
        "two_cards_refused": refused,
        "key": generated.json,
        "signature_len": signature.len(),
        "verified": true,
        "ceremony": "not yet built",
    });
    Ok(Output { human: log, json })
}
