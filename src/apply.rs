//! `kfp-aws apply` and `kfp-aws crds --apply`: server-side apply of a render.
//!
//! The objects go out in waves: CRDs and Namespaces first, then (after every
//! CRD reports `Established` and discovery is refreshed) ServiceAccounts and
//! RBAC, ConfigMaps, Secrets and claims, Services, and last the workloads and
//! custom resources. Within a wave, objects are applied concurrently (at most
//! [`CONCURRENCY`] at a time). Every object is applied with the field manager
//! `kfp-aws`; a field owned by another manager is a conflict unless
//! `--force-conflicts`. Throttling (429), server errors (5xx) and broken
//! connections are retried with back-off; any other error is not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use kube::Client;
use serde_json::Value;

use crate::kustomize::Resource;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "kfp-aws";
/// The inventory label: which install an object belongs to (its namespace).
pub const INSTALL_LABEL: &str = "kfp-aws.kubeflow.org/install";
/// Objects applied at the same time within a wave.
pub const CONCURRENCY: usize = 8;
const ATTEMPTS: u32 = 5;

pub struct ApplyOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub dry_run: bool,
    pub force_conflicts: bool,
    /// How long CRDs may take to become Established.
    pub crd_timeout: Duration,
    /// The install the objects belong to (its namespace); `None` for the
    /// shared CRDs, which carry no inventory label.
    pub install: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

/// What happened, per kind.
#[derive(Default, Debug)]
pub struct Summary {
    pub counts: BTreeMap<String, [usize; 3]>,
    pub dry_run: bool,
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
        let mut s = format!(
            "{:<w$}  {:>7}  {:>10}  {:>9}\n",
            "KIND",
            "CREATED",
            "CONFIGURED",
            "UNCHANGED",
            w = w
        );
        for (k, c) in &self.counts {
            s.push_str(&format!(
                "{:<w$}  {:>7}  {:>10}  {:>9}\n",
                k,
                c[0],
                c[1],
                c[2],
                w = w
            ));
        }
        s.push_str(&format!(
            "{}{} created, {} configured, {} unchanged\n",
            if self.dry_run {
                "(server dry run) "
            } else {
                ""
            },
            self.total(Outcome::Created),
            self.total(Outcome::Configured),
            self.total(Outcome::Unchanged)
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

async fn client(o: &ApplyOptions) -> anyhow::Result<Client> {
    let opts = KubeConfigOptions {
        context: o.context.clone(),
        ..Default::default()
    };
    let config = match &o.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .context("kubeconfig")?
        }
        None if o.context.is_some() => kube::Config::from_kubeconfig(&opts)
            .await
            .context("kubeconfig")?,
        None => kube::Config::infer().await.context(
            "no cluster configured: set KUBECONFIG, pass --kubeconfig, or run in a cluster",
        )?,
    };
    Client::try_from(config).context("cannot create the Kubernetes client")
}

/// Apply the objects of a render. Progress goes to stderr.
pub fn apply(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Summary> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(apply_async(items, o))
}

async fn apply_async(items: &[Resource], o: &ApplyOptions) -> anyhow::Result<Summary> {
    let client = client(o).await?;
    let mut discovery = Discovery::new(client.clone())
        .run()
        .await
        .context("API discovery failed")?;
    let mut summary = Summary {
        dry_run: o.dry_run,
        ..Default::default()
    };
    let mut waves: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for r in items {
        let mut obj = r.obj.clone();
        if let Some(install) = &o.install {
            let kind = obj["kind"].as_str().unwrap_or("");
            if kind != "CustomResourceDefinition" {
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
        waves
            .entry(wave(obj["kind"].as_str().unwrap_or("")))
            .or_default()
            .push(obj);
    }
    let total: usize = waves.values().map(Vec::len).sum();
    let mut done = 0;
    for (w, objs) in waves {
        let results = apply_wave(&client, &discovery, objs.clone(), o).await?;
        for (kind, name, outcome) in results {
            done += 1;
            let verb = match outcome {
                Outcome::Created => "created",
                Outcome::Configured => "configured",
                Outcome::Unchanged => "unchanged",
            };
            eprintln!(
                "[{}/{}] {}/{} {}{}",
                done,
                total,
                kind,
                name,
                verb,
                if o.dry_run { " (dry run)" } else { "" }
            );
            summary.add(&kind, outcome);
        }
        if w == 0 {
            let crds: Vec<String> = objs
                .iter()
                .filter(|v| v["kind"] == "CustomResourceDefinition")
                .filter_map(|v| v["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            if !crds.is_empty() && !o.dry_run {
                wait_established(&client, &crds, o.crd_timeout).await?;
                discovery = Discovery::new(client.clone())
                    .run()
                    .await
                    .context("API discovery failed")?;
            }
        }
    }
    Ok(summary)
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
        let kind = obj["kind"].as_str().unwrap_or("").to_string();
        let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.clone()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, &kind);
        let Some((ar, caps)) = discovery.resolve_gvk(&gvk) else {
            bail!("the cluster does not serve {} {} (is its CRD installed? `kfp-aws crds --apply` installs the shared CRDs)", api_version, kind);
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            let ns = obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string();
            Api::namespaced_with(client.clone(), &ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let sem = sem.clone();
        let mut pp = PatchParams::apply(FIELD_MANAGER);
        pp.force = o.force_conflicts;
        pp.dry_run = o.dry_run;
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

fn retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 409 => format!(
            "{}; another field manager owns these fields: rerun with --force-conflicts to take them over",
            s.message
        ),
        kube::Error::Api(s) => format!("the API server refused it ({} {}): {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

async fn with_retries<T, F, Fut>(mut f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            other => return other,
        }
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
    let after = with_retries(|| api.patch(name, pp, &patch))
        .await
        .map_err(|e| anyhow!(describe(&e)))?;
    let Some(before) = before else {
        return Ok(Outcome::Created);
    };
    let same = if pp.dry_run {
        comparable(&serde_json::to_value(&before)?) == comparable(&serde_json::to_value(&after)?)
    } else {
        before.metadata.resource_version == after.metadata.resource_version
    };
    Ok(if same {
        Outcome::Unchanged
    } else {
        Outcome::Configured
    })
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
    eprintln!("waiting for {} CRD(s) to be established", pending.len());
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
    fn summary_counts_per_kind() {
        let mut s = Summary::default();
        s.add("Deployment", Outcome::Created);
        s.add("Deployment", Outcome::Unchanged);
        s.add("ConfigMap", Outcome::Configured);
        let t = s.to_table();
        assert!(
            t.contains("ConfigMap         0           1          0"),
            "{}",
            t
        );
        assert!(
            t.ends_with("1 created, 1 configured, 1 unchanged\n"),
            "{}",
            t
        );
    }
}
