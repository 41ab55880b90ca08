//! `kfp-aws apply` and `kfp-aws crds --apply` against the fake API server of
//! tests/support/fakeapi.rs (a test double speaking the Kubernetes wire
//! protocol on 127.0.0.1).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::fakeapi::FakeApi;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kfp-aws-apply-test-{}-{}",
        std::process::id(),
        support::peers::free_port()
    ));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn kfp(args: &[&str], envs: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kfp-aws"));
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kfp-aws");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kfp-aws apply` with the example parameters (and secrets) plus `extra`.
fn apply(kubeconfig: &Path, overlay: &str, extra: &[&str]) -> Out {
    let params = repo().join("params/params.env");
    let secrets = repo().join("params/secrets.env.example");
    let kc = kubeconfig.to_str().unwrap();
    let mut args = vec![
        "apply",
        "--overlay",
        overlay,
        "--params",
        params.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
        "--kubeconfig",
        kc,
    ];
    args.extend_from_slice(extra);
    kfp(&args, &[])
}

/// How many objects `render` gives for these arguments.
fn rendered(overlay: &str, extra: &[&str]) -> Vec<Value> {
    let params = repo().join("params/params.env");
    let secrets = repo().join("params/secrets.env.example");
    let mut args = vec![
        "render",
        "-o",
        "json",
        "--overlay",
        overlay,
        "--params",
        params.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = kfp(&args, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("render json");
    match v {
        Value::Array(items) => items,
        Value::Object(ref o) if o.contains_key("items") => v["items"].as_array().unwrap().clone(),
        other => vec![other],
    }
}

fn key(v: &Value) -> (String, String, String) {
    (
        v["kind"].as_str().unwrap_or("").to_string(),
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        v["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

fn versions(api: &FakeApi) -> Vec<((String, String, String), String)> {
    let mut v: Vec<_> = api
        .objects()
        .iter()
        .map(|o| {
            (
                key(o),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// CRDs (`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/N`) and
/// Namespaces (`/api/v1/namespaces/N`).
fn first_wave(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        [
            "apis",
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            _
        ] | ["api", "v1", "namespaces", _]
    )
}

#[test]
fn full_install_of_both_overlays_then_nothing_changes() {
    for overlay in ["accesskey", "iam"] {
        let api = FakeApi::start();
        let dir = scratch();
        let kc = api.kubeconfig(&dir);
        let first = apply(&kc, overlay, &[]);
        assert_eq!(
            first.code, 0,
            "{}: {}\n{}",
            overlay, first.stdout, first.stderr
        );
        let want = rendered(overlay, &[]);
        let mut got: Vec<_> = api.objects().iter().map(key).collect();
        got.sort();
        let mut expected: Vec<_> = want.iter().map(key).collect();
        expected.sort();
        assert_eq!(
            got, expected,
            "{}: the cluster holds exactly the render",
            overlay
        );
        assert!(
            first.stdout.contains(&format!(
                "{} created, 0 configured, 0 unchanged",
                want.len()
            )),
            "{}",
            first.stdout
        );

        // Every object of the install carries the inventory label; CRDs do not.
        for o in api.objects() {
            let label = &o["metadata"]["labels"]["kfp-aws.kubeflow.org/install"];
            if o["kind"] == "CustomResourceDefinition" {
                assert!(label.is_null(), "{:?}", key(&o));
            } else {
                assert_eq!(label, "kubeflow", "{:?}", key(&o));
            }
        }

        // Order: every CRD and Namespace is applied, and every CRD is seen
        // Established, before anything else is sent.
        let reqs = api.requests();
        let patches: Vec<_> = reqs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.method == "PATCH")
            .collect();
        let first_other = patches
            .iter()
            .find(|(_, r)| !first_wave(&r.path))
            .map(|(i, _)| *i)
            .expect("some namespaced object");
        let last_crd = patches
            .iter()
            .filter(|(_, r)| r.path.contains("/customresourcedefinitions/"))
            .map(|(i, _)| *i)
            .max()
            .expect("CRDs applied");
        assert!(
            last_crd < first_other,
            "{}: a CRD was applied after other objects",
            overlay
        );
        let crd_reads = reqs[last_crd..first_other]
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("/customresourcedefinitions/"))
            .count();
        assert!(
            crd_reads > 0,
            "{}: no wait for Established between the CRDs and the rest",
            overlay
        );

        // A second apply of the same render changes nothing on the server.
        let before = versions(&api);
        let second = apply(&kc, overlay, &[]);
        assert_eq!(second.code, 0, "{}", second.stderr);
        assert!(
            second.stdout.contains(&format!(
                "0 created, 0 configured, {} unchanged",
                want.len()
            )),
            "{}",
            second.stdout
        );
        assert_eq!(
            versions(&api),
            before,
            "{}: the second apply changed the server",
            overlay
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn dry_run_changes_nothing() {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    let out = apply(&kc, "iam", &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(api.objects().is_empty(), "a dry run stored objects");
    assert!(out.stdout.contains("(server dry run)"), "{}", out.stdout);
    let patches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert!(!patches.is_empty());
    assert!(
        patches.iter().all(|r| r.query.contains("dryRun=All")),
        "a PATCH without dryRun=All"
    );

    // After a real apply, a dry run with a changed parameter reports the change.
    assert_eq!(apply(&kc, "iam", &[]).code, 0);
    let before = versions(&api);
    let changed = apply(&kc, "iam", &["--dry-run", "--set", "kfpVersion=2.14.3"]);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert!(
        !changed.stdout.contains(" 0 configured"),
        "{}",
        changed.stdout
    );
    assert_eq!(versions(&api), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn conflicts_need_force() {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    assert_eq!(apply(&kc, "iam", &[]).code, 0);
    // Another tool changes the API server's service account and owns the field.
    let mut dep = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .expect("deployment");
    dep["spec"]["template"]["spec"]["serviceAccountName"] = Value::from("someone-else");
    if let Some(m) = dep["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    api.put(dep);
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Deployment ml-pipeline"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force-conflicts"), "{}", out.stderr);
    assert!(
        out.stderr.contains("other-tool") && out.stderr.contains("serviceAccountName"),
        "{}",
        out.stderr
    );
    let forced = apply(&kc, "iam", &["--force-conflicts"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let dep = api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["serviceAccountName"],
        "ml-pipeline"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crds_once_then_two_installs() {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    let crds = kfp(
        &["crds", "--apply", "--kubeconfig", kc.to_str().unwrap()],
        &[],
    );
    assert_eq!(crds.code, 0, "{}", crds.stderr);
    let n_crds = api.objects().len();
    assert_eq!(n_crds, 11, "the shared set is the 11 CRDs");
    api.clear_requests();
    for ns in ["team-a", "team-b"] {
        let set = format!("namespace={}", ns);
        let out = apply(&kc, "iam", &["--no-crds", "--set", &set]);
        assert_eq!(out.code, 0, "{}: {}", ns, out.stderr);
    }
    assert!(
        api.requests()
            .iter()
            .all(|r| !(r.method == "PATCH" && r.path.contains("customresourcedefinitions"))),
        "apply --no-crds sent a CRD"
    );
    let per_install = rendered("iam", &["--no-crds"]).len();
    assert_eq!(api.objects().len(), n_crds + 2 * per_install);
    for ns in ["team-a", "team-b"] {
        let d = api
            .get("apps/v1", "Deployment", Some(ns), "ml-pipeline")
            .expect("both installs");
        assert_eq!(d["metadata"]["labels"]["kfp-aws.kubeflow.org/install"], ns);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    api.fail_next(429, 2);
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    api.fail_next(500, 3);
    let again = apply(&kc, "iam", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains(" 0 configured"), "{}", again.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crd_that_never_becomes_established_times_out() {
    let api = FakeApi::start();
    api.set_crd_establish_delay(None);
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    let out = apply(&kc, "iam", &["--crd-timeout", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("not established after 1s"),
        "{}",
        out.stderr
    );
    // Nothing but CRDs and Namespaces was sent.
    assert!(api
        .objects()
        .iter()
        .all(|o| o["kind"] == "CustomResourceDefinition" || o["kind"] == "Namespace"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_validation_sends_nothing() {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    // AWS answers nowhere: the identity check fails.
    let dead = format!("http://127.0.0.1:{}", support::peers::free_port());
    let params = repo().join("params/params.env");
    let out = kfp(
        &[
            "apply",
            "--overlay",
            "iam",
            "--params",
            params.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--validate",
        ],
        &[
            ("AWS_ENDPOINT_URL", &dead),
            ("AWS_ACCESS_KEY_ID", "t"),
            ("AWS_SECRET_ACCESS_KEY", "t"),
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("validation failed; nothing was applied"),
        "{}",
        out.stderr
    );
    assert!(
        api.requests().is_empty(),
        "requests reached the cluster: {}",
        api.requests().len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn apply_needs_your_parameters() {
    let out = kfp(&["apply", "--overlay", "iam"], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("apply needs your parameters"),
        "{}",
        out.stderr
    );
    let _ = Duration::from_secs(0);
}
