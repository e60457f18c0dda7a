//! A small YAML document model, its renderer, and the pieces every
//! structure-aware loader target shares: numbers, names and text drawn mostly
//! from the real schema's vocabulary, anchors and aliases, and a raw-bytes
//! escape hatch so malformed text is still reached.
//!
//! The generators ([`crate::scenario_gen`], [`crate::profile_gen`]) build a
//! [`Y`] tree from an `Arbitrary` model; [`Doc::render`] turns it into text in
//! a mix of block and flow styles, plain and quoted scalars.

use arbitrary::{Arbitrary, Result, Unstructured};

/// A YAML node.
#[derive(Debug, Clone)]
pub enum Y {
    /// A string scalar: written plain when that reads back as the same
    /// string, quoted otherwise.
    Str(String),
    /// A scalar written exactly as given (numbers, `true`, `.inf`, `~`).
    Raw(String),
    /// A sequence.
    Seq(Vec<Y>),
    /// A mapping (keys are plain or quoted strings).
    Map(Vec<(String, Y)>),
}

impl Y {
    /// A mapping from `(key, Option<value>)` pairs, dropping the absent ones.
    pub fn map(entries: Vec<(&str, Option<Y>)>) -> Y {
        Y::Map(
            entries
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
                .collect(),
        )
    }

    /// A plain scalar.
    pub fn raw(s: impl Into<String>) -> Y {
        Y::Raw(s.into())
    }

    /// A string scalar.
    pub fn s(s: impl Into<String>) -> Y {
        Y::Str(s.into())
    }

    fn count(&self) -> usize {
        1 + match self {
            Y::Seq(v) => v.iter().map(Y::count).sum(),
            Y::Map(v) => v.iter().map(|(_, y)| y.count()).sum(),
            _ => 0,
        }
    }
}

/// `Some` about one time in sixteen (a plain `Option` is `Some` half the time,
/// too often for a field that is usually an error).
#[derive(Debug)]
pub struct Rare<T>(pub Option<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Rare<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let gate: u8 = u.arbitrary()?;
        Ok(Rare(if gate < 16 {
            Some(T::arbitrary(u)?)
        } else {
            None
        }))
    }
}

/// Limits of the loaders (and the values just past them), so boundaries are
/// hit often rather than by luck.
const EDGES: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "8",
    "9",
    "63",
    "64",
    "65",
    "255",
    "256",
    "1023",
    "1024",
    "1025",
    "4096",
    "32768",
    "65535",
    "65536",
    "65537",
    "1000000",
    "1000001",
    "3600000",
    "3600001",
    "21600000",
    "21600001",
    "100000000",
    "100000001",
    "4294967288",
    "4294967295",
    "4294967296",
    "4294967297",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "-9223372036854775808",
    "0x10",
    "0o17",
    "1e3",
    "1.5",
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "true",
    "''",
    "[]",
    "{}",
];

/// An unsigned count, mostly small, sometimes at a limit.
#[derive(Debug)]
pub enum UInt {
    /// 0..=255.
    Small(u8),
    /// 0..=65535.
    Mid(u16),
    /// Anything.
    Any(u64),
    /// A limit or a value just past one (or not a number at all).
    Edge(u8),
    /// A negative number.
    Neg(u8),
}

/// The tag byte's share of each variant: most values are plausible, so a
/// document with many numbers still loads often; the rest sit at limits.
impl<'a> Arbitrary<'a> for UInt {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag: u8 = u.arbitrary()?;
        Ok(match tag {
            0..=169 => UInt::Small(u.arbitrary()?),
            170..=224 => UInt::Mid(u.arbitrary()?),
            225..=244 => UInt::Edge(u.arbitrary()?),
            245..=250 => UInt::Any(u.arbitrary()?),
            _ => UInt::Neg(u.arbitrary()?),
        })
    }
}

impl UInt {
    /// The YAML scalar.
    pub fn y(&self) -> Y {
        Y::raw(match self {
            UInt::Small(n) => n.to_string(),
            UInt::Mid(n) => n.to_string(),
            UInt::Any(n) => n.to_string(),
            UInt::Edge(i) => EDGES[*i as usize % EDGES.len()].to_string(),
            UInt::Neg(n) => format!("-{n}"),
        })
    }
}

