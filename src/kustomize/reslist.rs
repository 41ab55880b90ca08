//! The ordered list of objects a build accumulates, with kustomize's id rules
//! (append refuses duplicate ids; generators merge or replace by any id) and
//! selection by [`Selector`].

use regex::Regex;
use serde_json::{Map, Value};

use super::resource::{Behavior, Gvk, IdRef, ResId, Resource};
use super::types::Selector;

#[derive(Default, Clone, Debug)]
pub struct ResList {
    pub items: Vec<Resource>,
}

impl ResList {
    pub fn new() -> ResList {
        ResList::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// After a step: pass in-place changes on between fields that share a
    /// value (see [`super::resource::AliasGroup`]).
    pub fn sync_aliases(&mut self) {
        for r in self.items.iter_mut() {
            r.sync_aliases();
        }
    }

    /// Append, refusing an id that is already present.
    pub fn append(&mut self, r: Resource) -> Result<(), String> {
        let name = r.name();
        if let Some(existing) = self
            .items
            .iter()
            .find(|x| x.name() == name && x.same_cur_id(&r))
        {
            return Err(duplicate_error(existing, &r));
        }
        self.items.push(r);
        Ok(())
    }

    pub fn append_all(&mut self, other: ResList) -> Result<(), String> {
        if self.items.is_empty() {
            // Ids within one accumulated list are already unique.
            self.items = other.items;
            return Ok(());
        }
        // Only the new objects need checking, each against the existing
        // objects of the same name.
        let mut by_name: foldhash::HashMap<&str, Vec<&Resource>> = Default::default();
        for x in &self.items {
            by_name.entry(x.name()).or_default().push(x);
        }
        for r in &other.items {
            let same = by_name.get(r.name()).into_iter().flatten();
            if let Some(existing) = same.into_iter().find(|x| x.same_cur_id(r)) {
                return Err(duplicate_error(existing, r));
            }
        }
        self.items.extend(other.items);
        Ok(())
    }

    /// The first id shared by two objects, if any.
    pub fn duplicate_id(&self) -> Option<ResId> {
        // foldhash: ids are hashed in bulk here, and SipHash's resistance
        // to chosen keys buys nothing for a user's own tree (foldhash is
        // seeded per process too).
        let mut seen: foldhash::HashSet<_> = Default::default();
        for r in &self.items {
            let id = r.cur_ref();
            if !seen.insert((
                id.group,
                id.version,
                id.kind,
                id.name,
                id.effective_namespace(),
            )) {
                return Some(r.cur_id());
            }
        }
        None
    }

    /// Indices of objects any of whose ids (previous or current) match.
    pub fn matching_any_id(&self, pred: impl Fn(IdRef) -> bool) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, r)| r.prev_ids.iter().map(IdRef::from).any(&pred) || pred(r.cur_ref()))
            .map(|(i, _)| i)
            .collect()
    }

    /// Add a generated object: create, or merge/replace into an existing one.
    pub fn absorb(&mut self, mut r: Resource) -> Result<(), String> {
        let id = r.cur_id();
        let matches = self.matching_any_id(|x| x.equals(&id));
        match matches.len() {
            0 => match r.behavior {
                Behavior::Merge | Behavior::Replace => Err(format!(
                    "{} '{}' does not exist; cannot merge or replace (behavior {:?})",
                    id.gvk.kind,
                    display_name(&id),
                    r.behavior
                )
                .to_lowercase_behavior()),
                Behavior::Create => self.append(r),
            },
            1 => {
                let i = matches[0];
                let old = self.items[i].clone();
                match r.behavior {
                    Behavior::Replace => copy_merge_meta(&mut r, &old),
                    Behavior::Merge => {
                        copy_merge_meta(&mut r, &old);
                        // A merge keeps where the object came from; a replace does not.
                        if old.origin_note.is_some() {
                            r.origin_note = old.origin_note.clone();
                        }
                        merge_map_from(&mut r.obj, &old.obj, "data");
                        merge_map_from(&mut r.obj, &old.obj, "binaryData");
                    }
                    Behavior::Create => {
                        return Err(format!(
                            "{} '{}' already exists; a generator over it needs behavior merge or replace",
                            id.gvk.kind,
                            display_name(&id)
                        ))
                    }
                }
                self.items[i] = r;
                Ok(())
            }
            _ => Err(format!(
                "found multiple objects that could accept merge of {}",
                id
            )),
        }
    }

    /// Objects selected by a patch or replacement selector.
    pub fn select(&self, s: &Selector) -> Result<Vec<usize>, String> {
        let sel = CompiledSelector::new(s)?;
        let mut out = Vec::new();
        for (i, r) in self.items.iter().enumerate() {
            if sel.matches(r)? {
                out.push(i);
            }
        }
        Ok(out)
    }
}

