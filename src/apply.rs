//! `kfp-aws apply` and `kfp-aws crds --apply`: server-side apply of a render.
//!
//! The objects go out in waves: CRDs and Namespaces first, then (after every
//! CRD reports `Established` and discovery is refreshed) ServiceAccounts and
//! RBAC, ConfigMaps, Secrets and claims, Services, and last the workloads and
//! custom resources. Within a wave, objects are applied concurrently (at most
//! [`CONCURRENCY`] at a time). Every object is applied with the field manager
//! `kfp-aws`; a field owned by another manager is a conflict unless
//! `--force-conflicts`. Throttling (429), server errors (5xx) and broken
//! connections are retried with back-off, waiting at least as long as a
//! 429's `Retry-After` asks; any other error is not. Every apply asks for
//! strict field validation: an unknown or duplicate field is an error, not a
//! warning. Discovery uses the aggregated endpoint (one request for `/api`,
//! one for `/apis`) when the server offers it, the per-group endpoints
//! otherwise. Progress goes to stderr: a bar on a terminal, one line per
//! object otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use kube::Client;
use serde_json::Value;

use crate::kubeclient::with_retries;
use crate::kustomize::Resource;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "kfp-aws";
/// The inventory label: which install an object belongs to (its namespace).
pub const INSTALL_LABEL: &str = "kfp-aws.kubeflow.org/install";
/// Objects applied at the same time within a wave.
pub const CONCURRENCY: usize = 8;

pub struct ApplyOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub dry_run: bool,
    pub force_conflicts: bool,
    /// How long CRDs may take to become Established.
    pub crd_timeout: Duration,
    /// `--request-timeout`: limit for each request (`None`: no limit).
    pub request_timeout: Option<Duration>,
    /// The install the objects belong to (its namespace); `None` for the
    /// shared CRDs, which carry no inventory label.
    pub install: Option<String>,
    /// Delete objects of this install that the render no longer contains.
    pub prune: bool,
    /// Warnings to print when the server's version (`gitVersion`) contains
    /// the first string, e.g. `-eks-` for a choice EKS does not support.
    pub version_warnings: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Pruned,
}

/// What happened, per kind.
#[derive(Default, Debug)]
pub struct Summary {
    pub counts: BTreeMap<String, [usize; 4]>,
    pub dry_run: bool,
    /// A summary of `delete`: the last column says DELETED.
    pub deleting: bool,
}

impl Outcome {
    fn word(&self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Pruned => "pruned",
        }
    }
}

impl Summary {
    fn add(&mut self, kind: &str, o: Outcome) {
        let c = self.counts.entry(kind.to_string()).or_default();
        c[o as usize] += 1;
    }
    pub fn total(&self, o: Outcome) -> usize {
        self.counts.values().map(|c| c[o as usize]).sum()
    }
    pub fn to_table(&self) -> String {
        let w = self
            .counts
            .keys()
            .map(|k| k.len())
            .max()
            .unwrap_or(4)
            .max(4);
        if self.deleting {
            let mut s = format!("{:<w$}  {:>7}\n", "KIND", "DELETED", w = w);
            for (k, c) in &self.counts {
                s.push_str(&format!(
                    "{:<w$}  {:>7}\n",
                    k,
                    c[Outcome::Pruned as usize],
                    w = w
                ));
            }
            s.push_str(&format!(
                "{}{} deleted\n",
                if self.dry_run {
                    "(server dry run) "
                } else {
                    ""
                },
                self.total(Outcome::Pruned)
            ));
            return s;
        }
        let mut s = format!(
            "{:<w$}  {:>7}  {:>10}  {:>9}  {:>6}\n",
            "KIND",
            "CREATED",
            "CONFIGURED",
            "UNCHANGED",
            "PRUNED",
            w = w
        );
        for (k, c) in &self.counts {
            s.push_str(&format!(
                "{:<w$}  {:>7}  {:>10}  {:>9}  {:>6}\n",
                k,
                c[0],
                c[1],
                c[2],
                c[3],
                w = w
            ));
        }
        s.push_str(&format!(
            "{}{} created, {} configured, {} unchanged, {} pruned\n",
            if self.dry_run {
                "(server dry run) "
            } else {
                ""
            },
            self.total(Outcome::Created),
            self.total(Outcome::Configured),
            self.total(Outcome::Unchanged),
            self.total(Outcome::Pruned)
        ));
        s
    }
}

