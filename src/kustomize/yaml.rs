//! YAML in and out.
//!
//! Input is parsed with `serde-saphyr` into `serde_json::Value` (YAML 1.2
//! booleans only, so `on`/`yes`/`no` stay strings, no depth budget so large
//! CRDs load). Output mimics what `kubectl kustomize` prints: kustomize turns
//! each object into JSON and back into YAML with go-yaml v2, so keys come out
//! sorted (go-yaml's "natural" key order), sequences are not indented under
//! their parent key, strings that would read back as another type are
//! double-quoted, strings that cannot be plain are single-quoted, multi-line
//! strings use literal blocks, and long lines fold at column 80.

use serde_json::{Map, Value};

use super::scalar::format_number;

/// Parse a multi-document YAML stream; empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    super::yamlread::parse_documents(text)
}

/// Parse one document of one of kustomize's own files (kustomization,
/// configurations, replacements, JSON patches): go-yaml v2 rules, repeated
/// keys tolerated (last wins).
pub fn parse_lenient(text: &str) -> Result<Value, String> {
    // Like sigs.k8s.io/yaml, only the first document counts.
    let mut docs = super::yamlread::parse_yaml11(text)?;
    Ok(if docs.is_empty() {
        Value::Null
    } else {
        docs.remove(0)
    })
}

const BEST_WIDTH: usize = 80;

/// Serialize one object as go-yaml v2 would after kustomize's JSON round trip.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    to_yaml_into(&mut out, v);
    out
}

fn to_yaml_into(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => emit_map(out, m, 0),
        Value::Array(a) if !a.is_empty() => emit_seq(out, a, 0),
        other => {
            let mut col = 0;
            emit_scalar_inline(out, other, 0, &mut col);
            out.push('\n');
        }
    }
}

/// Serialize a list of objects separated by `---`.
pub fn to_yaml_stream<'a>(objs: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for (i, o) in objs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        to_yaml_into(&mut out, o);
    }
    out
}

