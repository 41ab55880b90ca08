//! Go's scalar rules, read and written: what `strconv` and go-yaml take for
//! an integer, a float or a timestamp, and how Go prints a number after a
//! JSON round trip. The reader (`yamlread.rs`) and the emitter (`yaml.rs`)
//! both use this module; it uses neither.

use serde_json::{Number, Value};

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`.
pub fn go_parse_int(s: &str) -> Option<Number> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (b, 2)
        } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (o, 8)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= (i64::MAX as u128) + 1 {
            return Some(Number::from((-(mag as i128)) as i64));
        }
        None
    } else if mag <= i64::MAX as u128 {
        Some(Number::from(mag as i64))
    } else if mag <= u64::MAX as u128 {
        Some(Number::from(mag as u64))
    } else {
        None
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A timestamp in one of the layouts go-yaml accepts.
pub struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    /// Fraction digits as written (without trailing zeros).
    frac: String,
    /// Offset from UTC in minutes; `None` for UTC.
    offset: Option<i32>,
}

impl Timestamp {
    /// Go's `time.RFC3339Nano` form, as kustomize's JSON step prints it.
    pub fn rfc3339(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.min, self.sec
        );
        if !self.frac.is_empty() {
            s.push('.');
            s.push_str(&self.frac);
        }
        match self.offset {
            None | Some(0) => s.push('Z'),
            Some(o) => {
                let sign = if o < 0 { '-' } else { '+' };
                s.push_str(&format!("{}{:02}:{:02}", sign, o.abs() / 60, o.abs() % 60));
            }
        }
        s
    }
}

/// go-yaml's timestamp layouts: `2006-1-2T15:4:5.999999999Z07:00` (also with
/// `t`), `2006-1-2 15:4:5.999999999` and `2006-1-2`, with Go's range checks.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        if *i - st < min {
            return None;
        }
        s[st..*i].parse().ok()
    };
    let year = num(&mut i, 4, 4)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let month = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num(&mut i, 1, 2)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][(month - 1) as usize];
    if day < 1 || day > days {
        return None;
    }
    let mut t = Timestamp {
        year,
        month,
        day,
        hour: 0,
        min: 0,
        sec: 0,
        frac: String::new(),
        offset: None,
    };
    if i == b.len() {
        return Some(t);
    }
    let sep = b[i];
    let zoned = match sep {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    t.hour = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    t.min = num(&mut i, 1, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    t.sec = num(&mut i, 1, 2)?;
    if t.hour > 23 || t.min > 59 || t.sec > 59 {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return None;
        }
        let mut f = s[st..i].to_string();
        f.truncate(9);
        t.frac = f.trim_end_matches('0').to_string();
    }
    if !zoned {
        return if i == b.len() { Some(t) } else { None };
    }
    match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => Some(t),
        Some(b'+') | Some(b'-') => {
            let neg = b[i] == b'-';
            i += 1;
            let h = num(&mut i, 2, 2)?;
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            let m = num(&mut i, 2, 2)?;
            if i != b.len() || h > 23 || m > 59 {
                return None;
            }
            let o = (h * 60 + m) as i32;
            t.offset = Some(if neg { -o } else { o });
            Some(t)
        }
        _ => None,
    }
}

/// Numbers as Go prints them after a JSON round trip: integral values as
/// integers, others in the shortest `%g`-like form.
pub fn format_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    format_float(f)
}

/// An integral float as Go writes it with `%f` and the shortest digits:
/// the significant digits, then zeros (`1.2345678901234567e19` gives
/// `12345678901234567000`).
fn integral_float_digits(f: f64) -> String {
    let e = format!("{:e}", f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let zeros = (exp + 1 - digits.len() as i64).max(0) as usize;
    let mut s = String::new();
    if neg && !digits.trim_start_matches('0').is_empty() {
        s.push('-');
    }
    let body = format!("{}{}", digits, "0".repeat(zeros));
    let body = body.trim_start_matches('0');
    s.push_str(if body.is_empty() { "0" } else { body });
    s
}

/// Numbers after a trip through Go's `encoding/json` into `interface{}`:
/// every number becomes a float64, so integers beyond 2^53 lose digits.
pub fn json_float_roundtrip(v: &mut Value) {
    match v {
        Value::Number(n) => {
            let big = n
                .as_i64()
                .map(|i| i.unsigned_abs() > (1u64 << 53))
                .unwrap_or(false)
                || n.as_u64().map(|u| u > (1u64 << 53)).unwrap_or(false);
            if big {
                let f = n.as_f64().unwrap_or(0.0);
                let text = integral_float_digits(f);
                if let Ok(u) = text.parse::<u64>() {
                    *v = Value::Number(u.into());
                } else if let Ok(i) = text.parse::<i64>() {
                    *v = Value::Number(i.into());
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(json_float_roundtrip),
        Value::Object(m) => m.values_mut().for_each(json_float_roundtrip),
        _ => {}
    }
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    // Integral values that Go reads back as int64 or uint64 print as integers.
    if f.fract() == 0.0
        && ((0.0..1.8446744073709552e19).contains(&f)
            || (-9.223_372_036_854_776e18..0.0).contains(&f))
    {
        return integral_float_digits(f);
    }
    // Otherwise Go's %g with the shortest digits: exponent form when the
    // decimal exponent is below -4 or at least 6.
    let e = format!("{:e}", f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        format!("{}", f)
    }
}