/// The wave of a kind: lower goes first.
pub fn wave(kind: &str) -> usize {
    match kind {
        "CustomResourceDefinition" | "Namespace" => 0,
        "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        | "PriorityClass" => 1,
        "ConfigMap" | "Secret" | "PersistentVolumeClaim" => 2,
        "Service" => 3,
        _ => 4,
    }
}

fn target(o: &ApplyOptions) -> crate::kubeclient::Target {
    crate::kubeclient::Target {
        kubeconfig: o.kubeconfig.clone(),
        context: o.context.clone(),
        request_timeout: o.request_timeout,
    }
}

async fn client(o: &ApplyOptions) -> anyhow::Result<Client> {
    crate::kubeclient::connect(&target(o)).await
}

/// What the server serves: aggregated discovery when the server offers it
/// (Kubernetes 1.26 and newer; two requests), the legacy per-group endpoints
/// otherwise. A server without it answers the aggregated `Accept` with its
/// legacy lists, which parse as empty discovery lists: no core group, no
/// `apps`, which every server has.
async fn discover(client: &Client) -> anyhow::Result<Discovery> {
    if let Ok(d) = Discovery::new(client.clone()).run_aggregated().await {
        if d.has_group("") && d.has_group("apps") {
            return Ok(d);
        }
    }
    with_retries(|| Discovery::new(client.clone()).run())
        .await
        .context("API discovery failed")
}

/// Progress on stderr: a bar when stderr is a terminal, one line per step
/// otherwise (logs, CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: usize,
}

impl Progress {
    fn new(total: usize, verb: &str) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(&format!(
                "{verb} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
        }
    }

    /// One object done: `what` is `Kind/name verb`.
    fn step(&mut self, what: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(what.to_string());
                bar.inc(1);
            }
            None => eprintln!("[{}/{}] {}", self.done, self.total, what),
        }
    }

    /// A line that is not a step (kept above the bar on a terminal).
    fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{}", line),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Apply the objects of a render. Progress goes to stderr.
