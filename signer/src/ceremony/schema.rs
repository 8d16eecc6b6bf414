//! Schemas: which KSKs each bundle publishes, revokes and is signed by.
//!
//! The built-in schemas are IANA's (kskm `config/ksrsigner.yaml`, reference §4) over the keys
//! named `ksk_current` and `ksk_next`, one per phase of a KSK roll. kskm spells them out for
//! nine slots; here the first and last slot keep their role for any bundle count, so a
//! partial quarter (the six-bundle 2009 KSR) gets the same phase shape.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use super::config::ConfigError;
use super::keys::KskConfig;

/// The key a roll starts from.
pub const CURRENT: &str = "ksk_current";
/// The key a roll moves to.
pub const NEXT: &str = "ksk_next";

/// The built-in schema names, in roll order.
pub const BUILTIN: [&str; 7] = [
    "normal",
    "pre-publish",
    "rollover",
    "revoke",
    "publish+",
    "rollover+",
    "revoke+",
];

/// What one slot does: key names from `[keys]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotActions {
    /// Published with flags 257.
    pub publish: Vec<String>,
    /// Published with the REVOKE bit (flags 385), replacing any unrevoked copy.
    pub revoke: Vec<String>,
    /// Make an RRSIG over the bundle's DNSKEY RRset (published as 257 unless revoked).
    pub sign: Vec<String>,
}

/// A schema resolved for one KSR: `slots[i]` applies to bundle `i + 1` (after sorting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub name: String,
    /// Built in (not from `[schemas]`).
    pub builtin: bool,
    pub slots: Vec<SlotActions>,
}

impl Schema {
    /// Every key name the schema uses, each once, in first-use order.
    pub fn key_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for slot in &self.slots {
            for name in slot.publish.iter().chain(&slot.revoke).chain(&slot.sign) {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }
}

fn names(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

fn slot(publish: &[&str], revoke: &[&str], sign: &[&str]) -> SlotActions {
    SlotActions {
        publish: names(publish),
        revoke: names(revoke),
        sign: names(sign),
    }
}

/// The built-in schema `name` for `bundles` bundles, or `None` for another name.
///
/// | schema | slot 1 | middle slots | last slot |
/// |---|---|---|---|
/// | normal | P cur, S cur | same | same |
/// | pre-publish | P cur, S cur | P cur+next, S cur | P cur+next, S cur |
/// | rollover | P cur+next, S cur | P cur+next, S next | P cur+next, S next |
/// | revoke | P cur+next, S next | P next, R cur, S cur+next | P next, S next |
/// | publish+ | P cur+next, S cur | same | same |
/// | rollover+ | P cur+next, S next | same | same |
/// | revoke+ | P next, S next | P next, R cur, S cur+next | P next, S next |
pub fn builtin(name: &str, bundles: usize) -> Option<Schema> {
    let (cur, next) = (CURRENT, NEXT);
    let both = [cur, next];
    let revoking = slot(&[next], &[cur], &both);
    let (first, middle, last) = match name {
        "normal" => {
            let s = slot(&[cur], &[], &[cur]);
            (s.clone(), s.clone(), s)
        }
        "pre-publish" => {
            let s = slot(&both, &[], &[cur]);
            (slot(&[cur], &[], &[cur]), s.clone(), s)
        }
        "rollover" => {
            let s = slot(&both, &[], &[next]);
            (slot(&both, &[], &[cur]), s.clone(), s)
        }
        "revoke" => (
            slot(&both, &[], &[next]),
            revoking,
            slot(&[next], &[], &[next]),
        ),
        "publish+" => {
            let s = slot(&both, &[], &[cur]);
            (s.clone(), s.clone(), s)
        }
        "rollover+" => {
            let s = slot(&both, &[], &[next]);
            (s.clone(), s.clone(), s)
        }
        "revoke+" => {
            let s = slot(&[next], &[], &[next]);
            (s.clone(), revoking, s)
        }
        _ => return None,
    };
    let slots = (1..=bundles)
        .map(|n| match n {
            1 => first.clone(),
            n if n == bundles => last.clone(),
            _ => middle.clone(),
        })
        .collect();
    Some(Schema {
        name: name.to_owned(),
        builtin: true,
        slots,
    })
}

/// `[schemas.NAME.N]`: what slot N does. Each entry is one key name or a list of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotConfig {
    #[serde(default)]
    pub publish: KeyNames,
    #[serde(default)]
    pub revoke: KeyNames,
    #[serde(default)]
    pub sign: KeyNames,
}

/// A key name or a list of key names (kskm accepts both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyNames(pub Vec<String>);

impl<'de> Deserialize<'de> for KeyNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = KeyNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key name or a list of key names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyNames, E> {
                Ok(KeyNames(vec![v.to_owned()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(KeyNames(names))
            }
        }
        d.deserialize_any(Names)
    }
}

/// A schema from its `[schemas.NAME]` table: slots `1..=count`, all present.
pub(super) fn from_table(
    name: &str,
    slots: &BTreeMap<String, SlotConfig>,
    count: usize,
) -> Result<Schema, ConfigError> {
    let bad = |reason: String| ConfigError::Schema {
        schema: name.to_owned(),
        reason,
    };
    let mut by_number: BTreeMap<usize, SlotActions> = BTreeMap::new();
    for (key, slot) in slots {
        let number: usize = key
            .parse()
            .map_err(|_| bad(format!("slot {key:?} is not a bundle number 1-{count}")))?;
        if number == 0 || number > count {
            return Err(bad(format!(
                "slot {number} is beyond the {count} bundles of a KSR \
                 (request_policy.num_bundles)"
            )));
        }
        if by_number.contains_key(&number) {
            return Err(bad(format!("slot {number} is given twice")));
        }
        by_number.insert(
            number,
            SlotActions {
                publish: slot.publish.0.clone(),
                revoke: slot.revoke.0.clone(),
                sign: slot.sign.0.clone(),
            },
        );
    }
    let missing: Vec<String> = (1..=count)
        .filter(|n| !by_number.contains_key(n))
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "no slot {} (every bundle of the KSR needs one)",
            missing.join(", ")
        )));
    }
    Ok(Schema {
        name: name.to_owned(),
        builtin: false,
        slots: by_number.into_values().collect(),
    })
}

