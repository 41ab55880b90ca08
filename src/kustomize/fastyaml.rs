//! A line-based reader for the plain block YAML that Kubernetes manifests
//! are written in: block mappings and sequences, plain and single-line
//! quoted scalars, `|`/`|-` literal text, one-line flow lists of scalars and
//! the empty `[]`/`{}`.
//!
//! It is an optimisation only. [`parse`] returns `None` as soon as it meets
//! anything outside that subset (anchors, tags, folded or multi-line
//! scalars, escapes, flow mappings, tabs, carriage returns, `...`, merge or
//! repeated keys, and every form of invalid YAML); the full reader in
//! [`super::yamlread`] then reads the text from the start, so every message
//! about a file comes from one place. Where it answers, the answer is the
//! one the full reader gives: the same values, resolved by the same scalar
//! rules, and the same source text of top-level labels and annotations.

use granit_parser::ScalarStyle;
use serde_json::{Map, Value};

use super::value::field;
use super::yamlread::{child_place, resolve_scalar, MetaText, Place};

/// The documents of a stream, or `None` when the text needs the full reader.
pub(super) fn parse(text: &str, yaml11: bool) -> Option<Vec<(Value, Vec<MetaText>)>> {
    let b = text.as_bytes();
    if b.iter().any(|&c| c == b'\t' || c == b'\r') {
        return None;
    }
    // Line breaks of YAML 1.1 and the byte order mark.
    if !text.is_ascii()
        && text
            .chars()
            .any(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'))
    {
        return None;
    }
    let mut r = Lines {
        b,
        pos: 0,
        depth: 0,
        yaml11,
        meta: Vec::new(),
    };
    let mut docs = Vec::new();
    loop {
        match r.peek()? {
            Peek::Eof => break,
            Peek::Marker => r.skip_line(),
            Peek::Content(line) => {
                r.meta.clear();
                let v = r.node_at(line, line.indent, Place::Root, None)?;
                // A document holds one node: what follows is a new document.
                if !matches!(r.peek()?, Peek::Eof | Peek::Marker) {
                    return None;
                }
                if v.is_object() || v.is_array() {
                    docs.push((v, std::mem::take(&mut r.meta)));
                } else {
                    return None;
                }
            }
        }
    }
    Some(docs)
}

/// Nesting the fast reader takes on (manifests use a dozen levels or so).
const MAX_FAST_DEPTH: usize = 64;

struct Lines<'a> {
    b: &'a [u8],
    /// Start of the next line to read.
    pos: usize,
    /// Collections open around the node being read.
    depth: usize,
    yaml11: bool,
    meta: Vec<MetaText>,
}

#[derive(Clone, Copy)]
struct Line {
    start: usize,
    /// End of the line's text (its `\n` or the end of the input).
    end: usize,
    indent: usize,
}

enum Peek {
    Eof,
    /// A `---` line (alone or with a comment).
    Marker,
    Content(Line),
}

/// What remains of a line after a node is blank or a comment.
fn rest_is_empty(s: &[u8]) -> bool {
    let t = s.iter().position(|&c| c != b' ').map(|i| &s[i..]);
    match t {
        None => true,
        // A comment needs a space before it (or the start of the line).
        Some(t) => t[0] == b'#' && t.len() < s.len(),
    }
}

impl<'a> Lines<'a> {
    fn line_end(&self, start: usize) -> usize {
        match self.b[start..].iter().position(|&c| c == b'\n') {
            Some(i) => start + i,
            None => self.b.len(),
        }
    }

    fn skip_line(&mut self) {
        let end = self.line_end(self.pos);
        self.pos = (end + 1).min(self.b.len());
        if end == self.b.len() {
            self.pos = self.b.len();
        }
    }

