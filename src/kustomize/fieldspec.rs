//! Field specs and the transformer configuration that holds them.
//!
//! A field spec names a slash-separated path inside objects of some gvk
//! (`spec/template/metadata/labels` in Deployments). Every transformer that
//! "touches the same field in many kinds" (labels, namespace, prefix, name
//! references, images, replicas, vars) is driven by a list of them, exactly as
//! in kustomize's built-in configuration, extended by `configurations:` files
//! and `crds:`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::builtins::DEFAULT_FIELD_SPECS;
use super::resource::Gvk;
pub use super::types::FieldSpec;
use super::value::{field, field_mut};

impl FieldSpec {
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
        }
    }

    /// Does this spec apply to objects of `gvk`?
    pub fn matches(&self, gvk: &Gvk) -> bool {
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }

    /// The path split into fields.
    pub fn path_parts(&self) -> &[String] {
        self.parts.get_or_init(|| split_path(&self.path))
    }
}

/// A kind whose name other objects refer to, and where they refer to it.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameBackRef {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub field_specs: Vec<FieldSpec>,
}

impl NameBackRef {
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// kustomize's TransformerConfig.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransformerConfig {
    #[serde(default)]
    pub name_prefix: Vec<FieldSpec>,
    #[serde(default)]
    pub name_suffix: Vec<FieldSpec>,
    #[serde(default)]
    pub namespace: Vec<FieldSpec>,
    #[serde(default)]
    pub common_labels: Vec<FieldSpec>,
    #[serde(default)]
    pub template_labels: Vec<FieldSpec>,
    #[serde(default)]
    pub common_annotations: Vec<FieldSpec>,
    #[serde(default)]
    pub name_reference: Vec<NameBackRef>,
    #[serde(default)]
    pub var_reference: Vec<FieldSpec>,
    #[serde(default)]
    pub images: Vec<FieldSpec>,
    #[serde(default)]
    pub replicas: Vec<FieldSpec>,
}

/// kustomize's FsSlice.MergeAll: an incoming spec is already present when
/// an existing one has the same path and a gvk it selects; a different
/// `create` there is a conflict.
fn merge_specs(into: &mut Vec<FieldSpec>, from: &[FieldSpec]) -> Result<(), String> {
    for fs in from {
        let present = into
            .iter()
            .find(|s| s.path == fs.path && s.gvk().is_selected_by(&fs.gvk()));
        match present {
            Some(s) if s.create != fs.create => {
                return Err(format!(
                "conflicting fieldspecs: path '{}' for kind '{}' is given with create {} and {}",
                fs.path, fs.kind, s.create, fs.create
            ))
            }
            Some(_) => {}
            None => into.push(fs.clone()),
        }
    }
    Ok(())
}

impl TransformerConfig {
    /// Nothing configured.
    pub fn is_empty(&self) -> bool {
        self.name_prefix.is_empty()
            && self.name_suffix.is_empty()
            && self.namespace.is_empty()
            && self.common_labels.is_empty()
            && self.template_labels.is_empty()
            && self.common_annotations.is_empty()
            && self.name_reference.is_empty()
            && self.var_reference.is_empty()
            && self.images.is_empty()
            && self.replicas.is_empty()
    }

    /// The configuration in force: the built-in one plus `custom` (from
    /// `configurations:` and `crds:` files of this level and the levels below).
    pub fn effective(
        custom: &TransformerConfig,
    ) -> Result<std::borrow::Cow<'static, TransformerConfig>, String> {
        if custom.is_empty() {
            return Ok(std::borrow::Cow::Borrowed(TransformerConfig::builtin()));
        }
        let mut c = TransformerConfig::builtin().clone();
        c.merge(custom)?;
        c.sort_fields();
        Ok(std::borrow::Cow::Owned(c))
    }

    /// The built-in configuration.
    pub fn builtin() -> &'static TransformerConfig {
        static BUILTIN: std::sync::OnceLock<TransformerConfig> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut c = parse_builtin(DEFAULT_FIELD_SPECS);
            c.sort_fields();
            c
        })
    }

    pub fn parse(text: &str) -> Result<TransformerConfig, String> {
        let v = super::yaml::parse_lenient(text)?;
        if v.is_null() {
            return Ok(TransformerConfig::default());
        }
        super::load::from_value_at(v)
    }

    /// Union with another configuration (specs deduplicated by gvk and path,
    /// name references merged per referred kind).
    pub fn merge(&mut self, o: &TransformerConfig) -> Result<(), String> {
        merge_specs(&mut self.name_prefix, &o.name_prefix)?;
        merge_specs(&mut self.name_suffix, &o.name_suffix)?;
        merge_specs(&mut self.namespace, &o.namespace)?;
        merge_specs(&mut self.common_labels, &o.common_labels)?;
        merge_specs(&mut self.template_labels, &o.template_labels)?;
        merge_specs(&mut self.common_annotations, &o.common_annotations)?;
        merge_specs(&mut self.var_reference, &o.var_reference)?;
        merge_specs(&mut self.images, &o.images)?;
        merge_specs(&mut self.replicas, &o.replicas)?;
        for nb in &o.name_reference {
            match self.name_reference.iter_mut().find(|x| x.gvk() == nb.gvk()) {
                Some(existing) => merge_specs(&mut existing.field_specs, &nb.field_specs)?,
                None => self.name_reference.push(nb.clone()),
            }
        }
        Ok(())
    }
}

