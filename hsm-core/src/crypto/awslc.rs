//! The aws-lc-rs provider: the fast, constant-time path, with the pure-Rust objects kept beside
//! each aws-lc key for the mechanisms aws-lc-rs cannot express.
//!
//! Fast paths: RSA PKCS#1 v1.5 with SHA-256/384/512 (hashed or over the matching DigestInfo),
//! RSA-PSS with MGF1 = hash and salt = hash length, ECDSA with the curve's own hash (hashed
//! or over a hash of that length), Ed25519. aws-lc's RSA private operations are blinded.

use std::sync::Arc;

use aws_lc_rs::digest::{self as lc_digest, Digest as LcDigest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, ParsedPublicKey, RsaKeyPair};

use super::digest::digest;
use super::ec::{self, SoftEcPrivate, SoftEcPublic};
use super::ed448::{self, Ed448Signer, Ed448Verifier};
use super::ed25519::{self, Ed25519Signer, Ed25519Verifier};
use super::rsa_crypt;
use super::rsa_soft::{SoftRsaPrivate, SoftRsaPublic};
use super::rustcrypto::ecdsa_prehash;
use super::types::KeyKind;
use super::{
    CryptoError, Curve, HashAlg, KeyGenerator, KeyLoader, PrivateKeyMaterial, PssParams,
    PublicKeyMaterial, RsaCrypt, SignMechanism, SigningKey, VerifyingKey,
};
use crate::secret::SecretBytes;

pub(crate) struct AwsLcKeys;
pub(crate) struct AwsLcKeygen;

/// aws-lc-rs RSA key pairs span 2048..=8192 bits; smaller keys stay on the `rsa` crate.
const LC_RSA_MIN_BITS: usize = 2048;

fn lc_hash(alg: HashAlg) -> Option<&'static lc_digest::Algorithm> {
    match alg {
        HashAlg::Sha256 => Some(&lc_digest::SHA256),
        HashAlg::Sha384 => Some(&lc_digest::SHA384),
        HashAlg::Sha512 => Some(&lc_digest::SHA512),
        HashAlg::Sha1 | HashAlg::Sha224 => None,
    }
}

fn import_digest(alg: &'static lc_digest::Algorithm, hash: &[u8]) -> Result<LcDigest, CryptoError> {
    LcDigest::import_less_safe(hash, alg).map_err(|_| CryptoError::DataLenRange)
}

fn lc_failed(_: aws_lc_rs::error::Unspecified) -> CryptoError {
    CryptoError::Internal("aws-lc-rs signing failed".into())
}

fn pkcs1_encoding(alg: HashAlg) -> Option<&'static sig::RsaSignatureEncoding> {
    match alg {
        HashAlg::Sha256 => Some(&sig::RSA_PKCS1_SHA256),
        HashAlg::Sha384 => Some(&sig::RSA_PKCS1_SHA384),
        HashAlg::Sha512 => Some(&sig::RSA_PKCS1_SHA512),
        HashAlg::Sha1 | HashAlg::Sha224 => None,
    }
}

/// aws-lc's PSS encodings use MGF1 with the same hash and salt = hash length.
fn pss_encoding(params: &PssParams) -> Option<&'static sig::RsaSignatureEncoding> {
    if params.mgf_hash != params.hash || params.salt_len != params.hash.output_len() {
        return None;
    }
    match params.hash {
        HashAlg::Sha256 => Some(&sig::RSA_PSS_SHA256),
        HashAlg::Sha384 => Some(&sig::RSA_PSS_SHA384),
        HashAlg::Sha512 => Some(&sig::RSA_PSS_SHA512),
        HashAlg::Sha1 | HashAlg::Sha224 => None,
    }
}

