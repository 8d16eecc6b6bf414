//! Integration tests live in `tests/tests/*.rs`; they run the built `strongroom` binary and,
//! later, the PKCS#11 module through real clients.
#![forbid(unsafe_code)]
