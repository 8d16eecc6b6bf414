//! `strongroom token init` and `strongroom token list`.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cryptoki_sys as ck;
use hsm_core::Hsm;
use hsm_core::secret::SecretBytes;
use hsm_core::token::NewQuorum;
use serde_json::json;

use super::Output;
use crate::error::{CliResult, fail, in_file};
use crate::secrets;

/// Everything `token init` is told.
#[derive(Debug)]
pub struct InitArgs {
    pub label: String,
    pub cards: u8,
    pub threshold: u8,
    pub card_dir: PathBuf,
    pub so_pin_file: Option<PathBuf>,
    pub pin_file: Option<PathBuf>,
    /// One per card, in card order; cards without one are asked for on the terminal.
    pub card_pin_files: Vec<PathBuf>,
}

/// The file name of card `number` of a token's set.
pub fn card_file_name(label: &str, number: usize, count: u8) -> String {
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-card-{number}-of-{count}.card")
}

/// Creates a quorum token and writes its N card files into the card directory.
pub fn init(hsm: &Hsm, args: &InitArgs) -> CliResult<Output> {
    if args.label.is_empty() || args.label.len() > 32 {
        return fail(format!(
            "--label {:?}: a token label is 1 to 32 bytes",
            args.label
        ));
    }
    if args.cards == 0 || args.threshold == 0 || args.threshold > args.cards {
        return fail(format!(
            "--threshold {} --cards {}: the threshold must be between 1 and the number of cards",
            args.threshold, args.cards
        ));
    }
    if args.card_pin_files.len() > usize::from(args.cards) {
        return fail(format!(
            "{} --card-pin-file given for {} cards",
            args.card_pin_files.len(),
            args.cards
        ));
    }
    if hsm.token_by_label(&args.label).is_ok() {
        return fail(format!(
            "a token labelled {:?} already exists; labels select tokens, so they must be unique",
            args.label
        ));
    }
    let paths: Vec<PathBuf> = (1..=usize::from(args.cards))
        .map(|i| {
            args.card_dir
                .join(card_file_name(&args.label, i, args.cards))
        })
        .collect();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&args.card_dir)
        .map_err(|e| {
            crate::error::CliError(format!(
                "{}: cannot create the card directory: {e}",
                args.card_dir.display()
            ))
        })?;
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return fail(format!(
            "{}: a card file is already there; refusing to overwrite it",
            existing.display()
        ));
    }
    let so_pin = secrets::new_from_file_or_prompt(args.so_pin_file.as_deref(), "New SO PIN")?;
    let user_pin = secrets::new_from_file_or_prompt(args.pin_file.as_deref(), "New user PIN")?;
    let card_pins = (0..usize::from(args.cards))
        .map(|i| {
            secrets::new_from_file_or_prompt(
                args.card_pin_files.get(i).map(PathBuf::as_path),
                &format!("New PIN for card {} of {}", i + 1, args.cards),
            )
        })
        .collect::<CliResult<Vec<SecretBytes>>>()?;
    let quorum = NewQuorum {
        threshold: args.threshold,
        card_pins: &card_pins,
        card_kdf: hsm.config().card_kdf,
    };
    let (slot, cards) =
        hsm.create_quorum_token(&args.label, so_pin.expose(), user_pin.expose(), quorum)?;
    for (path, bytes) in paths.iter().zip(&cards) {
        write_card(path, bytes)?;
    }
    let token = hsm.token_by_label(&args.label)?;
    let human = format!(
        "token {:?} (serial {}) in slot {slot}: quorum {} of {}\ncards written:\n{}\n",
        args.label,
        token.serial(),
        args.threshold,
        args.cards,
        paths
            .iter()
            .map(|p| format!("  {}", p.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let json = json!({
        "label": args.label,
        "serial": token.serial(),
        "slot": slot,
        "threshold": args.threshold,
        "cards": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    Ok(Output { human, json })
}

/// Writes a card file durably, readable by its owner only, never over an existing file.
fn write_card(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut file = in_file(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path),
    )?;
    in_file(path, file.write_all(bytes))?;
    in_file(path, file.sync_all())
}

/// The token flags an operator cares about, by name.
pub fn flag_names(flags: ck::CK_FLAGS) -> Vec<&'static str> {
    const NAMES: &[(ck::CK_FLAGS, &str)] = &[
        (ck::CKF_USER_PIN_INITIALIZED, "user-pin-initialized"),
        (ck::CKF_USER_PIN_COUNT_LOW, "user-pin-count-low"),
        (ck::CKF_USER_PIN_FINAL_TRY, "user-pin-final-try"),
        (ck::CKF_USER_PIN_LOCKED, "user-pin-locked"),
        (ck::CKF_SO_PIN_COUNT_LOW, "so-pin-count-low"),
        (ck::CKF_SO_PIN_FINAL_TRY, "so-pin-final-try"),
        (ck::CKF_SO_PIN_LOCKED, "so-pin-locked"),
        (
            ck::CKF_PROTECTED_AUTHENTICATION_PATH,
            "protected-authentication-path",
        ),
    ];
    NAMES
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Lists every slot: its token, quorum and flags, and the free slot.
pub fn list(hsm: &Hsm) -> CliResult<Output> {
    let slots = hsm.slot_list()?;
    let mut human = format!("configuration: {}\n", hsm.config().source);
    let mut entries = Vec::new();
    for slot in slots {
        match hsm.slot_token(slot)? {
            None => {
                human.push_str(&format!("slot {slot}: (free: no token yet)\n"));
                entries.push(json!({ "slot": slot, "token": null }));
            }
            Some(_) => {
                let info = hsm.token_info(slot)?;
                let s = &info.summary;
                let quorum = match s.quorum {
                    Some((m, n)) => format!("quorum {m} of {n}"),
                    None => "no quorum (PIN-only)".to_string(),
                };
                let flags = flag_names(s.flags);
                human.push_str(&format!(
                    "slot {slot}: token {:?} serial {} — {quorum}; {} objects; flags: {}\n",
                    s.label,
                    s.serial,
                    s.objects,
                    if flags.is_empty() {
                        "none".to_string()
                    } else {
                        flags.join(", ")
                    }
                ));
                entries.push(json!({
                    "slot": slot,
                    "token": {
                        "label": s.label,
                        "serial": s.serial,
                        "quorum": s.quorum.map(|(m, n)| json!({ "threshold": m, "cards": n })),
                        "objects": s.objects,
                        "flags": flags,
                    }
                }));
            }
        }
    }
    Ok(Output {
        human,
        json: json!({ "configuration": hsm.config().source, "slots": entries }),
    })
}
