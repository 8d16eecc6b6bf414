//! Private key import: PKCS#8 (PEM/DER: RSA, EC P-256/P-384/P-521, Ed25519), PKCS#1
//! "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", and BIND `Private-key-format: v1.x` files.
//!
//! Every imported key is validated (RSA components consistent, EC scalar in range) so a bad
//! file fails here with a message saying what is wrong, not later at first use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::der::Decode as _;
use rsa::pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};
use zeroize::Zeroizing;

use super::ec::SoftEcPrivate;
use super::rsa_soft::SoftRsaPrivate;
use super::{CryptoError, Curve, PrivateKeyMaterial, RsaPrivateParts};
use crate::secret::SecretBytes;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn err(msg: impl Into<String>) -> CryptoError {
    CryptoError::KeyImport(msg.into())
}

/// Imports a private key from PEM, DER or BIND text, detecting the format.
pub fn import_private_key(text_or_der: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
    if let Ok(text) = std::str::from_utf8(text_or_der) {
        let trimmed = text.trim_start();
        if trimmed.starts_with("Private-key-format:") {
            return import_bind(trimmed);
        }
        if trimmed.contains("-----BEGIN ") {
            return import_pem(trimmed);
        }
    }
    if text_or_der.first() == Some(&0x30) {
        return import_der(text_or_der);
    }
    Err(err(
        "unrecognised key format: expected PEM (PKCS#8, PKCS#1 RSA or SEC1 EC), DER, \
         or a BIND Private-key-format file",
    ))
}

/// Finds the first private-key PEM block (skipping e.g. "EC PARAMETERS") and decodes it.
fn import_pem(text: &str) -> Result<PrivateKeyMaterial, CryptoError> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| err("malformed PEM: unterminated BEGIN line"))?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end_marker)
            .ok_or_else(|| err(format!("malformed PEM: no END line for \"{label}\"")))?;
        let body = &body_start[..body_end];
        rest = &body_start[body_end + end_marker.len()..];
        match label {
            "PRIVATE KEY" => return import_pkcs8(&pem_body(body)?),
            "RSA PRIVATE KEY" => return import_pkcs1(&pem_body(body)?),
            "EC PRIVATE KEY" => return import_sec1(&pem_body(body)?),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(err("encrypted PKCS#8 is not supported: decrypt it first \
                     (openssl pkcs8 -topk8 -nocrypt)"));
            }
            "EC PARAMETERS" => continue,
            other => {
                return Err(err(format!(
                    "PEM block \"{other}\" is not a supported private key: expected \
                     PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY"
                )));
            }
        }
    }
    Err(err("PEM without a private key block"))
}

/// Base64 body of a PEM block; rejects RFC 1421 encrypted keys.
fn pem_body(body: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut b64 = Zeroizing::new(String::with_capacity(body.len()));
    for line in body.lines() {
        let line = line.trim();
        if line.contains(':') {
            if line.to_ascii_uppercase().contains("ENCRYPTED") {
                return Err(err(
                    "encrypted PEM is not supported: decrypt it first (openssl pkey -in … -out …)",
                ));
            }
            continue;
        }
        b64.push_str(line);
    }
    STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| err("PEM body is not valid base64"))
}

/// Untagged DER: PKCS#8, then PKCS#1, then SEC1.
fn import_der(der: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
    if PrivateKeyInfoRef::from_der(der).is_ok() {
        return import_pkcs8(der);
    }
    if rsa::pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
        return import_pkcs1(der);
    }
    import_sec1(der).map_err(|_| {
        err("DER is neither PKCS#8 PrivateKeyInfo, PKCS#1 RSAPrivateKey nor SEC1 ECPrivateKey")
    })
}

fn import_pkcs8(der: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
    let info = PrivateKeyInfoRef::from_der(der)
        .map_err(|e| err(format!("malformed PKCS#8 PrivateKeyInfo: {e}")))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        import_pkcs1(info.private_key.as_bytes())
    } else if oid == OID_EC {
        let curve_oid = info
            .algorithm
            .parameters_oid()
            .map_err(|_| err("PKCS#8 EC key without a namedCurve parameter"))?;
        let curve = if curve_oid == OID_P256 {
            Curve::P256
        } else if curve_oid == OID_P384 {
            Curve::P384
        } else if curve_oid == OID_P521 {
            Curve::P521
        } else {
            return Err(err(format!(
                "unsupported EC curve {curve_oid}: only P-256, P-384 and P-521"
            )));
        };
        let d = match curve {
            Curve::P256 => {
                use p256::pkcs8::DecodePrivateKey;
                let key = p256::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| err(format!("malformed P-256 PKCS#8 key: {e}")))?;
                SecretBytes::from_slice(&key.to_bytes())
            }
            Curve::P384 => {
                use p384::pkcs8::DecodePrivateKey;
                let key = p384::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| err(format!("malformed P-384 PKCS#8 key: {e}")))?;
                SecretBytes::from_slice(&key.to_bytes())
            }
            Curve::P521 => {
                use p521::pkcs8::DecodePrivateKey;
                let key = p521::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| err(format!("malformed P-521 PKCS#8 key: {e}")))?;
                SecretBytes::from_slice(&key.to_bytes())
            }
        };
        Ok(PrivateKeyMaterial::Ec { curve, d })
    } else if oid == OID_ED25519 {
        // RFC 8410 §7: the private key is an OCTET STRING holding the 32-byte seed.
        match info.private_key.as_bytes() {
            [0x04, 0x20, seed @ ..] if seed.len() == 32 => Ok(PrivateKeyMaterial::Ed25519 {
                seed: SecretBytes::from_slice(seed),
            }),
            _ => Err(err("malformed Ed25519 PKCS#8 key: expected a 32-byte seed")),
        }
    } else {
        Err(err(format!(
            "unsupported PKCS#8 key algorithm {oid}: expected RSA, EC (P-256/P-384) or Ed25519"
        )))
    }
}