/// go-yaml v2's map key order: letters compare by code point, a non-letter
/// sorts before a letter, and runs of digits compare as numbers.
pub fn key_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    // Fast path: ASCII keys that differ first at two letters, or where one
    // is a prefix of the other, compare like bytes.
    if a.is_ascii() && b.is_ascii() {
        let (x, y) = (a.as_bytes(), b.as_bytes());
        match x.iter().zip(y).position(|(p, q)| p != q) {
            None => return x.len().cmp(&y.len()),
            Some(i) if x[i].is_ascii_alphabetic() && y[i].is_ascii_alphabetic() => {
                return x[i].cmp(&y[i])
            }
            Some(_) => {}
        }
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i128, i128) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 {
                j -= 1;
                if !ar[j].is_ascii_digit() {
                    break;
                }
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add((ar[ai] as u8 - b'0') as i128);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add((br[bi] as u8 - b'0') as i128);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

fn sorted_entries(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<(&String, &Value)> = m.iter().collect();
    v.sort_by(|a, b| key_less(a.0, b.0));
    v
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn is_empty_collection(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn emit_map(out: &mut String, m: &Map<String, Value>, ind: usize) {
    for (k, v) in sorted_entries(m) {
        indent(out, ind);
        emit_entry(out, k, v, ind);
    }
}

/// One `key: value` entry whose key starts at column `ind` (the indentation
/// is already written). Keys over 128 bytes or spanning lines cannot be
/// simple keys, so they take the explicit `? key` / `: value` form.
fn emit_entry(out: &mut String, k: &str, v: &Value, ind: usize) {
    if k.len() > 128 || k.contains('\n') {
        out.push_str("? ");
        let mut col = ind + 2;
        write_string(out, k, ind + 2, &mut col);
        out.push('\n');
        indent(out, ind);
        out.push(':');
        emit_value_after_key(out, v, ind, ind + 1);
        return;
    }
    let mut col = ind;
    write_key(out, k, &mut col);
    out.push(':');
    col += 1;
    emit_value_after_key(out, v, ind, col);
}

fn emit_value_after_key(out: &mut String, v: &Value, ind: usize, mut col: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_map(out, m, ind + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            // go-yaml v2 does not indent a sequence under a mapping key.
            emit_seq(out, a, ind);
        }
        other => {
            out.push(' ');
            col += 1;
            emit_scalar_inline(out, other, ind + 2, &mut col);
            out.push('\n');
        }
    }
}

fn emit_seq(out: &mut String, a: &[Value], ind: usize) {
    for item in a {
        indent(out, ind);
        out.push_str("- ");
        let col = ind + 2;
        match item {
            Value::Object(m) if !m.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let entries = sorted_entries(m);
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        indent(out, ind + 2);
                    }
                    emit_entry(out, k, v, ind + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                // Nested sequence starts on the dash line.
                let mut first = true;
                for x in inner {
                    let mut buf = String::new();
                    emit_seq(&mut buf, std::slice::from_ref(x), ind + 2);
                    if first {
                        out.push_str(buf.trim_start_matches(' '));
                        first = false;
                    } else {
                        out.push_str(&buf);
                    }
                }
            }
            other => {
                let mut c = col;
                emit_scalar_inline(out, other, ind + 2, &mut c);
                out.push('\n');
            }
        }
    }
}

fn write_key(out: &mut String, k: &str, col: &mut usize) {
    match string_style(k, true) {
        Style::Plain => push_counted(out, k, col),
        Style::Single => write_single(out, k, 0, col, false),
        _ => write_double(out, k, 0, col, false),
    }
}

fn push_counted(out: &mut String, s: &str, col: &mut usize) {
    out.push_str(s);
    *col += s.chars().count();
}

/// Emit a scalar (or an empty collection) whose first character goes at `col`;
/// `ind` is the indentation of continuation lines.
fn emit_scalar_inline(out: &mut String, v: &Value, ind: usize, col: &mut usize) {
    match v {
        Value::Null => push_counted(out, "null", col),
        Value::Bool(b) => push_counted(out, if *b { "true" } else { "false" }, col),
        Value::Number(n) => push_counted(out, &format_number(n), col),
        Value::String(s) => write_string(out, s, ind, col),
        Value::Object(_) => push_counted(out, "{}", col),
        Value::Array(_) => push_counted(out, "[]", col),
    }
    let _ = is_empty_collection;
}

#[derive(PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Would go-yaml v2 read this plain scalar back as something other than a string?
fn resolves_non_string(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N"
        | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "on"
        | "On" | "ON" | "off" | "Off" | "OFF" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf"
        | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" => return true,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return false;
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    if super::scalar::go_parse_int(&plain).is_some()
        || super::scalar::is_yaml_float(&plain)
        || is_timestamp(s)
    {
        return true;
    }
    // Base-60 floats like 1:20 are quoted too.
    is_base60_float(s)
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, _frac) = match body.split_once('.') {
        Some((m, f)) if f.chars().all(|c| c.is_ascii_digit() || c == '_') => (m, Some(f)),
        Some(_) => return false,
        None => (body, None),
    };
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if head.is_empty()
        || !head.as_bytes()[0].is_ascii_digit()
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = match p.len() {
            1 => p.as_bytes()[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&p.as_bytes()[0]) && p.as_bytes()[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

fn is_timestamp(s: &str) -> bool {
    super::scalar::parse_timestamp(s).is_some()
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{85}')
        || ('\u{20}'..='\u{7E}').contains(&c)
        || ('\u{A0}'..='\u{D7FF}').contains(&c)
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

/// libyaml's scalar analysis (the parts that matter in block context).
fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    let mut a = Analysis {
        multiline: false,
        block_plain: true,
        single: true,
        block: true,
    };
    if chars.is_empty() {
        a.block_plain = false;
        a.block = false;
        return a;
    }
    if s.starts_with("---") || s.starts_with("...") {
        a.block_plain = false;
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let followed_by_ws = match next {
            None => true,
            Some(x) => x == ' ' || x == '\t' || is_break(x),
        };
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_ws {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_ws {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) || c == '\u{FEFF}' {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let _ = flow_indicators;
    a.multiline = line_breaks;
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.block_plain = false;
    }
    if block_indicators {
        a.block_plain = false;
    }
    a
}

fn string_style(s: &str, simple_key: bool) -> Style {
    // Fast path: short words of letters, digits and `-_./` that start with a
    // letter and read back as strings are always plain.
    if !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_alphabetic()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
        && !resolves_non_string(s)
    {
        return Style::Plain;
    }
    let requested = if s.contains('\n') && !simple_key {
        Style::Literal
    } else if resolves_non_string(s) {
        Style::Double
    } else {
        Style::Plain
    };
    let a = analyze(s);
    let mut style = requested;
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain || (simple_key && a.multiline)) {
        style = Style::Single;
    }
    if style == Style::Single && (!a.single || (simple_key && a.multiline)) {
        style = Style::Double;
    }
    style
}

fn write_string(out: &mut String, s: &str, ind: usize, col: &mut usize) {
    match string_style(s, false) {
        Style::Plain => write_plain(out, s, ind, col),
        Style::Single => write_single(out, s, ind, col, true),
        Style::Double => write_double(out, s, ind, col, true),
        Style::Literal => write_literal(out, s, ind),
    }
}

fn newline_indent(out: &mut String, ind: usize, col: &mut usize) {
    out.push('\n');
    indent(out, ind);
    *col = ind;
}

fn write_plain(out: &mut String, s: &str, ind: usize, col: &mut usize) {
    // Only a space can start a new line.
    if !s.contains(' ') {
        out.push_str(s);
        *col += s.chars().count();
        return;
    }
    let mut chars = s.chars().peekable();
    let mut spaces = false;
    while let Some(c) = chars.next() {
        if c == ' ' {
            if !spaces && *col > BEST_WIDTH && chars.peek() != Some(&' ') {
                newline_indent(out, ind, col);
            } else {
                out.push(c);
                *col += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            *col += 1;
            spaces = false;
        }
    }
}

fn write_single(out: &mut String, s: &str, ind: usize, col: &mut usize, allow_breaks: bool) {
    out.push('\'');
    *col += 1;
    let chars: Vec<char> = s.chars().collect();
    let mut spaces = false;
    let mut breaks = false;
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        if c == ' ' {
            if allow_breaks
                && !spaces
                && *col > BEST_WIDTH
                && i != 0
                && i != n - 1
                && chars.get(i + 1) != Some(&' ')
            {
                newline_indent(out, ind, col);
            } else {
                out.push(c);
                *col += 1;
            }
            spaces = true;
        } else if is_break(c) {
            if !breaks && c == '\n' {
                out.push('\n');
            }
            // A line feed starts a new line; NEL, LS and PS are written as
            // they are (then indented), as go-yaml does.
            out.push(c);
            *col = 0;
            breaks = true;
        } else {
            if breaks {
                indent(out, ind);
                *col = ind;
            }
            if c == '\'' {
                out.push('\'');
                *col += 1;
            }
            out.push(c);
            *col += 1;
            spaces = false;
            breaks = false;
        }
    }
    out.push('\'');
    *col += 1;
}

fn write_double(out: &mut String, s: &str, ind: usize, col: &mut usize, allow_breaks: bool) {
    out.push('"');
    *col += 1;
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut spaces = false;
    // go-yaml escapes every character after a leading byte-order mark.
    let mut after_bom = false;
    for i in 0..n {
        let c = chars[i];
        if after_bom || !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\'
        {
            after_bom |= i == 0 && c == '\u{FEFF}';
            let esc: String = match c {
                '\0' => "\\0".into(),
                '\u{7}' => "\\a".into(),
                '\u{8}' => "\\b".into(),
                '\t' => "\\t".into(),
                '\n' => "\\n".into(),
                '\u{B}' => "\\v".into(),
                '\u{C}' => "\\f".into(),
                '\r' => "\\r".into(),
                '\u{1B}' => "\\e".into(),
                '"' => "\\\"".into(),
                '\\' => "\\\\".into(),
                '\u{85}' => "\\N".into(),
                '\u{A0}' => "\\_".into(),
                '\u{2028}' => "\\L".into(),
                '\u{2029}' => "\\P".into(),
                c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                c => format!("\\U{:08X}", c as u32),
            };
            *col += esc.len();
            out.push_str(&esc);
            spaces = false;
        } else if c == ' ' {
            if allow_breaks && !spaces && *col > BEST_WIDTH && i != 0 && i != n - 1 {
                newline_indent(out, ind, col);
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                    *col += 1;
                }
            } else {
                out.push(' ');
                *col += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            *col += 1;
            spaces = false;
        }
    }
    out.push('"');
    *col += 1;
}

fn write_literal(out: &mut String, s: &str, ind: usize) {
    out.push('|');
    let first = s.chars().next();
    if matches!(first, Some(' ') | Some('\n')) {
        out.push('2');
    }
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s == "\n" || s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    out.push_str(chomp);
    // Lines: a trailing newline is implied by the block.
    let body = s.strip_suffix('\n').unwrap_or(s);
    out.push('\n');
    if body.is_empty() && chomp == "+" {
        // "\n" alone: the single empty line.
        return;
    }
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
        out.push('\n');
    }
    // Without the newline that the caller adds after every scalar.
    out.pop();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_like_go_yaml() {
        // Checked against kubectl kustomize: non-letters before letters,
        // digit runs compared as numbers.
        let mut v = vec![
            "b", "a10", "a9", "A", "_x", "1", "Z", "[", "a-1", "a1", "a01", "a001",
        ];
        v.sort_by(|a, b| key_less(a, b));
        assert_eq!(
            v,
            vec!["[", "_x", "1", "A", "Z", "a-1", "a1", "a01", "a001", "a9", "a10", "b"]
        );
    }

    #[test]
    fn quotes_ambiguous_strings() {
        let v = json!({"a": "true", "b": "123", "c": "yes", "d": "plain", "e": "", "f": "a: b", "g": "- x", "h": "1.5"});
        assert_eq!(
            to_yaml(&v),
            "a: \"true\"\nb: \"123\"\nc: \"yes\"\nd: plain\ne: \"\"\nf: 'a: b'\ng: '- x'\nh: \"1.5\"\n"
        );
    }

    #[test]
    fn nested_layout() {
        let v = json!({"spec": {"containers": [{"name": "a", "args": ["x", "z"]}], "empty": {}, "none": []}});
        assert_eq!(
            to_yaml(&v),
            "spec:\n  containers:\n  - args:\n    - x\n    - z\n    name: a\n  empty: {}\n  none: []\n"
        );
    }

    #[test]
    fn literal_blocks() {
        let v = json!({"a": "x\ny\n", "b": "x\ny", "c": "x\n\n"});
        assert_eq!(
            to_yaml(&v),
            "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\n"
        );
    }

    #[test]
    fn numbers_like_go() {
        let v = json!({"a": 1.0, "b": 1.5, "c": 0.00001, "d": 3});
        assert_eq!(to_yaml(&v), "a: 1\nb: 1.5\nc: 1e-05\nd: 3\n");
    }

    #[test]
    fn folds_long_plain_lines() {
        let s = "word ".repeat(30).trim_end().to_string();
        let out = to_yaml(&json!({ "description": s }));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[1].starts_with("  word"));
    }

    #[test]
    fn on_stays_a_string() {
        let docs = parse_documents("a: on\nb: yes\n").unwrap();
        assert_eq!(docs[0], json!({"a": "on", "b": "yes"}));
    }
}
