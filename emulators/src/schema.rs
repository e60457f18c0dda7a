//! JSON Schemas (draft 7) of the YAML languages, derived from the serde types
//! ([`ProfileDecl`], [`ScenarioDecl`]) so that they cannot say something the
//! loader does not: the doc comments of the types' fields are the schemas'
//! descriptions, `deny_unknown_fields` is `additionalProperties: false`.
//!
//! They are written to `scenarios/schema/` (`boardloop schema --out
//! scenarios/schema`), and every YAML file there names its schema on its first
//! line for the YAML language server (editors complete fields and flag typos
//! as they are typed). A test fails when the committed files fall behind the
//! types.

use crate::profile::ProfileDecl;
use crate::scenario::ScenarioDecl;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::Schema;
use serde_json::Value;

/// The languages with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Device profiles (`scenarios/devices/*.yaml`).
    Profile,
    /// Scenarios (`scenarios/<board>/*.yaml`).
    Scenario,
}

impl Language {
    /// Every language, in the order they are written.
    pub const ALL: [Language; 2] = [Language::Profile, Language::Scenario];

    /// The file the schema is committed as, in `scenarios/schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Language::Profile => "profile.schema.json",
            Language::Scenario => "scenario.schema.json",
        }
    }

    /// The schema.
    pub fn schema(self) -> Schema {
        // Draft 7: the YAML language server (VS Code, yamlls, Helix) and
        // the JSON language service under it validate draft 7; keywords of
        // later drafts such as `unevaluatedProperties` are ignored there.
        let generator = SchemaSettings::draft07()
            .with_transform(RecursiveTransform(scalars_are_text))
            .into_generator();
        let (mut schema, title) = match self {
            Language::Profile => (
                generator.into_root_schema_for::<ProfileDecl>(),
                "boardloop device profile",
            ),
            Language::Scenario => (
                generator.into_root_schema_for::<ScenarioDecl>(),
                "boardloop scenario",
            ),
        };
        if self == Language::Profile {
            partial_when_extending(&mut schema);
        }
        // The Rust type's name (`ProfileDecl`) means nothing to whoever
        // writes the YAML; an editor shows the title.
        schema.insert("title".into(), title.into());
        schema
    }

    /// The schema as committed: pretty JSON ending in a newline, so the file
    /// diffs line by line when a field changes.
    pub fn schema_text(self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.schema()).expect("a schema is JSON: it serializes");
        text.push('\n');
        text
    }
}

/// Lets a text field take any YAML scalar, as the loader does: serde_yaml_ng
/// hands a field of type `String` the text of a plain scalar whatever it
/// resolves to, so `rate: 250`, `set: { accel: 1 }` and `reply: true` are the
/// texts `250`, `1` and `true`. The schema is checked against the YAML as data
/// (where those are a number and a boolean), so a text field accepts numbers
/// and booleans too. A `null` stays refused where the field is not optional:
/// the loader would read `~` as the text `null`, never what was meant. Names
/// (`const`, `enum`) are real strings and stay so.
fn scalars_are_text(schema: &mut Schema) {
    if schema.get("const").is_some() || schema.get("enum").is_some() {
        return;
    }
    let text = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if text {
        let mut types = vec![Value::from("string"), "number".into(), "boolean".into()];
        if let Some(Value::Array(ts)) = schema.get("type") {
            types.extend(ts.iter().filter(|t| *t == "null").cloned());
        }
        schema.insert("type".into(), types.into());
    }
}

/// Makes the top-level required fields required only of a profile without
/// `extends`: one with it may leave out whatever its base gives (the loader
/// checks the resolved profile whole), and an editor must not flag it.
fn partial_when_extending(schema: &mut Schema) {
    if let Some(required) = schema.remove("required") {
        schema.insert("if".into(), serde_json::json!({ "required": ["extends"] }));
        schema.insert("else".into(), serde_json::json!({ "required": required }));
    }
}

/// Closes a struct with a flattened enum (a scenario's fault: `at_packet`
/// beside exactly one kind, `{ at_packet: 100, drop: 5 }`) as serde does,
/// which refuses any key left over. schemars puts the struct's own fields in
/// `properties` and the kinds in `oneOf`, with no `additionalProperties:
/// false` (it would refuse the kind's key). Here each alternative gets the
/// struct's fields beside its own and is closed, so a misspelt key fails every
/// alternative, in draft 7 (which has no `unevaluatedProperties`).
pub(crate) fn close_flattened_alternatives(schema: &mut Schema) {
    let shared = schema.get("properties").cloned();
    let Some(Value::Array(alternatives)) = schema.get_mut("oneOf") else {
        return;
    };
    for alt in alternatives.iter_mut().filter_map(Value::as_object_mut) {
        if let (Some(Value::Object(own)), Some(Value::Object(shared))) =
            (alt.get_mut("properties"), &shared)
        {
            for (k, v) in shared {
                own.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        alt.insert("additionalProperties".into(), false.into());
    }
}
