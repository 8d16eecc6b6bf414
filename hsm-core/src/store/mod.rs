//! Durable storage of token directories: framing, atomic writes, locking and change detection.
//!
//! The store deals in opaque bytes; the token layer encodes (and seals) metadata and object
//! records. What the store guarantees:
//! - every file is framed (magic, format version, length, SHA-256), so a torn or corrupted file
//!   is reported as [`StoreError::Corrupt`], never silently accepted;
//! - every write is atomic (temp file, fsync, rename, fsync the directory), so a crash at any
//!   instant leaves the old or the new state;
//! - writers hold an exclusive advisory lock, readers a shared one, so concurrent processes lose
//!   nothing and never observe half a transaction;
//! - a generation counter lets a process skip reloading when nothing changed, and per-object
//!   version stamps let it reload only the objects that changed.
//!
//! [`FileStore`] is the real store; [`MemoryStore`] has the same semantics for unit tests.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

mod file;
mod frame;
mod fsutil;
mod memory;
mod root;

pub use file::FileStore;
pub use memory::MemoryStore;
pub use root::{RootLock, list_token_dirs, lock_root, remove_token_dir};

/// Identifies a token object; chosen by the token layer (random, non-zero).
pub type ObjectId = u64;

/// What a process last saw of a token, so that it reloads only what changed.
///
/// Start from `SeenState::default()`: the first refresh then returns everything.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeenState {
    /// Version seen last; `None` before the first load.
    version: Option<Version>,
    /// SHA-256 of the metadata seen last: metadata changes are detected by content.
    meta_digest: Option<[u8; 32]>,
    /// Version stamp of each object seen (the generation that wrote it).
    objects: BTreeMap<ObjectId, u64>,
}

impl SeenState {
    /// The generation last seen, `None` before the first load (for diagnostics and tests).
    pub fn generation(&self) -> Option<u64> {
        self.version.map(|v| v.generation)
    }

    fn is_current(&self, version: Version) -> bool {
        self.version == Some(version)
    }
}

/// Identifies a state of a token. The instance (random, fixed at creation) keeps a token
/// re-created at the same path from being mistaken for the old one at an equal generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    instance: u64,
    generation: u64,
}

/// Computes the changes from `seen` to the current state and brings `seen` up to date; reads
/// only the objects whose stamp differs. `seen` is untouched if a read fails.
fn catch_up(
    seen: &mut SeenState,
    version: Version,
    meta: (Vec<u8>, [u8; 32]),
    current: &BTreeMap<ObjectId, u64>,
    mut read_object: impl FnMut(ObjectId, u64) -> Result<Vec<u8>, StoreError>,
) -> Result<Option<Changes>, StoreError> {
    // What was seen of another instance of the token tells nothing about this one.
    let same_token = seen.version.map(|v| v.instance) == Some(version.instance);
    let known = |id: &ObjectId| seen.objects.get(id).filter(|_| same_token);
    let mut changes = Changes::default();
    let (meta, digest) = meta;
    if !same_token || seen.meta_digest != Some(digest) {
        changes.meta = Some(meta);
    }
    for (&id, &stamp) in current {
        if known(&id) != Some(&stamp) {
            changes.upserted.push((id, read_object(id, stamp)?));
        }
    }
    changes.removed = seen
        .objects
        .keys()
        .filter(|id| !current.contains_key(id))
        .copied()
        .collect();
    seen.version = Some(version);
    seen.meta_digest = Some(digest);
    seen.objects = current.clone();
    Ok(changes.into_option())
}

/// What changed since a [`SeenState`]; returned only when something did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The new metadata, if it changed (always present on the first load).
    pub meta: Option<Vec<u8>>,
    /// Objects created or rewritten, sorted by id.
    pub upserted: Vec<(ObjectId, Vec<u8>)>,
    /// Objects that disappeared, sorted by id.
    pub removed: Vec<ObjectId>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.meta.is_none() && self.upserted.is_empty() && self.removed.is_empty()
    }

    /// `None` when nothing changed, so callers have one case to skip.
    fn into_option(self) -> Option<Self> {
        if self.is_empty() { None } else { Some(self) }
    }
}

