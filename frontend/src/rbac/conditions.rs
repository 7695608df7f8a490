//! Aperture conditions (`CAN getobject IF sourceip = 10.0.0.0/8`), the
//! part Manta evaluated: the condition names muskie put in a request's
//! context with the types of Manta's `aperture-config` type table, the
//! operators of node-aperture's types, `in (...)`, `and`, `or`, `not`
//! and parentheses. Times are UTC (as Aperture's types compare them).
//!
//! A rule naming a condition this store does not know, an operator its
//! type lacks or a value that does not parse is refused when the policy is
//! written. A condition whose value a request lacks (no source address,
//! `overwrite` outside a storage request) makes the rule allow nothing:
//! it fails closed, where Aperture threw.
//!
//! The parser works on a rule of at most [`super::MAX_RULE_LEN`] bytes and
//! nests at most [`MAX_DEPTH`] levels, so it never recurses deeply or
//! panics on any input (`conditions_prop.rs`).

use std::net::IpAddr;

mod parse;
pub(crate) use parse::{parse, tokenize, Tok};

/// Deepest nesting of `not` and parentheses.
pub const MAX_DEPTH: usize = 16;

/// What a request offers rules to test.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The connection's peer address (never a client-sent header).
    pub sourceip: Option<IpAddr>,
    /// The request's time, in ms since the epoch.
    pub now_ms: u64,
    /// The request comes from a job's task toolbox.
    pub fromjob: bool,
    /// Whether the request replaces an existing entry; `None` outside a
    /// storage request.
    pub overwrite: Option<bool>,
    pub method: String,
    /// The owner's login.
    pub owner: String,
    pub user_agent: String,
    pub referer: String,
    /// Names of the active roles.
    pub active_roles: Vec<String>,
}

/// The type of a condition, as Aperture's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ip,
    Date,
    Day,
    Time,
    Boolean,
    Str,
    Array,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Date => "date",
            Kind::Day => "day",
            Kind::Time => "time",
            Kind::Boolean => "boolean",
            Kind::Str => "string",
            Kind::Array => "array",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Ip,
            Kind::Date,
            Kind::Day,
            Kind::Time,
            Kind::Boolean,
            Kind::Str,
            Kind::Array,
        ]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(s))
    }
}

/// The conditions a request has, and their types (Manta's type table,
/// with `referer` that muskie added later).
const KNOWN: [(&str, Kind); 11] = [
    ("sourceip", Kind::Ip),
    ("date", Kind::Date),
    ("day", Kind::Day),
    ("time", Kind::Time),
    ("fromjob", Kind::Boolean),
    ("overwrite", Kind::Boolean),
    ("method", Kind::Str),
    ("owner", Kind::Str),
    ("user-agent", Kind::Str),
    ("referer", Kind::Str),
    ("activeRoles", Kind::Array),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_str() {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            _ => return None,
        })
    }

    fn allowed(self, kind: Kind) -> bool {
        match kind {
            Kind::Ip | Kind::Boolean => matches!(self, Op::Eq | Op::Ne),
            Kind::Array => self == Op::Contains,
            Kind::Date | Kind::Day | Kind::Time | Kind::Str => self != Op::Contains,
        }
    }
}

/// A value of a rule, parsed for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An address and the prefix bits that must match.
    Net(IpAddr, u8),
    /// ms since the epoch.
    Date(i64),
    /// ISO weekday, 1 (Monday) to 7 (Sunday).
    Day(u8),
    /// Seconds since midnight.
    Time(u32),
    Bool(bool),
    Str(String),
}

/// One test: `name op value`, or `name in (values)` (`op` is `Eq`, any
/// value may match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub name: &'static str,
    pub kind: Kind,
    pub op: Op,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

impl Expr {
    /// Whether the condition holds; `None` when the request lacks a value
    /// it tests (the rule then allows nothing).
    pub fn eval(&self, ctx: &Context) -> Option<bool> {
        match self {
            Expr::And(a, b) => Some(a.eval(ctx)? && b.eval(ctx)?),
            Expr::Or(a, b) => {
                let (a, b) = (a.eval(ctx)?, b.eval(ctx)?);
                Some(a || b)
            }
            Expr::Not(a) => Some(!a.eval(ctx)?),
            Expr::Test(t) => t.eval(ctx),
        }
    }
}

