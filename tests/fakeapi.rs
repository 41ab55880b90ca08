//! Tests of the fake API server (tests/support/fakeapi.rs), the test double
//! that tests/apply.rs installs KFP on: its answers must match the real
//! Kubernetes wire protocol closely enough for the `kube` client.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::fakeapi::*;

/// A server that, unlike a real one, lets objects be created in Namespaces
/// that do not exist: these tests are about other things.
fn lenient() -> FakeApi {
    let api = FakeApi::start();
    api.set_require_namespaces(false);
    api
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
    raw: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn new(api: &FakeApi) -> Conn {
        let addr = api.url().trim_start_matches("http://").to_string();
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn raw(&mut self, bytes: &[u8]) -> Resp {
        self.writer.write_all(bytes).unwrap();
        self.read()
    }

    fn read(&mut self) -> Resp {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            self.reader.read_line(&mut l).unwrap();
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            let (n, v) = l.split_once(':').unwrap();
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        let raw = String::from_utf8(body).unwrap();
        Resp {
            status,
            headers,
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    fn request(&mut self, method: &str, target: &str, ct: Option<&str>, body: &str) -> Resp {
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n");
        if let Some(ct) = ct {
            req.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if !body.is_empty() || method == "PATCH" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.raw(req.as_bytes())
    }
}

fn get(api: &FakeApi, target: &str) -> Resp {
    Conn::new(api).request("GET", target, None, "")
}

fn delete(api: &FakeApi, target: &str) -> Resp {
    Conn::new(api).request("DELETE", target, None, "")
}

fn apply(api: &FakeApi, target: &str, body: &Value) -> Resp {
    Conn::new(api).request(
        "PATCH",
        target,
        Some("application/apply-patch+yaml"),
        &body.to_string(),
    )
}

const DEPLOY: &str = "/apis/apps/v1/namespaces/kubeflow/deployments/ml-pipeline";
const APPLY_Q: &str = "?fieldManager=kfp-aws";

fn deployment(replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ml-pipeline", "namespace": "kubeflow", "labels": {"app": "ml-pipeline"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "ml-pipeline"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}},
        },
    })
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn crd(scope: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "viewers.kubeflow.org"},
        "spec": {
            "group": "kubeflow.org",
            "names": {"kind": "Viewer", "listKind": "ViewerList", "plural": "viewers", "singular": "viewer"},
            "scope": scope,
            "versions": [
                {"name": "v1beta1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v1alpha1", "served": false, "storage": false},
            ],
        },
    })
}

const CRD_PATH: &str =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/viewers.kubeflow.org";

fn viewer() -> Value {
    json!({"apiVersion": "kubeflow.org/v1beta1", "kind": "Viewer", "metadata": {"name": "v"}, "spec": {"x": 1}})
}

const VIEWER_PATH: &str = "/apis/kubeflow.org/v1beta1/namespaces/kubeflow/viewers/v";