impl KeyLoader for AwsLcKeys {
    fn load_private(&self, key: &PrivateKeyMaterial) -> Result<Arc<dyn SigningKey>, CryptoError> {
        match key {
            PrivateKeyMaterial::Rsa(parts) => {
                let soft = SoftRsaPrivate::from_parts(parts)?;
                let fast = if soft.public().bits() >= LC_RSA_MIN_BITS {
                    let components = KeyPairComponents {
                        public_key: PublicKeyComponents {
                            n: parts.n.as_slice(),
                            e: parts.e.as_slice(),
                        },
                        d: parts.d.expose(),
                        p: parts.p.expose(),
                        q: parts.q.expose(),
                        dP: parts.dp.expose(),
                        dQ: parts.dq.expose(),
                        qInv: parts.qinv.expose(),
                    };
                    Some(RsaKeyPair::from_components(&components).map_err(|e| {
                        CryptoError::KeyImport(format!("aws-lc-rs rejected the RSA key: {e}"))
                    })?)
                } else {
                    None
                };
                let public = soft.public().material().clone();
                Ok(Arc::new(RsaSigner { soft, fast, public }))
            }
            PrivateKeyMaterial::Ec { curve, d } => {
                let soft = SoftEcPrivate::new(*curve, d.expose())?;
                let point = soft.public_point();
                let mut scalar = vec![0u8; curve.field_len()];
                scalar[curve.field_len() - d.len()..].copy_from_slice(d.expose());
                let scalar = crate::secret::SecretBytes::new(scalar);
                let fast = EcdsaKeyPair::from_private_key_and_public_key(
                    ecdsa_signing(*curve),
                    scalar.expose(),
                    &point,
                )
                .map_err(|e| {
                    CryptoError::KeyImport(format!("aws-lc-rs rejected the EC key: {e}"))
                })?;
                let public = PublicKeyMaterial::Ec {
                    curve: *curve,
                    point,
                };
                Ok(Arc::new(EcSigner { soft, fast, public }))
            }
            PrivateKeyMaterial::Ed25519 { seed } => Ed25519Signer::load(seed),
            PrivateKeyMaterial::Ed448 { seed } => Ed448Signer::load(seed),
        }
    }

    fn load_public(&self, key: &PublicKeyMaterial) -> Result<Arc<dyn VerifyingKey>, CryptoError> {
        match key {
            PublicKeyMaterial::Rsa { n, e } => {
                let soft = SoftRsaPublic::new(n, e)?;
                let der = soft.to_pkcs1_der()?;
                let mut fast = Vec::new();
                for alg in RSA_VERIFY_ALGS {
                    if soft.bits() >= alg.min_bits {
                        let parsed = ParsedPublicKey::new(alg.params, &der).map_err(|e| {
                            CryptoError::KeyImport(format!("aws-lc-rs rejected the RSA key: {e}"))
                        })?;
                        fast.push((alg, parsed));
                    }
                }
                let public = soft.material().clone();
                Ok(Arc::new(RsaVerifier { soft, fast, public }))
            }
            PublicKeyMaterial::Ec { curve, point } => {
                let soft = SoftEcPublic::new(*curve, point)?;
                let fast = ParsedPublicKey::new(ecdsa_verify(*curve), point).map_err(|e| {
                    CryptoError::KeyImport(format!("aws-lc-rs rejected the EC point: {e}"))
                })?;
                Ok(Arc::new(EcVerifier {
                    soft,
                    fast,
                    public: key.clone(),
                }))
            }
            PublicKeyMaterial::Ed25519 { public } => Ed25519Verifier::load(public),
            PublicKeyMaterial::Ed448 { public } => Ed448Verifier::load(public),
        }
    }
}

impl KeyGenerator for AwsLcKeygen {
    fn rsa(&self, bits: u32, public_exponent: &[u8]) -> Result<PrivateKeyMaterial, CryptoError> {
        let (bits, e) = super::rsa_keygen_params(bits, public_exponent)?;
        let size = match bits {
            2048 => Some(aws_lc_rs::rsa::KeySize::Rsa2048),
            3072 => Some(aws_lc_rs::rsa::KeySize::Rsa3072),
            4096 => Some(aws_lc_rs::rsa::KeySize::Rsa4096),
            _ => None,
        };
        let (Some(size), [0x01, 0x00, 0x01]) = (size, e.as_slice()) else {
            // aws-lc-rs only generates 2048/3072/4096 bits with e = 65537.
            return Ok(PrivateKeyMaterial::Rsa(SoftRsaPrivate::generate(bits, &e)?));
        };
        use aws_lc_rs::encoding::AsDer;
        use rsa::pkcs8::DecodePrivateKey;
        let pair = RsaKeyPair::generate(size).map_err(|_| CryptoError::Rng)?;
        let der = pair
            .as_der()
            .map_err(|_| CryptoError::Internal("aws-lc-rs could not export the RSA key".into()))?;
        let key = rsa::PrivateKey::from_pkcs8_der(der.as_ref())
            .map_err(|e| CryptoError::Internal(format!("re-reading generated RSA key: {e}")))?;
        Ok(PrivateKeyMaterial::Rsa(SoftRsaPrivate::parts_of(&key)?))
    }

    fn ec(&self, curve: Curve) -> Result<PrivateKeyMaterial, CryptoError> {
        use aws_lc_rs::encoding::AsBigEndian;
        let pair = EcdsaKeyPair::generate(ecdsa_signing(curve)).map_err(|_| CryptoError::Rng)?;
        let d = pair
            .private_key()
            .as_be_bytes()
            .map_err(|_| CryptoError::Internal("aws-lc-rs could not export the EC key".into()))?;
        let d = crate::secret::SecretBytes::from_slice(d.as_ref());
        // Cheap self-check that the scalar is in range for the pure backend too.
        ec::public_point(curve, d.expose())?;
        Ok(PrivateKeyMaterial::Ec { curve, d })
    }

