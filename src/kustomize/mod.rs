//! The kustomize engine: builds kustomization directories as kustomize v5.5
//! does. See ARCHITECTURE.md for the layers and their invariants.

pub mod build;
pub mod builtins;
pub mod crds;
mod fastyaml;
pub mod fieldspec;
pub mod fs;
pub mod generators;
pub mod jsonpatch;
pub mod load;
pub mod nameref;
pub mod order;
pub mod patches;
pub mod plugins;
pub mod replacements;
pub mod reslist;
pub mod resource;
pub mod scalar;
pub mod smp;
pub mod steps;
pub mod transformers;
pub mod types;
mod value;
pub mod vars;
pub mod yaml;
pub mod yamlread;

pub use build::{build, build_with_warnings, Built};
pub use resource::Resource;

/// A build failure: one line naming the file (and key) and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// Output format of a build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// Render objects as `kubectl kustomize` prints them (YAML), or as one JSON
/// `List`.
pub fn render(items: &[Resource], format: Format) -> String {
    match format {
        Format::Yaml => yaml::to_yaml_stream(items.iter().map(|r| &r.obj)),
        Format::Json => {
            let list = serde_json::json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": items.iter().map(|r| r.obj.clone()).collect::<Vec<_>>(),
            });
            let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}
