//! The on-disk store: one directory per token.
//!
//! ```text
//! <dir>/token.meta   <dir>/generation   <dir>/lock   <dir>/objects/<id:016x>-<stamp:016x>.obj
//! ```
//! The stamp in an object's name is the generation of the transaction that wrote it, so every
//! rewrite gets a new name: change detection needs only a directory listing and cannot be
//! fooled by inode reuse or coarse timestamps. A rewrite renames the new version into place,
//! fsyncs, then unlinks the older one; if a crash leaves both, readers take the highest stamp
//! and the next writer deletes the rest. Temp files (`.tmp-*`) are likewise ignored by readers
//! and deleted by writers, who alone create them, under the exclusive lock.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::frame::{self, Kind};
use super::fsutil::{self, TEMP_PREFIX};
use super::{Changes, ObjectId, SeenState, Storage, StoreError, Transaction, Version, catch_up};

pub(crate) const META_FILE: &str = "token.meta";
pub(crate) const LOCK_FILE: &str = "lock";
const GENERATION_FILE: &str = "generation";
const OBJECTS_DIR: &str = "objects";
const OBJECT_SUFFIX: &str = ".obj";
/// The generation a new token starts at; `SeenState::default()` has none, so it loads all.
const FIRST_GENERATION: u64 = 1;
/// Object payload prefix: id and stamp, checked against the file name on read.
const OBJECT_PREFIX_LEN: usize = 16;

/// A token directory on disk. Cheap to hold: every operation opens what it needs, so separate
/// instances (or processes) on the same directory coordinate only through the lock file.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

fn object_name(id: ObjectId, stamp: u64) -> String {
    format!("{id:016x}-{stamp:016x}{OBJECT_SUFFIX}")
}

/// Parses only names we could have written (the exact canonical spelling), ignoring all else.
fn parse_object_name(name: &str) -> Option<(ObjectId, u64)> {
    let stem = name.strip_suffix(OBJECT_SUFFIX)?;
    let (id, stamp) = stem.split_once('-')?;
    let id = u64::from_str_radix(id, 16).ok()?;
    let stamp = u64::from_str_radix(stamp, 16).ok()?;
    (object_name(id, stamp) == name).then_some((id, stamp))
}

/// The generation file's payload: instance then generation, both u64 LE.
fn encode_version(version: Version, path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut payload = [0u8; 16];
    payload[..8].copy_from_slice(&version.instance.to_le_bytes());
    payload[8..].copy_from_slice(&version.generation.to_le_bytes());
    frame::encode(Kind::Generation, &payload, path)
}

/// What a directory listing of `objects/` found.
#[derive(Debug, Default)]
struct Listing {
    /// The newest version of each object.
    current: BTreeMap<ObjectId, u64>,
    /// Older versions left by a crash between rename and unlink, and temp files.
    leftovers: Vec<PathBuf>,
}

impl FileStore {
    /// Opens an existing token directory (it must contain the metadata file).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let meta = dir.join(META_FILE);
        match std::fs::symlink_metadata(&meta) {
            Ok(m) if m.is_file() => Ok(Self {
                dir: dir.to_path_buf(),
            }),
            Ok(_) => Err(StoreError::corrupt(&meta, "not a regular file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound { path: meta })
            }
            Err(e) => Err(StoreError::io(meta, e)),
        }
    }

