//! The module's log: a level and a destination from the configuration, lines stamped with
//! the process id. Routine answers (an attribute a client probes for, a size query) are
//! debug lines; failures that need an operator are errors. No secret is ever passed here.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use cryptoki_sys as ck;
use hsm_core::Config;

use crate::error::ShimError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Error,
    Warning,
    Info,
    Debug,
}

struct Sink {
    level: Level,
    file: Option<std::fs::File>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    level: Level::Warning,
    file: None,
});

/// Applies the configuration's `[log]` section.
pub fn configure(config: &Config) {
    let level = match config.log.level.to_ascii_lowercase().as_str() {
        "error" => Level::Error,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => Level::Warning,
    };
    let file = config.log.file.as_ref().and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
    *sink = Sink { level, file };
}

fn write(level: Level, message: &str) {
    let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
    if level > sink.level {
        return;
    }
    let line = format!(
        "strongroom-pkcs11[{}] {level:?}: {message}\n",
        std::process::id()
    );
    let written = match sink.file.as_mut() {
        Some(file) => file.write_all(line.as_bytes()).is_ok(),
        None => false,
    };
    if !written {
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

pub fn error(message: &str) {
    write(Level::Error, message);
}

pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Logs a failed call at the level its return code deserves.
pub fn failure(function: &str, error: &ShimError) {
    if let ShimError::Core(hsm_core::Error::AwaitingQuorum { threshold }) = error {
        write(
            Level::Warning,
            &format!(
                "{function}: the token awaits its quorum: {threshold} crypto-officer cards must activate it first"
            ),
        );
        return;
    }
    let code = error.rv();
    let level = match code {
        ck::CKR_ATTRIBUTE_TYPE_INVALID
        | ck::CKR_ATTRIBUTE_SENSITIVE
        | ck::CKR_BUFFER_TOO_SMALL
        | ck::CKR_CRYPTOKI_ALREADY_INITIALIZED
        | ck::CKR_USER_ALREADY_LOGGED_IN
        | ck::CKR_FUNCTION_NOT_SUPPORTED
        | ck::CKR_MECHANISM_INVALID
        | ck::CKR_OPERATION_NOT_INITIALIZED
        | ck::CKR_SIGNATURE_INVALID
        | ck::CKR_USER_NOT_LOGGED_IN
        | ck::CKR_OBJECT_HANDLE_INVALID
        | ck::CKR_TOKEN_NOT_RECOGNIZED
        | ck::CKR_NO_EVENT => Level::Debug,
        ck::CKR_PIN_INCORRECT | ck::CKR_PIN_LEN_RANGE | ck::CKR_ARGUMENTS_BAD => Level::Info,
        ck::CKR_PIN_LOCKED => Level::Warning,
        _ => Level::Error,
    };
    let message = match error {
        ShimError::Core(e) => e.to_string(),
        ShimError::Rv(_) => String::new(),
    };
    write(level, &format!("{function} -> {code:#x} {message}"));
}