    fn ed25519(&self) -> Result<PrivateKeyMaterial, CryptoError> {
        Ok(PrivateKeyMaterial::Ed25519 {
            seed: ed25519::generate_seed()?,
        })
    }

    fn ed448(&self) -> Result<PrivateKeyMaterial, CryptoError> {
        Ok(PrivateKeyMaterial::Ed448 {
            seed: ed448::generate_seed()?,
        })
    }
}

/// RSA signing: aws-lc `RsaKeyPair` where it applies, the `rsa` crate for the rest.
#[derive(Debug)]
struct RsaSigner {
    soft: SoftRsaPrivate,
    fast: Option<RsaKeyPair>,
    public: PublicKeyMaterial,
}

impl RsaSigner {
    /// Tries the aws-lc fast path; `None` when it does not apply to this mechanism.
    fn sign_fast(
        &self,
        pair: &RsaKeyPair,
        mech: &SignMechanism,
        data: &[u8],
    ) -> Option<Result<Vec<u8>, CryptoError>> {
        let mut out = vec![0u8; pair.public_modulus_len()];
        let rng = SystemRandom::new();
        let result = match *mech {
            SignMechanism::RsaPkcsHash(alg) => {
                pair.sign(pkcs1_encoding(alg)?, &rng, data, &mut out)
            }
            SignMechanism::RsaPkcs => {
                let (alg, hash) = HashAlg::parse_digest_info(data)?;
                let encoding = pkcs1_encoding(alg)?;
                let digest = LcDigest::import_less_safe(hash, lc_hash(alg)?).ok()?;
                pair.sign_digest(encoding, &digest, &mut out)
            }
            SignMechanism::RsaPssHash(params) => {
                pair.sign(pss_encoding(&params)?, &rng, data, &mut out)
            }
            SignMechanism::RsaPss(params) => {
                let encoding = pss_encoding(&params)?;
                let digest = match import_digest(lc_hash(params.hash)?, data) {
                    Ok(d) => d,
                    Err(e) => return Some(Err(e)),
                };
                pair.sign_digest(encoding, &digest, &mut out)
            }
            _ => return None,
        };
        Some(result.map(|()| out).map_err(lc_failed))
    }
}

impl SigningKey for RsaSigner {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        KeyKind::Rsa.check(mech)?;
        if let SignMechanism::RsaPss(p) | SignMechanism::RsaPssHash(p) = mech {
            super::padding::check_pss_params(p, self.soft.public().bits())?;
        }
        if let Some(pair) = &self.fast
            && let Some(result) = self.sign_fast(pair, mech, data)
        {
            return result;
        }
        self.soft.sign(digest, mech, data)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        self.soft.modulus_len()
    }

    fn decrypt(&self, mech: &RsaCrypt, data: &[u8]) -> Result<SecretBytes, CryptoError> {
        rsa_crypt::decrypt(&self.soft, mech, data)
    }
}

/// An aws-lc RSA verification algorithm and the smallest modulus it accepts.
#[derive(Debug)]
struct RsaVerifyAlg {
    params: &'static sig::RsaParameters,
    pss: bool,
    hash: HashAlg,
    min_bits: usize,
}

const RSA_VERIFY_ALGS: [&RsaVerifyAlg; 7] = [
    &RsaVerifyAlg {
        params: &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        pss: false,
        hash: HashAlg::Sha1,
        min_bits: 1024,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        pss: false,
        hash: HashAlg::Sha256,
        min_bits: 1024,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PKCS1_2048_8192_SHA384,
        pss: false,
        hash: HashAlg::Sha384,
        min_bits: 2048,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        pss: false,
        hash: HashAlg::Sha512,
        min_bits: 1024,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PSS_2048_8192_SHA256,
        pss: true,
        hash: HashAlg::Sha256,
        min_bits: 2048,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PSS_2048_8192_SHA384,
        pss: true,
        hash: HashAlg::Sha384,
        min_bits: 2048,
    },
    &RsaVerifyAlg {
        params: &sig::RSA_PSS_2048_8192_SHA512,
        pss: true,
        hash: HashAlg::Sha512,
        min_bits: 2048,
    },
];

#[derive(Debug)]
struct RsaVerifier {
    soft: SoftRsaPublic,
    fast: Vec<(&'static RsaVerifyAlg, ParsedPublicKey)>,
    public: PublicKeyMaterial,
}

impl RsaVerifier {
    fn parsed(&self, pss: bool, hash: HashAlg) -> Option<&ParsedPublicKey> {
        self.fast
            .iter()
            .find(|(alg, _)| alg.pss == pss && alg.hash == hash)
            .map(|(_, key)| key)
    }

