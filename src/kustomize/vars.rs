//! `vars:` — `$(NAME)` substitution in the fields of the varReference specs,
//! resolved once at the top level after name references are fixed.

use serde_json::Value;
use std::collections::BTreeMap;

use super::fieldspec::{apply_specs, Create, FieldSpec};
use super::replacements::{mark_untyped, restore_untyped, untyped_text};
use super::reslist::ResList;
use super::resource::{Gvk, ResId};
use super::types::Var;

pub fn objref_gvk(v: &Var) -> Gvk {
    if !v.objref.api_version.is_empty() {
        Gvk::from_api_version(&v.objref.api_version, &v.objref.kind)
    } else {
        Gvk {
            group: v.objref.group.clone(),
            version: v.objref.version.clone(),
            kind: v.objref.kind.clone(),
        }
    }
}

/// Bind each var to the object it names (kustomize's MergeVars).
pub fn bind(list: &mut ResList, vars: &[Var]) -> Result<(), String> {
    for v in vars {
        let id = ResId {
            gvk: objref_gvk(v),
            name: v.objref.name.clone(),
            namespace: v.objref.namespace.clone(),
        };
        let strict = !id.namespace.is_empty() || id.gvk.is_cluster_scoped();
        let m = list.matching_any_id(|x| {
            if strict {
                x.equals(&id)
            } else {
                x.gvkn_equals(&id)
            }
        });
        if m.len() > 1 {
            return Err(format!(
                "found {} resId matches for var '{}' (unable to disambiguate)",
                m.len(),
                v.name
            ));
        }
        if let Some(i) = m.first() {
            list.items[*i].ref_vars.push(v.name.clone());
        }
    }
    Ok(())
}

fn field_value(obj: &Value, path: &str) -> Option<Value> {
    // `a.b[0].c` is `a.b.0.c`; `[name=x]` and `[a.b]` segments stay as they are.
    let mut norm = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map(|c| open + c);
        match close {
            Some(c) if rest[open + 1..c].chars().all(|ch| ch.is_ascii_digit()) && c > open + 1 => {
                norm.push_str(&rest[..open]);
                norm.push('.');
                norm.push_str(&rest[open + 1..c]);
                rest = &rest[c + 1..];
            }
            Some(c) => {
                norm.push_str(&rest[..=c]);
                rest = &rest[c + 1..];
            }
            None => break,
        }
    }
    norm.push_str(rest);
    super::replacements::lookup(obj, &norm)
}

/// Expand `$(VAR)` references; `$$` escapes a dollar. A string that is one
/// whole reference takes the variable's own type.
fn expand(
    s: &str,
    vals: &BTreeMap<String, Value>,
    used: &mut std::collections::BTreeSet<String>,
) -> Value {
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) {
        if !name.contains(')') && !name.contains('$') {
            if let Some(v) = vals.get(name) {
                used.insert(name.to_string());
                return v.clone();
            }
        }
    }
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '$' && i + 1 < b.len() {
            if b[i + 1] == '$' {
                out.push('$');
                i += 2;
                continue;
            }
            if b[i + 1] == '(' {
                if let Some(close) = b[i + 2..].iter().position(|c| *c == ')') {
                    let name: String = b[i + 2..i + 2 + close].iter().collect();
                    match vals.get(&name) {
                        Some(v) => {
                            used.insert(name.clone());
                            out.push_str(&match v {
                                Value::String(x) => x.clone(),
                                Value::Number(n) => super::scalar::format_number(n),
                                other => other.to_string(),
                            });
                        }
                        None => {
                            out.push_str("$(");
                            out.push_str(&name);
                            out.push(')');
                        }
                    }
                    i += 3 + close;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Value::String(out)
}

/// Substitute bound vars in every varReference field.
pub fn resolve(list: &mut ResList, vars: &[Var], specs: &[FieldSpec]) -> Result<(), String> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut vals = BTreeMap::new();
    for v in vars {
        let Some(r) = list.items.iter().find(|r| r.ref_vars.contains(&v.name)) else {
            return Err(format!(
                "var '{}' cannot be mapped to a field in the set of known resources (no {} '{}')",
                v.name, v.objref.kind, v.objref.name
            ));
        };
        let path = if v.fieldref.fieldpath.is_empty() {
            "metadata.name"
        } else {
            v.fieldref.fieldpath.as_str()
        };
        match field_value(&r.obj, path) {
            // A map or list cannot be substituted: `$(VAR)` stays as written.
            Some(val) if val.is_object() || val.is_array() => {}
            Some(val) if !val.is_null() => {
                vals.insert(v.name.clone(), val);
            }
            _ => {
                return Err(format!(
                    "field '{}' specified in var '{}' not found in its resource",
                    path, v.name
                ))
            }
        }
    }
    let mut used = std::collections::BTreeSet::new();
    // An untagged scalar (one a replacement created) counts as a string
    // here, as in kustomize, and comes out as one.
    let text = |s: &String| untyped_text(s).unwrap_or(s).to_string();
    for r in list.items.iter_mut() {
        let gvk = r.gvk();
        let saved = mark_untyped(r);
        apply_specs(&mut r.obj, &gvk, specs, Create::No, &mut |n| {
            match n {
                Value::String(s) => *n = expand(&text(s), &vals, &mut used),
                Value::Object(m) => {
                    for (_, x) in m.iter_mut() {
                        if let Value::String(s) = x {
                            *x = expand(&text(s), &vals, &mut used);
                        }
                    }
                }
                Value::Array(items) => {
                    for x in items.iter_mut() {
                        match x {
                            Value::String(s) => *x = expand(&text(s), &vals, &mut used),
                            _ => return Err("invalid value type expect a string".into()),
                        }
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        restore_untyped(r, saved);
    }
    Ok(())
}
