//! `patchesStrategicMerge`, `patchesJson6902` and `patches`.
//!
//! A patch without a target finds its object by the patch's own id (any
//! previous or current id of an object); a patch with a target applies to
//! every object the selector picks, and matching nothing is not an error (as
//! in kustomize). Strategic merge lives in `smp.rs`; RFC 6902 comes from the
//! `json-patch` crate.

use serde_json::Value;

use super::jsonpatch;
use super::reslist::{display_name, ResList};
use super::resource::{Gvk, ResId, Resource};
use super::smp::{strategic_merge, SmpOutcome};
use super::types::{Patch, Selector};
use super::yaml;
use super::yamlread::{self, MetaText};

/// A loaded patch: strategic merge documents or one JSON 6902 operation list.
pub enum Loaded {
    /// Documents, each with the source text of its top-level labels and
    /// annotations: kustomize applies some patches through a copy that
    /// rewrites those maps as strings (see `steps.rs`).
    Smp(Vec<(Value, Vec<MetaText>)>),
    Json(Vec<jsonpatch::Op>),
}

/// Documents of kind `…List` stand for their items, as in resource files.
pub fn expand_lists(docs: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for d in docs {
        let is_list = d
            .get("kind")
            .and_then(Value::as_str)
            .map(|k| k.ends_with("List"))
            .unwrap_or(false);
        match d.get("items") {
            Some(Value::Array(items)) if is_list => out.extend(expand_lists(items.clone())),
            _ => out.push(d),
        }
    }
    out
}

/// Strategic merge patch documents (`List`s expanded), with the source text
/// of their top-level labels and annotations.
pub fn parse_smp_docs(text: &str) -> Result<Vec<(Value, Vec<MetaText>)>, String> {
    let mut out = Vec::new();
    for (d, meta) in yamlread::parse_documents_with_meta(text)? {
        let is_list = d
            .get("kind")
            .and_then(Value::as_str)
            .map(|k| k.ends_with("List"))
            .unwrap_or(false);
        if is_list && d.get("items").map(Value::is_array).unwrap_or(false) {
            out.extend(expand_lists(vec![d]).into_iter().map(|x| (x, Vec::new())));
        } else {
            out.push((d, meta));
        }
    }
    Ok(out)
}

/// Parse patch text into strategic-merge documents or JSON 6902 operations.
pub fn parse_patch(text: &str) -> Result<Loaded, String> {
    // A patch read from a file keeps its text as is (a final block scalar
    // keeps its line break); inline patches arrive trimmed.
    let blank = text.trim().is_empty();
    const BOTH: &str = "the patch is empty, which reads as both a strategic merge patch and a JSON 6902 patch; give it content";
    if blank {
        return Err(BOTH.into());
    }
    // A list is a JSON 6902 patch, read as kustomize reads it (JSON, or
    // YAML with go-yaml v2 rules); anything else is strategic merge.
    if let Ok(v) = yaml::parse_lenient(text) {
        if let Value::Array(items) = &v {
            if items.is_empty() {
                return Err(BOTH.into());
            }
            return Ok(Loaded::Json(
                jsonpatch::parse_ops(&v).map_err(|e| format!("invalid JSON 6902 patch: {}", e))?,
            ));
        }
    }
    let docs = parse_smp_docs(text)?;
    if docs.is_empty() {
        return Err(BOTH.into());
    }
    // A strategic merge patch is an object: it needs a kind.
    if docs.iter().any(|(d, _)| {
        d.get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
    }) {
        return Err("unable to parse the patch: not a strategic merge patch (an object with a kind) nor a JSON 6902 patch (a list of operations)".into());
    }
    Ok(Loaded::Smp(docs))
}

