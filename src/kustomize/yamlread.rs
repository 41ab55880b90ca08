//! Reading Kubernetes objects from YAML the way kustomize reads them.
//!
//! kustomize parses objects with go-yaml v3 and converts them to JSON, so a
//! plain scalar becomes whatever v3 resolves it to: `true`/`false` (any case
//! form of the YAML 1.2 core schema), `null`, an integer (Go's base-0 parse
//! after dropping `_`: `0755` is 493, `0x1F` is 31), a float, or a timestamp
//! (printed back in RFC 3339 form). `yes`/`on` stay strings. Top-level
//! `metadata.annotations` values are rewritten by kustomize as strings of
//! their source text (`8080` stays `"8080"`, `0.50` stays `"0.50"`).
//!
//! The events come from `granit-parser` (the parser under `serde-saphyr`);
//! the tree is built here so that the source text of every scalar is at hand.

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

use super::scalar::{go_parse_int, is_yaml_float, parse_timestamp};

type Events<'a> = std::iter::Peekable<Parser<'a, granit_parser::StrInput<'a>>>;

/// Where in a document a node sits, as far as scalar rules care.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Place {
    Root,
    RootMetadata,
    RootAnnotations,
    AnnotationValue,
    RootLabels,
    LabelValue,
    Other,
}

struct Reader<'a> {
    src: &'a str,
    events: Events<'a>,
    /// Anchored nodes and the number of nodes each holds.
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes built so far in the stream, and how many of them came from
    /// alias expansion (see [`check_aliasing`]).
    decoded: usize,
    aliased: usize,
    /// go-yaml v2 rules (YAML 1.1: `yes`/`on`/`y` are booleans, keys become
    /// strings, repeated keys allowed, last wins), as kustomize uses for its
    /// own files (kustomization, configurations, JSON patches).
    yaml11: bool,
    /// Length of the input in bytes, and whether it ends with a line break.
    len: usize,
    ends_with_newline: bool,
    /// Keys from the document root to the node being read (for messages).
    path: Vec<String>,
    /// Source text of the top-level labels and annotations of the document.
    meta: Vec<MetaText>,
}

/// The source text of one top-level label or annotation value.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaText {
    pub label: bool,
    pub key: String,
    pub text: String,
}

/// Replace the scalar values of the top-level labels and/or annotations with
/// their source text, as kustomize does whenever it rewrites those maps.
pub fn stringify_meta(doc: &mut Value, meta: &[MetaText], labels: bool, annotations: bool) {
    for m in meta {
        if (m.label && !labels) || (!m.label && !annotations) {
            continue;
        }
        let field = if m.label { "labels" } else { "annotations" };
        if let Some(Value::Object(map)) = doc.get_mut("metadata").and_then(|md| md.get_mut(field)) {
            if let Some(v) = map.get_mut(&m.key) {
                if !v.is_object() && !v.is_array() {
                    *v = Value::String(m.text.clone());
                }
            }
        }
    }
}

fn loc(span: &Span) -> String {
    format!("line {} column {}", span.start.line(), span.start.col() + 1)
}

/// Nesting as deep as kustomize accepts (thousands of levels; the build runs
/// on a thread with a large stack), and no comment events.
fn parser_options() -> granit_parser::Options {
    let mut o = granit_parser::Options::default();
    o.set_emit_comments(false);
    o.flow_nesting_limit = MAX_DEPTH;
    o.block_nesting_limit = MAX_DEPTH;
    o
}

/// Deepest nesting of lists and maps a document may have.
pub const MAX_DEPTH: usize = 5000;

/// Parse every document of a stream; empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    // kustomize rewrites every object's annotations as strings.
    Ok(parse(text, false)?
        .into_iter()
        .map(|(mut d, meta)| {
            stringify_meta(&mut d, &meta, false, true);
            d
        })
        .collect())
}

/// Documents with the source text of their top-level labels and annotations
/// (for patches, whose handling of those values depends on how they apply).
pub fn parse_documents_with_meta(text: &str) -> Result<Vec<(Value, Vec<MetaText>)>, String> {
    parse(text, false)
}

