//! Reading YAML files with errors that name the file, line, column and field.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// A profile or scenario that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file that was being read.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path (`stream.packets[0].fields[2].scale`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl LoadError {
    /// An error about a whole file (unreadable, wrong kind).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }
}

/// Reads and deserializes a YAML file; unknown fields are errors (the types say
/// `deny_unknown_fields`), and every error carries the file and position.
pub fn read_yaml<T: DeserializeOwned>(path: &Path) -> Result<(T, String), LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::file(path, format!("cannot read: {e}")))?;
    let value = parse_yaml(path, &text)?;
    Ok((value, text))
}

/// Deserializes YAML text that came from `path`.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, LoadError> {
    // Enums are written as one-key maps (`transport: { serial: … }`, `- config: …`)
    // rather than YAML tags, which is what people expect to type.
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_yaml_ng::with::singleton_map_recursive::deserialize(de).map_err(
        |e: serde_yaml_ng::Error| {
            let loc = e.location();
            let msg = e.to_string();
            // serde_yaml_ng prefixes the message with the field path ("a.b[2]: ...") and
            // suffixes " at line L column C"; split both out so the error reads cleanly.
            let msg = match msg.rfind(" at line ") {
                Some(i) if loc.is_some() => msg[..i].to_string(),
                _ => msg,
            };
            let (field, message) = split_field_path(&msg);
            LoadError {
                file: path.to_path_buf(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                field,
                message,
            }
        },
    )
}

fn split_field_path(msg: &str) -> (Option<String>, String) {
    if let Some((head, rest)) = msg.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && !head.contains(' ')
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'));
        if looks_like_path {
            return (Some(head.to_string()), rest.to_string());
        }
    }
    (None, msg.to_string())
}

/// Builds a semantic error (found after parsing) for `field`, locating its line by
/// searching the source for `needle` (the offending text), since serde gives no spans
/// once a value has been deserialized.
pub fn semantic_error(
    path: &Path,
    source: &str,
    field: impl Into<String>,
    needle: &str,
    message: impl Into<String>,
) -> LoadError {
    let line = (!needle.is_empty())
        .then(|| {
            source
                .lines()
                .position(|l| l.contains(needle))
                .map(|i| i + 1)
        })
        .flatten();
    LoadError {
        file: path.to_path_buf(),
        line,
        column: None,
        field: Some(field.into()),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        rate: f64,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[test]
    fn unknown_field_names_file_line_and_path() {
        let text = "name: x\nitems:\n  - rate: 1\n  - rat: 2\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.field.as_deref(), Some("items[1]"));
        assert!(e.message.contains("unknown field `rat`"), "{e}");
        assert!(e.to_string().starts_with("f.yaml:4:"), "{e}");
    }

    #[test]
    fn wrong_type_is_located() {
        let text = "name: x\nitems:\n  - rate: fast\n";
        let e = parse_yaml::<Outer>(Path::new("f.yaml"), text).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("invalid type"), "{e}");
    }

    #[test]
    fn semantic_error_finds_the_line() {
        let src = "a: 1\nscale: gian[i]\n";
        let e = semantic_error(Path::new("p.yaml"), src, "scale", "gian[i]", "unknown");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.to_string(), "p.yaml:2: scale: unknown");
    }
}
