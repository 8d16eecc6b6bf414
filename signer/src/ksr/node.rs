//! Schema-reading helpers over the element tree: attributes, required and repeated
//! children, leaves, numbers, times and base64, each error carrying its position and bundle.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::error::{At, XmlError};
use super::time::Timestamp;
use super::tree::{Element, is_xml_space};

/// An element plus the bundle it sits in, so every error can say where it is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node<'a> {
    pub el: &'a Element,
    pub bundle: Option<&'a str>,
}

impl<'a> Node<'a> {
    pub(super) fn node(&self, child: &'a Element) -> Node<'a> {
        Node {
            el: child,
            bundle: self.bundle,
        }
    }

    pub(super) fn at(&self) -> At {
        self.at_child(self.el)
    }

    pub(super) fn at_child(&self, el: &Element) -> At {
        At {
            offset: el.offset,
            bundle: self.bundle.map(str::to_owned),
        }
    }

    pub(super) fn name(&self) -> String {
        self.el.name.clone()
    }

    /// Refuses attributes outside `allowed`.
    pub(super) fn attributes(&self, allowed: &[&str]) -> Result<(), XmlError> {
        match self
            .el
            .attrs
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(XmlError::UnexpectedAttribute {
                attribute: k.clone(),
                element: self.name(),
                at: self.at(),
            }),
            None => Ok(()),
        }
    }

    /// An element that holds only elements from `allowed` (and whitespace).
    pub(super) fn container(&self, allowed: &[&str]) -> Result<(), XmlError> {
        if let Some(c) = self
            .el
            .children
            .iter()
            .find(|c| !allowed.contains(&c.name.as_str()))
        {
            return Err(XmlError::UnexpectedElement {
                element: c.name.clone(),
                parent: self.name(),
                at: self.at_child(c),
            });
        }
        if !is_xml_space(&self.el.text) {
            let mut text: String = self.el.text.trim().chars().take(40).collect();
            if text.len() < self.el.text.trim().len() {
                text.push('…');
            }
            return Err(XmlError::StrayText {
                parent: self.name(),
                text,
                at: self.at(),
            });
        }
        Ok(())
    }

    /// An element with the given attributes and no content at all.
    pub(super) fn empty(&self, allowed_attrs: &[&str]) -> Result<(), XmlError> {
        self.attributes(allowed_attrs)?;
        self.container(&[])
    }

    pub(super) fn opt_attr(&self, name: &str) -> Option<&'a str> {
        self.el
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn attr(&self, name: &'static str) -> Result<&'a str, XmlError> {
        self.opt_attr(name)
            .ok_or_else(|| XmlError::MissingAttribute {
                attribute: name,
                element: self.name(),
                at: self.at(),
            })
    }

    pub(super) fn non_empty_attr(&self, name: &'static str) -> Result<&'a str, XmlError> {
        let value = self.attr(name)?;
        if value.trim().is_empty() {
            let subject = format!("<{}> {name}", self.el.name);
            return Err(self.bad_value(&subject, value, "a non-empty value"));
        }
        Ok(value)
    }

    pub(super) fn all(&self, name: &'a str) -> impl Iterator<Item = Node<'a>> + 'a {
        let bundle = self.bundle;
        self.el
            .children
            .iter()
            .filter(move |c| c.name == name)
            .map(move |el| Node { el, bundle })
    }

    pub(super) fn missing(&self, name: &'static str) -> XmlError {
        XmlError::MissingElement {
            element: name,
            parent: self.name(),
            at: self.at(),
        }
    }

    /// Exactly one child called `name`.
    pub(super) fn one(&self, name: &'static str) -> Result<Node<'a>, XmlError> {
        let mut found = self.all(name);
        let first = found.next().ok_or_else(|| self.missing(name))?;
        if let Some(second) = found.next() {
            return Err(XmlError::DuplicateElement {
                element: name.into(),
                parent: self.name(),
                at: second.at(),
            });
        }
        Ok(first)
    }

    /// The trimmed text of the single leaf child `name`, and the leaf for error positions.
    pub(super) fn leaf(&self, name: &'static str) -> Result<(&'a str, Node<'a>), XmlError> {
        let leaf = self.one(name)?;
        leaf.attributes(&[])?;
        if let Some(c) = leaf.el.children.first() {
            return Err(XmlError::UnexpectedElement {
                element: c.name.clone(),
                parent: leaf.name(),
                at: leaf.at_child(c),
            });
        }
        let text = leaf.el.text.trim_matches([' ', '\t', '\r', '\n']);
        Ok((text, leaf))
    }

    pub(super) fn bad_value(&self, subject: &str, value: &str, expected: &'static str) -> XmlError {
        let mut shown: String = value.chars().take(60).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }
        XmlError::BadValue {
            subject: subject.to_owned(),
            value: shown,
            expected,
            at: self.at(),
        }
    }

    /// A number in the single leaf child `name`.
    pub(super) fn num_leaf<T: Number>(&self, name: &'static str) -> Result<T, XmlError> {
        let (text, leaf) = self.leaf(name)?;
        let subject = format!("<{}> <{name}>", self.el.name);
        number(text).ok_or_else(|| leaf.bad_value(&subject, text, T::EXPECTED))
    }

    /// A number in the required attribute `name`.
    pub(super) fn num_attr<T: Number>(&self, name: &'static str) -> Result<T, XmlError> {
        let text = self.attr(name)?;
        let subject = format!("<{}> {name}", self.el.name);
        number(text).ok_or_else(|| self.bad_value(&subject, text, T::EXPECTED))
    }

    pub(super) fn time_leaf(&self, name: &'static str) -> Result<Timestamp, XmlError> {
        let (text, leaf) = self.leaf(name)?;
        Timestamp::parse_xsd(text).map_err(|source| XmlError::BadTime {
            subject: format!("<{}> <{name}>", self.el.name),
            source,
            at: leaf.at(),
        })
    }

    /// xsd:base64Binary: whitespace inside is allowed, padding and canonical bits are not
    /// optional, and an empty value is refused (no key or signature is empty).
    pub(super) fn base64_leaf(&self, name: &'static str) -> Result<Vec<u8>, XmlError> {
        let (text, leaf) = self.leaf(name)?;
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
            .collect();
        let bad = |detail: String| XmlError::BadBase64 {
            subject: format!("<{}> <{name}>", self.el.name),
            detail,
            at: leaf.at(),
        };
        if compact.is_empty() {
            return Err(bad("it is empty".into()));
        }
        STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| bad(e.to_string()))
    }
}

/// The unsigned integer types the format uses, with their range for error messages.
pub(super) trait Number: FromStr {
    const EXPECTED: &'static str;
}

impl Number for u8 {
    const EXPECTED: &'static str = "a number 0–255";
}

impl Number for u16 {
    const EXPECTED: &'static str = "a number 0–65535";
}

impl Number for u32 {
    const EXPECTED: &'static str = "a number 0–4294967295";
}

impl Number for u64 {
    const EXPECTED: &'static str = "a non-negative integer below 2^64";
}

/// Decimal ASCII digits only (leading zeros allowed, as in `05017`; no sign or spaces),
/// within the range of `T`.
fn number<T: Number>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
