//! Second pass of the KSR reader: the element tree checked against the KSR/SKR schema
//! (`ksr.rnc`) and kskm's parsing rules, into [`KsrDocument`].
//!
//! Children are collected by name, so their order inside a parent is free (as in kskm);
//! Key and Signature order is kept as in the file.

use super::error::XmlError;
use super::model::{
    ALLOWED_FLAGS, AlgorithmParams, AlgorithmPolicy, Body, Bundle, Key, KsrDocument,
    MAX_DOCUMENT_BYTES, Request, Response, Signature, SignaturePolicy, TYPE_DNSKEY,
};
use super::node::Node;
use super::time::{Timestamp, XsdDuration};
use super::tree::read_tree;

/// Parses a KSR or SKR file. Files over 1 MiB are refused before any parsing.
pub fn parse_document(bytes: &[u8]) -> Result<KsrDocument, XmlError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(XmlError::TooLarge { size: bytes.len() });
    }
    let root = read_tree(bytes)?;
    let ksr = Node {
        el: &root,
        bundle: None,
    };
    ksr.attributes(&["id", "serial", "domain"])?;
    ksr.container(&["Request", "Response"])?;
    let id = ksr.non_empty_attr("id")?.to_owned();
    let serial = ksr.num_attr::<u64>("serial")?;
    let domain = ksr.non_empty_attr("domain")?.to_owned();

    let mut bodies = root.children.iter();
    let Some(first) = bodies.next() else {
        return Err(XmlError::MissingElement {
            element: "Request/Response",
            parent: "KSR".into(),
            at: ksr.at(),
        });
    };
    if let Some(second) = bodies.next() {
        let element = if second.name == first.name {
            second.name.clone()
        } else {
            "Request/Response".into()
        };
        return Err(XmlError::DuplicateElement {
            element,
            parent: "KSR".into(),
            at: ksr.at_child(second),
        });
    }
    let body = ksr.node(first);
    let body = if first.name == "Request" {
        Body::Request(request(body)?)
    } else {
        Body::Response(response(body)?)
    };
    Ok(KsrDocument {
        id,
        serial,
        domain,
        body,
    })
}

fn request(req: Node<'_>) -> Result<Request, XmlError> {
    req.attributes(&["timestamp"])?;
    req.container(&["RequestPolicy", "RequestBundle"])?;
    let timestamp = timestamp_attr(req)?;
    let policy_el = req.one("RequestPolicy")?;
    policy_el.attributes(&[])?;
    policy_el.container(&["ZSK"])?;
    let policy = signature_policy(policy_el.one("ZSK")?)?;
    let bundles = req
        .all("RequestBundle")
        .map(|b| bundle(b, true))
        .collect::<Result<Vec<_>, _>>()?;
    if bundles.is_empty() {
        return Err(req.missing("RequestBundle"));
    }
    Ok(Request {
        timestamp,
        policy,
        bundles,
    })
}

fn response(resp: Node<'_>) -> Result<Response, XmlError> {
    resp.attributes(&["timestamp"])?;
    resp.container(&["ResponsePolicy", "ResponseBundle"])?;
    let timestamp = timestamp_attr(resp)?;
    let policy_el = resp.one("ResponsePolicy")?;
    policy_el.attributes(&[])?;
    policy_el.container(&["KSK", "ZSK"])?;
    let ksk_policy = signature_policy(policy_el.one("KSK")?)?;
    let zsk_policy = signature_policy(policy_el.one("ZSK")?)?;
    let bundles = resp
        .all("ResponseBundle")
        .map(|b| bundle(b, false))
        .collect::<Result<Vec<_>, _>>()?;
    if bundles.is_empty() {
        return Err(resp.missing("ResponseBundle"));
    }
    Ok(Response {
        timestamp,
        ksk_policy,
        zsk_policy,
        bundles,
    })
}

/// The optional `timestamp`, kept as written but only if it is a valid UTC time.
fn timestamp_attr(node: Node<'_>) -> Result<Option<String>, XmlError> {
    let Some(text) = node.opt_attr("timestamp") else {
        return Ok(None);
    };
    Timestamp::parse_xsd(text).map_err(|source| XmlError::BadTime {
        subject: format!("<{}> timestamp", node.el.name),
        source,
        at: node.at(),
    })?;
    Ok(Some(text.to_owned()))
}

fn signature_policy(policy: Node<'_>) -> Result<SignaturePolicy, XmlError> {
    const DURATIONS: [&str; 6] = [
        "PublishSafety",
        "RetireSafety",
        "MaxSignatureValidity",
        "MinSignatureValidity",
        "MaxValidityOverlap",
        "MinValidityOverlap",
    ];
    policy.attributes(&[])?;
    let mut allowed = DURATIONS.to_vec();
    allowed.push("SignatureAlgorithm");
    policy.container(&allowed)?;
    let mut d = [XsdDuration::default(); 6];
    for (slot, name) in d.iter_mut().zip(DURATIONS) {
        let (text, leaf) = policy.leaf(name)?;
        *slot = XsdDuration::parse(text).map_err(|source| XmlError::BadTime {
            subject: format!("<{}> <{name}>", policy.el.name),
            source,
            at: leaf.at(),
        })?;
    }
    let algorithms = policy
        .all("SignatureAlgorithm")
        .map(algorithm_policy)
        .collect::<Result<Vec<_>, _>>()?;
    if algorithms.is_empty() {
        return Err(policy.missing("SignatureAlgorithm"));
    }
    let [
        publish_safety,
        retire_safety,
        max_sv,
        min_sv,
        max_vo,
        min_vo,
    ] = d;
    Ok(SignaturePolicy {
        publish_safety,
        retire_safety,
        max_signature_validity: max_sv,
        min_signature_validity: min_sv,
        max_validity_overlap: max_vo,
        min_validity_overlap: min_vo,
        algorithms,
    })
}