    /// The next line with content, past blank and comment lines.
    fn peek(&mut self) -> Option<Peek> {
        loop {
            if self.pos >= self.b.len() {
                return Some(Peek::Eof);
            }
            let start = self.pos;
            let end = self.line_end(start);
            let line = &self.b[start..end];
            let indent = line.iter().take_while(|&&c| c == b' ').count();
            if indent == line.len() || line[indent] == b'#' {
                self.pos = if end < self.b.len() { end + 1 } else { end };
                continue;
            }
            if line.starts_with(b"---") || line.starts_with(b"...") {
                // `---` with content after it, and `...`, are left to the full reader.
                if line.starts_with(b"---")
                    && (line.len() == 3 || (line[3] == b' ' && rest_is_empty(&line[3..])))
                {
                    return Some(Peek::Marker);
                }
                if line.len() == 3 || line[3] == b' ' {
                    return None;
                }
            }
            return Some(Peek::Content(Line { start, end, indent }));
        }
    }

    /// Consume the line that `line` describes.
    fn take(&mut self, line: Line) {
        self.pos = if line.end < self.b.len() {
            line.end + 1
        } else {
            line.end
        };
    }

    /// A block node whose text starts at column `col` of `line` (a line that
    /// has not been consumed). `parent` is the indentation its content must
    /// exceed when it is a literal block (none at the root).
    fn node_at(
        &mut self,
        line: Line,
        col: usize,
        place: Place,
        parent: Option<usize>,
    ) -> Option<Value> {
        let text = &self.b[line.start + col..line.end];
        let dash = text[0] == b'-' && (text.len() == 1 || text[1] == b' ');
        if dash || key_end(text).is_some() {
            // Deep nesting is left to the full reader (and its limits).
            if self.depth >= MAX_FAST_DEPTH {
                return None;
            }
            self.depth += 1;
            let v = if dash {
                self.seq(line, col)
            } else {
                self.map(line, col, place)
            };
            self.depth -= 1;
            return v;
        }
        // A scalar on a line of its own (not at the root).
        let parent = parent?;
        self.take(line);
        self.inline(line.start + col, line.end, parent, place)
    }

    /// A block sequence whose first `-` is at column `col` of `line`.
    fn seq(&mut self, first: Line, col: usize) -> Option<Value> {
        let mut items = Vec::new();
        let mut line = first;
        loop {
            let text = &self.b[line.start + col..line.end];
            // Spaces after the dash.
            let gap = text[1..].iter().take_while(|&&c| c == b' ').count();
            let cc = col + 1 + gap;
            if rest_is_empty(&text[1..]) {
                self.take(line);
                items.push(self.value_below(col, Place::Other, false)?);
            } else {
                if gap == 0 {
                    return None;
                }
                items.push(self.node_at(line, cc, Place::Other, Some(col))?);
            }
            match self.peek()? {
                Peek::Content(next) if next.indent == col => {
                    let t = &self.b[next.start + col..next.end];
                    if t[0] == b'-' && (t.len() == 1 || t[1] == b' ') {
                        line = next;
                        continue;
                    }
                    break;
                }
                Peek::Content(next) if next.indent > col => return None,
                _ => break,
            }
        }
        Some(Value::Array(items))
    }

    /// A block mapping whose first key is at column `col` of `line`.
    fn map(&mut self, first: Line, col: usize, place: Place) -> Option<Value> {
        let mut m = Map::new();
        let mut line = first;
        loop {
            let at = line.start + col;
            let text = &self.b[at..line.end];
            let (key, after) = self.key(text)?;
            if field(&m, &key).is_some() {
                return None;
            }
            let cp = child_place(place, &key);
            let meta_len = self.meta.len();
            let rest = &text[after..];
            let value = if rest_is_empty(rest) {
                self.take(line);
                self.value_below(col, cp, true)?
            } else {
                if rest[0] != b' ' {
                    return None;
                }
                self.take(line);
                let skip = rest.iter().take_while(|&&c| c == b' ').count();
                self.inline(at + after + skip, line.end, col, cp)?
            };
            if matches!(cp, Place::AnnotationValue | Place::LabelValue) {
                if let Some(mt) = self.meta.get_mut(meta_len) {
                    mt.key = key.clone();
                }
            }
            m.insert(key, value);
            match self.peek()? {
                Peek::Content(next) if next.indent == col => {
                    let t = &self.b[next.start + col..next.end];
                    if t[0] == b'-' && (t.len() == 1 || t[1] == b' ') {
                        return None;
                    }
                    line = next;
                }
                Peek::Content(next) if next.indent > col => return None,
                _ => break,
            }
        }
        Some(Value::Object(m))
    }

