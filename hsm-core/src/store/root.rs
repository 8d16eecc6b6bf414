//! Operations on the directory that holds all token directories.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::StoreError;
use super::file::{LOCK_FILE, META_FILE};
use super::fsutil::{self, TEMP_PREFIX};

const ROOT_LOCK_FILE: &str = ".root.lock";
/// Prefix of a token directory being deleted (renamed first, so deletion is atomic).
const TRASH_PREFIX: &str = ".trash-";
/// Temp and trash directories older than this were left by a crash: a live `create` or
/// `remove_token_dir` takes milliseconds.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// A root-wide exclusive lock held while slots and tokens are created, so that two processes
/// cannot take the same slot number. Released on drop.
#[derive(Debug)]
pub struct RootLock {
    /// Closing the file releases the lock.
    _file: File,
    root: PathBuf,
}

impl RootLock {
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Takes the root-wide lock, creating `root` (mode 0700) if needed, and removes temp and trash
/// directories that crashes left behind long ago.
pub fn lock_root(root: &Path) -> Result<RootLock, StoreError> {
    fsutil::create_private_dir_all(root)?;
    let path = root.join(ROOT_LOCK_FILE);
    let file = fsutil::open_lock_file(&path)?;
    file.lock().map_err(|e| StoreError::io(&path, e))?;
    remove_stale_leftovers(root)?;
    Ok(RootLock {
        _file: file,
        root: root.to_path_buf(),
    })
}

fn remove_stale_leftovers(root: &Path) -> Result<(), StoreError> {
    let now = SystemTime::now();
    for (name, file_type) in fsutil::list_names(root)? {
        if !(name.starts_with(TEMP_PREFIX) || name.starts_with(TRASH_PREFIX)) {
            continue;
        }
        let path = root.join(&name);
        let age = std::fs::symlink_metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        if age.is_some_and(|age| age > STALE_AFTER) {
            fsutil::remove_any(&path, file_type.is_dir())?;
        }
    }
    Ok(())
}

/// Lists the token directories under `root`, sorted: sub-directories holding a metadata file,
/// ignoring temp, trash and hidden entries, symlinks and anything else. A missing root holds no
/// tokens.
pub fn list_token_dirs(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let names = match fsutil::list_names(root) {
        Ok(names) => names,
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let mut dirs: Vec<PathBuf> = names
        .into_iter()
        .filter(|(name, file_type)| !name.starts_with('.') && file_type.is_dir())
        .map(|(name, _)| root.join(name))
        .filter(|dir| std::fs::symlink_metadata(dir.join(META_FILE)).is_ok_and(|m| m.is_file()))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Permanently deletes a token directory (when a token is re-created). It waits for the token's
/// writers, then renames the directory away in one step, so that no half-deleted token is ever
/// seen, and removes it. Refuses directories that are not tokens.
pub fn remove_token_dir(dir: &Path) -> Result<(), StoreError> {
    let meta = dir.join(META_FILE);
    if !std::fs::symlink_metadata(&meta).is_ok_and(|m| m.is_file()) {
        return Err(StoreError::NotFound { path: meta });
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let lock_path = dir.join(LOCK_FILE);
    let lock = fsutil::open_lock_file(&lock_path)?;
    lock.lock().map_err(|e| StoreError::io(&lock_path, e))?;
    let trash = parent.join(fsutil::random_name(TRASH_PREFIX, parent)?);
    std::fs::rename(dir, &trash).map_err(|e| StoreError::io(dir, e))?;
    fsutil::sync_dir(parent)?;
    fsutil::remove_any(&trash, true)?;
    drop(lock);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::{FileStore, SeenState, Storage};
    use std::fs;

    #[test]
    fn list_token_dirs_ignores_junk() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(
            list_token_dirs(&r.join("missing")).unwrap(),
            Vec::<PathBuf>::new()
        );
        FileStore::create(&r.join("b"), b"m").unwrap();
        FileStore::create(&r.join("a"), b"m").unwrap();
        // A half-built token, trash, a plain directory, a file, and a symlink to a token.
        fs::create_dir(r.join(".tmp-0011223344556677")).unwrap();
        fs::write(r.join(".tmp-0011223344556677").join(META_FILE), b"x").unwrap();
        fs::create_dir(r.join(".trash-0011223344556677")).unwrap();
        fs::write(r.join(".trash-0011223344556677").join(META_FILE), b"x").unwrap();
        fs::create_dir(r.join("empty")).unwrap();
        fs::write(r.join("file"), b"x").unwrap();
        std::os::unix::fs::symlink(r.join("a"), r.join("link")).unwrap();
        let _lock = lock_root(r).unwrap();
        assert_eq!(list_token_dirs(r).unwrap(), vec![r.join("a"), r.join("b")]);
        // Fresh leftovers may belong to a live operation: they stay.
        assert!(r.join(".tmp-0011223344556677").exists());
    }

    #[test]
    fn root_lock_excludes_other_holders() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().join("new-root");
        let lock = lock_root(&r).unwrap();
        assert_eq!(lock.root(), r);
        let other = File::open(r.join(ROOT_LOCK_FILE)).unwrap();
        assert!(other.try_lock().is_err());
        drop(lock);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn remove_token_dir_deletes_only_tokens() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let store = FileStore::create(&r.join("tok"), b"m").unwrap();
        let (mut tx, _) = store.begin(&mut SeenState::default()).unwrap();
        tx.write_object(7, b"old").unwrap();
        tx.write_object(8, b"old").unwrap();
        tx.commit().unwrap();
        let mut seen = SeenState::default();
        store.refresh(&mut seen).unwrap();
        fs::create_dir(r.join("plain")).unwrap();
        assert!(matches!(
            remove_token_dir(&r.join("plain")),
            Err(StoreError::NotFound { .. })
        ));
        assert!(r.join("plain").exists());
        remove_token_dir(&r.join("tok")).unwrap();
        assert!(store.refresh(&mut SeenState::default()).is_err());
        let mut left: Vec<_> = fs::read_dir(r)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["plain"]);
        // The name is free again for a re-created token, which is not mistaken for the old one
        // although it reaches the same generation and reuses an object id.
        let store = FileStore::create(&r.join("tok"), b"m2").unwrap();
        let (mut tx, _) = store.begin(&mut SeenState::default()).unwrap();
        tx.write_object(7, b"new").unwrap();
        tx.commit().unwrap();
        let generation = seen.generation();
        let changes = store.refresh(&mut seen).unwrap().unwrap();
        assert_eq!(seen.generation(), generation);
        assert_eq!(changes.meta.as_deref(), Some(&b"m2"[..]));
        assert_eq!(changes.upserted, vec![(7, b"new".to_vec())]);
        assert_eq!(changes.removed, vec![8]);
    }
}