/// A count that is small unless it says otherwise (`repeat`, lengths).
#[derive(Debug)]
pub enum Small {
    /// 0..=16 (most of the time).
    N(u8),
    /// Any count, limits included.
    Big(UInt),
}

impl<'a> Arbitrary<'a> for Small {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag: u8 = u.arbitrary()?;
        Ok(if tag < 245 {
            Small::N(u.arbitrary()?)
        } else {
            Small::Big(u.arbitrary()?)
        })
    }
}

impl Small {
    /// The YAML scalar.
    pub fn y(&self) -> Y {
        match self {
            Small::N(n) => Y::raw((n % 17).to_string()),
            Small::Big(u) => u.y(),
        }
    }

    /// The value, when it is one of the small ones.
    pub fn value(&self) -> Option<u64> {
        match self {
            Small::N(n) => Some(u64::from(n % 17)),
            Small::Big(_) => None,
        }
    }
}

/// A real number.
#[derive(Debug)]
pub enum Float {
    /// An integer.
    Int(i16),
    /// A fraction `n / 100`.
    Frac(i32),
    /// A limit, infinity, NaN, or not a number.
    Edge(u8),
}

const FLOAT_EDGES: &[&str] = &[
    ".inf",
    "-.inf",
    ".nan",
    "0",
    "-0.0",
    "1e308",
    "1e-308",
    "0.001",
    "0.0009",
    "1000",
    "1000.0001",
    "0.5",
    "2.5",
    "1e400",
    "0x1F",
    "nan",
    "inf",
    "1_000",
    "+1",
    "yes",
];

impl<'a> Arbitrary<'a> for Float {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag: u8 = u.arbitrary()?;
        Ok(match tag {
            0..=179 => Float::Frac(i32::from(u.arbitrary::<u16>()?)),
            180..=239 => Float::Int(u.arbitrary()?),
            240..=245 => Float::Frac(u.arbitrary()?),
            _ => Float::Edge(u.arbitrary()?),
        })
    }
}

impl Float {
    /// The YAML scalar.
    pub fn y(&self) -> Y {
        Y::raw(match self {
            Float::Int(n) => n.to_string(),
            Float::Frac(n) => format!("{}", f64::from(*n) / 100.0),
            Float::Edge(i) => FLOAT_EDGES[*i as usize % FLOAT_EDGES.len()].to_string(),
        })
    }
}

/// A name from a vocabulary (usually) or any short string.
#[derive(Debug)]
pub enum Name {
    /// The vocabulary's entry at this index (modulo its length).
    Known(u8),
    /// Any text.
    Raw(String),
}

impl<'a> Arbitrary<'a> for Name {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag: u8 = u.arbitrary()?;
        Ok(if tag < 248 {
            Name::Known(u.arbitrary()?)
        } else {
            Name::Raw(u.arbitrary()?)
        })
    }
}

impl Name {
    /// The name, from `vocab`.
    pub fn pick(&self, vocab: &[&str]) -> String {
        match self {
            Name::Known(i) if !vocab.is_empty() => vocab[*i as usize % vocab.len()].to_string(),
            Name::Known(_) => "x".into(),
            Name::Raw(s) => s.chars().take(24).collect(),
        }
    }
}

/// Text: a real-looking value from a vocabulary (7 inputs in 8) or any
/// string.
#[derive(Debug)]
pub enum Text {
    /// From a vocabulary.
    Known(u8),
    /// Any.
    Raw(String),
}

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag: u8 = u.arbitrary()?;
        Ok(if tag < 224 {
            Text::Known(u.arbitrary()?)
        } else {
            Text::Raw(u.arbitrary()?)
        })
    }
}

impl Text {
    /// The text: a word of `vocab`, or the raw string's first 40 characters.
    pub fn y(&self, vocab: &[&str]) -> Y {
        match self {
            Text::Known(i) => Y::s(pick(*i, vocab)),
            Text::Raw(s) => Y::s(s.chars().take(40).collect::<String>()),
        }
    }
}

/// Picks from `vocab` by index (never raw).
pub fn pick<'v>(i: u8, vocab: &[&'v str]) -> &'v str {
    vocab[i as usize % vocab.len()]
}

