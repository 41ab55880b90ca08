//! Building a kustomization directory: the accumulation that kustomize's
//! `KustTarget` performs, one level at a time.
//!
//! Per level: resources (files and sub-kustomizations, each built on its
//! own), then generators, then components (built into this level's list),
//! then configuration (built-in + `configurations:` + `crds:`), transformers
//! in kustomize's fixed order, vars binding. At the top level only: hash
//! suffixes, name references, vars substitution, local-config removal, sort.

use serde_json::Value;
use std::path::{Path, PathBuf};

use super::fieldspec::{FieldSpec, TransformerConfig};
use super::fs::{
    clean, display, io_reason, is_loop, utf8_text, FileSystem, KUSTOMIZATION_FILE_NAMES,
};
use super::generators::{self, SourceLoader};
use super::reslist::ResList;
use super::resource::Resource;
use super::types::{Kustomization, COMPONENT_KIND, KUSTOMIZATION_KIND};
use super::{nameref, order, steps, transformers, vars, yaml, Error};

const KUSTOMIZATION_API_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
const COMPONENT_API_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// What one level hands to the level above.
#[derive(Default)]
struct Acc {
    list: ResList,
    /// Configuration from `configurations:` and `crds:` (the built-in one is
    /// implied, see `TransformerConfig::effective`).
    config: TransformerConfig,
    vars: Vec<super::types::Var>,
}

/// Build the kustomization in `dir` and return its objects in output order.
pub fn build(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<Resource>, Error> {
    build_with_warnings(fs, dir).map(|b| b.resources)
}

/// The objects of a build and the warnings it gave (deprecated fields).
pub struct Built {
    pub resources: Vec<Resource>,
    pub warnings: Vec<String>,
}

/// Like [`build`], also returning warnings for the user.
pub fn build_with_warnings(fs: &dyn FileSystem, dir: &Path) -> Result<Built, Error> {
    // Deeply nested documents are walked recursively: give the walk room.
    const STACK: usize = 512 << 20;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("kustomize-build".into())
            .stack_size(STACK)
            .spawn_scoped(s, || build_here(fs, dir))
            .map_err(|e| Error(format!("cannot start the build: {}", e)))?
            .join()
            .unwrap_or_else(|_| {
                Err(Error(
                    "internal error while building; please report it".into(),
                ))
            })
    })
}

fn build_here(fs: &dyn FileSystem, dir: &Path) -> Result<Built, Error> {
    let given = super::fs::absolute(dir);
    // Every root is a real path, so that files can be held to it.
    let dir = match fs.real_path(&given) {
        Ok(real) if fs.is_dir(&real) => real,
        Ok(_) => {
            return Err(Error(format!(
                "{}: is a file; expected a directory holding a kustomization.yaml",
                display(&given)
            )))
        }
        Err(e) => return Err(Error(format!("{}: {}", display(&given), io_reason(&e)))),
    };
    let mut b = Builder {
        fs,
        stack: Vec::new(),
        meta: BuildMeta::default(),
        origin_dir: PathBuf::new(),
        warnings: Vec::new(),
    };
    let (mut acc, kust) = b.accumulate(&dir, None, false)?;
    let at = |e: String| Error(format!("{}: {}", display(&dir), e));
    add_hashes(&mut acc.list);
    let cfg = TransformerConfig::effective(&acc.config).map_err(at)?;
    nameref::fix(&mut acc.list, &cfg).map_err(at)?;
    vars::resolve(&mut acc.list, &acc.vars, &cfg.var_reference).map_err(at)?;
    if !acc.vars.is_empty() {
        acc.list.sync_aliases();
    }
    // Local configuration is visible to every level, and left out of the output.
    let mut items: Vec<Resource> = acc
        .list
        .items
        .into_iter()
        .filter(|r| !is_local_config(r))
        .collect();
    for r in items.iter_mut() {
        strip_build_annotations(r);
        add_build_metadata(r, b.meta);
    }
    order::sort(&mut items, kust.sort_options.as_ref());
    Ok(Built {
        resources: items,
        warnings: b.warnings,
    })
}

/// Annotations kustomize removes from its output (build metadata off), and
/// an annotations map left empty.
const BUILD_ANNOTATIONS: [&str; 20] = [
    "config.kubernetes.io/origin",
    "alpha.config.kubernetes.io/transformations",
    // kio's reader annotations, old and new spellings.
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "config.k8s.io/id",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/id",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    // kustomize's own build bookkeeping.
    "internal.config.kubernetes.io/previousKinds",
    "internal.config.kubernetes.io/previousNames",
    "internal.config.kubernetes.io/previousNamespaces",
    "internal.config.kubernetes.io/prefixes",
    "internal.config.kubernetes.io/suffixes",
    "internal.config.kubernetes.io/needsHashSuffix",
    "internal.config.kubernetes.io/generatorBehavior",
    "internal.config.kubernetes.io/refBy",
    "internal.config.kubernetes.io/refVarName",
    "internal.config.kubernetes.io/localConfig",
];

