//! Writes KSR/SKR documents in the layout IANA's tools produce, byte for byte.
//!
//! kskm (`skr/output.py`) and the legacy C `ksrsigner` print the same element sequence:
//! `<?xml?>` header, `<KSR id domain serial>`, one element per line, times as
//! `YYYY-MM-DDTHH:MM:SS+00:00`, unwrapped base64, a final newline. kskm indents by four
//! spaces; the legacy tool does not indent and zero-pads key tags to five digits.
//!
//! Keys and signatures are written in model order. Current kskm sorts keys by tag before
//! writing, older kskm and the legacy tool did not; the SKR builder decides
//! ([`Bundle::sort_keys_by_tag`](super::model::Bundle::sort_keys_by_tag)).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::model::{AlgorithmParams, Body, Bundle, Key, KsrDocument, Signature, SignaturePolicy};

/// Which tool's layout to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// kskm: four-space indentation.
    Kskm,
    /// Legacy `ksrsigner` (IANA 2010–2018): no indentation, key tags as `%05u`.
    Legacy,
}

/// The SKR in kskm's layout.
pub fn write_skr(doc: &KsrDocument) -> Vec<u8> {
    write_document(doc, Layout::Kskm)
}

/// A KSR in the same layout (the Root Zone Maintainer's own files are laid out differently,
/// but any KSR reader takes this form).
pub fn write_ksr(doc: &KsrDocument) -> Vec<u8> {
    write_document(doc, Layout::Kskm)
}

