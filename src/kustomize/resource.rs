//! One object and its identity.
//!
//! A [`Resource`] is the object body (`serde_json::Value`) plus the build
//! history kustomize keeps in internal annotations: the ids it had before
//! renames, the prefixes/suffixes applied, and generator flags. The history
//! lives in Rust fields, never in the body, so nothing has to be stripped on
//! output.

use serde_json::{Map, Value};
use std::fmt;

use super::builtins::CLUSTER_SCOPED_API_TYPES;

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
        CLUSTER_SCOPED_API_TYPES.iter().any(|(a, k)| {
            *k == self.kind
                && match a.rsplit_once('/') {
                    Some((g, v)) => g == self.group && v == self.version,
                    None => self.group.is_empty() && *a == self.version,
                }
        })
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
        if self.gvk.is_cluster_scoped() {
            NOT_A_NAMESPACE
        } else if self.namespace.is_empty() {
            DEFAULT_NAMESPACE
        } else {
            &self.namespace
        }
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// kustomize's `ResId.Equals`: same gvk, name and effective namespace.
    pub fn equals(&self, other: &ResId) -> bool {
        self.gvk == other.gvk && self.name == other.name && self.ns_equals(other)
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
        }
    }

    fn str_at(&self, path: &[&str]) -> &str {
        let mut v = &self.obj;
        for p in path {
            match v.get(p) {
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

    /// The id the object had when it entered the build.
    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Previous ids plus the current one.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut v = self.prev_ids.clone();
        v.push(self.cur_id());
        v
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

pub fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}
