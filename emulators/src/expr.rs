//! A small arithmetic and logic expression language for device profiles.
//!
//! Profiles describe scales (`4500000 / 8388607 / gain[i]`), presence conditions
//! (`end_byte == 0xC0 && sample % 10 == 0`) and state updates as text, so a new
//! device is a YAML file rather than Rust code. Expressions are parsed once at load
//! time (so a typo is reported with the file and field) and evaluated per packet.

use crate::limits::{MAX_EXPR_DEPTH, MAX_EXPR_NODES};
use std::fmt;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A numeric literal (decimal, `0x` hex, or scientific).
    Num(f64),
    /// A scalar variable: a state variable or a per-packet variable.
    Var(String),
    /// An element of an array state variable, `name[index]` (indices start at 1).
    Index(String, Box<Expr>),
    /// A unary operator applied to an operand.
    Unary(UnOp, Box<Expr>),
    /// A binary operator applied to two operands.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// Arithmetic negation.
    Neg,
    /// Logical not (0 becomes 1, anything else 0).
    Not,
}

/// Binary operators, in the usual C precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%` (Euclidean remainder, so counters never go negative)
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// Why an expression could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the expression text.
    pub at: usize,
    /// What was wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.at)
    }
}

/// Where expression variables come from at evaluation time.
pub trait Env {
    /// The value of a scalar variable, `None` if it does not exist.
    fn var(&self, name: &str) -> Option<f64>;
    /// The value of `name[index]`, `None` if the array or index does not exist.
    fn index(&self, name: &str, index: i64) -> Option<f64>;
}

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

impl Expr {
    /// Parses an expression from text. Nesting deeper than [`MAX_EXPR_DEPTH`]
    /// or more than [`MAX_EXPR_NODES`] nodes is an error: the parser recurses
    /// per level, and evaluation per level of the tree.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        let mut p = Parser {
            src: text.as_bytes(),
            pos: 0,
            depth: 0,
            nodes: 0,
        };
        let e = p.or()?;
        p.skip_ws();
        if p.pos != p.src.len() {
            return Err(p.err("unexpected text"));
        }
        Ok(e)
    }

    /// Evaluates the expression against an environment.
    pub fn eval(&self, env: &dyn Env) -> Result<f64, EvalError> {
        Ok(match self {
            Expr::Num(v) => *v,
            Expr::Var(n) => env
                .var(n)
                .ok_or_else(|| EvalError(format!("unknown variable `{n}`")))?,
            Expr::Index(n, i) => {
                let idx = i.eval(env)?;
                env.index(n, idx.round() as i64)
                    .ok_or_else(|| EvalError(format!("`{n}[{idx}]` does not exist")))?
            }
            Expr::Unary(op, e) => unary(*op, e.eval(env)?),
            Expr::Binary(op, a, b) => {
                let x = a.eval(env)?;
                // Short-circuit so `i <= 8 && gain[i] == 24` is safe for i > 8.
                match op {
                    BinOp::And if x == 0.0 => return Ok(0.0),
                    BinOp::Or if x != 0.0 => return Ok(1.0),
                    _ => {}
                }
                binary(*op, x, b.eval(env)?)
            }
        })
    }

    /// Calls `f` with every variable name the expression reads (array names
    /// included), left to right, with the flag set for an array.
    pub fn visit_names(&self, f: &mut dyn FnMut(&str, bool)) {
        self.walk(|e| match e {
            Expr::Var(n) => f(n, false),
            Expr::Index(n, _) => f(n, true),
            _ => {}
        });
    }

    /// How many nodes (numbers, names, operators) the expression has.
    pub fn size(&self) -> usize {
        let mut n = 0;
        self.walk(|_| n += 1);
        n
    }

    /// Calls `f` on every node, parents before children, left to right; with a
    /// stack of its own rather than recursion, so no tree overflows the thread's.
    fn walk(&self, mut f: impl FnMut(&Expr)) {
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            f(e);
            match e {
                Expr::Num(_) | Expr::Var(_) => {}
                Expr::Index(_, i) | Expr::Unary(_, i) => todo.push(i),
                Expr::Binary(_, a, b) => {
                    todo.push(b);
                    todo.push(a);
                }
            }
        }
    }
}

/// A unary operator applied to a value (one home for evaluation and for the
/// constant folding of [`crate::plan`]).
pub(crate) fn unary(op: UnOp, v: f64) -> f64 {
    match op {
        UnOp::Neg => -v,
        UnOp::Not => truth(v == 0.0),
    }
}

/// A binary operator applied to two values, once `&&` and `||` have not
/// short-circuited on `x`.
#[inline]
pub(crate) fn binary(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Rem => rem_euclid(x, y),
        BinOp::Eq => truth(x == y),
        BinOp::Ne => truth(x != y),
        BinOp::Lt => truth(x < y),
        BinOp::Le => truth(x <= y),
        BinOp::Gt => truth(x > y),
        BinOp::Ge => truth(x >= y),
        BinOp::And | BinOp::Or => truth(y != 0.0),
    }
}