/// Writes `doc` (request or response) in `layout`. A response bundle's `signers` are not
/// part of the response schema and are not written.
pub fn write_document(doc: &KsrDocument, layout: Layout) -> Vec<u8> {
    let mut w = Writer {
        out: String::with_capacity(32 * 1024),
        layout,
    };
    w.raw_line(0, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    w.raw_line(
        0,
        &format!(
            r#"<KSR id="{}" domain="{}" serial="{}">"#,
            attr(&doc.id),
            attr(&doc.domain),
            doc.serial
        ),
    );
    match &doc.body {
        Body::Request(req) => {
            w.open(1, "Request", req.timestamp.as_deref());
            w.raw_line(2, "<RequestPolicy>");
            w.policy(3, "ZSK", &req.policy);
            w.raw_line(2, "</RequestPolicy>");
            for b in &req.bundles {
                w.bundle(2, "RequestBundle", b, true);
            }
            w.raw_line(1, "</Request>");
        }
        Body::Response(resp) => {
            w.open(1, "Response", resp.timestamp.as_deref());
            w.raw_line(2, "<ResponsePolicy>");
            w.policy(3, "KSK", &resp.ksk_policy);
            w.policy(3, "ZSK", &resp.zsk_policy);
            w.raw_line(2, "</ResponsePolicy>");
            for b in &resp.bundles {
                w.bundle(2, "ResponseBundle", b, false);
            }
            w.raw_line(1, "</Response>");
        }
    }
    w.raw_line(0, "</KSR>");
    w.out.into_bytes()
}

struct Writer {
    out: String,
    layout: Layout,
}

impl Writer {
    /// One line at `depth`; `content` must already be escaped.
    fn raw_line(&mut self, depth: usize, content: &str) {
        if self.layout == Layout::Kskm {
            for _ in 0..depth {
                self.out.push_str("    ");
            }
        }
        self.out.push_str(content);
        self.out.push('\n');
    }

    /// `<Request>` / `<Response>` with the optional timestamp attribute.
    fn open(&mut self, depth: usize, name: &str, timestamp: Option<&str>) {
        let line = match timestamp {
            Some(t) => format!(r#"<{name} timestamp="{}">"#, attr(t)),
            None => format!("<{name}>"),
        };
        self.raw_line(depth, &line);
    }

    /// `<name>value</name>` with `value` escaped as text.
    fn leaf(&mut self, depth: usize, name: &str, value: &str) {
        let line = format!("<{name}>{}</{name}>", text(value));
        self.raw_line(depth, &line);
    }

    fn key_tag(&self, tag: u16) -> String {
        match self.layout {
            Layout::Kskm => tag.to_string(),
            Layout::Legacy => format!("{tag:05}"),
        }
    }

    fn policy(&mut self, depth: usize, name: &str, p: &SignaturePolicy) {
        self.raw_line(depth, &format!("<{name}>"));
        let d = depth + 1;
        self.leaf(d, "PublishSafety", &p.publish_safety.to_string());
        self.leaf(d, "RetireSafety", &p.retire_safety.to_string());
        self.leaf(
            d,
            "MaxSignatureValidity",
            &p.max_signature_validity.to_string(),
        );
        self.leaf(
            d,
            "MinSignatureValidity",
            &p.min_signature_validity.to_string(),
        );
        self.leaf(d, "MaxValidityOverlap", &p.max_validity_overlap.to_string());
        self.leaf(d, "MinValidityOverlap", &p.min_validity_overlap.to_string());
        for alg in &p.algorithms {
            let open = format!(r#"<SignatureAlgorithm algorithm="{}""#, alg.algorithm);
            let child = match alg.params {
                AlgorithmParams::Rsa { size, exponent } => {
                    format!(r#"<RSA size="{size}" exponent="{exponent}"/>"#)
                }
                AlgorithmParams::Ecdsa { size } => format!(r#"<ECDSA size="{size}"/>"#),
                AlgorithmParams::EdDsa { size } => format!(r#"<EdDSA size="{size}"/>"#),
                AlgorithmParams::None => {
                    self.raw_line(d, &format!("{open}/>"));
                    continue;
                }
            };
            self.raw_line(d, &format!("{open}>"));
            self.raw_line(d + 1, &child);
            self.raw_line(d, "</SignatureAlgorithm>");
        }
        self.raw_line(depth, &format!("</{name}>"));
    }

    fn bundle(&mut self, depth: usize, name: &str, b: &Bundle, with_signers: bool) {
        self.raw_line(depth, &format!(r#"<{name} id="{}">"#, attr(&b.id)));
        let d = depth + 1;
        self.leaf(d, "Inception", &b.inception.to_xsd());
        self.leaf(d, "Expiration", &b.expiration.to_xsd());
        if with_signers {
            for s in &b.signers {
                self.raw_line(d, &format!(r#"<Signer keyIdentifier="{}"/>"#, attr(s)));
            }
        }
        for k in &b.keys {
            self.key(d, k);
        }
        for s in &b.signatures {
            self.signature(d, s);
        }
        self.raw_line(depth, &format!("</{name}>"));
    }

    fn key(&mut self, depth: usize, k: &Key) {
        let open = format!(
            r#"<Key keyIdentifier="{}" keyTag="{}">"#,
            attr(&k.key_identifier),
            self.key_tag(k.key_tag)
        );
        self.raw_line(depth, &open);
        let d = depth + 1;
        self.leaf(d, "TTL", &k.ttl.to_string());
        self.leaf(d, "Flags", &k.flags.to_string());
        self.leaf(d, "Protocol", &k.protocol.to_string());
        self.leaf(d, "Algorithm", &k.algorithm.to_string());
        self.leaf(d, "PublicKey", &STANDARD.encode(&k.public_key));
        self.raw_line(depth, "</Key>");
    }

    fn signature(&mut self, depth: usize, s: &Signature) {
        let open = format!(r#"<Signature keyIdentifier="{}">"#, attr(&s.key_identifier));
        self.raw_line(depth, &open);
        let d = depth + 1;
        self.leaf(d, "TTL", &s.ttl.to_string());
        self.leaf(d, "TypeCovered", &type_mnemonic(s.type_covered));
        self.leaf(d, "Algorithm", &s.algorithm.to_string());
        self.leaf(d, "Labels", &s.labels.to_string());
        self.leaf(d, "OriginalTTL", &s.original_ttl.to_string());
        self.leaf(d, "SignatureExpiration", &s.expiration.to_xsd());
        self.leaf(d, "SignatureInception", &s.inception.to_xsd());
        let tag = self.key_tag(s.key_tag);
        self.leaf(d, "KeyTag", &tag);
        self.leaf(d, "SignersName", &s.signers_name);
        self.leaf(d, "SignatureData", &STANDARD.encode(&s.signature_data));
        self.raw_line(depth, "</Signature>");
    }
}

/// DNSKEY as its mnemonic; any other type (which the reader never produces) in the RFC 3597
/// generic form.
fn type_mnemonic(rrtype: u16) -> String {
    match rrtype {
        super::model::TYPE_DNSKEY => "DNSKEY".to_owned(),
        other => format!("TYPE{other}"),
    }
}

/// Escapes an attribute value (double-quoted).
fn attr(value: &str) -> Cow<'_, str> {
    escape(value, true)
}

/// Escapes character data.
fn text(value: &str) -> Cow<'_, str> {
    escape(value, false)
}

fn escape(value: &str, in_attr: bool) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>') || (in_attr && matches!(c, '"' | '\''));
    if !value.contains(special) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\'' if in_attr => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_markup_characters() {
        assert_eq!(attr(r#"a&b<c>"d'"#), "a&amp;b&lt;c&gt;&quot;d&apos;");
        assert_eq!(text(r#"a&b<c>"d'"#), r#"a&amp;b&lt;c&gt;"d'"#);
        assert!(matches!(attr("plain"), Cow::Borrowed("plain")));
    }
}
