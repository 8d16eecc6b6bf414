//! Bringing a quorum to a token: card files with their PINs, from the command line and PIN
//! files, or asked for one officer at a time on the terminal like an HSM's PIN pad.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use hsm_core::Hsm;
use hsm_core::quorum::{self, OpenedCard};
use hsm_core::token::{Token, UserType};

use crate::error::{CliError, CliResult, fail, in_file};
use crate::secrets;

/// Largest card file we read: cards are a few hundred bytes.
const MAX_CARD_FILE: u64 = 64 * 1024;

/// How to unlock a token's keys: the user PIN and, for a quorum token, the cards.
#[derive(Clone, Debug, Default)]
pub struct KeyAccess {
    pub pin_file: Option<PathBuf>,
    pub cards: Vec<PathBuf>,
    /// PIN files for `cards`, in the same order; missing ones are asked for.
    pub card_pin_files: Vec<PathBuf>,
}

/// Reads a card file, refusing anything implausibly large.
pub fn read_card_file(path: &Path) -> CliResult<Vec<u8>> {
    let len = in_file(path, std::fs::metadata(path))?.len();
    if len > MAX_CARD_FILE {
        return fail(format!(
            "{}: {len} bytes is far too large for a card file",
            path.display()
        ));
    }
    in_file(path, std::fs::read(path))
}

/// Opens one card of `token`, refusing another token's card by its file before asking for a PIN.
fn open_card_at(token: &Token, path: &Path, pin_file: Option<&Path>) -> CliResult<OpenedCard> {
    let bytes = read_card_file(path)?;
    let header = in_file(path, quorum::read_card_header(&bytes))?;
    if header.token_serial != token.serial() {
        return fail(format!(
            "{}: card {} belongs to token {:?} (serial {}), not to token {:?} (serial {})",
            path.display(),
            header.card_number,
            header.token_label,
            header.token_serial,
            token.label(),
            token.serial()
        ));
    }
    let question = format!(
        "PIN for card {} of {} (token {:?})",
        header.card_number, header.count, header.token_label
    );
    let pin = secrets::from_file_or_prompt(pin_file, &question)?;
    in_file(path, quorum::open_card(&bytes, pin.expose()))
}

/// Opens the cards named on the command line, or asks for them on the terminal until the
/// token's threshold is reached.
pub fn collect_cards(token: &Token, access: &KeyAccess) -> CliResult<Vec<OpenedCard>> {
    let threshold = token.quorum().map_or(0, |q| q.threshold);
    if !access.cards.is_empty() {
        return access
            .cards
            .iter()
            .enumerate()
            .map(|(i, path)| {
                open_card_at(
                    token,
                    path,
                    access.card_pin_files.get(i).map(PathBuf::as_path),
                )
            })
            .collect();
    }
    if !std::io::stdin().is_terminal() {
        return fail(format!(
            "token {:?} needs a quorum of {threshold} cards: give --card CARD --card-pin-file F for each",
            token.label()
        ));
    }
    let mut cards = Vec::new();
    let stdin = std::io::stdin();
    while cards.len() < usize::from(threshold) {
        eprint!(
            "Officer {} of {threshold}: path of your card file: ",
            cards.len() + 1
        );
        std::io::stderr()
            .flush()
            .map_err(|e| CliError(e.to_string()))?;
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError(format!("cannot read the terminal: {e}")))?;
        let path = PathBuf::from(line.trim());
        match open_card_at(token, &path, None) {
            Ok(card) => cards.push(card),
            Err(e) => eprintln!("{e}; try again"),
        }
    }
    Ok(cards)
}

/// Activates a quorum token (no-op for PIN-only tokens), opens a read-write session and logs
/// the user in. Returns the session handle.
pub fn user_session(hsm: &Hsm, token: &Token, access: &KeyAccess) -> CliResult<u64> {
    let slot = token.slot_id();
    if token.quorum().is_some() && !token.is_activated() {
        let cards = collect_cards(token, access)?;
        hsm.activate(slot, &cards)?;
    }
    let session = hsm.open_session(slot, true)?;
    if token.login_state() != Some(UserType::User) {
        let pin = secrets::from_file_or_prompt(
            access.pin_file.as_deref(),
            &format!("User PIN of token {:?}", token.label()),
        )?;
        hsm.login(session, cryptoki_sys::CKU_USER, pin.expose())
            .map_err(|e| CliError(format!("user PIN of token {:?}: {e}", token.label())))?;
    }
    Ok(session)
}
