//! Install parameters: read once, checked once, then written into the
//! kustomize tree as `params/params.env` (and `params/secrets.env`), where the
//! overlays' replacements pick them up.
//!
//! Sources, later ones winning: the defaults, each `--params` file in order,
//! `--set key=value`. Secret values come from `--secrets` files or the
//! environment and are held in [`Secret`], whose `Debug`/`Display` never show
//! the value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A secret value: printable only as `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value, for writing into the cluster's Secret objects only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The overlays the tool ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    AccessKey,
    Iam,
}

impl Overlay {
    pub fn parse(s: &str) -> Result<Overlay, String> {
        match s {
            "accesskey" => Ok(Overlay::AccessKey),
            "iam" => Ok(Overlay::Iam),
            other => Err(format!(
                "overlay '{}' does not exist; use accesskey or iam",
                other
            )),
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Overlay::AccessKey => "accesskey",
            Overlay::Iam => "iam",
        }
    }
}

/// Every parameter: name, default (None = no default), one-line meaning.
pub const PARAMS: &[(&str, Option<&str>, &str)] = &[
    (
        "overlay",
        None,
        "accesskey (static keys) or iam (IRSA or kube2iam)",
    ),
    ("namespace", Some("kubeflow"), "namespace of this install"),
    (
        "awsRegion",
        None,
        "AWS region of the bucket, e.g. us-east-1",
    ),
    ("s3Bucket", None, "S3 bucket for artifacts and logs"),
    (
        "s3Endpoint",
        Some(""),
        "S3 endpoint; default derived from the region",
    ),
    (
        "s3KeyPrefix",
        Some("artifacts"),
        "key prefix inside the bucket",
    ),
    (
        "pipelineRoot",
        Some(""),
        "default pipeline root; default s3://<bucket>/<prefix>/v2",
    ),
    (
        "pipelineRootQuery",
        Some(""),
        "query the iam overlay appends to the pipeline root (written by kfp-aws: region=<awsRegion>, or the query given in pipelineRoot)",
    ),
    (
        "mysqlHost",
        Some(""),
        "external MySQL host; empty runs MySQL in the cluster",
    ),
    ("mysqlPort", Some("3306"), "MySQL port"),
    (
        "pipelineDb",
        Some("mlpipeline"),
        "database of the pipeline API",
    ),
    ("metadataDb", Some("metadb"), "database of ML Metadata"),
    ("cacheDb", Some("cachedb"), "database of the cache server"),
    ("iamMode", Some("irsa"), "irsa or kube2iam (iam overlay)"),
    (
        "iamRoleArn",
        Some(""),
        "IAM role for KFP's pods (iam overlay)",
    ),
    (
        "oidcProvider",
        Some(""),
        "the cluster's OIDC provider, for validation",
    ),
    (
        "awsSecretName",
        Some("kfp-aws-s3-credentials"),
        "Secret with the S3 keys (accesskey overlay)",
    ),
    (
        "createS3Secret",
        Some("true"),
        "true: create awsSecretName from the secrets; false: it exists already",
    ),
    (
        "imageRegistry",
        Some("ghcr.io/kubeflow"),
        "registry of the KFP images",
    ),
    ("kfpVersion", Some("2.14.4"), "KFP version (image tag)"),
    (
        "cacheTls",
        Some("kubelet-csr"),
        "TLS of the cache webhook: kubelet-csr, cert-manager or none (no cache server)",
    ),
];

/// The choices of `cacheTls`.
pub const CACHE_TLS: &[&str] = &["kubelet-csr", "cert-manager", "none"];

/// Secret parameters and the environment variables that may carry them.
pub const SECRETS: &[(&str, &str)] = &[
    ("awsAccessKeyId", "KFP_AWS_ACCESS_KEY_ID"),
    ("awsSecretAccessKey", "KFP_AWS_SECRET_ACCESS_KEY"),
    ("mysqlUser", "KFP_MYSQL_USER"),
    ("mysqlPassword", "KFP_MYSQL_PASSWORD"),
];

/// Checked parameters with every default filled in.
#[derive(Clone, Debug)]
pub struct Params {
    pub overlay: Overlay,
    values: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
}

/// Parameters as read, before checking.
#[derive(Default, Clone, Debug)]
pub struct RawParams {
    values: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
}