/// Parse with go-yaml v2 (YAML 1.1) rules, as kustomize reads its own files.
pub fn parse_yaml11(text: &str) -> Result<Vec<Value>, String> {
    Ok(parse(text, true)?.into_iter().map(|(d, _)| d).collect())
}

fn parse(text: &str, yaml11: bool) -> Result<Vec<(Value, Vec<MetaText>)>, String> {
    parse_with(text, yaml11, true)
}

/// Parse with the full reader only (the reference for [`super::fastyaml`]).
#[cfg(test)]
pub(super) fn parse_full(text: &str, yaml11: bool) -> Result<Vec<(Value, Vec<MetaText>)>, String> {
    parse_with(text, yaml11, false)
}

/// What both readers refuse before reading: control characters and
/// directives.
pub(super) fn precheck(text: &str, yaml11: bool) -> Result<(), String> {
    // The YAML reader kustomize uses refuses control characters (checked
    // line by line only when the text is not plain printable ASCII).
    let plain_ascii = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t' || b == b'\r');
    for (n, line) in text.split('\n').enumerate().filter(|_| !plain_ascii) {
        if let Some(c) = line.chars().find(|c| {
            !(matches!(c, '\t' | '\r' | '\u{85}')
                || (' '..='~').contains(c)
                || ('\u{A0}'..='\u{D7FF}').contains(c)
                || ('\u{E000}'..='\u{FFFD}').contains(c)
                || *c >= '\u{10000}')
        }) {
            return Err(format!(
                "control characters are not allowed (U+{:04X} on line {})",
                c as u32,
                n + 1
            ));
        }
    }
    // Directives start with '%': one search of the text, not one per line.
    if !yaml11 && text.contains('%') {
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("%YAML") || l.starts_with("%TAG"))
        {
            return Err(format!(
                "directive '{}' is not supported; remove it",
                line.trim()
            ));
        }
    }
    Ok(())
}

fn parse_with(text: &str, yaml11: bool, fast: bool) -> Result<Vec<(Value, Vec<MetaText>)>, String> {
    precheck(text, yaml11)?;
    // Most manifests need only the line-based reader.
    if fast {
        if let Some(docs) = super::fastyaml::parse(text, yaml11) {
            return Ok(docs);
        }
    }
    let mut r = Reader {
        src: text,
        events: Parser::new_from_str_with_options(text, parser_options()).peekable(),
        anchors: HashMap::new(),
        decoded: 0,
        aliased: 0,
        yaml11,
        len: text.len(),
        ends_with_newline: text.ends_with('\n'),
        path: Vec::new(),
        meta: Vec::new(),
    };
    let mut docs = Vec::new();
    while let Some((ev, span)) = r.next()? {
        match ev {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                r.anchors.clear();
                r.meta.clear();
                // A document holds one node, or none.
                let v = match r.peek_is_document_end()? {
                    true => Value::Null,
                    false => {
                        let Some((ev, span)) = r.next()? else { break };
                        r.node(ev, span, Place::Root)?
                    }
                };
                if !v.is_null() {
                    docs.push((v, std::mem::take(&mut r.meta)));
                }
            }
            _ => return Err(format!("unexpected YAML content at {}", loc(&span))),
        }
    }
    Ok(docs)
}

impl<'a> Reader<'a> {
    /// The name of an alias (`*name`) near a marker.
    fn alias_at(&self, m: &granit_parser::Marker) -> Option<String> {
        let line = self.src.lines().nth(m.line().checked_sub(1)?)?;
        let star = line.find('*')?;
        let name: String = line[star + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !",]}".contains(*c))
            .collect();
        (!name.is_empty()).then_some(name)
    }

