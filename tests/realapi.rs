//! `apply`, `diff`, `delete` and `crds --apply` against a real Kubernetes
//! control plane (etcd, kube-apiserver and kube-controller-manager v1.34 on
//! 127.0.0.1, see scripts/kube-peer), shared by every test here: each test
//! works in namespaces of its own, so they run in parallel. What a real
//! server cannot do on demand (5xx, 429, silence) is tested against the
//! fake server in tests/apply.rs.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use support::cli::{kfp, Out};
use support::kubepeer::{self, missing_fields, Live};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The peer, or `None` (and a note) when the test command started none.
fn peer() -> Option<(PathBuf, Live)> {
    let Some(kc) = kubepeer::kubeconfig() else {
        println!("KFP_AWS_KUBECONFIG not set (scripts/test starts a real API server): skipped");
        return None;
    };
    let live = Live::connect(&kc);
    Some((kc, live))
}

/// The arguments of `kfp-aws CMD` for install `ns`: example parameters and
/// secrets, `--set namespace=NS`, then `extra`.
fn args(cmd: &str, kc: &Path, overlay: &str, ns: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        cmd.into(),
        "--overlay".into(),
        overlay.into(),
        "--params".into(),
        repo().join("params/params.env").display().to_string(),
        "--secrets".into(),
        repo()
            .join("params/secrets.env.example")
            .display()
            .to_string(),
        "--set".into(),
        format!("namespace={}", ns),
    ];
    if cmd != "render" {
        a.push("--kubeconfig".into());
        a.push(kc.display().to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run(cmd: &str, kc: &Path, overlay: &str, ns: &str, extra: &[&str]) -> Out {
    kfp(&args(cmd, kc, overlay, ns, extra), &[])
}

fn rendered(overlay: &str, ns: &str, extra: &[&str]) -> Vec<Value> {
    let mut a = args("render", Path::new(""), overlay, ns, extra);
    a.extend(["-o".to_string(), "json".to_string()]);
    let out = kfp(&a, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("render json");
    match v {
        Value::Array(items) => items,
        Value::Object(ref o) if o.contains_key("items") => {
            v["items"].as_array().cloned().unwrap_or_default()
        }
        other => vec![other],
    }
}

fn id(o: &Value) -> String {
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
    format!(
        "{} {}{}{}",
        o["kind"].as_str().unwrap_or(""),
        ns,
        if ns.is_empty() { "" } else { "/" },
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// A rendered object as the server keeps it: a Secret's `stringData` is
/// stored base64-encoded in `data`.
fn as_stored(o: &Value) -> Value {
    let mut o = o.clone();
    if o["kind"] == "Secret" {
        if let Some(sd) = o.as_object_mut().and_then(|m| m.remove("stringData")) {
            let data = o["data"].as_object().cloned().unwrap_or_default();
            let mut data = data;
            for (k, v) in sd.as_object().cloned().unwrap_or_default() {
                let text = v.as_str().unwrap_or("").to_string();
                data.insert(
                    k,
                    Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
            o["data"] = Value::Object(data);
        }
    }
    o
}

/// Every rendered object exists and every rendered field is live.
fn assert_live(live: &Live, want: &[Value]) {
    let mut problems = Vec::new();
    for w in want {
        match live.get_like(w) {
            None => problems.push(format!("{}: not on the server", id(w))),
            Some(l) => {
                for m in missing_fields(&as_stored(w), &l) {
                    problems.push(format!("{}: {}", id(w), m));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Kinds whose objects controllers write to after an apply (status, and
/// annotations such as the Deployment revision): their `resourceVersion`
/// moves without kfp-aws; `metadata.generation` tracks their spec.
fn controller_written(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "PersistentVolumeClaim" | "Namespace"
    )
}

/// resourceVersion (or, for controller-written kinds, generation) per object.
fn versions(live: &Live, want: &[Value]) -> BTreeMap<String, String> {
    want.iter()
        .map(|w| {
            let l = live
                .get_like(w)
                .unwrap_or_else(|| panic!("{} missing", id(w)));
            let kind = w["kind"].as_str().unwrap_or("");
            let v = if controller_written(kind) {
                format!("generation {}", l["metadata"]["generation"])
            } else {
                format!("rv {}", l["metadata"]["resourceVersion"])
            };
            (id(w), v)
        })
        .collect()
}

/// Apply an install, check it field by field, apply it again and check
/// that nothing moved.
fn install_round_trip(tag: &str, overlay: &str, extra: &[&str]) {
    let Some((kc, live)) = peer() else { return };
    let ns = kubepeer::namespace(tag);
    let first = run("apply", &kc, overlay, &ns, extra);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let want = rendered(overlay, &ns, extra);
    assert!(want.len() > 40, "{} objects", want.len());
    assert_live(&live, &want);
    // Every object of the install carries the inventory label; CRDs do not.
    for w in &want {
        let l = live.get_like(w).expect("live");
        let label = &l["metadata"]["labels"]["kfp-aws.kubeflow.org/install"];
        if w["kind"] == "CustomResourceDefinition" {
            assert!(label.is_null(), "{}", id(w));
        } else {
            assert_eq!(label, &json!(ns), "{}", id(w));
        }
    }
    let before = versions(&live, &want);
    let second = run("apply", &kc, overlay, &ns, extra);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.stdout.contains(&format!(
            "0 created, 0 configured, {} unchanged",
            want.len()
        )),
        "{}",
        second.stdout
    );
    assert_eq!(versions(&live, &want), before);
}

#[test]
fn accesskey_with_in_cluster_mysql_is_live_field_by_field_and_idempotent() {
    install_round_trip("ak-int", "accesskey", &[]);
}

#[test]
fn accesskey_with_external_mysql_is_live_field_by_field_and_idempotent() {
    install_round_trip(
        "ak-ext",
        "accesskey",
        &["--set", "mysqlHost=mysql.db.example.com"],
    );
}

#[test]
fn iam_irsa_with_in_cluster_mysql_is_live_field_by_field_and_idempotent() {
    install_round_trip("iam-int", "iam", &[]);
}

#[test]
fn iam_kube2iam_with_external_mysql_is_live_field_by_field_and_idempotent() {
    install_round_trip(
        "k2i-ext",
        "iam",
        &[
            "--set",
            "iamMode=kube2iam",
            "--set",
            "mysqlHost=mysql.db.example.com",
        ],
    );
}

/// A copy of the manifest tree with a typo in a field name.
/// `cacheTls=cert-manager`: refused, before anything is sent, while the
/// cluster lacks cert-manager's CRDs; with them (stand-ins here: cert-manager
/// itself is not run), the Issuer, the Certificate and the
/// MutatingWebhookConfiguration are accepted with strict validation and live
/// field by field, and a second apply changes nothing.
#[test]
fn cache_tls_cert_manager_is_refused_without_its_crds_and_live_with_them() {
    let Some((kc, live)) = peer() else { return };
    let extra = ["--set", "cacheTls=cert-manager"];
    let ns = kubepeer::namespace("cm-refused");
    let refused = run("apply", &kc, "iam", &ns, &extra);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("cert-manager.io/v1")
            && refused.stderr.contains("install cert-manager first")
            && refused.stderr.contains("nothing was applied"),
        "{}",
        refused.stderr
    );
    assert!(live.get("v1", "Namespace", None, &ns).is_none());
    for (kind, plural) in [("Issuer", "issuers"), ("Certificate", "certificates")] {
        let name = format!("{}.cert-manager.io", plural);
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": "cert-manager.io",
                "scope": "Namespaced",
                "names": {
                    "kind": kind,
                    "listKind": format!("{}List", kind),
                    "plural": plural,
                    "singular": kind.to_lowercase(),
                },
                "versions": [{
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                    }},
                }],
            },
        });
        live.apply_as("cert-manager-stand-in", &crd, true)
            .unwrap_or_else(|e| panic!("CRD {}: {}", name, e));
        let start = std::time::Instant::now();
        loop {
            let established = live
                .get(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    None,
                    &name,
                )
                .and_then(|c| c["status"]["conditions"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True");
            if established {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{} not established",
                name
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    install_round_trip("cm", "iam", &extra);
}

fn tree_with_unknown_field() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kfp-aws-realapi-tree-{}-{}",
        std::process::id(),
        support::peers::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for d in ["base", "crds", "overlays", "params", "components"] {
        let out = Command::new("cp")
            .arg("-r")
            .arg(repo().join(d))
            .arg(&dir)
            .output()
            .expect("cp");
        assert!(out.status.success());
    }
    let svc = dir.join("base/ui/service.yaml");
    let text = std::fs::read_to_string(&svc).expect("read service.yaml");
    assert!(text.contains("  selector:\n"));
    std::fs::write(
        &svc,
        text.replacen(
            "  selector:\n",
            "  selectr:\n    app: ml-pipeline-ui\n  selector:\n",
            1,
        ),
    )
    .expect("write service.yaml");
    dir
}

#[test]
fn an_unknown_field_is_refused_by_strict_validation_and_named() {
    let Some((kc, live)) = peer() else { return };
    let ns = kubepeer::namespace("strict");
    let tree = tree_with_unknown_field();
    let tree_s = tree.display().to_string();
    let out = run("apply", &kc, "iam", &ns, &["--from", &tree_s]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Service ml-pipeline-ui") && out.stderr.contains("selectr"),
        "{}",
        out.stderr
    );
    assert!(live
        .get("v1", "Service", Some(&ns), "ml-pipeline-ui")
        .is_none());
    let _ = std::fs::remove_dir_all(&tree);
}

#[test]
fn dry_run_changes_nothing_and_diff_says_0_in_sync_1_after_a_change() {
    let Some((kc, live)) = peer() else { return };
    let ns = kubepeer::namespace("dry");

    // On a fresh namespace a dry run creates nothing, not even the namespace.
    let dry = run("apply", &kc, "iam", &ns, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("(server dry run)"), "{}", dry.stdout);
    assert!(live.get("v1", "Namespace", None, &ns).is_none());
    let labelled = format!("kfp-aws.kubeflow.org/install={}", ns);
    assert!(live
        .list(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            None,
            &labelled
        )
        .is_empty());

    let applied = run("apply", &kc, "iam", &ns, &[]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let want = rendered("iam", &ns, &[]);
    let before = versions(&live, &want);

    let change = [
        "--set",
        "s3Bucket=kfp-artifacts-changed",
        "--set",
        "pipelineRoot=",
    ];
    let dry = run(
        "apply",
        &kc,
        "iam",
        &ns,
        &[&change[..], &["--dry-run"]].concat(),
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("(server dry run)"), "{}", dry.stdout);
    assert!(!dry.stdout.contains(" 0 configured"), "{}", dry.stdout);
    assert_eq!(
        versions(&live, &want),
        before,
        "a dry run changed the cluster"
    );
    assert_live(&live, &want);

    let same = run("diff", &kc, "iam", &ns, &[]);
    assert_eq!(same.code, 0, "{}\n{}", same.stdout, same.stderr);
    assert_eq!(same.stdout, "");

    let changed = run("diff", &kc, "iam", &ns, &change);
    assert_eq!(changed.code, 1, "{}\n{}", changed.stdout, changed.stderr);
    // The objects named are exactly those whose render changed ...
    let new = rendered("iam", &ns, &change);
    let old: BTreeMap<String, &Value> = want.iter().map(|o| (id(o), o)).collect();
    let expected: BTreeSet<String> = new
        .iter()
        .filter(|o| old.get(&id(o)) != Some(o))
        .map(|o| {
            let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
            let kind = o["kind"].as_str().unwrap_or("");
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            if ns.is_empty() {
                format!("{}/{}", kind, name)
            } else {
                format!("{}/{}/{}", kind, ns, name)
            }
        })
        .collect();
    let named: BTreeSet<String> = changed
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("+++ merged/"))
        .map(|s| s.trim().to_string())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(named, expected, "{}", changed.stdout);
    // ... and the changed fields show with their old and new values.
    assert!(
        changed
            .stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("kfp-artifacts-changed")),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.lines().any(|l| l.starts_with('-')
            && !l.starts_with("---")
            && l.contains("kfp-artifacts-example")),
        "{}",
        changed.stdout
    );
    assert_eq!(versions(&live, &want), before, "diff changed the cluster");
}

fn install_label(ns: &str) -> String {
    format!("kfp-aws.kubeflow.org/install={}", ns)
}

#[test]
fn two_installs_share_the_crds_prune_and_delete_one_at_a_time() {
    let Some((kc, live)) = peer() else { return };
    let crds = kfp(
        &[
            "crds".into(),
            "--apply".into(),
            "--kubeconfig".into(),
            kc.display().to_string(),
        ],
        &[],
    );
    assert_eq!(crds.code, 0, "{}", crds.stderr);
    let crd_names: Vec<String> = rendered("iam", "x", &[])
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
        .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(crd_names.len() > 5);
    for c in &crd_names {
        assert!(live
            .get(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                None,
                c
            )
            .is_some());
    }

    let a = kubepeer::namespace("two-a");
    let b = kubepeer::namespace("two-b");
    for ns in [&a, &b] {
        let out = run("apply", &kc, "iam", ns, &["--no-crds"]);
        assert_eq!(out.code, 0, "{}: {}", ns, out.stderr);
        assert!(out.stdout.contains(" 0 configured"), "{}", out.stdout);
    }
    // The controller manager runs: the mysql Deployment gets its ReplicaSet.
    assert!(
        live.wait_some(
            "apps/v1",
            "ReplicaSet",
            Some(&a),
            "app=mysql",
            Duration::from_secs(60)
        ),
        "no ReplicaSet for Deployment mysql: is kube-controller-manager running?"
    );
    let b_before = versions(&live, &rendered("iam", &b, &["--no-crds"]));

    // A newer render of A without the in-cluster MySQL: --prune removes it.
    let external = ["--no-crds", "--set", "mysqlHost=db.example.com"];
    let pruned = run(
        "apply",
        &kc,
        "iam",
        &a,
        &[&external[..], &["--prune"]].concat(),
    );
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(
        pruned.stderr.contains("Deployment/mysql pruned"),
        "{}",
        pruned.stderr
    );
    assert!(live.wait_gone(
        "apps/v1",
        "Deployment",
        Some(&a),
        "mysql",
        Duration::from_secs(30)
    ));
    assert!(live.get("v1", "Service", Some(&a), "mysql").is_none());
    // Its ReplicaSet goes with it (garbage collection by the controller manager).
    let start = std::time::Instant::now();
    while !live
        .list("apps/v1", "ReplicaSet", Some(&a), "app=mysql")
        .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the pruned Deployment's ReplicaSet was not garbage-collected"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // A holds exactly its new render (by inventory label), B is untouched.
    let want_a = rendered("iam", &a, &external);
    assert_live(&live, &want_a);
    let mut live_a: BTreeSet<String> = BTreeSet::new();
    for (av, kind) in [
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "PersistentVolumeClaim"),
        ("v1", "ServiceAccount"),
    ] {
        for o in live.list(av, kind, Some(&a), &install_label(&a)) {
            live_a.insert(id(&o));
        }
    }
    let want_ids: BTreeSet<String> = want_a
        .iter()
        .filter(|o| {
            [
                "Deployment",
                "Service",
                "ConfigMap",
                "Secret",
                "PersistentVolumeClaim",
                "ServiceAccount",
            ]
            .contains(&o["kind"].as_str().unwrap_or(""))
        })
        .map(id)
        .collect();
    assert_eq!(live_a, want_ids);
    assert_eq!(
        versions(&live, &rendered("iam", &b, &["--no-crds"])),
        b_before
    );

    // A Workflow in a namespace of nobody's install uses the shared CRDs too.
    let c = kubepeer::namespace("two-c");
    live.apply_as(
        "test",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": c}}),
        false,
    )
    .expect("namespace");
    live.apply_as(
        "test",
        &json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "hello", "namespace": c},
            "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}
        }),
        false,
    )
    .expect("workflow");

    // --with-crds is refused while other installs and custom resources remain.
    let refused = run("delete", &kc, "iam", &a, &["--with-crds"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(&format!("namespace {} (", b)),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("namespace {} (1 Workflow)", c)),
        "{}",
        refused.stderr
    );
    assert!(live
        .get("apps/v1", "Deployment", Some(&a), "ml-pipeline")
        .is_some());

    // delete A: its objects and namespace go (the namespace controller
    // finishes the job), B and the CRDs stay.
    let deleted = run("delete", &kc, "iam", &a, &[]);
    assert_eq!(deleted.code, 0, "{}\n{}", deleted.stdout, deleted.stderr);
    assert!(deleted.stdout.contains(" deleted"), "{}", deleted.stdout);
    assert!(
        live.wait_gone("v1", "Namespace", None, &a, Duration::from_secs(180)),
        "namespace {} still there",
        a
    );
    assert!(live
        .list(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            None,
            &install_label(&a)
        )
        .is_empty());
    assert!(live
        .list(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            None,
            &install_label(&a)
        )
        .is_empty());
    assert_eq!(
        versions(&live, &rendered("iam", &b, &["--no-crds"])),
        b_before
    );
    for name in &crd_names {
        assert!(live
            .get(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                None,
                name
            )
            .is_some());
    }
    assert!(live
        .get("argoproj.io/v1alpha1", "Workflow", Some(&c), "hello")
        .is_some());
}

#[test]
fn a_field_owned_by_another_manager_is_a_conflict_that_names_it() {
    let Some((kc, live)) = peer() else { return };
    let ns = kubepeer::namespace("conflict");
    let out = run("apply", &kc, "iam", &ns, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let want = rendered("iam", &ns, &[]);
    // A ConfigMap key that kfp-aws sets, with a plain name.
    let (cm, key, value) = want
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .find_map(|o| {
            let data = o["data"].as_object()?;
            let (k, v) = data
                .iter()
                .find(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric()))?;
            Some((
                o["metadata"]["name"].as_str()?.to_string(),
                k.clone(),
                v.clone(),
            ))
        })
        .expect("a ConfigMap with a plain key");
    live.apply_as(
        "other-team",
        &json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": cm, "namespace": ns},
            "data": {key.clone(): "set by other-team"},
        }),
        true,
    )
    .expect("the other manager's apply");

    let conflict = run("apply", &kc, "iam", &ns, &[]);
    assert_eq!(conflict.code, 1, "{}\n{}", conflict.stdout, conflict.stderr);
    for needle in [
        format!("ConfigMap {}", cm),
        format!(".data.{}", key),
        "\"other-team\"".to_string(),
        "--force-conflicts".to_string(),
    ] {
        assert!(
            conflict.stderr.contains(&needle),
            "{}: {}",
            needle,
            conflict.stderr
        );
    }
    assert_eq!(
        live.get("v1", "ConfigMap", Some(&ns), &cm).expect("cm")["data"][&key],
        "set by other-team"
    );

    let forced = run("apply", &kc, "iam", &ns, &["--force-conflicts"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let cm_live = live.get("v1", "ConfigMap", Some(&ns), &cm).expect("cm");
    assert_eq!(cm_live["data"][&key], value);
    let managers: Vec<&str> = cm_live["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter(|m| m["fieldsV1"]["f:data"].get(format!("f:{}", key)).is_some())
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, vec!["kfp-aws"]);
}

#[test]
fn an_apply_killed_half_way_converges_when_run_again() {
    let Some((kc, live)) = peer() else { return };
    let ns = kubepeer::namespace("killed");
    let want = rendered("accesskey", &ns, &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
        .args(args("apply", &kc, "accesskey", &ns, &[]))
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kfp-aws apply");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = 0;
    // Progress lines are `[k/N] Kind/name verb`: stop it past the middle.
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        if let Some(k) = line
            .strip_prefix('[')
            .and_then(|r| r.split('/').next())
            .and_then(|k| k.parse::<usize>().ok())
        {
            seen = k;
            if k >= want.len() / 2 {
                break;
            }
        }
    }
    child.kill().expect("kill kfp-aws");
    let _ = child.wait();
    assert!(
        seen >= want.len() / 2 && seen < want.len(),
        "{} of {}",
        seen,
        want.len()
    );
    let present = want.iter().filter(|o| live.get_like(o).is_some()).count();
    assert!(present < want.len(), "the apply was not interrupted");

    let again = run("apply", &kc, "accesskey", &ns, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_live(&live, &want);
    let third = run("apply", &kc, "accesskey", &ns, &[]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(
        third.stdout.contains(&format!(
            "0 created, 0 configured, {} unchanged",
            want.len()
        )),
        "{}",
        third.stdout
    );
}
