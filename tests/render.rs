//! `kfp-aws render`: the install for given parameters, from the embedded
//! tree. Checked against kubectl, the upstream inventory, the Kubernetes
//! schemas, and field by field for every injected parameter.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

use kfp_aws::kustomize::{self, Format, Resource};
use kfp_aws::params::RawParams;
use kfp_aws::render::Tree;

const EXAMPLE_KEY_ID: &str = "AKIAEXAMPLEEXAMPLE00";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(overlay: &str, sets: &[&str]) -> RawParams {
    let mut raw = RawParams::default();
    let text = std::fs::read_to_string(repo().join("params/params.env")).expect("params.env");
    raw.add_text(&text, "params.env").expect("example params");
    let secrets = std::fs::read_to_string(repo().join("params/secrets.env.example"))
        .expect("secrets example");
    raw.add_example_secrets(&secrets);
    raw.set(&format!("overlay={}", overlay)).expect("overlay");
    for s in sets {
        raw.set(s).expect("set");
    }
    raw
}

fn render(overlay: &str, sets: &[&str]) -> Vec<Resource> {
    let p = example(overlay, sets)
        .resolve()
        .unwrap_or_else(|e| panic!("params: {}", e));
    Tree::new(None)
        .render(&p, false)
        .unwrap_or_else(|e| panic!("render {} {:?}: {}", overlay, sets, e))
}

fn find<'a>(items: &'a [Resource], kind: &str, name: &str) -> &'a Resource {
    items
        .iter()
        .find(|r| r.kind() == kind && r.name() == name)
        .unwrap_or_else(|| panic!("no {} {}", kind, name))
}

fn env(r: &Resource, container: &str, var: &str) -> Value {
    let cs = r
        .obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let c = cs
        .iter()
        .find(|c| c["name"] == container)
        .unwrap_or_else(|| panic!("no container {} in {}", container, r.name()));
    let e = c["env"].as_array().cloned().unwrap_or_default();
    e.into_iter()
        .find(|e| e["name"] == var)
        .unwrap_or_else(|| panic!("no env {} in {}/{}", var, r.name(), container))
}

fn text(items: &[Resource]) -> String {
    kustomize::render(items, Format::Yaml)
}

/// A copy of the tree with `params/secrets.env` made from the example, as a
/// user of plain kubectl would prepare it.
fn tree_copy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kfp-aws-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["base", "crds", "overlays", "params", "components"] {
        copy(&repo().join(sub), &dir.join(sub));
    }
    std::fs::copy(
        dir.join("params/secrets.env.example"),
        dir.join("params/secrets.env"),
    )
    .expect("secrets.env");
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn render_equals_kubectl_on_the_overlays() {
    if std::env::var_os("KFP_AWS_NO_KUBECTL").is_some()
        || Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
            .is_err()
    {
        println!("kubectl not installed: skipped");
        return;
    }
    let tree = tree_copy();
    for overlay in ["accesskey", "iam"] {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(tree.join("overlays").join(overlay))
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "kubectl kustomize overlays/{}: {}",
            overlay,
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = text(&render(overlay, &[]));
        assert_eq!(
            ours,
            String::from_utf8_lossy(&out.stdout),
            "render --overlay {} differs from kubectl",
            overlay
        );
        // --from: the same tree read from disk renders the same.
        let p = example(overlay, &[]).resolve().expect("params");
        let from_disk = Tree::new(Some(&tree))
            .render(&p, false)
            .expect("render --from");
        assert_eq!(
            text(&from_disk),
            ours,
            "render --from differs from the embedded tree"
        );
    }
    let _ = std::fs::remove_dir_all(&tree);
}