    /// The value of an entry whose line ends after its indicator (`key:` or
    /// `-`): a node on the following lines, or null. A mapping's value may
    /// be a sequence at the mapping's own indentation.
    fn value_below(&mut self, indent: usize, place: Place, in_map: bool) -> Option<Value> {
        let v = match self.peek()? {
            Peek::Content(next) if next.indent > indent => {
                // A block header on a line of its own: the full reader.
                if self.b[next.start + next.indent] == b'|' {
                    return None;
                }
                self.node_at(next, next.indent, place, Some(indent))?
            }
            Peek::Content(next) if in_map && next.indent == indent => {
                let t = &self.b[next.start + indent..next.end];
                if t[0] == b'-' && (t.len() == 1 || t[1] == b' ') {
                    self.node_at(next, indent, place, Some(indent))?
                } else {
                    self.empty(place)?
                }
            }
            _ => self.empty(place)?,
        };
        Some(v)
    }

    /// An empty value: null (and, for a label or annotation, the empty text).
    fn empty(&mut self, place: Place) -> Option<Value> {
        self.scalar("", ScalarStyle::Plain, place)
    }

    /// A mapping key at the start of `text`, and the offset just past its `:`.
    fn key(&self, text: &[u8]) -> Option<(String, usize)> {
        match text[0] {
            q @ (b'"' | b'\'') => {
                let (s, used) = quoted(text, q)?;
                if text.get(used) != Some(&b':') {
                    return None;
                }
                if !matches!(text.get(used + 1), None | Some(b' ')) {
                    return None;
                }
                Some((s, used + 1))
            }
            _ => {
                let end = key_end(text)?;
                let raw = std::str::from_utf8(&text[..end]).ok()?;
                if raw == "<<" || !plain_start(text) {
                    return None;
                }
                match self.resolve(raw, ScalarStyle::Plain, Place::Other)? {
                    Value::String(s) => Some((s, end + 1)),
                    _ => None,
                }
            }
        }
    }

    /// A node that starts on the line of its key or dash, at `at`.
    fn inline(&mut self, at: usize, end: usize, parent: usize, place: Place) -> Option<Value> {
        let text = &self.b[at..end];
        match text[0] {
            b'|' => {
                let strip = text.get(1) == Some(&b'-');
                let header = if strip { 2 } else { 1 };
                if !(text.len() == header || text[header] == b' ')
                    || !rest_is_empty(&text[header..])
                {
                    return None;
                }
                let s = self.literal(parent, strip)?;
                self.scalar(&s, ScalarStyle::Literal, place)
            }
            b'[' => {
                let v = self.flow_seq(text)?;
                Some(v)
            }
            b'{' => {
                let close = 1 + text[1..].iter().take_while(|&&c| c == b' ').count();
                if text.get(close) != Some(&b'}') || !rest_is_empty(&text[close + 1..]) {
                    return None;
                }
                Some(Value::Object(Map::new()))
            }
            q @ (b'"' | b'\'') => {
                let (s, used) = quoted(text, q)?;
                if !rest_is_empty(&text[used..]) {
                    return None;
                }
                let style = if q == b'"' {
                    ScalarStyle::DoubleQuoted
                } else {
                    ScalarStyle::SingleQuoted
                };
                self.scalar(&s, style, place)
            }
            _ => {
                if !plain_start(text) {
                    return None;
                }
                // The scalar ends at a comment.
                let mut cut = text.len();
                for i in 1..text.len() {
                    if text[i] == b'#' && text[i - 1] == b' ' {
                        cut = i;
                        break;
                    }
                }
                let mut t = &text[..cut];
                while t.last() == Some(&b' ') {
                    t = &t[..t.len() - 1];
                }
                // `a: b: c` and `a: b:` are not plain text.
                if t.last() == Some(&b':') || t.windows(2).any(|w| w == b": ") {
                    return None;
                }
                let s = std::str::from_utf8(t).ok()?;
                self.scalar(s, ScalarStyle::Plain, place)
            }
        }
    }