    /// The source text of a span.
    fn raw(&self, span: &Span) -> Option<&'a str> {
        let (a, b) = (span.start.byte_offset()?, span.end.byte_offset()?);
        self.src.get(a..b)
    }

    /// Escapes go-yaml does not know: `\/` and UTF-16 surrogate halves.
    fn check_escapes(&self, span: &Span) -> Result<(), String> {
        let Some(raw) = self.raw(span) else {
            return Ok(());
        };
        if !raw.contains('\\') {
            return Ok(());
        }
        let b = raw.as_bytes();
        let mut i = 0;
        while i + 1 < b.len() {
            if b[i] == b'\\' {
                match b[i + 1] {
                    b'/' => {
                        return Err(format!(
                            "{}: found unknown escape character '\\/' (at {}); write '/' instead",
                            self.path.join("."),
                            loc(span)
                        ))
                    }
                    b'u' if raw
                        .get(i + 2..i + 6)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .map(|c| (0xD800..0xE000).contains(&c))
                        .unwrap_or(false) =>
                    {
                        return Err(format!(
                            "{}: found invalid Unicode character escape code '{}' (at {})",
                            self.path.join("."),
                            &raw[i..i + 6],
                            loc(span)
                        ))
                    }
                    _ => {}
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, String> {
        loop {
            match self.events.next() {
                None => return Ok(None),
                Some(Err(e)) => {
                    let mut msg = format!(
                        "{} at line {} column {}",
                        e.info(),
                        e.marker().line(),
                        e.marker().col() + 1
                    );
                    // Name the alias (never quote other source text: it may be a secret).
                    if msg.contains("unknown anchor") {
                        if let Some(name) = self.alias_at(e.marker()) {
                            msg = format!(
                                "unknown anchor in alias '*{}' at line {} column {}",
                                name,
                                e.marker().line(),
                                e.marker().col() + 1
                            );
                        }
                    }
                    return Err(msg);
                }
                Some(Ok(x)) if is_structural(&x.0) => return Ok(Some(x)),
                // Comments and anchor metadata carry no data.
                Some(Ok(_)) => continue,
            }
        }
    }

    fn peek_is_document_end(&mut self) -> Result<bool, String> {
        loop {
            match self.events.peek() {
                Some(Ok((Event::DocumentEnd, _))) | Some(Ok((Event::StreamEnd, _))) | None => {
                    return Ok(true)
                }
                Some(Ok((ev, _))) if !is_structural(ev) => {
                    self.events.next();
                }
                Some(Ok(_)) => return Ok(false),
                Some(Err(_)) => {
                    // Let `next` report it.
                    return Ok(false);
                }
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span, place: Place) -> Result<Value, String> {
        let start = self.decoded;
        if !matches!(ev, Event::Alias(_)) {
            self.decoded += 1;
        }
        let (v, anchor) = self.node_inner(ev, span, place)?;
        if anchor != 0 {
            let size = self.decoded - start;
            self.anchors.insert(anchor, (v.clone(), size));
        }
        Ok(v)
    }

    /// A node, and its anchor id (0 for none).
    fn node_inner(
        &mut self,
        ev: Event<'a>,
        span: Span,
        place: Place,
    ) -> Result<(Value, usize), String> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if style == ScalarStyle::DoubleQuoted && !self.yaml11 {
                    self.check_escapes(&span)?;
                }
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    && text.starts_with('\t')
                {
                    return Err(format!(
                        "{}: found a tab character where an indentation space is expected (at {}); indent block text with spaces",
                        self.path.join("."),
                        loc(&span)
                    ));
                }
                // A block scalar that ends the input without a final line
                // break has none (the parser adds one).
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let at_end = span
                    .end
                    .byte_offset()
                    .map(|b| b >= self.len)
                    .unwrap_or(false);
                let text = if block && at_end && !self.ends_with_newline {
                    std::borrow::Cow::Owned(text.strip_suffix('\n').unwrap_or(&text).to_string())
                } else {
                    text
                };
                let meta_value = matches!(place, Place::AnnotationValue | Place::LabelValue);
                if meta_value {
                    let key = self.path.last().cloned().unwrap_or_default();
                    // An empty plain value is the empty string, not `~`.
                    let source = if style == ScalarStyle::Plain && self.raw(&span) == Some("") {
                        String::new()
                    } else {
                        text.to_string()
                    };
                    self.meta.push(MetaText {
                        label: place == Place::LabelValue,
                        key,
                        text: source,
                    });
                }
                let v = resolve_tagged(&text, style, tag.as_deref(), self.yaml11, place)
                    .map_err(|e| format!("{}: {} (at {})", self.path.join("."), e, loc(&span)))?;
                Ok((v, anchor))
            }
            Event::Alias(id) => {
                let Some((v, size)) = self.anchors.get(&id) else {
                    return Err(format!(
                        "unknown alias {} at {}",
                        self.raw(&span).unwrap_or("*"),
                        loc(&span)
                    ));
                };
                // Counted before the copy is made, so a bomb never allocates.
                let (decoded, aliased) = (self.decoded + size, self.aliased + size);
                check_aliasing(decoded, aliased)
                    .map_err(|e| format!("{} (at {})", e, loc(&span)))?;
                self.decoded = decoded;
                self.aliased = aliased;
                Ok((v.clone(), 0))
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let Some((ev, span)) = self.next()? else {
                        return Err("unexpected end of YAML inside a list".into());
                    };
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span, Place::Other)?);
                }
                Ok((Value::Array(items), anchor))
            }
            Event::MappingStart(_, anchor, _) => {
                let mut m = Map::new();
                let mut merged: Vec<Value> = Vec::new();
                loop {
                    let Some((kev, kspan)) = self.next()? else {
                        return Err("unexpected end of YAML inside a mapping".into());
                    };
                    if matches!(kev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge = matches!(&kev, Event::Scalar(t, _, _, None) if t == "<<");
                    let key = match self.node(kev, kspan, Place::Other)? {
                        Value::String(s) => s,
                        // kustomize turns objects into JSON: keys must be strings.
                        other if !self.yaml11 && !other.is_object() && !other.is_array() => {
                            return Err(format!(
                                "mapping key {} at {} is not a string; quote it",
                                other,
                                loc(&kspan)
                            ))
                        }
                        Value::Null => "null".to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => super::scalar::format_number(&n),
                        _ => {
                            return Err(format!("a mapping key at {} is not a scalar", loc(&kspan)))
                        }
                    };
                    let child_place = child_place(place, &key);
                    let Some((vev, vspan)) = self.next()? else {
                        return Err("unexpected end of YAML inside a mapping".into());
                    };
                    self.path.push(key);
                    let value = self.node(vev, vspan, child_place);
                    let key = self.path.pop().unwrap_or_default();
                    let value = value?;
                    if is_merge {
                        merged.push(value);
                        continue;
                    }
                    match m.entry(key) {
                        serde_json::map::Entry::Vacant(e) => {
                            e.insert(value);
                        }
                        serde_json::map::Entry::Occupied(e) if !self.yaml11 => {
                            return Err(format!(
                                "mapping key \"{}\" already defined (at {})",
                                e.key(),
                                loc(&kspan)
                            ));
                        }
                        // go-yaml v2: the last value wins, in the first place.
                        serde_json::map::Entry::Occupied(mut e) => {
                            e.insert(value);
                        }
                    }
                }
                // `<<` merge keys: entries not given explicitly, earlier sources first.
                for src in merged {
                    let sources = match src {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for s in sources {
                        if let Value::Object(sm) = s {
                            for (k, v) in sm {
                                m.entry(k).or_insert(v);
                            }
                        }
                    }
                }
                Ok((Value::Object(m), anchor))
            }
            _ => Err(format!("unexpected YAML content at {}", loc(&span))),
        }
    }
}

/// go-yaml v3's limit on alias expansion ("excessive aliasing"): once more
/// than 100 nodes came from aliases in a stream of more than 1000, the share
/// of expanded nodes may be at most 99% up to 400,000 nodes, falling
/// linearly to 10% at 4,000,000 and staying there. Expansion is thus bounded
/// by a small multiple of the input, and a few lines cannot make millions.
pub fn check_aliasing(decoded: usize, aliased: usize) -> Result<(), String> {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    if aliased <= 100 || decoded <= 1000 {
        return Ok(());
    }
    let d = decoded as f64;
    let allowed = if d <= LOW {
        0.99
    } else if d >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((d - LOW) / (HIGH - LOW))
    };
    if aliased as f64 / d > allowed {
        return Err(format!(
            "document contains excessive aliasing: anchors and aliases would expand to {} nodes or more; write the repeated parts out",
            decoded
        ));
    }
    Ok(())
}