    /// Verifies on aws-lc when a fast algorithm fits; `None` otherwise.
    fn verify_fast(&self, mech: &SignMechanism, data: &[u8], signature: &[u8]) -> Option<bool> {
        let ok = match *mech {
            SignMechanism::RsaPkcsHash(alg) => self.parsed(false, alg)?.verify_sig(data, signature),
            SignMechanism::RsaPkcs => {
                let (alg, hash) = HashAlg::parse_digest_info(data)?;
                let digest = LcDigest::import_less_safe(hash, lc_hash(alg)?).ok()?;
                self.parsed(false, alg)?
                    .verify_digest_sig(&digest, signature)
            }
            SignMechanism::RsaPssHash(params) => {
                pss_encoding(&params)?;
                self.parsed(true, params.hash)?.verify_sig(data, signature)
            }
            SignMechanism::RsaPss(params) => {
                pss_encoding(&params)?;
                let digest = LcDigest::import_less_safe(data, lc_hash(params.hash)?).ok()?;
                self.parsed(true, params.hash)?
                    .verify_digest_sig(&digest, signature)
            }
            _ => return None,
        };
        Some(ok.is_ok())
    }
}

impl VerifyingKey for RsaVerifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        KeyKind::Rsa.check(mech)?;
        if signature.len() != self.soft.modulus_len() {
            return Err(CryptoError::SignatureLenRange);
        }
        match self.verify_fast(mech, data, signature) {
            Some(true) => Ok(()),
            Some(false) => Err(CryptoError::SignatureInvalid),
            None => self.soft.verify(digest, mech, data, signature),
        }
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn encrypt(&self, mech: &RsaCrypt, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        rsa_crypt::encrypt(&self.soft, mech, data)
    }
}

fn ecdsa_signing(curve: Curve) -> &'static sig::EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        Curve::P521 => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
    }
}

fn ecdsa_verify(curve: Curve) -> &'static sig::EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED,
        Curve::P521 => &sig::ECDSA_P521_SHA512_FIXED,
    }
}

/// How an ECDSA mechanism maps onto aws-lc's curve-native algorithm, if it does.
enum EcFast<'a> {
    Message(&'a [u8]),
    Digest(LcDigest),
}

fn ec_fast<'a>(curve: Curve, mech: &SignMechanism, data: &'a [u8]) -> Option<EcFast<'a>> {
    let native = curve.native_hash();
    match *mech {
        SignMechanism::EcdsaHash(alg) if alg == native => Some(EcFast::Message(data)),
        SignMechanism::Ecdsa if data.len() == native.output_len() => {
            LcDigest::import_less_safe(data, lc_hash(native)?)
                .ok()
                .map(EcFast::Digest)
        }
        _ => None,
    }
}

#[derive(Debug)]
struct EcSigner {
    soft: SoftEcPrivate,
    fast: EcdsaKeyPair,
    public: PublicKeyMaterial,
}

impl SigningKey for EcSigner {
    fn sign(&self, mech: &SignMechanism, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        KeyKind::Ec.check(mech)?;
        let sig = match ec_fast(self.soft.curve(), mech, data) {
            Some(EcFast::Message(msg)) => self.fast.sign(&SystemRandom::new(), msg),
            Some(EcFast::Digest(d)) => self.fast.sign_digest(&d),
            None => return self.soft.sign_prehash(&ecdsa_prehash(digest, mech, data)?),
        };
        sig.map(|s| s.as_ref().to_vec()).map_err(lc_failed)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }

    fn signature_len(&self, _mech: &SignMechanism) -> usize {
        self.soft.curve().signature_len()
    }
}

#[derive(Debug)]
struct EcVerifier {
    soft: SoftEcPublic,
    fast: ParsedPublicKey,
    public: PublicKeyMaterial,
}

impl VerifyingKey for EcVerifier {
    fn verify(
        &self,
        mech: &SignMechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        KeyKind::Ec.check(mech)?;
        if signature.len() != self.soft.curve().signature_len() {
            return Err(CryptoError::SignatureLenRange);
        }
        let ok = match ec_fast(self.soft.curve(), mech, data) {
            Some(EcFast::Message(msg)) => self.fast.verify_sig(msg, signature),
            Some(EcFast::Digest(d)) => self.fast.verify_digest_sig(&d, signature),
            None => {
                return self
                    .soft
                    .verify_prehash(&ecdsa_prehash(digest, mech, data)?, signature);
            }
        };
        ok.map_err(|_| CryptoError::SignatureInvalid)
    }

    fn public(&self) -> &PublicKeyMaterial {
        &self.public
    }
}
