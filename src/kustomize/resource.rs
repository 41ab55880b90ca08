//! One object and its identity.
//!
//! A [`Resource`] is the object body (`serde_json::Value`) plus the build
//! history kustomize keeps in internal annotations: the ids it had before
//! renames, the prefixes/suffixes applied, and generator flags. The history
//! lives in Rust fields, never in the body, so nothing has to be stripped on
//! output.

use serde_json::{Map, Value};
use std::fmt;

use super::builtins::{CLUSTER_SCOPED_API_TYPES, CLUSTER_SCOPED_KINDS};
use super::value::field;

/// Group, version, kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_string(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Types that are never namespaced: kustomize decides by exact
    /// apiVersion and kind.
    pub fn is_cluster_scoped(&self) -> bool {
        cluster_scoped(&self.group, &self.version, &self.kind)
    }

    /// Does `selector` (with empty fields meaning "any") select this gvk?
    pub fn is_selected_by(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = if self.group.is_empty() {
            "~G"
        } else {
            &self.group
        };
        let v = if self.version.is_empty() {
            "~V"
        } else {
            &self.version
        };
        let k = if self.kind.is_empty() {
            "~K"
        } else {
            &self.kind
        };
        write!(f, "{}_{}_{}", g, v, k)
    }
}

/// Is `group/version kind` one of kustomize's cluster-scoped types? Asked for
/// every pair of objects in some steps, so the kind is looked up first.
pub fn cluster_scoped(group: &str, version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED_KINDS.binary_search(&kind).is_ok()
        && CLUSTER_SCOPED_API_TYPES.iter().any(|(a, k)| {
            *k == kind
                && match a.rsplit_once('/') {
                    Some((g, v)) => g == group && v == version,
                    None => group.is_empty() && *a == version,
                }
        })
}

/// The namespace used for comparisons: cluster-scoped kinds have none, and
/// an empty namespace means `default`.
fn effective_namespace<'a>(group: &str, version: &str, kind: &str, namespace: &'a str) -> &'a str {
    if cluster_scoped(group, version, kind) {
        NOT_A_NAMESPACE
    } else if namespace.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        namespace
    }
}

/// An object's id borrowed from its body or from a [`ResId`], for the
/// comparisons that run over every object without copying names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdRef<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
}

impl<'a> IdRef<'a> {
    pub fn effective_namespace(&self) -> &'a str {
        effective_namespace(self.group, self.version, self.kind, self.namespace)
    }

    /// [`ResId::equals`] for a borrowed id.
    pub fn equals(&self, other: &ResId) -> bool {
        self.gvkn_equals(other)
            && (self.namespace == other.namespace
                || self.effective_namespace() == other.effective_namespace())
    }

    /// [`ResId::gvkn_equals`] for a borrowed id.
    pub fn gvkn_equals(&self, other: &ResId) -> bool {
        self.name == other.name
            && self.kind == other.gvk.kind
            && self.group == other.gvk.group
            && self.version == other.gvk.version
    }

    /// [`Gvk::is_selected_by`] for a borrowed id.
    pub fn is_selected_by(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }
}

impl<'a> From<&'a ResId> for IdRef<'a> {
    fn from(id: &'a ResId) -> IdRef<'a> {
        IdRef {
            group: &id.gvk.group,
            version: &id.gvk.version,
            kind: &id.gvk.kind,
            name: &id.name,
            namespace: &id.namespace,
        }
    }
}

/// Identity of an object: gvk, name, namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

pub const DEFAULT_NAMESPACE: &str = "default";
const NOT_A_NAMESPACE: &str = "_non_namespaceable_";

impl ResId {
    /// The namespace used for comparisons: cluster-scoped kinds have none,
    /// and an empty namespace means `default`.
    pub fn effective_namespace(&self) -> &str {
        IdRef::from(self).effective_namespace()
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// kustomize's `ResId.Equals`: same gvk, name and effective namespace.
    pub fn equals(&self, other: &ResId) -> bool {
        // Same gvk, so same scope: equal namespaces are equal effective ones.
        self.gvk == other.gvk
            && self.name == other.name
            && (self.namespace == other.namespace || self.ns_equals(other))
    }

    /// The same without the namespace.
    pub fn gvkn_equals(&self, other: &ResId) -> bool {
        self.gvk == other.gvk && self.name == other.name
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.namespace.is_empty() {
            "~X"
        } else {
            &self.namespace
        };
        let name = if self.name.is_empty() {
            "~N"
        } else {
            &self.name
        };
        write!(f, "{}|{}|{}", self.gvk, ns, name)
    }
}

/// How a generated object combines with one of the same id from a lower layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

/// One object in a build.
#[derive(Clone, Debug)]
pub struct Resource {
    pub obj: Value,
    /// Ids this object had before renames, oldest first.
    pub prev_ids: Vec<ResId>,
    /// Name prefixes and suffixes applied, outermost last.
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Generator options.
    pub behavior: Behavior,
    pub needs_hash: bool,
    /// Where the object came from (file, or the generator's kustomization).
    pub origin: String,
    /// Vars whose value this object provides.
    pub ref_vars: Vec<String>,
    /// `buildMetadata`: where the object came from, and the transformers
    /// that ran over it (each already in the annotation's YAML form).
    pub origin_note: Option<String>,
    pub transformations: Vec<String>,
    /// Fields that share one value, as in kustomize (see [`AliasGroup`]).
    pub aliases: Vec<AliasGroup>,
    /// JSON pointers to scalars a replacement created: untagged in
    /// kustomize, so a later replacement may write any text into them.
    pub untyped: Vec<String>,
}

/// Fields of one object that hold the same value node in kustomize. A label
/// or annotation transformer adds a missing key to every field it targets
/// (metadata, selectors, templates) as one shared YAML node, and later
/// in-place edits of any of them (another label transformer on an existing
/// key, a strategic merge patch, a replacement) show in all of them, until a
/// JSON patch rebuilds the object. The build reproduces that: each group
/// remembers its value, and after every step a member whose value changed
/// passes the change on to the others.
#[derive(Clone, Debug)]
pub struct AliasGroup {
    /// JSON pointers to the fields.
    pub paths: Vec<String>,
    pub value: Value,
}

impl Resource {
    pub fn new(obj: Value, origin: impl Into<String>) -> Resource {
        Resource {
            obj,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: Behavior::Create,
            needs_hash: false,
            origin: origin.into(),
            ref_vars: Vec::new(),
            origin_note: None,
            transformations: Vec::new(),
            aliases: Vec::new(),
            untyped: Vec::new(),
        }
    }

