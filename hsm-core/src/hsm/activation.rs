//! Activation channels that need no terminal: unattended card lists from the configuration,
//! and a TMK handed over by `strongroom activate` (preload).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::Hsm;
use crate::config::Unattended;
use crate::error::{Error, Result};
use crate::quorum::{self, OpenedCard};
use crate::secret::{SecretBytes, Tmk};
use crate::token::Token;

/// Largest card or PIN file read: both are a few hundred bytes.
const MAX_FILE: u64 = 64 * 1024;

/// Reads a small file, refusing one that is implausibly large.
fn read_small(path: &Path) -> Result<Vec<u8>> {
    let metadata =
        std::fs::metadata(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    if metadata.len() > MAX_FILE {
        return Err(Error::Config(format!(
            "{}: too large for a card or PIN file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// Reads a PIN file: its first line. Refused unless only its owner can read it.
fn read_pin_file(path: &Path) -> Result<SecretBytes> {
    let metadata =
        std::fs::metadata(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{}: PIN file has mode {:o}; unattended activation needs 0600 (owner only)",
            path.display(),
            mode & 0o777
        )));
    }
    let bytes = SecretBytes::new(read_small(path)?);
    let line = bytes.expose().split(|b| *b == b'\n').next().unwrap_or(&[]);
    Ok(SecretBytes::from_slice(
        line.strip_suffix(b"\r").unwrap_or(line),
    ))
}

fn open_cards(entry: &Unattended) -> Result<Vec<OpenedCard>> {
    entry
        .cards
        .iter()
        .map(|source| {
            let pin = read_pin_file(&source.pin_file)?;
            let card = read_small(&source.card)?;
            quorum::open_card(&card, pin.expose())
                .map_err(|e| Error::Config(format!("{}: {e}", source.card.display())))
        })
        .collect()
}

impl Hsm {
    /// Activates a quorum token from the configuration's unattended card list, if it has one.
    /// Returns whether the token is activated afterwards.
    pub(super) fn activate_unattended(&self, token: &Token) -> Result<bool> {
        if token.is_activated() || token.quorum().is_none() {
            return Ok(token.is_activated());
        }
        let label = token.label();
        let Some(entry) = self.config.unattended.iter().find(|u| u.token == label) else {
            return Ok(false);
        };
        token.activate(&open_cards(entry)?)?;
        Ok(true)
    }

    /// Activates the token with this serial with a TMK handed over by `strongroom activate`;
    /// the key-check value decides whether it is the right key.
    pub fn activate_with_key(&self, serial: &str, tmk: Tmk) -> Result<()> {
        let token = self
            .tokens()?
            .into_iter()
            .find(|t| t.serial() == serial)
            .ok_or_else(|| Error::TokenNotFound(format!("serial {serial}")))?;
        token.activate_with_key(tmk)
    }
}