fn strip_build_annotations(r: &mut Resource) {
    let Some(md) = r.obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let empty = match md.get_mut("annotations") {
        Some(Value::Object(a)) => {
            a.retain(|k, _| !BUILD_ANNOTATIONS.contains(&k.as_str()));
            // kustomize rewrites annotations as a map of strings.
            for (_, v) in a.iter_mut() {
                let text = match v {
                    Value::Number(n) => Some(super::yaml::format_number(n)),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Null => Some("null".to_string()),
                    _ => None,
                };
                if let Some(t) = text {
                    *v = Value::String(t);
                }
            }
            a.is_empty()
        }
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        md.remove("annotations");
    }
}

/// What `buildMetadata` asks to record on every object.
fn add_build_metadata(r: &mut Resource, meta: BuildMeta) {
    let mut notes: Vec<(&str, String)> = Vec::new();
    if meta.origins {
        if let Some(o) = &r.origin_note {
            notes.push(("config.kubernetes.io/origin", o.clone()));
        }
    }
    if meta.transformations && !r.transformations.is_empty() {
        let list: String = r
            .transformations
            .iter()
            .map(|t| {
                let mut lines = t.lines();
                let first = lines.next().unwrap_or("");
                let mut s = format!("- {}\n", first);
                for l in lines {
                    s.push_str("  ");
                    s.push_str(l);
                    s.push('\n');
                }
                s
            })
            .collect();
        notes.push(("alpha.config.kubernetes.io/transformations", list));
    }
    if notes.is_empty() && !meta.managed_by {
        return;
    }
    let md = super::resource::ensure_object(&mut r.obj)
        .entry("metadata".to_string())
        .or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(md) = md else { return };
    if !notes.is_empty() {
        let ann = md
            .entry("annotations".to_string())
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = ann {
            for (k, v) in notes {
                a.insert(k.to_string(), Value::String(v));
            }
        }
    }
    if meta.managed_by {
        let labels = md
            .entry("labels".to_string())
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(l) = labels {
            l.insert(
                "app.kubernetes.io/managed-by".to_string(),
                Value::String(MANAGED_BY.to_string()),
            );
        }
    }
}

fn file_of(fname: &str) -> PathBuf {
    PathBuf::from(fname)
}

fn kfile_name(file: &Path) -> String {
    file.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// kustomize keeps an object marked `config.kubernetes.io/local-config`
/// only when the value is exactly "false".
fn is_local_config(r: &Resource) -> bool {
    match r
        .obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LOCAL_CONFIG))
    {
        None => false,
        Some(v) => v.as_str() != Some("false"),
    }
}

fn add_hashes(list: &mut ResList) {
    for r in list.items.iter_mut() {
        if r.needs_hash {
            let h = generators::hash(&r.obj);
            r.store_previous_id();
            let name = format!("{}-{}", r.name(), h);
            r.set_name(&name);
            r.needs_hash = false;
        }
    }
}

struct Builder<'a> {
    fs: &'a dyn FileSystem,
    /// Kustomization roots being built, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    /// The top level's `buildMetadata` (kustomize applies it to every level).
    meta: BuildMeta,
    /// Path of the level being built, relative to the top (for origins).
    origin_dir: PathBuf,
    /// Deprecated fields seen, as messages for the user.
    warnings: Vec<String>,
}

#[derive(Default, Clone, Copy)]
struct BuildMeta {
    origins: bool,
    transformations: bool,
    managed_by: bool,
}

impl BuildMeta {
    fn any(&self) -> bool {
        self.origins || self.transformations || self.managed_by
    }
}

/// Value of the label `buildMetadata: [managedByLabel]` adds (as kubectl's
/// bundled kustomize writes it).
const MANAGED_BY: &str = "kustomize-(devel)";

fn origin_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn configured(dir: &Path, kfile: &str, kind: &str) -> String {
    format!(
        "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {}\n",
        origin_path(&clean(&dir.join(kfile))),
        kind
    )
}

