//! Small filesystem helpers: atomic replacement, directory fsync, restrictive permissions.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Prefix of temporary files and directories: readers ignore them, writers clean them up.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Token material is private to the owner.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Refuses to read files larger than any frame we could have written (a junk file must not
/// exhaust memory).
const MAX_FILE_LEN: u64 = u32::MAX as u64 + 64;

/// A random name with the given prefix, unique enough to never collide in one directory.
pub(crate) fn random_name(prefix: &str, near: &Path) -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::io(near, io::Error::other(format!("random name: {e}"))))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Creates one directory (not its parents) readable only by the owner.
pub(crate) fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .mode(DIR_MODE)
        .create(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => StoreError::AlreadyExists {
                path: path.to_path_buf(),
            },
            _ => StoreError::io(path, e),
        })
}

/// Creates a directory and its missing parents, readable only by the owner.
pub(crate) fn create_private_dir_all(path: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .mode(DIR_MODE)
        .recursive(true)
        .create(path)
        .map_err(|e| StoreError::io(path, e))
}

/// Makes a directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

/// Opens (creating if needed) a lock file; each call gives a new open file description so that
/// locks conflict between threads of one process as they do between processes.
pub(crate) fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| StoreError::io(path, e))
}

/// Writes a new file, durably, that must not exist yet.
pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

/// Replaces `dir/name` with `bytes` so that a crash leaves either the old or the new content:
/// temp file in the same directory, fsync, rename over the target, fsync the directory.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let target = dir.join(name);
    let temp = dir.join(random_name(TEMP_PREFIX, dir)?);
    let result = write_new_file(&temp, bytes)
        .and_then(|()| fs::rename(&temp, &target).map_err(|e| StoreError::io(&target, e)));
    if result.is_err() {
        // Best effort: a leftover temp file is harmless and cleaned by the next writer.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)?;
    Ok(target)
}

/// Reads a whole store file, refusing absurd sizes.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => StoreError::NotFound {
            path: path.to_path_buf(),
        },
        _ => StoreError::io(path, e),
    })?;
    let len = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
    if len > MAX_FILE_LEN {
        return Err(StoreError::corrupt(path, format!("file is {len} bytes")));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(path, e))?;
    Ok(bytes)
}

/// Lists the names of a directory's entries that are valid UTF-8 (others are never ours).
pub(crate) fn list_names(dir: &Path) -> Result<Vec<(String, fs::FileType)>, StoreError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let file_type = entry.file_type().map_err(|e| StoreError::io(dir, e))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push((name, file_type));
        }
    }
    Ok(names)
}

/// Removes a file or directory tree, ignoring one that is already gone.
pub(crate) fn remove_any(path: &Path, is_dir: bool) -> Result<(), StoreError> {
    let result = if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(path, e)),
    }
}
