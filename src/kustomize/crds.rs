//! `crds:` — field specs declared by custom resource definitions.
//!
//! kustomize reads OpenAPI definitions whose properties carry
//! `x-kubernetes-object-ref-kind` (and `-api-version`): such a property holds
//! the name of an object of that kind, so a rename of that object follows
//! into it. Definitions are matched to kinds by their
//! `x-kubernetes-group-version-kind` entry.

use serde_json::Value;

use super::fieldspec::{FieldSpec, NameBackRef, TransformerConfig};
use super::resource::Gvk;

pub fn config_from_crds(text: &str) -> Result<TransformerConfig, String> {
    let mut cfg = TransformerConfig::default();
    for doc in super::yaml::parse_documents(text)? {
        let defs: Vec<(&String, &Value)> = match doc.get("definitions").and_then(Value::as_object) {
            Some(d) => d.iter().collect(),
            None => doc.as_object().map(|m| m.iter().collect()).unwrap_or_default(),
        };
        for (_, def) in defs {
            let gvk = match def.get("x-kubernetes-group-version-kind").and_then(|v| v.get(0).or(Some(v))) {
                Some(g) => Gvk {
                    group: g.get("group").and_then(Value::as_str).unwrap_or("").to_string(),
                    version: g.get("version").and_then(Value::as_str).unwrap_or("").to_string(),
                    kind: g.get("kind").and_then(Value::as_str).unwrap_or("").to_string(),
                },
                None => continue,
            };
            collect(def, &gvk, &mut Vec::new(), &mut cfg);
        }
    }
    Ok(cfg)
}

fn collect(schema: &Value, owner: &Gvk, path: &mut Vec<String>, cfg: &mut TransformerConfig) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
    for (name, prop) in props {
        path.push(name.clone());
        if let Some(kind) = prop.get("x-kubernetes-object-ref-kind").and_then(Value::as_str) {
            let av = prop.get("x-kubernetes-object-ref-api-version").and_then(Value::as_str).unwrap_or("");
            let target = Gvk::from_api_version(av, kind);
            let spec = FieldSpec {
                group: owner.group.clone(),
                version: owner.version.clone(),
                kind: owner.kind.clone(),
                path: path.join("/"),
                ..Default::default()
            };
            cfg.merge(&TransformerConfig {
                name_reference: vec![NameBackRef {
                    group: target.group,
                    version: target.version,
                    kind: target.kind,
                    field_specs: vec![spec],
                }],
                ..Default::default()
            });
        }
        collect(prop, owner, path, cfg);
        path.pop();
    }
}