    /// Pass a change of one aliased field on to the fields that share its
    /// value; forget fields that no longer exist.
    pub fn sync_aliases(&mut self) {
        if self.aliases.is_empty() {
            return;
        }
        let mut groups = std::mem::take(&mut self.aliases);
        for g in groups.iter_mut() {
            let mut changed = None;
            g.paths.retain(|p| match self.obj.pointer(p) {
                None => false,
                Some(v) => {
                    if changed.is_none() && *v != g.value {
                        changed = Some(v.clone());
                    }
                    true
                }
            });
            if let Some(v) = changed {
                for p in &g.paths {
                    if let Some(slot) = self.obj.pointer_mut(p) {
                        *slot = v.clone();
                    }
                }
                g.value = v;
            }
        }
        groups.retain(|g| g.paths.len() > 1);
        self.aliases = groups;
    }

    fn str_at(&self, path: &[&str]) -> &str {
        let mut v = &self.obj;
        for p in path {
            match v.as_object().and_then(|m| field(m, p)) {
                Some(x) => v = x,
                None => return "",
            }
        }
        v.as_str().unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }
    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    pub fn cur_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// `cur_id().equals(&other.cur_id())` without building the ids.
    pub fn same_cur_id(&self, other: &Resource) -> bool {
        if self.name() != other.name()
            || self.kind() != other.kind()
            || self.api_version() != other.api_version()
        {
            return false;
        }
        let eff = |r: &Resource| -> bool {
            let ns = r.namespace();
            ns.is_empty() || ns == DEFAULT_NAMESPACE
        };
        let (a, b) = (self.namespace(), other.namespace());
        a == b || (eff(self) && eff(other)) || self.gvk().is_cluster_scoped()
    }

    /// [`Resource::cur_id`] borrowed from the body.
    pub fn cur_ref(&self) -> IdRef<'_> {
        let (group, version) = match self.api_version().rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version()),
        };
        IdRef {
            group,
            version,
            kind: self.kind(),
            name: self.name(),
            namespace: self.namespace(),
        }
    }

    /// [`Resource::org_id`] borrowed.
    pub fn org_ref(&self) -> IdRef<'_> {
        self.prev_ids
            .first()
            .map(IdRef::from)
            .unwrap_or_else(|| self.cur_ref())
    }

    /// The id the object had when it entered the build.
    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Remember the current id before a rename (kustomize's StorePreviousId).
    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        self.prev_ids.push(id);
    }

    fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = ensure_object(&mut self.obj);
        let md = obj
            .entry("metadata".to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        ensure_object(md)
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_string()));
    }

    pub fn set_namespace(&mut self, ns: &str) {
        self.metadata_mut()
            .insert("namespace".into(), Value::String(ns.to_string()));
    }

    pub fn set_kind(&mut self, kind: &str) {
        ensure_object(&mut self.obj).insert("kind".into(), Value::String(kind.to_string()));
    }

    pub fn labels(&self) -> Map<String, Value> {
        self.obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    pub fn annotations(&self) -> Map<String, Value> {
        self.obj
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// A resource deleted by a `$patch: delete` or emptied by a patch.
    pub fn is_empty(&self) -> bool {
        match &self.obj {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        }
    }
}

/// Every string in `v` that `want` picks, with its JSON pointer (RFC 6901),
/// found on a read-only walk that builds pointers only for the hits. The
/// steps that mark fields with a placeholder string find them again here.
pub fn find_strings(v: &Value, want: &dyn Fn(&str) -> bool) -> Vec<(String, String)> {
    enum Seg<'a> {
        Key(&'a str),
        Index(usize),
    }
    fn walk<'a>(
        v: &'a Value,
        path: &mut Vec<Seg<'a>>,
        want: &dyn Fn(&str) -> bool,
        out: &mut Vec<(String, String)>,
    ) {
        match v {
            Value::String(s) if want(s) => {
                let mut pointer = String::new();
                for seg in path.iter() {
                    pointer.push('/');
                    match seg {
                        Seg::Key(k) if k.contains(['~', '/']) => {
                            pointer.push_str(&k.replace('~', "~0").replace('/', "~1"))
                        }
                        Seg::Key(k) => pointer.push_str(k),
                        Seg::Index(n) => pointer.push_str(&n.to_string()),
                    }
                }
                out.push((pointer, s.clone()));
            }
            Value::Object(m) => {
                for (k, child) in m {
                    if child.is_object() || child.is_array() || child.is_string() {
                        path.push(Seg::Key(k));
                        walk(child, path, want, out);
                        path.pop();
                    }
                }
            }
            Value::Array(items) => {
                for (n, child) in items.iter().enumerate() {
                    path.push(Seg::Index(n));
                    walk(child, path, want, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), want, &mut out);
    out
}

pub fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}