/// `KEY=VALUE` lines; `#` comments and blank lines skipped. A byte order
/// mark at the start is ignored; a key given twice is an error naming both
/// lines (later files and `--set` still override earlier ones).
fn env_lines(text: &str, source: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            return Err(format!("{}:{}: expected KEY=VALUE", source, i + 1));
        };
        let k = k.trim().to_string();
        if let Some(first) = seen.insert(k.clone(), i + 1) {
            return Err(format!(
                "{}:{}: '{}' is given twice (also on line {}); keep one",
                source,
                i + 1,
                crate::truncate(&k, 80),
                first
            ));
        }
        out.push((k, v.trim().to_string()));
    }
    Ok(out)
}

/// A file's text and its name for messages.
fn read_env_file(path: &Path) -> Result<(String, String), String> {
    let source = path.display().to_string();
    let bytes = crate::kustomize::fs::read_regular_file(path).map_err(|e| {
        format!(
            "{}: cannot read: {}",
            source,
            crate::kustomize::fs::io_reason(&e)
        )
    })?;
    let text = crate::kustomize::fs::utf8_text(bytes).map_err(|e| format!("{}: {}", source, e))?;
    Ok((text, source))
}

fn is_secret(key: &str) -> bool {
    SECRETS.iter().any(|(k, _)| *k == key)
}

fn is_param(key: &str) -> bool {
    PARAMS.iter().any(|(k, _, _)| *k == key)
}

fn unknown(key: &str, source: &str) -> String {
    let names: Vec<&str> = PARAMS.iter().map(|(k, _, _)| *k).collect();
    let close = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(key))
        .map(|n| format!("; did you mean '{}'?", n))
        .unwrap_or_default();
    format!(
        "{}: unknown parameter '{}'{}",
        source,
        crate::truncate(key, 80),
        close
    )
}

impl RawParams {
    /// Read a parameters file (non-secret keys only).
    pub fn add_file(&mut self, path: &Path) -> Result<(), String> {
        let (text, source) = read_env_file(path)?;
        self.add_text(&text, &source)
    }

    pub fn add_text(&mut self, text: &str, source: &str) -> Result<(), String> {
        for (k, v) in env_lines(text, source)? {
            if is_secret(&k) {
                return Err(format!(
                    "{}: '{}' is a secret; put it in a --secrets file or the environment, not in parameters",
                    source, k
                ));
            }
            if !is_param(&k) {
                return Err(unknown(&k, source));
            }
            self.values.insert(k, v);
        }
        Ok(())
    }

