//! The JSON Schemas in scenarios/schema: current with the Rust types, named by
//! every YAML file, accepting every real file and refusing a misspelt field,
//! as the loader does.

use boardloop_emulators::profile::Profile;
use boardloop_emulators::scenario::Scenario;
use boardloop_emulators::schema::Language;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "cargo boardloop schema --out scenarios/schema";

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every YAML file under scenarios/, with its path relative to it.
fn yaml_files() -> Vec<(PathBuf, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    let root = scenarios();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    // A test that found nothing would pass for nothing.
    assert!(files.len() > 100, "only {} YAML files found", files.len());
    files
        .into_iter()
        .map(|p| (p.strip_prefix(&root).unwrap().to_path_buf(), p))
        .collect()
}

/// Profiles live in devices/, as the loader looks for them; the rest are
/// scenarios.
fn language_of(relative: &Path) -> Language {
    match relative.components().next() {
        Some(c) if c.as_os_str() == "devices" => Language::Profile,
        _ => Language::Scenario,
    }
}

fn committed(language: Language) -> String {
    let path = scenarios().join("schema").join(language.file_name());
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; write it with `{REGENERATE}`",
            path.display()
        )
    })
}

fn validator(language: Language) -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&committed(language)).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

/// The schema's errors for YAML `text`, one a line.
fn schema_errors(v: &jsonschema::Validator, text: &str) -> String {
    let value: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
    v.iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn committed_schemas_are_what_the_types_generate() {
    let stale: Vec<&str> = Language::ALL
        .iter()
        .filter(|l| committed(**l) != l.schema_text())
        .map(|l| l.file_name())
        .collect();
    assert!(
        stale.is_empty(),
        "scenarios/schema/{{{}}} differ from what the Rust types generate; \
         regenerate them with `{REGENERATE}` and commit them",
        stale.join(",")
    );
}

#[test]
fn every_yaml_file_names_its_schema_on_its_first_line() {
    let mut wrong = Vec::new();
    for (relative, path) in yaml_files() {
        // From the file's folder up to scenarios/, then into schema/: a
        // relative path, so it holds in every checkout.
        let up = vec![".."; relative.components().count() - 1].join("/");
        let want = format!(
            "# yaml-language-server: $schema={up}/schema/{}",
            language_of(&relative).file_name()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        if first != want {
            wrong.push(format!(
                "{}: first line is {first:?}, want {want:?}",
                relative.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_yaml_file_is_valid_against_its_schema() {
    let profile = validator(Language::Profile);
    let scenario = validator(Language::Scenario);
    let mut counts = [0, 0];
    let mut invalid = Vec::new();
    for (relative, path) in yaml_files() {
        let language = language_of(&relative);
        let v = match language {
            Language::Profile => &profile,
            Language::Scenario => &scenario,
        };
        counts[language as usize] += 1;
        let errors = schema_errors(v, &std::fs::read_to_string(&path).unwrap());
        if !errors.is_empty() {
            invalid.push(format!("{}:\n{errors}", relative.display()));
        }
    }
    assert!(invalid.is_empty(), "{}", invalid.join("\n"));
    assert!(counts[0] >= 10 && counts[1] >= 90, "{counts:?}");
}

/// A profile with `extends` is partial, so the schema asks nothing of it
/// but its fields' shapes (an editor must not flag what its base gives); the
/// profile it resolves to must be whole and valid.
#[test]
fn every_resolved_profile_is_valid_against_the_schema() {
    let profile = validator(Language::Profile);
    let mut extending = 0;
    let mut invalid = Vec::new();
    for (relative, path) in yaml_files() {
        if language_of(&relative) != Language::Profile {
            continue;
        }
        let resolved = boardloop_emulators::extends::resolve(&path).unwrap();
        extending += usize::from(resolved.files.len() > 1);
        let errors = schema_errors(&profile, &resolved.text);
        if !errors.is_empty() {
            invalid.push(format!("{} resolved:\n{errors}", relative.display()));
        }
    }
    assert!(invalid.is_empty(), "{}", invalid.join("\n"));
    assert!(extending >= 2, "only {extending} profiles use `extends`");
    // Without `extends`, a field left out is refused as before.
    assert!(!schema_errors(&profile, "name: x\n").is_empty());
    assert!(schema_errors(&profile, "extends: y\nname: x\n").is_empty());
}

/// `text` with `from` replaced once by `to` (which must be there).
fn misspell(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the file");
    text.replacen(from, to, 1)
}

#[test]
fn a_misspelt_field_is_refused_by_the_schema_and_the_loader() {
    let dir = std::env::temp_dir().join(format!("boardloop-schema-{}", std::process::id()));
    let devices = dir.join("devices");
    std::fs::create_dir_all(&devices).unwrap();
    let profile = validator(Language::Profile);
    let scenario = validator(Language::Scenario);
    let real = |p: &str| std::fs::read_to_string(scenarios().join(p)).unwrap();

    let cyton = real("devices/cyton.yaml");
    let ganglion = real("devices/ganglion.yaml");
    let gains = real("cyton/gains.yaml");
    let drop = real("cyton/fault_drop.yaml");
    assert_eq!(schema_errors(&profile, &cyton), "");
    assert_eq!(schema_errors(&scenario, &drop), "");
    // (file, text, misspelt key, the field the loader names)
    let profiles = [
        (
            "cyton",
            misspell(
                &cyton,
                "\nquiet_while_streaming:",
                "\nquiet_while_streeming:",
            ),
            "quiet_while_streeming",
        ),
        ("cyton", misspell(&cyton, "baud:", "buad:"), "buad"),
        ("cyton", misspell(&cyton, "bits:", "bitz:"), "bitz"),
        (
            "ganglion",
            misspell(&ganglion, "properties:", "propertys:"),
            "propertys",
        ),
    ];
    for (name, text, typo) in profiles {
        let errors = schema_errors(&profile, &text);
        assert!(errors.contains(typo), "schema took `{typo}`: {errors:?}");
        let file = devices.join(format!("{name}.yaml"));
        std::fs::write(&file, &text).unwrap();
        let e = Profile::load(&file).unwrap_err();
        assert!(e.message.contains(typo) && e.line.is_some(), "loader: {e}");
    }
    std::fs::write(devices.join("cyton.yaml"), &cyton).unwrap();
    let scenarios = [
        misspell(&gains, "\nsignals:", "\nsignal:"),
        misspell(&gains, "tolerance_lsb:", "tolerance_lbs:"),
        // A fault's kind is flattened into it: the typo sits beside it.
        misspell(&drop, "at_packet:", "at_pakcet:"),
        misspell(&drop, "drop:", "dorp:"),
    ];
    let board = dir.join("cyton");
    std::fs::create_dir_all(&board).unwrap();
    for text in scenarios {
        let errors = schema_errors(&scenario, &text);
        assert!(!errors.is_empty(), "schema took a misspelt field:\n{text}");
        let file = board.join("typo.yaml");
        std::fs::write(&file, &text).unwrap();
        let e = Scenario::load(&file, &devices).unwrap_err();
        assert!(e.line.is_some(), "loader: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