/// `n` items at most of a list (a long list reaches no new code, only time).
pub fn first<T>(v: &[T], n: usize) -> &[T] {
    &v[..v.len().min(n)]
}

/// A raw change to the rendered text: the escape hatch that keeps malformed
/// YAML (bad indentation, stray bytes, truncation, invalid UTF-8) reachable.
#[derive(Debug, Arbitrary)]
pub enum Mutation {
    /// Insert bytes at a position.
    Insert(u16, Vec<u8>),
    /// Delete bytes at a position.
    Delete(u16, u8),
    /// Overwrite bytes at a position.
    Overwrite(u16, Vec<u8>),
    /// Cut the text at a position.
    Truncate(u16),
    /// Copy a range somewhere else.
    Duplicate(u16, u8, u16),
    /// Replace the whole text (the raw-text target, in effect).
    Text(Vec<u8>),
    /// Swap two lines.
    SwapLines(u8, u8),
}

impl Mutation {
    fn apply(&self, text: &mut Vec<u8>) {
        let at = |p: u16, len: usize| p as usize % (len + 1);
        match self {
            Mutation::Insert(p, b) => {
                let i = at(*p, text.len());
                text.splice(i..i, first(b, 64).iter().copied());
            }
            Mutation::Delete(p, n) => {
                let i = at(*p, text.len());
                let j = (i + *n as usize).min(text.len());
                text.drain(i..j);
            }
            Mutation::Overwrite(p, b) => {
                let i = at(*p, text.len());
                for (k, x) in first(b, 64).iter().enumerate() {
                    match text.get_mut(i + k) {
                        Some(t) => *t = *x,
                        None => text.push(*x),
                    }
                }
            }
            Mutation::Truncate(p) => {
                let i = at(*p, text.len());
                text.truncate(i);
            }
            Mutation::Duplicate(p, n, to) => {
                let i = at(*p, text.len());
                let j = (i + *n as usize).min(text.len());
                let piece = text[i..j].to_vec();
                let k = at(*to, text.len());
                text.splice(k..k, piece);
            }
            Mutation::Text(b) => *text = b.clone(),
            Mutation::SwapLines(a, b) => {
                let s = String::from_utf8_lossy(text).into_owned();
                let mut lines: Vec<&str> = s.split('\n').collect();
                let n = lines.len();
                lines.swap(*a as usize % n, *b as usize % n);
                *text = lines.join("\n").into_bytes();
            }
        }
    }
}

/// How a document is written, and what is done to it afterwards.
#[derive(Debug, Arbitrary)]
pub struct Style {
    /// Collections this deep or deeper are written in flow style
    /// (`{ a: 1 }`, `[x, y]`); shallower ones in block style.
    flow_depth: u8,
    /// Quote string scalars even when they could be plain; 1: single quotes.
    quoting: u8,
    /// Anchor the node at the first position (pre-order) and refer to it by
    /// an alias at the second, when that node comes after it.
    link: Rare<(u16, u16)>,
    /// Raw changes to the text (applied about one time in six).
    gate: u8,
    mutations: Vec<Mutation>,
}

/// A document and how to write it.
pub struct Doc<'a> {
    /// The tree.
    pub root: Y,
    /// How to write it.
    pub style: &'a Style,
}

impl Doc<'_> {
    /// The text: rendered, then changed by the style's mutations. Invalid
    /// UTF-8 that a mutation made is replaced (the loaders take `&str`; a
    /// file that is not UTF-8 is refused before parsing).
    pub fn render(&self) -> String {
        let mut r = Renderer {
            out: String::new(),
            style: self.style,
            next: 0,
            anchor: None,
            alias: None,
            anchor_end: usize::MAX,
        };
        if let Some((a, b)) = self.style.link.0 {
            let n = self.root.count().max(1);
            let (a, b) = (a as usize % n, b as usize % n);
            r.anchor = Some(a);
            r.alias = Some(b);
        }
        r.node(&self.root, 0, Ctx::Top);
        let mut text = r.out.into_bytes();
        if self.style.gate < 43 {
            for m in first(&self.style.mutations, 3) {
                m.apply(&mut text);
            }
        }
        match String::from_utf8(text) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// The document itself.
    Top,
    /// After `key:` in block style (a block collection starts on the next line).
    BlockValue,
    /// After `- ` in block style.
    BlockItem,
    /// Inside a flow collection.
    Flow,
}