pub fn apply(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Summary> {
    runtime()?.block_on(apply_async(items, o))
}

async fn apply_async(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Summary> {
    let (client, version) = crate::kubeclient::connect_with_version(&target(o)).await?;
    for (needle, warning) in &o.version_warnings {
        if version.git_version.contains(needle.as_str()) {
            eprintln!("warning: {} (server {})", warning, version.git_version);
        }
    }
    let mut discovery = discover(&client).await?;
    unserved(items, &discovery)?;
    let mut summary = Summary {
        dry_run: o.dry_run,
        ..Default::default()
    };
    let mut waves: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for obj in labelled(items, o)? {
        waves
            .entry(wave(obj["kind"].as_str().unwrap_or("")))
            .or_default()
            .push(obj);
    }
    let total: usize = waves.values().map(Vec::len).sum();
    let applied: std::collections::BTreeSet<(String, String, String)> =
        waves.values().flatten().map(object_key).collect();
    let mut progress = Progress::new(total, "applying");
    let result = apply_waves(
        &client,
        &mut discovery,
        waves,
        o,
        &mut progress,
        &mut summary,
    )
    .await;
    progress.finish();
    result?;
    if o.prune {
        if let Some(install) = &o.install {
            for (kind, target, name) in installed(&client, &discovery, install).await? {
                let ns = target.namespace.clone().unwrap_or_default();
                if applied.contains(&(kind.clone(), ns, name.clone())) {
                    continue;
                }
                delete_one(&target.api, &name, o.dry_run)
                    .await
                    .map_err(|e| e.context(format!("{} {}", kind, name)))?;
                eprintln!(
                    "{}/{} pruned{}",
                    kind,
                    name,
                    if o.dry_run { " (dry run)" } else { "" }
                );
                summary.add(&kind, Outcome::Pruned);
            }
        }
    }
    Ok(summary)
}

async fn apply_waves(
    client: &Client,
    discovery: &mut Discovery,
    waves: BTreeMap<usize, Vec<Value>>,
    o: &ApplyOptions,
    progress: &mut Progress,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    for (w, objs) in waves {
        let results = apply_wave(client, discovery, objs.clone(), o).await?;
        for (kind, name, outcome) in results {
            progress.step(&format!(
                "{}/{} {}{}",
                kind,
                name,
                outcome.word(),
                if o.dry_run { " (dry run)" } else { "" }
            ));
            summary.add(&kind, outcome);
        }
        if w == 0 {
            let crds: Vec<String> = objs
                .iter()
                .filter(|v| v["kind"] == "CustomResourceDefinition")
                .filter_map(|v| v["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            if !crds.is_empty() && !o.dry_run {
                progress.note(&format!(
                    "waiting for {} CRD(s) to be established",
                    crds.len()
                ));
                wait_established(client, &crds, o.crd_timeout).await?;
                *discovery = discover(client).await?;
            }
        }
    }
    Ok(())
}

/// APIs that other software provides, and what to install for them.
const PROVIDERS: &[(&str, &str)] = &[(
    "cert-manager.io",
    "install cert-manager first (https://cert-manager.io/docs/installation/), or choose another cacheTls (kubelet-csr, none)",
)];

/// Refuse, before anything is sent, objects whose API the cluster does not
/// serve and whose CRD is not in the same apply.
fn unserved(items: &[Resource], discovery: &Discovery) -> anyhow::Result<()> {
    let defined: BTreeSet<(String, String)> = items
        .iter()
        .filter(|r| r.kind() == "CustomResourceDefinition")
        .map(|r| {
            (
                r.obj["spec"]["group"].as_str().unwrap_or("").to_string(),
                r.obj["spec"]["names"]["kind"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in items {
        let api_version = r.obj["apiVersion"].as_str().unwrap_or("");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = r.kind();
        if defined.contains(&(group.to_string(), kind.to_string()))
            || discovery
                .resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
                .is_some()
        {
            continue;
        }
        missing
            .entry(group.to_string())
            .or_default()
            .insert(format!("{} {}", api_version, kind));
    }
    let Some((group, kinds)) = missing.into_iter().next() else {
        return Ok(());
    };
    let hint = PROVIDERS
        .iter()
        .find(|(g, _)| *g == group)
        .map(|(_, h)| h.to_string())
        .unwrap_or_else(|| {
            "is its CRD installed? `kfp-aws crds --apply` installs the shared CRDs".to_string()
        });
    bail!(
        "the cluster does not serve {}: {}; nothing was applied",
        kinds.into_iter().collect::<Vec<_>>().join(", "),
        hint
    )
}

/// The objects as they are sent: with the inventory label of the install
/// (all but CRDs).
fn labelled(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for r in items {
        let mut obj = r.obj.clone();
        if let Some(install) = &o.install {
            if obj["kind"] != "CustomResourceDefinition" {
                let meta = obj["metadata"]
                    .as_object_mut()
                    .ok_or_else(|| anyhow!("an object has no metadata"))?;
                let labels = meta
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(l) = labels.as_object_mut() {
                    l.insert(INSTALL_LABEL.into(), Value::String(install.clone()));
                }
            }
        }
        out.push(obj);
    }
    Ok(out)
}

/// One object whose live state differs from what `apply` would make of it.
pub struct ObjectDiff {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Live object as YAML (empty when it does not exist yet).
    pub live: String,
    /// The server's dry-run result of the apply, as YAML.
    pub merged: String,
}

/// What `apply` would change: for every object, the live object against the
/// server-side dry-run result, without server-owned fields, Secret values
/// masked. Objects without change are left out.
pub fn diff(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Vec<ObjectDiff>> {
    runtime()?.block_on(diff_async(items, o))
}

async fn diff_async(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Vec<ObjectDiff>> {
    let client = client(o).await?;
    let discovery = discover(&client).await?;
    let mut out = Vec::new();
    for obj in labelled(items, o)? {
        let (kind, namespace, name) = object_key(&obj);
        let api = api_for(&client, &discovery, &obj)?;
        let pp = patch_params(o, true);
        let live = with_retries(|| api.get_opt(&name))
            .await
            .map_err(|e| anyhow!("{} {}: {}", kind, name, describe(&e)))?;
        let patch = Patch::Apply(&obj);
        let merged = match with_retries(|| api.patch(&name, &pp, &patch)).await {
            Ok(m) => serde_json::to_value(&m)?,
            // Its Namespace does not exist yet: the object would be created as rendered.
            Err(e) if live.is_none() && missing_namespace(&e) => obj.clone(),
            Err(e) => bail!("{} {}: {}", kind, name, describe(&e)),
        };
        let mut live = live
            .map(|l| serde_json::to_value(&l))
            .transpose()?
            .map(|v| comparable(&v));
        let mut merged = comparable(&merged);
        if live.as_ref() == Some(&merged) {
            continue;
        }
        if kind == "Secret" {
            mask_secrets(live.as_mut(), &mut merged);
        }
        out.push(ObjectDiff {
            kind,
            namespace,
            name,
            live: live
                .map(|v| crate::kustomize::yaml::to_yaml(&v))
                .unwrap_or_default(),
            merged: crate::kustomize::yaml::to_yaml(&merged),
        });
    }
    Ok(out)
}

/// Replace Secret values with `***`; a value that changes shows as
/// `*** (before)` and `*** (after)`, as kubectl diff does.
fn mask_secrets(live: Option<&mut Value>, merged: &mut Value) {
    let empty = Value::Null;
    for field in ["data", "stringData"] {
        let before = live
            .as_ref()
            .map(|l| l[field].clone())
            .unwrap_or(Value::Null);
        if let Some(m) = merged.get_mut(field).and_then(Value::as_object_mut) {
            for (k, v) in m.iter_mut() {
                let same = before.get(k).unwrap_or(&empty) == v;
                *v = Value::String(if same {
                    "***".into()
                } else {
                    "*** (after)".into()
                });
            }
        }
    }
    if let Some(l) = live {
        for field in ["data", "stringData"] {
            let after = merged[field].clone();
            if let Some(m) = l.get_mut(field).and_then(Value::as_object_mut) {
                for (k, v) in m.iter_mut() {
                    let same = after.get(k).map(|a| a == "***").unwrap_or(false);
                    *v = Value::String(if same {
                        "***".into()
                    } else {
                        "*** (before)".into()
                    });
                }
            }
        }
    }
}

/// Kind, namespace and name of an object.
pub fn object_key(v: &Value) -> (String, String, String) {
    (
        v["kind"].as_str().unwrap_or("").to_string(),
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        v["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// The kinds an install is made of, and so the only kinds prune and delete
/// look at. Prune never deletes Namespaces; neither touches CRDs (except
/// `delete --with-crds`).
const INSTALL_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Service",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "Issuer",
    "Certificate",
];

struct Target {
    api: Api<DynamicObject>,
    namespace: Option<String>,
}

/// Every object labelled as part of `install`: in its namespace, and
/// cluster-scoped. Workloads first: the reverse of the apply order.
async fn installed(
    client: &Client,
    discovery: &Discovery,
    install: &str,
) -> anyhow::Result<Vec<(String, Target, String)>> {
    let selector = format!("{}={}", INSTALL_LABEL, install);
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if !INSTALL_KINDS.contains(&ar.kind.as_str()) {
                continue;
            }
            let namespaced = caps.scope == Scope::Namespaced;
            let make = || -> Api<DynamicObject> {
                if namespaced {
                    Api::namespaced_with(client.clone(), install, &ar)
                } else {
                    Api::all_with(client.clone(), &ar)
                }
            };
            let api = make();
            let lp = kube::api::ListParams::default().labels(&selector);
            let list = with_retries(|| api.list(&lp))
                .await
                .map_err(|e| anyhow!("listing {}: {}", ar.kind, describe(&e)))?;
            for item in list {
                let name = item.metadata.name.clone().unwrap_or_default();
                let target = Target {
                    api: make(),
                    namespace: if namespaced {
                        Some(install.to_string())
                    } else {
                        None
                    },
                };
                out.push((ar.kind.clone(), target, name));
            }
        }
    }
    out.sort_by_key(|(kind, _, name)| (std::cmp::Reverse(wave(kind)), kind.clone(), name.clone()));
    Ok(out)
}

async fn delete_one(api: &Api<DynamicObject>, name: &str, dry_run: bool) -> anyhow::Result<()> {
    let dp = if dry_run {
        kube::api::DeleteParams::default().dry_run()
    } else {
        kube::api::DeleteParams::default()
    };
    match with_retries(|| api.delete(name, &dp)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(anyhow!(describe(&e))),
    }
}

/// Who else uses the shared CRDs, by place (`namespace N` or `cluster
/// scope`) and kind: the Deployments of other installs (by their inventory
/// label) and every custom resource of the shared CRDs in every namespace
/// but `install`'s (those go with it) and at cluster scope.
async fn crd_users(
    client: &Client,
    discovery: &Discovery,
    install: &str,
    crds: &[String],
) -> anyhow::Result<BTreeMap<String, BTreeMap<String, usize>>> {
    let mut users: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    );
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let lp = kube::api::ListParams::default()
        .labels(&format!("{},{}!={}", INSTALL_LABEL, INSTALL_LABEL, install));
    let others = with_retries(|| api.list(&lp))
        .await
        .map_err(|e| anyhow!("listing installs: {}", describe(&e)))?;
    for d in &others {
        if let Some(owner) = d
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(INSTALL_LABEL))
        {
            *users
                .entry(format!("namespace {}", owner))
                .or_default()
                .entry("Deployment".into())
                .or_default() += 1;
        }
    }
    for crd in crds {
        // A CRD's name is `<plural>.<group>`.
        let Some((plural, group)) = crd.split_once('.') else {
            continue;
        };
        // Not served: the CRD is not installed, nothing uses it.
        let Some((ar, caps)) = discovery.get(group).and_then(|g| {
            g.recommended_resources()
                .into_iter()
                .find(|(ar, _)| ar.plural == plural)
        }) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let lp = kube::api::ListParams::default();
        let items = with_retries(|| api.list(&lp))
            .await
            .map_err(|e| anyhow!("listing {}: {}", ar.kind, describe(&e)))?;
        for item in &items {
            let place = match item.metadata.namespace.as_deref() {
                Some(ns) if ns == install => continue,
                Some(ns) if caps.scope == Scope::Namespaced => format!("namespace {}", ns),
                _ => "cluster scope".to_string(),
            };
            *users
                .entry(place)
                .or_default()
                .entry(ar.kind.clone())
                .or_default() += 1;
        }
    }
    Ok(users)
}

pub struct DeleteOptions {
    pub cluster: ApplyOptions,
    pub with_crds: bool,
    /// The names of the shared CRDs (from the render).
    pub crds: Vec<String>,
}

/// Remove one install: its labelled objects (workloads first), its
/// Namespace last, and with `with_crds` the shared CRDs, unless another
/// install is still on the cluster.
pub fn delete(o: &DeleteOptions) -> anyhow::Result<Summary> {
    runtime()?.block_on(delete_async(o))
}

async fn delete_async(o: &DeleteOptions) -> anyhow::Result<Summary> {
    let install = o
        .cluster
        .install
        .clone()
        .ok_or_else(|| anyhow!("delete needs the install's namespace"))?;
    let client = client(&o.cluster).await?;
    let discovery = discover(&client).await?;
    let dry = o.cluster.dry_run;
    if o.with_crds {
        let users = crd_users(&client, &discovery, &install, &o.crds).await?;
        if !users.is_empty() {
            let list: Vec<String> = users
                .iter()
                .map(|(place, kinds)| {
                    let counts: Vec<String> =
                        kinds.iter().map(|(k, n)| format!("{} {}", n, k)).collect();
                    format!("{} ({})", place, counts.join(", "))
                })
                .collect();
            bail!(
                "other installs still use the shared CRDs: {}; delete them first, or leave out --with-crds",
                list.join(", ")
            );
        }
    }
    let mut summary = Summary {
        dry_run: dry,
        deleting: true,
        ..Default::default()
    };
    let suffix = if dry { " (dry run)" } else { "" };
    let objects = installed(&client, &discovery, &install).await?;
    let mut progress = Progress::new(objects.len(), "deleting");
    for (kind, target, name) in objects {
        if let Err(e) = delete_one(&target.api, &name, dry).await {
            progress.finish();
            return Err(e.context(format!("{} {}", kind, name)));
        }
        progress.step(&format!("{}/{} deleted{}", kind, name, suffix));
        summary.add(&kind, Outcome::Pruned);
    }
    progress.finish();
    let ns_ar = kube::api::ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("", "v1", "Namespace"),
        "namespaces",
    );
    let ns_api: Api<DynamicObject> = Api::all_with(client.clone(), &ns_ar);
    if let Some(ns) = with_retries(|| ns_api.get_opt(&install))
        .await
        .map_err(|e| anyhow!(describe(&e)))?
    {
        let ours = ns
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(INSTALL_LABEL))
            .map(|v| v == &install)
            .unwrap_or(false);
        if ours {
            delete_one(&ns_api, &install, dry)
                .await
                .map_err(|e| e.context(format!("Namespace {}", install)))?;
            eprintln!("Namespace/{} deleted{}", install, suffix);
            summary.add("Namespace", Outcome::Pruned);
        }
    }
    if o.with_crds {
        let crd_ar = kube::api::ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        );
        let crd_api: Api<DynamicObject> = Api::all_with(client.clone(), &crd_ar);
        for name in &o.crds {
            delete_one(&crd_api, name, dry)
                .await
                .map_err(|e| e.context(format!("CustomResourceDefinition {}", name)))?;
            eprintln!("CustomResourceDefinition/{} deleted{}", name, suffix);
            summary.add("CustomResourceDefinition", Outcome::Pruned);
        }
    }
    Ok(summary)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Server-side apply as `kfp-aws`, forcing only when asked.
fn patch_params(o: &ApplyOptions, dry_run: bool) -> PatchParams {
    let mut pp = PatchParams::apply(FIELD_MANAGER);
    pp.force = o.force_conflicts;
    pp.dry_run = dry_run;
    pp.field_validation = Some(ValidationDirective::Strict);
    pp
}

/// The API endpoint of one object, from discovery.
fn api_for(
    client: &Client,
    discovery: &Discovery,
    obj: &Value,
) -> anyhow::Result<Api<DynamicObject>> {
    let kind = obj["kind"].as_str().unwrap_or("");
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let Some((ar, caps)) = discovery.resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
    else {
        bail!(
            "the cluster does not serve {} {} (is its CRD installed? `kfp-aws crds --apply` installs the shared CRDs)",
            api_version,
            kind
        );
    };
    Ok(if caps.scope == Scope::Namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or("default");
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    })
}

async fn apply_wave(
    client: &Client,
    discovery: &Discovery,
    objs: Vec<Value>,
    o: &ApplyOptions,
) -> anyhow::Result<Vec<(String, String, Outcome)>> {
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, obj) in objs.into_iter().enumerate() {
        let (kind, _, name) = object_key(&obj);
        let api = api_for(client, discovery, &obj)?;
        let sem = sem.clone();
        let pp = patch_params(o, o.dry_run);
        set.spawn(async move {
            let _permit = sem.acquire().await;
            let r = apply_one(&api, &name, &obj, &pp).await;
            (i, kind, name, r)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, kind, name, r) = joined.map_err(|e| anyhow!("an apply task failed: {}", e))?;
        match r {
            Ok(outcome) => out.push((i, kind, name, outcome)),
            Err(e) => return Err(e.context(format!("{} {}", kind, name))),
        }
    }
    out.sort_by_key(|x| x.0);
    Ok(out.into_iter().map(|(_, k, n, o)| (k, n, o)).collect())
}

/// Fields that change on every write or belong to the server.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "uid",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// The server's answer when the object's Namespace does not exist.
fn missing_namespace(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            s.code == 404
                && s.details
                    .as_ref()
                    .map(|d| d.kind == "namespaces")
                    .unwrap_or(false)
        }
        _ => false,
    }
}

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 409 => format!(
            "{}; another field manager owns these fields: rerun with --force-conflicts to take them over",
            s.message
        ),
        kube::Error::Api(s) => format!(
            "the API server refused it ({} {}): {}",
            s.code,
            s.reason,
            crate::truncate(&s.message, 300)
        ),
        other => crate::kubeclient::describe(other),
    }
}