fn group_names(api: &FakeApi) -> Vec<String> {
    let r = get(api, "/apis");
    assert_eq!(r.status, 200);
    r.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn discovery_documents() {
    let api = lenient();
    let v = get(&api, "/version");
    assert_eq!(v.status, 200);
    assert_eq!(v.body["major"], "1");
    assert_eq!(v.body["minor"], "31");
    assert_eq!(v.body["gitVersion"], "v1.31.0");
    assert_eq!(v.header("content-type"), Some("application/json"));

    let a = get(&api, "/api");
    assert_eq!(
        a.body,
        json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
    );

    let core = get(&api, "/api/v1");
    assert_eq!(core.body["kind"], "APIResourceList");
    assert_eq!(core.body["groupVersion"], "v1");
    let res = core.body["resources"].as_array().unwrap();
    let ns = res.iter().find(|r| r["name"] == "namespaces").unwrap();
    assert_eq!(ns["namespaced"], false);
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(ns["singularName"], "namespace");
    assert_eq!(ns["verbs"].as_array().unwrap().len(), 7);
    for name in [
        "serviceaccounts",
        "configmaps",
        "secrets",
        "services",
        "persistentvolumeclaims",
        "pods",
        "events",
    ] {
        let r = res.iter().find(|r| r["name"] == name).unwrap();
        assert_eq!(r["namespaced"], true, "{name}");
    }

    let groups = group_names(&api);
    for g in [
        "apps",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "scheduling.k8s.io",
        "policy",
        "networking.k8s.io",
        "admissionregistration.k8s.io",
        "batch",
    ] {
        assert!(groups.contains(&g.to_string()), "{g}");
    }
    let apis = get(&api, "/apis");
    assert_eq!(apis.body["kind"], "APIGroupList");
    let apps = &apis.body["groups"][0];
    assert_eq!(apps["name"], "apps");
    assert_eq!(
        apps["versions"],
        json!([{"groupVersion": "apps/v1", "version": "v1"}])
    );
    assert_eq!(
        apps["preferredVersion"],
        json!({"groupVersion": "apps/v1", "version": "v1"})
    );

    let rbac = get(&api, "/apis/rbac.authorization.k8s.io/v1");
    assert_eq!(rbac.body["groupVersion"], "rbac.authorization.k8s.io/v1");
    let res = rbac.body["resources"].as_array().unwrap();
    let scope = |n: &str| res.iter().find(|r| r["name"] == n).unwrap()["namespaced"].clone();
    assert_eq!(scope("roles"), true);
    assert_eq!(scope("rolebindings"), true);
    assert_eq!(scope("clusterroles"), false);
    assert_eq!(scope("clusterrolebindings"), false);
    let w = get(&api, "/apis/admissionregistration.k8s.io/v1");
    assert_eq!(w.body["resources"].as_array().unwrap().len(), 2);
    assert_eq!(
        get(&api, "/apis/batch/v1").body["resources"][1]["kind"],
        "CronJob"
    );
    assert_eq!(get(&api, "/apis/apps").body["name"], "apps");
    assert_eq!(get(&api, "/apis/nope/v1").status, 404);
    assert_eq!(get(&api, "/apis/apps/v2").status, 404);

    // Aggregated discovery is asked for: legacy documents come back.
    let mut c = Conn::new(&api);
    let r = c.raw(
        b"GET /apis HTTP/1.1\r\nHost: x\r\nAccept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body["kind"], "APIGroupList");
}

#[test]
fn apply_create_then_noop_then_change() {
    let api = lenient();
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    assert_eq!(r.status, 201, "{}", r.raw);
    let meta = &r.body["metadata"];
    assert_eq!(meta["namespace"], "kubeflow");
    assert_eq!(meta["generation"], 1);
    assert_eq!(meta["creationTimestamp"], "2026-01-01T00:00:00Z");
    assert!(meta["uid"].as_str().unwrap().len() > 10);
    let mf = &meta["managedFields"][0];
    assert_eq!(mf["manager"], "kfp-aws");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["apiVersion"], "apps/v1");
    assert_eq!(mf["fieldsType"], "FieldsV1");
    assert_eq!(mf["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    assert_eq!(mf["fieldsV1"]["f:metadata"]["f:labels"]["f:app"], json!({}));
    let rv1 = rv(&r.body);

    // Identical apply: unchanged.
    let r2 = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    assert_eq!(r2.status, 200);
    assert_eq!(rv(&r2.body), rv1);
    assert_eq!(r2.body["metadata"]["generation"], 1);
    assert_eq!(r2.body["metadata"]["uid"], meta["uid"]);

    // Changed apply: rv and generation bump.
    let r3 = apply(
        &api,
        &format!("{DEPLOY}{APPLY_Q}&force=false"),
        &deployment(3),
    );
    assert_eq!(r3.status, 200);
    assert_ne!(rv(&r3.body), rv1);
    assert_eq!(r3.body["metadata"]["generation"], 2);
    assert_eq!(r3.body["spec"]["replicas"], 3);

    // Label-only change: rv bumps, generation does not.
    let mut d = deployment(3);
    d["metadata"]["labels"]["extra"] = json!("yes");
    let r4 = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &d);
    assert_ne!(rv(&r4.body), rv(&r3.body));
    assert_eq!(r4.body["metadata"]["generation"], 2);

    // A field no longer sent is removed.
    let r5 = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(3));
    assert!(r5.body["metadata"]["labels"].get("extra").is_none());
    assert_eq!(r5.body["metadata"]["labels"]["app"], "ml-pipeline");
    let mut no_replicas = deployment(3);
    no_replicas["spec"]
        .as_object_mut()
        .unwrap()
        .remove("replicas");
    let r6 = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &no_replicas);
    assert!(r6.body["spec"].get("replicas").is_none());
    assert_eq!(r6.body["metadata"]["generation"], 3);

    // GET and the accessors agree.
    let g = get(&api, DEPLOY);
    assert_eq!(g.status, 200);
    assert_eq!(g.body, r6.body);
    let stored = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .unwrap();
    assert_eq!(stored, r6.body);
    assert_eq!(api.objects().len(), 1);
    assert!(api
        .get("apps/v1", "Deployment", None, "ml-pipeline")
        .is_none());
}

