//! The real control plane of the integration tests: etcd, kube-apiserver and
//! kube-controller-manager on 127.0.0.1, started once per test run by
//! `scripts/kube-peer up` (which `scripts/test` calls) and shared by every
//! test of tests/realapi.rs. `scripts/test` exports `KFP_AWS_KUBECONFIG`;
//! without it the tests say they are skipped. With it, a peer that does not
//! answer fails them.
//!
//! [`Live`] reads and writes the cluster directly (as another client would),
//! so that the tests check the server's state, not what kfp-aws reports.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::Client;
use serde_json::Value;

/// The kubeconfig of the real peer, when the test command started one.
pub fn kubeconfig() -> Option<PathBuf> {
    std::env::var_os("KFP_AWS_KUBECONFIG").map(PathBuf::from)
}

/// A namespace name no other test (of this run or an earlier one on the
/// same peer) uses: `<tag>-<pid>-<n>`.
pub fn namespace(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub struct Live {
    rt: tokio::runtime::Runtime,
    client: Client,
}

fn split(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl Live {
    pub fn connect(kubeconfig: &Path) -> Live {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let client = rt.block_on(async {
            let kc = Kubeconfig::read_from(kubeconfig).expect("read the peer's kubeconfig");
            let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .expect("the peer's kubeconfig");
            Client::try_from(config).expect("client for the peer")
        });
        let live = Live { rt, client };
        let version = live
            .rt
            .block_on(live.client.apiserver_version())
            .unwrap_or_else(|e| {
                panic!(
                    "the Kubernetes peer at {} does not answer: {}",
                    kubeconfig.display(),
                    e
                )
            });
        assert!(
            version.git_version.starts_with("v1."),
            "{:?}",
            version.git_version
        );
        live
    }

    fn resolve(&self, api_version: &str, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
        let (group, version) = split(api_version);
        // Fresh discovery each time: CRDs come and go during the tests.
        let discovery = self
            .rt
            .block_on(Discovery::new(self.client.clone()).run_aggregated())
            .expect("discovery");
        discovery.resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
    }

    fn api(&self, api_version: &str, kind: &str, ns: Option<&str>) -> Api<DynamicObject> {
        let (ar, caps) = self
            .resolve(api_version, kind)
            .unwrap_or_else(|| panic!("the peer does not serve {} {}", api_version, kind));
        match (caps.scope, ns) {
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }
    }

    /// The live object, or `None` when it does not exist.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let api = self.api(api_version, kind, ns);
        self.rt
            .block_on(api.get_opt(name))
            .unwrap_or_else(|e| panic!("GET {} {}: {}", kind, name, e))
            .map(|o| serde_json::to_value(o).expect("json"))
    }

    /// The live counterpart of a rendered object.
    pub fn get_like(&self, obj: &Value) -> Option<Value> {
        let ns = obj["metadata"]["namespace"].as_str();
        self.get(
            obj["apiVersion"].as_str().unwrap_or(""),
            obj["kind"].as_str().unwrap_or(""),
            ns,
            obj["metadata"]["name"].as_str().unwrap_or(""),
        )
    }

    /// Every object of a kind, in `ns` (or everywhere), matching `selector`.
    pub fn list(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        selector: &str,
    ) -> Vec<Value> {
        let api = self.api(api_version, kind, ns);
        let lp = ListParams::default().labels(selector);
        // List items come without apiVersion and kind; give them theirs.
        self.rt
            .block_on(api.list(&lp))
            .unwrap_or_else(|e| panic!("LIST {}: {}", kind, e))
            .items
            .into_iter()
            .map(|o| {
                let mut v = serde_json::to_value(o).expect("json");
                v["apiVersion"] = Value::String(api_version.to_string());
                v["kind"] = Value::String(kind.to_string());
                v
            })
            .collect()
    }

    /// Server-side apply of `obj` as field manager `manager`.
    pub fn apply_as(&self, manager: &str, obj: &Value, force: bool) -> Result<Value, String> {
        let ns = obj["metadata"]["namespace"].as_str();
        let api = self.api(
            obj["apiVersion"].as_str().unwrap_or(""),
            obj["kind"].as_str().unwrap_or(""),
            ns,
        );
        let mut pp = PatchParams::apply(manager);
        pp.force = force;
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        self.rt
            .block_on(api.patch(name, &pp, &Patch::Apply(obj)))
            .map(|o| serde_json::to_value(o).expect("json"))
            .map_err(|e| e.to_string())
    }

    pub fn delete(&self, api_version: &str, kind: &str, ns: Option<&str>, name: &str) {
        let api = self.api(api_version, kind, ns);
        match self.rt.block_on(api.delete(name, &DeleteParams::default())) {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => panic!("DELETE {} {}: {}", kind, name, e),
        }
    }

    /// Waits (polling) until the object is gone; false after `timeout`.
    pub fn wait_gone(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
        timeout: Duration,
    ) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.get(api_version, kind, ns, name).is_none() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    }

    /// Waits until `list` finds at least one object; false after `timeout`.
    pub fn wait_some(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        selector: &str,
        timeout: Duration,
    ) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if !self.list(api_version, kind, ns, selector).is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    }
}

/// The places where `want` (a rendered object) is not in `live`: every leaf
/// of `want` must be in `live` with the same value; lists must have the same
/// length and match item by item. Returns the JSON pointers that differ.
pub fn missing_fields(want: &Value, live: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(want, live, String::new(), &mut out);
    out
}

fn walk(want: &Value, live: &Value, at: String, out: &mut Vec<String>) {
    match (want, live) {
        (Value::Object(w), Value::Object(l)) => {
            for (k, wv) in w {
                let here = format!("{}/{}", at, k.replace('~', "~0").replace('/', "~1"));
                match l.get(k) {
                    Some(lv) => walk(wv, lv, here, out),
                    // The server leaves out what equals absence: an empty
                    // map or list, and Go's zero values of `omitempty`
                    // fields ("", false, 0; `value: ""` of an env var).
                    None if empty(wv) => {}
                    None => out.push(format!("{} (absent)", here)),
                }
            }
        }
        (Value::Array(w), Value::Array(l)) if w.len() == l.len() => {
            for (i, (wv, lv)) in w.iter().zip(l).enumerate() {
                walk(wv, lv, format!("{}/{}", at, i), out);
            }
        }
        (w, l) if w == l => {}
        // Integers and floats that are the same number.
        (Value::Number(w), Value::Number(l)) if w.as_f64() == l.as_f64() => {}
        (w, l) => out.push(format!("{}: rendered {} live {}", at, w, l)),
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}
