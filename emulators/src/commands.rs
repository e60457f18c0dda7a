//! Command rules: how a device reads the bytes a host writes, and what it does.
//!
//! Rules are grouped by their first character; all rules of a group share one
//! frame length, so the parser knows how many characters to collect before it
//! tries the rules in order (the first whose fields all accept wins).

use crate::expr::Expr;
use crate::layout::format_num;
use crate::load::LoadError;
use crate::profile::{compile_expr, Charset, CommandDecl, StreamAction};
use crate::state::{Scope, State};
use std::collections::BTreeMap;

/// A compiled command rule.
#[derive(Debug, Clone)]
pub struct CommandRule {
    /// Rule name.
    pub name: String,
    /// Characters that begin the command.
    pub starts: Vec<u8>,
    /// Frame length in bytes.
    pub length: usize,
    /// Required last byte.
    pub end: Option<u8>,
    /// Fixed bytes at positions (from `match` or `start`).
    pub fixed: Vec<(usize, u8)>,
    /// Fields: name, position, accepted bytes and their values.
    pub fields: Vec<(String, usize, BTreeMap<u8, f64>)>,
    /// State assignments.
    pub set: Vec<(Target, Expr)>,
    /// Reply template.
    pub reply: Option<String>,
    /// Stream action.
    pub stream: Option<StreamAction>,
    /// Reset to power-on state first.
    pub reset: bool,
    /// Reply when the end byte arrives early.
    pub too_few: Option<String>,
    /// Reply when the last byte is not the end byte.
    pub bad_end: Option<String>,
    /// Reply when a field rejects its byte.
    pub bad_field: Option<String>,
    /// An incomplete frame is dropped after this long.
    pub timeout: Option<std::time::Duration>,
    /// Reply when an incomplete frame is dropped.
    pub timeout_reply: Option<String>,
}

/// The left side of an assignment.
#[derive(Debug, Clone)]
pub enum Target {
    /// A scalar.
    Scalar(String),
    /// One array element.
    Element(String, Expr),
    /// Every array element (`name[*]`).
    All(String),
}

/// All rules of a profile.
#[derive(Debug, Clone, Default)]
pub struct CommandSet {
    /// Rules in file order.
    pub rules: Vec<CommandRule>,
    /// How command text maps to bytes (and received bytes back to text).
    pub charset: Charset,
}

/// What the parser made of the host's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A complete command matched `rule` with these field values.
    Command {
        /// Index into [`CommandSet::rules`].
        rule: usize,
        /// The command's text.
        text: String,
        /// Field values.
        fields: Vec<(String, f64)>,
    },
    /// A malformed command; `reply` is what the device answers, if anything.
    Rejected {
        /// The bytes received.
        text: String,
        /// Why.
        reason: String,
        /// The device's error reply.
        reply: Option<String>,
    },
    /// A byte no rule begins with.
    Unknown(u8),
}

