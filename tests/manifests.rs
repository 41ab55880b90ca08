//! The project's own KFP manifests (`base/`, `crds/`) are plain kustomize
//! directories: they must build, and build exactly as `kubectl kustomize`
//! builds them.

use std::path::Path;
use std::process::Command;

use kfp_aws::kustomize::{self, fs::DiskFs, Format};

fn build(dir: &str) -> (Vec<kustomize::Resource>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let items = kustomize::build(&DiskFs::new(), &path)
        .unwrap_or_else(|e| panic!("{} does not build: {}", dir, e));
    let text = kustomize::render(&items, Format::Yaml);
    (items, text)
}

fn kubectl(dir: &str) -> Option<String> {
    if std::env::var_os("KFP_AWS_NO_KUBECTL").is_some() {
        return None;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(path)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn base_builds_like_kubectl() {
    let (items, text) = build("base");
    let count = |kind: &str| items.iter().filter(|r| r.kind() == kind).count();
    assert_eq!(count("Deployment"), 13, "KFP runs 13 Deployments");
    assert!(
        items.iter().all(|r| r.kind() != "CustomResourceDefinition"),
        "CRDs live in crds/"
    );
    assert!(
        !text.contains("minio"),
        "S3 is the artifact store: no MinIO object or reference may remain"
    );
    for r in &items {
        let cluster_scoped = r.cur_id().gvk.is_cluster_scoped();
        if cluster_scoped && r.kind() != "Namespace" {
            assert!(
                r.name().starts_with("kubeflow-"),
                "{} {} must carry the namespace in its name",
                r.kind(),
                r.name()
            );
        } else if !cluster_scoped {
            assert_eq!(r.namespace(), "kubeflow", "{} {}", r.kind(), r.name());
        }
    }
    if let Some(expected) = kubectl("base") {
        assert_eq!(
            text, expected,
            "kfp-aws build base differs from kubectl kustomize base"
        );
    }
}

#[test]
fn crds_build_like_kubectl() {
    let (items, text) = build("crds");
    assert_eq!(items.len(), 11, "three KFP CRDs and eight Argo CRDs");
    assert!(items.iter().all(|r| r.kind() == "CustomResourceDefinition"));
    if let Some(expected) = kubectl("crds") {
        assert_eq!(
            text, expected,
            "kfp-aws build crds differs from kubectl kustomize crds"
        );
    }
}
