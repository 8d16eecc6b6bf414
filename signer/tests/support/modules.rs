//! The tokens the key stores are tested on: an embedded token in this process, and tokens of
//! PKCS#11 modules (ours and SoftHSM 2), driven from a child process because a module keeps
//! one state per process (C_Initialize is once per process, and the modules read their
//! configuration from the environment there).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use hsm_core::crypto::RsaPrivateParts;
use hsm_core::kdf::KdfParams;
use hsm_core::token::NewToken;
use hsm_core::{Config, Hsm};
use signer::admin::activation::KeyAccess;

pub const TOKEN: &str = "ksk-token";
pub const USER_PIN: &str = "user-pin-1234";
pub const SO_PIN: &str = "so-pin-123456";
pub const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Set in the child process that drives the PKCS#11 modules.
const CHILD_ENV: &str = "SIGNER_TEST_CHILD";

/// Writes a PIN file, mode 0600.
pub fn pin_file(dir: &Path, name: &str, pin: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A throwaway embedded token [`TOKEN`] (cheap Argon2), with the user PIN in a PIN file.
pub struct EmbeddedToken {
    pub hsm: Arc<Hsm>,
    pub access: KeyAccess,
    /// The token directory and the PIN file; removed last.
    pub dir: tempfile::TempDir,
}

pub fn embedded_token() -> EmbeddedToken {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_token_dir(dir.path().join("tokens"));
    config.pin_kdf = KdfParams::TESTING;
    config.card_kdf = KdfParams::TESTING;
    let hsm = Arc::new(Hsm::new(config).unwrap());
    hsm.create_token(&NewToken {
        label: TOKEN,
        so_pin: SO_PIN.as_bytes(),
        user_pin: Some(USER_PIN.as_bytes()),
        slot_id: 0,
        pin_kdf: KdfParams::TESTING,
        quorum: None,
    })
    .unwrap();
    let access = KeyAccess {
        pin_file: Some(pin_file(dir.path(), "user.pin", USER_PIN)),
        ..KeyAccess::default()
    };
    EmbeddedToken { hsm, access, dir }
}

/// The built `libstrongroom_pkcs11.so`: `STRONGROOM_TEST_MODULE`, else next to the test
/// binaries (cargo does not build it for `cargo test -p signer`).
pub fn strongroom_module() -> Option<PathBuf> {
    find_strongroom_module(None)
}

/// [`strongroom_module`], else the workspace's `target/debug` (where `cargo build -p
/// pkcs11-shim` puts it).
pub fn strongroom_module_or_workspace_build() -> Option<PathBuf> {
    find_strongroom_module(Some(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug"))
            .join("libstrongroom_pkcs11.so"),
    ))
}

fn find_strongroom_module(also: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRONGROOM_TEST_MODULE") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libstrongroom_pkcs11.so"),
        deps.join("../libstrongroom_pkcs11.so"),
    ]
    .into_iter()
    .chain(also)
    .filter(|p| p.is_file())
    .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

/// Where a module under test is, or `None` (skipped loudly, or a failure under
/// `STRONGROOM_REQUIRE_TOOLS=1`) when it is missing; `test` names what then did not run.
fn module_or_skip(path: Option<PathBuf>, what: &str, how: &str, test: &str) -> Option<PathBuf> {
    if let Some(path) = path.filter(|p| p.is_file()) {
        return Some(path);
    }
    if super::tools_required() {
        panic!("{what} is missing and STRONGROOM_REQUIRE_TOOLS=1: {how}");
    }
    eprintln!("\n*** SKIPPED: {what} is missing ({how}); its {test} did NOT run ***\n");
    None
}

/// A PKCS#11 module a child process tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    Strongroom,
    SoftHsm,
}

impl Module {
    pub fn name(self) -> &'static str {
        match self {
            Self::Strongroom => "strongroom",
            Self::SoftHsm => "softhsm",
        }
    }

    /// Where the parent tells the child this module is.
    fn env(self) -> &'static str {
        match self {
            Self::Strongroom => "SIGNER_TEST_STRONGROOM_MODULE",
            Self::SoftHsm => "SIGNER_TEST_SOFTHSM_MODULE",
        }
    }
}

/// The modules a parent test hands to its child: ours and SoftHSM, those that are installed.
#[derive(Debug)]
pub struct Modules {
    pub ours: Option<PathBuf>,
    pub softhsm: Option<PathBuf>,
}