#[test]
fn conflict_and_force() {
    let api = lenient();
    api.put(deployment(5));
    let other = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .unwrap();
    assert_eq!(
        other["metadata"]["managedFields"][0]["manager"],
        "other-tool"
    );
    assert_eq!(other["metadata"]["managedFields"][0]["operation"], "Update");
    let rv0 = rv(&other);

    // Same values: shared ownership, no conflict.
    let same = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(5));
    assert_eq!(same.status, 200, "{}", same.raw);
    assert_eq!(rv(&same.body), rv0);

    // Different value of a field owned by other-tool: 409.
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(2));
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "reason": "Conflict",
            "code": 409,
            "message": "Apply failed with 1 conflict: conflict with \"other-tool\": .spec.replicas",
            "details": {"causes": [{
                "reason": "FieldManagerConflict",
                "message": "conflict with \"other-tool\"",
                "field": ".spec.replicas",
            }]},
        })
    );
    assert_eq!(
        api.get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
            .unwrap()["spec"]["replicas"],
        5
    );

    // Two conflicts.
    let mut d = deployment(2);
    d["metadata"]["labels"]["app"] = json!("changed");
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &d);
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["message"],
        "Apply failed with 2 conflicts: conflicts with \"other-tool\":\n- .metadata.labels.app\n- .spec.replicas"
    );
    assert_eq!(r.body["details"]["causes"].as_array().unwrap().len(), 2);

    // force=true takes ownership.
    let r = apply(
        &api,
        &format!("{DEPLOY}{APPLY_Q}&force=true"),
        &deployment(2),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["spec"]["replicas"], 2);
    assert_ne!(rv(&r.body), rv0);
    let mf = r.body["metadata"]["managedFields"].as_array().unwrap();
    let of = |m: &str| {
        mf.iter()
            .find(|e| e["manager"] == m)
            .unwrap_or_else(|| panic!("{m}: {mf:?}"))["fieldsV1"]
            .clone()
    };
    assert!(of("other-tool")["f:spec"].get("f:replicas").is_none());
    assert!(of("other-tool")["f:spec"].get("f:selector").is_some());
    assert_eq!(of("kfp-aws")["f:spec"]["f:replicas"], json!({}));
    // And now applies without force succeed.
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(4));
    assert_eq!(r.status, 200, "{}", r.raw);

    // A field the applier stops sending, still owned by another manager, stays.
    let mut less = deployment(4);
    less["spec"].as_object_mut().unwrap().remove("selector");
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &less);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["spec"]["selector"]["matchLabels"]["app"],
        "ml-pipeline"
    );
}

#[test]
fn put_replaces_and_takes_changed_fields() {
    let api = lenient();
    apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    let before = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .unwrap();
    api.put(deployment(7));
    let after = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .unwrap();
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_ne!(rv(&after), rv(&before));
    assert_eq!(after["metadata"]["generation"], 2);
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    assert_eq!(r.status, 409);
    // A namespaced object put without a namespace lands in "default".
    api.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}));
    assert!(api.get("v1", "ConfigMap", Some("default"), "c").is_some());
    assert_eq!(
        get(&api, "/api/v1/namespaces/default/configmaps/c").body["data"]["a"],
        "b"
    );
}