/// The builtin transformers a kustomization configures, in the order they run.
fn transformer_kinds(k: &Kustomization) -> Vec<&'static str> {
    let mut v = Vec::new();
    if !k.patches_strategic_merge.is_empty() {
        v.push("PatchStrategicMergeTransformer");
    }
    v.extend(k.patches.iter().map(|_| "PatchTransformer"));
    if !k.namespace.is_empty() {
        v.push("NamespaceTransformer");
    }
    if !k.name_prefix.is_empty() {
        v.push("PrefixTransformer");
    }
    if !k.name_suffix.is_empty() {
        v.push("SuffixTransformer");
    }
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        v.extend(k.labels.iter().map(|_| "LabelTransformer"));
        v.push("LabelTransformer");
    }
    if !k.common_annotations.is_empty() {
        v.push("AnnotationsTransformer");
    }
    v.extend(
        k.patches_json6902
            .iter()
            .map(|_| "PatchJson6902Transformer"),
    );
    v.extend(k.replicas.iter().map(|_| "ReplicaCountTransformer"));
    v.extend(k.images.iter().map(|_| "ImageTagTransformer"));
    if !k.replacements.is_empty() {
        v.push("ReplacementTransformer");
    }
    v
}

/// Files read relative to one kustomization root, which they may not leave.
pub struct RootLoader<'a> {
    fs: &'a dyn FileSystem,
    root: &'a Path,
    kfile: &'a str,
}

impl<'a> RootLoader<'a> {
    /// The real path of a file named relative to the root. The cleaned path
    /// and, once its symbolic links are resolved, the real one must both be
    /// in or below the root (kustomize's `RestrictionRootOnly`).
    fn resolve(&self, rel: &str) -> Result<PathBuf, String> {
        let p = clean(&self.root.join(rel));
        let outside = || {
            format!(
                "security; file '{}' is not in or below '{}' (files must live under the kustomization's directory)",
                rel,
                display(self.root)
            )
        };
        if !p.starts_with(self.root) {
            return Err(outside());
        }
        match self.fs.real_path(&p) {
            Ok(real) if real.starts_with(self.root) => Ok(real),
            Ok(_) => Err(outside()),
            Err(e) if is_loop(&e) => Err(format!("cannot read '{}': {}", rel, io_reason(&e))),
            // Missing: the read says so.
            Err(_) => Ok(p),
        }
    }

    pub fn read_string(&self, rel: &str) -> Result<String, String> {
        let bytes = self.load(rel)?;
        utf8_text(bytes).map_err(|e| format!("'{}': {}", rel, e))
    }
}

impl<'a> SourceLoader for RootLoader<'a> {
    fn load(&self, rel: &str) -> Result<Vec<u8>, String> {
        if rel.contains("://") {
            return Err(format!(
                "'{}': remote files are not supported; download it next to {}",
                rel, self.kfile
            ));
        }
        let p = self.resolve(rel)?;
        if self.fs.is_dir(&p) {
            return Err(format!("'{}' is a directory, expected a file", rel));
        }
        self.fs
            .read(&p)
            .map_err(|e| format!("cannot read '{}': {}", rel, io_reason(&e)))
    }
}

/// Turn parsed documents into resources (expanding `List` kinds).
fn to_resources(
    docs: Vec<(Value, Vec<super::yamlread::MetaText>)>,
    origin: &str,
) -> Result<Vec<Resource>, String> {
    let mut out = Vec::new();
    for (d, meta) in docs {
        // Empty documents (and null list items) are skipped.
        match &d {
            Value::Null => continue,
            Value::Object(m) if m.is_empty() => continue,
            Value::Array(a) if a.is_empty() => continue,
            _ => {}
        }
        let Value::Object(ref m) = d else {
            return Err(format!(
                "{}: expected a YAML mapping (a Kubernetes object), found {}",
                origin,
                kind_of(&d)
            ));
        };
        let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("List") {
            match m.get("items") {
                Some(Value::Array(items)) => {
                    let items = items.iter().map(|i| (i.clone(), Vec::new())).collect();
                    out.extend(to_resources(items, origin)?);
                    continue;
                }
                Some(Value::Null) => continue,
                _ => {}
            }
        }
        if kind.is_empty() {
            return Err(format!("{}: an object has no 'kind'", origin));
        }
        if d.pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::is_empty)
            .unwrap_or(true)
        {
            return Err(format!("{}: a {} has no 'metadata.name'", origin, kind));
        }
        let _ = meta;
        out.push(Resource::new(d, origin));
    }
    Ok(out)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "nothing",
        Value::Object(_) => "a mapping",
    }
}

