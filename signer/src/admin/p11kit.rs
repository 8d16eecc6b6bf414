//! `strongroom p11-kit install`: writes the p11-kit module file that lets p11-kit-aware tools
//! (p11tool, GnuTLS, p11-kit-proxy, `p11-kit list-modules`) find the module by name.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::Output;
use crate::error::{CliError, CliResult, fail};

/// Where the module is installed by default (Debian's multiarch PKCS#11 directory).
pub const DEFAULT_MODULE: &str = "/usr/lib/x86_64-linux-gnu/pkcs11/libstrongroom_pkcs11.so";

/// p11-kit's configuration directory: the system one for root, else the user's.
fn default_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match home {
        Some(home) if !is_root() => home.join(".config/pkcs11/modules"),
        _ => PathBuf::from("/etc/pkcs11/modules"),
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Writes `strongroom.module` naming `module` into `dir` (p11-kit's module directory).
pub fn install(module: Option<&Path>, dir: Option<&Path>) -> CliResult<Output> {
    let module = module.map_or_else(|| PathBuf::from(DEFAULT_MODULE), Path::to_path_buf);
    if !module.is_absolute() {
        return fail(format!(
            "--module {}: p11-kit needs an absolute path",
            module.display()
        ));
    }
    if !module.exists() {
        return fail(format!(
            "--module {}: no such file; build or install the module first",
            module.display()
        ));
    }
    let dir = dir.map_or_else(default_dir, Path::to_path_buf);
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError(format!("{}: cannot create: {e}", dir.display())))?;
    let file = dir.join("strongroom.module");
    let text = format!(
        "# Strongroom software HSM for DNSSEC key ceremonies (written by `strongroom p11-kit install`)\nmodule: {}\n",
        module.display()
    );
    std::fs::write(&file, text)
        .map_err(|e| CliError(format!("{}: cannot write: {e}", file.display())))?;
    Ok(Output {
        human: format!("wrote {} naming {}\n", file.display(), module.display()),
        json: json!({ "file": file.display().to_string(), "module": module.display().to_string() }),
    })
}