    /// Read a secrets file (secret keys only). Values never reach messages.
    pub fn add_secrets_file(&mut self, path: &Path) -> Result<(), String> {
        let (text, source) = read_env_file(path)?;
        for (k, v) in env_lines(&text, &source)? {
            if !is_secret(&k) {
                let names: Vec<&str> = SECRETS.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "{}: unknown secret '{}'; expected one of {}",
                    source,
                    k,
                    names.join(", ")
                ));
            }
            self.secrets.insert(k, Secret::new(v));
        }
        Ok(())
    }

    /// Secrets from the environment, for keys no file gave.
    pub fn add_secrets_from_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        for (k, var) in SECRETS {
            if !self.secrets.contains_key(*k) {
                if let Some(v) = get(var) {
                    self.secrets.insert(k.to_string(), Secret::new(v));
                }
            }
        }
    }

    /// Example secrets (only where no file or variable gave a value).
    pub fn add_example_secrets(&mut self, text: &str) {
        if let Ok(lines) = env_lines(text, "params/secrets.env.example") {
            for (k, v) in lines {
                if is_secret(&k) && !self.secrets.contains_key(&k) {
                    self.secrets.insert(k, Secret::new(v));
                }
            }
        }
    }

    /// `--set key=value`.
    pub fn set(&mut self, kv: &str) -> Result<(), String> {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(format!("--set '{}': expected key=value", kv));
        };
        if is_secret(k) {
            return Err(format!("--set {}: secrets cannot be given on the command line; use --secrets or the environment", k));
        }
        if !is_param(k) {
            return Err(unknown(k, "--set"));
        }
        self.values.insert(k.to_string(), v.to_string());
        Ok(())
    }

    /// Fill defaults, derive what depends on other values, and check
    /// everything. Errors say which parameter and what to do.
    pub fn resolve(&self) -> Result<Params, String> {
        self.resolve_checked()
            .map_err(|e| crate::shorten_quoted(&e, 100))
    }

    fn resolve_checked(&self) -> Result<Params, String> {
        let mut v: BTreeMap<String, String> = BTreeMap::new();
        for (k, default, _) in PARAMS {
            if let Some(d) = default {
                v.insert(k.to_string(), d.to_string());
            }
        }
        for (k, val) in &self.values {
            v.insert(k.clone(), val.clone());
        }
        let overlay = match v.get("overlay") {
            Some(o) if !o.is_empty() => {
                Overlay::parse(o).map_err(|e| format!("parameter overlay: {}", e))?
            }
            _ => return Err("parameter overlay is missing: pass --overlay accesskey|iam".into()),
        };
        for k in ["awsRegion", "s3Bucket"] {
            if val(&v, k).is_empty() {
                return Err(format!(
                    "parameter {} is missing: set it in a --params file or with --set {}=...",
                    k, k
                ));
            }
        }
        check_namespace(&val(&v, "namespace"))?;
        let region = val(&v, "awsRegion");
        check_region(&region)?;
        check_bucket(&val(&v, "s3Bucket"))?;
        let prefix = val(&v, "s3KeyPrefix");
        if prefix.starts_with('/')
            || prefix.ends_with('/')
            || prefix.contains("//")
            || prefix.is_empty()
        {
            return Err(format!("parameter s3KeyPrefix '{}' must be a non-empty key prefix without leading, trailing or double '/'", prefix));
        }
        if val(&v, "s3Endpoint").is_empty() {
            v.insert("s3Endpoint".into(), default_endpoint(&region));
        } else {
            let e = val(&v, "s3Endpoint");
            if e.contains("://") || e.contains('/') || e.contains(' ') {
                return Err(format!(
                    "parameter s3Endpoint '{}' must be a host name (no scheme, no path)",
                    e
                ));
            }
            // An AWS endpoint of another region is a stale value, not a choice.
            let aws = e.strip_prefix("s3.").and_then(|r| {
                r.strip_suffix(".amazonaws.com.cn")
                    .or_else(|| r.strip_suffix(".amazonaws.com"))
            });
            if let Some(r) = aws {
                if r != region {
                    return Err(format!(
                        "parameter s3Endpoint '{}' is for region {} but awsRegion is {}; set s3Endpoint= (empty) to derive it",
                        e, r, region
                    ));
                }
            }
        }
        if val(&v, "pipelineRoot").is_empty() {
            v.insert(
                "pipelineRoot".into(),
                format!("s3://{}/{}/v2", val(&v, "s3Bucket"), prefix),
            );
        } else if !val(&v, "pipelineRoot").starts_with("s3://") {
            return Err(format!(
                "parameter pipelineRoot '{}' must start with s3://",
                val(&v, "pipelineRoot")
            ));
        } else if !val(&v, "pipelineRoot").starts_with(&format!("s3://{}/", val(&v, "s3Bucket"))) {
            return Err(format!(
                "parameter pipelineRoot '{}' is not in s3Bucket '{}'; set pipelineRoot= (empty) to derive it",
                val(&v, "pipelineRoot"),
                val(&v, "s3Bucket")
            ));
        }
        pipeline_root_query(&mut v, overlay, &region)?;
        let port = val(&v, "mysqlPort");
        if !matches!(port.parse::<u32>(), Ok(p) if (1..=65535).contains(&p)) {
            return Err(format!(
                "parameter mysqlPort '{}' must be a port number (1-65535)",
                port
            ));
        }
        let host = val(&v, "mysqlHost");
        if host.contains(' ') || host.contains("://") || host.contains(':') {
            return Err(format!("parameter mysqlHost '{}' must be a host name or address (the port goes in mysqlPort)", host));
        }
        for k in ["pipelineDb", "metadataDb", "cacheDb"] {
            let d = val(&v, k);
            if d.is_empty()
                || d.len() > 64
                || !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            {
                return Err(format!("parameter {} '{}' must be a MySQL database name (letters, digits, _ and $, at most 64)", k, d));
            }
        }
        let mode = val(&v, "iamMode");
        if mode != "irsa" && mode != "kube2iam" {
            return Err(format!(
                "parameter iamMode '{}' must be irsa or kube2iam",
                mode
            ));
        }
        let arn = val(&v, "iamRoleArn");
        if overlay == Overlay::Iam && arn.is_empty() {
            return Err(
                "parameter iamRoleArn is missing: the iam overlay needs the role KFP's pods assume"
                    .into(),
            );
        }
        if !arn.is_empty() {
            check_role_arn(&arn, &region)?;
        }
        check_dns_subdomain("awsSecretName", &val(&v, "awsSecretName"))?;
        let create = val(&v, "createS3Secret");
        if create != "true" && create != "false" {
            return Err(format!(
                "parameter createS3Secret '{}' must be true or false",
                create
            ));
        }
        let cache_tls = val(&v, "cacheTls");
        if !CACHE_TLS.contains(&cache_tls.as_str()) {
            return Err(format!(
                "parameter cacheTls '{}' must be one of {}",
                cache_tls,
                CACHE_TLS.join(", ")
            ));
        }
        let mut secrets = self.secrets.clone();
        if overlay == Overlay::AccessKey && create == "true" {
            for k in ["awsAccessKeyId", "awsSecretAccessKey"] {
                if secrets.get(k).map(Secret::is_empty).unwrap_or(true) {
                    let var = SECRETS
                        .iter()
                        .find(|(s, _)| *s == k)
                        .map(|(_, e)| *e)
                        .unwrap_or("");
                    return Err(format!(
                        "secret {} is missing: the accesskey overlay needs it (a --secrets file or the {} environment variable)",
                        k, var
                    ));
                }
            }
            let id = secrets
                .get("awsAccessKeyId")
                .map(|s| s.expose().to_string())
                .unwrap_or_default();
            if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err("secret awsAccessKeyId does not look like an AWS access key id (16-128 letters and digits)".into());
            }
        }
        for (k, d) in [("mysqlUser", "root"), ("mysqlPassword", "")] {
            secrets
                .entry(k.to_string())
                .or_insert_with(|| Secret::new(d));
        }
        if !host.is_empty()
            && host != "mysql"
            && secrets
                .get("mysqlPassword")
                .map(Secret::is_empty)
                .unwrap_or(true)
        {
            return Err("secret mysqlPassword is missing: an external MySQL needs credentials (a --secrets file or KFP_MYSQL_PASSWORD)".into());
        }
        Ok(Params {
            overlay,
            values: v,
            secrets,
        })
    }
}