/// A token's persistent state, behind a trait so unit tests can run in memory.
///
/// Locks are not re-entrant: a thread holding a [`Transaction`] must not call `refresh` or
/// `begin` on the same token (it would wait for itself).
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Under a shared lock: returns `Ok(None)` at once if the generation equals `seen`'s (or if
    /// nothing else changed), otherwise what changed since `seen`, and brings `seen` up to date.
    /// On error `seen` is left untouched.
    fn refresh(&self, seen: &mut SeenState) -> Result<Option<Changes>, StoreError>;

    /// Takes the exclusive lock for a read-modify-write and first brings `seen` up to date,
    /// returning the changes so the caller applies them before deciding what to write.
    ///
    /// The transaction's own writes are not recorded in `seen`: the next refresh returns them
    /// (with the bytes just written), which is harmless when applying changes is idempotent.
    fn begin(
        &self,
        seen: &mut SeenState,
    ) -> Result<(Box<dyn Transaction + '_>, Option<Changes>), StoreError>;
}

/// A read-modify-write under the exclusive lock.
///
/// Each write is atomic and durable on its own when the call returns. The generation is bumped
/// once per transaction, durably *before* its first write, so no change can stay invisible even
/// if the process dies mid-transaction; readers never see a transaction half done because they
/// wait for the lock. Dropping without `commit` releases the lock and keeps what was written.
pub trait Transaction {
    /// Replaces the token metadata.
    fn write_meta(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Creates or replaces an object.
    fn write_object(&mut self, id: ObjectId, bytes: &[u8]) -> Result<(), StoreError>;
    /// Deletes an object; [`StoreError::NotFound`] if it does not exist.
    fn remove_object(&mut self, id: ObjectId) -> Result<(), StoreError>;
    /// Makes pending directory updates durable and releases the lock.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Everything the store can fail with; every variant names the path concerned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("corrupt store file {}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("store file {} has format version {version}, which this build does not support", path.display())]
    UnsupportedVersion { path: PathBuf, version: u16 },
    #[error("{} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("{} already exists", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("{len} bytes is too large to store in {}", path.display())]
    TooLarge { path: PathBuf, len: usize },
    #[error("invalid token directory {}: {reason}", path.display())]
    InvalidPath { path: PathBuf, reason: &'static str },
}

impl StoreError {
    fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn refresh(store: &dyn Storage, seen: &mut SeenState) -> Option<Changes> {
        store.refresh(seen).unwrap()
    }

    fn write(store: &dyn Storage, seen: &mut SeenState, id: ObjectId, bytes: &[u8]) {
        let (mut tx, _) = store.begin(seen).unwrap();
        tx.write_object(id, bytes).unwrap();
        tx.commit().unwrap();
    }

    /// The semantics both stores must share. `a` and `b` are two handles on the same token (two
    /// processes for the file store); the token was created with metadata `b"meta-0"`.
    fn exercise(a: &dyn Storage, b: &dyn Storage) {
        let mut seen_a = SeenState::default();
        let mut seen_b = SeenState::default();

        // First load: the metadata, no objects.
        let first = refresh(a, &mut seen_a).unwrap();
        assert_eq!(first.meta.as_deref(), Some(&b"meta-0"[..]));
        assert!(first.upserted.is_empty() && first.removed.is_empty());
        assert_eq!(refresh(a, &mut seen_a), None);
        assert!(refresh(b, &mut seen_b).is_some());

        // A transaction writes three objects; the other handle sees exactly them.
        let (mut tx, changes) = a.begin(&mut seen_a).unwrap();
        assert_eq!(changes, None);
        tx.write_object(1, b"one").unwrap();
        tx.write_object(2, b"two").unwrap();
        tx.write_object(3, b"three").unwrap();
        tx.write_object(3, b"THREE").unwrap();
        tx.commit().unwrap();
        let gen_before = seen_b.generation();
        let changes = refresh(b, &mut seen_b).unwrap();
        assert_eq!(changes.meta, None);
        assert_eq!(
            changes.upserted,
            vec![
                (1, b"one".to_vec()),
                (2, b"two".to_vec()),
                (3, b"THREE".to_vec())
            ]
        );
        assert!(changes.removed.is_empty());
        assert!(seen_b.generation() > gen_before);
        assert_eq!(refresh(b, &mut seen_b), None);

        // The writer sees its own writes once, then nothing.
        assert_eq!(refresh(a, &mut seen_a).unwrap().upserted.len(), 3);
        assert_eq!(refresh(a, &mut seen_a), None);

        // Changing one object reports only that object, even with identical length.
        write(b, &mut seen_b, 2, b"TWO");
        let changes = refresh(a, &mut seen_a).unwrap();
        assert_eq!(changes.upserted, vec![(2, b"TWO".to_vec())]);
        assert_eq!(changes.meta, None);
        assert!(changes.removed.is_empty());

        // Rewriting with the same bytes is still reported (it is a new version).
        write(b, &mut seen_b, 2, b"TWO");
        assert_eq!(
            refresh(a, &mut seen_a).unwrap().upserted,
            vec![(2, b"TWO".to_vec())]
        );

        // begin() returns pending changes before the caller decides.
        write(a, &mut seen_a, 4, b"four");
        let (mut tx, changes) = b.begin(&mut seen_b).unwrap();
        let changes = changes.unwrap();
        assert!(changes.upserted.contains(&(4, b"four".to_vec())));
        tx.remove_object(1).unwrap();
        assert!(matches!(
            tx.remove_object(99),
            Err(StoreError::NotFound { .. })
        ));
        tx.write_meta(b"meta-1").unwrap();
        tx.commit().unwrap();
        let changes = refresh(a, &mut seen_a).unwrap();
        assert_eq!(changes.meta.as_deref(), Some(&b"meta-1"[..]));
        assert_eq!(changes.removed, vec![1]);
        assert_eq!(
            changes.upserted,
            vec![(4, b"four".to_vec())],
            "own write comes back"
        );

        // Write then remove in one transaction: the object never appears.
        let (mut tx, _) = b.begin(&mut seen_b).unwrap();
        tx.write_object(5, b"five").unwrap();
        tx.remove_object(5).unwrap();
        tx.commit().unwrap();
        let changes = refresh(a, &mut seen_a);
        assert!(changes.is_none_or(|c| c.upserted.iter().all(|(id, _)| *id != 5)));

        // Dropping a transaction without commit keeps its writes and makes them visible.
        let (mut tx, _) = b.begin(&mut seen_b).unwrap();
        tx.write_object(6, b"six").unwrap();
        drop(tx);
        assert_eq!(
            refresh(a, &mut seen_a).unwrap().upserted,
            vec![(6, b"six".to_vec())]
        );

        // An empty transaction changes nothing.
        let (tx, _) = b.begin(&mut seen_b).unwrap();
        tx.commit().unwrap();
        assert_eq!(refresh(a, &mut seen_a), None);

        // A fresh reader sees the full current state.
        let mut fresh = SeenState::default();
        let all = refresh(a, &mut fresh).unwrap();
        assert_eq!(all.meta.as_deref(), Some(&b"meta-1"[..]));
        assert_eq!(
            all.upserted,
            vec![
                (2, b"TWO".to_vec()),
                (3, b"THREE".to_vec()),
                (4, b"four".to_vec()),
                (6, b"six".to_vec())
            ]
        );
        assert_eq!(fresh.generation(), seen_a.generation());
    }

    #[test]
    fn memory_store_semantics() {
        let store = MemoryStore::new(b"meta-0");
        exercise(&store, &store);
    }

    #[test]
    fn memory_stores_are_distinct_tokens() {
        let mut seen = SeenState::default();
        MemoryStore::new(b"m").refresh(&mut seen).unwrap();
        let changes = MemoryStore::new(b"m").refresh(&mut seen).unwrap().unwrap();
        assert_eq!(changes.meta.as_deref(), Some(&b"m"[..]));
    }

    #[test]
    fn file_store_semantics() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("token");
        let a = FileStore::create(&dir, b"meta-0").unwrap();
        let b = FileStore::open(&dir).unwrap();
        exercise(&a, &b);
    }

    #[test]
    fn errors_name_the_path() {
        let err =
            FileStore::open(std::path::Path::new("/nonexistent/strongroom-token")).unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        assert!(err.to_string().contains("/nonexistent/strongroom-token"));
    }
}
