//! RSA on the pure-Rust `rsa` 0.10 crate: every mechanism, including the ones aws-lc-rs
//! cannot express (raw X.509, PKCS#1 v1.5 over an arbitrary DigestInfo, PSS with a foreign
//! MGF1 hash). Every private operation goes through `rsa_decrypt_and_check` with an RNG, so it
//! is blinded and checked against CRT faults.

use rsa::hazmat::{rsa_decrypt_and_check, rsa_encrypt};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, Pss};
use zeroize::Zeroizing;

use super::aes::ct_eq;
use super::digest::OsRng;
use super::padding::{self, HashFn};
use super::types::{bit_len, strip_leading_zeros};
use super::{CryptoError, HashAlg, PssParams, PublicKeyMaterial, RsaPrivateParts, SignMechanism};
use crate::secret::SecretBytes;

/// Smallest modulus we load (the RFC 5702 example key is 512 bits); generation starts at 1024.
pub(crate) const MIN_LOAD_BITS: usize = 512;
pub(crate) const MAX_BITS: usize = 8192;

fn rsa_err(err: rsa::Error) -> CryptoError {
    match err {
        rsa::Error::Rng => CryptoError::Rng,
        rsa::Error::Decryption => CryptoError::DataInvalid,
        rsa::Error::Verification => CryptoError::SignatureInvalid,
        other => CryptoError::Internal(format!("rsa: {other}")),
    }
}

fn uint(bytes: &[u8]) -> BoxedUint {
    BoxedUint::from_be_slice_vartime(bytes)
}

/// Big-endian bytes of a secret integer, without leading zeros, in a zeroizing container.
fn secret_bytes(x: &BoxedUint) -> SecretBytes {
    let full = Zeroizing::new(x.to_be_bytes());
    SecretBytes::from_slice(strip_leading_zeros(&full))
}

/// Left-pads a big-endian integer of at most `k` significant bytes to exactly `k` bytes.
fn fixed_width(x: &BoxedUint, k: usize) -> Result<Vec<u8>, CryptoError> {
    let full = x.to_be_bytes();
    let trimmed = strip_leading_zeros(&full);
    if trimmed.len() > k {
        return Err(CryptoError::Internal(
            "RSA result wider than modulus".into(),
        ));
    }
    let mut out = vec![0u8; k];
    out[k - trimmed.len()..].copy_from_slice(trimmed);
    Ok(out)
}

/// A validated RSA private key of the `rsa` crate.
pub(crate) struct SoftRsaPrivate {
    key: rsa::PrivateKey,
    public: SoftRsaPublic,
}

impl std::fmt::Debug for SoftRsaPrivate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftRsaPrivate")
            .field("bits", &self.public.bits)
            .finish_non_exhaustive()
    }
}

impl SoftRsaPrivate {
    /// Builds and validates the key: n = pq, de ≡ 1 mod p-1 and q-1, and dp, dq, qinv match.
    pub(crate) fn from_parts(parts: &RsaPrivateParts) -> Result<Self, CryptoError> {
        let bits = bit_len(&parts.n);
        if !(MIN_LOAD_BITS..=MAX_BITS).contains(&bits) {
            return Err(CryptoError::KeySizeRange);
        }
        let primes = vec![uint(parts.p.expose()), uint(parts.q.expose())];
        let key = rsa::PrivateKey::from_components(
            uint(&parts.n),
            uint(&parts.e),
            uint(parts.d.expose()),
            primes,
        )
        .map_err(|e| CryptoError::KeyImport(format!("inconsistent RSA key components: {e}")))?;
        let (Some(dp), Some(dq), Some(qinv)) = (key.dp(), key.dq(), key.crt_coefficient()) else {
            return Err(CryptoError::Internal("rsa key without CRT values".into()));
        };
        let dp_ok = ct_eq(
            secret_bytes(dp).expose(),
            strip_leading_zeros(parts.dp.expose()),
        );
        let dq_ok = ct_eq(
            secret_bytes(dq).expose(),
            strip_leading_zeros(parts.dq.expose()),
        );
        let qinv_ok = ct_eq(
            secret_bytes(&Zeroizing::new(qinv)).expose(),
            strip_leading_zeros(parts.qinv.expose()),
        );
        if !(dp_ok && dq_ok && qinv_ok) {
            return Err(CryptoError::KeyImport(
                "inconsistent RSA key components: CRT exponents or coefficient do not match".into(),
            ));
        }
        let public = SoftRsaPublic::new(&parts.n, &parts.e)?;
        Ok(Self { key, public })
    }

    /// Generates a key with the `rsa` crate (any size and exponent) and exports its parts.
    pub(crate) fn generate(bits: usize, e: &[u8]) -> Result<RsaPrivateParts, CryptoError> {
        let key = rsa::PrivateKey::new_with_exp(&mut OsRng, bits, uint(e)).map_err(rsa_err)?;
        Self::parts_of(&key)
    }

