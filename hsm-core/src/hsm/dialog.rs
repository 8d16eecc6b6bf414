//! The protected authentication path: for a token configured for it, `C_Login` with a NULL
//! PIN runs the activation and login dialog on the controlling terminal, one officer at a
//! time, like an HSM's PIN pad. The dialog is a trait so that tests can script it.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use super::Hsm;
use crate::error::{Error, Result};
use crate::quorum::{self, OpenedCard};
use crate::secret::SecretBytes;
use crate::token::{Token, UserType};

/// The questions the dialog asks; answers are paths and secrets.
pub trait Dialog {
    /// The path of the next officer's card file.
    fn card_path(&mut self, officer: usize, threshold: u8) -> Result<PathBuf>;
    /// A secret (card PIN or user PIN), read without echo.
    fn secret(&mut self, question: &str) -> Result<SecretBytes>;
    /// Tells the person at the terminal what went wrong before asking again.
    fn tell(&mut self, message: &str);
}

/// The dialog on `/dev/tty`: it works even when the client's standard streams are not a
/// terminal (a daemon started from one, a test harness).
#[derive(Debug, Default)]
pub struct TerminalDialog;

fn tty_error(e: std::io::Error) -> Error {
    Error::Config(format!(
        "no terminal for the protected authentication path: {e}"
    ))
}

impl Dialog for TerminalDialog {
    fn card_path(&mut self, officer: usize, threshold: u8) -> Result<PathBuf> {
        let mut tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(tty_error)?;
        write!(
            tty,
            "Officer {officer} of {threshold}: path of your card file: "
        )
        .map_err(tty_error)?;
        let mut line = String::new();
        BufReader::new(tty)
            .read_line(&mut line)
            .map_err(tty_error)?;
        Ok(PathBuf::from(line.trim()))
    }

    fn secret(&mut self, question: &str) -> Result<SecretBytes> {
        let answer = rpassword::prompt_password(format!("{question}: ")).map_err(tty_error)?;
        Ok(SecretBytes::new(answer.into_bytes()))
    }

    fn tell(&mut self, message: &str) {
        if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
            let _ = writeln!(tty, "{message}");
        }
    }
}

/// Attempts per officer before the dialog gives up, so a wrong card cannot loop forever.
const TRIES: usize = 3;

fn open_card(
    dialog: &mut dyn Dialog,
    token: &Token,
    officer: usize,
    threshold: u8,
) -> Result<OpenedCard> {
    for _ in 0..TRIES {
        let path = dialog.card_path(officer, threshold)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                dialog.tell(&format!("{}: {e}", path.display()));
                continue;
            }
        };
        let card = quorum::read_card_header(&bytes).and_then(|header| {
            if header.token_serial == token.serial() {
                Ok(header)
            } else {
                Err(quorum::QuorumError::Malformed(format!(
                    "this card belongs to token {:?}",
                    header.token_label
                )))
            }
        });
        let header = match card {
            Ok(header) => header,
            Err(e) => {
                dialog.tell(&format!("{}: {e}", path.display()));
                continue;
            }
        };
        let pin = dialog.secret(&format!(
            "PIN of card {} of {}",
            header.card_number, header.count
        ))?;
        match quorum::open_card(&bytes, pin.expose()) {
            Ok(card) => return Ok(card),
            Err(e) => dialog.tell(&format!("{}: {e}", path.display())),
        }
    }
    Err(Error::PinIncorrect)
}

impl Hsm {
    /// True when the token in `slot` is configured for the protected authentication path.
    pub fn protected_path(&self, token: &Token) -> bool {
        self.config
            .protected_authentication_path
            .contains(&token.label())
    }

    /// `C_Login` with a NULL PIN on a protected-path token: collects the quorum (if the token
    /// is not activated yet) and the PIN through `dialog`, then logs in.
    pub fn login_with_dialog(
        &self,
        session: u64,
        user_type: cryptoki_sys::CK_USER_TYPE,
        dialog: &mut dyn Dialog,
    ) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        if !self.protected_path(&token) {
            return Err(Error::ArgumentsBad(
                "a NULL PIN needs a protected authentication path",
            ));
        }
        let user = match user_type {
            cryptoki_sys::CKU_SO => UserType::So,
            cryptoki_sys::CKU_USER => UserType::User,
            other => return Err(Error::UserTypeInvalid(other)),
        };
        if user == UserType::User
            && !token.is_activated()
            && let Some(record) = token.quorum()
        {
            let cards = (1..=usize::from(record.threshold))
                .map(|officer| open_card(dialog, &token, officer, record.threshold))
                .collect::<Result<Vec<_>>>()?;
            token.activate(&cards)?;
        }
        let role = if user == UserType::So { "SO" } else { "user" };
        let pin = dialog.secret(&format!("{role} PIN of token {:?}", token.label()))?;
        self.login(session, user_type, pin.expose())
    }
}
