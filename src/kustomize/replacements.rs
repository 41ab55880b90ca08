//! `replacements:` — copy a value from one object's field into fields of
//! other objects. Field paths are dot-separated with `[key=value]` element
//! selectors, `*` wildcards, numeric indexes and `[a.b]` for keys with dots.

use serde_json::{Map, Value};

use super::reslist::{LabelSelector, ResList};
use super::resource::{find_strings, Gvk, IdRef, ResId, Resource};
use super::types::{FieldOptions, Replacement, Selector, SourceSelector};
use super::value::{field, field_mut};

/// Split a dotted field path, keeping `[...]` segments whole.
pub fn split_dotted(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                cur.push('.');
            }
            // `[...]` is a segment of its own only at the start of one;
            // elsewhere (`containers[1]`) it is part of the field name.
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
                if depth == 0 && cur.starts_with('[') {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '.' if depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        // An unclosed `[` is read as part of nothing: `[k` names `k`.
        if cur.starts_with('[') && !cur.ends_with(']') {
            cur.remove(0);
        }
        out.push(cur);
    }
    out
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => super::scalar::format_number(n),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Collect mutable references to every node `path` matches, creating
/// missing fields (as `create_as`) when asked.
fn matches<'a>(
    node: &'a mut Value,
    path: &[String],
    create: Option<&Value>,
    out: &mut Vec<&'a mut Value>,
) -> Result<(), String> {
    if path.is_empty() {
        out.push(node);
        return Ok(());
    }
    let seg = path[0].as_str();
    let rest = &path[1..];
    let make = |last: bool| -> Value {
        if last {
            match create {
                Some(Value::Object(_)) => Value::Object(Map::new()),
                Some(Value::Array(_)) => Value::Array(vec![]),
                _ => Value::String(CREATED.to_string()),
            }
        } else if rest
            .first()
            .map(|s| (s.starts_with('[') && s.contains('=')) || s.parse::<usize>().is_ok())
            .unwrap_or(false)
        {
            Value::Array(vec![])
        } else {
            Value::Object(Map::new())
        }
    };
    let bracket = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
    // `[a.b]` names a key that contains dots; in a list it is an error.
    if let Some(key) = bracket.filter(|b| !b.contains('=')) {
        return match node {
            Value::Array(_) => Err(format!(
                "list path element '{}' must contain fieldName=fieldValue for element to match",
                seg
            )),
            Value::Object(_) | Value::Null => matches(
                node,
                &std::iter::once(key.to_string())
                    .chain(rest.iter().cloned())
                    .collect::<Vec<_>>(),
                create,
                out,
            ),
            _ => Ok(()),
        };
    }
    if let Some(inner) = bracket {
        let (k, v) = inner.split_once('=').unwrap_or(("", inner));
        if node.is_null() && create.is_some() {
            *node = Value::Array(vec![]);
        }
        let Value::Array(items) = node else {
            return Ok(());
        };
        let pos: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, it)| {
                if k.is_empty() {
                    scalar_text(it) == v && !it.is_object()
                } else {
                    it.get(k).map(scalar_text).as_deref() == Some(v)
                }
            })
            .map(|(i, _)| i)
            .collect();
        if pos.is_empty() {
            if create.is_some() && !k.is_empty() {
                let mut m = Map::new();
                m.insert(k.to_string(), Value::String(v.to_string()));
                items.push(Value::Object(m));
                let last = items.len() - 1;
                return matches(&mut items[last], rest, create, out);
            }
            return Ok(());
        }
        let mut refs: Vec<&'a mut Value> = items.iter_mut().collect();
        let mut picked = Vec::new();
        for (i, r) in refs.drain(..).enumerate() {
            if pos.contains(&i) {
                picked.push(r);
            }
        }
        for r in picked {
            matches(r, rest, create, out)?;
        }
        return Ok(());
    }
    if seg == "*" {
        match node {
            Value::Array(items) => {
                for it in items.iter_mut() {
                    matches(it, rest, create, out)?;
                }
            }
            Value::Object(m) => {
                for (_, it) in m.iter_mut() {
                    matches(it, rest, create, out)?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    match node {
        Value::Array(items) => {
            if let Ok(i) = seg.parse::<usize>() {
                if let Some(it) = items.get_mut(i) {
                    return matches(it, rest, create, out);
                }
                return Ok(());
            }
            Err(format!("expected a mapping at '{}' but found a list", seg))
        }
        Value::Object(m) => {
            let fresh = match field(m, seg) {
                None if create.is_none() => return Ok(()),
                None => Some(make(rest.is_empty())),
                Some(Value::Null) if create.is_some() && !rest.is_empty() => Some(make(false)),
                Some(_) => None,
            };
            if let Some(v) = fresh {
                m.insert(seg.to_string(), v);
            }
            match field_mut(m, seg) {
                Some(child) => matches(child, rest, create, out),
                None => Ok(()),
            }
        }
        Value::Null => {
            if create.is_some() {
                *node = Value::Object(Map::new());
                return matches(node, path, create, out);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Read the value at a dotted path (first match).
pub fn lookup(obj: &Value, path: &str) -> Option<Value> {
    let parts = split_dotted(path);
    let mut out = Vec::new();
    find(obj, &parts, &mut out).ok()?;
    out.into_iter().next().cloned()
}

/// [`matches`] without `create`, which then changes nothing: the same
/// nodes, found without a copy of the object to search.
fn find<'a>(node: &'a Value, path: &[String], out: &mut Vec<&'a Value>) -> Result<(), String> {
    if path.is_empty() {
        out.push(node);
        return Ok(());
    }
    let seg = path[0].as_str();
    let rest = &path[1..];
    let bracket = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
    if let Some(key) = bracket.filter(|b| !b.contains('=')) {
        return match node {
            Value::Array(_) => Err(format!(
                "list path element '{}' must contain fieldName=fieldValue for element to match",
                seg
            )),
            Value::Object(_) | Value::Null => find(
                node,
                &std::iter::once(key.to_string())
                    .chain(rest.iter().cloned())
                    .collect::<Vec<_>>(),
                out,
            ),
            _ => Ok(()),
        };
    }
    if let Some(inner) = bracket {
        let (k, v) = inner.split_once('=').unwrap_or(("", inner));
        let Value::Array(items) = node else {
            return Ok(());
        };
        for it in items {
            let hit = if k.is_empty() {
                scalar_text(it) == v && !it.is_object()
            } else {
                it.get(k).map(scalar_text).as_deref() == Some(v)
            };
            if hit {
                find(it, rest, out)?;
            }
        }
        return Ok(());
    }
    if seg == "*" {
        match node {
            Value::Array(items) => {
                for it in items {
                    find(it, rest, out)?;
                }
            }
            Value::Object(m) => {
                for it in m.values() {
                    find(it, rest, out)?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    match node {
        Value::Array(items) => {
            if let Ok(i) = seg.parse::<usize>() {
                if let Some(it) = items.get(i) {
                    return find(it, rest, out);
                }
                return Ok(());
            }
            Err(format!("expected a mapping at '{}' but found a list", seg))
        }
        Value::Object(m) => match field(m, seg) {
            Some(child) => find(child, rest, out),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn optional_selector(s: &str) -> Result<Option<LabelSelector>, String> {
    if s.is_empty() {
        Ok(None)
    } else {
        LabelSelector::parse(s).map(Some)
    }
}

/// The text of an untagged scalar while it carries its marker.
pub(super) fn untyped_text(s: &str) -> Option<&str> {
    s.strip_prefix(UNTYPED)
}

/// Undo [`mark_untyped`] where the marker is still in place; a field that
/// was written meanwhile is a string now, no longer untagged.
pub(super) fn restore_untyped(r: &mut Resource, saved: Vec<(String, Value)>) {
    for (p, orig) in saved {
        match r.obj.pointer_mut(&p) {
            Some(v) if v.as_str().map(|s| s.starts_with(UNTYPED)).unwrap_or(false) => *v = orig,
            _ => r.untyped.retain(|x| *x != p),
        }
    }
}

/// Put the markers on the object's untagged scalars before targets are
/// written; returns their values.
pub(super) fn mark_untyped(r: &mut Resource) -> Vec<(String, Value)> {
    let mut saved = Vec::new();
    for p in &r.untyped {
        if let Some(v) = r.obj.pointer_mut(p) {
            if v.is_number() || v.is_boolean() {
                saved.push((p.clone(), v.clone()));
                *v = untyped(&scalar_text(v));
            }
        }
    }
    saved
}

/// After the writes: every marker becomes its value again (an untouched
/// field exactly as it was) and its place is remembered as untagged.
fn settle_untyped(r: &mut Resource, saved: &[(String, Value)]) {
    let mut places = Vec::new();
    for (pointer, marker) in find_strings(&r.obj, &|s| s.starts_with(UNTYPED)) {
        let text = &marker[UNTYPED.len()..];
        let value = match saved.iter().find(|(p, _)| *p == pointer) {
            Some((_, orig)) if scalar_text(orig) == text => orig.clone(),
            _ => typed(text),
        };
        if let Some(slot) = r.obj.pointer_mut(&pointer) {
            *slot = value;
        }
        places.push(pointer);
    }
    for p in std::mem::take(&mut r.untyped) {
        if !places.contains(&p) && r.obj.pointer(&p).map(|v| v.is_string()).unwrap_or(false) {
            places.push(p);
        }
    }
    r.untyped = places;
}

/// What a strategic merge patch does to the untagged scalars: each becomes
/// a string, wherever it is in the object.
pub(super) fn stringify_untyped(r: &mut Resource) {
    for p in std::mem::take(&mut r.untyped) {
        if let Some(v) = r.obj.pointer_mut(&p) {
            if v.is_number() || v.is_boolean() {
                *v = Value::String(scalar_text(v));
            }
        }
    }
}

/// Every id an object has had, oldest first, the current one last.
fn ids_of<'a>(r: &'a Resource, cur: &'a ResId) -> impl DoubleEndedIterator<Item = IdRef<'a>> {
    r.prev_ids
        .iter()
        .chain(std::iter::once(cur))
        .map(IdRef::from)
}

/// kustomize's `ResId.IsSelectedBy`; the selector's own gvk decides its
/// effective namespace.
fn id_selected_by(id: IdRef, sel_gvk: &Gvk, name: &str, namespace: &str) -> bool {
    (name.is_empty() || name == id.name)
        && id.is_selected_by(sel_gvk)
        && (namespace.is_empty() || {
            let sel = IdRef {
                group: &sel_gvk.group,
                version: &sel_gvk.version,
                kind: &sel_gvk.kind,
                name: "",
                namespace,
            };
            sel.effective_namespace() == id.effective_namespace()
        })
}

fn selector_gvk(s: &Selector) -> Gvk {
    Gvk {
        group: s.group.clone(),
        version: s.version.clone(),
        kind: s.kind.clone(),
    }
}

fn source_desc(s: &SourceSelector) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("kind", &s.kind),
        ("name", &s.name),
        ("namespace", &s.namespace),
        ("group", &s.group),
        ("version", &s.version),
    ] {
        if !v.is_empty() {
            parts.push(format!("{}={}", k, v));
        }
    }
    parts.join(" ")
}

fn refine(opts: Option<&FieldOptions>, v: Value) -> Result<Value, String> {
    let Some(o) = opts else { return Ok(v) };
    if o.delimiter.is_empty() {
        return Ok(v);
    }
    if v.is_object() || v.is_array() {
        return Err("delimiter option can only be used with scalar nodes".into());
    }
    let text = scalar_text(&v);
    let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
    if o.index < 0 || o.index as usize >= parts.len() {
        return Err(format!(
            "options.index {} is out of bounds for value {}",
            o.index, text
        ));
    }
    Ok(Value::String(parts[o.index as usize].to_string()))
}

/// Placeholder for a scalar field that the replacement itself created.
const CREATED: &str = "\u{0}kfp-aws:created\u{0}";

/// Resolve text as a plain YAML scalar (go-yaml v3 rules).
fn typed(text: &str) -> Value {
    super::yamlread::parse_documents(&format!("v: {}", text))
        .ok()
        .and_then(|d| d.into_iter().next())
        .and_then(|d| d.get("v").cloned())
        .filter(|v| !v.is_object() && !v.is_array())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// An untagged scalar while a replacement writes: the marker, then its text.
/// kustomize gives a field a replacement creates no YAML tag, so text written
/// into it later is read afresh instead of having to fit the old type.
const UNTYPED: &str = "\u{0}kfp-aws:untyped\u{0}";

fn untyped(text: &str) -> Value {
    Value::String(format!("{}{}", UNTYPED, text))
}

/// Write the value into one target field as kustomize does: a scalar target
/// keeps its type and takes the value's text (a map or list has none, so it
/// becomes empty); a field the replacement created, or an untagged one,
/// takes the text as a plain scalar would read; any other target is
/// replaced by the value.
fn set_target(
    target: &mut Value,
    value: &Value,
    opts: Option<&FieldOptions>,
) -> Result<(), String> {
    let was_untyped = target
        .as_str()
        .and_then(|s| s.strip_prefix(UNTYPED))
        .map(str::to_string);
    let created = target.as_str() == Some(CREATED) || was_untyped.is_some();
    let value_is_scalar = !(value.is_object() || value.is_array());
    let mut text = if value_is_scalar {
        scalar_text(value)
    } else {
        String::new()
    };
    if let Some(o) = opts.filter(|o| !o.delimiter.is_empty()) {
        if target.is_object() || target.is_array() {
            return Err("delimiter option can only be used with scalar nodes".into());
        }
        let cur = if let Some(t) = &was_untyped {
            t.clone()
        } else if created {
            String::new()
        } else {
            scalar_text(target)
        };
        let mut parts: Vec<String> = cur
            .split(o.delimiter.as_str())
            .map(str::to_string)
            .collect();
        if o.index < 0 {
            parts.insert(0, text);
        } else if o.index as usize >= parts.len() {
            parts.push(text);
        } else {
            parts[o.index as usize] = text;
        }
        text = parts.join(&o.delimiter);
        if created || target.is_string() || target.is_null() {
            *target = if created {
                untyped(&text)
            } else {
                Value::String(text)
            };
            return Ok(());
        }
    }
    if created {
        *target = if value_is_scalar || opts.map(|o| !o.delimiter.is_empty()).unwrap_or(false) {
            untyped(&text)
        } else {
            value.clone()
        };
        return Ok(());
    }
    match target {
        Value::String(_) => *target = Value::String(text),
        // The target keeps its type, so the text must read as one.
        Value::Number(_) => {
            let t = typed(&text);
            if !t.is_number() {
                return Err(format!(
                    "cannot decode \"{}\" as a number for a numeric field",
                    text
                ));
            }
            *target = t;
        }
        Value::Bool(_) => {
            *target = match text.as_str() {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => {
                    return Err(format!(
                        "cannot decode \"{}\" as a boolean for a boolean field",
                        text
                    ))
                }
            };
        }
        // A null keeps its tag, so it stays null.
        Value::Null => {}
        _ => *target = value.clone(),
    }
    Ok(())
}

/// Run replacements in order over the list.
pub fn apply(list: &mut ResList, reps: &[Replacement]) -> Result<(), String> {
    // Each object's current id, read from its body once and again only after
    // a replacement has written to that object.
    let mut cur: Vec<ResId> = list.items.iter().map(Resource::cur_id).collect();
    for rep in reps {
        let Some(src) = &rep.source else {
            return Err("replacements must specify a source and at least one target".into());
        };
        if rep.targets.is_empty() {
            return Err("replacements must specify a source and at least one target".into());
        }
        let sgvk = Gvk {
            group: src.group.clone(),
            version: src.version.clone(),
            kind: src.kind.clone(),
        };
        let mut found = None;
        for (i, r) in list.items.iter().enumerate() {
            if ids_of(r, &cur[i])
                .rev()
                .any(|id| id_selected_by(id, &sgvk, &src.name, &src.namespace))
            {
                if found.is_some() {
                    return Err(format!(
                        "multiple matches for replacement source {}",
                        source_desc(src)
                    ));
                }
                found = Some(i);
            }
        }
        let Some(si) = found else {
            return Err(format!(
                "replacement source not found: nothing selected by {}",
                source_desc(src)
            ));
        };
        let fp = if src.field_path.is_empty() {
            "metadata.name"
        } else {
            src.field_path.as_str()
        };
        let value = match lookup(&list.items[si].obj, fp) {
            Some(v) if !v.is_null() => v,
            _ => {
                return Err(format!(
                    "fieldPath '{}' is missing for replacement source {}",
                    fp,
                    source_desc(src)
                ))
            }
        };
        let value = refine(src.options.as_ref(), value)?;
        for t in &rep.targets {
            let Some(sel) = &t.select else {
                return Err("replacement target must specify resources to select".into());
            };
            let paths: Vec<String> = if t.field_paths.is_empty() {
                vec!["metadata.name".into()]
            } else {
                t.field_paths.clone()
            };
            let sel_gvk = selector_gvk(sel);
            let labels = optional_selector(&sel.label_selector)?;
            let annos = optional_selector(&sel.annotation_selector)?;
            // Reject selectors are read for every object the select's own
            // label and annotation selectors accept, so a bad one is an
            // error as soon as there is such an object.
            let reject_meta: Vec<(Option<LabelSelector>, Option<LabelSelector>)> = {
                let parsed: Result<Vec<_>, String> = t
                    .reject
                    .iter()
                    .map(|rj| {
                        Ok((
                            optional_selector(&rj.label_selector)?,
                            optional_selector(&rj.annotation_selector)?,
                        ))
                    })
                    .collect();
                match parsed {
                    Ok(v) => v,
                    Err(e) => {
                        let any_candidate = list.items.iter().any(|r| {
                            labels
                                .as_ref()
                                .map(|l| l.matches(&r.labels()))
                                .unwrap_or(true)
                                && annos
                                    .as_ref()
                                    .map(|l| l.matches(&r.annotations()))
                                    .unwrap_or(true)
                        });
                        if any_candidate {
                            return Err(e);
                        }
                        continue;
                    }
                }
            };
            // Like kustomize, each object's ids (previous and current) are
            // read as the object is now, before this target changes anything.
            let selected: Vec<usize> = (0..list.items.len())
                .filter(|&i| {
                    ids_of(&list.items[i], &cur[i])
                        .any(|id| id_selected_by(id, &sel_gvk, &sel.name, &sel.namespace))
                })
                .collect();
            for i in selected {
                let r = &list.items[i];
                if labels
                    .as_ref()
                    .map(|l| !l.matches(&r.labels()))
                    .unwrap_or(false)
                    || annos
                        .as_ref()
                        .map(|l| !l.matches(&r.annotations()))
                        .unwrap_or(false)
                {
                    continue;
                }
                let mut rejected = false;
                for (rj, (rl, ra)) in t.reject.iter().zip(&reject_meta) {
                    let rg = selector_gvk(rj);
                    let id_part =
                        !(rj.name.is_empty() && rj.namespace.is_empty() && rg == Gvk::default());
                    let by_id = id_part
                        && ids_of(r, &cur[i])
                            .any(|id| id_selected_by(id, &rg, &rj.name, &rj.namespace));
                    // A label and an annotation selector in one reject
                    // entry must both match.
                    let by_meta = (rl.is_some() || ra.is_some())
                        && rl.as_ref().map(|l| l.matches(&r.labels())).unwrap_or(true)
                        && ra
                            .as_ref()
                            .map(|l| l.matches(&r.annotations()))
                            .unwrap_or(true);
                    if by_id || by_meta {
                        rejected = true;
                        break;
                    }
                }
                if rejected {
                    continue;
                }
                let create = t.options.as_ref().map(|o| o.create).unwrap_or(false);
                let (rkind, rname) = (r.kind().to_string(), r.name().to_string());
                let r = &mut list.items[i];
                let saved = mark_untyped(r);
                for p in &paths {
                    let parts = split_dotted(p);
                    if parts.is_empty() {
                        return Err(format!(
                            "an empty field path in the targets of {} '{}'",
                            rkind, rname
                        ));
                    }
                    let mut hits = Vec::new();
                    matches(
                        &mut r.obj,
                        &parts,
                        if create { Some(&value) } else { None },
                        &mut hits,
                    )?;
                    if hits.is_empty() {
                        return Err(if create {
                            format!("unable to find or create field \"{}\" in replacement target {} '{}'", p, r.kind(), r.name())
                        } else {
                            format!(
                                "unable to find field \"{}\" in replacement target {} '{}' (set options.create to add it)",
                                p,
                                r.kind(),
                                r.name()
                            )
                        });
                    }
                    for h in hits {
                        set_target(h, &value, t.options.as_ref()).map_err(|e| {
                            format!("target field \"{}\" of {} '{}': {}", p, rkind, rname, e)
                        })?;
                    }
                }
                if create || !saved.is_empty() {
                    settle_untyped(r, &saved);
                }
                cur[i] = r.cur_id();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_with_selectors() {
        assert_eq!(
            split_dotted("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(
            split_dotted("metadata.annotations.[x.y/z]"),
            vec!["metadata", "annotations", "[x.y/z]"]
        );
        assert_eq!(
            split_dotted("spec.containers[1].image"),
            vec!["spec", "containers[1]", "image"]
        );
    }

    #[test]
    fn looks_up_by_selector() {
        let v = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(
            lookup(&v, "spec.containers.[name=b].image"),
            Some(json!("y"))
        );
        assert_eq!(lookup(&v, "spec.containers.1.name"), Some(json!("b")));
    }
}
