//! Encryption and decryption through sessions: AES (ECB, CBC, CBC_PAD, CTR, GCM) with secret
//! keys, RSA (PKCS#1 v1.5, OAEP, raw) with key pairs.
//!
//! Every call that produces output takes the caller's room for it (`None` for a size query)
//! and answers [`Output::Needed`] without touching the operation when the output would not
//! fit, so the two-call convention never ends or advances an operation. A size query never
//! answers 0 for a call that ends the operation: clients that then pass NULL again for an
//! empty buffer (PyKCS11) would never end it, nor, for GCM, have the tag checked. A single-part call and
//! `*Final` compute on a copy of the state and end the operation only once the output is
//! handed over; an error ends it, as the spec requires.

use cryptoki_sys as ck;

use super::{append, lock};
use crate::crypto::{AesCipher, Direction};
use crate::error::{Error, Result};
use crate::hsm::Hsm;
use crate::mechanism::{self, CryptMechanism, Mechanism};
use crate::secret::SecretBytes;
use crate::session::{CryptEngine, CryptOp, Output, Session, Stage};
use crate::token::UserType;

fn slot(session: &mut Session, direction: Direction) -> &mut Option<CryptOp> {
    match direction {
        Direction::Encrypt => &mut session.encrypt,
        Direction::Decrypt => &mut session.decrypt,
    }
}

/// The RSA modulus length in bytes: the ciphertext length, and a bound on any plaintext.
fn rsa_len(engine: &CryptEngine) -> usize {
    match engine {
        CryptEngine::RsaEncrypt { key, .. } => key.public().bits().div_ceil(8),
        CryptEngine::RsaDecrypt { key, .. } => key.public().bits().div_ceil(8),
        CryptEngine::Aes(_) => 0,
    }
}

/// At least the length of a single-part call's output over `len` bytes.
fn one_shot_len(engine: &CryptEngine, len: usize) -> usize {
    match engine {
        CryptEngine::Aes(cipher) => cipher.one_shot_len(len),
        rsa => rsa_len(rsa),
    }
}

/// The whole operation over `data` (plus anything buffered), leaving the state untouched.
fn run(engine: &CryptEngine, data: &[u8]) -> Result<SecretBytes> {
    Ok(match engine {
        CryptEngine::Aes(cipher) => SecretBytes::new(cipher.one_shot(data)?),
        CryptEngine::RsaEncrypt {
            key,
            mechanism,
            data: buffered,
        } => SecretBytes::new(key.encrypt(mechanism, &joined(buffered, data))?),
        CryptEngine::RsaDecrypt {
            key,
            mechanism,
            data: buffered,
        } => key.decrypt(mechanism, &joined(buffered, data))?,
    })
}

fn joined(buffered: &[u8], data: &[u8]) -> Vec<u8> {
    let mut all = buffered.to_vec();
    all.extend_from_slice(data);
    all
}

/// The output if it fits in `room`; otherwise only its length.
fn fits(output: SecretBytes, room: usize) -> Output {
    if output.len() > room {
        Output::Needed(output.len())
    } else {
        Output::Data(output)
    }
}

