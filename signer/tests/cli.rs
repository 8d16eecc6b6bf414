//! The `strongroom` binary driven as an operator's script drives it: a fresh token directory
//! per test, cheap Argon2 from a `STRONGROOM_CONF` file, PINs in 0600 files and no terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use support::cli::{Env, Run, Token, display, init_args, make_token, strings};
use support::fixtures::fixture;

impl Token {
    /// Cards 1, 3 and 5: a quorum of the 3-of-5 tokens.
    fn quorum(&self) -> Vec<String> {
        self.access(&[1, 3, 5])
    }
}

fn token_list(env: &Env) -> Value {
    env.run(&["token", "list", "--json"]).json()
}

/// The keys `key list --json` shows, with or without logging in.
fn keys(env: &Env, token: &Token, login: bool) -> Vec<Value> {
    let mut args = strings(&["key", "list", "--json", "--token", &token.label]);
    if login {
        args.extend(token.quorum());
    }
    let listing = env.run(&args).json();
    assert_eq!(listing["token"], token.label.as_str());
    assert_eq!(listing["logged_in"], login);
    listing["keys"].as_array().unwrap().clone()
}

fn generate(env: &Env, token: &Token, label: &str, algorithm: &str, extra: &[String]) -> Run {
    let mut args = strings(&[
        "key",
        "generate",
        "--token",
        &token.label,
        "--label",
        label,
        "--algorithm",
        algorithm,
    ]);
    args.extend_from_slice(extra);
    env.run(&args)
}

fn import(env: &Env, token: &Token, label: &str, file: &Path, extra: &[&str]) -> Run {
    let mut args = strings(&["key", "import", "--token", &token.label, "--label", label]);
    args.extend(["--file".into(), display(file)]);
    args.extend(strings(extra));
    args.extend(token.quorum());
    env.run(&args)
}

// ---- 1. token init / token list -------------------------------------------------------------

