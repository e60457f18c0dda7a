//! `extends:` in device profiles: the rewritten profiles resolve to what their
//! full text loaded to, and errors name the file and line they are about.

use boardloop_emulators::extends::resolve;
use boardloop_emulators::load::parse_yaml;
use boardloop_emulators::profile::{Profile, ProfileDecl};
use boardloop_emulators::LoadError;
use std::path::{Path, PathBuf};

fn devices() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/devices")
}

/// The profiles rewritten with `extends`, and their base.
const REWRITTEN: [(&str, &str); 2] = [
    ("muse_s", "muse_2"),
    ("neuropawn_knight_imu", "neuropawn_knight"),
];

#[test]
fn rewritten_profiles_resolve_to_their_former_full_text() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/before_extends");
    for (name, base) in REWRITTEN {
        let path = devices().join(format!("{name}.yaml"));
        let resolved = resolve(&path).unwrap();
        assert_eq!(
            resolved.files,
            [path.clone(), devices().join(format!("{base}.yaml"))],
            "{name} no longer extends {base}"
        );
        let new = Profile::load(&path).unwrap();
        let old_text = std::fs::read_to_string(fixtures.join(format!("{name}.yaml"))).unwrap();
        let old_decl: ProfileDecl = parse_yaml(&path, &old_text).unwrap();
        let old = Profile::from_decl(&path, &old_text, old_decl).unwrap();
        // Profile has no PartialEq; its Debug shows every field, compiled
        // commands, layouts and expressions included.
        assert_eq!(format!("{new:#?}"), format!("{old:#?}"), "{name}");
    }
}