impl CommandSet {
    pub(crate) fn compile(
        decls: &[CommandDecl],
        state: &State,
        charset: Charset,
        err: &dyn Fn(String, &str, String) -> LoadError,
    ) -> Result<CommandSet, LoadError> {
        let mut rules: Vec<CommandRule> = Vec::new();
        for (i, d) in decls.iter().enumerate() {
            let p = format!("commands[{i}]");
            let fail = |f: String, m: &str| err(f, &d.name, m.to_string());
            let bytes = |s: &str, f: &str| -> Result<Vec<u8>, LoadError> {
                charset.encode(s).ok_or_else(|| {
                    fail(
                        format!("{p}.{f}"),
                        "has a character beyond U+00FF (charset: latin1)",
                    )
                })
            };
            let one_byte = |s: &str, f: &str| -> Result<u8, LoadError> {
                match bytes(s, f)?.as_slice() {
                    [b] => Ok(*b),
                    _ => Err(fail(format!("{p}.{f}"), "must be exactly one character")),
                }
            };
            let mut fields = Vec::new();
            for (name, fm) in &d.fields {
                let mut map = BTreeMap::new();
                if fm.any_byte {
                    if !fm.map.is_empty() {
                        return Err(fail(
                            format!("{p}.fields.{name}"),
                            "has both `map` and `any_byte`",
                        ));
                    }
                    map.extend((0..=255u8).map(|b| (b, f64::from(b))));
                }
                for (k, v) in &fm.map {
                    map.insert(one_byte(k, &format!("fields.{name}.map"))?, *v);
                }
                if let Some(v) = fm.default {
                    if fm.at == 0 {
                        return Err(fail(
                            format!("{p}.fields.{name}.default"),
                            "is not allowed at position 0",
                        ));
                    }
                    for b in 0..=255u8 {
                        map.entry(b).or_insert(v);
                    }
                }
                if map.is_empty() {
                    return Err(fail(
                        format!("{p}.fields.{name}"),
                        "needs `map` or `any_byte: true`",
                    ));
                }
                fields.push((name.clone(), fm.at, map));
            }
            let timeout = d
                .frame
                .as_ref()
                .and_then(|f| f.timeout_ms)
                .map(std::time::Duration::from_millis);
            let (starts, length, end, fixed, too_few, bad_end, bad_field) =
                match (&d.literal, &d.frame) {
                    (Some(lit), None) => {
                        if lit.is_empty() {
                            return Err(fail(format!("{p}.match"), "empty command"));
                        }
                        let b = bytes(lit, "match")?;
                        let fixed = b.iter().enumerate().map(|(i, c)| (i, *c)).collect();
                        (vec![b[0]], b.len(), None, fixed, None, None, None)
                    }
                    (None, Some(f)) => {
                        let mut fixed = Vec::new();
                        let starts = match &f.start {
                            Some(s) => {
                                let b = one_byte(s, "frame.start")?;
                                fixed.push((0, b));
                                vec![b]
                            }
                            None => match fields.iter().find(|(_, at, _)| *at == 0) {
                                Some((_, _, map)) => map.keys().copied().collect(),
                                None => {
                                    return Err(fail(
                                        format!("{p}.frame"),
                                        "needs `start` or a field at position 0",
                                    ))
                                }
                            },
                        };
                        let end = f
                            .end
                            .as_deref()
                            .map(|e| one_byte(e, "frame.end"))
                            .transpose()?;
                        (
                            starts,
                            f.length,
                            end,
                            fixed,
                            f.too_few.clone(),
                            f.bad_end.clone(),
                            f.bad_field.clone(),
                        )
                    }
                    _ => {
                        return Err(fail(
                            p.clone(),
                            "a command needs exactly one of `match` or `frame`",
                        ))
                    }
                };
            if length == 0 {
                return Err(fail(format!("{p}.frame.length"), "must be at least 1"));
            }
            for (name, at, _) in &fields {
                if *at >= length {
                    return Err(fail(
                        format!("{p}.fields.{name}.at"),
                        "is beyond the frame length",
                    ));
                }
            }
            let field_names: Vec<&str> = fields.iter().map(|(n, _, _)| n.as_str()).collect();
            let mut set = Vec::new();
            for (target, value) in &d.set {
                let f = format!("{p}.set.{target}");
                let t = parse_target(target, state, &field_names, &f, err)?;
                set.push((t, compile_expr(value, &f, state, &field_names, err)?));
            }
            let rule = CommandRule {
                name: d.name.clone(),
                starts,
                length,
                end,
                fixed,
                fields,
                set,
                reply: d.reply.clone(),
                stream: d.stream,
                reset: d.reset,
                timeout_reply: d.frame.as_ref().and_then(|f| f.timeout_reply.clone()),
                too_few,
                bad_end,
                bad_field,
                timeout,
            };
            for other in &rules {
                let shares = other.starts.iter().any(|s| rule.starts.contains(s));
                if shares && (other.length != rule.length || other.end != rule.end) {
                    return Err(fail(
                        p.clone(),
                        &format!(
                            "starts like `{}` but has a different length or end character",
                            other.name
                        ),
                    ));
                }
            }
            rules.push(rule);
        }
        Ok(CommandSet { rules, charset })
    }

