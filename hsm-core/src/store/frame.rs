//! The on-disk frame of every store file, so that torn or corrupted files are detected.
//!
//! Layout: magic (8 bytes, one per kind of file) | format version (u16 LE) | payload length
//! (u32 LE) | payload | SHA-256 of everything before it. The file size must match the length
//! exactly, so truncation and trailing garbage are caught as well as bit flips.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::StoreError;

/// The only format version this build writes and reads.
pub(crate) const VERSION: u16 = 1;

const MAGIC_LEN: usize = 8;
const HEADER_LEN: usize = MAGIC_LEN + 2 + 4;
const DIGEST_LEN: usize = 32;
/// Bytes a frame adds around its payload.
pub(crate) const OVERHEAD: usize = HEADER_LEN + DIGEST_LEN;

/// Which file a frame belongs to; distinct magics stop one file being read as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Meta,
    Object,
    Generation,
}

impl Kind {
    fn magic(self) -> &'static [u8; MAGIC_LEN] {
        match self {
            Kind::Meta => b"SRTKMETA",
            Kind::Object => b"SRTKOBJ\0",
            Kind::Generation => b"SRTKGEN\0",
        }
    }
}

/// Frames `payload`; `path` only names the destination in errors.
pub(crate) fn encode(kind: Kind, payload: &[u8], path: &Path) -> Result<Vec<u8>, StoreError> {
    let len = u32::try_from(payload.len()).map_err(|_| StoreError::TooLarge {
        path: path.to_path_buf(),
        len: payload.len(),
    })?;
    let mut out = Vec::with_capacity(payload.len() + OVERHEAD);
    out.extend_from_slice(kind.magic());
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    Ok(out)
}

/// Checks a frame read from `path` and returns its payload and the frame digest.
pub(crate) fn decode<'a>(
    kind: Kind,
    bytes: &'a [u8],
    path: &Path,
) -> Result<(&'a [u8], [u8; DIGEST_LEN]), StoreError> {
    let corrupt = |reason: &str| StoreError::corrupt(path, reason);
    if bytes.len() < OVERHEAD {
        return Err(corrupt("file too short for a frame (truncated?)"));
    }
    let (header, rest) = bytes.split_at(HEADER_LEN);
    if &header[..MAGIC_LEN] != kind.magic() {
        return Err(corrupt("wrong magic"));
    }
    let version = u16::from_le_bytes([header[MAGIC_LEN], header[MAGIC_LEN + 1]]);
    if version != VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[MAGIC_LEN + 2..HEADER_LEN]);
    let len = u32::from_le_bytes(len) as usize;
    if rest.len() != len + DIGEST_LEN {
        return Err(corrupt("length does not match the file size (truncated?)"));
    }
    let (payload, stored) = rest.split_at(len);
    let digest: [u8; DIGEST_LEN] = Sha256::digest(&bytes[..HEADER_LEN + len]).into();
    if digest[..] != stored[..] {
        return Err(corrupt("checksum mismatch"));
    }
    Ok((payload, digest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> &'static Path {
        Path::new("/x/test.obj")
    }

    #[test]
    fn round_trip_each_kind() {
        for kind in [Kind::Meta, Kind::Object, Kind::Generation] {
            for payload in [&b""[..], b"a", b"hello world"] {
                let framed = encode(kind, payload, p()).unwrap();
                assert_eq!(framed.len(), payload.len() + OVERHEAD);
                assert_eq!(decode(kind, &framed, p()).unwrap().0, payload);
            }
        }
    }

    #[test]
    fn kinds_are_not_interchangeable() {
        let framed = encode(Kind::Meta, b"x", p()).unwrap();
        assert!(matches!(
            decode(Kind::Object, &framed, p()),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn every_truncation_and_extension_is_detected() {
        let framed = encode(Kind::Object, b"payload!", p()).unwrap();
        for cut in 0..framed.len() {
            assert!(
                decode(Kind::Object, &framed[..cut], p()).is_err(),
                "cut {cut}"
            );
        }
        let mut longer = framed.clone();
        longer.push(0);
        assert!(decode(Kind::Object, &longer, p()).is_err());
    }

    #[test]
    fn every_single_byte_flip_is_detected() {
        let framed = encode(Kind::Object, b"payload!", p()).unwrap();
        for i in 0..framed.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = framed.clone();
                bad[i] ^= mask;
                assert!(
                    decode(Kind::Object, &bad, p()).is_err(),
                    "byte {i} ^ {mask:#x}"
                );
            }
        }
    }

    #[test]
    fn errors_name_the_path() {
        let err = decode(Kind::Meta, b"short", p()).unwrap_err();
        assert!(err.to_string().contains("/x/test.obj"), "{err}");
    }

    proptest! {
        #[test]
        fn round_trip_any(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
            let framed = encode(Kind::Meta, &payload, p()).unwrap();
            prop_assert_eq!(decode(Kind::Meta, &framed, p()).unwrap().0, &payload[..]);
        }
    }
}
