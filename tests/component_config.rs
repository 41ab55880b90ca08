//! What each KFP component reads, on the rendered objects: the settings that
//! KFP 2.14.4 and Argo v3.6.7 read from their environment, arguments and
//! ConfigMaps, for IRSA, kube2iam and access keys, in the default and in
//! another namespace and region. The upstream reader of each setting is
//! named next to its check (kubeflow/pipelines at tag 2.14.4).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use kfp_aws::kustomize::Resource;
use kfp_aws::params::RawParams;
use kfp_aws::render::Tree;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn params(overlay: &str, sets: &[&str]) -> Result<kfp_aws::params::Params, String> {
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
    raw.resolve()
}

fn render(overlay: &str, sets: &[&str]) -> Vec<Resource> {
    let p = params(overlay, sets).unwrap_or_else(|e| panic!("params {:?}: {}", sets, e));
    Tree::new(None)
        .render(&p, false)
        .unwrap_or_else(|e| panic!("render {} {:?}: {}", overlay, sets, e))
}

/// A variant of the install: overlay, parameters, and what it is called in
/// failure messages.
struct Variant {
    name: &'static str,
    overlay: &'static str,
    sets: &'static [&'static str],
    namespace: &'static str,
    region: &'static str,
}

const EU_ROLE: &str = "iamRoleArn=arn:aws:iam::123456789012:role/kfp-eu";

const VARIANTS: &[Variant] = &[
    Variant {
        name: "irsa",
        overlay: "iam",
        sets: &[],
        namespace: "kubeflow",
        region: "us-east-1",
    },
    Variant {
        name: "irsa team-a eu-west-1",
        overlay: "iam",
        sets: &[
            "namespace=team-a",
            "awsRegion=eu-west-1",
            "s3Endpoint=",
            EU_ROLE,
        ],
        namespace: "team-a",
        region: "eu-west-1",
    },
    Variant {
        name: "kube2iam",
        overlay: "iam",
        sets: &["iamMode=kube2iam"],
        namespace: "kubeflow",
        region: "us-east-1",
    },
    Variant {
        name: "kube2iam team-b eu-central-1 external MySQL",
        overlay: "iam",
        sets: &[
            "iamMode=kube2iam",
            "namespace=team-b",
            "awsRegion=eu-central-1",
            "s3Endpoint=",
            EU_ROLE,
            "mysqlHost=db.example.internal",
        ],
        namespace: "team-b",
        region: "eu-central-1",
    },
    Variant {
        name: "accesskey",
        overlay: "accesskey",
        sets: &[],
        namespace: "kubeflow",
        region: "us-east-1",
    },
    Variant {
        name: "accesskey team-c ap-south-1",
        overlay: "accesskey",
        sets: &["namespace=team-c", "awsRegion=ap-south-1", "s3Endpoint="],
        namespace: "team-c",
        region: "ap-south-1",
    },
];

fn find<'a>(items: &'a [Resource], kind: &str, name: &str) -> Option<&'a Resource> {
    items.iter().find(|r| r.kind() == kind && r.name() == name)
}

fn get<'a>(items: &'a [Resource], kind: &str, name: &str) -> &'a Resource {
    find(items, kind, name).unwrap_or_else(|| panic!("no {} {}", kind, name))
}

fn container<'a>(r: &'a Resource, name: &str) -> &'a Value {
    r.obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {} in {}", name, r.name()))
}

fn env<'a>(c: &'a Value, var: &str) -> Option<&'a Value> {
    c["env"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == var))
}

