//! The receiving end of `strongroom activate`: at `C_Initialize`, a module started under it
//! finds `STRONGROOM_ACTIVATION_FD` naming an inherited, sealed memfd holding
//! `serial hex(TMK)` lines, and activates those tokens. The descriptor is read with `pread`
//! and left open, so every process of the tree can do the same; it is checked to be the
//! memfd `strongroom activate` made before a byte is read, so an unrelated descriptor with a
//! reused number is never touched.
//!
//! Some servers close every inherited descriptor before they start a worker (`p11-kit
//! server` marks them close-on-exec). For them `STRONGROOM_ACTIVATION_PID` names the
//! `strongroom activate` process, which holds the memfd until its command ends: when that
//! process is an ancestor of this one, the module reopens the memfd through
//! `/proc/PID/fd/N`, which the kernel allows only to a process that may inspect it.

use std::io::Read;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::os::unix::fs::FileExt;

use hsm_core::Hsm;
use hsm_core::secret::{SecretBytes, Tmk};

use crate::log;

const ACTIVATION_FD_ENV: &str = "STRONGROOM_ACTIVATION_FD";
const ACTIVATION_PID_ENV: &str = "STRONGROOM_ACTIVATION_PID";
/// How far up the process tree the `strongroom activate` process may be.
const MAX_ANCESTRY: usize = 64;
const MEMFD_LINK_PREFIX: &str = "/memfd:strongroom-activation";
const HEADER: &str = "strongroom-activation-v1";
/// The hand-over is one line per token; anything larger is not ours.
const MAX_LEN: usize = 64 * 1024;

/// Activates the tokens handed over by `strongroom activate`, if this process runs under it.
pub fn activate_from_environment(hsm: &Hsm) {
    let Some(fd) = std::env::var(ACTIVATION_FD_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return;
    };
    let mut buffer = vec![0u8; MAX_LEN];
    let read = if is_handover(&format!("/proc/self/fd/{fd}")) {
        // SAFETY: the descriptor is open and is the memfd checked above; ManuallyDrop keeps
        // it open (it belongs to the process tree, not to us), and pread does not move its
        // offset.
        let file = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        file.read_at(&mut buffer, 0)
    } else if let Some(path) = ancestor_handover(fd) {
        std::fs::File::open(&path).and_then(|file| file.read_at(&mut buffer, 0))
    } else {
        log::error(&format!(
            "{ACTIVATION_FD_ENV}={fd} does not name the hand-over of strongroom activate, and no \
             ancestor named by {ACTIVATION_PID_ENV} holds it; ignored"
        ));
        return;
    };
    let len = match read {
        Ok(len) => len,
        Err(e) => {
            log::error(&format!("cannot read the activation hand-over: {e}"));
            return;
        }
    };
    buffer.truncate(len);
    let payload = SecretBytes::new(buffer);
    let mut text = String::new();
    if payload.expose().read_to_string(&mut text).is_err() {
        log::error("the activation hand-over is not text; ignored");
        return;
    }
    let text = zeroize::Zeroizing::new(text);
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        log::error("the activation hand-over has an unknown format; ignored");
        return;
    }
    for line in lines {
        let Some((serial, key)) = line.split_once(' ') else {
            continue;
        };
        let tmk = hex_key(key);
        match tmk.map(|tmk| hsm.activate_with_key(serial, tmk)) {
            Some(Ok(())) => log::info(&format!(
                "token with serial {serial} activated by strongroom activate"
            )),
            Some(Err(e)) => log::error(&format!(
                "token with serial {serial}: activation refused: {e}"
            )),
            None => log::error(&format!(
                "token with serial {serial}: malformed key in the hand-over"
            )),
        }
    }
}

/// True when `path` (a `/proc/*/fd/N` link) is the memfd `strongroom activate` made.
fn is_handover(path: &str) -> bool {
    std::fs::read_link(path).is_ok_and(|link| link.to_string_lossy().starts_with(MEMFD_LINK_PREFIX))
}

/// `/proc/PID/fd/N` of the `strongroom activate` process named by the environment, when it
/// is an ancestor of this process and still holds the hand-over.
fn ancestor_handover(fd: i32) -> Option<String> {
    let pid: u32 = std::env::var(ACTIVATION_PID_ENV).ok()?.parse().ok()?;
    let mut current = std::process::id();
    for _ in 0..MAX_ANCESTRY {
        current = parent_of(current)?;
        if current == pid {
            let path = format!("/proc/{pid}/fd/{fd}");
            return is_handover(&path).then_some(path);
        }
        if current <= 1 {
            return None;
        }
    }
    None
}

/// The parent PID from `/proc/PID/stat` (the field after the parenthesised command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn hex_key(text: &str) -> Option<Tmk> {
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, &mut *key).ok()?;
    Some(Tmk::new(*key))
}
