//! The field-spec driven transformers: namespace, name prefix/suffix, labels,
//! annotations, images, replicas. Each is one function over the list, in the
//! order kustomize runs them (see `build.rs`).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::builtins::PREFIX_SUFFIX_SKIP;
use super::fieldspec::{apply_specs, Create, FieldSpec, TransformerConfig};
use super::reslist::{GoRegex, ResList};
use super::resource::{find_strings, AliasGroup, Gvk};
use super::types::{Image, Replica};

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `namespace:` — set metadata.namespace on namespaced objects, the extra
/// namespace fields of the config, and `default` ServiceAccount subjects of
/// role bindings.
pub fn namespace(list: &mut ResList, ns: &str, cfg: &TransformerConfig) -> Result<(), String> {
    if ns.is_empty() {
        return Ok(());
    }
    let specs: Vec<FieldSpec> = cfg
        .namespace
        .iter()
        .filter(|fs| fs.path != "metadata/namespace")
        .cloned()
        .collect();
    for i in 0..list.items.len() {
        let r = &mut list.items[i];
        if r.is_empty() {
            continue;
        }
        r.store_previous_id();
        let gvk = r.gvk();
        // A Namespace's own name follows only for the core v1 Namespace.
        let core_v1 = r.api_version() == "v1";
        let specs_here: Vec<FieldSpec>;
        let specs = if core_v1 {
            &specs
        } else {
            specs_here = specs
                .iter()
                .filter(|fs| fs.path != "metadata/name")
                .cloned()
                .collect();
            &specs_here
        };
        apply_specs(&mut r.obj, &gvk, specs, Create::Scalar, &mut |n| {
            if n.is_object() || n.is_array() {
                return Err("expected a scalar (a namespace name)".into());
            }
            *n = Value::String(ns.to_string());
            Ok(())
        })?;
        if !gvk.is_cluster_scoped() {
            r.set_namespace(ns);
        }
        if gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding" {
            if let Some(Value::Array(subjects)) = r.obj.get_mut("subjects") {
                for s in subjects.iter_mut() {
                    if s.get("name").and_then(Value::as_str) == Some("default") {
                        if let Some(m) = s.as_object_mut() {
                            m.insert("namespace".into(), Value::String(ns.to_string()));
                        }
                    }
                }
            }
        }
    }
    if let Some(id) = list.duplicate_id() {
        return Err(format!(
            "namespace transformation produces ID conflict: two {} objects named '{}' in namespace '{}'",
            id.gvk.kind, id.name, ns
        ));
    }
    Ok(())
}

fn skip_prefix_suffix(gvk: &Gvk) -> bool {
    PREFIX_SUFFIX_SKIP
        .iter()
        .any(|(g, k)| gvk.kind == *k && (g.is_empty() || gvk.group == *g))
}

