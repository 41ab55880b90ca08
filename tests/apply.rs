//! `kfp-aws apply` and `kfp-aws crds --apply` against the fake API server of
//! tests/support/fakeapi.rs (a test double speaking the Kubernetes wire
//! protocol on 127.0.0.1).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::cli::{kfp, Out};
use support::fakeapi::FakeApi;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh fake API server, a scratch directory and a kubeconfig for it.
fn cluster() -> (FakeApi, PathBuf, PathBuf) {
    let api = FakeApi::start();
    let dir = scratch();
    let kc = api.kubeconfig(&dir);
    (api, dir, kc)
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

/// `kfp-aws <cmd> --overlay O --params <example> --kubeconfig K <extra>`.
fn on_cluster(
    cmd: &str,
    kubeconfig: &Path,
    overlay: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Out {
    let params = repo().join("params/params.env");
    let mut args = vec![
        cmd,
        "--overlay",
        overlay,
        "--params",
        params.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kfp(&args, envs)
}

/// `kfp-aws apply` with the example parameters and secrets plus `extra`.
fn apply(kubeconfig: &Path, overlay: &str, extra: &[&str]) -> Out {
    let secrets = repo().join("params/secrets.env.example");
    let mut args = vec!["--secrets", secrets.to_str().unwrap()];
    args.extend_from_slice(extra);
    on_cluster("apply", kubeconfig, overlay, &args, &[])
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

use kfp_aws::apply::object_key as key;

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
        let (api, dir, kc) = cluster();
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
    let (api, dir, kc) = cluster();
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
    let (api, dir, kc) = cluster();
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
    let (api, dir, kc) = cluster();
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
    let (api, dir, kc) = cluster();
    api.fail_next(429, 2);
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    api.fail_next(500, 3);
    let again = apply(&kc, "iam", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains(" 0 configured"), "{}", again.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that keeps failing gets a bounded number of tries from one
/// retry policy (kfp-aws's own, honouring Retry-After), not a retry layer
/// under it that multiplies them: at most five requests per object.
#[test]
fn a_failing_server_gets_a_bounded_number_of_tries() {
    let (api, dir, kc) = cluster();
    api.fail_next(503, 10_000);
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("503"), "{}", out.stderr);
    let mut per_path: std::collections::BTreeMap<String, usize> = Default::default();
    for r in api.requests() {
        if r.path.contains("customresourcedefinitions/") || r.path.contains("namespaces/") {
            *per_path
                .entry(format!("{} {}", r.method, r.path))
                .or_default() += 1;
        }
    }
    assert!(!per_path.is_empty(), "no object was tried");
    let most = per_path.values().max().copied().unwrap_or(0);
    assert!(most <= 5, "{} tries of one request: {:?}", most, per_path);
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
    let (api, dir, kc) = cluster();
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

fn keys_of(api: &FakeApi, install: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = api
        .objects()
        .iter()
        .filter(|o| o["metadata"]["labels"]["kfp-aws.kubeflow.org/install"] == install)
        .map(key)
        .collect();
    v.sort();
    v
}

#[test]
fn prune_removes_what_the_render_dropped_and_nothing_else() {
    let (api, dir, kc) = cluster();
    for ns in ["team-a", "team-b"] {
        let set = format!("namespace={}", ns);
        assert_eq!(apply(&kc, "iam", &["--set", &set]).code, 0);
    }
    let b_before = versions(&api)
        .into_iter()
        .filter(|(k, _)| k.1 == "team-b" || k.2.starts_with("team-b"))
        .collect::<Vec<_>>();
    let external = [
        "--set",
        "namespace=team-a",
        "--set",
        "mysqlHost=db.example.com",
    ];

    // Without --prune the in-cluster MySQL stays behind.
    let kept = apply(&kc, "iam", &external);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(api
        .get("apps/v1", "Deployment", Some("team-a"), "mysql")
        .is_some());

    // A dry run says what would go, and leaves it.
    let dry = apply(
        &kc,
        "iam",
        &[&external[..], &["--prune", "--dry-run"]].concat(),
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("Deployment/mysql pruned (dry run)"),
        "{}",
        dry.stderr
    );
    assert!(api
        .get("apps/v1", "Deployment", Some("team-a"), "mysql")
        .is_some());

    let pruned = apply(&kc, "iam", &[&external[..], &["--prune"]].concat());
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(api
        .get("apps/v1", "Deployment", Some("team-a"), "mysql")
        .is_none());
    assert!(api.get("v1", "Service", Some("team-a"), "mysql").is_none());
    // The cluster now holds exactly the new render of team-a ...
    let mut want: Vec<_> = rendered(
        "iam",
        &[
            "--no-crds",
            "--set",
            "namespace=team-a",
            "--set",
            "mysqlHost=db.example.com",
        ],
    )
    .iter()
    .map(key)
    .collect();
    want.sort();
    assert_eq!(keys_of(&api, "team-a"), want);
    let full = rendered("iam", &["--no-crds", "--set", "namespace=team-a"]).len();
    let dropped = full - want.len();
    assert!(dropped >= 3, "mysql Deployment, Service and PVC at least");
    assert!(
        pruned.stdout.contains(&format!(", {} pruned", dropped)),
        "{}",
        pruned.stdout
    );
    // ... and team-b is untouched, CRDs included.
    let b_after = versions(&api)
        .into_iter()
        .filter(|(k, _)| k.1 == "team-b" || k.2.starts_with("team-b"))
        .collect::<Vec<_>>();
    assert_eq!(b_before, b_after);
    assert!(api
        .get("apps/v1", "Deployment", Some("team-b"), "mysql")
        .is_some());
    assert_eq!(
        api.objects()
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
            .count(),
        11
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn delete(kubeconfig: &Path, ns: &str, extra: &[&str]) -> Out {
    let set = format!("namespace={}", ns);
    let mut args = vec!["--set", set.as_str()];
    args.extend_from_slice(extra);
    on_cluster("delete", kubeconfig, "iam", &args, &[])
}

#[test]
fn delete_one_install_then_the_last_with_its_crds() {
    let (api, dir, kc) = cluster();
    assert_eq!(
        kfp(
            &["crds", "--apply", "--kubeconfig", kc.to_str().unwrap()],
            &[]
        )
        .code,
        0
    );
    for ns in ["team-a", "team-b"] {
        let set = format!("namespace={}", ns);
        assert_eq!(apply(&kc, "iam", &["--no-crds", "--set", &set]).code, 0);
    }
    let b_before = keys_of(&api, "team-b");

    // The CRDs are shared: refused while team-b is installed, and nothing is deleted.
    let refused = delete(&kc, "team-a", &["--with-crds"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("other installs still use the shared CRDs: namespace team-b"),
        "{}",
        refused.stderr
    );
    assert!(!keys_of(&api, "team-a").is_empty());

    let a = delete(&kc, "team-a", &[]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        keys_of(&api, "team-a").is_empty(),
        "{:?}",
        keys_of(&api, "team-a")
    );
    assert!(api.get("v1", "Namespace", None, "team-a").is_none());
    assert_eq!(keys_of(&api, "team-b"), b_before);
    assert_eq!(
        api.objects()
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
            .count(),
        11
    );

    let b = delete(&kc, "team-b", &["--with-crds"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert!(
        api.objects().is_empty(),
        "left: {:?}",
        api.objects().iter().map(key).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn diff(kubeconfig: &Path, overlay: &str, extra: &[&str], envs: &[(&str, &str)]) -> Out {
    on_cluster("diff", kubeconfig, overlay, extra, envs)
}

#[test]
fn diff_exit_codes_and_masked_secrets() {
    let (api, dir, kc) = cluster();
    let keys = [
        ("KFP_AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001"),
        ("KFP_AWS_SECRET_ACCESS_KEY", "first-secret-never-printed"),
        ("KFP_MYSQL_USER", "root"),
        ("KFP_MYSQL_PASSWORD", ""),
    ];

    // Nothing installed: everything would be created.
    let empty = diff(&kc, "accesskey", &[], &keys);
    assert_eq!(empty.code, 1, "{}", empty.stderr);
    assert!(
        empty
            .stdout
            .contains("+++ merged/Deployment/kubeflow/ml-pipeline"),
        "{}",
        &empty.stdout[..empty.stdout.len().min(2000)]
    );
    assert!(!empty.stdout.contains("first-secret-never-printed"));
    assert!(api.objects().is_empty(), "diff changed the server");

    // Installed: no change, nothing printed.
    let params = repo().join("params/params.env");
    let mut args = vec![
        "apply",
        "--overlay",
        "accesskey",
        "--params",
        params.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
    ];
    let installed = kfp(&args, &keys);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    let same = diff(&kc, "accesskey", &[], &keys);
    assert_eq!(same.code, 0, "{}\n{}", same.stdout, same.stderr);
    assert!(same.stdout.is_empty(), "{}", same.stdout);

    // A new image tag and a new secret key: the diff shows the tag, masks the key.
    let changed_keys = [
        keys[0],
        ("KFP_AWS_SECRET_ACCESS_KEY", "second-secret-never-printed"),
        keys[2],
        keys[3],
    ];
    let changed = diff(
        &kc,
        "accesskey",
        &["--set", "kfpVersion=2.14.3"],
        &changed_keys,
    );
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    assert!(changed.stdout.contains(":2.14.3"), "{}", changed.stdout);
    assert!(
        changed.stdout.contains("*** (before)") && changed.stdout.contains("*** (after)"),
        "{}",
        changed.stdout
    );
    for secret in ["first-secret-never-printed", "second-secret-never-printed"] {
        assert!(!changed.stdout.contains(secret) && !changed.stderr.contains(secret));
    }
    // The changed Secret value is base64 in data; its encodings must not show either.
    assert!(!changed
        .stdout
        .contains("c2Vjb25kLXNlY3JldC1uZXZlci1wcmludGVk"));

    // Trouble is exit 2.
    drop(api);
    let gone = diff(&kc, "accesskey", &[], &keys);
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    args.clear();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kubeconfig_from_the_environment_and_contexts() {
    let (api, dir, kc) = cluster();
    let params = repo().join("params/params.env");
    let p = params.to_str().unwrap();
    // $KUBECONFIG and a named context.
    let ok = kfp(
        &[
            "apply",
            "--overlay",
            "iam",
            "--params",
            p,
            "--context",
            "fake",
            "--dry-run",
        ],
        &[("KUBECONFIG", kc.to_str().unwrap())],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(!api.requests().is_empty());
    // A context that does not exist is an error that names it.
    let bad = kfp(
        &[
            "apply",
            "--overlay",
            "iam",
            "--params",
            p,
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--context",
            "nope",
        ],
        &[],
    );
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request that is neither discovery nor a CRD's status poll.
fn is_object_request(r: &support::fakeapi::Req) -> bool {
    let segs: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    !matches!(
        segs.as_slice(),
        [] | ["version"] | ["api"] | ["api", _] | ["apis"] | ["apis", _] | ["apis", _, _]
    )
}

#[test]
fn a_429_is_retried_no_earlier_than_its_retry_after() {
    let (api, dir, kc) = cluster();
    api.fail_next_retry_after(429, 3, 1);
    let out = apply(&kc, "iam", &["--no-crds"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs: Vec<_> = api
        .requests()
        .into_iter()
        .filter(is_object_request)
        .collect();
    // The first object request got the 429s; each retry is the same request,
    // nothing else was sent in between, and none came sooner than 1 s.
    for pair in reqs[..4].windows(2) {
        assert_eq!(
            (&pair[0].method, &pair[0].path),
            (&pair[1].method, &pair[1].path)
        );
        let waited = pair[1].at.duration_since(pair[0].at);
        assert!(
            waited >= Duration::from_secs(1),
            "retried after {:?}",
            waited
        );
    }
    assert!(out.stdout.contains(" 0 configured"), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn aggregated_discovery_is_used_when_offered_and_legacy_otherwise() {
    let discovery_paths = |api: &FakeApi| -> Vec<String> {
        api.requests()
            .into_iter()
            .filter(|r| !is_object_request(r) && r.path != "/version")
            .map(|r| r.path)
            .collect()
    };
    // Offered: `/api` and `/apis`, once before and once after the CRDs.
    let (api, dir, kc) = cluster();
    api.set_aggregated_discovery(true);
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let paths = discovery_paths(&api);
    assert!(
        paths.iter().all(|p| p == "/api" || p == "/apis"),
        "{:?}",
        paths
    );
    assert_eq!(paths.len(), 4, "{:?}", paths);
    assert!(api
        .requests()
        .iter()
        .filter(|r| r.path == "/apis")
        .all(|r| r.accept.contains("g=apidiscovery.k8s.io;v=v2")));
    let _ = std::fs::remove_dir_all(&dir);

    // Not offered: the per-group endpoints, and the same result.
    let (api, dir, kc) = cluster();
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let paths = discovery_paths(&api);
    assert!(paths.iter().any(|p| p == "/apis/apps/v1"), "{:?}", paths);
    assert!(paths.iter().any(|p| p == "/api/v1"), "{:?}", paths);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_apply_asks_for_strict_field_validation() {
    let (api, dir, kc) = cluster();
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let patches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert!(!patches.is_empty());
    for p in &patches {
        assert!(
            p.query.split('&').any(|kv| kv == "fieldValidation=Strict"),
            "{} {}?{}",
            p.method,
            p.path,
            p.query
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs kfp-aws with stderr on a terminal (util-linux `script` gives it a
/// pseudo-terminal); returns what the terminal showed.
fn on_terminal(args: &[&str]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        return None;
    }
    let mut line = String::from(env!("CARGO_BIN_EXE_kfp-aws"));
    for a in args {
        line.push_str(&format!(" '{}'", a));
    }
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("KUBECONFIG")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn progress_is_a_bar_on_a_terminal_and_lines_otherwise() {
    let (api, dir, kc) = cluster();
    let params = repo().join("params/params.env");
    let secrets = repo().join("params/secrets.env.example");
    let base = [
        "--overlay",
        "iam",
        "--params",
        params.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
    ];
    let Some(shown) = on_terminal(&[&["apply"][..], &base].concat()) else {
        println!("util-linux script is not installed: skipped");
        return;
    };
    let n = rendered("iam", &[]).len();
    assert!(shown.contains("applying ["), "{}", shown);
    assert!(shown.contains(&format!("/{n} ")), "{}", shown);
    assert!(!shown.contains("[1/"), "{}", shown);
    assert!(shown.contains(&format!("{} created", n)), "{}", shown);
    let shown = on_terminal(&[&["delete"][..], &base].concat()).expect("script");
    assert!(shown.contains("deleting ["), "{}", shown);
    assert!(!shown.contains("[1/"), "{}", shown);
    assert!(api
        .get("apps/v1", "Deployment", Some("kubeflow"), "ml-pipeline")
        .is_none());

    // Not a terminal: one line per object.
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("[1/{}] ", n)),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("applying ["), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_tls_choices_meet_the_cluster() {
    let (api, dir, kc) = cluster();
    api.set_git_version("v1.31.4-eks-0a21954");
    // kubelet-csr on EKS: applied, with a warning that names the way out.
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: cacheTls=kubelet-csr")
            && out.stderr.contains("cacheTls=cert-manager")
            && out.stderr.contains("v1.31.4-eks-0a21954"),
        "{}",
        out.stderr
    );
    // cert-manager without its CRDs: refused before anything is sent.
    api.clear_requests();
    let out = apply(&kc, "iam", &["--set", "cacheTls=cert-manager"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("cert-manager.io/v1 Certificate")
            && out.stderr.contains("install cert-manager first")
            && out.stderr.contains("nothing was applied"),
        "{}",
        out.stderr
    );
    assert!(
        !api.requests().iter().any(|r| r.method == "PATCH"),
        "objects were sent"
    );
    // none: no warning, and prune removes the cache objects of the first apply.
    let out = apply(&kc, "iam", &["--set", "cacheTls=none", "--prune"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
    assert!(api
        .get("apps/v1", "Deployment", Some("kubeflow"), "cache-server")
        .is_none());
    assert!(api
        .get(
            "apps/v1",
            "Deployment",
            Some("kubeflow"),
            "cache-deployer-deployment"
        )
        .is_none());
    // Another server: no warning.
    api.set_git_version("v1.31.0");
    let out = apply(&kc, "iam", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