    /// A one-line flow list of plain or quoted scalars.
    fn flow_seq(&mut self, text: &[u8]) -> Option<Value> {
        let mut items = Vec::new();
        let mut i = 1;
        let skip = |i: &mut usize| {
            while text.get(*i) == Some(&b' ') {
                *i += 1;
            }
        };
        skip(&mut i);
        if text.get(i) == Some(&b']') {
            i += 1;
        } else {
            loop {
                let c = *text.get(i)?;
                let v = if c == b'"' || c == b'\'' {
                    let (s, used) = quoted(&text[i..], c)?;
                    i += used;
                    let style = if c == b'"' {
                        ScalarStyle::DoubleQuoted
                    } else {
                        ScalarStyle::SingleQuoted
                    };
                    self.resolve(&s, style, Place::Other)?
                } else {
                    let start = i;
                    while let Some(&c) = text.get(i) {
                        if c == b',' || c == b']' {
                            break;
                        }
                        if matches!(c, b'[' | b'{' | b'}' | b':' | b'#' | b'"' | b'\'') {
                            return None;
                        }
                        i += 1;
                    }
                    let mut t = &text[start..i];
                    while t.last() == Some(&b' ') {
                        t = &t[..t.len() - 1];
                    }
                    if t.is_empty() || !plain_start(t) {
                        return None;
                    }
                    self.resolve(
                        std::str::from_utf8(t).ok()?,
                        ScalarStyle::Plain,
                        Place::Other,
                    )?
                };
                items.push(v);
                skip(&mut i);
                match text.get(i)? {
                    b',' => {
                        i += 1;
                        skip(&mut i);
                        // A trailing comma is left to the full reader.
                        if text.get(i) == Some(&b']') {
                            return None;
                        }
                    }
                    b']' => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if !rest_is_empty(&text[i..]) {
            return None;
        }
        Some(Value::Array(items))
    }

    /// The text of a literal block whose header line has been consumed; its
    /// lines must be indented more than `parent`.
    fn literal(&mut self, parent: usize, strip: bool) -> Option<String> {
        let first_end = if self.pos < self.b.len() {
            self.line_end(self.pos)
        } else {
            return None;
        };
        let first = &self.b[self.pos..first_end];
        let k = first.iter().take_while(|&&c| c == b' ').count();
        // Leading blank lines and blocks that end at once: the full reader.
        if k == first.len() || k <= parent {
            return None;
        }
        let mut out = String::new();
        let mut blanks = 0usize;
        loop {
            if self.pos >= self.b.len() {
                break;
            }
            let end = self.line_end(self.pos);
            let line = &self.b[self.pos..end];
            let ind = line.iter().take_while(|&&c| c == b' ').count();
            if ind == line.len() {
                if line.len() > k {
                    return None;
                }
                blanks += 1;
            } else if ind < k {
                break;
            } else {
                // Text without a final line break: the full reader.
                if end == self.b.len() {
                    return None;
                }
                for _ in 0..blanks {
                    out.push('\n');
                }
                blanks = 0;
                out.push_str(std::str::from_utf8(&line[k..]).ok()?);
                out.push('\n');
            }
            self.pos = if end < self.b.len() { end + 1 } else { end };
        }
        if strip {
            out.pop();
        }
        Some(out)
    }

    /// A scalar value, recording the source text of labels and annotations
    /// (their key is filled in by the mapping that holds them).
    fn scalar(&mut self, text: &str, style: ScalarStyle, place: Place) -> Option<Value> {
        let v = self.resolve(text, style, place)?;
        if matches!(place, Place::AnnotationValue | Place::LabelValue) {
            self.meta.push(MetaText {
                label: place == Place::LabelValue,
                key: String::new(),
                text: text.to_string(),
            });
        }
        Some(v)
    }

    fn resolve(&self, text: &str, style: ScalarStyle, place: Place) -> Option<Value> {
        resolve_scalar(text, style, self.yaml11, place).ok()
    }
}

/// Where the `:` of a plain mapping key is, if `text` starts with one.
fn key_end(text: &[u8]) -> Option<usize> {
    if matches!(text[0], b'"' | b'\'') {
        let (_, used) = quoted(text, text[0])?;
        return (text.get(used) == Some(&b':') && matches!(text.get(used + 1), None | Some(b' ')))
            .then_some(used);
    }
    for i in 0..text.len() {
        match text[i] {
            b':' if i + 1 == text.len() || text[i + 1] == b' ' => {
                // `key :` and empty keys are left to the full reader.
                if i == 0 || text[i - 1] == b' ' {
                    return None;
                }
                return Some(i);
            }
            b'#' if i > 0 && text[i - 1] == b' ' => return None,
            _ => {}
        }
    }
    None
}

/// Can a plain scalar start with this text? (No indicator first.)
fn plain_start(text: &[u8]) -> bool {
    match text[0] {
        b'-' => text.len() > 1 && text[1] != b' ',
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        _ => true,
    }
}

/// A quoted scalar that closes on its line, and the bytes it used.
/// Double-quoted text with escapes is left to the full reader.
fn quoted(text: &[u8], q: u8) -> Option<(String, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let c = *text.get(i)?;
        if q == b'"' && c == b'\\' {
            return None;
        }
        if c == q {
            if q == b'\'' && text.get(i + 1) == Some(&b'\'') {
                out.push(b'\'');
                i += 2;
                continue;
            }
            return Some((String::from_utf8(out).ok()?, i + 1));
        }
        out.push(c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::yamlread::{parse_full, precheck};
    use super::*;

    /// Where the fast reader answers, it answers as the full reader does.
    fn agree(text: &str) -> bool {
        let mut answered = false;
        for yaml11 in [false, true] {
            // The fast reader runs only on text that passed these checks.
            if precheck(text, yaml11).is_err() {
                continue;
            }
            if let Some(fast) = parse(text, yaml11) {
                answered = true;
                match parse_full(text, yaml11) {
                    Ok(full) => assert_eq!(fast, full, "yaml11={yaml11} on:\n{text}"),
                    Err(e) => {
                        panic!("fast reader accepted what the full one refuses ({e}):\n{text}")
                    }
                }
            }
        }
        answered
    }

    fn yaml_files() -> Vec<String> {
        yaml_files_named().into_iter().map(|(_, t)| t).collect()
    }

    fn yaml_files_named() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        let mut dirs: Vec<_> = [
            "base",
            "crds",
            "overlays",
            "components",
            "params",
            "tests",
            "examples",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect();
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    dirs.push(p);
                } else if ft.is_file()
                    && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                {
                    if let Ok(t) = std::fs::read_to_string(&p) {
                        out.push((p, t));
                    }
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn agrees_with_the_full_reader_on_every_file_of_the_project() {
        let files = yaml_files();
        assert!(files.len() > 100, "{} files", files.len());
        let answered = files.iter().filter(|t| agree(t)).count();
        eprintln!("answered {answered} of {}", files.len());
        // The point of the fast reader: it must take nearly all of them.
        assert!(
            answered * 10 >= files.len() * 8,
            "answered {answered} of {}",
            files.len()
        );
    }

    #[test]
    fn list_unanswered() {
        if std::env::var("FASTYAML_LIST").is_err() {
            return;
        }
        for (p, t) in yaml_files_named() {
            let y11 = p
                .file_name()
                .map(|n| n.to_string_lossy().starts_with("kustomization"))
                .unwrap_or(false);
            if precheck(&t, y11).is_ok() && parse(&t, y11).is_none() {
                eprintln!("{}", p.display());
            }
        }
    }

    #[test]
    fn answers_for_the_embedded_manifests() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for d in [
            "base/pipeline-api/deployment.yaml",
            "crds/kustomization.yaml",
        ] {
            let t = std::fs::read_to_string(root.join(d)).unwrap();
            assert!(parse(&t, d.contains("kustomization")).is_some(), "{d}");
        }
    }

    /// Small deterministic generator (no dependency, same cases every run).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        " ",
        "  ",
        "\n",
        "\n  ",
        "- ",
        "-",
        ":",
        ": ",
        " #",
        "#",
        "'",
        "''",
        "\"",
        "\\",
        "|",
        "|-",
        "|+",
        ">",
        "[",
        "]",
        "{",
        "}",
        "{}",
        "[]",
        ",",
        "&a ",
        "*a",
        "!!str ",
        "---",
        "---\n",
        "...",
        "~",
        "null",
        "yes",
        "on",
        "0x1F",
        "0755",
        "1_000",
        "1.50",
        ".inf",
        "2001-12-14",
        "true",
        "<<: ",
        "? ",
        "%",
        "@",
        "`",
        "é",
        "\u{85}",
        "\u{7F}",
        "key: ",
        "\n- a",
        "\n  b: 1",
    ];

    fn mutate(rng: &mut Rng, text: &str) -> String {
        let mut s = text.to_string();
        for _ in 0..1 + rng.below(3) {
            let mut at = rng.below(s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(4) {
                0 => s.insert_str(at, PIECES[rng.below(PIECES.len())]),
                1 => {
                    let mut end = (at + 1 + rng.below(4)).min(s.len());
                    while !s.is_char_boundary(end) {
                        end += 1;
                    }
                    s.replace_range(at..end, "");
                }
                2 => {
                    // Re-indent one line.
                    let start = s[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
                    if rng.below(2) == 0 {
                        s.insert(start, ' ');
                    } else if s[start..].starts_with(' ') {
                        s.remove(start);
                    }
                }
                _ => {
                    // Repeat one line.
                    let start = s[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
                    let end = s[at..].find('\n').map(|i| at + i + 1).unwrap_or(s.len());
                    let line = s[start..end].to_string();
                    s.insert_str(end, &line);
                }
            }
        }
        s
    }

    #[test]
    fn agrees_with_the_full_reader_on_mutated_files() {
        let files = yaml_files();
        let small: Vec<&String> = files.iter().filter(|t| t.len() < 4000).collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut answered = 0;
        for _ in 0..std::env::var("FASTYAML_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20000)
        {
            let base = small[rng.below(small.len())];
            let text = mutate(&mut rng, base);
            if agree(&text) {
                answered += 1;
            }
        }
        eprintln!("answered {answered}");
        assert!(answered > 1000, "answered {answered}");
    }

    #[test]
    fn agrees_on_hand_written_cases() {
        let cases = [
            "a: 1\nb:\n- x\n- y\nc: {}\nd: []\n",
            "a:\n  - x\n  -\n  - - y\n    - z\n  - k: v\n    l: w\n",
            "- a\n- b: c\n  d: |\n    line 1\n\n    line 3\n  e: f\n",
            "a: |-\n  one\n  two\n\n\nb: 2\n",
            "a: |\n  one\n\n\n",
            "a: 'it''s'\nb: \"q\"\n'c d': e\n\"f\": g # note\n",
            "a: x #c\nb: x#c\nc: http://h:80/p\nd: a,b\ne: [a, 'b', \"c\", 1, true]\n",
            "metadata:\n  annotations:\n    a: 8080\n    b:\n    c: '0.50'\n    d: ~\n    e: |\n      t\n  labels:\n    l: 5\n",
            "---\na: 1\n---\n# only a comment\n---\nb: 2\n",
            "# head\n\n  a: 1\n  b: 2\n",
            "a: 1\n b: 2\n",
            "a: b: c\n",
            "a:\n  text\n",
            "a:\n  text\n  more\n",
            "a: |\n  x\n# c\n  y\n",
            "a: .inf\n",
            "metadata:\n  labels:\n    x: .nan\n",
            "a: yes\nb: on\nc: 0755\n",
            "a: -1\nb: -x\nc: - y\n",
            "- - - a\n",
            "a: [a, b,]\n",
            "a: 1\n...\n",
            "---a: 1\n",
            "a: 2001-12-14\nb: 1e3\nc: 0o17\n",
        ];
        for c in cases {
            agree(c);
        }
        assert!(parse("a: 1\nb:\n- x\n", false).is_some());
        assert!(parse("a: &x 1\n", false).is_none());
    }
}