    /// Exports the components of a `rsa` crate key (used after generation or PKCS#8 parsing).
    pub(crate) fn parts_of(key: &rsa::PrivateKey) -> Result<RsaPrivateParts, CryptoError> {
        let primes = key.primes();
        let (Some(dp), Some(dq), Some(qinv), [p, q]) =
            (key.dp(), key.dq(), key.crt_coefficient(), primes)
        else {
            return Err(CryptoError::Internal(
                "rsa key is not a two-prime CRT key".into(),
            ));
        };
        Ok(RsaPrivateParts {
            n: key.n().as_ref().to_be_bytes_trimmed_vartime().to_vec(),
            e: key.e().to_be_bytes_trimmed_vartime().to_vec(),
            d: secret_bytes(key.d()),
            p: secret_bytes(p.as_ref()),
            q: secret_bytes(q.as_ref()),
            dp: secret_bytes(dp),
            dq: secret_bytes(dq),
            qinv: secret_bytes(&Zeroizing::new(qinv)),
        })
    }

    pub(crate) fn public(&self) -> &SoftRsaPublic {
        &self.public
    }

    pub(crate) fn modulus_len(&self) -> usize {
        self.public.k
    }

    /// The `rsa` crate key, for the encryption schemes in `rsa_crypt`.
    pub(super) fn rsa_key(&self) -> &rsa::PrivateKey {
        &self.key
    }

    /// RSASP1 on a block of at most k bytes (left-padded), blinded; the block must be < n.
    pub(crate) fn raw(&self, block: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let k = self.public.k;
        if block.len() > k {
            return Err(CryptoError::DataLenRange);
        }
        let c = BoxedUint::from_be_slice(block, self.key.n_bits_precision())
            .map_err(|_| CryptoError::DataLenRange)?;
        if c >= *self.key.n().as_ref() {
            return Err(CryptoError::DataInvalid);
        }
        let m = rsa_decrypt_and_check(&self.key, Some(&mut OsRng), &c).map_err(rsa_err)?;
        fixed_width(&m, k)
    }

    /// PKCS#1 v1.5 signature over `t` (a DigestInfo or any data up to k-11 bytes).
    pub(crate) fn sign_pkcs1(&self, t: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.raw(&padding::pkcs1_type1(t, self.public.k)?)
    }

    /// PSS over a hash: the `rsa` crate's Pss when MGF1 uses the same hash, ours otherwise.
    pub(crate) fn sign_pss(
        &self,
        hash: HashFn,
        params: &PssParams,
        m_hash: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if m_hash.len() != params.hash.output_len() {
            return Err(CryptoError::DataLenRange);
        }
        padding::check_pss_params(params, self.public.bits)?;
        if params.mgf_hash == params.hash {
            let s = params.salt_len;
            let mut rng = OsRng;
            let key = &self.key;
            return match params.hash {
                HashAlg::Sha1 => {
                    key.sign_with_rng(&mut rng, Pss::<sha1::Sha1>::new_with_salt(s), m_hash)
                }
                HashAlg::Sha224 => {
                    key.sign_with_rng(&mut rng, Pss::<sha2::Sha224>::new_with_salt(s), m_hash)
                }
                HashAlg::Sha256 => {
                    key.sign_with_rng(&mut rng, Pss::<sha2::Sha256>::new_with_salt(s), m_hash)
                }
                HashAlg::Sha384 => {
                    key.sign_with_rng(&mut rng, Pss::<sha2::Sha384>::new_with_salt(s), m_hash)
                }
                HashAlg::Sha512 => {
                    key.sign_with_rng(&mut rng, Pss::<sha2::Sha512>::new_with_salt(s), m_hash)
                }
            }
            .map_err(rsa_err);
        }
        self.sign_pss_own(hash, params, m_hash)
    }

    /// PSS through our own EMSA-PSS encoding and the blinded raw operation.
    pub(crate) fn sign_pss_own(
        &self,
        hash: HashFn,
        params: &PssParams,
        m_hash: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut salt = vec![0u8; params.salt_len];
        super::random_bytes(&mut salt)?;
        let em = padding::pss_encode(hash, params, m_hash, &salt, self.public.bits)?;
        self.raw(&em)
    }

    /// Every RSA mechanism, hashing with `hash` where the mechanism hashes.
    pub(crate) fn sign(
        &self,
        hash: HashFn,
        mech: &SignMechanism,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match *mech {
            SignMechanism::RsaPkcs => self.sign_pkcs1(data),
            SignMechanism::RsaX509 => self.raw(data),
            SignMechanism::RsaPkcsHash(alg) => self.sign_pkcs1(&alg.digest_info(&hash(alg, data))),
            SignMechanism::RsaPss(params) => self.sign_pss(hash, &params, data),
            SignMechanism::RsaPssHash(params) => {
                self.sign_pss(hash, &params, &hash(params.hash, data))
            }
            _ => Err(CryptoError::KeyTypeInconsistent),
        }
    }
}

/// An RSA public key of the `rsa` crate.
#[derive(Debug)]
pub(crate) struct SoftRsaPublic {
    key: rsa::PublicKey,
    k: usize,
    bits: usize,
    material: PublicKeyMaterial,
}