/// Every slot signs, names only configured keys, and names each key once per role.
pub(super) fn check_keys(
    schema: &Schema,
    keys: &BTreeMap<String, KskConfig>,
) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::Schema {
        schema: schema.name.clone(),
        reason,
    };
    for (i, slot) in schema.slots.iter().enumerate() {
        let number = i + 1;
        if slot.sign.is_empty() {
            return Err(bad(format!(
                "slot {number} has no signing key; every bundle must be signed"
            )));
        }
        for (role, names) in [
            ("publish", &slot.publish),
            ("revoke", &slot.revoke),
            ("sign", &slot.sign),
        ] {
            let mut seen = BTreeSet::new();
            for key in names {
                if !keys.contains_key(key) {
                    let known: Vec<&str> = keys.keys().map(String::as_str).collect();
                    let hint = if schema.builtin {
                        "; the built-in schemas use the keys ksk_current and ksk_next"
                    } else {
                        ""
                    };
                    return Err(bad(format!(
                        "slot {number} {role}: no key {key:?} in [keys] (configured: {}){hint}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
                if !seen.insert(key) {
                    return Err(bad(format!(
                        "slot {number} {role}: {key:?} is listed twice"
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// One letter per slot and role, e.g. `C` = current, `N` = next, `CN` = both.
    fn shape(schema: &Schema) -> Vec<String> {
        let abbrev = |keys: &[String]| -> String {
            keys.iter()
                .map(|k| if k == CURRENT { 'C' } else { 'N' })
                .collect()
        };
        schema
            .slots
            .iter()
            .map(|s| {
                format!(
                    "P{} R{} S{}",
                    abbrev(&s.publish),
                    abbrev(&s.revoke),
                    abbrev(&s.sign)
                )
            })
            .collect()
    }

    #[test]
    fn nine_slots_are_kskms_yaml() {
        let rows = |first: &str, middle: &str, last: &str| {
            let mut v = vec![first.to_owned()];
            v.extend(std::iter::repeat_n(middle.to_owned(), 7));
            v.push(last.to_owned());
            v
        };
        let expect = [
            ("normal", rows("PC R SC", "PC R SC", "PC R SC")),
            ("pre-publish", rows("PC R SC", "PCN R SC", "PCN R SC")),
            ("rollover", rows("PCN R SC", "PCN R SN", "PCN R SN")),
            ("revoke", rows("PCN R SN", "PN RC SCN", "PN R SN")),
            ("publish+", rows("PCN R SC", "PCN R SC", "PCN R SC")),
            ("rollover+", rows("PCN R SN", "PCN R SN", "PCN R SN")),
            ("revoke+", rows("PN R SN", "PN RC SCN", "PN R SN")),
        ];
        for (name, rows) in expect {
            let schema = builtin(name, 9).unwrap();
            assert!(schema.builtin);
            assert_eq!(shape(&schema), rows, "{name}");
        }
        assert_eq!(BUILTIN.len(), expect_len());
        assert!(builtin("nonesuch", 9).is_none());
    }

    fn expect_len() -> usize {
        BUILTIN.iter().filter(|n| builtin(n, 9).is_some()).count()
    }

    #[test]
    fn first_and_last_keep_their_role() {
        let revoke = builtin("revoke", 6).unwrap();
        assert_eq!(
            shape(&revoke),
            [
                "PCN R SN",
                "PN RC SCN",
                "PN RC SCN",
                "PN RC SCN",
                "PN RC SCN",
                "PN R SN"
            ]
        );
        assert_eq!(shape(&builtin("normal", 1).unwrap()), ["PC R SC"]);
        assert_eq!(revoke.key_names(), [CURRENT, NEXT]);
        assert_eq!(builtin("normal", 9).unwrap().key_names(), [CURRENT]);
    }
}