async fn apply_one(
    api: &Api<DynamicObject>,
    name: &str,
    obj: &Value,
    pp: &PatchParams,
) -> anyhow::Result<Outcome> {
    let before = with_retries(|| api.get_opt(name))
        .await
        .map_err(|e| anyhow!(describe(&e)))?;
    let patch = Patch::Apply(obj);
    let after = match with_retries(|| api.patch(name, pp, &patch)).await {
        Ok(a) => a,
        // A dry run does not create the Namespace, so the server cannot
        // dry-run what goes into it; those objects would be created.
        Err(e) if pp.dry_run && before.is_none() && missing_namespace(&e) => {
            return Ok(Outcome::Created)
        }
        Err(e) => return Err(anyhow!(describe(&e))),
    };
    let Some(before) = before else {
        return Ok(Outcome::Created);
    };
    // Controllers write to objects too (status, a Deployment's revision
    // annotation), so a moved resourceVersion alone does not mean the apply
    // changed something: it did when a field it sends, or the set of fields
    // it owns, differs between before and after.
    let same = (!pp.dry_run && before.metadata.resource_version == after.metadata.resource_version)
        || untouched(
            obj,
            &serde_json::to_value(&before)?,
            &serde_json::to_value(&after)?,
        );
    Ok(if same {
        Outcome::Unchanged
    } else {
        Outcome::Configured
    })
}