    fn group_of(&self, b: u8) -> Option<(usize, Option<u8>, Option<std::time::Duration>)> {
        self.rules
            .iter()
            .find(|r| r.starts.contains(&b))
            .map(|r| (r.length, r.end, r.timeout))
    }
}

/// Width in bytes and byte order (little endian?) of a binary reply format.
fn binary_format(f: &str) -> Option<(usize, bool)> {
    Some(match f {
        "u8" => (1, true),
        "u16le" => (2, true),
        "u16be" => (2, false),
        "u24le" => (3, true),
        "u24be" => (3, false),
        "u32le" => (4, true),
        "u32be" => (4, false),
        _ => return None,
    })
}

fn parse_target(
    text: &str,
    state: &State,
    fields: &[&str],
    f: &str,
    err: &dyn Fn(String, &str, String) -> LoadError,
) -> Result<Target, LoadError> {
    let bad = |m: String| err(f.to_string(), text, m);
    if let Some((name, rest)) = text.split_once('[') {
        let inner = rest
            .strip_suffix(']')
            .ok_or_else(|| bad(format!("`{text}`: expected `name[index]`")))?;
        if state.kind(name) != Some(true) {
            return Err(bad(format!("`{name}` is not an array state variable")));
        }
        if inner.trim() == "*" {
            return Ok(Target::All(name.to_string()));
        }
        let e = compile_expr(inner, f, state, fields, err)?;
        return Ok(Target::Element(name.to_string(), e));
    }
    if text == "streaming" {
        return Err(bad(
            "`streaming` changes through `stream: start|stop`".into()
        ));
    }
    match state.kind(text) {
        Some(false) => Ok(Target::Scalar(text.to_string())),
        _ => Err(bad(format!("`{text}` is not a scalar state variable"))),
    }
}

/// Splits the host's byte stream into commands.
#[derive(Debug, Clone, Default)]
pub struct CommandParser {
    pending: Vec<u8>,
    want: usize,
    end: Option<u8>,
    timeout: Option<std::time::Duration>,
    started: Option<std::time::Duration>,
}

impl CommandParser {
    /// Feeds one byte received at `now` (time since any fixed origin; `None` when
    /// the caller keeps no time, which disables frame timeouts). Appends to `out`
    /// what completed or was rejected.
    pub fn push(
        &mut self,
        set: &CommandSet,
        b: u8,
        now: Option<std::time::Duration>,
        out: &mut Vec<Parsed>,
    ) {
        if !self.pending.is_empty() {
            let expired = match (self.timeout, self.started, now) {
                (Some(t), Some(s), Some(n)) => n.saturating_sub(s) > t,
                _ => false,
            };
            if expired {
                let first = self.pending[0];
                out.push(Parsed::Rejected {
                    text: self.take(set.charset),
                    reason: "incomplete command timed out".into(),
                    reply: set
                        .rules
                        .iter()
                        .find(|r| r.starts.contains(&first))
                        .and_then(|r| r.timeout_reply.clone()),
                });
            }
        }
        if self.pending.is_empty() {
            let Some((len, end, timeout)) = set.group_of(b) else {
                out.push(Parsed::Unknown(b));
                return;
            };
            self.want = len;
            self.end = end;
            self.timeout = timeout;
            self.started = now;
        }
        self.pending.push(b);
        let n = self.pending.len();
        if n < self.want {
            if n > 1 && Some(b) == self.end {
                let first = self.pending[0];
                let text = self.take(set.charset);
                let reply = set
                    .rules
                    .iter()
                    .find(|r| r.starts.contains(&first))
                    .and_then(|r| r.too_few.clone());
                out.push(Parsed::Rejected {
                    text,
                    reason: "too few characters".into(),
                    reply,
                });
            }
            return;
        }
        let frame = std::mem::take(&mut self.pending);
        out.push(match_frame(set, &frame));
    }