#[test]
fn token_init_writes_private_card_files_and_list_shows_the_quorum() {
    let env = Env::new();
    let card_dir = env.path("cards");
    let init = env
        .run(&init_args(&env, "root-2025", 5, 3, &card_dir))
        .ok()
        .to_string();
    assert!(init.contains("token \"root-2025\""), "{init}");
    assert!(init.contains("quorum 3 of 5"), "{init}");
    for i in 1..=5 {
        let card = card_dir.join(format!("root-2025-card-{i}-of-5.card"));
        assert!(init.contains(&display(&card)), "{init} lacks {card:?}");
        let mode = std::fs::metadata(&card).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{card:?} has mode {mode:o}");
    }
    assert_eq!(std::fs::read_dir(&card_dir).unwrap().count(), 5);

    let human = env.run(&["token", "list"]).ok().to_string();
    assert!(human.contains(&display(&env.conf())), "{human}");
    assert!(human.contains("token \"root-2025\""), "{human}");
    assert!(human.contains("quorum 3 of 5"), "{human}");
    assert!(human.contains("user-pin-initialized"), "{human}");
    assert!(human.contains("free: no token yet"), "{human}");

    let list = token_list(&env);
    assert!(
        list["configuration"]
            .as_str()
            .unwrap()
            .contains(&display(&env.conf())),
        "{list}"
    );
    let slots = list["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 2, "one token and one free slot: {list}");
    let token = &slots[0]["token"];
    assert_eq!(token["label"], "root-2025");
    assert_eq!(token["quorum"]["threshold"], 3);
    assert_eq!(token["quorum"]["cards"], 5);
    assert_eq!(token["objects"], 0);
    assert!(
        token["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("user-pin-initialized")),
        "{list}"
    );
    assert!(!token["serial"].as_str().unwrap().is_empty());
    assert!(slots[1]["token"].is_null(), "{list}");
}

#[test]
fn token_init_json_reports_serial_slot_and_cards() {
    let env = Env::new();
    let mut args = init_args(&env, "J", 3, 2, &env.path("cards"));
    args.push("--json".into());
    let init = env.run(&args).json();
    assert_eq!(init["label"], "J");
    assert_eq!(init["threshold"], 2);
    assert_eq!(init["slot"], 0);
    assert_eq!(init["cards"].as_array().unwrap().len(), 3);
    let list = token_list(&env);
    assert_eq!(init["serial"], list["slots"][0]["token"]["serial"]);
}

#[test]
fn token_init_refuses_a_second_token_with_the_same_label() {
    let env = Env::new();
    make_token(&env, "L", 5, 3);
    let mut args = init_args(&env, "L2", 5, 3, &env.path("other-cards"));
    args[3] = "L".into(); // --label L, with L2's PIN files
    let err = env.run(&args).fails().to_string();
    assert!(
        err.contains("\"L\"") && err.contains("already exists"),
        "{err}"
    );
    assert!(!env.path("other-cards").exists(), "cards written: {err}");
    let list = token_list(&env);
    assert_eq!(list["slots"].as_array().unwrap().len(), 2, "{list}");
}

#[test]
fn token_init_refuses_a_threshold_above_the_number_of_cards() {
    let env = Env::new();
    let card_dir = env.path("cards");
    let err = env
        .run(&init_args(&env, "L", 5, 6, &card_dir))
        .fails()
        .to_string();
    assert!(err.contains("--threshold 6 --cards 5"), "{err}");
    assert!(err.contains("threshold must be between 1 and the number of cards"));
    let err = env
        .run(&init_args(&env, "M", 5, 0, &card_dir))
        .fails()
        .to_string();
    assert!(err.contains("--threshold 0"), "{err}");
    assert!(!card_dir.exists());
    let list = token_list(&env);
    assert!(list["slots"][0]["token"].is_null(), "{list}");
}

#[test]
fn token_init_never_overwrites_an_existing_card_file() {
    let env = Env::new();
    let card_dir = env.path("cards");
    std::fs::create_dir(&card_dir).unwrap();
    let existing = card_dir.join("L-card-3-of-5.card");
    std::fs::write(&existing, b"an officer's precious card").unwrap();
    let err = env
        .run(&init_args(&env, "L", 5, 3, &card_dir))
        .fails()
        .to_string();
    assert!(err.contains(&display(&existing)), "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read(&existing).unwrap(),
        b"an officer's precious card"
    );
    assert_eq!(std::fs::read_dir(&card_dir).unwrap().count(), 1);
    let list = token_list(&env);
    assert!(list["slots"][0]["token"].is_null(), "no token: {list}");
}

#[test]
fn token_init_without_pin_files_fails_instead_of_waiting_for_a_terminal() {
    let env = Env::new();
    let args = strings(&[
        "token",
        "init",
        "--label",
        "L",
        "--cards",
        "2",
        "--threshold",
        "2",
        "--card-dir",
        "cards",
    ]);
    let err = env.run(&args).fails().to_string();
    assert!(
        err.contains("SO PIN") && err.contains("no terminal"),
        "{err}"
    );
    // With the SO and user PIN files but only one of two card PIN files.
    let mut args = args;
    args.extend([
        "--so-pin-file".into(),
        display(&env.secret("so.pin", "so-pin-1")),
        "--pin-file".into(),
        display(&env.secret("user.pin", "user-pin-1")),
        "--card-pin-file".into(),
        display(&env.secret("c1.pin", "card-pin-1")),
    ]);
    let err = env.run(&args).fails().to_string();
    assert!(
        err.contains("card 2 of 2") && err.contains("no terminal"),
        "{err}"
    );
    let list = token_list(&env);
    assert!(list["slots"][0]["token"].is_null(), "no token: {list}");
}

#[test]
fn an_empty_pin_file_is_refused_and_a_readable_one_is_warned_about() {
    let env = Env::new();
    let empty = env.path("empty.pin");
    std::fs::write(&empty, b"").unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut args = init_args(&env, "L", 2, 2, &env.path("cards"));
    let so = args.iter().position(|a| a == "--so-pin-file").unwrap();
    args[so + 1] = display(&empty);
    let err = env.run(&args).fails().to_string();
    assert!(
        err.contains(&display(&empty)) && err.contains("empty"),
        "{err}"
    );

    std::fs::set_permissions(env.path("L-so.pin"), std::fs::Permissions::from_mode(0o644)).unwrap();
    args[so + 1] = display(&env.path("L-so.pin"));
    let run = env.run(&args);
    run.ok();
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("L-so.pin"),
        "{run:#?}"
    );
}

// ---- 2. card verify --------------------------------------------------------------------------

#[test]
fn card_verify_reads_the_header_and_checks_the_pin() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let serial = token_list(&env)["slots"][0]["token"]["serial"].clone();
    let card = display(&token.cards[1]);

    let human = env.run(&["card", "verify", &card]).ok().to_string();
    assert!(human.contains("card 2 of 5 (threshold 3)"), "{human}");
    assert!(human.contains("PIN not checked"), "{human}");
    assert!(human.contains("current card of token \"L\""), "{human}");

    let header = env.run(&["card", "verify", &card, "--json"]).json();
    assert_eq!(header["token_serial"], serial);
    assert_eq!(header["token_label"], "L");
    assert_eq!(header["card"], 2);
    assert_eq!(header["count"], 5);
    assert_eq!(header["threshold"], 3);
    assert_eq!(header["intact"], true);
    assert_eq!(header["pin_checked"], false);

    let pin = display(&token.card_pins[1]);
    let human = env
        .run(&["card", "verify", &card, "--card-pin-file", &pin])
        .ok()
        .to_string();
    assert!(human.contains("PIN correct"), "{human}");
    let checked = env
        .run(&["card", "verify", &card, "--card-pin-file", &pin, "--json"])
        .json();
    assert_eq!(checked["token_serial"], serial);
    assert_eq!(checked["card"], 2);
    assert_eq!(checked["count"], 5);
    assert_eq!(checked["threshold"], 3);
    assert_eq!(checked["pin_checked"], true);
}