/// Whether an apply of `sent` left `before` as it was: every field `sent`
/// names has the same value in `after` (lists compared whole), and the
/// fields kfp-aws owns are the same set.
fn untouched(sent: &Value, before: &Value, after: &Value) -> bool {
    fn same_where(sent: &Value, before: &Value, after: &Value) -> bool {
        match sent {
            Value::Object(m) => m.iter().all(|(k, v)| match (before.get(k), after.get(k)) {
                (Some(b), Some(a)) => same_where(v, b, a),
                (None, None) => true,
                _ => false,
            }),
            _ => before == after,
        }
    }
    fn owned(v: &Value) -> Option<&Value> {
        v["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|m| m["manager"] == FIELD_MANAGER && m["operation"] == "Apply")
            .map(|m| &m["fieldsV1"])
    }
    let mut sent = sent.clone();
    if let Some(meta) = sent.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    // A Secret's `stringData` is stored in `data`.
    let data_kept = sent.get("stringData").is_none() || before.get("data") == after.get("data");
    same_where(&sent, before, after) && data_kept && owned(before) == owned(after)
}

/// Poll the CRDs until each reports `Established`.
async fn wait_established(
    client: &Client,
    names: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "customresourcedefinitions",
    );
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let start = Instant::now();
    let mut pending: Vec<String> = names.to_vec();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for name in &pending {
            let crd = with_retries(|| api.get_opt(name))
                .await
                .map_err(|e| anyhow!(describe(&e)))?;
            let established = crd
                .and_then(|c| c.data["status"]["conditions"].as_array().cloned())
                .map(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Established" && c["status"] == "True")
                })
                .unwrap_or(false);
            if !established {
                still.push(name.clone());
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if start.elapsed() >= timeout {
            bail!(
                "CRD(s) not established after {}s: {}; check `kubectl get crd {} -o yaml` (status.conditions)",
                timeout.as_secs(),
                pending.join(", "),
                pending[0]
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_and_namespaces_go_first_and_workloads_last() {
        assert!(wave("CustomResourceDefinition") < wave("ServiceAccount"));
        assert!(wave("Namespace") < wave("ClusterRole"));
        assert!(wave("RoleBinding") < wave("ConfigMap"));
        assert!(wave("Secret") < wave("Service"));
        assert!(wave("Service") < wave("Deployment"));
        assert_eq!(wave("Viewer"), wave("Deployment"));
    }

    #[test]
    fn a_write_by_a_controller_is_not_a_change_by_the_apply() {
        let sent = serde_json::json!({"metadata": {"name": "m", "labels": {"a": "1"}}, "spec": {"replicas": 1, "ports": [{"port": 80}]}});
        let owned = serde_json::json!([{"manager": "kfp-aws", "operation": "Apply", "fieldsV1": {"f:spec": {}}}]);
        let before = serde_json::json!({"metadata": {"name": "m", "labels": {"a": "1"}, "resourceVersion": "1", "managedFields": owned},
            "spec": {"replicas": 1, "ports": [{"port": 80, "protocol": "TCP"}]}, "status": {}});
        let mut after = before.clone();
        after["metadata"]["resourceVersion"] = "2".into();
        after["status"] = serde_json::json!({"phase": "Pending"});
        after["metadata"]["annotations"] = serde_json::json!({"revision": "1"});
        assert!(untouched(&sent, &before, &after));
        let mut changed = after.clone();
        changed["spec"]["replicas"] = 2.into();
        assert!(!untouched(&sent, &before, &changed));
        let mut list = after.clone();
        list["spec"]["ports"][0]["protocol"] = "UDP".into();
        assert!(!untouched(&sent, &before, &list));
        // A field the render no longer sends is given up: the owned set shrinks.
        let mut given_up = after.clone();
        given_up["metadata"]["managedFields"][0]["fieldsV1"] = serde_json::json!({});
        assert!(!untouched(&sent, &before, &given_up));
        // A Secret's stringData lands in data.
        let secret = serde_json::json!({"metadata": {"name": "s"}, "stringData": {"k": "v2"}});
        let old = serde_json::json!({"metadata": {"name": "s"}, "data": {"k": "djE="}});
        let new = serde_json::json!({"metadata": {"name": "s"}, "data": {"k": "djI="}});
        assert!(!untouched(&secret, &old, &new));
        assert!(untouched(&secret, &old, &old));
    }

    #[test]
    fn delete_summary_says_deleted() {
        let mut s = Summary {
            deleting: true,
            ..Default::default()
        };
        s.add("Service", Outcome::Pruned);
        s.add("Service", Outcome::Pruned);
        let t = s.to_table();
        assert_eq!(t, "KIND     DELETED\nService        2\n2 deleted\n");
    }

    #[test]
    fn summary_counts_per_kind() {
        let mut s = Summary::default();
        s.add("Deployment", Outcome::Created);
        s.add("Deployment", Outcome::Unchanged);
        s.add("ConfigMap", Outcome::Configured);
        let t = s.to_table();
        assert!(
            t.contains("ConfigMap         0           1          0       0\n"),
            "{}",
            t
        );
        assert!(
            t.ends_with("1 created, 1 configured, 1 unchanged, 0 pruned\n"),
            "{}",
            t
        );
    }
}
