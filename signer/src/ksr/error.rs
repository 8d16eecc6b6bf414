//! Why a KSR/SKR file was refused, worded for the ceremony operator: each message names the
//! element or attribute, the bundle when there is one, and the byte offset in the file.

use std::fmt;

use thiserror::Error;

use super::time::TimeError;

/// Where in the file a problem sits: the byte offset of the element's `<`, and the id of
/// the enclosing bundle if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// `id` of the enclosing `RequestBundle`/`ResponseBundle`.
    pub bundle: Option<String>,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.bundle {
            Some(id) => write!(f, "bundle {id} (byte {})", self.offset),
            None => write!(f, "byte {}", self.offset),
        }
    }
}

/// A KSR/SKR document that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    #[error("the file is {size} bytes; a KSR/SKR may be at most 1 MiB (1048576 bytes)")]
    TooLarge { size: usize },

    #[error("the file is not valid UTF-8 (byte {offset})")]
    NotUtf8 { offset: usize },

    #[error("malformed XML at byte {offset}: {detail}")]
    Malformed { offset: u64, detail: String },

    #[error("the file ends inside <{element}>: truncated document?")]
    Truncated { element: String },

    #[error("byte {offset}: {what} is not allowed in a KSR/SKR")]
    Forbidden { what: &'static str, offset: u64 },

    #[error(
        "byte {offset}: reference &{name}; is not allowed \
         (only &lt; &gt; &amp; &apos; &quot; may appear)"
    )]
    Reference { name: String, offset: u64 },

    #[error("{at}: text {text:?} is not allowed inside <{parent}>, which holds only elements")]
    StrayText {
        parent: String,
        text: String,
        at: At,
    },

    #[error("byte {offset}: content after </KSR> is not allowed")]
    TrailingContent { offset: u64 },

    #[error("no <KSR> element: this is not a KSR/SKR document")]
    NoRoot,

    #[error("byte {offset}: the root element is <{found}>, not <KSR>")]
    WrongRoot { found: String, offset: u64 },

    #[error("{at}: <{element}> is nested deeper than the KSR format allows")]
    TooDeep { element: String, at: At },

    #[error("{at}: unexpected element <{element}> inside <{parent}>")]
    UnexpectedElement {
        element: String,
        parent: String,
        at: At,
    },

    #[error("{at}: <{parent}> lacks the required <{element}>")]
    MissingElement {
        element: &'static str,
        parent: String,
        at: At,
    },

    #[error("{at}: <{parent}> has more than one <{element}>")]
    DuplicateElement {
        element: String,
        parent: String,
        at: At,
    },

    #[error("{at}: <{element}> lacks the required attribute {attribute}")]
    MissingAttribute {
        attribute: &'static str,
        element: String,
        at: At,
    },

    #[error("{at}: <{element}> has an unexpected attribute {attribute:?}")]
    UnexpectedAttribute {
        attribute: String,
        element: String,
        at: At,
    },

    #[error("{at}: {subject} {value:?} is not {expected}")]
    BadValue {
        subject: String,
        value: String,
        expected: &'static str,
        at: At,
    },

    #[error("{at}: {subject} is not valid base64: {detail}")]
    BadBase64 {
        subject: String,
        detail: String,
        at: At,
    },

    #[error("{at}: {subject}: {source}")]
    BadTime {
        subject: String,
        source: TimeError,
        at: At,
    },
}
