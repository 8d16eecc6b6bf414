//! EdDSA beyond plain Ed25519: RFC 8032 §7 vectors for Ed25519ctx, Ed25519ph, Ed448 and
//! Ed448ph, on both providers, and the failures a wrong variant or context must give.

use super::*;

struct Vector {
    secret: &'static str,
    public: &'static str,
    message: &'static str,
    prehash: bool,
    context: &'static str,
    signature: &'static str,
}

/// RFC 8032 §7.2 (Ed25519ctx, "foo"), §7.3 (Ed25519ph, "abc").
const ED25519: [Vector; 2] = [
    Vector {
        secret: "0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6",
        public: "dfc9425e4f968f7f0c29f0259cf5f9aed6851c2bb4ad8bfb860cfee0ab248292",
        message: "f726936d19c800494e3fdaff20b276a8",
        prehash: false,
        context: "666f6f",
        signature: concat!(
            "55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a",
            "8b36950b95130022907a7fb7c4e9b2d5f6cca685a587b4b21f4b888e4e7edb0d"
        ),
    },
    Vector {
        secret: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        public: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        message: "616263",
        prehash: true,
        context: "",
        signature: concat!(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41",
            "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
        ),
    },
];

/// RFC 8032 §7.4 (Ed448, 1 octet with context "foo") and §7.5 (Ed448ph, "abc", with and
/// without context "foo").
const ED448: [Vector; 3] = [
    Vector {
        secret: concat!(
            "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463a",
            "fbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e"
        ),
        public: concat!(
            "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c086",
            "6aea01eb00742802b8438ea4cb82169c235160627b4c3a9480"
        ),
        message: "03",
        prehash: false,
        context: "666f6f",
        signature: concat!(
            "d4f8f6131770dd46f40867d6fd5d5055de43541f8c5e35abbcd001b32a89f7d2",
            "151f7647f11d8ca2ae279fb842d607217fce6e042f6815ea000c85741de5c8da",
            "1144a6a1aba7f96de42505d7a7298524fda538fccbbb754f578c1cad10d54d0d",
            "5428407e85dcbc98a49155c13764e66c3c00"
        ),
    },
    Vector {
        secret: concat!(
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ef7822e0d5104127dc05d6dbefde69e3ab2cec7c867c6e2c49"
        ),
        public: concat!(
            "259b71c19f83ef77a7abd26524cbdb3161b590a48f7d17de3ee0ba9c52beb743",
            "c09428a131d6b1b57303d90d8132c276d5ed3d5d01c0f53880"
        ),
        message: "616263",
        prehash: true,
        context: "",
        signature: concat!(
            "822f6901f7480f3d5f562c592994d9693602875614483256505600bbc281ae38",
            "1f54d6bce2ea911574932f52a4e6cadd78769375ec3ffd1b801a0d9b3f4030cd",
            "433964b6457ea39476511214f97469b57dd32dbc560a9a94d00bff07620464a3",
            "ad203df7dc7ce360c3cd3696d9d9fab90f00"
        ),
    },
    Vector {
        secret: concat!(
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ef7822e0d5104127dc05d6dbefde69e3ab2cec7c867c6e2c49"
        ),
        public: concat!(
            "259b71c19f83ef77a7abd26524cbdb3161b590a48f7d17de3ee0ba9c52beb743",
            "c09428a131d6b1b57303d90d8132c276d5ed3d5d01c0f53880"
        ),
        message: "616263",
        prehash: true,
        context: "666f6f",
        signature: concat!(
            "c32299d46ec8ff02b54540982814dce9a05812f81962b649d528095916a2aa48",
            "1065b1580423ef927ecf0af5888f90da0f6a9a85ad5dc3f280d91224ba9911a3",
            "653d00e484e2ce232521481c8658df304bb7745a73514cdb9bf3e15784ab7128",
            "4f8d0704a608c54a6b62d97beb511d132100"
        ),
    },
];

