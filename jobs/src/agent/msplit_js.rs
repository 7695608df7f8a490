//! What Manta's `msplit` (node) did with JavaScript values, for the keys
//! the agent builds itself: `-j -f a,b.c` (a JSON line's fields, each
//! turned into a string as `key += datum` does) and `-i` (`parseInt(key,
//! 10)`). No user JavaScript runs here: `-e` is evaluated by `node` inside
//! the task's container (`utilities/msplit.js`).

use serde_json::Value;

/// Where a key is built: the whole key (tests) or its hash (routing).
pub(crate) trait KeySink {
    fn push(&mut self, bytes: &[u8]);
    /// Whether nothing was pushed yet (JavaScript's `if (key)`).
    fn is_empty(&self) -> bool;
}

impl KeySink for Vec<u8> {
    fn push(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

/// Why a JSON line has no key (the user's data).
#[derive(Debug, PartialEq)]
pub(crate) enum JsonKeyError {
    /// `JSON.parse` refused it.
    NotJson,
    /// The line is `null` or empty (Manta's `parseJson` gives `null` for
    /// an empty line): reading a field of it threw this `TypeError`.
    Null(String),
    /// More than [`MAX_JSON_VALUES`] values in one line.
    TooBig,
}

/// Most values one `-j` line may hold. Parsed, each takes tens of bytes
/// of the agent's memory, so a 16 MiB line of `[0,0,0,...]` alone would
/// take hundreds of MiB; a record that large is not one anyone splits by.
pub(crate) const MAX_JSON_VALUES: usize = 1 << 20;

/// Whether `text` holds more than [`MAX_JSON_VALUES`] values, counted
/// without parsing: the separators and openings outside strings.
fn too_many_values(text: &[u8]) -> bool {
    let (mut n, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b':' | b'[' | b'{' => {
                n += 1;
                if n > MAX_JSON_VALUES {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// A JavaScript value met while walking a dotted field name.
enum Js<'a> {
    Undefined,
    Json(&'a Value),
    /// A string's `length` or one UTF-16 unit of it (`"abc"[0]`).
    Number(f64),
    Text(String),
}

impl<'a> Js<'a> {
    fn truthy(&self) -> bool {
        match self {
            Js::Undefined => false,
            Js::Json(v) => match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(_) | Value::Object(_) => true,
            },
            Js::Number(x) => *x != 0.0 && !x.is_nan(),
            Js::Text(s) => !s.is_empty(),
        }
    }

    /// `datum[name]` for the own properties JSON values have: object
    /// members, array elements and `length`, string units and `length`.
    /// (Inherited ones, like `toString`, are not looked up.)
    fn get(&self, name: &str) -> Js<'a> {
        let json: Option<&'a Value> = match self {
            Js::Json(v) => Some(*v),
            _ => None,
        };
        match json {
            Some(Value::Object(map)) => map.get(name).map_or(Js::Undefined, Js::Json),
            Some(Value::Array(items)) => {
                if name == "length" {
                    return Js::Number(items.len() as f64);
                }
                index(name)
                    .and_then(|i| items.get(i))
                    .map_or(Js::Undefined, Js::Json)
            }
            Some(Value::String(s)) => string_property(s, name),
            Some(_) => Js::Undefined,
            None => match self {
                Js::Text(s) => string_property(s, name),
                _ => Js::Undefined,
            },
        }
    }
}

fn string_property<'a>(s: &str, name: &str) -> Js<'a> {
    if name == "length" {
        return Js::Number(s.encode_utf16().count() as f64);
    }
    let Some(unit) = index(name).and_then(|i| s.encode_utf16().nth(i)) else {
        return Js::Undefined;
    };
    // A lone surrogate is hashed as UTF-8 encodes it: U+FFFD.
    Js::Text(String::from_utf16_lossy(&[unit]))
}

/// A canonical array index (`"0"`, `"12"`, not `"012"` or `"+1"`).
fn index(name: &str) -> Option<usize> {
    let canonical = name == "0"
        || (!name.starts_with('0') && !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return None;
    }
    name.parse::<u32>()
        .ok()
        .filter(|&i| i < u32::MAX)
        .map(|i| i as usize)
}

/// `String(v)`, written into `sink`.
fn write_string(v: &Js<'_>, sink: &mut dyn KeySink) {
    match v {
        Js::Undefined => sink.push(b"undefined"),
        Js::Number(x) => sink.push(number(*x).as_bytes()),
        Js::Text(s) => sink.push(s.as_bytes()),
        Js::Json(v) => write_json(v, sink),
    }
}

fn write_json(v: &Value, sink: &mut dyn KeySink) {
    match v {
        Value::Null => sink.push(b"null"),
        Value::Bool(b) => sink.push(if *b { b"true" } else { b"false" }),
        Value::Number(n) => sink.push(number(n.as_f64().unwrap_or(f64::NAN)).as_bytes()),
        Value::String(s) => sink.push(s.as_bytes()),
        Value::Object(_) => sink.push(b"[object Object]"),
        // `Array.prototype.join(",")`: null elements are empty. (JSON
        // nests at most 128 deep, so this recursion is bounded.)
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sink.push(b",");
                }
                if !item.is_null() {
                    write_json(item, sink);
                }
            }
        }
    }
}