#[test]
fn card_verify_with_a_wrong_pin_names_the_file() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let card = display(&token.cards[0]);
    let other_pin = display(&token.card_pins[1]);
    let err = env
        .run(&["card", "verify", &card, "--card-pin-file", &other_pin])
        .fails()
        .to_string();
    assert!(err.contains(&card), "{err}");
    assert!(err.contains("wrong PIN"), "{err}");
}

#[test]
fn card_verify_ask_pin_without_a_terminal_fails() {
    let env = Env::new();
    let token = make_token(&env, "L", 3, 2);
    let card = display(&token.cards[0]);
    let err = env
        .run(&["card", "verify", &card, "--ask-pin"])
        .fails()
        .to_string();
    assert!(err.contains("no terminal"), "{err}");
}

#[test]
fn card_verify_detects_a_flipped_byte_anywhere() {
    let env = Env::new();
    let token = make_token(&env, "L", 3, 2);
    let original = std::fs::read(&token.cards[0]).unwrap();
    let pin = display(&token.card_pins[0]);
    let tampered = env.path("tampered.card");
    for at in [
        0,
        20,
        original.len() / 2,
        original.len() - 40,
        original.len() - 1,
    ] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&tampered, &bytes).unwrap();
        for extra in [vec![], vec!["--card-pin-file", pin.as_str()]] {
            let mut args = vec!["card", "verify"];
            let path = display(&tampered);
            args.push(&path);
            args.extend(extra);
            let err = env.run(&args).fails().to_string();
            assert!(err.contains(&path), "byte {at}: {err}");
            assert!(err.contains("tampered"), "byte {at}: {err}");
        }
    }
}

#[test]
fn card_verify_of_something_else_fails_naming_the_file() {
    let env = Env::new();
    let not_a_card = env.secret("notes.txt", "this is not a card");
    let path = display(&not_a_card);
    let err = env.run(&["card", "verify", &path]).fails().to_string();
    assert!(
        err.contains(&path) && err.contains("not a Strongroom card"),
        "{err}"
    );
    let missing = display(&env.path("missing.card"));
    let err = env.run(&["card", "verify", &missing]).fails().to_string();
    assert!(err.contains(&missing), "{err}");
}

// ---- 3. key generate -------------------------------------------------------------------------

#[test]
fn key_generate_each_algorithm_with_a_quorum_of_three() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    for algorithm in ["rsa2048", "p256", "p384", "ed25519"] {
        let label = format!("ksk-{algorithm}");
        let human = generate(&env, &token, &label, algorithm, &token.quorum())
            .ok()
            .to_string();
        assert!(
            human.contains(&format!("generated {algorithm} key \"{label}\"")),
            "{human}"
        );
        assert!(human.contains("on token \"L\""), "{human}");
    }
    // Any three cards will do, and --id and --json are honoured.
    let mut extra = token.access(&[2, 4, 5]);
    extra.extend(strings(&["--id", "c0ffee01", "--json"]));
    let key = generate(&env, &token, "zsk", "p256", &extra).json();
    assert_eq!(key["class"], "private");
    assert_eq!(key["algorithm"], "p256");
    assert_eq!(key["label"], "zsk");
    assert_eq!(key["id"], "c0ffee01");
    assert_eq!(key["generated_on_token"], true);

    let list = token_list(&env);
    assert_eq!(list["slots"][0]["token"]["objects"], 10, "{list}");
}

