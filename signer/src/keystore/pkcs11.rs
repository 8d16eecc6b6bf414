//! [`Pkcs11Store`]: keys on a token behind any PKCS#11 module (ours, SoftHSM, a Luna or
//! Keyper), used the way IANA's ksrsigner uses them: a read-only session, `C_Login` as the
//! user when a PIN is given (an empty PIN included), keys found by label.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use super::public_key::KeyAttributes;
use super::{
    KeyRef, KeyStore, KeyStoreError, PublicKey, SignMechanism, SigningPath, check_owner,
    checked_mechanism, next_store_id, resolve_public_key,
};

/// One loaded module, shared by every store on it: `C_Initialize` and `C_Finalize` are once
/// per process and module, so the last store to close finalizes.
#[derive(Debug)]
struct LoadedModule {
    path: PathBuf,
    context: Pkcs11,
    /// False when someone else in the process had initialized the module: they finalize it.
    we_initialized: bool,
    users: usize,
}

static MODULES: Mutex<Vec<LoadedModule>> = Mutex::new(Vec::new());

fn modules() -> MutexGuard<'static, Vec<LoadedModule>> {
    MODULES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A store's hold on its module; dropping the last one finalizes the module.
#[derive(Debug)]
struct ModuleLease {
    path: PathBuf,
    context: Pkcs11,
}

impl ModuleLease {
    fn acquire(module: &Path) -> Result<Self, KeyStoreError> {
        let path = std::fs::canonicalize(module).unwrap_or_else(|_| module.to_path_buf());
        let failed = |reason: String| KeyStoreError::Module {
            module: module.display().to_string(),
            reason,
        };
        let mut modules = modules();
        if let Some(loaded) = modules.iter_mut().find(|m| m.path == path) {
            loaded.users += 1;
            return Ok(Self {
                path,
                context: loaded.context.clone(),
            });
        }
        let context = Pkcs11::new(&path).map_err(|e| failed(e.to_string()))?;
        let we_initialized =
            match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
                Ok(()) => true,
                Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
                Err(e) => return Err(failed(format!("C_Initialize: {}", short(&e)))),
            };
        modules.push(LoadedModule {
            path: path.clone(),
            context: context.clone(),
            we_initialized,
            users: 1,
        });
        Ok(Self { path, context })
    }
}

impl Drop for ModuleLease {
    fn drop(&mut self) {
        let mut modules = modules();
        let Some(index) = modules.iter().position(|m| m.path == self.path) else {
            return;
        };
        modules[index].users -= 1;
        if modules[index].users == 0 {
            let loaded = modules.remove(index);
            if loaded.we_initialized {
                // Nothing to report to at drop time; the process is done with the module.
                let _ = loaded.context.finalize();
            }
        }
    }
}

/// A PKCS#11 error as an operator reads it: the function and the `CKR_` value, with a hint
/// for the ones a ceremony meets.
fn short(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => {
            let hint = match rv {
                RvError::PinIncorrect => " (the PIN is wrong)",
                RvError::PinLocked => " (the PIN is locked: too many wrong PINs)",
                RvError::PinLenRange => " (the PIN is too short or too long for this token)",
                RvError::UserPinNotInitialized => " (the token has no user PIN yet)",
                RvError::TokenNotPresent => " (the token was removed)",
                RvError::UserNotLoggedIn => " (log in first: give the user PIN)",
                _ => "",
            };
            format!("C_{function:?} returned {rv:?}{hint}")
        }
        other => other.to_string(),
    }
}

/// Who the token is, as `C_GetTokenInfo` reports it, for the transcript.
#[derive(Clone, Debug)]
struct TokenIdentity {
    label: String,
    manufacturer: String,
    model: String,
    serial: String,
}

/// A read-only session on one token of a PKCS#11 module.
#[derive(Debug)]
pub struct Pkcs11Store {
    // Field order matters: the session closes before the lease finalizes the module.
    session: Session,
    /// The keys handed out, since `cryptoki` builds object handles only from its own calls.
    keys: Mutex<Vec<ObjectHandle>>,
    module: PathBuf,
    token: TokenIdentity,
    logged_in: bool,
    id: u64,
    _lease: ModuleLease,
}