/// `namePrefix:` / `nameSuffix:`.
pub fn prefix_suffix(
    list: &mut ResList,
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) -> Result<(), String> {
    for (affix, is_prefix) in [(prefix, true), (suffix, false)] {
        if affix.is_empty() {
            continue;
        }
        let specs = if is_prefix {
            &cfg.name_prefix
        } else {
            &cfg.name_suffix
        };
        for r in list.items.iter_mut() {
            let org = r.org_id();
            if skip_prefix_suffix(&org.gvk) {
                continue;
            }
            for fs in specs {
                if !fs.matches(&org.gvk) {
                    continue;
                }
                if fs.path == "metadata/name" {
                    r.store_previous_id();
                    if is_prefix {
                        r.prefixes.push(affix.to_string());
                    } else {
                        r.suffixes.push(affix.to_string());
                    }
                }
                let gvk = r.gvk();
                apply_specs(
                    &mut r.obj,
                    &gvk,
                    std::slice::from_ref(fs),
                    Create::Scalar,
                    &mut |n| {
                        if n.is_object() || n.is_array() {
                            return Err("expected a scalar (a name)".into());
                        }
                        let cur = scalar_string(n).unwrap_or_default();
                        *n = Value::String(if is_prefix {
                            format!("{}{}", affix, cur)
                        } else {
                            format!("{}{}", cur, affix)
                        });
                        Ok(())
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// Set string entries in every map the specs lead to (labels, annotations).
pub fn set_entries(
    list: &mut ResList,
    entries: &BTreeMap<String, String>,
    specs: &[FieldSpec],
) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    // Keys are written as plain YAML: one that reads back as a number, a
    // boolean or null cannot be a JSON key.
    for k in entries.keys() {
        if !super::yamlread::plain_reads_as_string(k) {
            return Err(format!(
                "key '{}' would be read back as a non-string; choose another key",
                k
            ));
        }
    }
    let keys: Vec<(&String, &String)> = entries.iter().collect();
    for r in list.items.iter_mut() {
        let gvk = r.gvk();
        // A key missing from a field is added as a marker first, so that
        // the fields that get it can be found and linked (see AliasGroup).
        let (mut added, mut changed) = (0, false);
        apply_specs(&mut r.obj, &gvk, specs, Create::Map, &mut |n| {
            if n.is_null() {
                *n = Value::Object(Map::new());
            }
            match n {
                Value::Object(m) => {
                    for (i, (k, v)) in keys.iter().enumerate() {
                        let value = match m.get(k.as_str()) {
                            // Reached twice in one pass: still the new entry.
                            Some(Value::String(cur)) if *cur == new_entry_marker(i) => continue,
                            Some(old) => {
                                changed |= old.as_str() != Some(v.as_str());
                                (*v).clone()
                            }
                            None => {
                                added += 1;
                                new_entry_marker(i)
                            }
                        };
                        m.insert((*k).clone(), Value::String(value));
                    }
                    Ok(())
                }
                _ => Err("expected a mapping".to_string()),
            }
        })?;
        let mut fresh: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
        if added > 0 {
            collect_markers(&mut r.obj, &keys, &mut fresh);
        }
        if changed {
            r.sync_aliases();
        }
        for (paths, (_, v)) in fresh.into_iter().zip(&keys) {
            if paths.len() > 1 {
                r.aliases.push(AliasGroup {
                    paths,
                    value: Value::String((*v).clone()),
                });
            }
        }
    }
    Ok(())
}

/// Stands for the value of the `i`th key where that key is new; never
/// reaches output ([`collect_markers`] replaces it).
fn new_entry_marker(i: usize) -> String {
    format!("{}{}\u{0}", NEW_ENTRY, i)
}

const NEW_ENTRY: &str = "\u{0}kfp-aws new entry ";

/// Replace every marker with its key's value, noting where it was.
fn collect_markers(v: &mut Value, keys: &[(&String, &String)], out: &mut [Vec<String>]) {
    for (pointer, marker) in find_strings(v, &|s| s.starts_with(NEW_ENTRY)) {
        let index = marker[NEW_ENTRY.len()..]
            .trim_end_matches('\u{0}')
            .parse::<usize>();
        let Some(i) = index.ok().filter(|&i| i < keys.len()) else {
            continue;
        };
        if let Some(slot) = v.pointer_mut(&pointer) {
            *slot = Value::String(keys[i].1.clone());
        }
        out[i].push(pointer);
    }
}

/// Split an image reference into name, tag and digest as kustomize does.
pub fn split_image(image: &str) -> (String, String, String) {
    let (search, offset) = match image.find('/') {
        Some(i) if i > 0 => (&image[i..], i),
        _ => (image, 0),
    };
    let id = search.find('@');
    let ic = search.find(':');
    match (id, ic) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (Some(d), c) if c.map(|c| d < c).unwrap_or(true) => {
            let d = d + offset;
            (
                image[..d].to_string(),
                String::new(),
                image[d + 1..].to_string(),
            )
        }
        (Some(d), Some(c)) => {
            let (d, c) = (d + offset, c + offset);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (None, Some(c)) => {
            let c = c + offset;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        _ => (image.to_string(), String::new(), String::new()),
    }
}

struct ImageUpdater<'a> {
    img: &'a Image,
    pattern: ImagePattern,
}

/// Which image fields an `images:` entry changes. kustomize compiles
/// `^<name>(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$` as a regular
/// expression. Names are nearly always letters, digits, `-_/:@` and dots, and
/// a dot matches any one character but a line break, so such names are
/// matched here without building a regex; any other name goes to the
/// regex engine.
enum ImagePattern {
    Plain(Vec<char>),
    /// The compiled pattern, or why the name is no regex (kustomize
    /// crashes on such a name once it meets an image).
    Regex(Result<GoRegex, String>),
}

impl ImagePattern {
    fn new(name: &str) -> ImagePattern {
        if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/:@.".contains(c))
        {
            return ImagePattern::Plain(name.chars().collect());
        }
        ImagePattern::Regex(
            GoRegex::new(&format!(
                "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
                super::reslist::go_regex(name)
            ))
            .map_err(|e| {
                format!(
                    "the name is matched as a regular expression and is not one: {}",
                    e
                )
            }),
        )
    }

    fn is_match(&self, value: &str) -> Result<bool, String> {
        match self {
            ImagePattern::Regex(re) => re.as_ref().map(|p| p.is_match(value)).map_err(Clone::clone),
            ImagePattern::Plain(name) => {
                let mut chars = value.char_indices();
                for want in name {
                    match chars.next() {
                        Some((_, c)) if *want == '.' && c != '\n' => {}
                        Some((_, c)) if c == *want => {}
                        _ => return Ok(false),
                    }
                }
                let rest = chars.next().map(|(i, _)| &value[i..]).unwrap_or("");
                Ok(tag_and_digest_only(rest))
            }
        }
    }
}

/// `(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`: the runs cannot hold
/// `:` or `@`, so matching each part greedily decides the regex.
fn tag_and_digest_only(rest: &str) -> bool {
    let run = |s: &str| {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || "_.{}-".contains(c)))
            .unwrap_or(s.len())
    };
    let mut r = rest;
    if let Some(t) = r.strip_prefix(':') {
        r = &t[run(t)..];
    }
    if let Some(d) = r.strip_prefix("@sha256:") {
        r = &d[run(d)..];
    }
    r.is_empty()
}

impl<'a> ImageUpdater<'a> {
    fn new(img: &'a Image) -> ImageUpdater<'a> {
        ImageUpdater {
            img,
            pattern: ImagePattern::new(&img.name),
        }
    }

    fn update(&self, n: &mut Value) -> Result<(), String> {
        // kustomize reads the scalar's text, whatever its type.
        let text = match n {
            Value::String(s) => s.clone(),
            Value::Number(num) => super::yaml::format_number(num),
            Value::Object(_) | Value::Array(_) => {
                return Err("an image field holds a list or a map, not an image name".into())
            }
            _ => return Ok(()),
        };
        let value = text.as_str();
        if !self.pattern.is_match(value)? {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split_image(value);
        if !self.img.new_name.is_empty() {
            name = self.img.new_name.clone();
        }
        if !self.img.new_tag.is_empty() && !self.img.digest.is_empty() {
            tag = self.img.new_tag.clone();
            digest = self.img.digest.clone();
        } else if !self.img.new_tag.is_empty() {
            tag = self.img.new_tag.clone();
            digest.clear();
        } else if !self.img.digest.is_empty() {
            tag.clear();
            digest = self.img.digest.clone();
        }
        if !self.img.tag_suffix.is_empty() {
            tag.push_str(&self.img.tag_suffix);
        }
        let mut out = name;
        if !tag.is_empty() {
            out.push(':');
            out.push_str(&tag);
        }
        if !digest.is_empty() {
            out.push('@');
            out.push_str(&digest);
        }
        *n = Value::String(out);
        Ok(())
    }

    /// The legacy pass: every `image` in any `containers`/`initContainers`
    /// list anywhere in the object.
    fn legacy(&self, v: &mut Value) -> Result<(), String> {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    if (k == "containers" || k == "initContainers") && child.is_array() {
                        if let Value::Array(items) = child {
                            for it in items.iter_mut() {
                                if let Some(img) = it.get_mut("image") {
                                    self.update(img)?;
                                }
                            }
                        }
                    }
                    self.legacy(child)?;
                }
            }
            Value::Array(items) => {
                for it in items.iter_mut() {
                    self.legacy(it)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `images:` — one pass per image entry, legacy walk then field specs.
pub fn images(list: &mut ResList, images: &[Image], cfg: &TransformerConfig) -> Result<(), String> {
    for img in images {
        let up = ImageUpdater::new(img);
        let in_entry = |e: String| format!("{}: {}", img.name, e);
        for r in list.items.iter_mut() {
            if r.kind() != "CustomResourceDefinition" {
                // Only image fields change, so the kind and name read after
                // a failure are the ones the walk saw.
                let res = up.legacy(&mut r.obj);
                res.map_err(|e| in_entry(format!("{} '{}': {}", r.kind(), r.name(), e)))?;
            }
            let gvk = r.gvk();
            apply_specs(&mut r.obj, &gvk, &cfg.images, Create::No, &mut |n| {
                up.update(n)
            })
            .map_err(in_entry)?;
        }
    }
    Ok(())
}

/// `replicas:` — set the count on objects with that name (any id).
pub fn replicas(
    list: &mut ResList,
    replicas: &[Replica],
    cfg: &TransformerConfig,
) -> Result<(), String> {
    for rep in replicas {
        let mut found = false;
        for fs in &cfg.replicas {
            let fgvk = fs.gvk();
            let idx = list.matching_any_id(|id| id.name == rep.name && id.is_selected_by(&fgvk));
            if idx.is_empty() {
                continue;
            }
            found = true;
            for i in idx {
                let r = &mut list.items[i];
                let gvk = r.gvk();
                apply_specs(
                    &mut r.obj,
                    &gvk,
                    std::slice::from_ref(fs),
                    Create::Scalar,
                    &mut |n| {
                        // A count written as a string stays a string.
                        *n = if n.is_string() {
                            Value::String(rep.count.to_string())
                        } else {
                            Value::Number(rep.count.into())
                        };
                        Ok(())
                    },
                )?;
            }
        }
        if !found {
            return Err(format!(
                "replicas: resource with name '{}' does not match a config with a replica field (Deployment, ReplicationController, ReplicaSet, StatefulSet or a custom replicas field spec)",
                rep.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_image_names_match_as_the_regex_does() {
        let names = [
            "nginx",
            "ghcr.io/kubeflow/kfp-api-server",
            "reg:5000/app",
            "a.b",
            "app@x",
            "my_app-1",
        ];
        let values = [
            "nginx",
            "nginx:1.2",
            "nginx:1.2@sha256:abc",
            "nginx@sha256:abc",
            "nginx:",
            "nginx@sha256:",
            "nginx:1.2:3",
            "nginx@sha1:abc",
            "nginx-x",
            "nginxx",
            "ngin",
            "nginx:{{tag}}",
            "nginx:1/2",
            "ghcr.io/kubeflow/kfp-api-server:2.14.4",
            "ghcrXio/kubeflow/kfp-api-server",
            "ghcr\nio/kubeflow/kfp-api-server",
            "reg:5000/app:1",
            "reg:5000/app",
            "a.b",
            "azb",
            "aéb:1",
            "a\nb",
            "ab",
            "app@x:1",
            "my_app-1@sha256:0",
            "",
        ];
        for n in names {
            let plain = ImagePattern::new(n);
            assert!(matches!(plain, ImagePattern::Plain(_)), "{n}");
            let re = regex::Regex::new(&format!(
                "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
                crate::kustomize::reslist::go_regex(n)
            ))
            .unwrap();
            for v in values {
                assert_eq!(
                    plain.is_match(v),
                    Ok(re.is_match(v)),
                    "name {n:?} value {v:?}"
                );
            }
        }
    }

    #[test]
    fn splits_images() {
        assert_eq!(split_image("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(
            split_image("nginx:1.2"),
            ("nginx".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split_image("reg:5000/nginx:1.2"),
            ("reg:5000/nginx".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split_image("nginx@sha256:abc"),
            ("nginx".into(), "".into(), "sha256:abc".into())
        );
        assert_eq!(
            split_image("nginx:1@sha256:abc"),
            ("nginx".into(), "1".into(), "sha256:abc".into())
        );
    }
}