#[test]
fn key_generate_with_too_few_cards_is_refused() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let err = generate(&env, &token, "k", "p256", &token.access(&[1, 2]))
        .fails()
        .to_string();
    assert!(err.contains("2 presented, 3 required"), "{err}");
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_generate_with_the_same_card_twice_is_refused() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let err = generate(&env, &token, "k", "p256", &token.access(&[1, 2, 2]))
        .fails()
        .to_string();
    assert!(
        err.contains("card 2") && err.contains("more than once"),
        "{err}"
    );
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_generate_with_a_card_of_another_token_is_refused() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let other = make_token(&env, "O", 3, 2);
    let mut access = token.access(&[1, 3]);
    access.extend(other.card_args(&[2]));
    let err = generate(&env, &token, "k", "p256", &access)
        .fails()
        .to_string();
    assert!(err.contains("belongs to token"), "{err}");
    assert!(err.contains(&display(&other.cards[1])), "{err}");
    assert!(err.contains("\"O\"") && err.contains("\"L\""), "{err}");
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_generate_with_a_wrong_pin_is_refused() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    // Wrong user PIN: a card PIN file given as the user PIN.
    let mut access = token.access(&[1, 2, 3]);
    access[1] = display(&token.card_pins[0]);
    let err = generate(&env, &token, "k", "p256", &access)
        .fails()
        .to_string();
    assert!(err.contains("incorrect PIN"), "{err}");
    assert!(err.contains("user PIN"), "{err}");
    // Wrong card PIN: card 3 with card 4's PIN.
    let mut access = token.access(&[1, 2, 3]);
    let last = access.len() - 1;
    access[last] = display(&token.card_pins[3]);
    let err = generate(&env, &token, "k", "p256", &access)
        .fails()
        .to_string();
    assert!(err.contains(&display(&token.cards[2])), "{err}");
    assert!(err.contains("wrong PIN for card 3"), "{err}");
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_generate_refuses_a_duplicate_label() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    generate(&env, &token, "ksk", "ed25519", &token.quorum()).ok();
    let err = generate(&env, &token, "ksk", "p256", &token.quorum())
        .fails()
        .to_string();
    assert!(
        err.contains("\"ksk\"") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(keys(&env, &token, true).len(), 2, "one key pair only");
}

#[test]
fn key_generate_refuses_an_unknown_algorithm_listing_the_choices() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let err = generate(&env, &token, "k", "dsa1024", &token.quorum())
        .fails()
        .to_string();
    assert!(err.contains("\"dsa1024\""), "{err}");
    for choice in ["rsa2048", "rsa4096", "p256", "p384", "ed25519"] {
        assert!(err.contains(choice), "{err}");
    }
}

#[test]
fn key_generate_without_cards_or_pin_fails_instead_of_waiting_for_a_terminal() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let pin_only = strings(&["--pin-file", &display(&token.user_pin)]);
    let err = generate(&env, &token, "k", "p256", &pin_only)
        .fails()
        .to_string();
    assert!(
        err.contains("quorum of 3 cards") && err.contains("--card"),
        "{err}"
    );
    let err = generate(&env, &token, "k", "p256", &token.card_args(&[1, 2, 3]))
        .fails()
        .to_string();
    assert!(
        err.contains("User PIN") && err.contains("no terminal"),
        "{err}"
    );
    // A card without its PIN file.
    let mut access = token.access(&[1, 2]);
    access.extend(["--card".into(), display(&token.cards[2])]);
    let err = generate(&env, &token, "k", "p256", &access)
        .fails()
        .to_string();
    assert!(
        err.contains("card 3 of 5") && err.contains("no terminal"),
        "{err}"
    );
}

// ---- 4. key import ---------------------------------------------------------------------------

