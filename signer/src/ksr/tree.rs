//! First pass of the KSR reader: quick-xml events to a small element tree, refusing every
//! XML feature the format does not use (DTDs, entities, CDATA, processing instructions and
//! comments inside the document, mixed content, deep nesting).
//!
//! The second pass (`parse.rs`) then only has to know the schema.

use quick_xml::errors::{Error as QxError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::error::{At, XmlError};

/// Deepest nesting the format has: KSR > Response > ResponsePolicy > KSK >
/// SignatureAlgorithm > RSA.
const MAX_DEPTH: usize = 6;

/// One element: name, attributes in file order, child elements, and its character data
/// with the five predefined entities resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte offset of the start tag's `<`.
    pub offset: u64,
}

/// Reads `input` (already size-checked) into the tree rooted at `<KSR>`.
pub(super) fn read_tree(input: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(input).map_err(|e| XmlError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    // A UTF-8 byte-order mark is harmless; skip it but keep offsets true to the file.
    let (text, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3u64),
        None => (text, 0u64),
    };
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_unmatched_ends = false;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut first_event = true;
    loop {
        let offset = base + reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err(map_reader_error(&e, &stack, base + reader.error_position())),
        };
        let inside = !stack.is_empty();
        let after_root = root.is_some();
        match event {
            Event::Decl(decl) => {
                if !first_event {
                    return Err(malformed(offset, "the XML declaration must come first"));
                }
                check_decl(&decl, offset)?;
            }
            Event::DocType(_) => return Err(forbidden("a DOCTYPE/DTD", offset)),
            Event::CData(_) => return Err(forbidden("a CDATA section", offset)),
            Event::PI(_) if inside || after_root => {
                return Err(forbidden(
                    "a processing instruction after <KSR> begins",
                    offset,
                ));
            }
            Event::PI(_) => {}
            Event::Comment(_) if inside => return Err(forbidden("a comment inside <KSR>", offset)),
            Event::Comment(_) if after_root => return Err(XmlError::TrailingContent { offset }),
            Event::Comment(_) => {}
            Event::Text(t) => {
                let raw = std::str::from_utf8(t.as_ref()).map_err(|_| XmlError::NotUtf8 {
                    offset: usize::try_from(offset).unwrap_or(usize::MAX),
                })?;
                match stack.last_mut() {
                    Some(open) => open.text.push_str(raw),
                    None if is_xml_space(raw) => {}
                    None if after_root => return Err(XmlError::TrailingContent { offset }),
                    None => return Err(malformed(offset, "text before <KSR>")),
                }
            }
            Event::GeneralRef(r) => {
                let name = std::str::from_utf8(r.as_ref()).unwrap_or("?");
                let ch = predefined_entity(name).ok_or_else(|| XmlError::Reference {
                    name: name.to_owned(),
                    offset,
                })?;
                match stack.last_mut() {
                    Some(open) => open.text.push(ch),
                    None => return Err(malformed(offset, "text outside <KSR>")),
                }
            }
            Event::Start(start) => {
                let element = open_element(&start, offset, &stack, after_root)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open_element(&start, offset, &stack, after_root)?;
                close_element(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches the open element.
                let Some(element) = stack.pop() else {
                    return Err(malformed(offset, "end tag without a start tag"));
                };
                close_element(element, &mut stack, &mut root);
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(XmlError::Truncated {
                        element: open.name.clone(),
                    });
                }
                return root.ok_or(XmlError::NoRoot);
            }
        }
        first_event = false;
    }
}

/// Whitespace as XML defines it (space, tab, CR, LF).
pub(super) fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn open_element(
    start: &BytesStart<'_>,
    offset: u64,
    stack: &[Element],
    after_root: bool,
) -> Result<Element, XmlError> {
    let name = std::str::from_utf8(start.name().as_ref())
        .map_err(|_| malformed(offset, "element name is not UTF-8"))?
        .to_owned();
    if after_root {
        return Err(XmlError::TrailingContent { offset });
    }
    if stack.is_empty() && name != "KSR" {
        return Err(XmlError::WrongRoot {
            found: name,
            offset,
        });
    }
    if stack.len() >= MAX_DEPTH {
        return Err(XmlError::TooDeep {
            element: name,
            at: At {
                offset,
                bundle: None,
            },
        });
    }
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| malformed(offset, &format!("in <{name}>: {e}")))?;
        let key = std::str::from_utf8(attr.key.as_ref())
            .map_err(|_| malformed(offset, "attribute name is not UTF-8"))?
            .to_owned();
        let raw = std::str::from_utf8(&attr.value)
            .map_err(|_| malformed(offset, "attribute value is not UTF-8"))?;
        let value = unescape_attribute(raw, offset)?;
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        offset,
    })
}