#[test]
fn every_upstream_object_is_rendered_or_intentionally_absent() {
    let tsv = std::fs::read_to_string(repo().join("tests/data/kfp-upstream-inventory.tsv"))
        .expect("inventory");
    let mut items = render("accesskey", &[]);
    items.extend(Tree::new(None).crds().expect("crds"));
    // Per-install cluster-scoped objects carry the namespace in their name.
    let renamed = |kind: &str, name: &str| -> String {
        match (kind, name) {
            ("ClusterRole", "kubeflow-pipelines-cache-deployer-clusterrole") => {
                "kubeflow-kfp-cache-deployer-clusterrole".into()
            }
            ("ClusterRoleBinding", "kubeflow-pipelines-cache-deployer-clusterrolebinding") => {
                "kubeflow-kfp-cache-deployer-clusterrolebinding".into()
            }
            ("PriorityClass", "workflow-controller") => "kubeflow-workflow-controller".into(),
            _ => name.into(),
        }
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in tsv.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 || !f[0].starts_with("kfp-2.14.4") {
            continue;
        }
        let (kind, name) = (f[2], f[4]);
        if name.contains("minio") {
            continue; // S3 is the artifact store (README: intended absences).
        }
        checked += 1;
        let want = renamed(kind, name);
        if !items.iter().any(|r| r.kind() == kind && r.name() == want) {
            missing.push(format!("{} {}", kind, name));
        }
    }
    assert!(checked > 70, "only {} inventory rows read", checked);
    assert!(missing.is_empty(), "not rendered: {:?}", missing);
}

#[test]
fn external_mysql_drops_the_in_cluster_database() {
    let inside = render("iam", &[]);
    assert!(inside
        .iter()
        .any(|r| r.kind() == "Deployment" && r.name() == "mysql"));
    let outside = render("iam", &["mysqlHost=db.example.internal", "mysqlPort=3307"]);
    for kind in ["Deployment", "Service", "PersistentVolumeClaim"] {
        assert!(
            !outside
                .iter()
                .any(|r| r.kind() == kind && r.name().contains("mysql")),
            "{} mysql still rendered",
            kind
        );
    }
    let cfg = find(&outside, "ConfigMap", "pipeline-install-config");
    assert_eq!(cfg.obj["data"]["dbHost"], "db.example.internal");
    assert_eq!(cfg.obj["data"]["dbPort"], "3307");
    // Upstream's second pair, read by nothing, is not rendered.
    assert!(cfg.obj["data"].get("mysqlHost").is_none());
    assert!(cfg.obj["data"].get("mysqlPort").is_none());
    // The API server's MySQL client follows the external host.
    let api = find(&outside, "Deployment", "ml-pipeline");
    assert_eq!(
        env(api, "ml-pipeline-api-server", "DBCONFIG_MYSQLCONFIG_HOST")["valueFrom"]
            ["configMapKeyRef"]["key"],
        "dbHost"
    );
}

#[test]
fn two_namespaces_side_by_side() {
    let a = render("iam", &["namespace=team-a"]);
    let b = render("iam", &["namespace=team-b"]);
    for (items, ns) in [(&a, "team-a"), (&b, "team-b")] {
        for r in items.iter() {
            let id = r.cur_id();
            if id.gvk.is_cluster_scoped() {
                if r.kind() != "Namespace" {
                    assert!(
                        r.name().contains(ns),
                        "{} {} lacks the namespace in its name",
                        r.kind(),
                        r.name()
                    );
                }
            } else {
                assert_eq!(r.namespace(), ns, "{} {}", r.kind(), r.name());
            }
        }
    }
    let names = |items: &[Resource]| -> Vec<String> {
        items
            .iter()
            .filter(|r| r.cur_id().gvk.is_cluster_scoped())
            .map(|r| format!("{}/{}", r.kind(), r.name()))
            .collect()
    };
    let (na, nb) = (names(&a), names(&b));
    assert!(
        na.iter().all(|n| !nb.contains(n)),
        "cluster-scoped objects collide: {:?} / {:?}",
        na,
        nb
    );
}