impl<'a> Builder<'a> {
    fn load_kustomization(&mut self, dir: &Path) -> Result<(Kustomization, PathBuf), Error> {
        let mut found = Vec::new();
        for name in KUSTOMIZATION_FILE_NAMES {
            let p = dir.join(name);
            if self.fs.is_file(&p) {
                found.push(p);
            }
        }
        let file = match found.len() {
            0 => {
                // There, but not a regular file (a FIFO, a dangling link, a loop).
                for name in KUSTOMIZATION_FILE_NAMES {
                    let p = dir.join(name);
                    let why = match self.fs.real_path(&p) {
                        Ok(real) if !self.fs.is_dir(&real) => {
                            "not a regular file (a FIFO, socket or device is never read)"
                                .to_string()
                        }
                        Err(e) if is_loop(&e) => io_reason(&e),
                        _ => continue,
                    };
                    return Err(Error(format!("{}: {}", display(&p), why)));
                }
                return Err(Error(format!(
                    "{}: no kustomization file found (expected kustomization.yaml, kustomization.yml or Kustomization)",
                    display(dir)
                )));
            }
            1 => found.remove(0),
            _ => {
                return Err(Error(format!(
                    "{}: found multiple kustomization files; keep one",
                    display(dir)
                )))
            }
        };
        let fname = display(&file);
        // The kustomization file itself is held to its directory too.
        match self.fs.real_path(&file) {
            Ok(real) if !real.starts_with(dir) => {
                return Err(Error(format!(
                    "{}: security; file '{}' is not in or below '{}' (files must live under the kustomization's directory)",
                    fname,
                    kfile_name(&file),
                    display(dir)
                )))
            }
            _ => {}
        }
        let bytes = self
            .fs
            .read(&file)
            .map_err(|e| Error(format!("{}: {}", fname, io_reason(&e))))?;
        let text = utf8_text(bytes).map_err(|e| Error(format!("{}: {}", fname, e)))?;
        let v = yaml::parse_lenient(&text)
            .map_err(|e| Error(format!("{}: invalid YAML: {}", fname, e)))?;
        // An empty file (or only comments) is an error in kustomize, and so
        // is one that sets no field (checked once the fields are known).
        let empty = || {
            Error(format!(
                "{}: the kustomization is empty; list at least its resources",
                fname
            ))
        };
        if v.is_null() {
            return Err(empty());
        }
        if !v.is_object() {
            return Err(Error(format!(
                "{}: expected a mapping of kustomization fields, found {}",
                fname,
                kind_of(&v)
            )));
        }
        let sets_nothing = sets_nothing(&v);
        let mut k: Kustomization =
            from_value_at(v).map_err(|e| Error(format!("{}: {}", fname, e)))?;
        if sets_nothing {
            return Err(empty());
        }
        for (field, used, instead) in [
            ("bases", !k.bases.is_empty(), "resources"),
            ("commonLabels", !k.common_labels.is_empty(), "labels"),
            ("imageTags", !k.image_tags.is_empty(), "images"),
            ("patchesJson6902", !k.patches_json6902.is_empty(), "patches"),
            (
                "patchesStrategicMerge",
                !k.patches_strategic_merge.is_empty(),
                "patches",
            ),
            ("vars", !k.vars.is_empty(), "replacements"),
        ] {
            if used {
                self.warnings.push(format!(
                    "{}: '{}' is deprecated; use '{}'",
                    fname, field, instead
                ));
            }
        }
        k.fix();
        let kind = k.kind.clone().unwrap_or_default();
        if !kind.is_empty() && kind != KUSTOMIZATION_KIND && kind != COMPONENT_KIND {
            return Err(Error(format!(
                "{}: kind should be Kustomization or Component, not '{}'",
                fname, kind
            )));
        }
        let want = if kind == COMPONENT_KIND {
            COMPONENT_API_VERSION
        } else {
            KUSTOMIZATION_API_VERSION
        };
        if let Some(av) = &k.api_version {
            if !av.is_empty() && av != want {
                return Err(Error(format!(
                    "{}: apiVersion for {} should be {}",
                    fname,
                    if kind.is_empty() {
                        KUSTOMIZATION_KIND
                    } else {
                        &kind
                    },
                    want
                )));
            }
        }
        let unsupported = [
            ("openapi", k.openapi.is_some()),
            (
                "helmCharts",
                !k.helm_charts.is_empty() || !k.helm_chart_inflation_generator.is_empty(),
            ),
            ("helmGlobals", k.helm_globals.is_some()),
            ("validators", !k.validators.is_empty()),
        ];
        for (field, present) in unsupported {
            if present {
                return Err(Error(format!(
                    "{}: field '{}' is not supported by kfp-aws; build this directory with kubectl kustomize instead",
                    fname, field
                )));
            }
        }
        Ok((k, file))
    }