trait LowerBehavior {
    fn to_lowercase_behavior(self) -> String;
}
impl LowerBehavior for String {
    fn to_lowercase_behavior(self) -> String {
        self.replace("(behavior Merge)", "(behavior merge)")
            .replace("(behavior Replace)", "(behavior replace)")
    }
}

pub fn display_name(id: &ResId) -> String {
    if id.namespace.is_empty() {
        id.name.clone()
    } else {
        format!("{}/{}", id.namespace, id.name)
    }
}

/// Labels and annotations merged (old first, new wins); name, namespace and
/// history taken from the old object.
fn copy_merge_meta(r: &mut Resource, old: &Resource) {
    for key in ["labels", "annotations"] {
        let mut merged: Map<String, Value> = old
            .obj
            .pointer(&format!("/metadata/{}", key))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(new) = r
            .obj
            .pointer(&format!("/metadata/{}", key))
            .and_then(Value::as_object)
        {
            for (k, v) in new {
                merged.insert(k.clone(), v.clone());
            }
        }
        if let Some(md) = r.obj.get_mut("metadata").and_then(Value::as_object_mut) {
            if merged.is_empty() {
                md.remove(key);
            } else {
                md.insert(key.to_string(), Value::Object(merged));
            }
        }
    }
    r.set_name(old.name());
    let ns = old.namespace().to_string();
    if ns.is_empty() {
        if let Some(md) = r.obj.get_mut("metadata").and_then(Value::as_object_mut) {
            md.remove("namespace");
        }
    } else {
        r.set_namespace(&ns);
    }
    r.prev_ids = old.prev_ids.clone();
    // A name hash survives a merge only when both sides ask for it.
    r.needs_hash = r.needs_hash && old.needs_hash;
    r.prefixes = old.prefixes.clone();
    r.ref_vars = old.ref_vars.clone();
    r.transformations = old.transformations.clone();
    r.suffixes = old.suffixes.clone();
}

fn merge_map_from(obj: &mut Value, old: &Value, field: &str) {
    let Some(old_map) = old.get(field).and_then(Value::as_object) else {
        return;
    };
    // kustomize reads both maps as text and writes every entry back as a
    // string, so numbers and booleans in the existing data become strings.
    let mut merged: Map<String, Value> = old_map
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Number(n) => Value::String(super::scalar::format_number(n)),
                Value::Bool(b) => Value::String(b.to_string()),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    if let Some(new) = obj.get(field).and_then(Value::as_object) {
        for (k, v) in new {
            merged.insert(k.clone(), v.clone());
        }
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert(field.to_string(), Value::Object(merged));
    }
}

/// A selector with its regular expressions compiled (names and namespaces
/// and gvk fields match as anchored regexes, as in kustomize).
pub struct CompiledSelector<'a> {
    s: &'a Selector,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn duplicate_error(existing: &Resource, new: &Resource) -> String {
    let id = new.cur_id();
    format!(
        "may not add resource with an already registered id: {} {} (from {} and {})",
        id.gvk.kind,
        display_name(&id),
        existing.origin,
        new.origin
    )
}

/// One anchored selector field: most are plain names, which need no regex.
enum Pattern {
    Exact(String),
    Regex(GoRegex),
}

/// A pattern already in the Rust dialect ([`go_regex`]), compiled. Building
/// a `regex::Regex` costs about 0.1 ms, more than the rest of a small build,
/// so ASCII patterns without flags go to `regex_lite`, which builds ten times
/// faster and matches the same way for them; the rest (Unicode classes,
/// case folding) go to `regex`.
pub enum GoRegex {
    Lite(regex_lite::Regex),
    Full(Regex),
}

impl GoRegex {
    pub fn new(pattern: &str) -> Result<GoRegex, String> {
        let flags = pattern
            .match_indices("(?")
            .any(|(i, _)| !pattern[i..].starts_with("(?:"));
        if pattern.is_ascii() && !flags {
            if let Ok(re) = regex_lite::Regex::new(pattern) {
                return Ok(GoRegex::Lite(re));
            }
        }
        Regex::new(pattern)
            .map(GoRegex::Full)
            .map_err(|e| e.to_string())
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            GoRegex::Lite(re) => re.is_match(s),
            GoRegex::Full(re) => re.is_match(s),
        }
    }
}

impl Pattern {
    fn is_match(&self, v: &str) -> bool {
        match self {
            Pattern::Exact(p) => p == v,
            Pattern::Regex(re) => re.is_match(v),
        }
    }
}