/// `x.rem_euclid(y)`, in integer arithmetic when both are integers an f64
/// holds exactly (counters and sample indices, nearly always): the same
/// result, without libm's `fmod`, which took 20% of the emulator's time per
/// Cyton packet (`perf` on `cargo bench -p boardloop-emulators --bench engine`).
fn rem_euclid(x: f64, y: f64) -> f64 {
    // 2^53: every integer below it is a float.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    // x = 0 keeps the float path: it gives -0 for -0, which integers cannot.
    // `as i64` saturates and maps NaN to 0, so the round trips hold only for
    // integers in range (cheaper than `fract`, a libm call here).
    if x.abs() < EXACT
        && y.abs() < EXACT
        && x != 0.0
        && y != 0.0
        && (x as i64) as f64 == x
        && (y as i64) as f64 == y
    {
        // Exact: |x|, |y| < 2^53, and the remainder is smaller than |y|.
        let r = (x as i64).rem_euclid(y as i64) as f64;
        // fmod's zero has the sign of x.
        if r == 0.0 && x < 0.0 {
            -0.0
        } else {
            r
        }
    } else {
        x.rem_euclid(y)
    }
}

fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    /// Levels of parentheses, brackets and unary operators open.
    depth: usize,
    /// Nodes built so far.
    nodes: usize,
}

type PResult = Result<Expr, ParseError>;