struct Renderer<'a> {
    out: String,
    style: &'a Style,
    /// Pre-order index of the next node.
    next: usize,
    anchor: Option<usize>,
    alias: Option<usize>,
    /// Index past the anchored node's subtree (aliases must come after it).
    anchor_end: usize,
}

fn plain_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | '*'))
        && !s.starts_with(['-', '.', '*', '/'])
        && !s.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "Y" | "N"
        )
}

fn quote(s: &str, single: bool) -> String {
    if single {
        return format!("'{}'", s.replace('\'', "''").replace('\n', "\n\n"));
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => q.push_str(&format!("\\x{:02x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

impl Renderer<'_> {
    fn scalar(&self, s: &str) -> String {
        let always = self.style.quoting % 8 == 0;
        if plain_ok(s) && !always {
            s.to_string()
        } else {
            quote(s, self.style.quoting % 3 == 1)
        }
    }

    fn pad(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push(' ');
        }
    }

    fn node(&mut self, y: &Y, indent: usize, ctx: Ctx) {
        let me = self.next;
        self.next += 1;
        let end = me + y.count();
        if self.alias == Some(me) && me >= self.anchor_end {
            self.out.push_str("*a");
            if ctx != Ctx::Flow {
                self.out.push('\n');
            }
            self.next = end;
            return;
        }
        let mut prefix = String::new();
        if self.anchor == Some(me) {
            prefix.push_str("&a ");
            self.anchor_end = end;
        }
        let depth = indent / 2;
        let flow = ctx == Ctx::Flow || depth >= self.style.flow_depth as usize % 6;
        match y {
            Y::Str(s) => {
                let t = self.scalar(s);
                self.out.push_str(&prefix);
                self.out.push_str(&t);
                if ctx != Ctx::Flow {
                    self.out.push('\n');
                }
            }
            Y::Raw(s) => {
                self.out.push_str(&prefix);
                self.out.push_str(s);
                if ctx != Ctx::Flow {
                    self.out.push('\n');
                }
            }
            Y::Seq(items) if flow || items.is_empty() => {
                self.out.push_str(&prefix);
                self.out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.node(it, indent, Ctx::Flow);
                }
                self.out.push(']');
                if ctx != Ctx::Flow {
                    self.out.push('\n');
                }
            }
            Y::Map(entries) if flow || entries.is_empty() => {
                self.out.push_str(&prefix);
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    let k = self.scalar(k);
                    self.out.push_str(&k);
                    self.out.push_str(": ");
                    self.node(v, indent, Ctx::Flow);
                }
                self.out.push('}');
                if ctx != Ctx::Flow {
                    self.out.push('\n');
                }
            }
            Y::Seq(items) => {
                let inner = if ctx == Ctx::Top { 0 } else { indent + 2 };
                if ctx != Ctx::Top {
                    self.out.push_str(prefix.trim_end());
                    self.out.push('\n');
                } else if !prefix.is_empty() {
                    self.out.push_str(prefix.trim_end());
                    self.out.push('\n');
                }
                for it in items {
                    self.pad(inner);
                    self.out.push_str("- ");
                    self.node(it, inner, Ctx::BlockItem);
                }
            }
            Y::Map(entries) => {
                let inner = if ctx == Ctx::Top { 0 } else { indent + 2 };
                if ctx != Ctx::Top || !prefix.is_empty() {
                    self.out.push_str(prefix.trim_end());
                    self.out.push('\n');
                }
                for (k, v) in entries {
                    self.pad(inner);
                    let k = self.scalar(k);
                    self.out.push_str(&k);
                    self.out.push_str(": ");
                    self.node(v, inner, Ctx::BlockValue);
                }
            }
        }
    }
}

/// Draws a `T` from the input and renders it: the body of a structured
/// target. `make` builds the tree.
pub fn render_with<T>(model: &T, style: &Style, make: impl Fn(&T) -> Y) -> String {
    Doc {
        root: make(model),
        style,
    }
    .render()
}
