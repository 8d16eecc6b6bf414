//! The in-memory view of a token: metadata, decoded objects, sealed records awaiting the TMK,
//! handles and the search index, kept in step with the store.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::entry::ObjectEntry;
use super::index::Index;
use super::meta::TokenMeta;
use super::{NEXT_HANDLE, UserType, record};
use crate::attr::Attributes;
use crate::error::{Error, Result};
use crate::quorum;
use crate::secret::Tmk;
use crate::store::{Changes, ObjectId, SeenState};

pub(super) struct TokenState {
    pub(super) seen: SeenState,
    pub(super) meta: TokenMeta,
    pub(super) objects: HashMap<ObjectId, Arc<ObjectEntry>>,
    /// Private token objects read while the TMK was absent, decoded once it arrives.
    pub(super) sealed: HashMap<ObjectId, Vec<u8>>,
    pub(super) handles: HashMap<u64, ObjectId>,
    /// Handles stay stable when an object is reloaded after another process changed it.
    pub(super) handle_of: HashMap<ObjectId, u64>,
    pub(super) index: Index,
    pub(super) tmk: Option<Tmk>,
    pub(super) login: Option<UserType>,
}

/// The sealed body of an encoded record, `None` for a record in the clear.
pub(super) fn sealed_body(id: ObjectId, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(match record::decode(id, bytes)? {
        record::Decoded::Sealed(body) => Some(body),
        record::Decoded::Clear(_) => None,
    })
}

impl TokenState {
    pub(super) fn apply(&mut self, changes: Changes) -> Result<()> {
        if let Some(bytes) = changes.meta {
            let meta = TokenMeta::decode(&bytes)?;
            if meta.kcv != self.meta.kcv {
                // Re-initialised elsewhere with a fresh master key: ours no longer fits.
                self.drop_tmk();
                self.login = None;
            }
            self.meta = meta;
        }
        for id in changes.removed {
            self.forget(id);
        }
        for (id, bytes) in changes.upserted {
            let handle = self.handle_of.get(&id).copied();
            self.forget(id);
            match record::decode(id, &bytes)? {
                record::Decoded::Clear(attrs) => {
                    let handle =
                        handle.unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
                    self.insert_with_handle(id, handle, attrs, None, None);
                }
                record::Decoded::Sealed(sealed) => match &self.tmk {
                    Some(tmk) => {
                        let attrs = record::unseal(&self.meta.serial, id, &sealed, tmk)?;
                        let handle =
                            handle.unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
                        self.insert_with_handle(id, handle, attrs, None, Some(sealed));
                    }
                    None => {
                        self.sealed.insert(id, sealed);
                    }
                },
            }
        }
        Ok(())
    }

    pub(super) fn set_tmk(&mut self, tmk: Tmk) -> Result<()> {
        if quorum::key_check_value(&tmk) != self.meta.kcv {
            return Err(Error::Quorum(quorum::QuorumError::KcvMismatch));
        }
        let sealed = std::mem::take(&mut self.sealed);
        for (id, bytes) in sealed {
            let attrs = record::unseal(&self.meta.serial, id, &bytes, &tmk)?;
            let handle = self
                .handle_of
                .get(&id)
                .copied()
                .unwrap_or_else(|| NEXT_HANDLE.fetch_add(1, Ordering::Relaxed));
            self.insert_with_handle(id, handle, attrs, None, Some(bytes));
        }
        self.tmk = Some(tmk);
        Ok(())
    }

    pub(super) fn drop_tmk(&mut self) {
        self.tmk = None;
        let sealed: Vec<(ObjectId, Vec<u8>)> = self
            .objects
            .values()
            .filter_map(|e| e.sealed_record.clone().map(|r| (e.id, r)))
            .collect();
        for (id, record) in sealed {
            let handle = self.handle_of.get(&id).copied();
            self.forget(id);
            if let Some(handle) = handle {
                self.handle_of.insert(id, handle);
            }
            self.sealed.insert(id, record);
        }
    }

    pub(super) fn insert(
        &mut self,
        id: ObjectId,
        attrs: Attributes,
        session: Option<u64>,
        sealed: Option<Vec<u8>>,
    ) -> u64 {
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.insert_with_handle(id, handle, attrs, session, sealed);
        handle
    }

    pub(super) fn insert_with_handle(
        &mut self,
        id: ObjectId,
        handle: u64,
        attrs: Attributes,
        session: Option<u64>,
        sealed: Option<Vec<u8>>,
    ) {
        self.index.insert(id, &attrs);
        self.handles.insert(handle, id);
        self.handle_of.insert(id, handle);
        self.objects.insert(
            id,
            Arc::new(ObjectEntry::new(id, handle, attrs, session, sealed)),
        );
    }

    /// Removes every trace of an object from memory (not from disk).
    pub(super) fn forget(&mut self, id: ObjectId) {
        self.sealed.remove(&id);
        if let Some(entry) = self.objects.remove(&id) {
            self.index.remove(id, &entry.attrs);
            self.handles.remove(&entry.handle);
        }
        self.handle_of.remove(&id);
    }
}
