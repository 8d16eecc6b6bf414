//! An in-process store with the file store's semantics, for unit tests of the token layer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};

use sha2::{Digest, Sha256};

use super::{Changes, ObjectId, SeenState, Storage, StoreError, Transaction, Version, catch_up};

/// Gives each MemoryStore its own instance, as each created token directory has one.
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

/// Holds one token in memory; the lock plays the part of the file store's lock file.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug)]
struct State {
    version: Version,
    meta: Vec<u8>,
    meta_digest: [u8; 32],
    /// Each object with its stamp (the generation that wrote it), as on disk.
    objects: BTreeMap<ObjectId, (u64, Vec<u8>)>,
}

impl State {
    fn catch_up(&self, seen: &mut SeenState) -> Result<Option<Changes>, StoreError> {
        if seen.is_current(self.version) {
            return Ok(None);
        }
        let stamps = self
            .objects
            .iter()
            .map(|(&id, &(stamp, _))| (id, stamp))
            .collect();
        let meta = (self.meta.clone(), self.meta_digest);
        catch_up(seen, self.version, meta, &stamps, |id, _| {
            Ok(self
                .objects
                .get(&id)
                .map(|(_, bytes)| bytes.clone())
                .unwrap_or_default())
        })
    }
}

impl MemoryStore {
    /// A new token holding `meta` and no objects.
    pub fn new(meta: &[u8]) -> Self {
        Self {
            state: RwLock::new(State {
                version: Version {
                    instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
                    generation: 1,
                },
                meta: meta.to_vec(),
                meta_digest: Sha256::digest(meta).into(),
                objects: BTreeMap::new(),
            }),
        }
    }
}

impl Storage for MemoryStore {
    fn refresh(&self, seen: &mut SeenState) -> Result<Option<Changes>, StoreError> {
        // Every mutation completes before its guard drops, so a poisoned state is consistent.
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.catch_up(seen)
    }

    fn begin(
        &self,
        seen: &mut SeenState,
    ) -> Result<(Box<dyn Transaction + '_>, Option<Changes>), StoreError> {
        let state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let changes = state.catch_up(seen)?;
        let tx = MemoryTransaction {
            state,
            bumped: false,
        };
        Ok((Box::new(tx), changes))
    }
}

#[derive(Debug)]
struct MemoryTransaction<'a> {
    state: RwLockWriteGuard<'a, State>,
    bumped: bool,
}

impl MemoryTransaction<'_> {
    /// Bumps the generation once, before the first write, as the file store does.
    fn bump(&mut self) -> u64 {
        if !self.bumped {
            self.state.version.generation += 1;
            self.bumped = true;
        }
        self.state.version.generation
    }
}

impl Transaction for MemoryTransaction<'_> {
    fn write_meta(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.bump();
        self.state.meta = bytes.to_vec();
        self.state.meta_digest = Sha256::digest(bytes).into();
        Ok(())
    }

    fn write_object(&mut self, id: ObjectId, bytes: &[u8]) -> Result<(), StoreError> {
        let stamp = self.bump();
        self.state.objects.insert(id, (stamp, bytes.to_vec()));
        Ok(())
    }

    fn remove_object(&mut self, id: ObjectId) -> Result<(), StoreError> {
        if !self.state.objects.contains_key(&id) {
            return Err(StoreError::NotFound {
                path: format!("memory:object/{id:016x}").into(),
            });
        }
        self.bump();
        self.state.objects.remove(&id);
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}