fn sort_key(fs_group: &str, fs_version: &str, fs_kind: &str) -> (i64, String) {
    use super::builtins::{ORDER_FIRST, ORDER_LAST};
    let rank = if let Some(i) = ORDER_FIRST.iter().position(|k| *k == fs_kind) {
        -(ORDER_FIRST.len() as i64) + i as i64
    } else if let Some(i) = ORDER_LAST.iter().position(|k| *k == fs_kind) {
        1 + i as i64
    } else {
        0
    };
    let g = Gvk {
        group: fs_group.into(),
        version: fs_version.into(),
        kind: fs_kind.into(),
    };
    (rank, g.to_string())
}

impl TransformerConfig {
    /// kustomize sorts every spec list (and the name references) by kind
    /// rank, then `group_version_kind`.
    pub fn sort_fields(&mut self) {
        for l in [
            &mut self.name_prefix,
            &mut self.name_suffix,
            &mut self.namespace,
            &mut self.common_labels,
            &mut self.template_labels,
            &mut self.common_annotations,
            &mut self.var_reference,
            &mut self.images,
            &mut self.replicas,
        ] {
            l.sort_by_cached_key(|f| sort_key(&f.group, &f.version, &f.kind));
        }
        self.name_reference
            .sort_by_cached_key(|n| sort_key(&n.group, &n.version, &n.kind));
    }
}

/// A fast reader for the block-style subset of the configuration format that
/// the built-in table uses (every process needs it, and a general YAML parse
/// of it costs more than a typical build). A test checks it against the
/// general parser.
fn parse_builtin(text: &str) -> TransformerConfig {
    fn set(fs: &mut FieldSpec, key: &str, value: &str) {
        let value = value.trim().trim_matches('"').to_string();
        match key {
            "group" => fs.group = value,
            "version" => fs.version = value,
            "kind" => fs.kind = value,
            "path" => fs.path = value,
            "create" => fs.create = value == "true",
            _ => {}
        }
    }
    let mut cfg = TransformerConfig::default();
    let mut section = String::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let (item, body) = match body.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        let (key, value) = body
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .unwrap_or((body, ""));
        if indent == 0 && !item {
            section = key.to_string();
            continue;
        }
        let list: &mut Vec<FieldSpec> = match section.as_str() {
            "namePrefix" => &mut cfg.name_prefix,
            "nameSuffix" => &mut cfg.name_suffix,
            "namespace" => &mut cfg.namespace,
            "commonLabels" => &mut cfg.common_labels,
            "templateLabels" => &mut cfg.template_labels,
            "commonAnnotations" => &mut cfg.common_annotations,
            "varReference" => &mut cfg.var_reference,
            "images" => &mut cfg.images,
            "replicas" => &mut cfg.replicas,
            "nameReference" => {
                if indent == 0 && item {
                    cfg.name_reference.push(NameBackRef::default());
                }
                let Some(nb) = cfg.name_reference.last_mut() else {
                    continue;
                };
                if indent == 0 || (indent == 2 && !item) {
                    match key {
                        "group" => nb.group = value.to_string(),
                        "version" => nb.version = value.to_string(),
                        "kind" => nb.kind = value.to_string(),
                        _ => {}
                    }
                    continue;
                }
                if item {
                    nb.field_specs.push(FieldSpec::default());
                }
                if let Some(fs) = nb.field_specs.last_mut() {
                    set(fs, key, value);
                }
                continue;
            }
            _ => continue,
        };
        if item {
            list.push(FieldSpec::default());
        }
        if let Some(fs) = list.last_mut() {
            set(fs, key, value);
        }
    }
    cfg
}

/// Split a field-spec path on `/`, keeping `[...]` segments whole.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                cur.push('/');
            }
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '/' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// What to create when the last field of a path is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Create {
    No,
    Map,
    Scalar,
}

