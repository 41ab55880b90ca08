//! `crds:` — name references declared in OpenAPI definitions.
//!
//! kustomize reads files of OpenAPI definitions (a map from definition name,
//! e.g. `github.com/x/api/v1.MyKind`, to `{Schema, Dependencies}`). A root
//! definition (one whose schema has `kind` and `apiVersion` properties) names
//! a kind by the last dot-separated part of its name. Walking its properties
//! (following `$ref`s to other definitions in the file), a property carrying
//! `x-kubernetes-object-ref-kind` (and `-api-version`) holds a reference:
//! its `name` field (or the field `x-kubernetes-object-ref-name-key` names)
//! then follows renames of objects of that kind.

use serde_json::{Map, Value};

use super::fieldspec::{FieldSpec, NameBackRef, TransformerConfig};
use super::resource::Gvk;

pub fn config_from_crds(text: &str) -> Result<TransformerConfig, String> {
    let mut cfg = TransformerConfig::default();
    for doc in super::yaml::parse_documents(text)? {
        let Some(defs) = doc.as_object() else {
            return Err("expected a map of OpenAPI definitions".into());
        };
        for (name, def) in defs {
            // Either `{Schema: …}` wrappers or the schemas themselves.
            let schema = def
                .get("Schema")
                .or_else(|| def.get("schema"))
                .unwrap_or(def);
            let props = schema.get("properties").and_then(Value::as_object);
            let is_root = props
                .map(|p| p.contains_key("kind") && p.contains_key("apiVersion"))
                .unwrap_or(false);
            if !is_root {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name).to_string();
            let owner = Gvk {
                kind,
                ..Default::default()
            };
            collect(defs, schema, &owner, &mut Vec::new(), &mut cfg, 0);
        }
    }
    Ok(cfg)
}

fn collect(
    defs: &Map<String, Value>,
    schema: &Value,
    owner: &Gvk,
    path: &mut Vec<String>,
    cfg: &mut TransformerConfig,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        path.push(name.clone());
        if let Some(kind) = prop
            .get("x-kubernetes-object-ref-kind")
            .and_then(Value::as_str)
        {
            let av = prop
                .get("x-kubernetes-object-ref-api-version")
                .and_then(Value::as_str)
                .unwrap_or("");
            let target = Gvk::from_api_version(av, kind);
            let key = prop
                .get("x-kubernetes-object-ref-name-key")
                .and_then(Value::as_str)
                .unwrap_or("name");
            let spec = FieldSpec {
                kind: owner.kind.clone(),
                path: format!("{}/{}", path.join("/"), key),
                ..Default::default()
            };
            // Specs from one file cannot conflict: they all have create off.
            let _ = cfg.merge(&TransformerConfig {
                name_reference: vec![NameBackRef {
                    group: target.group,
                    version: target.version,
                    kind: target.kind,
                    field_specs: vec![spec],
                }],
                ..Default::default()
            });
        } else if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
            if let Some(sub) = defs
                .get(r)
                .map(|d| d.get("Schema").or_else(|| d.get("schema")).unwrap_or(d))
            {
                collect(defs, sub, owner, path, cfg, depth + 1);
            }
        } else {
            collect(defs, prop, owner, path, cfg, depth + 1);
        }
        path.pop();
    }
}