/// With IAM roles the v2 launcher builds its S3 client from the pipeline root
/// alone (credentials.fromEnv): the region, and an endpoint other than the
/// region's own, must travel in the root's query, which the iam overlay
/// appends from `pipelineRootQuery`. That key is always derived here, so a
/// copied params file cannot carry a stale region; a query of the user's own
/// is written into `pipelineRoot`, is kept as it is and moves to
/// `pipelineRootQuery`. With access keys a query would make the launcher
/// skip the keys' secretRef, so none is allowed (and none is appended).
fn pipeline_root_query(
    v: &mut BTreeMap<String, String>,
    overlay: Overlay,
    region: &str,
) -> Result<(), String> {
    let root = val(v, "pipelineRoot");
    let query = match root.split_once('?') {
        Some((plain, q)) => {
            if overlay == Overlay::AccessKey {
                return Err(format!(
                    "parameter pipelineRoot '{}' has a query: with the accesskey overlay the launcher would then ignore the access keys; remove the part from '?'",
                    root
                ));
            }
            if q.is_empty() || q.contains('?') {
                return Err(format!(
                    "parameter pipelineRoot '{}' must have at most one '?' and a query after it",
                    root
                ));
            }
            v.insert("pipelineRoot".into(), plain.to_string());
            q.to_string()
        }
        None if overlay == Overlay::AccessKey => String::new(),
        None => derived_query(region, &val(v, "s3Endpoint")),
    };
    v.insert("pipelineRootQuery".into(), query);
    Ok(())
}

/// The pipeline root's query kfp-aws writes: the region, and an endpoint
/// that is not the region's own.
fn derived_query(region: &str, endpoint: &str) -> String {
    let mut q = format!("region={}", region);
    if endpoint != default_endpoint(region) {
        q.push_str(&format!("&endpoint=https://{}", endpoint));
    }
    q
}