/// `Number.prototype.toString()`: the shortest digits that read back, in
/// fixed notation from 1e-7 to 1e21 and exponential outside.
pub(crate) fn number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` is the shortest round-trip form too: `1.2345e3`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// `msplit -j -f <names>`: Manta's `parseLikeJson`. For each name, walk
/// its dotted parts while the value is truthy; a field that is
/// `undefined` is left out, anything else is appended as a string, after
/// `delim` unless the key is still empty.
///
/// # Errors
/// The line is not JSON, or is `null`/empty (Manta threw a `TypeError`).
pub(crate) fn json_key(
    line: &[u8],
    names: &[String],
    delim: &str,
    sink: &mut dyn KeySink,
) -> Result<(), JsonKeyError> {
    if too_many_values(line) {
        return Err(JsonKeyError::TooBig);
    }
    // Manta read lines as UTF-8 text.
    let text = String::from_utf8_lossy(line);
    let parsed: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|_| JsonKeyError::NotJson)?
    };
    let obj = Js::Json(&parsed);
    for name in names {
        let mut parts = name.split('.');
        let first = parts.next().unwrap_or_default();
        if matches!(obj, Js::Json(Value::Null)) {
            return Err(JsonKeyError::Null(format!(
                "TypeError: Cannot read properties of null (reading '{first}')"
            )));
        }
        let mut datum = obj.get(first);
        for part in parts {
            if !datum.truthy() {
                break;
            }
            datum = datum.get(part);
        }
        if matches!(datum, Js::Undefined) {
            continue;
        }
        if !sink.is_empty() {
            sink.push(delim.as_bytes());
        }
        write_string(&datum, sink);
    }
    Ok(())
}

/// `parseInt(key, 10)`: leading white space, a sign, decimal digits; `None`
/// (NaN) without digits. Trailing text is ignored.
pub(crate) fn parse_int(key: &str) -> Option<f64> {
    let s = key.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let n: f64 = s[..end].parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_with_too_many_values_are_refused_unparsed() {
        let names = vec!["a".to_owned()];
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        let mut key = Vec::new();
        assert_eq!(
            json_key(many.as_bytes(), &names, ",", &mut key),
            Err(JsonKeyError::TooBig)
        );
        // Inside strings, separators are text.
        let text = format!("{{\"a\":\"{}\"}}", ",".repeat(MAX_JSON_VALUES + 1));
        assert_eq!(json_key(text.as_bytes(), &names, ",", &mut key), Ok(()));
        assert_eq!(key.len(), MAX_JSON_VALUES + 1);
        let escaped = format!("{{\"a\":\"\\\"{}\"}}", ",".repeat(MAX_JSON_VALUES + 1));
        key.clear();
        assert_eq!(json_key(escaped.as_bytes(), &names, ",", &mut key), Ok(()));
    }

    #[test]
    fn parse_int_reads_as_javascript() {
        assert_eq!(parse_int("  42abc"), Some(42.0));
        assert_eq!(parse_int("-7"), Some(-7.0));
        assert_eq!(parse_int("+3"), Some(3.0));
        assert_eq!(parse_int("\u{feff}\t5"), Some(5.0));
        assert_eq!(parse_int("x1"), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int(""), None);
    }
}