    /// Bytes of an incomplete command held back (never more than the longest
    /// rule: a babbling host cannot grow it).
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    fn take(&mut self, charset: Charset) -> String {
        charset.decode(&std::mem::take(&mut self.pending))
    }
}

fn match_frame(set: &CommandSet, frame: &[u8]) -> Parsed {
    let text = set.charset.decode(frame);
    let group: Vec<(usize, &CommandRule)> = set
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.starts.contains(&frame[0]))
        .collect();
    let last = frame[frame.len() - 1];
    if let Some((_, r)) = group.first() {
        if let Some(end) = r.end {
            if last != end {
                return Parsed::Rejected {
                    text,
                    reason: format!("last character is not `{}`", end as char),
                    reply: r.bad_end.clone(),
                };
            }
        }
    }
    'rules: for (idx, r) in &group {
        if r.fixed.iter().any(|(at, b)| frame[*at] != *b) {
            continue;
        }
        let mut fields = Vec::new();
        for (name, at, map) in &r.fields {
            match map.get(&frame[*at]) {
                Some(v) => fields.push((name.clone(), *v)),
                None => continue 'rules,
            }
        }
        return Parsed::Command {
            rule: *idx,
            text,
            fields,
        };
    }
    Parsed::Rejected {
        text,
        reason: "no rule accepts these characters".into(),
        reply: group.iter().find_map(|(_, r)| r.bad_field.clone()),
    }
}

/// Applies a matched rule's assignments to `state` (all right-hand sides read the
/// state as it was before the command) and renders its reply.
pub fn apply(
    rule: &CommandRule,
    fields: &[(String, f64)],
    state: &mut State,
    initial: &State,
) -> Result<Option<String>, String> {
    if rule.reset {
        let streaming = state.get("streaming").unwrap_or(0.0);
        *state = initial.clone();
        state.set("streaming", streaming);
    }
    let extra: Vec<(&str, f64)> = fields.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let before = state.clone();
    let scope = Scope {
        state: &before,
        extra: &extra,
        bindings: &[],
    };
    for (target, e) in &rule.set {
        let v = e.eval(&scope).map_err(|e| e.0)?;
        let ok = match target {
            Target::Scalar(n) => state.set(n, v),
            Target::All(n) => state.set_all(n, v),
            Target::Element(n, i) => {
                let i = i.eval(&scope).map_err(|e| e.0)?;
                state.set_at(n, i.round() as i64, v)
            }
        };
        if !ok {
            return Err(format!("rule `{}`: assignment out of range", rule.name));
        }
    }
    Ok(rule.reply.as_ref().map(|t| render(t, &extra, state)))
}