/// Go's RE2 syntax in the Rust regex dialect: ASCII-only `\d \w \s \b`,
/// `\Q…\E` literals, and `{` that does not open a repetition as a literal.
pub fn go_regex(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut in_class = false;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\\' && i + 1 < c.len() {
            let n = c[i + 1];
            i += 2;
            match (n, in_class) {
                ('Q', _) => {
                    let mut lit = String::new();
                    while i < c.len() && !(c[i] == '\\' && c.get(i + 1) == Some(&'E')) {
                        lit.push(c[i]);
                        i += 1;
                    }
                    i += 2;
                    out.push_str(&regex::escape(&lit));
                }
                ('d', true) => out.push_str("0-9"),
                ('d', false) => out.push_str("[0-9]"),
                ('D', false) => out.push_str("[^0-9]"),
                ('w', true) => out.push_str("0-9A-Za-z_"),
                ('w', false) => out.push_str("[0-9A-Za-z_]"),
                ('W', false) => out.push_str("[^0-9A-Za-z_]"),
                ('s', true) => out.push_str("\\t\\n\\x0C\\r "),
                ('s', false) => out.push_str("[\\t\\n\\x0C\\r ]"),
                ('S', false) => out.push_str("[^\\t\\n\\x0C\\r ]"),
                ('b', false) => out.push_str("(?-u:\\b)"),
                ('B', false) => out.push_str("(?-u:\\B)"),
                (n, _) => {
                    out.push('\\');
                    out.push(n);
                }
            }
            continue;
        }
        match ch {
            '[' if !in_class => {
                in_class = true;
                out.push(ch);
                // A `]` right after `[` or `[^` is a literal.
                if c.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if c.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(ch);
            }
            '{' if !in_class => {
                // `{n}`, `{n,}` or `{n,m}` is a repetition; anything else is text.
                let rest: String = c[i + 1..].iter().collect();
                let close = rest.find('}');
                let is_rep = close
                    .map(|e| {
                        let body = &rest[..e];
                        let (a, b) = body.split_once(',').unwrap_or((body, "0"));
                        !a.is_empty()
                            && a.chars().all(|x| x.is_ascii_digit())
                            && b.chars().all(|x| x.is_ascii_digit())
                    })
                    .unwrap_or(false);
                if is_rep {
                    let e = close.unwrap_or(0);
                    out.push('{');
                    out.push_str(&rest[..=e]);
                    i += e + 1;
                } else {
                    out.push_str("\\{");
                }
            }
            '}' if !in_class => out.push_str("\\}"),
            _ => out.push(ch),
        }
        i += 1;
    }
    out
}

fn anchored(p: &str) -> Result<Option<Pattern>, String> {
    if p.is_empty() {
        return Ok(None);
    }
    // Letters, digits, `-` and `_` mean themselves in RE2.
    if p.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(Some(Pattern::Exact(p.to_string())));
    }
    GoRegex::new(&format!("^(?:{})$", go_regex(p)))
        .map(|re| Some(Pattern::Regex(re)))
        .map_err(|e| format!("invalid selector pattern '{}': {}", p, e))
}