    /// Build one level. `into` is the parent's accumulator when this level is
    /// a component.
    fn accumulate(
        &mut self,
        dir: &Path,
        into: Option<Acc>,
        component: bool,
    ) -> Result<(Acc, Kustomization), Error> {
        let (k, file) = self.load_kustomization(dir)?;
        let fname = display(&file);
        if self.stack.is_empty() {
            if let Some(so) = &k.sort_options {
                match so.order.as_str() {
                    "legacy" | "fifo" => {}
                    other => {
                        return Err(Error(format!(
                            "{}: sortOptions.order '{}' is not 'legacy' or 'fifo'",
                            fname, other
                        )))
                    }
                }
                if so.order != "legacy" && so.legacy_sort_options.is_some() {
                    return Err(Error(format!(
                        "{}: sortOptions.legacySortOptions goes only with order 'legacy'",
                        fname
                    )));
                }
            }
            let has = |o: &str| k.build_metadata.iter().any(|x| x == o);
            self.meta = BuildMeta {
                origins: has("originAnnotations"),
                transformations: has("transformerAnnotations"),
                managed_by: has("managedByLabel"),
            };
        }
        if component && !k.is_component() {
            return Err(Error(format!(
                "{}: expected kind 'Component' for a path listed under components",
                fname
            )));
        }
        // A Component may be built on its own, but not listed as a resource.
        if !component && k.is_component() && !self.stack.is_empty() {
            return Err(Error(format!(
                "{}: a Component cannot be listed under resources; list it under components",
                fname
            )));
        }
        self.stack.push(dir.to_path_buf());
        let res = self.accumulate_inner(dir, &k, &fname, into);
        self.stack.pop();
        res.map(|acc| (acc, k))
    }

    fn accumulate_inner(
        &mut self,
        dir: &Path,
        k: &Kustomization,
        fname: &str,
        into: Option<Acc>,
    ) -> Result<Acc, Error> {
        let at = |e: String| Error(format!("{}: {}", fname, e));
        let ldr = RootLoader {
            fs: self.fs,
            root: dir,
            kfile: fname,
        };
        let mut acc = into.unwrap_or_default();

        for entry in &k.resources {
            self.add_resource(dir, entry, &ldr, &mut acc, fname)?;
        }
        // kustomize v5.5 runs a level's generators before its components, so
        // components see (and may merge into or patch) what the level generated.
        let global = k.generator_options.as_ref();
        for (args, secret) in k
            .config_map_generator
            .iter()
            .map(|a| (a, false))
            .chain(k.secret_generator.iter().map(|a| (a, true)))
        {
            let what = if secret {
                "secretGenerator"
            } else {
                "configMapGenerator"
            };
            let mut r = generators::generate(args, secret, global, &ldr, fname)
                .map_err(|e| at(format!("{}: {}", what, e)))?;
            if self.meta.any() {
                let kind = if secret {
                    "SecretGenerator"
                } else {
                    "ConfigMapGenerator"
                };
                r.origin_note = Some(configured(
                    &self.origin_dir,
                    &kfile_name(&file_of(fname)),
                    kind,
                ));
            }
            acc.list
                .absorb(r)
                .map_err(|e| at(format!("{}: {}", what, e)))?;
        }

        for (src, cfg) in self.plugin_configs(dir, &k.generators, &ldr, fname)? {
            super::plugins::generate(&mut acc.list, &cfg, &ldr, fname)
                .map_err(|e| at(format!("generators: {}: {}", src, e)))?;
        }

        for entry in &k.components {
            let sub = match self.fs.real_path(&clean(&dir.join(entry))) {
                Ok(real) if self.fs.is_dir(&real) => real,
                Err(e) if is_loop(&e) => {
                    return Err(at(format!("components: '{}': {}", entry, io_reason(&e))))
                }
                _ => return Err(at(format!("components: '{}' is not a directory", entry))),
            };
            self.check_cycle(&sub)
                .map_err(|e| at(format!("components: '{}': {}", entry, e)))?;
            let taken = std::mem::take(&mut acc);
            let saved = self.origin_dir.clone();
            self.origin_dir = clean(&saved.join(entry));
            let res = self.accumulate(&sub, Some(taken), true);
            self.origin_dir = saved;
            let (sub_acc, _) = res?;
            acc = sub_acc;
        }

        for c in &k.configurations {
            let text = ldr
                .read_string(c)
                .map_err(|e| at(format!("configurations: {}", e)))?;
            let cfg = TransformerConfig::parse(&text)
                .map_err(|e| at(format!("configurations: '{}': {}", c, e)))?;
            acc.config
                .merge(&cfg)
                .map_err(|e| at(format!("configurations: '{}': {}", c, e)))?;
        }
        for c in &k.crds {
            let text = ldr.read_string(c).map_err(|e| at(format!("crds: {}", e)))?;
            let cfg = super::crds::config_from_crds(&text)
                .map_err(|e| at(format!("crds: '{}': {}", c, e)))?;
            acc.config
                .merge(&cfg)
                .map_err(|e| at(format!("crds: '{}': {}", c, e)))?;
        }
        let cfg = TransformerConfig::effective(&acc.config)
            .map_err(|e| at(format!("configurations: {}", e)))?;

        self.transform(k, &ldr, &mut acc.list, &cfg).map_err(at)?;
        for (src, cfg) in self.plugin_configs(dir, &k.transformers, &ldr, fname)? {
            super::plugins::transform(&mut acc.list, &cfg, &ldr)
                .map_err(|e| at(format!("transformers: {}: {}", src, e)))?;
            acc.list.sync_aliases();
        }
        if self.meta.any() {
            let kfile = kfile_name(&file_of(fname));
            for kind in transformer_kinds(k) {
                let note = configured(&self.origin_dir, &kfile, kind);
                for r in acc.list.items.iter_mut() {
                    if r.origin_note.is_none() {
                        r.origin_note = Some(note.clone());
                    } else {
                        r.transformations.push(note.clone());
                    }
                }
            }
        }

        // vars: bind to their objects now, substitute at the end.
        for (i, v) in k.vars.iter().enumerate() {
            if acc
                .vars
                .iter()
                .chain(&k.vars[..i])
                .any(|x| x.name == v.name)
            {
                return Err(at(format!("vars: var '{}' already encountered", v.name)));
            }
        }
        vars::bind(&mut acc.list, &k.vars).map_err(|e| at(format!("vars: {}", e)))?;
        acc.vars.extend(k.vars.iter().cloned());

        Ok(acc)
    }