impl Test {
    fn eval(&self, ctx: &Context) -> Option<bool> {
        let have = self.context_value(ctx)?;
        if let Op::Contains = self.op {
            let Value::Str(want) = self.values.first()? else {
                return Some(false);
            };
            return Some(ctx.active_roles.iter().any(|r| r == want));
        }
        let mut any = false;
        for want in &self.values {
            let hit = match (&have, want) {
                (Value::Net(ip, _), Value::Net(net, bits)) => {
                    let inside = ip_in(*ip, *net, *bits);
                    match self.op {
                        Op::Ne => !inside,
                        _ => inside,
                    }
                }
                _ => compare(self.op, have.cmp_key(), want.cmp_key())?,
            };
            any |= hit;
        }
        Some(any)
    }

    fn context_value(&self, ctx: &Context) -> Option<Value> {
        let now = i64::try_from(ctx.now_ms).unwrap_or(i64::MAX);
        Some(match self.name {
            "sourceip" => Value::Net(ctx.sourceip?, 0),
            "date" => Value::Date(now),
            "day" => Value::Day(weekday(now)),
            "time" => Value::Time(day_seconds(now)),
            "fromjob" => Value::Bool(ctx.fromjob),
            "overwrite" => Value::Bool(ctx.overwrite?),
            "method" => Value::Str(ctx.method.clone()),
            "owner" => Value::Str(ctx.owner.clone()),
            "user-agent" => Value::Str(ctx.user_agent.clone()),
            "referer" => Value::Str(ctx.referer.clone()),
            "activeRoles" => Value::Bool(true),
            _ => return None,
        })
    }
}

/// What values of one type compare by.
#[derive(PartialEq, PartialOrd)]
enum Key<'a> {
    Num(i64),
    Text(&'a str),
}

impl Value {
    fn cmp_key(&self) -> Key<'_> {
        match self {
            Value::Net(..) => Key::Num(0),
            Value::Date(ms) => Key::Num(*ms),
            Value::Day(d) => Key::Num(i64::from(*d)),
            Value::Time(s) => Key::Num(i64::from(*s)),
            Value::Bool(b) => Key::Num(i64::from(*b)),
            Value::Str(s) => Key::Text(s),
        }
    }
}

fn compare(op: Op, have: Key<'_>, want: Key<'_>) -> Option<bool> {
    let ord = have.partial_cmp(&want)?;
    use std::cmp::Ordering::*;
    Some(match op {
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
        Op::Lt => ord == Less,
        Op::Gt => ord == Greater,
        Op::Le => ord != Greater,
        Op::Ge => ord != Less,
        Op::Contains => false,
    })
}

