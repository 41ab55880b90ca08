//! The patch and replacement steps, shared by the kustomization fields
//! (`patches`, `patchesStrategicMerge`, `patchesJson6902`, `replacements`)
//! and the builtin plugin configurations that name the same transformers.

use serde_json::Value;

use super::load::{from_value_at, RootLoader};
use super::patches::{self, Loaded};
use super::replacements;
use super::reslist::ResList;
use super::types::{Patch, Replacement, ReplacementField, Selector};
use super::yaml;
use super::yamlread;

fn short(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.len() > 40 {
        format!("{}...", first.chars().take(40).collect::<String>())
    } else {
        first.to_string()
    }
}

pub fn patch_text(path: &str, inline: &str, ldr: &RootLoader) -> Result<String, String> {
    match (path.is_empty(), inline.trim().is_empty()) {
        (true, true) => Err("must specify one of patch and path".into()),
        (false, false) => Err("patch and path can't be set at the same time".into()),
        (false, true) => ldr.read_string(path),
        (true, false) => Ok(inline.trim().to_string()),
    }
}

/// `patchesStrategicMerge` entries: each a file path, or the patch inline.
pub fn strategic_merge_entries(
    list: &mut ResList,
    entries: &[String],
    ldr: &RootLoader,
) -> Result<(), String> {
    for entry in entries {
        let text = match ldr.read_string(entry) {
            Ok(t) => t,
            Err(load_err) => {
                if entry.contains('\n') || entry.contains(": ") {
                    entry.clone()
                } else {
                    return Err(load_err);
                }
            }
        };
        let docs =
            patches::parse_smp_docs(&text).map_err(|e| format!("'{}': {}", short(entry), e))?;
        for (mut d, meta) in docs {
            // Applied through a copy whose labels and annotations are strings.
            yamlread::stringify_meta(&mut d, &meta, true, true);
            patches::smp_by_id(list, &d, Default::default())?;
        }
    }
    Ok(())
}

/// One `patches` entry: strategic merge or JSON 6902, with or without target.
pub fn patch(list: &mut ResList, p: &Patch, ldr: &RootLoader) -> Result<(), String> {
    let text = patch_text(&p.path, &p.patch, ldr)?;
    let opts = patches::options_of(p);
    let what = if p.path.is_empty() {
        "inline patch".to_string()
    } else {
        format!("'{}'", p.path)
    };
    match patches::parse_patch(&text).map_err(|e| format!("{}: {}", what, e))? {
        Loaded::Smp(docs) => {
            if docs.len() > 1 && p.target.is_some() {
                return Err(format!(
                    "{}: several strategic merge patches in one entry cannot share a target; give each its own entry",
                    what
                ));
            }
            for (mut d, meta) in docs {
                match &p.target {
                    // Applied to the object itself: a null label deletes it.
                    None => patches::smp_by_id(list, &d, opts),
                    // Applied through a copy whose labels and annotations are
                    // strings of their source text.
                    Some(t) => {
                        yamlread::stringify_meta(&mut d, &meta, true, true);
                        patches::smp_selected(list, t, &d, opts)
                    }
                }
                .map_err(|e| format!("{}: {}", what, e))?;
            }
        }
        Loaded::Json(ops) => {
            let Some(t) = &p.target else {
                return Err(format!("{}: a JSON 6902 patch needs a target", what));
            };
            patches::json_selected(list, t, &ops).map_err(|e| format!("{}: {}", what, e))?;
        }
    }
    Ok(())
}

/// One `patchesJson6902` entry.
pub fn json6902(
    list: &mut ResList,
    target: Option<&Selector>,
    path: &str,
    inline: &str,
    ldr: &RootLoader,
) -> Result<(), String> {
    let text = patch_text(path, inline, ldr)?;
    let Some(t) = target else {
        return Err("an entry needs a target".into());
    };
    let ops = match patches::parse_patch(&text)? {
        Loaded::Json(ops) => ops,
        Loaded::Smp(_) => return Err("expected a list of JSON 6902 operations".into()),
    };
    patches::json_selected(list, t, &ops)
}

/// `replacements` entries, inline or from files.
pub fn replacements(
    list: &mut ResList,
    fields: &[ReplacementField],
    ldr: &RootLoader,
) -> Result<(), String> {
    let mut reps: Vec<Replacement> = Vec::new();
    for r in fields {
        if r.path.is_empty() {
            reps.push(Replacement {
                source: r.source.clone(),
                targets: r.targets.clone(),
            });
            continue;
        }
        if r.source.is_some() || !r.targets.is_empty() {
            return Err("cannot specify both path and inline replacement".into());
        }
        let text = ldr.read_string(&r.path)?;
        let v = yaml::parse_lenient(&text).map_err(|e| format!("'{}': {}", r.path, e))?;
        let parsed: Vec<Replacement> = if v.is_array() {
            from_value_at(v)
        } else {
            from_value_at::<Replacement>(v).map(|x| vec![x])
        }
        .map_err(|e| format!("'{}': {}", r.path, e))?;
        reps.extend(parsed);
    }
    replacements::apply(list, &reps)
}

/// Read a plugin configuration's `fieldSpecs`.
pub fn field_specs(cfg: &Value) -> Result<Vec<super::fieldspec::FieldSpec>, String> {
    match cfg.get("fieldSpecs") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => from_value_at(v.clone()).map_err(|e| format!("fieldSpecs: {}", e)),
    }
}
