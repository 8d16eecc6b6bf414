//! `strongroom card verify`: which token and card a file is, and whether it is intact.

use std::path::Path;

use hsm_core::Hsm;
use hsm_core::quorum;
use serde_json::json;

use super::Output;
use super::activation::read_card_file;
use crate::error::{CliResult, in_file};
use crate::secrets;

/// Reads a card's header (integrity-checked), finds its token, and — when a PIN is given or
/// can be asked for — opens it to prove the PIN and the sealed share.
pub fn verify(hsm: &Hsm, path: &Path, pin_file: Option<&Path>, ask_pin: bool) -> CliResult<Output> {
    let bytes = read_card_file(path)?;
    let header = in_file(path, quorum::read_card_header(&bytes))?;
    let token = hsm
        .tokens()?
        .into_iter()
        .find(|t| t.serial() == header.token_serial);
    let standing = match &token {
        None => "its token is not in this token directory".to_string(),
        Some(t) => match t.quorum() {
            Some(q) if q.generation == header.generation => format!(
                "current card of token {:?} in slot {}",
                t.label(),
                t.slot_id()
            ),
            Some(q) => format!(
                "SUPERSEDED: card set {} but token {:?} now uses card set {}",
                header.generation,
                t.label(),
                q.generation
            ),
            None => format!("token {:?} has no quorum any more", t.label()),
        },
    };
    let pin_checked = if pin_file.is_some() || ask_pin {
        let pin = secrets::from_file_or_prompt(
            pin_file,
            &format!("PIN for card {} of {}", header.card_number, header.count),
        )?;
        in_file(path, quorum::open_card(&bytes, pin.expose()))?;
        true
    } else {
        false
    };
    let integrity = if pin_checked {
        "intact; PIN correct"
    } else {
        "intact (checksum); PIN not checked"
    };
    let human = format!(
        "{}: card {} of {} (threshold {}) of token {:?} serial {}, card set {}\n  {integrity}\n  {standing}\n",
        path.display(),
        header.card_number,
        header.count,
        header.threshold,
        header.token_label,
        header.token_serial,
        header.generation,
    );
    let json = json!({
        "file": path.display().to_string(),
        "token_label": header.token_label,
        "token_serial": header.token_serial,
        "card": header.card_number,
        "count": header.count,
        "threshold": header.threshold,
        "generation": header.generation,
        "intact": true,
        "pin_checked": pin_checked,
        "standing": standing,
    });
    Ok(Output { human, json })
}
