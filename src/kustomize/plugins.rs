//! Builtin plugin configurations: the objects listed under `generators:` and
//! `transformers:` (`apiVersion: builtin`, `kind: LabelTransformer`, …). Each
//! runs the same step the matching kustomization field runs, configured by
//! the object instead (its own `fieldSpecs`, for instance). Plugins that are
//! not builtin (exec, Go, KRM functions) are refused.

use serde_json::Value;
use std::collections::BTreeMap;

use super::fieldspec::TransformerConfig;
use super::generators::{self, SourceLoader};
use super::load::{from_value_at, RootLoader};
use super::reslist::ResList;
use super::steps;
use super::transformers;
use super::types::{GeneratorArgs, Image, Patch, ReplacementField, Replica, Selector};

fn describe(cfg: &Value) -> String {
    let kind = cfg.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = cfg
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        kind.to_string()
    } else {
        format!("{} '{}'", kind, name)
    }
}

fn builtin_kind(cfg: &Value) -> Result<&str, String> {
    let api = cfg.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = cfg.get("kind").and_then(Value::as_str).unwrap_or("");
    if api != "builtin" {
        return Err(format!(
            "plugin {} (apiVersion '{}') is not supported: only builtin plugins (apiVersion: builtin) can run",
            describe(cfg),
            api
        ));
    }
    Ok(kind)
}

fn field<T: serde::de::DeserializeOwned + Default>(cfg: &Value, key: &str) -> Result<T, String> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => from_value_at(v.clone()).map_err(|e| format!("{}: {}", key, e)),
    }
}

fn string_map(cfg: &Value, key: &str) -> Result<BTreeMap<String, String>, String> {
    field(cfg, key)
}

/// Run one generator configuration; the objects it makes are absorbed into
/// the list like those of `configMapGenerator`/`secretGenerator`.
pub fn generate(
    list: &mut ResList,
    cfg: &Value,
    ldr: &RootLoader,
    origin: &str,
) -> Result<(), String> {
    let kind = builtin_kind(cfg)?;
    let secret = match kind {
        "ConfigMapGenerator" => false,
        "SecretGenerator" => true,
        other => return Err(format!("builtin generator '{}' is not supported", other)),
    };
    // The generator's arguments sit at the top level, with the name and
    // namespace in `metadata`.
    let mut args_obj = cfg.as_object().cloned().unwrap_or_default();
    for k in ["apiVersion", "kind", "metadata"] {
        args_obj.remove(k);
    }
    if let Some(n) = cfg.pointer("/metadata/name") {
        args_obj.insert("name".into(), n.clone());
    }
    if let Some(ns) = cfg.pointer("/metadata/namespace") {
        args_obj.insert("namespace".into(), ns.clone());
    }
    let args: GeneratorArgs =
        from_value_at(Value::Object(args_obj)).map_err(|e| format!("{}: {}", describe(cfg), e))?;
    let r = generators::generate(&args, secret, None, ldr as &dyn SourceLoader, origin)
        .map_err(|e| format!("{}: {}", describe(cfg), e))?;
    list.absorb(r)
}

/// Run one transformer configuration over the list.
pub fn transform(list: &mut ResList, cfg: &Value, ldr: &RootLoader) -> Result<(), String> {
    let kind = builtin_kind(cfg)?;
    let what = describe(cfg);
    let at = |e: String| format!("{}: {}", what, e);
    let specs = steps::field_specs(cfg).map_err(at)?;
    match kind {
        "NamespaceTransformer" => {
            let ns = cfg
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            let c = TransformerConfig {
                namespace: specs,
                ..Default::default()
            };
            transformers::namespace(list, ns, &c).map_err(at)
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let prefix: String = field(cfg, "prefix").map_err(at)?;
            let suffix: String = field(cfg, "suffix").map_err(at)?;
            let c = TransformerConfig {
                name_prefix: specs.clone(),
                name_suffix: specs,
                ..Default::default()
            };
            transformers::prefix_suffix(list, &prefix, &suffix, &c).map_err(at)
        }
        "LabelTransformer" => {
            let labels = string_map(cfg, "labels").map_err(at)?;
            transformers::set_entries(list, &labels, &specs).map_err(at)
        }
        "AnnotationsTransformer" => {
            let annotations = string_map(cfg, "annotations").map_err(at)?;
            transformers::set_entries(list, &annotations, &specs).map_err(at)
        }
        "ImageTagTransformer" => {
            let image: Image = field(cfg, "imageTag").map_err(at)?;
            let c = TransformerConfig {
                images: specs,
                ..Default::default()
            };
            transformers::images(list, std::slice::from_ref(&image), &c).map_err(at)
        }
        "ReplicaCountTransformer" => {
            let replica: Replica = field(cfg, "replica").map_err(at)?;
            let c = TransformerConfig {
                replicas: specs,
                ..Default::default()
            };
            transformers::replicas(list, std::slice::from_ref(&replica), &c).map_err(at)
        }
        "PatchTransformer" => {
            let p = Patch {
                path: field(cfg, "path").map_err(at)?,
                patch: field(cfg, "patch").map_err(at)?,
                target: field::<Option<Selector>>(cfg, "target").map_err(at)?,
                options: field(cfg, "options").map_err(at)?,
            };
            steps::patch(list, &p, ldr).map_err(at)
        }
        "PatchStrategicMergeTransformer" => {
            let mut entries: Vec<String> = field(cfg, "paths").map_err(at)?;
            let inline: String = field(cfg, "patches").map_err(at)?;
            if !inline.trim().is_empty() {
                entries.push(inline);
            }
            steps::strategic_merge_entries(list, &entries, ldr).map_err(at)
        }
        "PatchJson6902Transformer" => {
            let target: Option<Selector> = field(cfg, "target").map_err(at)?;
            let path: String = field(cfg, "path").map_err(at)?;
            let ops: String = field(cfg, "jsonOp").map_err(at)?;
            steps::json6902(list, target.as_ref(), &path, &ops, ldr).map_err(at)
        }
        "ReplacementTransformer" => {
            let reps: Vec<ReplacementField> = field(cfg, "replacements").map_err(at)?;
            steps::replacements(list, &reps, ldr).map_err(at)
        }
        other => Err(format!("builtin transformer '{}' is not supported", other)),
    }
}
