//! Parsing a rule's condition: Aperture's tokens, its expression grammar
//! (`or` over `and` over `not`, parentheses, `name op value`, `name in
//! (...)`), and each type's values.

use super::{weekday, Expr, Kind, Op, Test, Value, KNOWN, MAX_DEPTH};
use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word (keywords are matched case-insensitively).
    Word(String),
    /// A double-quoted string: never a keyword.
    Quoted(String),
    LParen,
    RParen,
    Comma,
    DColon,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => f.write_str(w),
            Tok::Quoted(q) => write!(f, "{q:?}"),
            Tok::LParen => f.write_str("("),
            Tok::RParen => f.write_str(")"),
            Tok::Comma => f.write_str(","),
            Tok::DColon => f.write_str("::"),
        }
    }
}

impl Tok {
    /// Is this the bare keyword `kw`?
    pub(crate) fn is(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// Splits a rule into Aperture's tokens: words run until whitespace, `,`,
/// `(`, `)` or `::` (one `:` may be inside a word, as in `10:00:00`);
/// `"..."` quotes anything (an IPv6 address with `::`).
pub(crate) fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a quoted string is not closed".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '/')) => s.push(e),
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            other => {
                                return Err(format!(
                                    "unknown escape \\{} in a quoted string",
                                    other.map(String::from).unwrap_or_default()
                                ))
                            }
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            ':' => {
                chars.next();
                if chars.peek() == Some(&':') {
                    chars.next();
                    out.push(Tok::DColon);
                } else {
                    return Err("a word cannot start with ':'".into());
                }
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | ',' | '"') {
                        break;
                    }
                    if ch == ':' {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if ahead.peek() == Some(&':') {
                            break;
                        }
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

/// Parses the condition after `IF`/`WHEN`/`WHERE`.
///
/// # Errors
/// What is wrong, for the policy's writer.
pub(crate) fn parse(toks: &[Tok]) -> Result<Expr, String> {
    let mut p = Parser { toks, at: 0 };
    let e = p.or(0)?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {t} after a condition")),
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.at);
        self.at += 1;
        t
    }

    fn deeper(depth: usize) -> Result<usize, String> {
        if depth >= MAX_DEPTH {
            Err(format!("conditions nest deeper than {MAX_DEPTH} levels"))
        } else {
            Ok(depth + 1)
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, String> {
        let mut e = self.and(depth)?;
        while self.peek().is_some_and(|t| t.is("or")) {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and(depth)?));
        }
        Ok(e)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, String> {
        let mut e = self.not(depth)?;
        while self.peek().is_some_and(|t| t.is("and")) {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not(depth)?));
        }
        Ok(e)
    }

    fn not(&mut self, depth: usize) -> Result<Expr, String> {
        if self.peek().is_some_and(|t| t.is("not")) {
            self.at += 1;
            let inner = self.not(Self::deeper(depth)?)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.at += 1;
            let e = self.or(Self::deeper(depth)?)?;
            return match self.next() {
                Some(Tok::RParen) => Ok(e),
                _ => Err("a '(' is not closed".into()),
            };
        }
        self.test()
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(w.clone()),
            Some(t) => Err(format!("expected {what}, found {t}")),
            None => Err(format!("expected {what}, found the end of the rule")),
        }
    }

    fn test(&mut self) -> Result<Expr, String> {
        let name = self.string("a condition name")?;
        let (name, kind) = KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .copied()
            .ok_or_else(|| {
                format!(
                    "unknown condition {name:?} (known: {})",
                    KNOWN.map(|(n, _)| n).join(", ")
                )
            })?;
        if self.peek() == Some(&Tok::DColon) {
            self.at += 1;
            let t = self.string("a type name")?;
            if Kind::parse(&t) != Some(kind) {
                return Err(format!(
                    "condition {name} is of type {}, not {t}",
                    kind.name()
                ));
            }
        }
        if self.peek().is_some_and(|t| t.is("in")) {
            self.at += 1;
            if self.next() != Some(&Tok::LParen) {
                return Err(format!("{name} in: expected '(' and a list"));
            }
            let mut values = Vec::new();
            loop {
                let v = self.string("a value")?;
                values.push(value(kind, &v).map_err(|e| format!("{name}: {e}"))?);
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    _ => return Err(format!("{name} in (...): expected ',' or ')'")),
                }
            }
            if kind == Kind::Array {
                return Err(format!("{name} takes only `contains`"));
            }
            return Ok(Expr::Test(Test {
                name,
                kind,
                op: Op::Eq,
                values,
            }));
        }
        let op_text = self.string("an operator")?;
        let op = Op::parse(&op_text)
            .filter(|o| o.allowed(kind))
            .ok_or_else(|| {
                format!(
                    "operator {op_text:?} is not one of {} for {name}",
                    ops_of(kind)
                )
            })?;
        let v = self.string("a value")?;
        let v = if kind == Kind::Array {
            Value::Str(v)
        } else {
            value(kind, &v).map_err(|e| format!("{name}: {e}"))?
        };
        Ok(Expr::Test(Test {
            name,
            kind,
            op,
            values: vec![v],
        }))
    }
}

