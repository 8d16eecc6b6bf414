//! Links the module with `-z nodelete`: clients dlclose a PKCS#11 module when they are done,
//! but thread-local destructors registered inside it (Rust's and aws-lc's) run later, at
//! thread exit, and would jump into unmapped code. Staying mapped is what OpenSSL and other
//! long-lived libraries do for the same reason.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