    /// The plugin configurations a `generators:`/`transformers:` list names:
    /// inline YAML, files, or kustomization directories whose output they are.
    fn plugin_configs(
        &mut self,
        dir: &Path,
        entries: &[String],
        ldr: &RootLoader,
        fname: &str,
    ) -> Result<Vec<(String, Value)>, Error> {
        let at = |e: String| Error(format!("{}: {}", fname, e));
        let mut out = Vec::new();
        for entry in entries {
            if let Ok(docs) = yaml::parse_documents(entry) {
                if !docs.is_empty() && docs.iter().all(Value::is_object) {
                    out.extend(
                        super::patches::expand_lists(docs)
                            .into_iter()
                            .map(|d| ("inline configuration".to_string(), d)),
                    );
                    continue;
                }
            }
            let src = format!("'{}'", entry);
            let p = clean(&dir.join(entry));
            let real = match self.fs.real_path(&p) {
                Ok(real) => real,
                Err(e) if is_loop(&e) => return Err(at(format!("'{}': {}", entry, io_reason(&e)))),
                Err(_) => p.clone(),
            };
            if self.fs.is_file(&real) {
                let text = ldr.read_string(entry).map_err(at)?;
                let docs = yaml::parse_documents(&text)
                    .map_err(|e| Error(format!("{}: invalid YAML: {}", display(&p), e)))?;
                out.extend(
                    super::patches::expand_lists(docs)
                        .into_iter()
                        .map(|d| (src.clone(), d)),
                );
            } else if self.fs.is_dir(&real) {
                self.check_cycle(&real)
                    .map_err(|e| at(format!("'{}': {}", entry, e)))?;
                let saved = self.origin_dir.clone();
                self.origin_dir = clean(&saved.join(entry));
                let res = self.accumulate(&real, None, false);
                self.origin_dir = saved;
                let (sub, _) = res?;
                out.extend(sub.list.items.into_iter().map(|r| (src.clone(), r.obj)));
            } else {
                return Err(at(format!(
                    "plugin configuration '{}' not found: no such file or directory",
                    entry
                )));
            }
        }
        Ok(out)
    }

    /// A directory may not contain a kustomization that is being built.
    fn check_cycle(&self, dir: &Path) -> Result<(), String> {
        match self.stack.iter().find(|v| v.starts_with(dir)) {
            Some(visited) => Err(format!(
                "cycle detected: '{}' contains '{}', which is already being built",
                display(dir),
                display(visited)
            )),
            None => Ok(()),
        }
    }