#[test]
fn key_import_pem_and_bind_keys_with_their_ids() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let cases = [
        (
            "legacy/rsa2048-1.key",
            "legacy-ksk",
            "rsa2048",
            Some("0102ab"),
        ),
        ("ec-p256-pkcs8.pem", "ec256", "p256", Some("0a0b")),
        ("ed25519-pkcs8.pem", "ed", "ed25519", None),
        ("ec-p384-sec1.pem", "ec384", "p384", None),
        ("rfc6605-ecdsap256.private", "bind-p256", "p256", Some("ff")),
        ("rfc8080-ed25519.private", "bind-ed", "ed25519", None),
        ("rfc5702-rsasha512.private", "bind-rsa1024", "rsa1024", None),
    ];
    for (file, label, algorithm, id) in cases {
        let mut extra = vec!["--json"];
        if let Some(id) = id {
            extra.extend(["--id", id]);
        }
        let key = import(&env, &token, label, &fixture(file), &extra).json();
        assert_eq!(key["class"], "private", "{file}");
        assert_eq!(key["algorithm"], algorithm, "{file}");
        assert_eq!(key["label"], label, "{file}");
        assert_eq!(key["generated_on_token"], false, "{file}");
        if let Some(id) = id {
            assert_eq!(key["id"], id, "{file}");
        }
    }
    let listed = keys(&env, &token, true);
    assert_eq!(listed.len(), 2 * cases.len());
    for (file, label, algorithm, id) in cases {
        for class in ["private", "public"] {
            let key = listed
                .iter()
                .find(|k| k["label"] == label && k["class"] == class)
                .unwrap_or_else(|| panic!("{class} {label} not listed: {listed:?}"));
            assert_eq!(key["algorithm"], algorithm, "{file}");
            match id {
                Some(id) => assert_eq!(key["id"], id, "{file}"),
                None => assert_eq!(key["id"].as_str().unwrap().len(), 16, "{file}"),
            }
        }
    }
    let human = import(
        &env,
        &token,
        "legacy-2",
        &fixture("legacy/rsa2048-2.key"),
        &[],
    )
    .ok()
    .to_string();
    assert!(
        human.contains("imported rsa2048 key \"legacy-2\""),
        "{human}"
    );
}

/// RFC 5702's example key is 512 bits: fine as a test vector, but a DNSSEC HSM must not take
/// one into custody, where it would sign like any other key.
#[test]
fn key_import_refuses_a_512_bit_rsa_key() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let file = fixture("rfc5702-rsasha256.private");
    let err = import(&env, &token, "weak", &file, &[]).fails().to_string();
    assert!(err.contains(&display(&file)), "{err}");
    assert!(
        err.contains("512 bits") && err.contains("out of range"),
        "{err}"
    );
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_import_of_garbage_names_the_file() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let garbage = env.secret("garbage.key", "-- not a key --");
    let err = import(&env, &token, "k", &garbage, &[]).fails().to_string();
    assert!(err.contains(&display(&garbage)), "{err}");
    assert!(err.contains("unrecognised key format"), "{err}");

    let der = env.path("junk.der");
    std::fs::write(&der, [0x30, 0x03, 0x02, 0x01, 0x00]).unwrap();
    let err = import(&env, &token, "k", &der, &[]).fails().to_string();
    assert!(err.contains(&display(&der)) && err.contains("DER"), "{err}");

    let missing = env.path("missing.key");
    let err = import(&env, &token, "k", &missing, &[]).fails().to_string();
    assert!(err.contains(&display(&missing)), "{err}");

    let err = import(
        &env,
        &token,
        "k",
        &fixture("ed25519-pkcs8.pem"),
        &["--id", "xyz"],
    )
    .fails()
    .to_string();
    assert!(
        err.contains("--id \"xyz\"") && err.contains("hexadecimal"),
        "{err}"
    );
    assert!(keys(&env, &token, true).is_empty());
}

#[test]
fn key_import_refuses_a_duplicate_label() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    import(&env, &token, "k", &fixture("ed25519-pkcs8.pem"), &[]).ok();
    let err = import(&env, &token, "k", &fixture("ec-p256-pkcs8.pem"), &[])
        .fails()
        .to_string();
    assert!(
        err.contains("\"k\"") && err.contains("already exists"),
        "{err}"
    );
}

// ---- 5. key list -----------------------------------------------------------------------------

#[test]
fn key_list_shows_private_keys_only_after_login() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let mut extra = token.quorum();
    extra.extend(strings(&["--id", "01"]));
    generate(&env, &token, "ksk", "p384", &extra).ok();
    import(
        &env,
        &token,
        "zsk",
        &fixture("ed25519-pkcs8.pem"),
        &["--id", "02"],
    )
    .ok();

    let public = keys(&env, &token, false);
    assert_eq!(public.len(), 2, "{public:?}");
    assert!(public.iter().all(|k| k["class"] == "public"), "{public:?}");
    let human = env.run(&["key", "list", "--token", "L"]).ok().to_string();
    assert!(human.contains("public only"), "{human}");
    assert!(!human.contains("  private "), "{human}");

    let all = keys(&env, &token, true);
    assert_eq!(all.len(), 4, "{all:?}");
    for (label, algorithm, id) in [("ksk", "p384", "01"), ("zsk", "ed25519", "02")] {
        for class in ["private", "public"] {
            assert!(
                all.iter().any(|k| k["label"] == label
                    && k["class"] == class
                    && k["algorithm"] == algorithm
                    && k["id"] == id),
                "{class} {label} missing: {all:?}"
            );
        }
    }
    let mut args = strings(&["key", "list", "--token", "L"]);
    args.extend(token.quorum());
    let human = env.run(&args).ok().to_string();
    assert!(human.contains("4 objects"), "{human}");
    assert!(human.contains("private p384"), "{human}");
}

