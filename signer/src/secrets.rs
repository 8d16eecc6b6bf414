//! PINs and card PINs come from a file (scripts) or from the terminal (people), never from the
//! command line, where other users could read them.

use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hsm_core::secret::SecretBytes;

use crate::error::{CliResult, fail, in_file};

/// Reads a secret from a file: its first line, without the line ending.
pub fn from_file(path: &Path) -> CliResult<SecretBytes> {
    let bytes = in_file(path, std::fs::read(path))?;
    let mode = in_file(path, std::fs::metadata(path))?.permissions().mode();
    if mode & 0o077 != 0 {
        eprintln!(
            "warning: {} is readable by other users (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    let bytes = SecretBytes::new(bytes);
    let line = bytes.expose().split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return fail(format!(
            "{}: the file is empty; it should hold the PIN on its first line",
            path.display()
        ));
    }
    Ok(SecretBytes::from_slice(line))
}

/// Asks for a secret on the terminal, without echo.
pub fn prompt(question: &str) -> CliResult<SecretBytes> {
    if !std::io::stdin().is_terminal() {
        return fail(format!(
            "{question}: no terminal to ask on; give the secret in a file instead"
        ));
    }
    let answer = rpassword::prompt_password(format!("{question}: "))
        .map_err(|e| crate::error::CliError(format!("cannot read from the terminal: {e}")))?;
    if answer.is_empty() {
        return fail(format!("{question}: nothing entered"));
    }
    Ok(SecretBytes::new(answer.into_bytes()))
}

/// Asks twice for a new secret and insists both answers agree.
pub fn prompt_new(question: &str) -> CliResult<SecretBytes> {
    let first = prompt(question)?;
    let second = prompt(&format!("{question} (again)"))?;
    if first != second {
        return fail(format!("{question}: the two entries differ"));
    }
    Ok(first)
}

/// A secret from its file when one was given, else from the terminal.
pub fn from_file_or_prompt(path: Option<&Path>, question: &str) -> CliResult<SecretBytes> {
    match path {
        Some(path) => from_file(path),
        None => prompt(question),
    }
}

/// A new secret from its file when one was given, else asked twice on the terminal.
pub fn new_from_file_or_prompt(path: Option<&Path>, question: &str) -> CliResult<SecretBytes> {
    match path {
        Some(path) => from_file(path),
        None => prompt_new(question),
    }
}
