//! `extends: NAME`: a profile that states only how it differs from another
//! profile in its folder (`muse_s` extends `muse_2`).
//!
//! The merge rule: the resolved profile is the base's top-level entries with
//! each entry the derived file also writes replaced by the derived file's, and
//! the derived file's other entries added. An entry is replaced whole, whatever
//! its value (`commands:` replaces the base's list, `stream:` the base's
//! stream); `extends` itself is dropped. A base may extend another, up to
//! [`MAX_EXTENDS_DEPTH`] steps; a cycle is refused.
//!
//! The merge is done on the text: the resolved document is made of the files'
//! own lines, entry by entry, and keeps a map from its lines back to theirs, so
//! every error (serde's, the prescan's, a semantic check's) names the file and
//! the line the offending text is written on, the base's or the derived file's.
//! For that, in a file that extends or is extended the top-level keys start in
//! the first column, as every block mapping written at the top does.

use crate::limits::MAX_EXTENDS_DEPTH;
use crate::load::{
    confine, parse_yaml, prescan, read_text, EventReader, LoadError, Mark, YamlEvent,
};
use std::path::{Path, PathBuf};

/// A profile's text with its `extends` chain resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The resolved YAML document (the file's own text when it extends nothing).
    pub text: String,
    /// Per line of `text`: the file (index into `files`) and its 0-based line.
    lines: Vec<(usize, usize)>,
    /// The files of the chain, the one asked for first.
    pub files: Vec<PathBuf>,
}

impl Resolved {
    /// `e`, an error about a line of [`Resolved::text`] (reported against the
    /// first file), moved to the file and line that text came from.
    pub fn relocate(&self, mut e: LoadError) -> LoadError {
        if e.file != self.files[0] {
            return e;
        }
        if let Some(&(file, line)) = e.line.and_then(|l| self.lines.get(l.wrapping_sub(1))) {
            e.file = self.files[file].clone();
            e.line = Some(line + 1);
        }
        e
    }
}

/// One entry of a file's top-level mapping: its key and lines `start..end`.
#[derive(Debug)]
struct Entry {
    key: String,
    start: usize,
    end: usize,
}

/// What [`resolve`] needs of one file.
struct TopLevel {
    /// The top-level entries, in order.
    entries: Vec<Entry>,
    /// The `extends` value and where it is written.
    extends: Option<(String, Mark)>,
    /// Why the file cannot take part in a merge on its lines, if it cannot.
    unmergeable: Option<(Mark, String)>,
}

/// Reads `path` and every profile it extends, and merges them (see the
/// module's documentation). Each file is read within the limits of
/// [`read_text`] and [`prescan`]; a file that extends nothing is returned as
/// it is.
pub fn resolve(path: &Path) -> Result<Resolved, LoadError> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut tops: Vec<TopLevel> = Vec::new();
    let mut at = path.to_path_buf();
    loop {
        let text = read_text(&at)?;
        prescan(&at, &text)?;
        let top = top_level(&text);
        let next = top.extends.clone();
        files.push(at.clone());
        texts.push(text);
        tops.push(top);
        let Some((name, mark)) = next else { break };
        let here = |message: String| LoadError {
            file: at.clone(),
            line: Some(mark.line + 1),
            column: Some(mark.column + 1),
            field: Some("extends".into()),
            message,
        };
        if files.len() > MAX_EXTENDS_DEPTH {
            return Err(here(format!(
                "more than {MAX_EXTENDS_DEPTH} steps of `extends` ({})",
                chain(&files, None)
            )));
        }
        let dir = at.parent().unwrap_or(Path::new("."));
        let base = confine(dir, dir, &format!("{name}.yaml")).map_err(&here)?;
        if !base.is_file() {
            return Err(here(format!("no profile {}", base.display())));
        }
        let same = |f: &PathBuf| f.canonicalize().ok() == base.canonicalize().ok();
        if files.iter().any(same) {
            return Err(here(format!(
                "`extends` makes a cycle: {}",
                chain(&files, Some(&base))
            )));
        }
        at = base;
    }
    if files.len() == 1 {
        let lines = (0..texts[0].lines().count()).map(|l| (0, l)).collect();
        let text = texts.pop().unwrap_or_default();
        return Ok(Resolved { text, lines, files });
    }
    for (i, top) in tops.iter().enumerate() {
        // A syntax error is reported against the file it is in, before the
        // lines are merged (the scan of its entries stopped at it).
        parse_yaml::<serde_yaml_ng::Value>(&files[i], &texts[i])?;
        if let Some((mark, message)) = &top.unmergeable {
            return Err(LoadError {
                file: files[i].clone(),
                line: Some(mark.line + 1),
                column: Some(mark.column + 1),
                field: None,
                message: message.clone(),
            });
        }
    }
    // The base's entries, overridden and added to by each file that extends it.
    let mut merged: Vec<(usize, &Entry)> = Vec::new();
    for (i, top) in tops.iter().enumerate().rev() {
        for e in top.entries.iter().filter(|e| e.key != "extends") {
            match merged.iter_mut().find(|(_, m)| m.key == e.key) {
                Some(slot) => *slot = (i, e),
                None => merged.push((i, e)),
            }
        }
    }
    // The first file's lines before its first entry: its schema line and notes.
    let head = tops[0].entries.first().map_or(0, |e| e.start);
    let ranges =
        std::iter::once((0, 0..head)).chain(merged.iter().map(|(i, e)| (*i, e.start..e.end)));
    let mut text = String::new();
    let mut lines = Vec::new();
    let split: Vec<Vec<&str>> = texts.iter().map(|t| t.lines().collect()).collect();
    for (file, range) in ranges {
        for l in range {
            text.push_str(split[file].get(l).copied().unwrap_or_default());
            text.push('\n');
            lines.push((file, l));
        }
    }
    Ok(Resolved { text, lines, files })
}