    /// Creates a new token directory with its first metadata. It is built in a temp directory
    /// beside `dir` and renamed into place, so a half-created token never appears.
    /// Fails with [`StoreError::AlreadyExists`] if `dir` exists.
    pub fn create(dir: &Path, meta: &[u8]) -> Result<Self, StoreError> {
        let invalid = |reason| StoreError::InvalidPath {
            path: dir.to_path_buf(),
            reason,
        };
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| invalid("no UTF-8 final component"))?;
        if name.starts_with('.') {
            return Err(invalid(
                "names starting with '.' are reserved for temp files",
            ));
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if std::fs::symlink_metadata(dir).is_ok() {
            return Err(StoreError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        fsutil::create_private_dir_all(parent)?;
        let temp = parent.join(fsutil::random_name(TEMP_PREFIX, parent)?);
        fsutil::create_private_dir(&temp)?;
        let built = Self::populate(&temp, meta).and_then(|()| {
            std::fs::rename(&temp, dir).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty => {
                    StoreError::AlreadyExists {
                        path: dir.to_path_buf(),
                    }
                }
                _ => StoreError::io(dir, e),
            })
        });
        if let Err(e) = built {
            let _ = fsutil::remove_any(&temp, true);
            return Err(e);
        }
        fsutil::sync_dir(parent)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Writes the initial files of a token into a fresh directory, durably.
    fn populate(temp: &Path, meta: &[u8]) -> Result<(), StoreError> {
        fsutil::write_new_file(&temp.join(LOCK_FILE), b"")?;
        let objects = temp.join(OBJECTS_DIR);
        fsutil::create_private_dir(&objects)?;
        fsutil::sync_dir(&objects)?;
        let gen_path = temp.join(GENERATION_FILE);
        let mut instance = [0u8; 8];
        getrandom::fill(&mut instance).map_err(|e| {
            StoreError::io(
                &gen_path,
                std::io::Error::other(format!("random instance: {e}")),
            )
        })?;
        let version = Version {
            instance: u64::from_le_bytes(instance),
            generation: FIRST_GENERATION,
        };
        fsutil::write_new_file(&gen_path, &encode_version(version, &gen_path)?)?;
        let meta_path = temp.join(META_FILE);
        fsutil::write_new_file(&meta_path, &frame::encode(Kind::Meta, meta, &meta_path)?)?;
        fsutil::sync_dir(temp)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn objects_dir(&self) -> PathBuf {
        self.dir.join(OBJECTS_DIR)
    }

    /// Takes the token lock on a fresh file description (so threads exclude each other too).
    fn lock(&self, exclusive: bool) -> Result<File, StoreError> {
        let path = self.dir.join(LOCK_FILE);
        let file = fsutil::open_lock_file(&path)?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(|e| StoreError::io(&path, e))?;
        Ok(file)
    }

    fn read_version(&self) -> Result<Version, StoreError> {
        let path = self.dir.join(GENERATION_FILE);
        let bytes = fsutil::read_file(&path)?;
        let (payload, _) = frame::decode(Kind::Generation, &bytes, &path)?;
        if payload.len() != 16 {
            return Err(StoreError::corrupt(
                &path,
                "generation record is not 16 bytes",
            ));
        }
        let (mut instance, mut generation) = ([0u8; 8], [0u8; 8]);
        instance.copy_from_slice(&payload[..8]);
        generation.copy_from_slice(&payload[8..]);
        Ok(Version {
            instance: u64::from_le_bytes(instance),
            generation: u64::from_le_bytes(generation),
        })
    }

    /// Reads the metadata and the digest that identifies its content.
    fn read_meta(&self) -> Result<(Vec<u8>, [u8; 32]), StoreError> {
        let path = self.dir.join(META_FILE);
        let bytes = fsutil::read_file(&path)?;
        let (payload, digest) = frame::decode(Kind::Meta, &bytes, &path)?;
        Ok((payload.to_vec(), digest))
    }

    fn read_object(&self, id: ObjectId, stamp: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.objects_dir().join(object_name(id, stamp));
        let bytes = fsutil::read_file(&path)?;
        let (payload, _) = frame::decode(Kind::Object, &bytes, &path)?;
        if payload.len() < OBJECT_PREFIX_LEN
            || payload[..8] != id.to_le_bytes()
            || payload[8..OBJECT_PREFIX_LEN] != stamp.to_le_bytes()
        {
            return Err(StoreError::corrupt(
                &path,
                "content does not belong to this file name",
            ));
        }
        Ok(payload[OBJECT_PREFIX_LEN..].to_vec())
    }

    fn list_objects(&self) -> Result<Listing, StoreError> {
        let dir = self.objects_dir();
        let mut listing = Listing::default();
        let mut older = Vec::new();
        for (name, file_type) in fsutil::list_names(&dir)? {
            if fsutil::is_temp_name(&name) {
                listing.leftovers.push(dir.join(name));
            } else if let Some((id, stamp)) =
                parse_object_name(&name).filter(|_| file_type.is_file())
            {
                let newest = listing.current.entry(id).or_insert(stamp);
                if *newest != stamp {
                    older.push((id, stamp.min(*newest)));
                    *newest = stamp.max(*newest);
                }
            }
        }
        let objects_dir = &dir;
        listing.leftovers.extend(
            older
                .into_iter()
                .map(|(id, stamp)| objects_dir.join(object_name(id, stamp))),
        );
        Ok(listing)
    }

    /// Deletes temp files and superseded object versions; only a writer (exclusive lock) may.
    fn clean(&self, listing: &mut Listing) -> Result<(), StoreError> {
        let mut leftovers = std::mem::take(&mut listing.leftovers);
        let mut top_level = false;
        for (name, file_type) in fsutil::list_names(&self.dir)? {
            if fsutil::is_temp_name(&name) {
                top_level = true;
                fsutil::remove_any(&self.dir.join(name), file_type.is_dir())?;
            }
        }
        if top_level {
            fsutil::sync_dir(&self.dir)?;
        }
        if !leftovers.is_empty() {
            for path in leftovers.drain(..) {
                fsutil::remove_any(&path, false)?;
            }
            fsutil::sync_dir(&self.objects_dir())?;
        }
        Ok(())
    }
}

impl Storage for FileStore {
    fn refresh(&self, seen: &mut SeenState) -> Result<Option<Changes>, StoreError> {
        let _lock = self.lock(false)?;
        let version = self.read_version()?;
        if seen.is_current(version) {
            return Ok(None);
        }
        let listing = self.list_objects()?;
        catch_up(
            seen,
            version,
            self.read_meta()?,
            &listing.current,
            |id, stamp| self.read_object(id, stamp),
        )
    }

    fn begin(
        &self,
        seen: &mut SeenState,
    ) -> Result<(Box<dyn Transaction + '_>, Option<Changes>), StoreError> {
        let lock = self.lock(true)?;
        let version = self.read_version()?;
        let mut listing = self.list_objects()?;
        self.clean(&mut listing)?;
        let changes = if seen.is_current(version) {
            None
        } else {
            catch_up(
                seen,
                version,
                self.read_meta()?,
                &listing.current,
                |id, stamp| self.read_object(id, stamp),
            )?
        };
        let tx = FileTransaction {
            store: self,
            _lock: lock,
            version,
            bumped: false,
            objects: listing.current,
            unsynced_unlinks: false,
        };
        Ok((Box::new(tx), changes))
    }
}

/// A writer holding the token's exclusive lock until commit or drop.
#[derive(Debug)]
struct FileTransaction<'a> {
    store: &'a FileStore,
    /// Closing the file releases the lock.
    _lock: File,
    /// The current version; after `bump`, its generation stamps this transaction's writes.
    version: Version,
    bumped: bool,
    /// The current version of each object, as this transaction leaves it.
    objects: BTreeMap<ObjectId, u64>,
    /// Superseded versions were unlinked without a directory fsync (harmless if lost).
    unsynced_unlinks: bool,
}

impl FileTransaction<'_> {
    /// Durably bumps the generation before the first write, so that whatever happens next
    /// (even a crash) is seen as a change by every other process.
    fn bump(&mut self) -> Result<u64, StoreError> {
        if !self.bumped {
            let dir = &self.store.dir;
            let path = dir.join(GENERATION_FILE);
            let next =
                Version {
                    generation: self.version.generation.checked_add(1).ok_or_else(|| {
                        StoreError::corrupt(&path, "generation counter exhausted")
                    })?,
                    ..self.version
                };
            fsutil::write_atomic(dir, GENERATION_FILE, &encode_version(next, &path)?)?;
            self.version = next;
            self.bumped = true;
        }
        Ok(self.version.generation)
    }
}