#[test]
fn dry_run_stores_nothing() {
    let api = lenient();
    let r = apply(
        &api,
        &format!("{DEPLOY}{APPLY_Q}&dryRun=All"),
        &deployment(1),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.body["spec"]["replicas"], 1);
    assert_eq!(r.body["metadata"]["managedFields"][0]["manager"], "kfp-aws");
    assert!(api.objects().is_empty());
    assert_eq!(get(&api, DEPLOY).status, 404);

    let created = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    let r = apply(
        &api,
        &format!("{DEPLOY}{APPLY_Q}&dryRun=All"),
        &deployment(9),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["spec"]["replicas"], 9);
    let now = get(&api, DEPLOY);
    assert_eq!(now.body, created.body);

    // Dry-run conflicts are reported too.
    api.put(deployment(5));
    let r = apply(
        &api,
        &format!("{DEPLOY}{APPLY_Q}&dryRun=All"),
        &deployment(6),
    );
    assert_eq!(r.status, 409);

    let r = Conn::new(&api).request("DELETE", &format!("{DEPLOY}?dryRun=All"), None, "");
    assert_eq!(r.status, 200);
    assert_eq!(get(&api, DEPLOY).status, 200);
}

#[test]
fn crd_established_after_delay() {
    let api = lenient();
    api.set_crd_establish_delay(Some(Duration::from_millis(300)));
    assert_eq!(
        apply(&api, &format!("{VIEWER_PATH}{APPLY_Q}"), &viewer()).status,
        404
    );

    let r = apply(&api, &format!("{CRD_PATH}{APPLY_Q}"), &crd("Namespaced"));
    assert_eq!(r.status, 201, "{}", r.raw);
    let conds = r.body["status"]["conditions"].as_array().unwrap();
    assert!(!conds.iter().any(|c| c["type"] == "Established"));
    assert!(!group_names(&api).contains(&"kubeflow.org".to_string()));
    assert_eq!(get(&api, "/apis/kubeflow.org/v1beta1").status, 404);
    let r = apply(&api, &format!("{VIEWER_PATH}{APPLY_Q}"), &viewer());
    assert_eq!(r.status, 404);
    assert_eq!(r.body["reason"], "NotFound");
    assert_eq!(get(&api, VIEWER_PATH).status, 404);

    std::thread::sleep(Duration::from_millis(400));
    let c = get(&api, CRD_PATH);
    let conds = c.body["status"]["conditions"].as_array().unwrap();
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True"));
    assert!(conds
        .iter()
        .any(|c| c["type"] == "NamesAccepted" && c["status"] == "True"));
    assert_eq!(c.body["status"]["acceptedNames"]["plural"], "viewers");

    let apis = get(&api, "/apis");
    let g = apis.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "kubeflow.org")
        .unwrap()
        .clone();
    assert_eq!(
        g["versions"],
        json!([{"groupVersion": "kubeflow.org/v1beta1", "version": "v1beta1"}])
    );
    assert_eq!(g["preferredVersion"]["version"], "v1beta1");
    let rl = get(&api, "/apis/kubeflow.org/v1beta1");
    assert_eq!(rl.status, 200);
    assert_eq!(
        rl.body["resources"],
        json!([{"name": "viewers", "singularName": "viewer", "namespaced": true, "kind": "Viewer",
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}])
    );
    assert_eq!(get(&api, "/apis/kubeflow.org/v1alpha1").status, 404);

    let r = apply(&api, &format!("{VIEWER_PATH}{APPLY_Q}"), &viewer());
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(get(&api, VIEWER_PATH).status, 200);
    let list = get(&api, "/apis/kubeflow.org/v1beta1/viewers");
    assert_eq!(list.body["kind"], "ViewerList");
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // Re-applying the CRD unchanged is a no-op.
    let again = apply(&api, &format!("{CRD_PATH}{APPLY_Q}"), &crd("Namespaced"));
    assert_eq!(again.status, 200);
    assert_eq!(rv(&again.body), rv(&c.body));

    // Deleting the CRD removes its resources.
    assert_eq!(delete(&api, CRD_PATH).status, 200);
    assert_eq!(get(&api, VIEWER_PATH).status, 404);
    assert!(api.objects().is_empty());
}