/// Walk `path` in `node`, calling `set` on each node it leads to. Sequences
/// met on the way are walked element by element. Missing fields are created
/// (maps on the way, `last` at the end) only when `create` allows it.
pub fn walk(
    node: &mut Value,
    path: &[String],
    create: Create,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if path.is_empty() {
        return set(node);
    }
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for it in items.iter_mut() {
                walk(it, path, create, set)?;
            }
            Ok(())
        }
        Value::Object(m) => {
            let (name, is_seq) = match path[0].strip_suffix("[]") {
                Some(n) => (n, true),
                None => (path[0].as_str(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let last = path.len() == 1;
            // One lookup decides; an insert over an existing key keeps its place.
            let fresh = match field(m, name) {
                None if create == Create::No || is_seq => return Ok(()),
                None if last && create == Create::Scalar => Some(Value::Null),
                None => Some(Value::Object(Map::new())),
                // A path that names a list turns a null there into an empty list.
                Some(Value::Null) if is_seq => Some(Value::Array(Vec::new())),
                Some(Value::Null)
                    if create != Create::No && !(last && create == Create::Scalar) =>
                {
                    Some(Value::Object(Map::new()))
                }
                Some(_) => None,
            };
            if let Some(v) = fresh {
                m.insert(name.to_string(), v);
            }
            match field_mut(m, name) {
                Some(child) => walk(child, &path[1..], create, set),
                None => Ok(()),
            }
        }
        _ => Err(format!(
            "expected sequence or mapping node at '{}'",
            path[0]
        )),
    }
}

/// Apply `set` at every spec in `specs` that matches the object's gvk.
pub fn apply_specs(
    obj: &mut Value,
    gvk: &Gvk,
    specs: &[FieldSpec],
    last: Create,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    for fs in specs {
        if !fs.matches(gvk) {
            continue;
        }
        let describe = |obj: &Value, e: String| {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!(
                "considering field '{}' of {} '{}': {}",
                fs.path, gvk.kind, name, e
            )
        };
        if fs.path_parts().is_empty() {
            return Err(describe(obj, "empty field path in the field spec".into()));
        }
        let create = if fs.create { last } else { Create::No };
        if let Err(e) = walk(obj, fs.path_parts(), create, set) {
            return Err(describe(obj, e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fast_builtin_reader_agrees_with_yaml_parser() {
        let v = crate::kustomize::yaml::parse_lenient(DEFAULT_FIELD_SPECS).unwrap();
        let general: TransformerConfig = serde_json::from_value(v).unwrap();
        let fast = parse_builtin(DEFAULT_FIELD_SPECS);
        let key = |l: &[FieldSpec]| -> Vec<(String, String, String, String, bool)> {
            l.iter()
                .map(|f| {
                    (
                        f.group.clone(),
                        f.version.clone(),
                        f.kind.clone(),
                        f.path.clone(),
                        f.create,
                    )
                })
                .collect()
        };
        for (a, b) in [
            (&general.name_prefix, &fast.name_prefix),
            (&general.name_suffix, &fast.name_suffix),
            (&general.namespace, &fast.namespace),
            (&general.common_labels, &fast.common_labels),
            (&general.template_labels, &fast.template_labels),
            (&general.common_annotations, &fast.common_annotations),
            (&general.var_reference, &fast.var_reference),
            (&general.images, &fast.images),
            (&general.replicas, &fast.replicas),
        ] {
            assert_eq!(key(a), key(b));
        }
        assert_eq!(general.name_reference.len(), fast.name_reference.len());
        for (a, b) in general.name_reference.iter().zip(&fast.name_reference) {
            assert_eq!(a.gvk(), b.gvk());
            assert_eq!(key(&a.field_specs), key(&b.field_specs));
        }
    }

    #[test]
    fn builtin_config_loads() {
        let c = TransformerConfig::builtin();
        assert!(!c.common_labels.is_empty());
        assert!(!c.name_reference.is_empty());
        assert!(!c.namespace.is_empty());
    }

    #[test]
    fn walks_sequences_and_creates_maps() {
        let mut v = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let path = split_path("spec/containers/env");
        walk(&mut v, &path, Create::Map, &mut |n| {
            *n = json!({"x": 1});
            Ok(())
        })
        .unwrap();
        assert_eq!(v["spec"]["containers"][1]["env"], json!({"x": 1}));
    }

    #[test]
    fn keeps_bracket_segments() {
        assert_eq!(split_path("a/[b/c]/d"), vec!["a", "[b/c]", "d"]);
    }
}