    fn add_resource(
        &mut self,
        dir: &Path,
        entry: &str,
        ldr: &RootLoader,
        acc: &mut Acc,
        fname: &str,
    ) -> Result<(), Error> {
        let at = |e: String| Error(format!("{}: {}", fname, e));
        if entry.contains("://") || entry.starts_with("github.com/") || entry.starts_with("git@") {
            return Err(at(format!("resources: remote resource '{}' is not supported; vendor it into a local directory", entry)));
        }
        let p = clean(&dir.join(entry));
        let (real, exists) = match self.fs.real_path(&p) {
            Ok(real) => (real, true),
            Err(e) if is_loop(&e) => {
                return Err(at(format!("resources: '{}': {}", entry, io_reason(&e))))
            }
            Err(_) => (p.clone(), false),
        };
        if self.fs.is_file(&real) {
            let bytes = ldr
                .load(entry)
                .map_err(|e| at(format!("resources: {}", e)))?;
            let origin = display(&p);
            let text = utf8_text(bytes).map_err(|e| Error(format!("{}: {}", origin, e)))?;
            let mut docs = super::yamlread::parse_documents_with_meta(&text)
                .map_err(|e| Error(format!("{}: invalid YAML: {}", origin, e)))?;
            // kustomize rewrites every object's annotations as strings.
            for (d, meta) in docs.iter_mut() {
                super::yamlread::stringify_meta(d, meta, false, true);
            }
            for mut r in to_resources(docs, &origin).map_err(Error)? {
                if self.meta.any() {
                    r.origin_note = Some(format!(
                        "path: {}\n",
                        origin_path(&clean(&self.origin_dir.join(entry)))
                    ));
                }
                acc.list
                    .append(r)
                    .map_err(|e| at(format!("resources: {}", e)))?;
            }
            Ok(())
        } else if self.fs.is_dir(&real) {
            self.check_cycle(&real)
                .map_err(|e| at(format!("resources: '{}': {}", entry, e)))?;
            let saved = self.origin_dir.clone();
            self.origin_dir = clean(&saved.join(entry));
            let res = self.accumulate(&real, None, false);
            self.origin_dir = saved;
            let (sub, _) = res?;
            acc.list
                .append_all(sub.list)
                .map_err(|e| at(format!("resources: '{}': {}", entry, e)))?;
            acc.config
                .merge(&sub.config)
                .map_err(|e| at(format!("configurations of '{}': {}", entry, e)))?;
            for v in sub.vars {
                if acc.vars.iter().any(|x| x.name == v.name) {
                    return Err(at(format!("vars: var '{}' already encountered", v.name)));
                }
                acc.vars.push(v);
            }
            Ok(())
        } else if exists {
            Err(at(format!(
                "resources: '{}' is not a regular file or a directory",
                entry
            )))
        } else {
            Err(at(format!(
                "resources: '{}' not found: no such file or directory",
                entry
            )))
        }
    }

    fn transform(
        &self,
        k: &Kustomization,
        ldr: &RootLoader,
        list: &mut ResList,
        cfg: &TransformerConfig,
    ) -> Result<(), String> {
        steps::strategic_merge_entries(list, &k.patches_strategic_merge, ldr)
            .map_err(|e| format!("patchesStrategicMerge: {}", e))?;
        if !k.patches_strategic_merge.is_empty() {
            list.sync_aliases();
        }
        for p in &k.patches {
            steps::patch(list, p, ldr).map_err(|e| format!("patches: {}", e))?;
            list.sync_aliases();
        }
        transformers::namespace(list, &k.namespace, cfg)
            .map_err(|e| format!("namespace: {}", e))?;
        transformers::prefix_suffix(list, &k.name_prefix, &k.name_suffix, cfg)
            .map_err(|e| format!("namePrefix/nameSuffix: {}", e))?;
        for l in &k.labels {
            let mut specs: Vec<FieldSpec> = l.fields.clone();
            if l.include_selectors {
                extend_unique(&mut specs, &cfg.common_labels);
            } else {
                if l.include_templates {
                    extend_unique(&mut specs, &cfg.template_labels);
                }
                extend_unique(
                    &mut specs,
                    &[FieldSpec {
                        path: "metadata/labels".into(),
                        create: true,
                        ..Default::default()
                    }],
                );
            }
            transformers::set_entries(list, &l.pairs, &specs)
                .map_err(|e| format!("labels: {}", e))?;
        }
        transformers::set_entries(list, &k.common_labels, &cfg.common_labels)
            .map_err(|e| format!("commonLabels: {}", e))?;
        transformers::set_entries(list, &k.common_annotations, &cfg.common_annotations)
            .map_err(|e| format!("commonAnnotations: {}", e))?;
        for p in &k.patches_json6902 {
            steps::json6902(list, p.target.as_ref(), &p.path, &p.patch, ldr)
                .map_err(|e| format!("patchesJson6902: {}", e))?;
        }
        transformers::replicas(list, &k.replicas, cfg)?;
        transformers::images(list, &k.images, cfg).map_err(|e| format!("images: {}", e))?;
        steps::replacements(list, &k.replacements, ldr)
            .map_err(|e| format!("replacements: {}", e))?;
        if !k.replacements.is_empty() {
            list.sync_aliases();
        }
        Ok(())
    }
}