fn mechanism(prehash: bool, context: &[u8]) -> SignMechanism {
    SignMechanism::EdDsa(EdDsaParams::new(prehash, context).unwrap())
}

fn check_vectors(vectors: &[Vector], material: fn(SecretBytes) -> PrivateKeyMaterial) {
    for v in vectors {
        let key = material(SecretBytes::new(unhex(v.secret)));
        let public = key.public().unwrap();
        let (context, message) = (unhex(v.context), unhex(v.message));
        let mech = mechanism(v.prehash, &context);
        for provider in providers() {
            let signer = provider.keys.load_private(&key).unwrap();
            let signature = signer.sign(&mech, &message).unwrap();
            assert_eq!(hex::encode(&signature), v.signature, "{}", provider.name);
            assert_eq!(signer.signature_len(&mech), signature.len());
            let verifier = provider.keys.load_public(&public).unwrap();
            verifier.verify(&mech, &message, &signature).unwrap();
            // Another context, the other variant, or a changed message must not verify.
            let others = [
                (mechanism(v.prehash, b"bar"), message.clone()),
                (mechanism(!v.prehash, &context), message.clone()),
                (mech.clone(), [message.as_slice(), b"!"].concat()),
            ];
            for (mech, message) in others {
                assert_eq!(
                    verifier.verify(&mech, &message, &signature),
                    Err(CryptoError::SignatureInvalid),
                    "{mech:?}"
                );
            }
        }
        let expected_public = match &public {
            PublicKeyMaterial::Ed25519 { public } => public.to_vec(),
            PublicKeyMaterial::Ed448 { public } => public.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(hex::encode(expected_public), v.public);
    }
}

#[test]
fn ed25519ctx_and_ed25519ph_rfc8032_vectors() {
    check_vectors(&ED25519, |seed| PrivateKeyMaterial::Ed25519 { seed });
}

#[test]
fn ed448_and_ed448ph_rfc8032_vectors() {
    check_vectors(&ED448, |seed| PrivateKeyMaterial::Ed448 { seed });
}

/// RFC 8032 §7.4: the blank Ed448 vector, signed with no context at all.
#[test]
fn ed448_without_parameters_is_an_empty_context() {
    let key = PrivateKeyMaterial::Ed448 {
        seed: SecretBytes::new(unhex(concat!(
            "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3",
            "528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b"
        ))),
    };
    let signature = AWS_LC
        .keys
        .load_private(&key)
        .unwrap()
        .sign(&SignMechanism::EdDsa(EdDsaParams::PURE), b"")
        .unwrap();
    assert_eq!(
        hex::encode(signature),
        concat!(
            "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f",
            "2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a",
            "9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4db",
            "b61149f05a7363268c71d95808ff2e652600"
        )
    );
}

#[test]
fn generated_keys_sign_every_variant_and_contexts_are_bounded() {
    for provider in providers() {
        for key in [
            provider.keygen.ed25519().unwrap(),
            provider.keygen.ed448().unwrap(),
        ] {
            let signer = provider.keys.load_private(&key).unwrap();
            let verifier = provider.keys.load_public(&key.public().unwrap()).unwrap();
            for mech in [
                SignMechanism::EdDsa(EdDsaParams::PURE),
                mechanism(false, b"context"),
                mechanism(true, b""),
                mechanism(true, &[7; 255]),
            ] {
                let signature = signer.sign(&mech, b"data").unwrap();
                verifier.verify(&mech, b"data", &signature).unwrap();
                assert_eq!(
                    verifier.verify(&mech, b"data", &signature[1..]),
                    Err(CryptoError::SignatureLenRange)
                );
            }
            assert_eq!(
                signer.sign(&SignMechanism::Ecdsa, b"data").unwrap_err(),
                CryptoError::KeyTypeInconsistent
            );
        }
    }
    assert!(EdDsaParams::new(false, &[0; 256]).is_none());
}