fn val(v: &BTreeMap<String, String>, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

fn default_endpoint(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("s3.{}.amazonaws.com.cn", region)
    } else {
        format!("s3.{}.amazonaws.com", region)
    }
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn check_namespace(ns: &str) -> Result<(), String> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("parameter namespace '{}' must be a DNS label: lowercase letters, digits and '-', at most 63", ns))
    }
}

fn check_region(r: &str) -> Result<(), String> {
    // <area>[-gov|-iso...]-<direction>-<n>, e.g. us-east-1, us-gov-west-1, cn-north-1.
    let parts: Vec<&str> = r.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .map(|n| n.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(format!("parameter awsRegion '{}' is not an AWS region name (like us-east-1, eu-central-1, cn-north-1)", r))
    }
}

fn check_bucket(b: &str) -> Result<(), String> {
    let bytes = b.as_bytes();
    let reason = if !(3..=63).contains(&b.len()) {
        Some("must be 3 to 63 characters")
    } else if !b
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        Some("may hold only lowercase letters, digits, '.' and '-'")
    } else if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        Some("must begin and end with a letter or digit")
    } else if b.contains("..") {
        Some("may not contain '..'")
    } else if b.split('.').count() == 4 && b.split('.').all(|p| p.parse::<u8>().is_ok()) {
        Some("may not look like an IP address")
    } else if b.starts_with("xn--")
        || b.starts_with("sthree-")
        || b.ends_with("-s3alias")
        || b.ends_with("--ol-s3")
    {
        Some("uses a prefix or suffix AWS reserves")
    } else {
        None
    };
    match reason {
        Some(r) => Err(format!(
            "parameter s3Bucket '{}' is not a valid bucket name: it {}",
            b, r
        )),
        None => Ok(()),
    }
}

fn check_role_arn(arn: &str, region: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > 5
        && parts[5][5..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c));
    if !ok {
        return Err(format!(
            "parameter iamRoleArn '{}' is not an IAM role ARN (arn:aws:iam::123456789012:role/name)",
            arn
        ));
    }
    if parts[1] != partition(region) {
        return Err(format!(
            "parameter iamRoleArn is in partition '{}' but awsRegion '{}' is in '{}'",
            parts[1],
            region,
            partition(region)
        ));
    }
    Ok(())
}

fn check_dns_subdomain(name: &str, v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 253
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && v.as_bytes()[0].is_ascii_alphanumeric()
        && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "parameter {} '{}' must be a Kubernetes object name",
            name, v
        ))
    }
}