impl<'a> CompiledSelector<'a> {
    pub fn new(s: &'a Selector) -> Result<CompiledSelector<'a>, String> {
        Ok(CompiledSelector {
            s,
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            group: anchored(&s.group)?,
            version: anchored(&s.version)?,
            kind: anchored(&s.kind)?,
            labels: if s.label_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.label_selector)?)
            },
            annotations: if s.annotation_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.annotation_selector)?)
            },
        })
    }

    pub fn matches_gvk(&self, gvk: &Gvk) -> bool {
        self.matches_gvk_parts(&gvk.group, &gvk.version, &gvk.kind)
    }

    fn matches_gvk_parts(&self, group: &str, version: &str, kind: &str) -> bool {
        let m = |p: &Option<Pattern>, v: &str| p.as_ref().map(|p| p.is_match(v)).unwrap_or(true);
        m(&self.group, group) && m(&self.version, version) && m(&self.kind, kind)
    }

    pub fn matches(&self, r: &Resource) -> Result<bool, String> {
        let _ = self.s;
        let cur = r.cur_ref();
        let org = r.org_ref();
        if let Some(re) = &self.namespace {
            if !re.is_match(org.effective_namespace()) && !re.is_match(cur.effective_namespace()) {
                return Ok(false);
            }
        }
        if let Some(re) = &self.name {
            if !re.is_match(org.name) && !re.is_match(cur.name) {
                return Ok(false);
            }
        }
        if !self.matches_gvk_parts(cur.group, cur.version, cur.kind) {
            return Ok(false);
        }
        if let Some(ls) = &self.labels {
            if !ls.matches(&r.labels()) {
                return Ok(false);
            }
        }
        if let Some(ls) = &self.annotations {
            if !ls.matches(&r.annotations()) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// A label name or value: at most 63 characters, alphanumeric at both ends,
/// `-`, `_` and `.` inside.
fn label_name_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name.
fn label_key_ok(k: &str) -> bool {
    match k.split_once('/') {
        None => label_name_ok(k),
        Some((prefix, name)) => {
            let p = prefix.as_bytes();
            !p.is_empty()
                && p.len() <= 253
                && p[0].is_ascii_alphanumeric()
                && p[p.len() - 1].is_ascii_alphanumeric()
                && p.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-.".contains(c))
                && label_name_ok(name)
        }
    }
}

/// Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
/// `a notin (x)`, `a`, `!a`, comma-separated.
pub struct LabelSelector {
    reqs: Vec<Req>,
}

enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        // Split on commas outside parentheses.
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '(' => {
                    depth += 1;
                    cur.push(c)
                }
                ')' => {
                    depth -= 1;
                    cur.push(c)
                }
                ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        parts.push(cur);
        for p in parts {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let bad = || format!("invalid label selector '{}'", s);
            let set = |rest: &str| -> Result<Vec<String>, String> {
                let inner = rest
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                let values: Vec<String> = inner.split(',').map(|x| x.trim().to_string()).collect();
                if values.iter().any(|v| !(v.is_empty() || label_name_ok(v))) {
                    return Err(bad());
                }
                Ok(values.into_iter().filter(|x| !x.is_empty()).collect())
            };
            let key = |k: &str| -> Result<String, String> {
                let k = k.trim();
                if label_key_ok(k) {
                    Ok(k.to_string())
                } else {
                    Err(bad())
                }
            };
            let pair = |k: &str, v: &str| -> Result<(String, String), String> {
                let v = v.trim();
                if v.is_empty() || label_name_ok(v) {
                    Ok((key(k)?, v.to_string()))
                } else {
                    Err(bad())
                }
            };
            if let Some(k) = p.strip_prefix('!') {
                reqs.push(Req::NotExists(key(k)?));
            } else if let Some((k, v)) = p.split_once("!=") {
                let (k, v) = pair(k, v)?;
                reqs.push(Req::Ne(k, v));
            } else if let Some((k, v)) = p.split_once("==") {
                let (k, v) = pair(k, v)?;
                reqs.push(Req::Eq(k, v));
            } else if let Some((k, v)) = p.split_once('=') {
                let (k, v) = pair(k, v)?;
                reqs.push(Req::Eq(k, v));
            } else if let Some(idx) = p.find(" notin ") {
                reqs.push(Req::NotIn(key(&p[..idx])?, set(&p[idx + 7..])?));
            } else if let Some(idx) = p.find(" in ") {
                reqs.push(Req::In(key(&p[..idx])?, set(&p[idx + 4..])?));
            } else {
                reqs.push(Req::Exists(key(p)?));
            }
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| {
            labels.get(k).map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
        };
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k).as_deref() == Some(v.as_str()),
            Req::Ne(k, v) => get(k).as_deref() != Some(v.as_str()),
            Req::In(k, vs) => get(k).map(|x| vs.contains(&x)).unwrap_or(false),
            Req::NotIn(k, vs) => get(k).map(|x| !vs.contains(&x)).unwrap_or(true),
            Req::Exists(k) => labels.contains_key(k),
            Req::NotExists(k) => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns_pick_an_engine_and_both_agree() {
        let lite = [
            "^(?:app-.*)$",
            "^(?:registry.example.com/platform/*)$",
            "^(?:[a-c]+|x{2,3})$",
            "^(?:[^/]*-v[0-9]+)$",
            "^(?:a\\.b)$",
        ];
        let full = ["^(?:(?i)web)$", "^(?:\\pL+)$", "^(?:é.*)$"];
        let values = [
            "app-1",
            "app",
            "registry.example.com/platform",
            "registry.example.com/platform///",
            "registryXexample.com/platform/",
            "abc",
            "xx",
            "xxxx",
            "svc-v12",
            "a/b-v1",
            "a.b",
            "axb",
            "WEB",
            "éa",
            "日本",
            "",
        ];
        for p in lite {
            let re = GoRegex::new(p).unwrap();
            assert!(matches!(re, GoRegex::Lite(_)), "{p}");
            let reference = Regex::new(p).unwrap();
            for v in values {
                assert_eq!(re.is_match(v), reference.is_match(v), "{p} on {v:?}");
            }
        }
        for p in full {
            assert!(matches!(GoRegex::new(p).unwrap(), GoRegex::Full(_)), "{p}");
        }
        assert!(GoRegex::new("^(?:a[)$").is_err());
    }
}