impl Transaction for FileTransaction<'_> {
    fn write_meta(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.store.dir.join(META_FILE);
        let framed = frame::encode(Kind::Meta, bytes, &path)?;
        self.bump()?;
        fsutil::write_atomic(&self.store.dir, META_FILE, &framed)?;
        Ok(())
    }

    fn write_object(&mut self, id: ObjectId, bytes: &[u8]) -> Result<(), StoreError> {
        let objects_dir = self.store.objects_dir();
        let mut payload = Vec::with_capacity(OBJECT_PREFIX_LEN + bytes.len());
        payload.extend_from_slice(&id.to_le_bytes());
        let stamp = self.bump()?;
        payload.extend_from_slice(&stamp.to_le_bytes());
        payload.extend_from_slice(bytes);
        let name = object_name(id, stamp);
        let framed = frame::encode(Kind::Object, &payload, &objects_dir.join(&name))?;
        // The new version is durable before the old one goes, so a crash never loses both.
        fsutil::write_atomic(&objects_dir, &name, &framed)?;
        if let Some(old) = self.objects.insert(id, stamp).filter(|&old| old != stamp) {
            fsutil::remove_any(&objects_dir.join(object_name(id, old)), false)?;
            self.unsynced_unlinks = true;
        }
        Ok(())
    }

    fn remove_object(&mut self, id: ObjectId) -> Result<(), StoreError> {
        let objects_dir = self.store.objects_dir();
        let Some(&stamp) = self.objects.get(&id) else {
            return Err(StoreError::NotFound {
                path: objects_dir.join(format!("{id:016x}-*{OBJECT_SUFFIX}")),
            });
        };
        self.bump()?;
        fsutil::remove_any(&objects_dir.join(object_name(id, stamp)), false)?;
        self.objects.remove(&id);
        fsutil::sync_dir(&objects_dir)?;
        self.unsynced_unlinks = false;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        if self.unsynced_unlinks {
            fsutil::sync_dir(&self.store.objects_dir())?;
        }
        // Dropping `self` closes the lock file, which releases the lock.
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
