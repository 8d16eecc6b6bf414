//! Token objects on disk: a versioned record whose attributes are sealed under the TMK when
//! the object is private or holds key material, bound to the token serial and object id.

use serde::{Deserialize, Serialize};

use crate::aead;
use crate::attr::Attributes;
use crate::error::{Error, Result};
use crate::object::needs_sealing;
use crate::secret::Tmk;
use crate::store::ObjectId;

/// Format version of object records.
pub const RECORD_FORMAT: u16 = 1;

#[derive(Serialize, Deserialize)]
struct ObjectRecord {
    format: u16,
    id: ObjectId,
    body: Body,
}

#[derive(Serialize, Deserialize)]
enum Body {
    /// A public object: its attributes in the clear.
    Clear(Attributes),
    /// `nonce || ciphertext || tag` of the postcard-encoded attributes.
    Sealed(Vec<u8>),
}

/// A record as read from disk: either usable now or waiting for the TMK.
#[derive(Debug)]
pub enum Decoded {
    Clear(Attributes),
    Sealed(Vec<u8>),
}

fn aad(serial: &str, id: ObjectId) -> Vec<u8> {
    let mut aad = format!("strongroom-object-v1\0{serial}\0").into_bytes();
    aad.extend_from_slice(&id.to_be_bytes());
    aad
}

/// Encodes an object for the store, sealing it when it must be.
pub fn encode(
    serial: &str,
    id: ObjectId,
    attrs: &Attributes,
    tmk: Option<&Tmk>,
) -> Result<Vec<u8>> {
    let body = if needs_sealing(attrs) {
        let tmk = tmk.ok_or(Error::UserNotLoggedIn)?;
        let mut plain = zeroize::Zeroizing::new(
            postcard::to_allocvec(attrs)
                .map_err(|e| Error::Corrupt(format!("cannot encode object: {e}")))?,
        );
        let sealed = aead::seal(tmk, &aad(serial, id), &plain)
            .map_err(|e| Error::Corrupt(format!("cannot seal object: {e}")))?;
        zeroize::Zeroize::zeroize(&mut *plain);
        Body::Sealed(sealed)
    } else {
        Body::Clear(attrs.clone())
    };
    postcard::to_allocvec(&ObjectRecord {
        format: RECORD_FORMAT,
        id,
        body,
    })
    .map_err(|e| Error::Corrupt(format!("cannot encode object record: {e}")))
}

/// Decodes a record, checking it belongs where it was found.
pub fn decode(id: ObjectId, bytes: &[u8]) -> Result<Decoded> {
    let record: ObjectRecord = postcard::from_bytes(bytes)
        .map_err(|e| Error::Corrupt(format!("object {id:016x} does not decode: {e}")))?;
    if record.format != RECORD_FORMAT {
        return Err(Error::Corrupt(format!(
            "object {id:016x} has record format {}, expected {RECORD_FORMAT}",
            record.format
        )));
    }
    if record.id != id {
        return Err(Error::Corrupt(format!(
            "object file {id:016x} holds object {:016x}",
            record.id
        )));
    }
    Ok(match record.body {
        Body::Clear(attrs) => Decoded::Clear(attrs),
        Body::Sealed(sealed) => Decoded::Sealed(sealed),
    })
}

/// Opens a sealed record with the TMK; any failure means the file was tampered with or
/// belongs to another token or object.
pub fn unseal(serial: &str, id: ObjectId, sealed: &[u8], tmk: &Tmk) -> Result<Attributes> {
    let plain = aead::open(tmk, &aad(serial, id), sealed).map_err(|_| {
        Error::Corrupt(format!(
            "object {id:016x} fails authentication under this token's master key (tampered, or moved from another token or object)"
        ))
    })?;
    postcard::from_bytes(plain.expose()).map_err(|e| {
        Error::Corrupt(format!(
            "object {id:016x} decrypts but does not decode: {e}"
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use cryptoki_sys as ck;

    fn private_key_attrs() -> Attributes {
        let mut attrs = Attributes::new();
        attrs.set_ulong(ck::CKA_CLASS, ck::CKO_PRIVATE_KEY);
        attrs.set_bool(ck::CKA_PRIVATE, true);
        attrs.set(ck::CKA_PRIVATE_EXPONENT, b"very-secret-exponent".to_vec());
        attrs
    }

    #[test]
    fn private_objects_are_sealed_and_bound_to_serial_and_id() {
        let tmk = Tmk::random().unwrap();
        let attrs = private_key_attrs();
        let bytes = encode("serial-a", 7, &attrs, Some(&tmk)).unwrap();
        assert!(!bytes.windows(20).any(|w| w == b"very-secret-exponent"));
        let Decoded::Sealed(sealed) = decode(7, &bytes).unwrap() else {
            panic!("not sealed")
        };
        assert_eq!(unseal("serial-a", 7, &sealed, &tmk).unwrap(), attrs);
        assert!(
            unseal("serial-b", 7, &sealed, &tmk).is_err(),
            "moved to another token"
        );
        assert!(
            unseal("serial-a", 8, &sealed, &tmk).is_err(),
            "moved to another object"
        );
        assert!(unseal("serial-a", 7, &sealed, &Tmk::random().unwrap()).is_err());
        assert!(
            decode(8, &bytes).is_err(),
            "file name and record id disagree"
        );
    }

    #[test]
    fn sealing_without_the_tmk_is_refused() {
        assert!(matches!(
            encode("s", 1, &private_key_attrs(), None),
            Err(Error::UserNotLoggedIn)
        ));
    }
}