impl Params {
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    /// A secret value, for the checks that must use it (never for messages).
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        self.secrets.get(key).filter(|s| !s.is_empty())
    }

    /// MySQL runs in the cluster unless an external host is given.
    pub fn external_mysql(&self) -> bool {
        let h = self.get("mysqlHost");
        !h.is_empty() && h != "mysql"
    }

    /// `params/params.env` as the overlays read it (final values, in-cluster
    /// MySQL spelled `mysql`).
    pub fn params_env(&self) -> String {
        let mut out = String::from("# Written by kfp-aws render from the resolved parameters.\n");
        for (k, _, _) in PARAMS {
            // Render choices, not values the manifests read.
            if *k == "overlay" || *k == "createS3Secret" {
                continue;
            }
            let mut v = self.get(k).to_string();
            if *k == "mysqlHost" && v.is_empty() {
                v = "mysql".into();
            }
            out.push_str(&format!("{}={}\n", k, v));
        }
        out
    }

    /// `params/secrets.env` for the render (values only go into Secrets).
    pub fn secrets_env(&self) -> String {
        let mut out = String::new();
        for (k, _) in SECRETS {
            let v = self.secrets.get(*k).map(Secret::expose).unwrap_or("");
            out.push_str(&format!("{}={}\n", k, v));
        }
        out
    }

    /// The parameters again, in the `--params` file format (no secrets), for
    /// recording next to a committed render.
    pub fn record(&self) -> String {
        let mut out = String::new();
        for (k, _, doc) in PARAMS {
            let v = match *k {
                "overlay" => self.overlay.name().to_string(),
                // A query of the user's own goes back where it came from:
                // pipelineRootQuery is always derived when read.
                "pipelineRoot" => {
                    let query = self.get("pipelineRootQuery");
                    let derived = derived_query(self.get("awsRegion"), self.get("s3Endpoint"));
                    if query.is_empty() || query == derived {
                        self.get(k).to_string()
                    } else {
                        format!("{}?{}", self.get(k), query)
                    }
                }
                _ => self.get(k).to_string(),
            };
            out.push_str(&format!("# {}\n{}={}\n", doc, k, v));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(lines: &[&str]) -> RawParams {
        let mut r = RawParams::default();
        r.add_text(&lines.join("\n"), "test").unwrap();
        r
    }

    #[test]
    fn endpoints_follow_the_partition() {
        assert_eq!(default_endpoint("us-east-1"), "s3.us-east-1.amazonaws.com");
        assert_eq!(
            default_endpoint("cn-northwest-1"),
            "s3.cn-northwest-1.amazonaws.com.cn"
        );
        assert_eq!(
            default_endpoint("us-gov-west-1"),
            "s3.us-gov-west-1.amazonaws.com"
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("AKIAREALLYSECRET");
        assert_eq!(format!("{} {:?}", s, s), "*** ***");
    }

    #[test]
    fn later_sources_win_and_defaults_fill() {
        let mut r = raw(&[
            "overlay=iam",
            "awsRegion=eu-west-1",
            "s3Bucket=b-1",
            "iamRoleArn=arn:aws:iam::123456789012:role/x",
        ]);
        r.set("s3Bucket=b-2").unwrap();
        let p = r.resolve().unwrap();
        assert_eq!(p.get("s3Bucket"), "b-2");
        assert_eq!(p.get("s3Endpoint"), "s3.eu-west-1.amazonaws.com");
        assert_eq!(p.get("pipelineRoot"), "s3://b-2/artifacts/v2");
        assert_eq!(p.get("pipelineRootQuery"), "region=eu-west-1");
        assert_eq!(p.get("namespace"), "kubeflow");
    }

    #[test]
    fn a_recorded_pipeline_root_query_reads_back_the_same() {
        for root in [
            "s3://b-1/artifacts/v2",
            "s3://b-1/runs?region=eu-west-1&endpoint=https://bucket.vpce-0abc.s3.eu-west-1.vpce.amazonaws.com",
        ] {
            let p = raw(&[
                "overlay=iam",
                "awsRegion=eu-west-1",
                "s3Bucket=b-1",
                "iamRoleArn=arn:aws:iam::123456789012:role/x",
                &format!("pipelineRoot={}", root),
            ])
            .resolve()
            .unwrap();
            let again = raw(&[&p.record()]).resolve().unwrap();
            assert_eq!(again.get("pipelineRoot"), p.get("pipelineRoot"));
            assert_eq!(again.get("pipelineRootQuery"), p.get("pipelineRootQuery"));
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for (line, want) in [
            ("s3Bucket=Bad_Bucket", "s3Bucket"),
            ("awsRegion=moon-1", "awsRegion"),
            ("iamRoleArn=arn:aws:iam::12:role/x", "iamRoleArn"),
            ("mysqlPort=70000", "mysqlPort"),
            ("namespace=Team_A", "namespace"),
            ("iamMode=kiam", "iamMode"),
        ] {
            let mut r = raw(&[
                "overlay=iam",
                "awsRegion=us-east-1",
                "s3Bucket=good-bucket",
                "iamRoleArn=arn:aws:iam::123456789012:role/x",
            ]);
            r.add_text(line, "t").unwrap();
            let e = r.resolve().unwrap_err();
            assert!(e.contains(want), "{} -> {}", line, e);
        }
    }

    #[test]
    fn unknown_and_misplaced_keys() {
        let mut r = RawParams::default();
        assert!(r
            .add_text("s3bucket=x", "f")
            .unwrap_err()
            .contains("did you mean 's3Bucket'"));
        assert!(r
            .add_text("awsSecretAccessKey=x", "f")
            .unwrap_err()
            .contains("secret"));
        assert!(r.set("mysqlPassword=x").is_err());
    }

    #[test]
    fn role_partition_must_match_region() {
        let r = raw(&[
            "overlay=iam",
            "awsRegion=cn-north-1",
            "s3Bucket=b-1",
            "iamRoleArn=arn:aws:iam::123456789012:role/x",
        ]);
        assert!(r.resolve().unwrap_err().contains("partition"));
    }
}