/// Replaces `{EXPR}` with the value of an expression over the command's fields
/// and the state (a bare name is the simplest expression), as decimal text.
/// `{EXPR:FMT}` writes it in another form, the value rounded and wrapped to the
/// width:
/// * binary bytes, one character U+0000..U+00FF per byte (meant for
///   `charset: latin1`): `u8`, `u16le`, `u16be`, `u24le`, `u24be`, `u32le`,
///   `u32be`;
/// * text for register dumps: `hex2`, the byte as at least two upper-case hex
///   digits (`0x3E` → `3E`, `7` → `07`); `bits8`, its eight bits from bit 7 down,
///   joined by `, ` (`0x3E` → `0, 0, 1, 1, 1, 1, 1, 0`).
///
/// `{EXPR|a|b|c}` writes the alternative the rounded value indexes (0 → `a`).
/// Anything else between braces (text that is no expression, an unknown name, an
/// index out of range, an unknown format) stays as written, so replies may hold
/// literal braces (JSON). A placeholder is the innermost `{…}`: in JSON text such
/// as `{"hn":"Muse-{serial}"}` only `{serial}` is replaced.
pub fn render(template: &str, fields: &[(&str, f64)], state: &State) -> String {
    let scope = Scope {
        state,
        extra: fields,
        bindings: &[],
    };
    let value = |text: &str| Expr::parse(text.trim()).ok()?.eval(&scope).ok();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(mut open) = rest.find('{') {
        // The last `{` before the next `}` opens the innermost placeholder.
        if let Some(close) = rest[open..].find('}') {
            open += rest[open..open + close].rfind('{').unwrap_or(0);
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &after[..close];
        rest = &after[close + 1..];
        let written = match inner.split_once('|') {
            Some((sel, alts)) => {
                let alts: Vec<&str> = alts.split('|').collect();
                value(sel)
                    .map(f64::round)
                    .filter(|v| *v >= 0.0 && (*v as usize) < alts.len())
                    .map(|i| alts[i as usize].to_string())
            }
            None => match inner.rsplit_once(':') {
                Some((e, f)) => value(e).and_then(|v| formatted(v, f)),
                None => value(inner).map(format_num),
            },
        };
        match written {
            Some(text) => out.push_str(&text),
            None => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
    }
    out.push_str(rest);
    out
}

/// `v` written in the reply format `f` (see [`render`]); `None` for an unknown
/// format.
fn formatted(v: f64, f: &str) -> Option<String> {
    let raw = v.round() as i64 as u64;
    let byte = raw as u8;
    Some(match f {
        "hex2" => format!("{byte:02X}"),
        "bits8" => (0..8)
            .rev()
            .map(|bit| ((byte >> bit) & 1).to_string())
            .collect::<Vec<_>>()
            .join(", "),
        _ => {
            let (width, little) = binary_format(f)?;
            let mut b = raw.to_be_bytes()[8 - width..].to_vec();
            if little {
                b.reverse();
            }
            b.into_iter().map(char::from).collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateValue;

    #[test]
    fn a_choice_writes_the_indexed_text_or_stays_as_written() {
        let st = State::default();
        let r = |v: f64| render("<{m|zero||two}>", &[("m", v)], &st);
        assert_eq!(r(0.0), "<zero>");
        assert_eq!(r(1.0), "<>");
        assert_eq!(r(2.0), "<two>");
        assert_eq!(r(3.0), "<{m|zero||two}>");
        assert_eq!(r(-1.0), "<{m|zero||two}>");
        assert_eq!(render("{nope|a}", &[], &st), "{nope|a}");
        // JSON around a placeholder stays as written.
        assert_eq!(
            render(r#"{"hn":"M-{m}","rc":0}{"rc":0}"#, &[("m", 7.0)], &st),
            r#"{"hn":"M-7","rc":0}{"rc":0}"#
        );
    }

    #[test]
    fn expressions_and_register_formats() {
        let st = State::new(
            [("reg".to_string(), StateValue::Array(vec![0.0, 62.0]))]
                .into_iter()
                .collect(),
        );
        let r = |t: &str| render(t, &[("n", 7.0)], &st);
        assert_eq!(r("{reg[2]:hex2}, {n:hex2}"), "3E, 07");
        assert_eq!(r("{reg[2]:bits8}"), "0, 0, 1, 1, 1, 1, 1, 0");
        assert_eq!(r("{n * 2 + reg[2]}"), "76");
        assert_eq!(r("{n - 6|a|b}"), "b");
        assert_eq!(r("{n + 0x100:hex2}"), "07", "wrapped to a byte");
        // Not an expression, an unknown name or format: kept as written.
        assert_eq!(
            r("{\"rc\":0}{reg[3]}{n:hex3}"),
            "{\"rc\":0}{reg[3]}{n:hex3}"
        );
    }
}