#[test]
fn crd_never_established() {
    let api = lenient();
    api.set_crd_establish_delay(None);
    let r = apply(&api, &format!("{CRD_PATH}{APPLY_Q}"), &crd("Namespaced"));
    assert_eq!(r.status, 201);
    std::thread::sleep(Duration::from_millis(300));
    let c = get(&api, CRD_PATH);
    assert!(!c.body["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Established"));
    assert!(!group_names(&api).contains(&"kubeflow.org".to_string()));
    assert_eq!(
        apply(&api, &format!("{VIEWER_PATH}{APPLY_Q}"), &viewer()).status,
        404
    );
    // Dry-run CRDs are never stored.
    api.set_crd_establish_delay(Some(Duration::ZERO));
    assert!(group_names(&api).contains(&"kubeflow.org".to_string()));
}

#[test]
fn cluster_scoped_crd_and_resources() {
    let api = lenient();
    api.set_crd_establish_delay(Some(Duration::ZERO));
    apply(&api, &format!("{CRD_PATH}{APPLY_Q}"), &crd("Cluster"));
    let r = apply(
        &api,
        &format!("/apis/kubeflow.org/v1beta1/viewers/v{APPLY_Q}"),
        &viewer(),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r.body["metadata"].get("namespace").is_none());
    assert_eq!(
        apply(&api, &format!("{VIEWER_PATH}{APPLY_Q}"), &viewer()).status,
        404
    );
    // Cluster-scoped built-in.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow"}});
    assert_eq!(
        apply(&api, &format!("/api/v1/namespaces/kubeflow{APPLY_Q}"), &ns).status,
        201
    );
    assert_eq!(
        get(&api, "/api/v1/namespaces/kubeflow").body["kind"],
        "Namespace"
    );
    // A namespaced resource needs a namespace to be addressed by name.
    assert_eq!(get(&api, "/apis/apps/v1/deployments/x").status, 404);
}

#[test]
fn list_with_label_selector() {
    let api = lenient();
    let cm = |ns: &str, name: &str, labels: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels}});
    for (ns, name, labels) in [
        ("a", "one", json!({"app": "kfp", "tier": "x"})),
        ("a", "two", json!({"app": "other"})),
        ("b", "three", json!({"app": "kfp"})),
    ] {
        let r = apply(
            &api,
            &format!("/api/v1/namespaces/{ns}/configmaps/{name}{APPLY_Q}"),
            &cm(ns, name, labels),
        );
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let names = |r: Resp| -> Vec<String> {
        assert_eq!(r.status, 200, "{}", r.raw);
        assert!(r.body["kind"].as_str().unwrap().ends_with("List"));
        assert!(r.body["metadata"]["resourceVersion"].is_string());
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(get(&api, "/api/v1/configmaps")),
        ["one", "two", "three"]
    );
    assert_eq!(
        names(get(&api, "/api/v1/namespaces/a/configmaps")),
        ["one", "two"]
    );
    assert_eq!(
        names(get(&api, "/api/v1/configmaps?labelSelector=app%3Dkfp")),
        ["one", "three"]
    );
    assert_eq!(
        names(get(
            &api,
            "/api/v1/namespaces/a/configmaps?labelSelector=app=kfp"
        )),
        ["one"]
    );
    assert_eq!(
        names(get(
            &api,
            "/api/v1/configmaps?labelSelector=app%3Dkfp%2Ctier"
        )),
        ["one"]
    );
    assert_eq!(
        names(get(&api, "/api/v1/configmaps?labelSelector=tier")),
        ["one"]
    );
    assert_eq!(
        names(get(&api, "/api/v1/configmaps?labelSelector=app!%3Dkfp")),
        ["two"]
    );
    assert_eq!(
        names(get(
            &api,
            "/api/v1/configmaps?fieldSelector=metadata.name%3Dtwo"
        )),
        ["two"]
    );
    assert!(names(get(&api, "/api/v1/secrets")).is_empty());
    assert_eq!(get(&api, "/api/v1/secrets").body["kind"], "SecretList");
    assert_eq!(
        get(&api, "/api/v1/configmaps").body["kind"],
        "ConfigMapList"
    );
}

