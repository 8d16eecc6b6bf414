//! Bundles in the order every check uses: sorted by expiration (stable, as kskm sorts them
//! on load), each with its 1-based number in that order.

use super::report::{BundleRef, Source};
use crate::ksr::Bundle;

/// A bundle and how the report names it.
#[derive(Debug)]
pub(crate) struct Numbered<'a> {
    pub at: BundleRef,
    pub bundle: &'a Bundle,
}

/// `bundles` sorted by expiration and numbered from 1.
pub(crate) fn numbered(bundles: &[Bundle], source: Source) -> Vec<Numbered<'_>> {
    let mut sorted: Vec<&Bundle> = bundles.iter().collect();
    sorted.sort_by_key(|b| b.expiration);
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, bundle)| Numbered {
            at: BundleRef {
                source,
                index: i + 1,
                id: bundle.id.clone(),
            },
            bundle,
        })
        .collect()
}
