//! The per-bundle summary a ceremony reads out (kskm `common/display.py:
//! format_bundles_for_humans`), for a KSR, a previous SKR or the new SKR:
//!
//! ```text
//! #  Inception           Expiration           ZSK Tags      KSK Tag(CKA_LABEL)
//! 1  2010-04-01T00:00:00 2010-04-15T23:59:59  23763,55138   5017(KSK1)/S
//! 7  2010-05-31T00:00:00 2010-06-14T23:59:59  55138         55186(KSK2)/S,5145(KSK1)/RS
//! ```
//!
//! A KSK is `S` when it signs the bundle and `P` when only published; `R` in front marks it
//! revoked.

use std::fmt::Write as _;

use crate::dnssec::{FLAG_REVOKE, FLAG_SEP};
use crate::ksr::{Bundle, Timestamp};

use super::sorted_bundles;

/// One bundle, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    /// 1-based, after sorting by expiration.
    pub number: usize,
    pub inception: Timestamp,
    pub expiration: Timestamp,
    /// Tags of the keys without the SEP flag, in bundle order.
    pub zsk_tags: Vec<u16>,
    /// The KSKs (SEP flag set), in bundle order.
    pub ksks: Vec<KskUse>,
}

/// A KSK in a bundle and what it does there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KskUse {
    /// The tag as published (the revoked tag when revoked).
    pub tag: u16,
    /// The `keyIdentifier` (the HSM label).
    pub label: String,
    pub revoked: bool,
    /// A signature in the bundle names this key's identifier and tag.
    pub signs: bool,
}

impl KskUse {
    /// `R` if revoked, then `S` if it signs or `P` if only published.
    pub fn usage(&self) -> String {
        let mut usage = String::new();
        if self.revoked {
            usage.push('R');
        }
        usage.push(if self.signs { 'S' } else { 'P' });
        usage
    }
}

/// The rows of `bundles` (sorted by expiration, numbered from 1).
pub fn bundle_rows(bundles: &[Bundle]) -> Vec<BundleRow> {
    sorted_bundles(bundles)
        .into_iter()
        .enumerate()
        .map(|(i, b)| BundleRow {
            number: i + 1,
            inception: b.inception,
            expiration: b.expiration,
            zsk_tags: b
                .keys
                .iter()
                .filter(|k| k.flags & FLAG_SEP == 0)
                .map(|k| k.key_tag)
                .collect(),
            ksks: b
                .keys
                .iter()
                .filter(|k| k.flags & FLAG_SEP != 0)
                .map(|k| KskUse {
                    tag: k.key_tag,
                    label: k.key_identifier.clone(),
                    revoked: k.flags & FLAG_REVOKE != 0,
                    signs: b
                        .signatures
                        .iter()
                        .any(|s| s.key_identifier == k.key_identifier && s.key_tag == k.key_tag),
                })
                .collect(),
        })
        .collect()
}

/// The table as kskm prints it: a header line, then one line per bundle, times without zone.
pub fn format_bundle_table(rows: &[BundleRow]) -> String {
    let mut out = line(
        "#",
        "Inception",
        "Expiration",
        "ZSK Tags",
        "KSK Tag(CKA_LABEL)",
    );
    for row in rows {
        let zsks: Vec<String> = row.zsk_tags.iter().map(u16::to_string).collect();
        let ksks: Vec<String> = row
            .ksks
            .iter()
            .map(|k| format!("{}({})/{}", k.tag, k.label, k.usage()))
            .collect();
        out.push_str(&line(
            &row.number.to_string(),
            &plain_time(row.inception),
            &plain_time(row.expiration),
            &zsks.join(","),
            &ksks.join(","),
        ));
    }
    out
}

/// `{num:<2} {inception:19} {expiration:20} {zsk_tags:13} {ksk_tag}` (kskm's `_fmt_fields`).
fn line(num: &str, inception: &str, expiration: &str, zsks: &str, ksks: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{num:<2} {inception:19} {expiration:20} {zsks:13} {ksks}"
    );
    s
}

/// `2010-04-01T00:00:00`: kskm strips the `+00:00`.
fn plain_time(t: Timestamp) -> String {
    let full = t.to_xsd();
    full.strip_suffix("+00:00").unwrap_or(&full).to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn kskm_layout() {
        let t = |s: &str| Timestamp::parse_xsd(s).unwrap();
        let rows = [
            BundleRow {
                number: 1,
                inception: t("2020-04-01T00:00:00"),
                expiration: t("2020-04-22T00:00:00"),
                zsk_tags: vec![33853, 48903],
                ksks: vec![KskUse {
                    tag: 20326,
                    label: "Klajeyz".into(),
                    revoked: false,
                    signs: true,
                }],
            },
            BundleRow {
                number: 2,
                inception: t("2010-05-31T00:00:00"),
                expiration: t("2010-06-14T23:59:59"),
                zsk_tags: vec![55138],
                ksks: vec![
                    KskUse {
                        tag: 55186,
                        label: "KSK2".into(),
                        revoked: false,
                        signs: false,
                    },
                    KskUse {
                        tag: 5145,
                        label: "KSK1".into(),
                        revoked: true,
                        signs: true,
                    },
                ],
            },
        ];
        assert_eq!(
            format_bundle_table(&rows),
            "#  Inception           Expiration           ZSK Tags      KSK Tag(CKA_LABEL)\n\
             1  2020-04-01T00:00:00 2020-04-22T00:00:00  33853,48903   20326(Klajeyz)/S\n\
             2  2010-05-31T00:00:00 2010-06-14T23:59:59  55138         55186(KSK2)/P,5145(KSK1)/RS\n"
        );
    }
}