fn patch_id(p: &Value) -> ResId {
    let s = |path: &str| {
        p.pointer(path)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    ResId {
        gvk: Gvk::from_api_version(&s("/apiVersion"), &s("/kind")),
        name: s("/metadata/name"),
        namespace: s("/metadata/namespace"),
    }
}

#[derive(Default, Clone, Copy)]
pub struct PatchOptions {
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// Apply one strategic merge patch to one object, keeping its name, kind and
/// namespace unless the options allow a change. Returns false when the patch
/// deleted the object.
fn apply_smp(r: &mut Resource, patch: &Value, opts: PatchOptions) -> Result<bool, String> {
    let (name, ns, kind) = (
        r.name().to_string(),
        r.namespace().to_string(),
        r.kind().to_string(),
    );
    if opts.allow_name_change || opts.allow_kind_change {
        r.store_previous_id();
    }
    let av = r.api_version().to_string();
    super::replacements::stringify_untyped(r);
    match strategic_merge(&r.obj, patch, &av, &kind).map_err(|e| e.to_string())? {
        SmpOutcome::Deleted => return Ok(false),
        SmpOutcome::Merged(v) => r.obj = v,
    }
    if r.is_empty() {
        return Ok(false);
    }
    if !opts.allow_kind_change {
        r.set_kind(&kind);
    }
    if !opts.allow_name_change {
        r.set_name(&name);
    }
    if ns.is_empty() {
        if let Some(md) = r.obj.get_mut("metadata").and_then(Value::as_object_mut) {
            md.remove("namespace");
        }
    } else {
        r.set_namespace(&ns);
    }
    Ok(true)
}

/// Apply a strategic merge patch found by its own id.
pub fn smp_by_id(list: &mut ResList, patch: &Value, opts: PatchOptions) -> Result<(), String> {
    let id = patch_id(patch);
    let idx = list.matching_any_id(|x| x.equals(&id));
    match idx.len() {
        1 => {
            let i = idx[0];
            if !apply_smp(&mut list.items[i], patch, opts)? {
                list.items.remove(i);
            }
            Ok(())
        }
        0 => Err(format!(
            "no resource matches strategic merge patch \"{} {}\" (apiVersion {}); check its kind, name and namespace",
            id.gvk.kind,
            display_name(&id),
            id.gvk.api_version()
        )),
        n => Err(format!(
            "{} resources match strategic merge patch \"{} {}\"; add a namespace to the patch",
            n,
            id.gvk.kind,
            display_name(&id)
        )),
    }
}

/// Apply a strategic merge patch to every selected object.
pub fn smp_selected(
    list: &mut ResList,
    sel: &Selector,
    patch: &Value,
    opts: PatchOptions,
) -> Result<(), String> {
    let idx = list.select(sel)?;
    let mut deleted = Vec::new();
    for i in idx {
        let mut p = patch.clone();
        // The patch takes the target's apiVersion so the target's schema applies.
        if let Some(m) = p.as_object_mut() {
            m.insert(
                "apiVersion".into(),
                Value::String(list.items[i].api_version().to_string()),
            );
        }
        if !apply_smp(&mut list.items[i], &p, opts)? {
            deleted.push(i);
        }
    }
    for i in deleted.into_iter().rev() {
        list.items.remove(i);
    }
    check_unique(list)
}

/// Apply JSON 6902 operations to every selected object.
pub fn json_selected(
    list: &mut ResList,
    sel: &Selector,
    ops: &[jsonpatch::Op],
) -> Result<(), String> {
    let idx = list.select(sel)?;
    for i in idx {
        let r = &mut list.items[i];
        r.store_previous_id();
        // kustomize patches objects that carry its internal annotations, so
        // `metadata.annotations` always exists for the patch, and anything
        // but a map there is replaced by them afterwards (then dropped).
        let md = crate::kustomize::resource::ensure_object(&mut r.obj)
            .entry("metadata".to_string())
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(m) = md {
            m.entry("annotations".to_string())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        let (kind, name) = (r.kind().to_string(), r.name().to_string());
        // kustomize rebuilds the object from JSON: no field shares a value
        // with another any more, and every scalar has a type again.
        r.aliases.clear();
        r.untyped.clear();
        jsonpatch::apply(&mut r.obj, ops)
            .map_err(|e| format!("JSON 6902 patch on {} '{}' failed: {}", kind, name, e))?;
        // The patch works on Go's JSON form of the object.
        super::scalar::json_float_roundtrip(&mut r.obj);
        if let Some(Value::Object(m)) = r.obj.get_mut("metadata") {
            if !m.get("annotations").map(Value::is_object).unwrap_or(true) {
                m.remove("annotations");
            }
        }
    }
    check_unique(list)
}

fn check_unique(list: &ResList) -> Result<(), String> {
    match list.duplicate_id() {
        Some(id) => Err(format!(
            "patch produced a duplicate id: {} {}",
            id.gvk.kind,
            display_name(&id)
        )),
        None => Ok(()),
    }
}

/// Options of a `patches` entry.
pub fn options_of(p: &Patch) -> PatchOptions {
    PatchOptions {
        allow_name_change: p.options.get("allowNameChange").copied().unwrap_or(false),
        allow_kind_change: p.options.get("allowKindChange").copied().unwrap_or(false),
    }
}