fn close_element(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// Resolves the five predefined entities in an attribute value and refuses everything
/// else: other entities, character references, and a raw `<`.
fn unescape_attribute(raw: &str, offset: u64) -> Result<String, XmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find(['&', '<']) {
        out.push_str(&rest[..amp]);
        if rest[amp..].starts_with('<') {
            return Err(malformed(offset, "'<' inside an attribute value"));
        }
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';') else {
            return Err(malformed(
                offset,
                "'&' without ';' inside an attribute value",
            ));
        };
        let name = &after[..semi];
        let ch = predefined_entity(name).ok_or_else(|| XmlError::Reference {
            name: name.to_owned(),
            offset,
        })?;
        out.push(ch);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Only version 1.0 and a UTF-8 (or its ASCII subset) encoding are accepted.
fn check_decl(decl: &quick_xml::events::BytesDecl<'_>, offset: u64) -> Result<(), XmlError> {
    let version = decl
        .version()
        .map_err(|e| malformed(offset, &format!("XML declaration: {e}")))?;
    if version.as_ref() != b"1.0" {
        return Err(malformed(
            offset,
            "XML declaration: only version 1.0 is supported",
        ));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(|e| malformed(offset, &format!("XML declaration: {e}")))?;
        let ok = [b"UTF-8".as_slice(), b"US-ASCII"]
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&encoding));
        if !ok {
            return Err(malformed(
                offset,
                "XML declaration: the encoding must be UTF-8",
            ));
        }
    }
    Ok(())
}

fn map_reader_error(e: &QxError, stack: &[Element], offset: u64) -> XmlError {
    let truncated = match e {
        QxError::IllFormed(IllFormedError::MissingEndTag(_)) => true,
        QxError::Syntax(SyntaxError::InvalidBangMarkup) => false,
        QxError::Syntax(_) => !stack.is_empty(),
        _ => false,
    };
    match stack.last() {
        Some(open) if truncated => XmlError::Truncated {
            element: open.name.clone(),
        },
        _ => malformed(offset, &e.to_string()),
    }
}

fn malformed(offset: u64, detail: &str) -> XmlError {
    XmlError::Malformed {
        offset,
        detail: detail.to_owned(),
    }
}

fn forbidden(what: &'static str, offset: u64) -> XmlError {
    XmlError::Forbidden { what, offset }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_tree_with_offsets_and_resolved_entities() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- made by hand -->\n\
                   <KSR id=\"a&amp;b\" serial=\"0\"><X>1 &lt; 2</X><Y/></KSR>\n";
        let root = read_tree(xml.as_bytes()).unwrap();
        assert_eq!(root.name, "KSR");
        assert_eq!(
            root.offset,
            u64::try_from(xml.find("<KSR").unwrap()).unwrap()
        );
        assert_eq!(root.attrs[0], ("id".to_owned(), "a&b".to_owned()));
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].text, "1 < 2");
        assert_eq!(root.children[1].name, "Y");
        assert_eq!(
            &xml[usize::try_from(root.children[1].offset).unwrap()..][..4],
            "<Y/>"
        );
    }

    #[test]
    fn refuses_what_the_format_never_uses() {
        let cases: &[(&str, &str)] = &[
            ("<!DOCTYPE KSR [<!ENTITY x \"y\">]><KSR/>", "DOCTYPE"),
            ("<KSR><X>&foo;</X></KSR>", "&foo;"),
            ("<KSR><X>&#65;</X></KSR>", "&#65;"),
            ("<KSR id=\"&#x41;\"/>", "&#x41;"),
            ("<KSR id=\"&bar;\"/>", "&bar;"),
            ("<KSR><X><![CDATA[1]]></X></KSR>", "CDATA"),
            ("<KSR><?pi x?></KSR>", "processing instruction"),
            ("<KSR/><?pi x?>", "processing instruction"),
            ("<KSR><!-- c --></KSR>", "comment inside"),
            ("<KSR/><!-- c -->", "after </KSR>"),
            ("<KSR/><KSR/>", "after </KSR>"),
            ("<KSR/>junk", "after </KSR>"),
            ("junk<KSR/>", "text before"),
            ("<Foo/>", "not <KSR>"),
            ("", "no <KSR>"),
            (
                "<KSR><A><B><C><D><E><F/></E></D></C></B></A></KSR>",
                "nested deeper",
            ),
            ("<KSR><A>", "ends inside <A>"),
            ("<KSR><A></KSR>", "malformed"),
            ("<KSR id=\"1\" id=\"2\"/>", "malformed"),
            (
                "<!-- c --><?xml version=\"1.0\"?><KSR/>",
                "declaration must come first",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><KSR/>",
                "UTF-8",
            ),
            ("<KSR><X>a & b</X></KSR>", "malformed"),
        ];
        for (xml, needle) in cases {
            let e = read_tree(xml.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(needle), "{xml}: {e}");
        }
        let e = read_tree(b"<KSR>\xff</KSR>").unwrap_err();
        assert_eq!(e, XmlError::NotUtf8 { offset: 5 });
    }

    #[test]
    fn accepts_a_bom_and_crlf() {
        let root = read_tree("\u{feff}<KSR>\r\n<X>1</X>\r\n</KSR>\r\n".as_bytes()).unwrap();
        assert_eq!(root.offset, 3);
        assert_eq!(root.children[0].text, "1");
        assert!(is_xml_space(&root.text));
    }
}