/// Is `ip` inside `net/bits`? An IPv4 address and an IPv4-mapped IPv6
/// one are the same address (as node-aperture's ip type).
fn ip_in(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let norm = |a: IpAddr| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    };
    let (ip, net) = (norm(ip), norm(net));
    let bits = if net.is_ipv4() && bits > 32 {
        // A v4-mapped range written in v6 (`::ffff:10.0.0.0/104`).
        bits.saturating_sub(96)
    } else {
        bits
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => prefix_eq(&a.octets(), &n.octets(), bits),
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_eq(&a.octets(), &n.octets(), bits),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    let (full, rest) = (bits / 8, bits % 8);
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

const DAY_MS: i64 = 86_400_000;

/// ISO weekday (1 Monday .. 7 Sunday) of a UTC time; day 0 of the epoch
/// was a Thursday.
fn weekday(ms: i64) -> u8 {
    let days = ms.div_euclid(DAY_MS);
    (days + 3).rem_euclid(7) as u8 + 1
}

fn day_seconds(ms: i64) -> u32 {
    (ms.rem_euclid(DAY_MS) / 1000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(s: &str) -> Expr {
        parse(&tokenize(s).unwrap()).unwrap()
    }

    fn bad(s: &str) -> String {
        match tokenize(s).and_then(|t| parse(&t)) {
            Ok(e) => panic!("{s:?} parsed as {e:?}"),
            Err(e) => e,
        }
    }

    fn at(ip: &str, ms: u64) -> Context {
        Context {
            sourceip: Some(ip.parse().unwrap()),
            now_ms: ms,
            method: "GET".into(),
            active_roles: vec!["readers".into()],
            ..Context::default()
        }
    }

    // 2024-01-31T12:30:00Z, a Wednesday.
    const WED_1230: u64 = 1_706_704_200_000;

    #[test]
    fn source_ip() {
        let c = cond("sourceip = 10.0.0.0/8");
        assert_eq!(c.eval(&at("10.1.2.3", 0)), Some(true));
        assert_eq!(c.eval(&at("11.1.2.3", 0)), Some(false));
        assert_eq!(c.eval(&at("::ffff:10.1.2.3", 0)), Some(true));
        assert_eq!(c.eval(&Context::default()), None);
        let c = cond("sourceip != 127.0.0.1");
        assert_eq!(c.eval(&at("127.0.0.1", 0)), Some(false));
        let c = cond("sourceip::ip in (192.168.0.0/16, \"fe80::/10\", 127.0.0.1)");
        assert_eq!(c.eval(&at("127.0.0.1", 0)), Some(true));
        assert_eq!(c.eval(&at("fe80::1", 0)), Some(true));
        assert_eq!(c.eval(&at("8.8.8.8", 0)), Some(false));
        assert_eq!(
            cond("sourceip = 0.0.0.0/0").eval(&at("1.2.3.4", 0)),
            Some(true)
        );
    }

    #[test]
    fn dates_days_and_times_in_utc() {
        let ctx = at("1.2.3.4", WED_1230);
        assert_eq!(weekday(WED_1230 as i64), 3);
        let yes = [
            "day = Wednesday",
            "day in (Mon, Tue, W, Th, F)",
            "day >= 3 and day < Sat",
            "time > 12:00:00 and time <= 12:30",
            "time >= 09:00:00 AND time < 17:00:00",
            "date > 2024-01-31",
            "date < 2024-01-31T13:00:00Z",
            "date >= \"2024-01-31T14:30:00+02:00\"",
            "not day = Sunday",
            "(day = Sunday or time < 13:00) and method = GET",
            "activeRoles contains readers",
            "fromjob = false",
        ];
        for s in yes {
            assert_eq!(cond(s).eval(&ctx), Some(true), "{s}");
        }
        let no = [
            "day = 7",
            "time < 12:00:00",
            "date < 2024-01-31",
            "activeRoles contains writers",
            "method != GET",
        ];
        for s in no {
            assert_eq!(cond(s).eval(&ctx), Some(false), "{s}");
        }
        // Missing values fail closed, even under `not` or `or`.
        assert_eq!(cond("overwrite = false").eval(&ctx), None);
        assert_eq!(cond("not overwrite = true or day = 3").eval(&ctx), None);
    }

    #[test]
    fn clear_refusals() {
        assert!(bad("region = us-east").contains("unknown condition"));
        assert!(bad("sourceip < 10.0.0.1").contains("operator"));
        assert!(bad("sourceip = 10.0.0.0/33").contains("prefix"));
        assert!(
            bad("sourceip = fe80::1").contains("unexpected")
                || bad("sourceip = fe80::1").contains("not an IP")
        );
        assert!(bad("day = Funday").contains("not a day"));
        assert!(bad("time = 25:00").contains("not a time"));
        assert!(bad("date = yesterday").contains("not a date"));
        assert!(bad("fromjob = maybe").contains("true or false"));
        assert!(bad("user-agent like /curl/").contains("operator"));
        assert!(bad("sourceip::string = x").contains("type ip"));
        assert!(bad("(day = 1").contains("not closed"));
        assert!(bad("day = 1 day = 2").contains("unexpected"));
        assert!(bad("\"sourceip = 1").contains("not closed"));
        assert!(bad(&format!("{}day = 1{}", "(".repeat(20), ")".repeat(20))).contains("nest"));
        assert!(bad("").contains("condition name"));
    }
}
