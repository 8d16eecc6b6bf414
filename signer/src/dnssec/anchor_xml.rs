//! A strict, small XML element-tree reader for the trust-anchor format (quick-xml events):
//! no DTD, no entities beyond XML's five predefined ones and character references, no mixed
//! content, bounded depth.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use super::anchor::AnchorError;

/// Deepest element nesting of the format (TrustAnchor / KeyDigest / field).
const MAX_DEPTH: usize = 3;

/// A parsed element: the format has no mixed content, so text and children are kept apart.
#[derive(Debug, Default)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, String)>,
    pub(super) children: Vec<Element>,
    pub(super) text: String,
}

impl Element {
    /// The trimmed text of an element that must not have children or attributes.
    pub(super) fn leaf_text(&self) -> Result<&str, AnchorError> {
        if let Some(child) = self.children.first() {
            return Err(AnchorError::Unexpected(format!(
                "element <{}> in <{}>",
                child.name, self.name
            )));
        }
        if let Some((attr, _)) = self.attrs.first() {
            return Err(AnchorError::Unexpected(format!(
                "attribute {attr} on <{}>",
                self.name
            )));
        }
        Ok(self.text.trim())
    }
}

/// Attribute access that refuses attributes outside `allowed` and duplicates.
#[derive(Debug)]
pub(super) struct Attrs(Vec<(String, String)>);

impl Attrs {
    pub(super) fn new(element: &Element, allowed: &[&str]) -> Result<Self, AnchorError> {
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in &element.attrs {
            if !allowed.contains(&name.as_str()) {
                return Err(AnchorError::Unexpected(format!(
                    "attribute {name} on <{}>",
                    element.name
                )));
            }
            if seen.contains(&name.as_str()) {
                return Err(AnchorError::Duplicate(name.clone()));
            }
            seen.push(name);
        }
        if !element.text.trim().is_empty() {
            return Err(AnchorError::Unexpected(format!(
                "text in <{}>",
                element.name
            )));
        }
        Ok(Attrs(element.attrs.clone()))
    }

    pub(super) fn optional(&mut self, name: &str) -> Option<String> {
        let index = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.swap_remove(index).1)
    }

    pub(super) fn required(&mut self, name: &str) -> Result<String, AnchorError> {
        self.optional(name)
            .ok_or_else(|| AnchorError::Missing(format!("attribute {name}")))
    }
}

fn xml_err(err: impl std::fmt::Display) -> AnchorError {
    AnchorError::Xml(err.to_string())
}

/// Reads the document into an element tree, refusing DTDs and non-predefined entities.
pub(super) fn parse_tree(xml: &str) -> Result<Element, AnchorError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        let text = match event {
            Event::Eof => break,
            Event::DocType(_) => return Err(AnchorError::Dtd),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => continue,
            Event::Start(start) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(AnchorError::Unexpected("element nesting".into()));
                }
                let name = std::str::from_utf8(start.name().as_ref())
                    .map_err(xml_err)?
                    .to_string();
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(xml_err)?;
                    let key = std::str::from_utf8(attr.key.as_ref())
                        .map_err(xml_err)?
                        .to_string();
                    let value = attr.unescape_value().map_err(|err| match err {
                        quick_xml::Error::Escape(e) => AnchorError::Entity(e.to_string()),
                        other => xml_err(other),
                    })?;
                    attrs.push((key, value.into_owned()));
                }
                stack.push(Element {
                    name,
                    attrs,
                    ..Element::default()
                });
                continue;
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| AnchorError::Unexpected("end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
                continue;
            }
            Event::Empty(_) => return Err(AnchorError::Unexpected("empty element".into())),
            Event::Text(text) => text.decode().map_err(xml_err)?.into_owned(),
            Event::CData(data) => data.decode().map_err(xml_err)?.into_owned(),
            Event::GeneralRef(reference) => match reference.resolve_char_ref().map_err(xml_err)? {
                Some(ch) => ch.to_string(),
                None => {
                    let name = reference.decode().map_err(xml_err)?;
                    resolve_predefined_entity(&name)
                        .ok_or_else(|| AnchorError::Entity(name.to_string()))?
                        .to_string()
                }
            },
        };
        match stack.last_mut() {
            Some(element) => element.text.push_str(&text),
            None if text.trim().is_empty() => {}
            None => {
                return Err(AnchorError::Unexpected(
                    "text outside the document element".into(),
                ));
            }
        }
    }
    if !stack.is_empty() {
        return Err(AnchorError::Xml("unexpected end of document".into()));
    }
    root.ok_or_else(|| AnchorError::Missing("TrustAnchor".into()))
}
