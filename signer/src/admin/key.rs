//! `strongroom key generate|import|list`.

use std::path::Path;

use cryptoki_sys as ck;
use hsm_core::Hsm;
use hsm_core::attr::{Attributes, Template, ulong_bytes};
use hsm_core::crypto::{self, Curve, PublicKeyMaterial};
use hsm_core::keys;
use hsm_core::mechanism::{Mechanism, RSA_KEY_BITS};
use hsm_core::token::Token;
use serde_json::json;
use zeroize::Zeroize;

use super::Output;
use super::activation::{KeyAccess, user_session};
use crate::error::{CliResult, fail, in_file};

/// The algorithms `key generate --algorithm` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Rsa2048,
    Rsa4096,
    P256,
    P384,
    Ed25519,
}

impl Algorithm {
    pub fn parse(name: &str) -> CliResult<Self> {
        Ok(match name {
            "rsa2048" => Self::Rsa2048,
            "rsa4096" => Self::Rsa4096,
            "p256" => Self::P256,
            "p384" => Self::P384,
            "ed25519" => Self::Ed25519,
            other => {
                return fail(format!(
                    "--algorithm {other:?}: expected rsa2048, rsa4096, p256, p384 or ed25519"
                ));
            }
        })
    }
}

fn bool_attr(ty: ck::CK_ATTRIBUTE_TYPE, value: bool) -> (ck::CK_ATTRIBUTE_TYPE, Vec<u8>) {
    (ty, vec![u8::from(value)])
}

/// Parses `--id HEX`, or draws a random 8-byte id so every key has one to be found by.
fn key_id(id: Option<&str>) -> CliResult<Vec<u8>> {
    match id {
        Some(hex_id) => {
            hex::decode(hex_id).or_else(|e| fail(format!("--id {hex_id:?}: not hexadecimal: {e}")))
        }
        None => {
            let mut id = vec![0u8; 8];
            crypto::random_bytes(&mut id)?;
            Ok(id)
        }
    }
}

/// Refuses a second key with the same label: scripts and the ceremony select keys by label.
fn check_label_free(hsm: &Hsm, session: u64, label: &str) -> CliResult<()> {
    hsm.find_init(session, &vec![(ck::CKA_LABEL, label.as_bytes().to_vec())])?;
    let found = hsm.find_next(session, 1)?;
    hsm.find_final(session)?;
    if found.is_empty() {
        Ok(())
    } else {
        fail(format!(
            "a key labelled {label:?} already exists on this token"
        ))
    }
}

fn common_attrs(label: &str, id: &[u8]) -> Template {
    vec![
        bool_attr(ck::CKA_TOKEN, true),
        (ck::CKA_LABEL, label.as_bytes().to_vec()),
        (ck::CKA_ID, id.to_vec()),
    ]
}

/// Generates a key pair on the token.
pub fn generate(
    hsm: &Hsm,
    token_label: &str,
    key_label: &str,
    algorithm: Algorithm,
    id: Option<&str>,
    access: &KeyAccess,
) -> CliResult<Output> {
    let token = hsm.token_by_label(token_label)?;
    let session = user_session(hsm, &token, access)?;
    check_label_free(hsm, session, key_label)?;
    let id = key_id(id)?;
    let mut public = common_attrs(key_label, &id);
    public.push(bool_attr(ck::CKA_VERIFY, true));
    let mut private = common_attrs(key_label, &id);
    private.extend([
        bool_attr(ck::CKA_PRIVATE, true),
        bool_attr(ck::CKA_SENSITIVE, true),
        bool_attr(ck::CKA_EXTRACTABLE, false),
        bool_attr(ck::CKA_SIGN, true),
    ]);
    let mechanism = match algorithm {
        Algorithm::Rsa2048 | Algorithm::Rsa4096 => {
            let bits: ck::CK_ULONG = if algorithm == Algorithm::Rsa2048 {
                2048
            } else {
                4096
            };
            public.push((ck::CKA_MODULUS_BITS, ulong_bytes(bits)));
            public.push((ck::CKA_PUBLIC_EXPONENT, vec![1, 0, 1]));
            ck::CKM_RSA_PKCS_KEY_PAIR_GEN
        }
        Algorithm::P256 | Algorithm::P384 => {
            let curve = if algorithm == Algorithm::P256 {
                Curve::P256
            } else {
                Curve::P384
            };
            public.push((ck::CKA_EC_PARAMS, curve.der_oid().to_vec()));
            ck::CKM_EC_KEY_PAIR_GEN
        }
        Algorithm::Ed25519 => {
            public.push((ck::CKA_EC_PARAMS, keys::ED25519_OID.to_vec()));
            ck::CKM_EC_EDWARDS_KEY_PAIR_GEN
        }
    };
    let (_, private_handle) =
        hsm.generate_key_pair(session, &Mechanism::new(mechanism), &public, &private)?;
    let output = describe_new_key(hsm, session, private_handle, &token, "generated")?;
    hsm.close_session(session)?;
    Ok(output)
}

