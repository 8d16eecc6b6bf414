//! What a ceremony reads aloud: each file's name, SHA-256 in hex and in PGP words (even bytes
//! from the two-syllable list, odd bytes from the three-syllable one, as kskm prints them),
//! and the transcript that keeps everything shown.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{CliError, CliResult, in_file};

/// The SHA-256 of `bytes` as the ceremony reads it: hex, then the 32 PGP words.
pub fn digest_lines(role: &str, name: &Path, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!(
        "{role}: {}\n  SHA-256 {}\n  WORDS   {}\n",
        name.display(),
        hex::encode_upper(digest),
        pgp_words(&digest)
    )
}

/// The PGP words of `bytes`, space-separated.
pub fn pgp_words(bytes: &[u8]) -> String {
    pgp_words::to_words(bytes).join(" ")
}

/// Everything the operator is shown, kept to be written to the transcript file.
#[derive(Debug, Default)]
pub struct Transcript {
    text: String,
    file: Option<PathBuf>,
    /// The file, once claimed (created empty, so no later run can take the name).
    claimed: Option<std::fs::File>,
    /// Shown on stderr as it is made (not for the demo, which prints it whole at the end).
    echo: bool,
}

impl Transcript {
    /// A transcript written to `file` (when given) by [`Transcript::save`].
    pub fn new(file: Option<PathBuf>) -> Self {
        Self {
            text: String::new(),
            file,
            claimed: None,
            echo: true,
        }
    }

    /// Creates the transcript file now (refusing an existing one), so a ceremony never
    /// signs and then finds it cannot keep its record.
    pub fn claim(path: &Path, echo: bool) -> CliResult<Self> {
        let file = in_file(
            path,
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path),
        )
        .map_err(|e| CliError(format!("{e}; the transcript is never written over a file")))?;
        Ok(Self {
            text: String::new(),
            file: Some(path.to_path_buf()),
            claimed: Some(file),
            echo,
        })
    }

    /// A transcript that is only kept, not shown as it is made.
    pub fn quiet(file: Option<PathBuf>) -> Self {
        Self {
            text: String::new(),
            file,
            claimed: None,
            echo: false,
        }
    }

    /// Shows `text` on stderr now (the SKR may go to stdout) and keeps it.
    pub fn show(&mut self, text: &str) {
        if self.echo {
            eprint!("{text}");
        }
        self.text.push_str(text);
    }

    /// Keeps `text` without showing it (already printed by someone else).
    pub fn keep(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The transcript file's path, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Writes the transcript file, if one was asked for; refuses to overwrite one.
    pub fn save(&mut self) -> CliResult<()> {
        let Some(path) = self.file.clone() else {
            return Ok(());
        };
        let mut file = match self.claimed.take() {
            Some(file) => file,
            None => in_file(
                &path,
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path),
            )?,
        };
        in_file(&path, file.write_all(self.text.as_bytes()))?;
        in_file(&path, file.sync_all())
    }
}

/// Asks the exact confirmation the ceremony uses: only `Yes` proceeds.
pub fn confirm(transcript: &mut Transcript, question: &str) -> CliResult<()> {
    let prompt = format!("{question} Confirm with \"Yes\" (exactly) or anything else to abort: ");
    transcript.show(&prompt);
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError(format!("cannot read the confirmation: {e}")))?;
    let answer = answer.trim_end_matches(['\n', '\r']);
    transcript.keep(&format!("{answer}\n"));
    if answer == "Yes" {
        Ok(())
    } else {
        Err(CliError(format!(
            "aborted: the answer was {answer:?}, not \"Yes\""
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn words_alternate_between_the_two_lists() {
        // The crate writes the list in lower case (the official list capitalises proper
        // nouns); words are read aloud, so case carries nothing.
        assert_eq!(pgp_words(&[0x00, 0x00]), "aardvark adroitness");
        assert_eq!(pgp_words(&[0xff, 0xff]), "zulu yucatan");
        assert_eq!(pgp_words(&[0xe5, 0x82]), "topmost istanbul");
    }

    #[test]
    fn digest_lines_name_the_file_and_show_32_words() {
        let text = digest_lines("KSR", Path::new("ksr.xml"), b"abc");
        assert!(text.contains("KSR: ksr.xml"));
        assert!(
            text.contains(
                "SHA-256 BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
            )
        );
        let words = text.lines().last().unwrap();
        assert_eq!(words.split_whitespace().count(), 1 + 32);
    }
}