/// A folder of profiles for one test, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Folder {
        let dir =
            std::env::temp_dir().join(format!("boardloop-extends-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(format!("{name}.yaml"));
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Knight's profile, named `base`.
fn base_text() -> String {
    std::fs::read_to_string(devices().join("neuropawn_knight.yaml"))
        .unwrap()
        .replacen("name: neuropawn_knight\n", "name: base\n", 1)
}

/// The 1-based line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

fn error(path: &Path) -> LoadError {
    Profile::load(path).unwrap_err()
}

const DERIVED: &str = "# a variant\nextends: base\nname: derived\ndescription: a variant\n";

#[test]
fn a_derived_profile_takes_the_base_and_its_own_entries() {
    let f = Folder::new("merge");
    let base = f.write("base", &base_text());
    // `state` is replaced whole: without the Knight's lead-off bytes, the
    // base's stream that sends them is wrong, and the error says where.
    let state = "state:\n  sample_rate: 250\n  power: { size: 8, default: 0 }\n  \
                 rld: { size: 8, default: 0 }\n  last_channel_on: 0\n  rld_added: 0\n";
    let e = error(&f.write("derived", &format!("{DERIVED}{state}")));
    assert_eq!(e.file, base, "{e}");
    assert_eq!(e.line, Some(line_of(&base_text(), "value: loff_p")), "{e}");
    let text = format!("{DERIVED}{state}  loff_p: 0\n  loff_n: 0\n");
    let p = Profile::load(&f.write("derived", &text)).unwrap();
    assert_eq!(p.decl.name, "derived");
    assert_eq!(p.decl.description, "a variant");
    assert_eq!(p.decl.extends, None);
    assert_eq!(p.initial_state.get("sample_rate"), Some(250.0));
    // The rest is the base's.
    let b = Profile::load(&base).unwrap();
    assert_eq!(p.decl.transport, b.decl.transport);
    assert_eq!(p.decl.commands.len(), 2);
    assert!(p.decl.quiet_while_streaming);
}

#[test]
fn an_error_in_the_base_names_the_base_and_its_line() {
    let f = Folder::new("base-error");
    // A wrong type, found by serde.
    let bad = base_text().replacen(
        "quiet_while_streaming: true",
        "quiet_while_streaming: maybe",
        1,
    );
    let base = f.write("base", &bad);
    let derived = f.write("derived", DERIVED);
    let e = error(&derived);
    assert_eq!(e.file, base, "{e}");
    assert_eq!(e.line, Some(line_of(&bad, "quiet_while_streaming")), "{e}");
    assert_eq!(e.field.as_deref(), Some("quiet_while_streaming"), "{e}");
    // A semantic error: the base's name, which the derived file does not restate.
    let text = DERIVED.replacen("name: derived\n", "", 1);
    let derived = f.write("derived", &text);
    f.write("base", &base_text());
    let e = error(&derived);
    assert_eq!(e.file, base, "{e}");
    assert_eq!(e.line, Some(line_of(&base_text(), "name: base")), "{e}");
    assert!(
        e.message.contains("must equal the file name `derived`"),
        "{e}"
    );
    // A syntax error, and a nesting past the prescan's limit.
    for bad in [
        base_text().replacen("  rld_added: 0", "  rld_added: [0", 1),
        base_text().replacen(
            "  rld_added: 0",
            &format!("  rld_added: {}", "[".repeat(100)),
            1,
        ),
    ] {
        f.write("base", &bad);
        let e = error(&derived);
        assert_eq!(e.file, base, "{e}");
        assert!(e.line.is_some(), "{e}");
    }
}

#[test]
fn an_error_in_the_derived_file_names_it_and_its_line() {
    let f = Folder::new("derived-error");
    f.write("base", &base_text());
    let text = format!("{DERIVED}quiet_while_streaming: maybe\n");
    let derived = f.write("derived", &text);
    let e = error(&derived);
    assert_eq!(e.file, derived, "{e}");
    assert_eq!(e.line, Some(line_of(&text, "maybe")), "{e}");
    assert_eq!(e.field.as_deref(), Some("quiet_while_streaming"), "{e}");
    // An unknown field, past the base's entries in the resolved text.
    let text = format!("{DERIVED}stream:\n  rate: sample_rate\n  rat: 1\n");
    let e = error(&f.write("derived", &text));
    assert_eq!(
        (e.file.clone(), e.line),
        (derived.clone(), Some(line_of(&text, "rat: 1"))),
        "{e}"
    );
    assert!(e.message.contains("unknown field `rat`"), "{e}");
    // A semantic error found on the resolved text.
    let text = format!("{DERIVED}state:\n  streaming: 1\n");
    let derived = f.write("derived", &text);
    let e = error(&derived);
    assert_eq!(e.file, derived, "{e}");
    assert_eq!(e.line, Some(line_of(&text, "streaming: 1")), "{e}");
    assert!(e.message.contains("reserved"), "{e}");
}

#[test]
fn a_missing_base_and_a_path_out_of_the_folder_are_refused_at_extends() {
    let f = Folder::new("missing");
    let text = DERIVED.replacen("extends: base", "extends: nope", 1);
    let derived = f.write("derived", &text);
    let e = error(&derived);
    assert_eq!((e.file.clone(), e.line), (derived.clone(), Some(2)), "{e}");
    assert_eq!(e.field.as_deref(), Some("extends"), "{e}");
    assert!(
        e.message.contains("no profile") && e.message.contains("nope.yaml"),
        "{e}"
    );
    let text = DERIVED.replacen("extends: base", "extends: ../../../etc/x", 1);
    let e = error(&f.write("derived", &text));
    assert!(e.message.contains("is outside"), "{e}");
}

#[test]
fn a_cycle_is_refused_naming_its_files() {
    let f = Folder::new("cycle");
    let a = f.write("a", "extends: b\nname: a\n");
    let b = f.write("b", "extends: a\nname: b\n");
    let e = error(&a);
    assert_eq!((e.file.clone(), e.line), (b.clone(), Some(1)), "{e}");
    let names = format!("{} → {} → {}", a.display(), b.display(), a.display());
    assert!(
        e.message.contains("cycle") && e.message.contains(&names),
        "{e}"
    );
    // Extending itself.
    let e = error(&f.write("c", "extends: c\nname: c\n"));
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn chains_are_followed_to_a_bound() {
    let f = Folder::new("chain");
    f.write("base", &base_text());
    // base ← p1 ← … ← p8: eight steps, allowed; p9 is one too many.
    let mut prev = "base".to_string();
    for i in 1..=9 {
        let name = format!("p{i}");
        f.write(
            &name,
            &format!("extends: {prev}\nname: {name}\ndescription: step {i}\n"),
        );
        prev = name;
    }
    let p8 = Profile::load(&f.0.join("p8.yaml")).unwrap();
    assert_eq!(
        (p8.decl.name.as_str(), p8.decl.description.as_str()),
        ("p8", "step 8")
    );
    let e = error(&f.0.join("p9.yaml"));
    assert!(e.message.contains("more than 8 steps"), "{e}");
}

#[test]
fn a_flow_or_indented_profile_cannot_be_extended() {
    let f = Folder::new("flow");
    let base = f.write(
        "base",
        "{ name: base, transport: { serial: { baud: 9600 } } }\n",
    );
    let e = error(&f.write("derived", DERIVED));
    assert_eq!((e.file.clone(), e.line), (base, Some(1)), "{e}");
    assert!(e.message.contains("not a block mapping"), "{e}");
}

#[test]
fn extends_outside_a_loaded_file_is_refused() {
    // The fuzz targets and tests parse text and call from_decl: there is no
    // folder to find the base in.
    let text = "extends: base\nname: x\ntransport: { serial: { baud: 9600 } }\n";
    let decl: ProfileDecl = parse_yaml(Path::new("x.yaml"), text).unwrap();
    let e = Profile::from_decl(Path::new("x.yaml"), text, decl).unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("`extends` is resolved"), "{e}");
}