fn ops_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Ip | Kind::Boolean => "=, != (or `in`)",
        Kind::Array => "contains",
        _ => "=, !=, <, >, <=, >= (or `in`)",
    }
}

/// A rule's value for a condition of `kind`.
fn value(kind: Kind, s: &str) -> Result<Value, String> {
    match kind {
        Kind::Ip => {
            let (addr, bits) = match s.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (s, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{s:?} is not an IP address or range"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{s:?}: the prefix must be 0 to {max}"))?,
            };
            Ok(Value::Net(ip, bits))
        }
        Kind::Date => parse_date(s)
            .map(Value::Date)
            .ok_or_else(|| format!("{s:?} is not a date (2024-01-31 or 2024-01-31T12:00:00Z)")),
        Kind::Day => parse_day(s)
            .map(Value::Day)
            .ok_or_else(|| format!("{s:?} is not a day (Monday..Sunday, Mon, 1..7)")),
        Kind::Time => parse_time(s)
            .map(Value::Time)
            .ok_or_else(|| format!("{s:?} is not a time of day (HH:MM:SS, UTC)")),
        Kind::Boolean => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{s:?} is not true or false")),
        },
        Kind::Str | Kind::Array => Ok(Value::Str(s.to_string())),
    }
}

/// ms since the epoch of an RFC 3339 time, or of a date (midnight UTC),
/// or of a date and time without an offset (UTC).
fn parse_date(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let utc = |p: time::PrimitiveDateTime| p.assume_utc().unix_timestamp().checked_mul(1000);
    if let Ok(p) = time::PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        return utc(p);
    }
    let d = time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
    utc(d.midnight())
}

fn parse_day(s: &str) -> Option<u8> {
    let lower = s.to_ascii_lowercase();
    let named = match lower.as_str() {
        "monday" | "mon" | "m" => 1,
        "tuesday" | "tue" | "t" => 2,
        "wednesday" | "wed" | "w" => 3,
        "thursday" | "thu" | "th" => 4,
        "friday" | "fri" | "f" => 5,
        "saturday" | "sat" | "s" => 6,
        "sunday" | "sun" | "su" => 7,
        _ => 0,
    };
    if named != 0 {
        return Some(named);
    }
    if let Ok(n) = lower.parse::<u8>() {
        return (1..=7).contains(&n).then_some(n);
    }
    // A date means its weekday (as Aperture's day type).
    parse_date(s).map(weekday)
}

fn parse_time(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| {
        (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    match parts.as_slice() {
        [h, m] => Some(num(h, 23)? * 3600 + num(m, 59)? * 60),
        [h, m, sec] => Some(num(h, 23)? * 3600 + num(m, 59)? * 60 + num(sec, 59)?),
        _ => None,
    }
}