fn is_structural(ev: &Event) -> bool {
    matches!(
        ev,
        Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Alias(_)
            | Event::Scalar(..)
            | Event::SequenceStart(..)
            | Event::SequenceEnd
            | Event::MappingStart(..)
            | Event::MappingEnd
    )
}

fn core_tag(tag: Option<&Tag>) -> Option<String> {
    let t = tag?;
    if t.is_yaml_core_schema() || t.handle() == "tag:yaml.org,2002:" {
        Some(t.suffix().to_string())
    } else {
        None
    }
}

/// Resolve one scalar as go-yaml v3 does when decoding into `interface{}`.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if style == ScalarStyle::Plain
        && tag.is_none()
        && matches!(
            text,
            ".inf"
                | ".Inf"
                | ".INF"
                | "+.inf"
                | "+.Inf"
                | "+.INF"
                | "-.inf"
                | "-.Inf"
                | "-.INF"
                | ".nan"
                | ".NaN"
                | ".NAN"
        )
    {
        return Err(format!(
            "{} is not a number JSON can hold; quote it to keep it as text",
            text
        ));
    }
    // Characters the YAML reader behind kustomize refuses, even escaped.
    // ASCII text can only hold DEL of these.
    let bad = if text.is_ascii() {
        text.bytes().any(|b| b == 0x7F).then_some('\u{7F}')
    } else {
        text.chars().find(|c| {
            *c == '\u{7F}'
                || (('\u{80}'..='\u{9F}').contains(c) && *c != '\u{85}')
                || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        })
    };
    if let Some(c) = bad {
        return Err(format!(
            "control character U+{:04X} is not allowed",
            c as u32
        ));
    }
    Ok(scalar_value(text, style, tag))
}

fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match core_tag(tag).as_deref() {
        Some("str") => return Value::String(text.to_string()),
        Some("binary") => {
            use base64::Engine;
            let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            return match base64::engine::general_purpose::STANDARD.decode(clean) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => Value::String(s),
                    Err(_) => Value::String(text.to_string()),
                },
                Err(_) => Value::String(text.to_string()),
            };
        }
        Some("null") => return Value::Null,
        Some("bool") => {
            return match text {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => Value::String(text.to_string()),
            }
        }
        Some("int") | Some("float") | Some("timestamp") => {
            return resolve_plain(text).unwrap_or(Value::String(text.to_string()))
        }
        _ => {}
    }
    // Quoted and block scalars, and plain ones with an application tag, are strings.
    if style != ScalarStyle::Plain || tag.is_some() {
        return Value::String(text.to_string());
    }
    resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// The place of the value of `key` in a mapping at `place`.
pub(super) fn child_place(place: Place, key: &str) -> Place {
    match (place, key) {
        (Place::Root, "metadata") => Place::RootMetadata,
        (Place::RootMetadata, "annotations") => Place::RootAnnotations,
        (Place::RootAnnotations, _) => Place::AnnotationValue,
        (Place::RootMetadata, "labels") => Place::RootLabels,
        (Place::RootLabels, _) => Place::LabelValue,
        _ => Place::Other,
    }
}

/// The value of an untagged scalar at `place` (see [`resolve_tagged`]).
pub(super) fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    yaml11: bool,
    place: Place,
) -> Result<Value, String> {
    resolve_tagged(text, style, None, yaml11, place)
}