#[test]
fn delete_objects() {
    let api = lenient();
    apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    let r = delete(&api, DEPLOY);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["metadata"]["name"], "ml-pipeline");
    assert_eq!(get(&api, DEPLOY).status, 404);
    let r = delete(&api, DEPLOY);
    assert_eq!(r.status, 404);
    assert_eq!(r.body["reason"], "NotFound");
    assert_eq!(
        r.body["message"],
        "deployments.apps \"ml-pipeline\" not found"
    );
    let reqs = api.requests();
    assert_eq!(reqs.iter().filter(|r| r.method == "DELETE").count(), 2);
    assert_eq!(reqs[1].path, DEPLOY);
}

#[test]
fn fault_injection() {
    let api = lenient();
    api.fail_next(429, 2);
    // Discovery is not affected.
    assert_eq!(get(&api, "/apis").status, 200);
    assert_eq!(get(&api, "/api/v1").status, 200);
    assert_eq!(get(&api, "/version").status, 200);
    let r = get(&api, DEPLOY);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("0"));
    assert_eq!(r.body["kind"], "Status");
    assert_eq!(r.body["reason"], "TooManyRequests");
    assert_eq!(r.body["code"], 429);
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    assert_eq!(r.status, 429);
    assert!(api.objects().is_empty());
    let r = apply(&api, &format!("{DEPLOY}{APPLY_Q}"), &deployment(1));
    assert_eq!(r.status, 201);

    api.fail_next(500, 1);
    let r = get(&api, DEPLOY);
    assert_eq!(r.status, 500);
    assert_eq!(r.body["reason"], "InternalError");
    assert!(r.header("retry-after").is_none());
    assert_eq!(get(&api, DEPLOY).status, 200);
    // Failed requests are logged too.
    let reqs = api.requests();
    assert_eq!(reqs.len(), 8);
    assert_eq!(reqs[4].method, "PATCH");
    assert_eq!(reqs[4].query, "fieldManager=kfp-aws");
    assert_eq!(reqs[4].content_type, "application/apply-patch+yaml");
    assert_eq!(reqs[4].body, deployment(1).to_string());
    api.clear_requests();
    assert!(api.requests().is_empty());
}

#[test]
fn chunked_request_body() {
    let api = lenient();
    let body = deployment(1).to_string();
    let (a, b) = body.split_at(17);
    let req = format!(
        "PATCH {DEPLOY}{APPLY_Q} HTTP/1.1\r\nHost: x\r\nContent-Type: application/apply-patch+yaml\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nX-Trailer: y\r\n\r\n",
        a.len(),
        b.len()
    );
    let mut c = Conn::new(&api);
    let r = c.raw(req.as_bytes());
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(api.requests()[0].body, body);
    // The connection is still usable afterwards.
    let r = c.request("GET", DEPLOY, None, "");
    assert_eq!(r.status, 200);
}

