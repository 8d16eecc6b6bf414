//! `strongroom activate --token LABEL [--card ...] -- COMMAND ARGS...`: collects the quorum,
//! then runs COMMAND with the activation handed over an inherited, sealed in-memory file
//! (memfd). The module inside that process tree reads it at `C_Initialize`; nothing touches
//! disk, and the activation ends when the last process holding the descriptor exits.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::Command;

use hsm_core::Hsm;
use hsm_core::quorum;
use rustix::fs::{MemfdFlags, SealFlags};
use zeroize::Zeroizing;

use super::activation::{KeyAccess, collect_cards};
use crate::error::{CliError, CliResult, fail};

/// The environment variable naming the descriptor; the module's reader matches these names.
pub const ACTIVATION_FD_ENV: &str = "STRONGROOM_ACTIVATION_FD";
/// This process's PID: servers that close inherited descriptors before starting a worker
/// (`p11-kit server`) leave the worker this way to the hand-over, which this process holds.
pub const ACTIVATION_PID_ENV: &str = "STRONGROOM_ACTIVATION_PID";
/// The memfd's name, which the module checks before reading the descriptor.
pub const ACTIVATION_MEMFD_NAME: &str = "strongroom-activation";
/// First line of the hand-over, naming its format.
pub const ACTIVATION_HEADER: &str = "strongroom-activation-v1";

/// Activates `token_label` with a quorum of cards and runs `command` with the activation;
/// returns the command's exit code.
pub fn run(
    hsm: &Hsm,
    token_label: &str,
    access: &KeyAccess,
    command: &[OsString],
) -> CliResult<i32> {
    let Some((program, args)) = command.split_first() else {
        return fail(
            "no command given: strongroom activate --token LABEL [--card ...] -- COMMAND ARGS...",
        );
    };
    let token = hsm.token_by_label(token_label)?;
    let record = token.quorum().ok_or_else(|| {
        CliError(format!(
            "token {token_label:?} has no quorum: its user PIN activates it, no cards needed"
        ))
    })?;
    let cards = collect_cards(&token, access)?;
    let tmk = quorum::reconstruct(&token.serial(), &record, &cards)?;

    let memfd = rustix::fs::memfd_create(ACTIVATION_MEMFD_NAME, MemfdFlags::ALLOW_SEALING)
        .map_err(|e| CliError(format!("cannot create the in-memory hand-over: {e}")))?;
    let payload = Zeroizing::new(format!(
        "{ACTIVATION_HEADER}\n{} {}\n",
        token.serial(),
        hex::encode(tmk.expose())
    ));
    let mut file = std::fs::File::from(memfd);
    file.write_all(payload.as_bytes())
        .map_err(|e| CliError(format!("cannot write the hand-over: {e}")))?;
    // Sealed, so no process of the tree can alter what the others will read.
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )
    .map_err(|e| CliError(format!("cannot seal the hand-over: {e}")))?;
    eprintln!(
        "strongroom: token {token_label:?} activated by {} cards for: {}",
        cards.len(),
        command
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let status = Command::new(program)
        .args(args)
        .env(ACTIVATION_FD_ENV, file.as_raw_fd().to_string())
        .env(ACTIVATION_PID_ENV, std::process::id().to_string())
        .status()
        .map_err(|e| CliError(format!("cannot run {}: {e}", program.to_string_lossy())))?;
    drop(file);
    Ok(status.code().unwrap_or(1))
}