// ---- 6. demo ---------------------------------------------------------------------------------

#[test]
fn demo_runs_the_whole_ceremony_and_reports_the_two_card_refusal() {
    let env = Env::new();
    let demo = env.run(&["demo", "--json"]).json();
    assert_eq!(demo["skr"]["signatures"], 9, "{demo}");
    assert_eq!(demo["skr"]["bundles"], 9, "{demo}");
    assert!(
        demo["skr_verified"]
            .as_str()
            .unwrap()
            .ends_with("9 of 9 signatures verified in 9 bundles: VALID"),
        "{demo}"
    );
    assert_eq!(demo["iana_ksr_checks_passed"], 12, "{demo}");
    let label = demo["ksk"]["label"].as_str().unwrap();
    assert!(label.len() == 7 && label.starts_with('K'), "{demo}");
    let transcript = demo["transcript"].as_str().unwrap();
    for line in [
        "PASS KSR-BUNDLE-POP",
        "PASS KSR-POLICY-SIG-HORIZON",
        "Sign KSR? Confirmed with --yes.",
        "PASS SKR-VERIFY",
        "SKR: ",
        "  WORDS   ",
    ] {
        assert!(transcript.contains(line), "{line:?} missing:\n{transcript}");
    }
    assert!(
        demo["two_cards_refused"]
            .as_str()
            .unwrap()
            .contains("2 presented, 3 required"),
        "{demo}"
    );
    assert_eq!(demo["quorum"]["threshold"], 3);
    assert_eq!(demo["quorum"]["cards"], 7);
    assert_eq!(demo["key"]["algorithm"], "rsa2048");
    // Its scratch directory (under $TMPDIR) is gone, and it did not touch the configured one.
    assert_eq!(std::fs::read_dir(env.path("tmp")).unwrap().count(), 0);
    assert!(!env.path("tokens").exists());
}

// ---- 7. exit codes and unknown tokens --------------------------------------------------------

#[test]
fn an_unknown_token_label_fails_naming_it() {
    let env = Env::new();
    let token = make_token(&env, "L", 5, 3);
    let err = env
        .run(&["key", "list", "--token", "no-such-token"])
        .fails()
        .to_string();
    assert!(err.contains("\"no-such-token\""), "{err}");
    let mut args = strings(&["key", "generate", "--token", "no-such-token"]);
    args.extend(strings(&["--label", "k", "--algorithm", "p256"]));
    args.extend(token.quorum());
    let err = env.run(&args).fails().to_string();
    assert!(err.contains("\"no-such-token\""), "{err}");
    let mut args = strings(&["key", "import", "--token", "no-such-token", "--label", "k"]);
    args.extend(["--file".into(), display(&fixture("ed25519-pkcs8.pem"))]);
    args.extend(token.quorum());
    let err = env.run(&args).fails().to_string();
    assert!(err.contains("\"no-such-token\""), "{err}");
}

#[test]
fn exit_codes_are_zero_only_on_success() {
    let env = Env::new();
    assert_eq!(env.run(&["--help"]).code, Some(0));
    assert!(env.run(&["--version"]).ok().contains("strongroom"));
    // Usage errors are clap's: exit 2, message on stderr.
    for args in [
        &["token"][..],
        &["frobnicate"],
        &["token", "init", "--label", "x"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stdout.is_empty() && !run.stderr.is_empty(), "{run:#?}");
    }
    let run = env.run(&["token", "list"]);
    run.ok();
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn a_missing_or_bad_configuration_file_is_named() {
    let env = Env::new();
    let missing = env.path("nowhere.toml");
    let run = env.run_with_conf(&missing, &["token", "list"]);
    let err = run.fails();
    assert!(err.contains(&display(&missing)), "{err}");

    let bad = env.secret("bad.toml", "tokens_dir = \"x\"");
    let run = env.run_with_conf(&bad, &["token", "list"]);
    let err = run.fails();
    assert!(
        err.contains(&display(&bad)) && err.contains("tokens_dir"),
        "{err}"
    );
}