#[test]
fn keep_alive() {
    let api = lenient();
    let mut c = Conn::new(&api);
    let body = deployment(1).to_string();
    // Two requests written back to back (pipelined), then a third.
    let two = format!(
        "PATCH {DEPLOY}{APPLY_Q} HTTP/1.1\r\nHost: x\r\nContent-Type: application/apply-patch+yaml\r\nContent-Length: {}\r\n\r\n{body}GET {DEPLOY} HTTP/1.1\r\nHost: x\r\n\r\n",
        body.len()
    );
    c.writer.write_all(two.as_bytes()).unwrap();
    assert_eq!(c.read().status, 201);
    assert_eq!(c.read().status, 200);
    assert_eq!(c.request("GET", "/version", None, "").status, 200);
    // Connection: close is honoured.
    let r = c.raw(b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(c.reader.read_to_end(&mut rest).unwrap(), 0);
}

#[test]
fn bad_requests() {
    let api = lenient();
    let q = format!("{DEPLOY}{APPLY_Q}");
    let mut c = Conn::new(&api);
    let r = c.request(
        "PATCH",
        &q,
        Some("application/apply-patch+yaml"),
        "{not json",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["kind"], "Status");
    assert_eq!(r.body["reason"], "BadRequest");
    let r = c.request(
        "PATCH",
        &q,
        Some("application/apply-patch+yaml"),
        "apiVersion: v1\n",
    );
    assert_eq!(r.status, 400);
    let r = c.request("PATCH", &q, Some("application/apply-patch+yaml"), "[1,2]");
    assert_eq!(r.status, 400);
    let r = c.request("PATCH", &q, Some("application/apply-patch+yaml"), "");
    assert_eq!(r.status, 400);
    // Missing fieldManager.
    let r = c.request(
        "PATCH",
        DEPLOY,
        Some("application/apply-patch+yaml"),
        &deployment(1).to_string(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["message"],
        "fieldManager is required for apply requests"
    );
    // Mismatches with the path.
    for (ptr, value) in [
        ("/apiVersion", json!("apps/v2")),
        ("/kind", json!("StatefulSet")),
        ("/metadata/name", json!("other")),
        ("/metadata/namespace", json!("elsewhere")),
    ] {
        let mut d = deployment(1);
        *d.pointer_mut(ptr).unwrap() = value;
        let r = c.request(
            "PATCH",
            &q,
            Some("application/apply-patch+yaml"),
            &d.to_string(),
        );
        assert_eq!(r.status, 400, "{ptr}");
    }
    // Other patch types.
    for ct in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
    ] {
        let r = c.request("PATCH", &q, Some(ct), "{}");
        assert_eq!(r.status, 415, "{ct}");
    }
    // Watches, unknown resources, other methods.
    assert_eq!(
        c.request("GET", "/apis/apps/v1/deployments?watch=true", None, "")
            .status,
        405
    );
    assert_eq!(
        c.request(
            "GET",
            "/apis/apps/v1/namespaces/a/deployments?watch=1",
            None,
            ""
        )
        .status,
        405
    );
    assert_eq!(
        c.request("GET", "/apis/apps/v1/namespaces/a/widgets/x", None, "")
            .status,
        404
    );
    assert_eq!(
        c.request("GET", "/api/v1/namespaces/a/nope", None, "")
            .status,
        404
    );
    assert_eq!(c.request("GET", "/nothing/here", None, "").status, 404);
    assert_eq!(c.request("PUT", DEPLOY, None, "{}").status, 405);
    assert_eq!(c.request("POST", "/apis", None, "{}").status, 405);
    assert!(api.objects().is_empty());

    // Malformed HTTP: 400, connection closed, server still serving.
    for garbage in [
        &b"this is not http\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"PATCH / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"PATCH / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"PATCH / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n",
        b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
    ] {
        let mut c = Conn::new(&api);
        let r = c.raw(garbage);
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(garbage));
    }
    // Truncated body then EOF: no answer needed, no panic.
    {
        let mut s = TcpStream::connect(api.url().trim_start_matches("http://")).unwrap();
        s.write_all(b"PATCH / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    assert_eq!(get(&api, "/version").status, 200);
}

#[test]
fn kubeconfig_file() {
    let api = lenient();
    let dir = std::env::temp_dir().join(format!("fakeapi-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = api.kubeconfig(&dir);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("server: {}", api.url())));
    assert!(text.contains("current-context: fake"));
    assert!(text.contains("token: test-token"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn drop_stops_listening() {
    let api = lenient();
    let addr = api.url().trim_start_matches("http://").to_string();
    assert_eq!(get(&api, "/version").status, 200);
    drop(api);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn create_needs_the_namespace() {
    let api = FakeApi::start();
    let mut c = Conn::new(&api);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
    let path = "/api/v1/namespaces/nowhere/configmaps/c?fieldManager=t";
    let r = c.request(
        "PATCH",
        path,
        Some("application/apply-patch+yaml"),
        &cm.to_string(),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.body["message"], "namespaces \"nowhere\" not found");
    assert_eq!(r.body["details"]["kind"], "namespaces");
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "nowhere"}});
    let r = c.request(
        "PATCH",
        "/api/v1/namespaces/nowhere?fieldManager=t",
        Some("application/apply-patch+yaml"),
        &ns.to_string(),
    );
    assert_eq!(r.status, 201);
    let r = c.request(
        "PATCH",
        path,
        Some("application/apply-patch+yaml"),
        &cm.to_string(),
    );
    assert_eq!(r.status, 201);
}