impl Hsm {
    /// `C_EncryptInit`: AES with a secret key, RSA with a public key.
    pub fn encrypt_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        self.crypt_init(session, mechanism, key, Direction::Encrypt)
    }

    /// `C_DecryptInit`: AES with a secret key, RSA with a private key.
    pub fn decrypt_init(&self, session: u64, mechanism: &Mechanism, key: u64) -> Result<()> {
        self.crypt_init(session, mechanism, key, Direction::Decrypt)
    }

    /// `C_Encrypt`: single-part.
    pub fn encrypt(&self, session: u64, data: &[u8], room: Option<usize>) -> Result<Output> {
        self.crypt(session, Direction::Encrypt, data, room)
    }

    /// `C_EncryptUpdate`.
    pub fn encrypt_update(&self, session: u64, part: &[u8], room: Option<usize>) -> Result<Output> {
        self.crypt_update(session, Direction::Encrypt, part, room)
    }

    /// `C_EncryptFinal`.
    pub fn encrypt_final(&self, session: u64, room: Option<usize>) -> Result<Output> {
        self.crypt_final(session, Direction::Encrypt, room)
    }

    /// `C_Decrypt`: single-part.
    pub fn decrypt(&self, session: u64, data: &[u8], room: Option<usize>) -> Result<Output> {
        self.crypt(session, Direction::Decrypt, data, room)
    }

    /// `C_DecryptUpdate`.
    pub fn decrypt_update(&self, session: u64, part: &[u8], room: Option<usize>) -> Result<Output> {
        self.crypt_update(session, Direction::Decrypt, part, room)
    }

    /// `C_DecryptFinal`.
    pub fn decrypt_final(&self, session: u64, room: Option<usize>) -> Result<Output> {
        self.crypt_final(session, Direction::Decrypt, room)
    }

    fn crypt_init(
        &self,
        session: u64,
        mechanism: &Mechanism,
        key: u64,
        direction: Direction,
    ) -> Result<()> {
        let (_, _, token) = self.session_token(session)?;
        let handle = self.session(session)?;
        if slot(&mut lock(&handle), direction).is_some() {
            return Err(Error::OperationActive);
        }
        let parsed = mechanism::crypt_mechanism(mechanism)?;
        let entry = self
            .visible(&token, key)
            .map_err(|_| Error::KeyHandleInvalid(key))?;
        let attrs = &entry.attrs;
        if attrs.ulong(ck::CKA_KEY_TYPE) != Some(parsed.key_type()) {
            return Err(Error::KeyTypeInconsistent);
        }
        let class = attrs.ulong(ck::CKA_CLASS);
        let (usage, class_fits, refusal) = match direction {
            Direction::Encrypt => (
                ck::CKA_ENCRYPT,
                matches!(class, Some(ck::CKO_PUBLIC_KEY | ck::CKO_SECRET_KEY)),
                "CKA_ENCRYPT is false",
            ),
            Direction::Decrypt => (
                ck::CKA_DECRYPT,
                matches!(class, Some(ck::CKO_PRIVATE_KEY | ck::CKO_SECRET_KEY)),
                "CKA_DECRYPT is false",
            ),
        };
        if !class_fits {
            return Err(Error::KeyFunctionNotPermitted(match direction {
                Direction::Encrypt => "only public and secret keys encrypt",
                Direction::Decrypt => "only private and secret keys decrypt",
            }));
        }
        // Private and secret key material is used only with the user logged in.
        if class != Some(ck::CKO_PUBLIC_KEY) && token.login_state() != Some(UserType::User) {
            return Err(Error::UserNotLoggedIn);
        }
        if attrs.bool(usage) != Some(true) {
            return Err(Error::KeyFunctionNotPermitted(refusal));
        }
        let engine = match parsed {
            CryptMechanism::Aes(mode) => {
                let value = attrs
                    .get(ck::CKA_VALUE)
                    .ok_or_else(|| Error::Corrupt("a secret key without CKA_VALUE".into()))?;
                CryptEngine::Aes(AesCipher::new(value, mode, direction)?)
            }
            CryptMechanism::Rsa(mechanism) => match direction {
                Direction::Encrypt => CryptEngine::RsaEncrypt {
                    key: entry.verifying_key(token.provider())?,
                    mechanism,
                    data: Vec::new(),
                },
                Direction::Decrypt => CryptEngine::RsaDecrypt {
                    key: entry.signing_key(token.provider())?,
                    mechanism,
                    data: Vec::new(),
                },
            },
        };
        let mut session = lock(&handle);
        let slot = slot(&mut session, direction);
        if slot.is_some() {
            return Err(Error::OperationActive);
        }
        *slot = Some(CryptOp {
            engine,
            stage: Stage::Fresh,
        });
        Ok(())
    }

    fn crypt(
        &self,
        session: u64,
        direction: Direction,
        data: &[u8],
        room: Option<usize>,
    ) -> Result<Output> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let slot = slot(&mut session, direction);
        let op = slot.as_ref().ok_or(Error::OperationNotInitialized)?;
        if op.stage != Stage::Fresh {
            *slot = None;
            return Err(Error::OperationActive);
        }
        let Some(room) = room else {
            return Ok(Output::Needed(one_shot_len(&op.engine, data.len()).max(1)));
        };
        match run(&op.engine, data) {
            Ok(output) => {
                let output = fits(output, room);
                if matches!(output, Output::Data(_)) {
                    *slot = None;
                }
                Ok(output)
            }
            Err(e) => {
                *slot = None;
                Err(e)
            }
        }
    }

    fn crypt_update(
        &self,
        session: u64,
        direction: Direction,
        part: &[u8],
        room: Option<usize>,
    ) -> Result<Output> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let slot = slot(&mut session, direction);
        let op = slot.as_mut().ok_or(Error::OperationNotInitialized)?;
        // A size query gets a bound that is not 0 for non-empty input (see
        // `AesCipher::update_bound`); a short buffer is judged by the exact length.
        let (bound, needed) = match &op.engine {
            CryptEngine::Aes(cipher) => (
                cipher.update_bound(part.len()),
                cipher.update_len(part.len()),
            ),
            _ => (part.len(), 0),
        };
        match room {
            None => return Ok(Output::Needed(bound)),
            Some(room) if room < needed => return Ok(Output::Needed(needed)),
            Some(_) => {}
        }
        op.stage = Stage::MultiPart;
        let result = match &mut op.engine {
            CryptEngine::Aes(cipher) => cipher.update(part).map_err(Error::from),
            CryptEngine::RsaEncrypt { data, .. } | CryptEngine::RsaDecrypt { data, .. } => {
                append(data, part).map(|()| Vec::new())
            }
        };
        match result {
            Ok(output) => Ok(Output::Data(SecretBytes::new(output))),
            Err(e) => {
                *slot = None;
                Err(e)
            }
        }
    }

    fn crypt_final(
        &self,
        session: u64,
        direction: Direction,
        room: Option<usize>,
    ) -> Result<Output> {
        let handle = self.session(session)?;
        let mut session = lock(&handle);
        let slot = slot(&mut session, direction);
        let op = slot.as_ref().ok_or(Error::OperationNotInitialized)?;
        let Some(room) = room else {
            let bound = match &op.engine {
                CryptEngine::Aes(cipher) => cipher.final_len(),
                rsa => rsa_len(rsa),
            };
            return Ok(Output::Needed(bound.max(1)));
        };
        let result = match &op.engine {
            CryptEngine::Aes(cipher) => cipher.finish().map(SecretBytes::new).map_err(Error::from),
            rsa => run(rsa, &[]),
        };
        match result {
            Ok(output) => {
                let output = fits(output, room);
                if matches!(output, Output::Data(_)) {
                    *slot = None;
                }
                Ok(output)
            }
            Err(e) => {
                *slot = None;
                Err(e)
            }
        }
    }
}