/// kustomize refuses a kustomization whose fields are all unset once read:
/// apiVersion and kind aside, every value is null, `""` or `false`, or an
/// empty `bases` list (merged into resources when read). An empty list or
/// map elsewhere (`resources: []`) counts as set.
fn sets_nothing(v: &Value) -> bool {
    let Some(m) = v.as_object() else {
        return false;
    };
    m.iter().all(|(key, value)| match value {
        _ if key == "apiVersion" || key == "kind" => true,
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => key == "bases" && a.is_empty(),
        _ => false,
    })
}

/// Deserialize, naming the field on failure (`configMapGenerator[0].options.annotations.x: …`).
pub fn from_value_at<T: serde::de::DeserializeOwned>(mut v: Value) -> Result<T, String> {
    // Go's decoder matches field names case-insensitively and leaves a null
    // at the zero value; serde does neither, so such spots are adjusted and
    // the decode retried.
    let mut last = String::new();
    for _ in 0..512 {
        let err = match serde_path_to_error::deserialize::<_, T>(&v) {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        let segs = path_segments(err.path());
        let raw = err.inner().to_string();
        let key = format!("{:?}|{}", segs, raw);
        if key == last || !go_lenient_fix(&mut v, &segs, &raw) {
            break;
        }
        last = key;
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path = e.path().to_string();
        let raw = e.into_inner().to_string();
        if raw.starts_with("unknown field") {
            // The path already ends with the unknown field itself.
            path = match path.rfind('.') {
                Some(i) => path[..i].to_string(),
                None => ".".to_string(),
            };
        }
        let msg = explain_unknown_field(&raw);
        if path == "." || path.is_empty() {
            msg
        } else {
            format!("{}: {}", path, msg)
        }
    })
}

/// The keys and indexes of a decoding error's location.
fn path_segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn value_at<'v>(v: &'v mut Value, segs: &[String]) -> Option<&'v mut Value> {
    let mut cur = v;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(s)?,
            Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Adjust `v` where Go would have decoded what serde refused; false when
/// there is nothing to adjust.
fn go_lenient_fix(v: &mut Value, segs: &[String], raw: &str) -> bool {
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let Some((field, rest)) = rest.split_once('`') else {
            return false;
        };
        let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        let Some(target) = candidates.iter().find(|c| c.eq_ignore_ascii_case(field)) else {
            return false;
        };
        let parent = &segs[..segs.len().saturating_sub(1)];
        let Some(Value::Object(m)) = value_at(v, parent) else {
            return false;
        };
        // kustomize decodes JSON with sorted keys, so of two spellings the
        // one that sorts later wins.
        let Some(value) = m.shift_remove(field) else {
            return false;
        };
        if !m.contains_key(*target) || field > *target {
            m.insert(target.to_string(), value);
        }
        return true;
    }
    if raw.starts_with("invalid type: null") {
        let Some(slot) = value_at(v, segs) else {
            return false;
        };
        *slot = if raw.contains("expected a string") {
            Value::String(String::new())
        } else if raw.contains("expected a sequence") {
            Value::Array(vec![])
        } else if raw.contains("expected a boolean") {
            Value::Bool(false)
        } else if raw.contains("expected i64") || raw.contains("expected u64") {
            Value::from(0)
        } else {
            Value::Object(Default::default())
        };
        return true;
    }
    false
}

/// serde's "unknown field `x`, expected one of `a`, `b`" becomes a short
/// message with the closest valid name.
fn explain_unknown_field(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((field, rest)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(&field.to_lowercase(), &c.to_lowercase()), *c))
        .min();
    match best {
        Some((d, c)) if d <= 3 => format!("unknown field '{}'; did you mean '{}'?", field, c),
        _ if candidates.is_empty() => format!("unknown field '{}'", field),
        _ => format!(
            "unknown field '{}'; valid fields are {}",
            field,
            candidates.join(", ")
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn extend_unique(into: &mut Vec<FieldSpec>, from: &[FieldSpec]) {
    for fs in from {
        if !into
            .iter()
            .any(|x| x.path == fs.path && x.gvk() == fs.gvk())
        {
            into.push(fs.clone());
        }
    }
}
