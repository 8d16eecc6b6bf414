//! Trust anchors: a DNSKEY trusted as it is, or the DS digest of one (RFC 4034 §5, RFC 9718).

use domain::base::name::{Name, ToName};

use super::key::DnsKey;

/// A key the zone verifier starts a chain from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// This exact DNSKEY (flags included, so a revoked copy does not match) at `owner`.
    Key { owner: Name<Vec<u8>>, key: DnsKey },
    /// A DS: the key with this tag and algorithm whose digest over owner ‖ RDATA is `digest`.
    Ds {
        owner: Name<Vec<u8>>,
        key_tag: u16,
        algorithm: u8,
        digest_type: u8,
        digest: Vec<u8>,
    },
}

impl Anchor {
    /// A DNSKEY anchor for the root.
    pub fn root_key(key: DnsKey) -> Self {
        Anchor::Key {
            owner: Name::root_vec(),
            key,
        }
    }

    /// The zone the anchor is for.
    pub fn owner(&self) -> &Name<Vec<u8>> {
        match self {
            Anchor::Key { owner, .. } | Anchor::Ds { owner, .. } => owner,
        }
    }

    /// Whether `key`, published at `owner`, is this anchor. Owner names compare without
    /// regard to case; a DS with a digest type we cannot compute matches nothing.
    pub fn matches<N: ToName + ?Sized>(&self, owner: &N, key: &DnsKey) -> bool {
        if !self.owner().name_eq(owner) {
            return false;
        }
        match self {
            Anchor::Key { key: anchor, .. } => anchor == key,
            Anchor::Ds {
                key_tag,
                algorithm,
                digest_type,
                digest,
                ..
            } => {
                *key_tag == key.key_tag()
                    && *algorithm == key.algorithm
                    && key
                        .ds_digest(owner, *digest_type)
                        .is_ok_and(|d| d == *digest)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use std::str::FromStr;

    #[test]
    fn ds_and_key_anchors() {
        let key = DnsKey::new(257, 8, STANDARD.decode("AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=").unwrap()).unwrap();
        let root = Name::root_vec();
        let ds = Anchor::Ds {
            owner: root.clone(),
            key_tag: 20326,
            algorithm: 8,
            digest_type: 2,
            digest: hex::decode("E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D")
                .unwrap(),
        };
        assert!(ds.matches(&root, &key));
        assert!(!ds.matches(&root, &key.revoked()));
        let elsewhere = Name::<Vec<u8>>::from_str("example.").unwrap();
        assert!(!ds.matches(&elsewhere, &key));
        let exact = Anchor::root_key(key.clone());
        assert!(exact.matches(&root, &key));
        assert!(!exact.matches(&root, &key.revoked()));
    }
}