impl Pkcs11Store {
    /// Loads `module`, finds the one token labelled `token_label`, opens a read-only session
    /// and, when `pin` is given, logs the user in with it. An empty PIN is still passed to
    /// `C_Login`, as IANA does for HSMs that authenticate on their own PIN pad.
    pub fn open(
        module: &Path,
        token_label: &str,
        pin: Option<Zeroizing<String>>,
    ) -> Result<Self, KeyStoreError> {
        let lease = ModuleLease::acquire(module)?;
        let context = &lease.context;
        let location = format!("PKCS#11 module {}", module.display());
        let module_error = |operation: &str, e: CkError| KeyStoreError::Token {
            store: location.clone(),
            operation: operation.to_string(),
            reason: short(&e),
        };
        let mut present = Vec::new();
        let mut matching: Vec<(Slot, TokenIdentity)> = Vec::new();
        for slot in context
            .get_slots_with_token()
            .map_err(|e| module_error("C_GetSlotList", e))?
        {
            let info = context
                .get_token_info(slot)
                .map_err(|e| module_error("C_GetTokenInfo", e))?;
            if info.label() == token_label {
                matching.push((
                    slot,
                    TokenIdentity {
                        label: info.label().to_string(),
                        manufacturer: info.manufacturer_id().to_string(),
                        model: info.model().to_string(),
                        serial: info.serial_number().to_string(),
                    },
                ));
            } else if info.token_initialized() {
                present.push(info.label().to_string());
            }
        }
        let (slot, token) = match matching.len() {
            1 => matching.remove(0),
            0 => {
                return Err(KeyStoreError::TokenNotFound {
                    token: token_label.to_string(),
                    location,
                    present,
                });
            }
            count => {
                return Err(KeyStoreError::DuplicateToken {
                    token: token_label.to_string(),
                    location,
                    count,
                });
            }
        };
        let session = context
            .open_ro_session(slot)
            .map_err(|e| module_error("C_OpenSession", e))?;
        let logged_in = match pin {
            None => false,
            Some(pin) => {
                let pin = AuthPin::new(pin.as_str().into());
                match session.login(UserType::User, Some(&pin)) {
                    Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => true,
                    Err(e) => {
                        return Err(KeyStoreError::Login {
                            store: describe(module, &token),
                            reason: short(&e),
                        });
                    }
                }
            }
        };
        Ok(Self {
            session,
            keys: Mutex::new(Vec::new()),
            module: module.to_path_buf(),
            token,
            logged_in,
            id: next_store_id(),
            _lease: lease,
        })
    }

    fn error(&self, operation: &str, e: CkError) -> KeyStoreError {
        KeyStoreError::Token {
            store: self.describe(),
            operation: operation.to_string(),
            reason: short(&e),
        }
    }