fn env_names(c: &Value) -> Vec<String> {
    c["env"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn args(c: &Value) -> Vec<String> {
    c["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// §1. The API server reads ObjectStoreConfig.AccessKey/SecretAccessKey
/// through viper over its image's config.json, which holds MinIO's keys
/// (`backend/src/apiserver/config/config.json`). Non-empty keys make
/// `client/minio.go` sign with them and never reach the AWS chain, so with
/// IAM roles both must be set, to an empty value (viper has AllowEmptyEnv
/// on, `backend/src/apiserver/main.go`).
#[test]
fn api_server_static_keys_are_blank_with_iam_and_the_secret_with_accesskey() {
    for v in VARIANTS {
        let items = render(v.overlay, v.sets);
        let api = container(
            get(&items, "Deployment", "ml-pipeline"),
            "ml-pipeline-api-server",
        );
        for var in [
            "OBJECTSTORECONFIG_ACCESSKEY",
            "OBJECTSTORECONFIG_SECRETACCESSKEY",
        ] {
            let e = env(api, var).unwrap_or_else(|| panic!("{}: no {}", v.name, var));
            if v.overlay == "iam" {
                assert_eq!(
                    e.get("value"),
                    Some(&Value::String(String::new())),
                    "{}: {} must be an explicit empty value: {}",
                    v.name,
                    var,
                    e
                );
                assert!(e.get("valueFrom").is_none(), "{}: {}", v.name, e);
            } else {
                assert_eq!(
                    e.pointer("/valueFrom/secretKeyRef/name"),
                    Some(&Value::from("kfp-aws-s3-credentials")),
                    "{}: {}",
                    v.name,
                    e
                );
                assert!(e.get("value").is_none(), "{}: {}", v.name, e);
            }
        }
        // Each variable once: two entries of one name would leave the
        // first to the kubelet and the second to whoever reads the YAML.
        let names = env_names(api);
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{}: {:?}", v.name, names);
    }
}

/// §2. With `credentials.fromEnv` the v2 launcher opens the bucket from the
/// pipeline root alone (`v2/objectstore/object_store.go`, `config.go`
/// bucketURL), and a query makes `v2/config/s3.go` take that path too;
/// gocloud's s3blob reads `region=` and `endpoint=` from it. So the iam
/// overlay's root carries the region; the accesskey overlay's root has no
/// query, which would bypass the secretRef.
#[test]
fn launcher_pipeline_root_carries_the_region_with_iam_only() {
    for v in VARIANTS {
        let items = render(v.overlay, v.sets);
        let launcher = get(&items, "ConfigMap", "kfp-launcher");
        let root = launcher.obj["data"]["defaultPipelineRoot"]
            .as_str()
            .expect("defaultPipelineRoot");
        let bucket = "kfp-artifacts-example";
        if v.overlay == "iam" {
            assert_eq!(
                root,
                format!("s3://{}/artifacts/v2?region={}", bucket, v.region),
                "{}",
                v.name
            );
        } else {
            assert_eq!(root, format!("s3://{}/artifacts/v2", bucket), "{}", v.name);
            let providers = launcher.obj["data"]["providers"].as_str().unwrap_or("");
            assert!(
                providers.contains("secretRef") && providers.contains("fromEnv: false"),
                "{}: {}",
                v.name,
                providers
            );
        }
        // The ConfigMap is read in the pod's namespace (v2/config/env.go).
        assert_eq!(launcher.namespace(), v.namespace, "{}", v.name);
    }
}

#[test]
fn a_non_default_endpoint_travels_in_the_query() {
    let items = render("iam", &["s3Endpoint=s3-fips.us-east-1.amazonaws.com"]);
    let root = get(&items, "ConfigMap", "kfp-launcher").obj["data"]["defaultPipelineRoot"].clone();
    assert_eq!(
        root,
        "s3://kfp-artifacts-example/artifacts/v2?region=us-east-1&endpoint=https://s3-fips.us-east-1.amazonaws.com"
    );
    // China: the region's own endpoint ends in .amazonaws.com.cn and needs
    // no endpoint in the query.
    let cn = render(
        "iam",
        &[
            "awsRegion=cn-north-1",
            "s3Endpoint=",
            "iamRoleArn=arn:aws-cn:iam::123456789012:role/kfp",
        ],
    );
    assert_eq!(
        get(&cn, "ConfigMap", "kfp-launcher").obj["data"]["defaultPipelineRoot"],
        "s3://kfp-artifacts-example/artifacts/v2?region=cn-north-1"
    );
}

#[test]
fn a_query_of_the_users_own_is_kept_and_refused_with_access_keys() {
    let own = "pipelineRoot=s3://kfp-artifacts-example/runs?region=us-east-1&endpoint=https://bucket.vpce-0abc.s3.us-east-1.vpce.amazonaws.com";
    let items = render("iam", &[own]);
    assert_eq!(
        get(&items, "ConfigMap", "kfp-launcher").obj["data"]["defaultPipelineRoot"],
        own.trim_start_matches("pipelineRoot=")
    );
    let err = params("accesskey", &[own]).expect_err("a query with access keys");
    assert!(
        err.starts_with("parameter pipelineRoot") && err.contains("accesskey"),
        "{}",
        err
    );
    let err = params(
        "iam",
        &["pipelineRoot=s3://kfp-artifacts-example/x?a=1?b=2"],
    )
    .expect_err("two queries");
    assert!(err.contains("at most one '?'"), "{}", err);
}

/// §3. The viewer controller watches only `--namespace=$NAMESPACE`
/// (`backend/Dockerfile.viewercontroller`, default `kubeflow`;
/// `crd/controller/viewer/main.go`).
#[test]
fn viewer_controller_watches_its_own_namespace() {
    for v in VARIANTS {
        let items = render(v.overlay, v.sets);
        let c = container(
            get(&items, "Deployment", "ml-pipeline-viewer-crd"),
            "ml-pipeline-viewer-crd",
        );
        let ns = env(c, "NAMESPACE").unwrap_or_else(|| panic!("{}: no NAMESPACE", v.name));
        assert_eq!(
            ns.pointer("/valueFrom/fieldRef/fieldPath"),
            Some(&Value::from("metadata.namespace")),
            "{}",
            v.name
        );
        assert!(env(c, "MINIO_NAMESPACE").is_none(), "{}", v.name);
    }
}

/// §4. The cache webhook's TLS, by `cacheTls`.
#[test]
fn cache_tls_kubelet_csr_keeps_the_deployer() {
    let items = render("iam", &[]);
    assert!(find(&items, "Deployment", "cache-deployer-deployment").is_some());
    assert!(find(&items, "Deployment", "cache-server").is_some());
    assert!(!items
        .iter()
        .any(|r| r.kind() == "MutatingWebhookConfiguration"
            || r.kind() == "Certificate"
            || r.kind() == "Issuer"));
}

const DEPLOYER: &[(&str, &str)] = &[
    ("Deployment", "cache-deployer-deployment"),
    ("ServiceAccount", "kubeflow-pipelines-cache-deployer-sa"),
    ("Role", "kubeflow-pipelines-cache-deployer-role"),
    (
        "RoleBinding",
        "kubeflow-pipelines-cache-deployer-rolebinding",
    ),
];

#[test]
fn cache_tls_cert_manager_issues_the_webhook_certificate() {
    for v in VARIANTS {
        let mut sets = v.sets.to_vec();
        sets.push("cacheTls=cert-manager");
        let items = render(v.overlay, &sets);
        let ns = v.namespace;
        for (kind, name) in DEPLOYER {
            assert!(
                find(&items, kind, name).is_none(),
                "{}: {} {}",
                v.name,
                kind,
                name
            );
        }
        assert!(
            !items.iter().any(|r| r.name().contains("cache-deployer")),
            "{}: a cache deployer object is left",
            v.name
        );
        let issuer = get(&items, "Issuer", "kfp-cache-selfsigned-issuer");
        assert_eq!(issuer.namespace(), ns, "{}", v.name);
        let cert = get(&items, "Certificate", "kfp-cache-cert");
        assert_eq!(cert.namespace(), ns, "{}", v.name);
        assert_eq!(cert.obj["spec"]["secretName"], "webhook-server-tls");
        assert_eq!(
            cert.obj["spec"]["dnsNames"],
            serde_json::json!([
                "cache-server",
                format!("cache-server.{}", ns),
                format!("cache-server.{}.svc", ns)
            ]),
            "{}",
            v.name
        );
        let hook_name = format!("cache-webhook-{}", ns);
        let hook = get(&items, "MutatingWebhookConfiguration", &hook_name);
        assert_eq!(
            hook.obj["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            format!("{}/kfp-cache-cert", ns),
            "{}",
            v.name
        );
        let w = &hook.obj["webhooks"][0];
        assert_eq!(w["name"], format!("cache-server.{}.svc", ns));
        assert_eq!(w["clientConfig"]["service"]["namespace"], ns);
        assert_eq!(w["clientConfig"]["service"]["name"], "cache-server");
        assert_eq!(
            w["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            ns
        );
        // The server reads cert-manager's file names from the mounted Secret.
        let server = get(&items, "Deployment", "cache-server");
        let a = args(container(server, "server"));
        assert!(
            a.contains(&"--tls_cert_filename=tls.crt".to_string()),
            "{:?}",
            a
        );
        assert!(
            a.contains(&"--tls_key_filename=tls.key".to_string()),
            "{:?}",
            a
        );
        let secret = server
            .obj
            .pointer("/spec/template/spec/volumes/0/secret/secretName")
            .cloned();
        assert_eq!(secret, Some(Value::from("webhook-server-tls")));
    }
}

#[test]
fn cache_tls_none_renders_no_cache() {
    for v in VARIANTS {
        let mut sets = v.sets.to_vec();
        sets.push("cacheTls=none");
        let items = render(v.overlay, &sets);
        let left: Vec<String> = items
            .iter()
            .filter(|r| r.name().contains("cache") && r.kind() != "ConfigMap")
            .map(|r| format!("{} {}", r.kind(), r.name()))
            .collect();
        assert!(left.is_empty(), "{}: {:?}", v.name, left);
        assert!(!items
            .iter()
            .any(|r| r.kind() == "MutatingWebhookConfiguration"));
    }
    let err = params("iam", &["cacheTls=letsencrypt"]).expect_err("bad cacheTls");
    assert!(
        err.contains("cacheTls") && err.contains("cert-manager"),
        "{}",
        err
    );
}

/// §5. ML Metadata takes headers up to 16 KiB, as upstream 2.14.4 sets
/// (kubeflow/pipelines#11742).
#[test]
fn metadata_grpc_takes_large_headers() {
    let items = render("iam", &[]);
    let c = container(
        get(&items, "Deployment", "metadata-grpc-deployment"),
        "container",
    );
    assert!(
        args(c).contains(&"--grpc_channel_arguments=grpc.max_metadata_size=16384".to_string()),
        "{:?}",
        args(c)
    );
}

/// §5. Variables nothing in KFP 2.14.4 reads are not rendered: the API
/// server reads only DBConfig.MySQLConfig.*, DBConfig.ConMaxLifeTime and
/// DBDriverName (`client_manager/client_manager.go`), and no
/// DEFAULTPIPELINEROOT; the viewer controller reads no MINIO_NAMESPACE.
#[test]
fn no_dead_variables() {
    for v in VARIANTS {
        let items = render(v.overlay, v.sets);
        let api = container(
            get(&items, "Deployment", "ml-pipeline"),
            "ml-pipeline-api-server",
        );
        for dead in [
            "DEFAULTPIPELINEROOT",
            "DBCONFIG_USER",
            "DBCONFIG_PASSWORD",
            "DBCONFIG_DBNAME",
            "DBCONFIG_HOST",
            "DBCONFIG_PORT",
            "DB_DRIVER_NAME",
        ] {
            assert!(env(api, dead).is_none(), "{}: {} is rendered", v.name, dead);
        }
        let text =
            serde_json::to_string(&items.iter().map(|r| &r.obj).collect::<Vec<_>>()).expect("json");
        assert!(!text.contains("MINIO_NAMESPACE"), "{}", v.name);
    }
}

/// Every `configMapKeyRef` and `secretKeyRef` names a key that the render
/// holds, and every key of the install's own ConfigMaps that is meant for
/// `configMapKeyRef` is read by one: a key nobody reads is a setting that
/// silently does nothing.
#[test]
fn every_key_reference_resolves_and_every_install_key_is_read() {
    for v in VARIANTS {
        for cache in ["kubelet-csr", "cert-manager", "none"] {
            let mut sets = v.sets.to_vec();
            let c = format!("cacheTls={}", cache);
            sets.push(&c);
            let items = render(v.overlay, &sets);
            let mut keys: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
            for r in &items {
                if r.kind() == "ConfigMap" || r.kind() == "Secret" {
                    let mut ks = BTreeSet::new();
                    for field in ["data", "stringData"] {
                        if let Some(m) = r.obj[field].as_object() {
                            ks.extend(m.keys().cloned());
                        }
                    }
                    keys.insert((r.kind().to_string(), r.name().to_string()), ks);
                }
            }
            let mut read: BTreeSet<(String, String, String)> = BTreeSet::new();
            let mut refs = Vec::new();
            for r in &items {
                collect_refs(&r.obj, &mut refs);
            }
            for (kind, name, key, optional) in refs {
                read.insert((kind.clone(), name.clone(), key.clone()));
                if optional {
                    continue;
                }
                let present = keys
                    .get(&(kind.clone(), name.clone()))
                    .map(|ks| ks.contains(&key))
                    .unwrap_or(false);
                assert!(
                    present,
                    "{} cacheTls={}: {} {} key {} is referenced but not rendered",
                    v.name, cache, kind, name, key
                );
            }
            let cfg = &keys[&(
                "ConfigMap".to_string(),
                "pipeline-install-config".to_string(),
            )];
            for key in cfg {
                let used = read.contains(&(
                    "ConfigMap".to_string(),
                    "pipeline-install-config".to_string(),
                    key.clone(),
                ));
                // The cache settings (and the driver name) are read by the
                // cache server only.
                let cache_key = [
                    "dbType",
                    "cacheDb",
                    "cacheImage",
                    "cacheNodeRestrictions",
                    "MAXIMUM_CACHE_STALENESS",
                    "DEFAULT_CACHE_STALENESS",
                ]
                .contains(&key.as_str());
                if cache == "none" && cache_key {
                    continue;
                }
                assert!(
                    used,
                    "{} cacheTls={}: pipeline-install-config key {} is read by nothing",
                    v.name, cache, key
                );
            }
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<(String, String, String, bool)>) {
    match v {
        Value::Object(m) => {
            for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                if let Some(r) = m.get(field) {
                    out.push((
                        kind.to_string(),
                        r["name"].as_str().unwrap_or("").to_string(),
                        r["key"].as_str().unwrap_or("").to_string(),
                        r["optional"].as_bool().unwrap_or(false),
                    ));
                }
            }
            for x in m.values() {
                collect_refs(x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_refs(x, out);
            }
        }
        _ => {}
    }
}