/// The value of a scalar: go-yaml v2 or v3 rules; labels and annotations
/// that v3 cannot hold as JSON are read as strings, as kustomize does.
fn resolve_tagged(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    yaml11: bool,
    place: Place,
) -> Result<Value, String> {
    if yaml11 {
        return Ok(scalar11(text, style, tag));
    }
    match scalar(text, style, tag) {
        Err(_) if matches!(place, Place::AnnotationValue | Place::LabelValue) => {
            Ok(Value::String(text.to_string()))
        }
        r => r,
    }
}

/// go-yaml v2 (YAML 1.1) resolution.
fn scalar11(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match core_tag(tag).as_deref() {
        Some("str") => return Value::String(text.to_string()),
        // An explicit type wins over the quoting.
        Some(_) => return scalar_value(text, ScalarStyle::Plain, tag),
        None => {}
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Value::Bool(false),
        _ => {}
    }
    if !text.is_empty() && parse_timestamp(text).is_some() {
        return Value::String(text.to_string());
    }
    match resolve_plain(text) {
        // JSON has one number type: an integral float reads back as an integer.
        Some(Value::Number(n)) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::from(f as i64)
            } else {
                Value::Number(n)
            }
        }
        Some(v) => v,
        None => Value::String(text.to_string()),
    }
}

/// Does this text, written as a plain scalar, read back as a string?
pub fn plain_reads_as_string(text: &str) -> bool {
    !text.is_empty() && resolve_plain(text).map(|v| v.is_string()).unwrap_or(true)
}

fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    if let Some(t) = parse_timestamp(text) {
        return Some(Value::String(t.rfc3339()));
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(n) = go_parse_int(&plain) {
        return Some(Value::Number(n));
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Some(Value::Number(n));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(s: &str) -> Value {
        parse_documents(s).unwrap().remove(0)
    }

    #[test]
    fn resolves_like_go_yaml_v3() {
        let v = one("a: yes\nb: on\nc: 0755\nd: 0x1F\ne: 1_000\nf: 1.5\ng: ~\nh: True\ni: '12'\nj: 2001-12-14\nk:\n");
        assert_eq!(
            v,
            json!({"a": "yes", "b": "on", "c": 493, "d": 31, "e": 1000, "f": 1.5, "g": null, "h": true, "i": "12", "j": "2001-12-14T00:00:00Z", "k": null})
        );
    }

    #[test]
    fn top_level_annotations_keep_source_text() {
        let v = one("metadata:\n  annotations:\n    port: 8080\n    r: 0.50\n    t: ~\n  labels:\n    n: 5\nspec:\n  metadata:\n    annotations:\n      x: 5\n");
        assert_eq!(
            v["metadata"]["annotations"],
            json!({"port": "8080", "r": "0.50", "t": "~"})
        );
        assert_eq!(v["metadata"]["labels"]["n"], json!(5));
        assert_eq!(v["spec"]["metadata"]["annotations"]["x"], json!(5));
    }

    #[test]
    fn timestamps_in_rfc3339() {
        let t = |s: &str| parse_timestamp(s).map(|t| t.rfc3339());
        assert_eq!(
            t("2001-12-14T21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            t("2001-12-14t21:59:43.000000001+00:00").as_deref(),
            Some("2001-12-14T21:59:43.000000001Z")
        );
        assert_eq!(t("2002-1-1").as_deref(), Some("2002-01-01T00:00:00Z"));
        assert_eq!(t("2024-02-30"), None.map(|x: String| x));
        assert_eq!(t("2001-12-14T21:59:43"), None.map(|x: String| x));
    }

    #[test]
    fn anchors_merge_keys_and_duplicates() {
        let v = one("a: &x {p: 1, q: 2}\nb:\n  <<: *x\n  q: 3\n");
        assert_eq!(v["b"], json!({"q": 3, "p": 1}));
        assert!(parse_documents("a: 1\na: 2\n").is_err());
    }

    #[test]
    fn empty_documents_dropped() {
        assert_eq!(parse_documents("---\n---\na: 1\n---\n").unwrap().len(), 1);
    }
}