#[test]
fn china_and_govcloud_endpoints() {
    for (region, endpoint) in [
        ("cn-north-1", "s3.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "s3.us-gov-west-1.amazonaws.com"),
    ] {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else {
            "aws-us-gov"
        };
        let arn = format!("iamRoleArn=arn:{}:iam::123456789012:role/kfp", partition);
        let items = render(
            "iam",
            &[&format!("awsRegion={}", region), "s3Endpoint=", &arn],
        );
        let api = find(&items, "Deployment", "ml-pipeline");
        assert_eq!(
            env(api, "ml-pipeline-api-server", "OBJECTSTORECONFIG_HOST")["value"],
            endpoint
        );
        assert_eq!(
            env(api, "ml-pipeline-api-server", "OBJECTSTORECONFIG_REGION")["value"],
            region
        );
        let ui = find(&items, "Deployment", "ml-pipeline-ui");
        assert_eq!(
            env(ui, "ml-pipeline-ui", "AWS_S3_ENDPOINT")["value"],
            endpoint
        );
        assert_eq!(env(ui, "ml-pipeline-ui", "AWS_REGION")["value"], region);
        let all = text(&items);
        assert!(all.contains(endpoint));
    }
}

#[test]
fn parameters_reach_every_consumer() {
    for overlay in ["accesskey", "iam"] {
        let items = render(
            overlay,
            &[
                "s3Bucket=team-bucket",
                "awsRegion=eu-central-1",
                "s3Endpoint=",
                "pipelineRoot=",
                "s3KeyPrefix=kfp",
                "pipelineDb=pipes",
                "metadataDb=meta",
                "cacheDb=cache",
            ],
        );
        let all = text(&items);
        assert!(
            !all.contains("kfp-artifacts"),
            "{}: the base bucket placeholder survived",
            overlay
        );
        // Uploaded pipeline packages live under the prefix too, so a role or
        // key limited to <bucket>/<prefix>* is enough for the API server.
        assert_eq!(
            env(
                find(&items, "Deployment", "ml-pipeline"),
                "ml-pipeline-api-server",
                "OBJECTSTORECONFIG_PIPELINEPATH"
            )["value"],
            Value::String("kfp/pipelines".into()),
            "{}",
            overlay
        );
        assert!(
            !all.contains("us-east-1"),
            "{}: the base region placeholder survived",
            overlay
        );
        let api = find(&items, "Deployment", "ml-pipeline");
        assert_eq!(
            env(
                api,
                "ml-pipeline-api-server",
                "OBJECTSTORECONFIG_BUCKETNAME"
            )["value"],
            "team-bucket"
        );
        let cfg = find(&items, "ConfigMap", "pipeline-install-config");
        assert_eq!(cfg.obj["data"]["pipelineDb"], "pipes");
        assert_eq!(cfg.obj["data"]["mlmdDb"], "meta");
        assert_eq!(cfg.obj["data"]["cacheDb"], "cache");
        let launcher = find(&items, "ConfigMap", "kfp-launcher");
        let root = if overlay == "iam" {
            "s3://team-bucket/kfp/v2?region=eu-central-1"
        } else {
            "s3://team-bucket/kfp/v2"
        };
        assert_eq!(launcher.obj["data"]["defaultPipelineRoot"], root);
        let argo = find(&items, "ConfigMap", "workflow-controller-configmap");
        let repo_cfg = argo.obj["data"]["artifactRepository"]
            .as_str()
            .unwrap_or("");
        for want in [
            "team-bucket",
            "eu-central-1",
            "s3.eu-central-1.amazonaws.com",
            "kfp/",
            "insecure: false",
        ] {
            assert!(
                repo_cfg.contains(want),
                "{}: artifactRepository lacks {}: {}",
                overlay,
                want,
                repo_cfg
            );
        }
        let ui = find(&items, "Deployment", "ml-pipeline-ui");
        assert_eq!(
            env(ui, "ml-pipeline-ui", "ARGO_ARCHIVE_BUCKETNAME")["value"],
            "team-bucket"
        );
        let viewer = find(&items, "ConfigMap", "ml-pipeline-ui-configmap");
        assert!(
            viewer.obj["data"].to_string().contains("eu-central-1"),
            "{}: viewer template region",
            overlay
        );
    }
}

#[test]
fn accesskey_wires_the_keys_and_iam_has_none() {
    let ak = render("accesskey", &[]);
    let api = find(&ak, "Deployment", "ml-pipeline");
    assert!(
        env(api, "ml-pipeline-api-server", "OBJECTSTORECONFIG_ACCESSKEY")["valueFrom"]
            ["secretKeyRef"]
            .is_object()
    );
    let ui = find(&ak, "Deployment", "ml-pipeline-ui");
    assert!(
        env(ui, "ml-pipeline-ui", "AWS_SECRET_ACCESS_KEY")["valueFrom"]["secretKeyRef"].is_object()
    );
    // The example key shows up only base64-encoded inside a Secret.
    assert!(!text(&ak).contains(EXAMPLE_KEY_ID));

    let iam = render("iam", &[]);
    let all = text(&iam);
    assert!(
        !all.contains(EXAMPLE_KEY_ID)
            && !all.contains("AWS_SECRET_ACCESS_KEY")
            && !all.contains("accessKeySecret")
    );
    let sa = find(&iam, "ServiceAccount", "ml-pipeline");
    assert!(
        sa.obj["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            .as_str()
            .unwrap_or("")
            .starts_with("arn:aws:iam::")
    );
    let k2 = text(&render("iam", &["iamMode=kube2iam"]));
    assert!(k2.contains("iam.amazonaws.com/role") && !k2.contains("eks.amazonaws.com/role-arn"));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        text(&render("accesskey", &[])),
        text(&render("accesskey", &[]))
    );
}

#[test]
fn renders_validate_against_kubernetes_schemas() {
    let Some(validator) = std::env::var_os("KFP_AWS_VALIDATOR") else {
        println!("KFP_AWS_VALIDATOR not set (scripts/test sets it): skipped");
        return;
    };
    let dir = std::env::temp_dir().join(format!("kfp-aws-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (overlay, sets) in [
        ("accesskey", &[][..]),
        ("iam", &[][..]),
        ("iam", &["cacheTls=cert-manager"][..]),
        ("accesskey", &["cacheTls=none"][..]),
    ] {
        let p = example(overlay, sets).resolve().expect("params");
        let file = dir.join(format!("{}-{}.yaml", overlay, sets.len()));
        // cert-manager's kinds have no schema here; the webhook
        // configuration is a built-in and is checked.
        let items: Vec<Resource> = Tree::new(None)
            .render(&p, true)
            .expect("render")
            .into_iter()
            .filter(|r| {
                !r.obj["apiVersion"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("cert-manager.io/")
            })
            .collect();
        std::fs::write(&file, text(&items)).expect("write");
        for version in ["1.30.0", "1.37.0"] {
            let out = Command::new(&validator)
                .args(["--strict", "-k", version])
                .arg(&file)
                .output()
                .expect("run kubernetes-validate");
            assert!(
                out.status.success(),
                "{} {:?} on Kubernetes {}:\n{}{}",
                overlay,
                sets,
                version,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each bad parameter: one line on stderr, exit 1, nothing on stdout, and no
/// secret value anywhere in the message.
#[test]
fn bad_parameters_are_one_line_errors() {
    let secret = "sEcReT-value-never-printed";
    let dir = std::env::temp_dir().join(format!("kfp-aws-badparams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let secrets = dir.join("secrets.env");
    std::fs::write(
        &secrets,
        format!(
            "awsAccessKeyId={}\nawsSecretAccessKey={}\nmysqlPassword={}\n",
            EXAMPLE_KEY_ID, secret, secret
        ),
    )
    .expect("write");
    let cases: &[(&[&str], &str)] = &[
        (&["--set", "s3Bucket=Bad_Bucket"], "s3Bucket"),
        (&["--set", "s3Bucket=ab"], "s3Bucket"),
        (&["--set", "s3Bucket=192.168.1.1"], "s3Bucket"),
        (&["--set", "awsRegion=moon-base"], "awsRegion"),
        (
            &["--set", "iamRoleArn=arn:aws:iam::123:role/x"],
            "iamRoleArn",
        ),
        (
            &["--set", "iamRoleArn=arn:aws-cn:iam::123456789012:role/x"],
            "partition",
        ),
        (&["--set", "mysqlPort=0"], "mysqlPort"),
        (&["--set", "mysqlHost=db:3306"], "mysqlHost"),
        (&["--set", "namespace=Team_A"], "namespace"),
        (&["--set", "iamMode=kiam"], "iamMode"),
        (&["--set", "pipelineDb=bad-name"], "pipelineDb"),
        (&["--set", "s3KeyPrefix=/abs"], "s3KeyPrefix"),
        (&["--set", "pipelineRoot=gs://x"], "pipelineRoot"),
        (
            &["--set", "s3Endpoint=https://s3.example.com"],
            "s3Endpoint",
        ),
        (&["--set", "awsRegion=eu-west-1"], "s3Endpoint"),
        (&["--set", "s3Bucket=other-bucket"], "pipelineRoot"),
        (&["--set", "bucket=x"], "unknown parameter"),
        (&["--set", "mysqlPassword=x"], "secrets"),
        (&["--set", "noequals"], "key=value"),
        (&["--set", "overlay=minio"], "overlay"),
        (&["--set", "iamRoleArn="], "iamRoleArn"),
    ];
    for (args, want) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
            .arg("render")
            .args(["--overlay", "iam", "--secrets"])
            .arg(&secrets)
            .args(*args)
            .output()
            .expect("run kfp-aws");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("note:")).collect();
        assert_eq!(out.status.code(), Some(1), "{:?}: {}", args, stderr);
        assert!(out.stdout.is_empty(), "{:?}: stdout not empty", args);
        assert_eq!(lines.len(), 1, "{:?}: {}", args, stderr);
        assert!(
            lines[0].contains(want),
            "{:?}: {} does not mention {}",
            args,
            lines[0],
            want
        );
        assert!(
            !stderr.contains(secret) && !stderr.contains(EXAMPLE_KEY_ID),
            "{:?}: a secret reached the error",
            args
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_existing_s3_secret_is_referenced_not_created() {
    // No keys at all: they never pass through the tool.
    let mut raw = RawParams::default();
    let text = std::fs::read_to_string(repo().join("params/params.env")).expect("params.env");
    raw.add_text(&text, "params.env").expect("params");
    for s in [
        "overlay=accesskey",
        "createS3Secret=false",
        "awsSecretName=team-s3-keys",
    ] {
        raw.set(s).expect("set");
    }
    let p = raw
        .resolve()
        .expect("no keys needed for an existing Secret");
    let items = Tree::new(None).render(&p, false).expect("render");
    assert!(
        !items
            .iter()
            .any(|r| r.kind() == "Secret" && r.name() == "team-s3-keys"),
        "the Secret must not be created"
    );
    let api = find(&items, "Deployment", "ml-pipeline");
    assert_eq!(
        env(api, "ml-pipeline-api-server", "OBJECTSTORECONFIG_ACCESSKEY")["valueFrom"]
            ["secretKeyRef"]["name"],
        "team-s3-keys"
    );
}

#[test]
fn check_reports_a_stale_render() {
    let dir = std::env::temp_dir().join(format!("kfp-aws-gitops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let params = "overlay=iam\nawsRegion=us-east-1\ns3Bucket=acme-bucket\niamRoleArn=arn:aws:iam::123456789012:role/kfp\n";
    std::fs::write(dir.join("params.env"), params).expect("write");
    let bin = env!("CARGO_BIN_EXE_kfp-aws");
    let out = Command::new(bin)
        .arg("render")
        .arg("--params")
        .arg(dir.join("params.env"))
        .output()
        .expect("render");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("install.yaml"), &out.stdout).expect("write");
    let ok = Command::new(bin)
        .arg("check")
        .arg(&dir)
        .output()
        .expect("check");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::write(
        dir.join("params.env"),
        params.replace("acme-bucket", "acme-other"),
    )
    .expect("write");
    let stale = Command::new(bin)
        .arg("check")
        .arg(&dir)
        .output()
        .expect("check");
    assert_eq!(stale.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&stale.stdout);
    assert!(
        diff.contains("-  defaultPipelineRoot: s3://acme-bucket/")
            && diff.contains("+  defaultPipelineRoot: s3://acme-other/"),
        "{}",
        diff
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Usage errors (a flag value outside its choices) exit with 2, as clap's do,
/// and print nothing on stdout; parameter errors exit with 1.
#[test]
fn usage_errors_exit_2() {
    for args in [
        &["render", "--overlay", "bogus"][..],
        &["render", "--overlay", "iam", "-o", "xml"][..],
        &["render", "--overlay", "iam", "--no-such-flag"][..],
        &["validate", "--overlay", "iam", "--checks", "dns"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
            .args(args)
            .output()
            .expect("run kfp-aws");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{:?}: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{:?}", args);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
        .args(["render", "--overlay", "iam", "--set", "s3Bucket=Bad_Bucket"])
        .output()
        .expect("run kfp-aws");
    assert_eq!(out.status.code(), Some(1));
}