impl SoftRsaPublic {
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let bits = bit_len(n);
        if !(MIN_LOAD_BITS..=MAX_BITS).contains(&bits) {
            return Err(CryptoError::KeySizeRange);
        }
        let key = rsa::PublicKey::new_with_size_limits(uint(n), uint(e), MIN_LOAD_BITS..=MAX_BITS)
            .map_err(|err| CryptoError::KeyImport(format!("invalid RSA public key: {err}")))?;
        Ok(Self {
            key,
            k: bits.div_ceil(8),
            bits,
            material: PublicKeyMaterial::Rsa {
                n: strip_leading_zeros(n).to_vec(),
                e: strip_leading_zeros(e).to_vec(),
            },
        })
    }

    pub(crate) fn modulus_len(&self) -> usize {
        self.k
    }

    /// n and e as stored, without leading zeros.
    pub(crate) fn material(&self) -> &PublicKeyMaterial {
        &self.material
    }

    /// PKCS#1 RSAPublicKey DER, the form aws-lc-rs parses.
    pub(crate) fn to_pkcs1_der(&self) -> Result<Vec<u8>, CryptoError> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        self.key
            .to_pkcs1_der()
            .map(|doc| doc.as_bytes().to_vec())
            .map_err(|e| CryptoError::Internal(format!("RSA public key encoding: {e}")))
    }

    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// The `rsa` crate key, for the encryption schemes in `rsa_crypt`.
    pub(super) fn rsa_key(&self) -> &rsa::PublicKey {
        &self.key
    }

    /// RSAVP1: s^e mod n as k bytes; `s` must be exactly k bytes and < n.
    pub(crate) fn raw(&self, sig: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sig.len() != self.k {
            return Err(CryptoError::SignatureLenRange);
        }
        let s = BoxedUint::from_be_slice(sig, self.key.n_bits_precision())
            .map_err(|_| CryptoError::SignatureLenRange)?;
        if s >= *self.key.n().as_ref() {
            return Err(CryptoError::SignatureInvalid);
        }
        let m = rsa_encrypt(&self.key, &s).map_err(rsa_err)?;
        fixed_width(&m, self.k)
    }

    fn expect_block(&self, sig: &[u8], expected: &[u8]) -> Result<(), CryptoError> {
        if ct_eq(&self.raw(sig)?, expected) {
            Ok(())
        } else {
            Err(CryptoError::SignatureInvalid)
        }
    }

    /// PSS verification: the `rsa` crate's when MGF1 uses the message hash, ours otherwise.
    pub(crate) fn verify_pss(
        &self,
        hash: HashFn,
        params: &PssParams,
        m_hash: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        if m_hash.len() != params.hash.output_len() {
            return Err(CryptoError::DataLenRange);
        }
        if sig.len() != self.k {
            return Err(CryptoError::SignatureLenRange);
        }
        if params.mgf_hash == params.hash {
            let s = params.salt_len;
            let key = &self.key;
            return match params.hash {
                HashAlg::Sha1 => key.verify(Pss::<sha1::Sha1>::new_with_salt(s), m_hash, sig),
                HashAlg::Sha224 => key.verify(Pss::<sha2::Sha224>::new_with_salt(s), m_hash, sig),
                HashAlg::Sha256 => key.verify(Pss::<sha2::Sha256>::new_with_salt(s), m_hash, sig),
                HashAlg::Sha384 => key.verify(Pss::<sha2::Sha384>::new_with_salt(s), m_hash, sig),
                HashAlg::Sha512 => key.verify(Pss::<sha2::Sha512>::new_with_salt(s), m_hash, sig),
            }
            .map_err(|_| CryptoError::SignatureInvalid);
        }
        self.verify_pss_own(hash, params, m_hash, sig)
    }

    pub(crate) fn verify_pss_own(
        &self,
        hash: HashFn,
        params: &PssParams,
        m_hash: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        let em = self.raw(sig)?;
        padding::pss_verify(hash, params, m_hash, &em, self.bits)
    }

    /// Every RSA mechanism's verification, hashing with `hash` where the mechanism hashes.
    pub(crate) fn verify(
        &self,
        hash: HashFn,
        mech: &SignMechanism,
        data: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        match *mech {
            SignMechanism::RsaPkcs => {
                let em = padding::pkcs1_type1(data, self.k)?;
                self.expect_block(sig, &em)
            }
            SignMechanism::RsaX509 => {
                if data.len() > self.k {
                    return Err(CryptoError::DataLenRange);
                }
                let mut block = vec![0u8; self.k - data.len()];
                block.extend_from_slice(data);
                self.expect_block(sig, &block)
            }
            SignMechanism::RsaPkcsHash(alg) => {
                let em = padding::pkcs1_type1(&alg.digest_info(&hash(alg, data)), self.k)?;
                self.expect_block(sig, &em)
            }
            SignMechanism::RsaPss(params) => self.verify_pss(hash, &params, data, sig),
            SignMechanism::RsaPssHash(params) => {
                self.verify_pss(hash, &params, &hash(params.hash, data), sig)
            }
            _ => Err(CryptoError::KeyTypeInconsistent),
        }
    }
}