fn algorithm_policy(alg: Node<'_>) -> Result<AlgorithmPolicy, XmlError> {
    alg.attributes(&["algorithm"])?;
    alg.container(&["RSA", "ECDSA", "EdDSA"])?;
    let algorithm = alg.num_attr::<u8>("algorithm")?;
    let mut params = alg.el.children.iter().map(|c| alg.node(c));
    let first = params.next();
    if let Some(second) = params.next() {
        return Err(XmlError::DuplicateElement {
            element: second.el.name.clone(),
            parent: "SignatureAlgorithm".into(),
            at: second.at(),
        });
    }
    let params = match first {
        None => AlgorithmParams::None,
        Some(p) if p.el.name == "RSA" => {
            p.empty(&["size", "exponent"])?;
            AlgorithmParams::Rsa {
                size: p.num_attr::<u32>("size")?,
                exponent: p.num_attr::<u64>("exponent")?,
            }
        }
        Some(p) if p.el.name == "ECDSA" => {
            p.empty(&["size"])?;
            AlgorithmParams::Ecdsa {
                size: p.num_attr::<u32>("size")?,
            }
        }
        Some(p) => {
            p.empty(&["size"])?;
            AlgorithmParams::EdDsa {
                size: p.num_attr::<u32>("size")?,
            }
        }
    };
    Ok(AlgorithmPolicy { algorithm, params })
}

fn bundle(b: Node<'_>, is_request: bool) -> Result<Bundle, XmlError> {
    b.attributes(&["id"])?;
    let id = b.non_empty_attr("id")?;
    // From here on every message names the bundle.
    let b = Node {
        el: b.el,
        bundle: Some(id),
    };
    let allowed: &[&str] = if is_request {
        &["Inception", "Expiration", "Signer", "Key", "Signature"]
    } else {
        &["Inception", "Expiration", "Key", "Signature"]
    };
    b.container(allowed)?;
    let inception = b.time_leaf("Inception")?;
    let expiration = b.time_leaf("Expiration")?;
    let signers = b
        .all("Signer")
        .map(|s| {
            s.empty(&["keyIdentifier"])?;
            Ok(s.non_empty_attr("keyIdentifier")?.to_owned())
        })
        .collect::<Result<Vec<_>, XmlError>>()?;
    let keys = b.all("Key").map(key).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(b.missing("Key"));
    }
    let signatures = b
        .all("Signature")
        .map(signature)
        .collect::<Result<Vec<_>, _>>()?;
    if signatures.is_empty() {
        return Err(b.missing("Signature"));
    }
    Ok(Bundle {
        id: id.to_owned(),
        inception,
        expiration,
        signers,
        keys,
        signatures,
    })
}

fn key(k: Node<'_>) -> Result<Key, XmlError> {
    k.attributes(&["keyIdentifier", "keyTag"])?;
    k.container(&["TTL", "Flags", "Protocol", "Algorithm", "PublicKey"])?;
    let flags = k.num_leaf::<u16>("Flags")?;
    if !ALLOWED_FLAGS.contains(&flags) {
        let (text, leaf) = k.leaf("Flags")?;
        return Err(leaf.bad_value(
            "<Key> <Flags>",
            text,
            "256, 257 or 385 (ZSK, KSK, revoked KSK)",
        ));
    }
    let protocol = k.num_leaf::<u8>("Protocol")?;
    if protocol != 3 {
        let (text, leaf) = k.leaf("Protocol")?;
        return Err(leaf.bad_value("<Key> <Protocol>", text, "3 (RFC 4034)"));
    }
    Ok(Key {
        key_identifier: k.non_empty_attr("keyIdentifier")?.to_owned(),
        key_tag: k.num_attr::<u16>("keyTag")?,
        ttl: k.num_leaf::<u32>("TTL")?,
        flags,
        protocol,
        algorithm: k.num_leaf::<u8>("Algorithm")?,
        public_key: k.base64_leaf("PublicKey")?,
    })
}

fn signature(s: Node<'_>) -> Result<Signature, XmlError> {
    s.attributes(&["keyIdentifier"])?;
    s.container(&[
        "TTL",
        "TypeCovered",
        "Algorithm",
        "Labels",
        "OriginalTTL",
        "SignatureExpiration",
        "SignatureInception",
        "KeyTag",
        "SignersName",
        "SignatureData",
    ])?;
    let (covered, leaf) = s.leaf("TypeCovered")?;
    if covered != "DNSKEY" {
        return Err(leaf.bad_value("<Signature> <TypeCovered>", covered, "DNSKEY"));
    }
    Ok(Signature {
        key_identifier: s.non_empty_attr("keyIdentifier")?.to_owned(),
        ttl: s.num_leaf::<u32>("TTL")?,
        type_covered: TYPE_DNSKEY,
        algorithm: s.num_leaf::<u8>("Algorithm")?,
        labels: s.num_leaf::<u8>("Labels")?,
        original_ttl: s.num_leaf::<u32>("OriginalTTL")?,
        expiration: s.time_leaf("SignatureExpiration")?,
        inception: s.time_leaf("SignatureInception")?,
        key_tag: s.num_leaf::<u16>("KeyTag")?,
        signers_name: s.leaf("SignersName")?.0.to_owned(),
        signature_data: s.base64_leaf("SignatureData")?,
    })
}
