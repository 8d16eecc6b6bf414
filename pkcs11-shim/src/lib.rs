//! `libstrongroom_pkcs11.so`: the PKCS#11 C ABI over hsm-core.
//!
//! Not built yet: the module is the subject of its own issue. This crate exists so the
//! workspace has its final shape and the build already links hsm-core as a cdylib would.