/// Imports a private key (PKCS#8 / PKCS#1 / SEC1 PEM or a BIND `.private` file) with its
/// public half.
pub fn import(
    hsm: &Hsm,
    token_label: &str,
    key_label: &str,
    file: &Path,
    id: Option<&str>,
    access: &KeyAccess,
) -> CliResult<Output> {
    let text = in_file(file, std::fs::read(file))?;
    let material = in_file(file, crypto::import_private_key(&text))?;
    let public_material = in_file(file, material.public())?;
    // Checked before any PIN is asked for; the token enforces the same range.
    if let PublicKeyMaterial::Rsa { .. } = public_material {
        let bits = public_material.bits() as u64;
        if !RSA_KEY_BITS.contains(&bits) {
            return fail(format!(
                "{}: an RSA key of {bits} bits is out of range: {} to {} bits are accepted",
                file.display(),
                RSA_KEY_BITS.start(),
                RSA_KEY_BITS.end()
            ));
        }
    }
    let token = hsm.token_by_label(token_label)?;
    let session = user_session(hsm, &token, access)?;
    check_label_free(hsm, session, key_label)?;
    let id = key_id(id)?;
    let mut private_attrs = Attributes::new();
    keys::set_private_attrs(&mut private_attrs, &material, &public_material);
    let mut private: Template = private_attrs.iter().map(|(t, v)| (t, v.to_vec())).collect();
    private.extend(common_attrs(key_label, &id));
    private.extend([
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_PRIVATE_KEY)),
        bool_attr(ck::CKA_PRIVATE, true),
        bool_attr(ck::CKA_SENSITIVE, true),
        bool_attr(ck::CKA_EXTRACTABLE, false),
        bool_attr(ck::CKA_SIGN, true),
    ]);
    let mut public_attrs = Attributes::new();
    keys::set_public_attrs(&mut public_attrs, &public_material);
    let mut public: Template = public_attrs.iter().map(|(t, v)| (t, v.to_vec())).collect();
    public.extend(common_attrs(key_label, &id));
    public.extend([
        (ck::CKA_CLASS, ulong_bytes(ck::CKO_PUBLIC_KEY)),
        bool_attr(ck::CKA_VERIFY, true),
    ]);
    let created = hsm.create_object(session, &private);
    // The template held the private components in plain vectors: wipe them now.
    private.iter_mut().for_each(|(_, value)| value.zeroize());
    let private_handle = created?;
    hsm.create_object(session, &public)?;
    let output = describe_new_key(hsm, session, private_handle, &token, "imported")?;
    hsm.close_session(session)?;
    Ok(output)
}

/// One key's description, for both listings and confirmations.
fn describe(hsm: &Hsm, session: u64, handle: u64) -> CliResult<serde_json::Value> {
    let types = [
        ck::CKA_CLASS,
        ck::CKA_KEY_TYPE,
        ck::CKA_LABEL,
        ck::CKA_ID,
        ck::CKA_MODULUS,
        ck::CKA_EC_PARAMS,
        ck::CKA_LOCAL,
    ];
    let values = hsm.get_attributes(session, handle, &types)?;
    let get = |i: usize| values[i].as_ref().ok().cloned().unwrap_or_default();
    let ulong = |bytes: Vec<u8>| bytes.try_into().map(ck::CK_ULONG::from_ne_bytes).ok();
    let class = match ulong(get(0)) {
        Some(ck::CKO_PRIVATE_KEY) => "private",
        Some(ck::CKO_PUBLIC_KEY) => "public",
        Some(ck::CKO_SECRET_KEY) => "secret",
        _ => "other",
    };
    let algorithm = match ulong(get(1)) {
        Some(ck::CKK_RSA) => format!("rsa{}", hsm_core::object::modulus_bits(&get(4))),
        Some(ck::CKK_EC) => match Curve::from_der_oid(&get(5)) {
            Some(Curve::P256) => "p256".to_string(),
            Some(Curve::P384) => "p384".to_string(),
            Some(Curve::P521) => "p521".to_string(),
            None => "ec".to_string(),
        },
        Some(ck::CKK_EC_EDWARDS) => "ed25519".to_string(),
        Some(ck::CKK_AES) => "aes".to_string(),
        _ => "unknown".to_string(),
    };
    Ok(json!({
        "class": class,
        "algorithm": algorithm,
        "label": String::from_utf8_lossy(&get(2)),
        "id": hex::encode(get(3)),
        "generated_on_token": get(6).first().is_some_and(|b| *b != 0),
    }))
}

fn describe_new_key(
    hsm: &Hsm,
    session: u64,
    handle: u64,
    token: &Token,
    verb: &str,
) -> CliResult<Output> {
    let key = describe(hsm, session, handle)?;
    let human = format!(
        "{verb} {} key {} (id {}) on token {:?}\n",
        key["algorithm"].as_str().unwrap_or("?"),
        key["label"],
        key["id"].as_str().unwrap_or(""),
        token.label()
    );
    Ok(Output { human, json: key })
}

/// Lists the keys on a token: public keys always, private keys after login.
pub fn list(hsm: &Hsm, token_label: &str, access: &KeyAccess, login: bool) -> CliResult<Output> {
    let token = hsm.token_by_label(token_label)?;
    let session = if login {
        user_session(hsm, &token, access)?
    } else {
        hsm.open_session(token.slot_id(), false)?
    };
    hsm.find_init(session, &Vec::new())?;
    let mut handles = Vec::new();
    loop {
        let batch = hsm.find_next(session, 64)?;
        if batch.is_empty() {
            break;
        }
        handles.extend(batch);
    }
    hsm.find_final(session)?;
    let keys = handles
        .into_iter()
        .map(|h| describe(hsm, session, h))
        .collect::<CliResult<Vec<_>>>()?;
    hsm.close_session(session)?;
    let mut human = format!(
        "token {:?}: {} objects{}\n",
        token.label(),
        keys.len(),
        if login {
            ""
        } else {
            " (public only: give --pin-file or --card to see private keys)"
        }
    );
    for key in &keys {
        human.push_str(&format!(
            "  {:7} {:9} label {} id {}\n",
            key["class"].as_str().unwrap_or("?"),
            key["algorithm"].as_str().unwrap_or("?"),
            key["label"],
            key["id"].as_str().unwrap_or("")
        ));
    }
    Ok(Output {
        human,
        json: json!({ "token": token.label(), "logged_in": login, "keys": keys }),
    })
}
