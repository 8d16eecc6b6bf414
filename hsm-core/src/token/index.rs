//! An index over the attributes searches name most, so `C_FindObjectsInit` narrows to a few
//! candidates instead of testing every object.

use std::collections::{BTreeSet, HashMap};

use cryptoki_sys as ck;

use crate::attr::{AttrType, Attributes};
use crate::store::ObjectId;

/// Attribute types worth indexing: the ones DNSSEC tools and conformance suites search by.
const INDEXED: &[AttrType] = &[ck::CKA_CLASS, ck::CKA_LABEL, ck::CKA_ID, ck::CKA_KEY_TYPE];

#[derive(Debug, Default)]
pub struct Index {
    by_value: HashMap<(AttrType, Vec<u8>), BTreeSet<ObjectId>>,
    all: BTreeSet<ObjectId>,
}

impl Index {
    pub fn insert(&mut self, id: ObjectId, attrs: &Attributes) {
        self.all.insert(id);
        for ty in INDEXED {
            if let Some(value) = attrs.get(*ty) {
                self.by_value
                    .entry((*ty, value.to_vec()))
                    .or_default()
                    .insert(id);
            }
        }
    }

    pub fn remove(&mut self, id: ObjectId, attrs: &Attributes) {
        self.all.remove(&id);
        for ty in INDEXED {
            if let Some(value) = attrs.get(*ty) {
                let key = (*ty, value.to_vec());
                if let Some(set) = self.by_value.get_mut(&key) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_value.remove(&key);
                    }
                }
            }
        }
    }

    /// The smallest candidate set the template's indexed attributes allow; the caller still
    /// matches every candidate against the whole template.
    pub fn candidates(&self, template: &[(AttrType, Vec<u8>)]) -> Vec<ObjectId> {
        let mut best: Option<&BTreeSet<ObjectId>> = None;
        for (ty, value) in template {
            if !INDEXED.contains(ty) {
                continue;
            }
            match self.by_value.get(&(*ty, value.clone())) {
                None => return Vec::new(),
                Some(set) if best.is_none_or(|b| set.len() < b.len()) => best = Some(set),
                Some(_) => {}
            }
        }
        best.unwrap_or(&self.all).iter().copied().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn labelled(label: &[u8], class: ck::CK_OBJECT_CLASS) -> Attributes {
        let mut attrs = Attributes::new();
        attrs.set(ck::CKA_LABEL, label.to_vec());
        attrs.set_ulong(ck::CKA_CLASS, class);
        attrs
    }

    #[test]
    fn candidates_narrow_by_the_most_selective_indexed_attribute() {
        let mut index = Index::default();
        for id in 1..=100u64 {
            let label = format!("key-{id}");
            index.insert(id, &labelled(label.as_bytes(), ck::CKO_PRIVATE_KEY));
        }
        let template = vec![
            (ck::CKA_CLASS, ck::CKO_PRIVATE_KEY.to_ne_bytes().to_vec()),
            (ck::CKA_LABEL, b"key-42".to_vec()),
        ];
        assert_eq!(index.candidates(&template), vec![42]);
        assert!(
            index
                .candidates(&[(ck::CKA_LABEL, b"none".to_vec())])
                .is_empty()
        );
        assert_eq!(index.candidates(&[]).len(), 100);
        index.remove(42, &labelled(b"key-42", ck::CKO_PRIVATE_KEY));
        assert!(index.candidates(&template).is_empty());
    }
}