impl Parser<'_> {
    fn err(&self, m: &str) -> ParseError {
        ParseError {
            at: self.pos,
            message: m.to_string(),
        }
    }

    /// Counts a node built, failing past [`MAX_EXPR_NODES`].
    fn node(&mut self, e: Expr) -> PResult {
        self.nodes += 1;
        if self.nodes > MAX_EXPR_NODES {
            return Err(self.err(&format!(
                "more than {MAX_EXPR_NODES} numbers, names and operators"
            )));
        }
        Ok(e)
    }

    /// Parses `inner` one level deeper, failing past [`MAX_EXPR_DEPTH`].
    fn nested(&mut self, inner: fn(&mut Self) -> PResult) -> PResult {
        if self.depth >= MAX_EXPR_DEPTH {
            return Err(self.err(&format!("nested more than {MAX_EXPR_DEPTH} levels deep")));
        }
        self.depth += 1;
        let e = inner(self);
        self.depth -= 1;
        e
    }

    fn skip_ws(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.src[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn binary_level(&mut self, ops: &[(&str, BinOp)], next: fn(&mut Self) -> PResult) -> PResult {
        let mut lhs = next(self)?;
        'outer: loop {
            for (tok, op) in ops {
                // `<` must not swallow the first half of `<=`, nor `!` of `!=`.
                if self.peek_op(tok) {
                    self.pos += tok.len();
                    let rhs = next(self)?;
                    lhs = self.node(Expr::Binary(*op, Box::new(lhs), Box::new(rhs)))?;
                    continue 'outer;
                }
            }
            return Ok(lhs);
        }
    }

    fn peek_op(&mut self, tok: &str) -> bool {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        if !rest.starts_with(tok.as_bytes()) {
            return false;
        }
        let after = rest.get(tok.len()).copied();
        !(matches!(tok, "<" | ">" | "=" | "!") && after == Some(b'='))
    }

    fn or(&mut self) -> PResult {
        self.binary_level(&[("||", BinOp::Or)], Self::and)
    }
    fn and(&mut self) -> PResult {
        self.binary_level(&[("&&", BinOp::And)], Self::cmp)
    }
    fn cmp(&mut self) -> PResult {
        self.binary_level(
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            Self::add,
        )
    }
    fn add(&mut self) -> PResult {
        self.binary_level(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::mul)
    }
    fn mul(&mut self) -> PResult {
        self.binary_level(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
            Self::unary,
        )
    }
    fn unary(&mut self) -> PResult {
        if self.eat("-") {
            let e = self.nested(Self::unary)?;
            return self.node(Expr::Unary(UnOp::Neg, Box::new(e)));
        }
        if self.peek_op("!") {
            self.pos += 1;
            let e = self.nested(Self::unary)?;
            return self.node(Expr::Unary(UnOp::Not, Box::new(e)));
        }
        self.atom()
    }
    fn atom(&mut self) -> PResult {
        self.skip_ws();
        let start = self.pos;
        let Some(&c) = self.src.get(self.pos) else {
            return Err(self.err("expression ends too early"));
        };
        if c == b'(' {
            self.pos += 1;
            let e = self.nested(Self::or)?;
            if !self.eat(")") {
                return Err(self.err("expected `)`"));
            }
            return Ok(e);
        }
        if c.is_ascii_digit() || c == b'.' {
            return self.number(start);
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self
                .src
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                self.pos += 1;
            }
            let name = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
            if self.eat("[") {
                let idx = self.nested(Self::or)?;
                if !self.eat("]") {
                    return Err(self.err("expected `]`"));
                }
                return self.node(Expr::Index(name, Box::new(idx)));
            }
            return self.node(Expr::Var(name));
        }
        Err(self.err(&format!("unexpected character `{}`", c as char)))
    }
    fn number(&mut self, start: usize) -> PResult {
        if self.src[self.pos..].starts_with(b"0x") || self.src[self.pos..].starts_with(b"0X") {
            self.pos += 2;
            let s = self.pos;
            while self
                .src
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_hexdigit())
            {
                self.pos += 1;
            }
            let text = std::str::from_utf8(&self.src[s..self.pos]).unwrap_or("");
            let v = u64::from_str_radix(text, 16).map_err(|_| ParseError {
                at: start,
                message: "bad hex number".into(),
            })?;
            return self.node(Expr::Num(v as f64));
        }
        while self
            .src
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
        {
            self.pos += 1;
        }
        if matches!(self.src.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.src.get(self.pos), Some(b'-' | b'+')) {
                self.pos += 1;
            }
            while self.src.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("");
        let v = text.parse::<f64>().map_err(|_| ParseError {
            at: start,
            message: format!("bad number `{text}`"),
        })?;
        self.node(Expr::Num(v))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integer_remainder_is_the_float_remainder() {
        let big = 9_007_199_254_740_991.0;
        let xs = [
            -17.0,
            -7.0,
            -1.0,
            -0.0,
            0.0,
            1.0,
            6.0,
            7.0,
            255.0,
            1e6 + 3.0,
            big,
            -big,
            2.5,
            1e300,
        ];
        let ys = [
            -7.0,
            -1.0,
            1.0,
            3.0,
            7.0,
            256.0,
            big,
            0.0,
            0.5,
            f64::INFINITY,
        ];
        for x in xs {
            for y in ys {
                let (got, want) = (super::rem_euclid(x, y), x.rem_euclid(y));
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{x} % {y}: {got} vs {want}"
                );
            }
        }
    }

    use super::*;
    use std::collections::HashMap;

    struct M(HashMap<&'static str, f64>);
    impl Env for M {
        fn var(&self, n: &str) -> Option<f64> {
            self.0.get(n).copied()
        }
        fn index(&self, n: &str, i: i64) -> Option<f64> {
            (n == "gain" && (1..=8).contains(&i)).then_some(i as f64 * 2.0)
        }
    }

    fn ev(s: &str) -> f64 {
        let env = M([("packet", 21.0), ("end_byte", 192.0)].into());
        Expr::parse(s).unwrap().eval(&env).unwrap()
    }

    #[test]
    fn precedence_and_operators() {
        assert_eq!(ev("1 + 2 * 3"), 7.0);
        assert_eq!(ev("(1 + 2) * 3"), 9.0);
        assert_eq!(ev("-3 % 256"), 253.0);
        assert_eq!(ev("packet % 10 == 1"), 1.0);
        assert_eq!(ev("end_byte == 0xC0 && packet < 30"), 1.0);
        assert_eq!(ev("end_byte != 0xC0 || packet >= 30"), 0.0);
        assert_eq!(ev("!(packet <= 21)"), 0.0);
        assert_eq!(ev("gain[3] / 2"), 3.0);
        assert_eq!(ev("4.5e6 / 8388607"), 4.5e6 / 8388607.0);
    }

    #[test]
    fn short_circuit_protects_out_of_range_index() {
        assert_eq!(ev("packet > 100 && gain[99] == 1"), 0.0);
    }

    #[test]
    fn errors_are_positioned() {
        let e = Expr::parse("1 + * 2").unwrap_err();
        assert_eq!(e.at, 4);
        assert!(Expr::parse("gain[1").is_err());
        assert!(Expr::parse("1 2").is_err());
        let env = M(HashMap::new());
        let err = Expr::parse("nope + 1").unwrap().eval(&env).unwrap_err();
        assert!(err.0.contains("nope"));
    }

    #[test]
    fn deep_and_long_expressions_are_refused_not_overflowed() {
        // Each was a stack overflow (abort) before the limits.
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = Expr::parse(&deep).unwrap_err();
        assert!(e.message.contains("nested more than 256"), "{e}");
        let e = Expr::parse(&"-".repeat(10_000)).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
        let long = vec!["x"; 2_000_000].join("+");
        let e = Expr::parse(&long).unwrap_err();
        assert!(e.message.contains("more than 1024"), "{e}");
        // At the limits, both still parse (the deepest within a quarter of the
        // 2 MiB a spawned thread gets), and walk without recursion.
        let ok = format!("{}x{}", "(".repeat(255), ")".repeat(255));
        let parsed = std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(move || Expr::parse(&ok).unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(parsed, Expr::Var("x".into()));
        let ok = Expr::parse(&vec!["x"; 512].join("+")).unwrap();
        assert_eq!(ok.size(), 1023);
        let mut names = 0;
        ok.visit_names(&mut |n, arr| names += usize::from(n == "x" && !arr));
        assert_eq!(names, 512);
    }
}