impl Modules {
    /// Both modules, each skipped loudly when missing (`test` names what then did not run);
    /// `None` when neither is there.
    pub fn find_or_skip(test: &str) -> Option<Self> {
        let ours = module_or_skip(
            strongroom_module(),
            "libstrongroom_pkcs11.so",
            "build it with `cargo build -p pkcs11-shim`",
            test,
        );
        let softhsm = module_or_skip(
            Some(PathBuf::from(SOFTHSM)),
            SOFTHSM,
            "install SoftHSM 2 (apt-get install softhsm2)",
            test,
        );
        (ours.is_some() || softhsm.is_some()).then_some(Self { ours, softhsm })
    }

    /// Runs the `#[ignore]`d test `child` of this test binary in a child process, with a
    /// scratch configuration of cheap Argon2 for our module, an empty token store for
    /// SoftHSM, and the modules to test; asserts it passed and returns its stderr.
    pub fn run_child(&self, child: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("strongroom.toml");
        std::fs::write(
            &conf,
            "token_dir = \"tokens\"\n[kdf]\npin = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }\n\
             card = { m_cost_kib = 8, t_cost = 1, p_cost = 1 }\n",
        )
        .unwrap();
        let softhsm_tokens = dir.path().join("softhsm-tokens");
        std::fs::create_dir(&softhsm_tokens).unwrap();
        let softhsm_conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &softhsm_conf,
            format!("directories.tokendir = {}\n", softhsm_tokens.display()),
        )
        .unwrap();
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                child,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .env("STRONGROOM_CONF", &conf)
            .env("SOFTHSM2_CONF", &softhsm_conf);
        for (module, path) in [
            (Module::Strongroom, &self.ours),
            (Module::SoftHsm, &self.softhsm),
        ] {
            if let Some(path) = path {
                command.env(module.env(), path);
            }
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the PKCS#11 child failed:\n{stdout}\n{stderr}"
        );
        stderr.into_owned()
    }
}

/// In the child [`Modules::run_child`] started: the modules to test, ours first. Elsewhere
/// (the child test run on its own) `None`, saying so.
pub fn child_modules(parent: &str) -> Option<Vec<(Module, PathBuf)>> {
    if std::env::var_os(CHILD_ENV).is_none() {
        eprintln!("this test runs only as {parent}'s child");
        return None;
    }
    Some(
        [Module::Strongroom, Module::SoftHsm]
            .into_iter()
            .filter_map(|module| Some((module, PathBuf::from(std::env::var_os(module.env())?))))
            .collect(),
    )
}

/// Initialises a token [`TOKEN`] on `module` as PyKCS11 users do (C_InitToken on a free slot,
/// C_InitPIN as the SO) and returns the module and a read-write session logged in as the
/// user. The caller closes the session and finalizes the module.
pub fn init_token(module: &Path) -> (Pkcs11, Session) {
    let context = Pkcs11::new(module).unwrap();
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let free = context
        .get_all_slots()
        .unwrap()
        .into_iter()
        .find(|slot| {
            context
                .get_token_info(*slot)
                .is_ok_and(|info| !info.token_initialized())
        })
        .expect("a slot with an uninitialised token");
    let so_pin = AuthPin::new(SO_PIN.into());
    let user_pin = AuthPin::new(USER_PIN.into());
    context.init_token(free, &so_pin, TOKEN).unwrap();
    // SoftHSM renumbers the slot once its token is initialised: find it again by label.
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| context.get_token_info(*slot).unwrap().label() == TOKEN)
        .unwrap();
    let session = context.open_rw_session(slot).unwrap();
    session.login(UserType::So, Some(&so_pin)).unwrap();
    session.init_pin(&user_pin).unwrap();
    session.logout().unwrap();
    session.login(UserType::User, Some(&user_pin)).unwrap();
    (context, session)
}

/// Imports an RSA key pair labelled `label` with C_CreateObject: label only, no CKA_ID, as
/// IANA's keys are.
pub fn create_rsa_key_pair(session: &Session, label: &str, parts: &RsaPrivateParts) {
    let label = label.as_bytes().to_vec();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::Label(label.clone()),
            Attribute::Modulus(parts.n.clone()),
            Attribute::PublicExponent(parts.e.clone()),
            Attribute::PrivateExponent(parts.d.expose().to_vec()),
            Attribute::Prime1(parts.p.expose().to_vec()),
            Attribute::Prime2(parts.q.expose().to_vec()),
            Attribute::Exponent1(parts.dp.expose().to_vec()),
            Attribute::Exponent2(parts.dq.expose().to_vec()),
            Attribute::Coefficient(parts.qinv.expose().to_vec()),
        ])
        .unwrap();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::Label(label),
            Attribute::Modulus(parts.n.clone()),
            Attribute::PublicExponent(parts.e.clone()),
        ])
        .unwrap();
}