    fn find_keys(
        &self,
        class: ObjectClass,
        label: Option<&str>,
    ) -> Result<Vec<ObjectHandle>, KeyStoreError> {
        let mut template = vec![Attribute::Class(class)];
        if let Some(label) = label {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        self.session
            .find_objects(&template)
            .map_err(|e| self.error("C_FindObjects", e))
    }

    fn attributes(&self, handle: ObjectHandle) -> Result<KeyAttributes, KeyStoreError> {
        let types = [
            AttributeType::KeyType,
            AttributeType::Modulus,
            AttributeType::PublicExponent,
            AttributeType::EcParams,
            AttributeType::EcPoint,
        ];
        let mut attrs = KeyAttributes::default();
        for attribute in self
            .session
            .get_attributes(handle, &types)
            .map_err(|e| self.error("C_GetAttributeValue", e))?
        {
            match attribute {
                Attribute::KeyType(key_type) => attrs.key_type = Some(key_type.into()),
                Attribute::Modulus(v) => attrs.modulus = Some(v),
                Attribute::PublicExponent(v) => attrs.public_exponent = Some(v),
                Attribute::EcParams(v) => attrs.ec_params = Some(v),
                Attribute::EcPoint(v) => attrs.ec_point = Some(v),
                _ => {}
            }
        }
        Ok(attrs)
    }

    fn public_key_of(&self, label: &str, handle: ObjectHandle) -> Result<PublicKey, KeyStoreError> {
        let private = self.attributes(handle)?;
        resolve_public_key(label, &|| self.describe(), &private, || {
            self.find_keys(ObjectClass::PUBLIC_KEY, Some(label))?
                .into_iter()
                .map(|h| self.attributes(h))
                .collect()
        })
    }

    fn handle_of(&self, key: &KeyRef) -> Result<ObjectHandle, KeyStoreError> {
        check_owner(key, self.id, || self.describe())?;
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .find(|h| h.handle() == key.handle)
            .copied()
            .ok_or_else(|| KeyStoreError::ForeignKey {
                label: key.label.clone(),
                store: self.describe(),
            })
    }
}

fn describe(module: &Path, token: &TokenIdentity) -> String {
    format!(
        "PKCS#11 module {}, token {:?} ({}, {}, serial {})",
        module.display(),
        token.label,
        token.manufacturer,
        token.model,
        token.serial
    )
}

impl KeyStore for Pkcs11Store {
    fn key(&self, label: &str) -> Result<KeyRef, KeyStoreError> {
        let handles = self.find_keys(ObjectClass::PRIVATE_KEY, Some(label))?;
        let handle = super::only_key(label, &handles, self, self.logged_in)?;
        let kind = self.public_key_of(label, handle)?.kind();
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if !keys.iter().any(|h| h.handle() == handle.handle()) {
            keys.push(handle);
        }
        Ok(KeyRef {
            label: label.to_string(),
            kind,
            store: self.id,
            handle: handle.handle(),
        })
    }

    fn public_key(&self, key: &KeyRef) -> Result<PublicKey, KeyStoreError> {
        let handle = self.handle_of(key)?;
        self.public_key_of(&key.label, handle)
    }

    fn sign(
        &self,
        key: &KeyRef,
        dnssec_algorithm: u8,
        path: SigningPath,
        input: &[u8],
    ) -> Result<Vec<u8>, KeyStoreError> {
        let handle = self.handle_of(key)?;
        let mechanism = checked_mechanism(key, dnssec_algorithm, path, input)?;
        let p11_mechanism = match mechanism {
            SignMechanism::RsaX509 => Mechanism::RsaX509,
            SignMechanism::Sha256RsaPkcs => Mechanism::Sha256RsaPkcs,
            SignMechanism::Sha512RsaPkcs => Mechanism::Sha512RsaPkcs,
            SignMechanism::Ecdsa => Mechanism::Ecdsa,
            SignMechanism::EcdsaSha256 => Mechanism::EcdsaSha256,
            SignMechanism::EcdsaSha384 => Mechanism::EcdsaSha384,
            SignMechanism::EddsaEd25519 => {
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure))
            }
            SignMechanism::EddsaEd448 => {
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Ed448(&[])))
            }
        };
        self.session
            .sign(&p11_mechanism, handle, input)
            .map_err(|e| match e {
                CkError::Pkcs11(RvError::MechanismInvalid, _) => {
                    KeyStoreError::MechanismNotOffered {
                        label: key.label.clone(),
                        store: self.describe(),
                        mechanism,
                        path,
                    }
                }
                e => KeyStoreError::Token {
                    store: self.describe(),
                    operation: format!("C_Sign with {mechanism} and key {:?}", key.label),
                    reason: short(&e),
                },
            })
    }

    fn describe(&self) -> String {
        describe(&self.module, &self.token)
    }

    fn labels(&self) -> Result<Vec<String>, KeyStoreError> {
        self.find_keys(ObjectClass::PRIVATE_KEY, None)?
            .into_iter()
            .map(|handle| {
                let attributes = self
                    .session
                    .get_attributes(handle, &[AttributeType::Label])
                    .map_err(|e| self.error("C_GetAttributeValue", e))?;
                Ok(attributes
                    .into_iter()
                    .find_map(|a| match a {
                        Attribute::Label(label) => {
                            Some(String::from_utf8_lossy(&label).into_owned())
                        }
                        _ => None,
                    })
                    .unwrap_or_default())
            })
            .collect()
    }
}