/// The chain of files, by name, for an error: `a.yaml → b.yaml`.
fn chain(files: &[PathBuf], last: Option<&Path>) -> String {
    files
        .iter()
        .map(PathBuf::as_path)
        .chain(last)
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The top-level entries of YAML `text` and its `extends`, from libyaml's
/// events (stopping at a syntax error, which the deserializer reports).
fn top_level(text: &str) -> TopLevel {
    let lines: Vec<&str> = text.lines().collect();
    let mut top = TopLevel {
        entries: Vec::new(),
        extends: None,
        unmergeable: None,
    };
    let refuse = |top: &mut TopLevel, mark: Mark, why: &str| {
        top.unmergeable.get_or_insert((
            mark,
            format!("{why}, as a profile that extends or is extended must"),
        ));
    };
    let mut depth = 0usize;
    // At depth 1: whether the next node is a key; the key whose value it is.
    let mut expect_key = false;
    let mut key = String::new();
    let mut events = EventReader::new(text);
    while let Some((event, mark)) = events.next() {
        match event {
            YamlEvent::Start(_, is_map) => {
                if depth == 0 {
                    let flow = lines
                        .get(mark.line)
                        .and_then(|l| l.chars().nth(mark.column))
                        == Some('{');
                    if !is_map || flow {
                        refuse(&mut top, mark, "the document is not a block mapping");
                    }
                    expect_key = true;
                } else if depth == 1 {
                    if expect_key {
                        refuse(&mut top, mark, "a top-level key is not a plain name");
                    } else if key == "extends" {
                        refuse(&mut top, mark, "`extends` is not a profile name");
                    }
                    expect_key = !expect_key;
                }
                depth += 1;
            }
            YamlEvent::End => depth = depth.saturating_sub(1),
            YamlEvent::Scalar(_, v) | YamlEvent::Alias(v) if depth == 1 => {
                let v = String::from_utf8_lossy(&v).into_owned();
                if expect_key {
                    if mark.column != 0 {
                        refuse(
                            &mut top,
                            mark,
                            "a top-level key does not start in the first column",
                        );
                    }
                    if let Some(last) = top.entries.last_mut() {
                        last.end = mark.line;
                    }
                    top.entries.push(Entry {
                        key: v.clone(),
                        start: mark.line,
                        end: lines.len(),
                    });
                    key = v;
                } else if key == "extends" {
                    top.extends = Some((v, mark));
                }
                expect_key = !expect_key;
            }
            YamlEvent::Error => break,
            _ => {}
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_span_their_lines_and_extends_is_read() {
        let text = "# note\nextends: base\nname: x\nstate:\n  a: 1\n  # c\nb: [1,\n  2]\n";
        let top = top_level(text);
        let spans: Vec<(&str, usize, usize)> = top
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.start, e.end))
            .collect();
        assert_eq!(
            spans,
            [
                ("extends", 1, 2),
                ("name", 2, 3),
                ("state", 3, 6),
                ("b", 6, 8)
            ]
        );
        assert_eq!(
            top.extends.map(|(n, m)| (n, m.line)),
            Some(("base".into(), 1))
        );
        assert!(top.unmergeable.is_none());
    }

    #[test]
    fn flow_documents_and_indented_keys_cannot_be_merged() {
        for text in [
            "{ extends: b, name: x }\n",
            "  extends: b\n  name: x\n",
            "- a\n",
        ] {
            assert!(top_level(text).unmergeable.is_some(), "{text}");
        }
    }
}