fn import_pkcs1(der: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
    let key = rsa::pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|e| err(format!("malformed PKCS#1 RSAPrivateKey: {e}")))?;
    if key.other_prime_infos.is_some() {
        return Err(err("multi-prime RSA keys are not supported"));
    }
    let parts = RsaPrivateParts {
        n: key.modulus.as_bytes().to_vec(),
        e: key.public_exponent.as_bytes().to_vec(),
        d: SecretBytes::from_slice(key.private_exponent.as_bytes()),
        p: SecretBytes::from_slice(key.prime1.as_bytes()),
        q: SecretBytes::from_slice(key.prime2.as_bytes()),
        dp: SecretBytes::from_slice(key.exponent1.as_bytes()),
        dq: SecretBytes::from_slice(key.exponent2.as_bytes()),
        qinv: SecretBytes::from_slice(key.coefficient.as_bytes()),
    };
    checked_rsa(parts)
}

fn import_sec1(der: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
    if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKeyMaterial::Ec {
            curve: Curve::P256,
            d: SecretBytes::from_slice(&key.to_bytes()),
        });
    }
    if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKeyMaterial::Ec {
            curve: Curve::P384,
            d: SecretBytes::from_slice(&key.to_bytes()),
        });
    }
    if let Ok(key) = p521::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKeyMaterial::Ec {
            curve: Curve::P521,
            d: SecretBytes::from_slice(&key.to_bytes()),
        });
    }
    Err(err(
        "malformed SEC1 ECPrivateKey, or a curve other than P-256/P-384/P-521",
    ))
}

fn checked_rsa(parts: RsaPrivateParts) -> Result<PrivateKeyMaterial, CryptoError> {
    SoftRsaPrivate::from_parts(&parts).map_err(|e| match e {
        CryptoError::KeySizeRange => err("RSA modulus size outside 512..=8192 bits"),
        other => other,
    })?;
    Ok(PrivateKeyMaterial::Rsa(parts))
}

/// BIND `Private-key-format: v1.2/v1.3` (dnssec-keygen's K*.private) for algorithms 5, 7, 8, 10
/// (RSA), 13, 14 (ECDSA) and 15 (Ed25519).
fn import_bind(text: &str) -> Result<PrivateKeyMaterial, CryptoError> {
    let mut fields: Vec<(&str, &str)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| err(format!("BIND key line without ':' ({} chars)", line.len())))?;
        fields.push((key.trim(), value.trim()));
    }
    let get = |name: &str| -> Result<&str, CryptoError> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .ok_or_else(|| err(format!("BIND key file lacks the \"{name}\" field")))
    };
    let version = get("Private-key-format")?;
    if !version.starts_with("v1.") {
        return Err(err(format!(
            "unsupported BIND Private-key-format {version}: expected v1.x"
        )));
    }
    let alg_field = get("Algorithm")?;
    let alg: u8 = alg_field
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| err(format!("BIND Algorithm field is not a number: {alg_field}")))?;
    let b64 = |name: &str| -> Result<SecretBytes, CryptoError> {
        let value = get(name)?;
        STANDARD
            .decode(value)
            .map(SecretBytes::new)
            .map_err(|_| err(format!("BIND field \"{name}\" is not valid base64")))
    };
    match alg {
        5 | 7 | 8 | 10 => {
            let parts = RsaPrivateParts {
                n: b64("Modulus")?.expose().to_vec(),
                e: b64("PublicExponent")?.expose().to_vec(),
                d: b64("PrivateExponent")?,
                p: b64("Prime1")?,
                q: b64("Prime2")?,
                dp: b64("Exponent1")?,
                dq: b64("Exponent2")?,
                qinv: b64("Coefficient")?,
            };
            checked_rsa(parts)
        }
        13 | 14 => {
            let curve = if alg == 13 { Curve::P256 } else { Curve::P384 };
            let d = b64("PrivateKey")?;
            if d.len() != curve.field_len() {
                return Err(err(format!(
                    "BIND algorithm {alg} PrivateKey must be {} bytes, got {}",
                    curve.field_len(),
                    d.len()
                )));
            }
            SoftEcPrivate::new(curve, d.expose())?;
            Ok(PrivateKeyMaterial::Ec { curve, d })
        }
        15 => {
            let seed = b64("PrivateKey")?;
            if seed.len() != 32 {
                return Err(err(format!(
                    "BIND algorithm 15 PrivateKey must be a 32-byte seed, got {}",
                    seed.len()
                )));
            }
            Ok(PrivateKeyMaterial::Ed25519 { seed })
        }
        other => Err(err(format!(
            "unsupported BIND algorithm {other}: expected 5, 7, 8, 10 (RSA), 13, 14 (ECDSA) \
             or 15 (Ed25519)"
        ))),
    }
}
