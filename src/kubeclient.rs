//! The one way kfp-aws reaches a cluster: which kubeconfig is read and how,
//! how long a request may take, and how a failure is worded.
//!
//! [`connect`] is the only constructor. It reads the kubeconfig the way
//! kubectl does (`--kubeconfig`, else the files in `$KUBECONFIG`, else
//! `~/.kube/config`, else the in-cluster service account), builds a
//! [`kube::Client`] whose every request is bounded by `--request-timeout`,
//! and asks the server for its version, so that an unreachable or silent
//! server is reported once, in plain words, before any real work starts.
//!
//! Messages never quote a kubeconfig: a file that cannot be parsed is named
//! with the line and column and what is wrong, and any quoted text in the
//! parser's message is cut out (tokens, keys and passwords live there).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::anyhow;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::Client;

use crate::kustomize::fs::{io_reason, read_regular_file, utf8_text};

/// How long one request may take when `--request-timeout` is not given.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Which cluster, and how patient to be with it.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// `--kubeconfig`: this file only.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: a context other than the current one.
    pub context: Option<String>,
    /// Limit for each request; `None` waits as long as the server takes.
    pub request_timeout: Option<Duration>,
}

/// The API server of the last [`connect`], for messages about failures
/// that surface outside a request (a response body that stops coming).
static SERVER: OnceLock<(String, Option<Duration>)> = OnceLock::new();

/// A client for the target cluster, once its API server has answered.
pub async fn connect(t: &Target) -> anyhow::Result<Client> {
    Ok(connect_with_version(t).await?.0)
}

/// [`connect`], with the server's version that its first request read.
pub async fn connect_with_version(
    t: &Target,
) -> anyhow::Result<(Client, k8s_openapi::apimachinery::pkg::version::Info)> {
    let (config, files) = load(t).await?;
    let server = redact_url(&config.cluster_url.to_string());
    let limit = t.request_timeout;
    let mut config = with_timeouts(config, limit);
    // Retries are [`with_retries`]' alone; kube's layer would retry each
    // request again underneath (up to 15 times, for minutes).
    config.default_retry = false;
    let _ = SERVER.set((server.clone(), limit));
    // Credentials and certificates are decoded here.
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| {
        match find_source::<KubeconfigError>(&e) {
            Some(k) => anyhow!("{}: {}", files, kubeconfig_error(k)),
            None => anyhow!("cannot set up the client for {}: {}", server, describe(&e)),
        }
    })?;
    let client = builder
        .with_layer(&GuardLayer {
            server: server.clone(),
            limit,
        })
        .build();
    // The first request: reachability, TLS and a silent server show here.
    let version = retry_while(answered_busy, || client.apiserver_version())
        .await
        .map_err(|e| anyhow!("{}", describe_at(&e, &server)))?;
    Ok((client, version))
}

/// Tries of one request, the first included.
pub const ATTEMPTS: u32 = 5;
/// The longest wait a 429's `Retry-After` can impose on one retry.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The one retry policy for requests to the API server (kube's own retry
/// layer is off, so tries do not multiply): throttling (429, after its
/// `Retry-After`), server errors (5xx) and broken connections are tried
/// again, up to [`ATTEMPTS`] in all, with back-off from 200 ms to 5 s.
pub async fn with_retries<T, F, Fut>(f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retry_while(retryable, f).await
}

async fn retry_while<T, F, Fut>(again: fn(&kube::Error) -> bool, mut f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if attempt < ATTEMPTS && again(&e) => {
                tokio::time::sleep(delay.max(retry_after(&e))).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Worth another try: throttling, a server error, a broken connection.
pub fn retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Throttling or a server error, but not a silent or unreachable server,
/// which the first request reports at once.
fn answered_busy(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 429 || s.code >= 500)
}

/// How long a 429 asks the client to wait (`details.retryAfterSeconds`,
/// which kube-apiserver sends along with the `Retry-After` header), at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(e: &kube::Error) -> Duration {
    match e {
        kube::Error::Api(s) if s.code == 429 => s
            .details
            .as_ref()
            .map(|d| Duration::from_secs(u64::from(d.retry_after_seconds)))
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER),
        _ => Duration::ZERO,
    }
}

/// The client configuration for the target, read as [`connect`] reads it
/// (the same kubeconfig rules and messages, the request limit set), for a
/// caller that builds its own client on it (the KFP service proxy).
pub async fn load_config(t: &Target) -> anyhow::Result<kube::Config> {
    let (config, _) = load(t).await?;
    Ok(with_request_timeout(config, t.request_timeout))
}

/// A configuration bounded by a request limit (connect, read and write),
/// noted for the messages of [`cause`] and [`describe`].
pub fn with_request_timeout(config: kube::Config, limit: Option<Duration>) -> kube::Config {
    let server = redact_url(&config.cluster_url.to_string());
    let _ = SERVER.set((server, limit));
    with_timeouts(config, limit)
}

/// Why a request failed, in a few plain words without the server's name
/// (for a caller that names its target itself): `connection refused`, or
/// that no answer came in time.
pub fn cause(e: &kube::Error) -> String {
    let c = match e {
        kube::Error::Service(inner) => ClusterError::classify("", inner.as_ref()),
        kube::Error::HyperError(h) => ClusterError::classify("", h),
        other => return crate::truncate(&other.to_string(), 300),
    };
    match c {
        ClusterError::Silent { limit, .. } => format!(
            "no answer in time (within {}; raise --request-timeout, 0 means no limit)",
            format_duration(limit)
        ),
        ClusterError::Unreachable { cause, .. } => cause,
    }
}

/// Connect, read and write limits; a response counts from its request.
fn with_timeouts(mut config: kube::Config, limit: Option<Duration>) -> kube::Config {
    config.connect_timeout = limit;
    config.read_timeout = limit;
    config.write_timeout = limit;
    config.reset_reader_on_write = true;
    config
}

/// A request error in plain words, naming the server when it is about the
/// connection.
pub fn describe(e: &kube::Error) -> String {
    let server = SERVER
        .get()
        .map(|(s, _)| s.clone())
        .unwrap_or_else(|| "(unknown)".into());
    describe_at(e, &server)
}

fn describe_at(e: &kube::Error, server: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => format!(
            "the API server {} refused the credentials (401 Unauthorized); check the kubeconfig's user",
            server
        ),
        kube::Error::Api(s) => format!(
            "the API server {} refused the request ({} {}): {}",
            server,
            s.code,
            s.reason,
            crate::truncate(&s.message, 300)
        ),
        kube::Error::Service(inner) => match inner.downcast_ref::<ClusterError>() {
            Some(c) => c.to_string(),
            None => ClusterError::classify(server, inner.as_ref()).to_string(),
        },
        kube::Error::HyperError(h) => ClusterError::classify(server, h).to_string(),
        kube::Error::Auth(a) => format!(
            "cannot authenticate to {}: {}",
            server,
            crate::truncate(&a.to_string(), 300)
        ),
        other => crate::truncate(&other.to_string(), 300),
    }
}

/// What went wrong talking to the server.
#[derive(Debug)]
enum ClusterError {
    /// No answer in time.
    Silent { server: String, limit: Duration },
    /// The connection failed: refused, reset, name not found, TLS.
    Unreachable { server: String, cause: String },
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::Silent { server, limit } => write!(
                f,
                "the API server {} did not answer in time (within {}; raise --request-timeout, 0 means no limit)",
                server,
                format_duration(*limit)
            ),
            ClusterError::Unreachable { server, cause } => {
                write!(f, "cannot reach the API server {}: {}", server, cause)
            }
        }
    }
}

impl std::error::Error for ClusterError {}

impl ClusterError {
    /// Find the cause at the bottom of an error chain.
    fn classify(server: &str, e: &(dyn std::error::Error + 'static)) -> ClusterError {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut deepest = e.to_string();
        while let Some(err) = cur {
            if let Some(c) = err.downcast_ref::<ClusterError>() {
                return match c {
                    ClusterError::Silent { limit, .. } => ClusterError::Silent {
                        server: server.into(),
                        limit: *limit,
                    },
                    ClusterError::Unreachable { cause, .. } => ClusterError::Unreachable {
                        server: server.into(),
                        cause: cause.clone(),
                    },
                };
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as K;
                let cause = match io.kind() {
                    K::TimedOut => {
                        let limit = SERVER
                            .get()
                            .and_then(|(_, l)| *l)
                            .unwrap_or(DEFAULT_REQUEST_TIMEOUT);
                        return ClusterError::Silent {
                            server: server.into(),
                            limit,
                        };
                    }
                    K::ConnectionRefused => "connection refused".to_string(),
                    K::ConnectionReset => "the connection was reset".to_string(),
                    K::ConnectionAborted => "the connection was aborted".to_string(),
                    K::UnexpectedEof => "the server closed the connection".to_string(),
                    _ => {
                        // rustls reports through io::Error; its message is the cause.
                        let s = io.to_string();
                        strip_os_error(&s)
                    }
                };
                return ClusterError::Unreachable {
                    server: server.into(),
                    cause,
                };
            }
            deepest = err.to_string();
            cur = err.source();
        }
        let lower = deepest.to_lowercase();
        let cause = if lower.contains("dns error") || lower.contains("failed to lookup address") {
            "the host name does not resolve".to_string()
        } else if lower.contains("connection closed") || lower.contains("incomplete message") {
            "the server closed the connection".to_string()
        } else {
            crate::truncate(&strip_os_error(&deepest), 200)
        };
        ClusterError::Unreachable {
            server: server.into(),
            cause,
        }
    }
}

fn strip_os_error(s: &str) -> String {
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s.to_string(),
    }
}

/// A URL without user information (`https://user:pass@host` names only the host).
fn redact_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Bounds each request and words its connection errors.
#[derive(Clone)]
struct GuardLayer {
    server: String,
    limit: Option<Duration>,
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            server: self.server.clone(),
            limit: self.limit,
        }
    }
}

#[derive(Clone)]
struct Guard<S> {
    inner: S,
    server: String,
    limit: Option<Duration>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, Req> tower::Service<Req> for Guard<S>
where
    S: tower::Service<Req>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let fut = self.inner.call(req);
        let server = self.server.clone();
        let limit = self.limit;
        Box::pin(async move {
            let res = match limit {
                Some(l) => match tokio::time::timeout(l, fut).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(Box::new(ClusterError::Silent { server, limit: l }) as BoxError)
                    }
                },
                None => fut.await,
            };
            res.map_err(|e| {
                let e: BoxError = e.into();
                Box::new(ClusterError::classify(&server, e.as_ref())) as BoxError
            })
        })
    }
}

/// A parsed `--request-timeout` (`None`: no limit), for argument parsers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

impl RequestTimeout {
    pub fn parse(s: &str) -> Result<RequestTimeout, String> {
        parse_request_timeout(s).map(RequestTimeout)
    }
}

/// Parse a kubectl `--request-timeout`: a Go duration (`5s`, `1m30s`,
/// `500ms`) or a whole number of seconds; `0` means no limit.
pub fn parse_request_timeout(s: &str) -> Result<Option<Duration>, String> {
    let s = s.trim();
    let bad = || {
        format!(
            "invalid duration '{}': use a number with a unit, like 5s, 1m or 500ms (0 means no limit)",
            crate::truncate(s, 40)
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok((n > 0).then(|| Duration::from_secs(n)));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * secs;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e9 {
        return Err(bad());
    }
    Ok((total > 0.0).then(|| Duration::from_secs_f64(total)))
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}ms", ms)
    }
}

/// Where the kubeconfig came from, for messages.
fn sources(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first error of type `T` in a chain.
fn find_source<'e, T: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

/// The client configuration, and where it came from (for messages).
async fn load(t: &Target) -> anyhow::Result<(kube::Config, String)> {
    let files: Vec<PathBuf> = match &t.kubeconfig {
        Some(p) => vec![p.clone()],
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(v) => {
                let listed: Vec<PathBuf> = std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect();
                // kubectl skips files of $KUBECONFIG that do not exist.
                let present: Vec<PathBuf> = listed
                    .iter()
                    .filter(|p| std::fs::symlink_metadata(p).is_ok())
                    .cloned()
                    .collect();
                if present.is_empty() {
                    return Err(anyhow!(
                        "no cluster configured: $KUBECONFIG names {}, which does not exist; fix KUBECONFIG or pass --kubeconfig",
                        sources(&listed)
                    ));
                }
                present
            }
            None => {
                let home = std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .map(|h| h.join(".kube").join("config"));
                match home {
                    Some(p) if std::fs::symlink_metadata(&p).is_ok() => vec![p],
                    _ => {
                        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
                            return kube::Config::incluster()
                                .map(|c| (c, "the in-cluster service account".to_string()))
                                .map_err(|e| {
                                    anyhow!(
                                        "in-cluster configuration: {}",
                                        crate::truncate(&e.to_string(), 300)
                                    )
                                });
                        }
                        return Err(anyhow!(
                            "no cluster configured: set KUBECONFIG, pass --kubeconfig, or run in a cluster"
                        ));
                    }
                }
            }
        },
    };
    let mut merged: Option<Kubeconfig> = None;
    for f in &files {
        let kc = read_kubeconfig(f).map_err(anyhow::Error::msg)?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m
                .merge(kc)
                .map_err(|e| anyhow!("{}: {}", f.display(), kubeconfig_error(&e)))?,
        });
    }
    let kc = merged.unwrap_or_default();
    let opts = KubeConfigOptions {
        context: t.context.clone(),
        ..Default::default()
    };
    let names = sources(&files);
    kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map(|c| (c, names.clone()))
        .map_err(|e| anyhow!("{}: {}", names, kubeconfig_error(&e)))
}

/// One kubeconfig file, its relative paths made absolute (as client-go does).
pub fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, String> {
    let name = path.display().to_string();
    let bytes = read_regular_file(path)
        .map_err(|e| format!("{}: cannot read the kubeconfig: {}", name, io_reason(&e)))?;
    let text = utf8_text(bytes).map_err(|e| format!("{}: the kubeconfig is {}", name, e))?;
    let docs = parse_kubeconfig(&text).map_err(|e| format!("{}: {}", name, e))?;
    let mut merged: Option<Kubeconfig> = None;
    for mut config in docs {
        if let Some(dir) = path.parent() {
            absolute_paths(&mut config, dir);
        }
        merged = Some(match merged {
            None => config,
            Some(m) => m
                .merge(config)
                .map_err(|e| format!("{}: {}", name, kubeconfig_error(&e)))?,
        });
    }
    let kc = merged.unwrap_or_default();
    if kc.clusters.is_empty() && kc.contexts.is_empty() && kc.auth_infos.is_empty() {
        return Err(format!(
            "{}: the kubeconfig is empty (no clusters, users or contexts)",
            name
        ));
    }
    Ok(kc)
}

/// Parse kubeconfig text without ever quoting it in an error.
pub fn parse_kubeconfig(text: &str) -> Result<Vec<Kubeconfig>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let opts = serde_saphyr::options! {
        with_snippet: false,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000 + 10 * text.len().min(100_000),
        },
    };
    match serde_saphyr::from_multiple_with_options::<Kubeconfig>(text, opts) {
        Ok(docs) => Ok(docs),
        Err(e) => {
            let at = e
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| format!("line {} column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            Err(format!(
                "invalid kubeconfig: {}{}",
                at,
                redact_quoted(&e.without_snippet().render())
            ))
        }
    }
}

/// A parser message with its location suffix dropped and every quoted or
/// back-quoted span replaced, so that no value of the file is repeated.
fn redact_quoted(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("").trim();
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in first.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' || c == '\'' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    crate::truncate(&out, 200)
}

/// A kubeconfig error in plain words (the crate's messages may carry a
/// decoder's detail about secret bytes; only names pass).
fn kubeconfig_error(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::CurrentContextNotSet => {
            "no current context: set current-context or pass --context".into()
        }
        KubeconfigError::KindMismatch => "files with different 'kind' cannot be merged".into(),
        KubeconfigError::ApiVersionMismatch => {
            "files with different 'apiVersion' cannot be merged".into()
        }
        KubeconfigError::LoadContext(name) => format!(
            "context '{}' is not defined; pass an existing --context",
            crate::truncate(name, 100)
        ),
        KubeconfigError::LoadClusterOfContext(name) => format!(
            "cluster '{}' of the context is not defined",
            crate::truncate(name, 100)
        ),
        KubeconfigError::MissingClusterUrl => {
            "the cluster has no 'server' URL; set clusters[].cluster.server".into()
        }
        KubeconfigError::ParseClusterUrl(_) => {
            "the cluster's 'server' is not a valid URL; use https://host:port".into()
        }
        KubeconfigError::ParseCertificates(_) => {
            "a certificate is not valid PEM; check certificate-authority(-data) and client-certificate(-data)"
                .into()
        }
        KubeconfigError::LoadCertificateAuthority(d) => format!(
            "cannot load the certificate authority (certificate-authority or certificate-authority-data): {}",
            load_data_error(d)
        ),
        KubeconfigError::LoadClientCertificate(d) => format!(
            "cannot load the client certificate (client-certificate or client-certificate-data): {}",
            load_data_error(d)
        ),
        KubeconfigError::LoadClientKey(d) => format!(
            "cannot load the client key (client-key or client-key-data): {}",
            load_data_error(d)
        ),
        KubeconfigError::ReadConfig(e, p) => format!("cannot read {}: {}", p.display(), io_reason(e)),
        KubeconfigError::Parse(_) => "invalid kubeconfig YAML".into(),
        other => crate::truncate(&strip_quoted_tail(&other.to_string()), 200),
    }
}

fn strip_quoted_tail(s: &str) -> String {
    redact_quoted(s)
}

fn load_data_error(e: &kube::config::LoadDataError) -> String {
    use kube::config::LoadDataError as L;
    match e {
        L::DecodeBase64(_) => "the data is not valid base64".into(),
        L::ReadFile(e, p) => format!("cannot read {}: {}", p.display(), io_reason(e)),
        L::NoBase64DataOrFile => "neither the data nor a file is given".into(),
    }
}

/// Relative file references are relative to the kubeconfig's directory.
fn absolute_paths(config: &mut Kubeconfig, dir: &Path) {
    let abs = |p: &mut Option<String>| {
        if let Some(v) = p {
            if Path::new(v.as_str()).is_relative() {
                if let Some(s) = dir.join(v.as_str()).to_str() {
                    *v = s.to_string();
                }
            }
        }
    };
    for named in config.clusters.iter_mut() {
        if let Some(c) = &mut named.cluster {
            abs(&mut c.certificate_authority);
        }
    }
    for named in config.auth_infos.iter_mut() {
        if let Some(a) = &mut named.auth_info {
            abs(&mut a.client_certificate);
            abs(&mut a.client_key);
            abs(&mut a.token_file);
            if let Some(exec) = &mut a.exec {
                if exec
                    .command
                    .as_deref()
                    .map(|c| c.contains(std::path::MAIN_SEPARATOR))
                    .unwrap_or(false)
                {
                    abs(&mut exec.command);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after_seconds: u32) -> kube::Error {
        let mut s: kube::core::Status = serde_json::from_value(serde_json::json!({
            "code": code,
            "message": "m",
            "reason": "TooManyRequests",
            "details": {"retryAfterSeconds": retry_after_seconds},
        }))
        .unwrap();
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn a_429_waits_its_retry_after_at_most_a_minute() {
        assert_eq!(retry_after(&status(429, 3)), Duration::from_secs(3));
        assert_eq!(retry_after(&status(429, 3600)), MAX_RETRY_AFTER);
        assert_eq!(retry_after(&status(503, 3)), Duration::ZERO);
    }

    #[test]
    fn request_timeouts_read_like_kubectl() {
        assert_eq!(parse_request_timeout("0"), Ok(None));
        assert_eq!(parse_request_timeout("0s"), Ok(None));
        assert_eq!(
            parse_request_timeout("5s"),
            Ok(Some(Duration::from_secs(5)))
        );
        assert_eq!(
            parse_request_timeout("1m30s"),
            Ok(Some(Duration::from_secs(90)))
        );
        assert_eq!(
            parse_request_timeout("250ms"),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(parse_request_timeout("7"), Ok(Some(Duration::from_secs(7))));
        for bad in ["", "5x", "s", "-1s", "1e9999s", "abc"] {
            assert!(parse_request_timeout(bad).is_err(), "{}", bad);
        }
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn parse_errors_never_quote_the_file() {
        let texts = [
            "users:\n- name: u\n  user:\n    token: SECRETMARK\n  bad: [\n",
            "clusters: \"SECRETMARK\"\n",
            "users:\n- name: u\n  user:\n    token: [SECRETMARK]\n",
            "users:\n- name: u\n  user: {token: SECRETMARK, password: \"SECRETMARK\"\n",
            "apiVersion: v1\nusers: [{name: u, user: {client-key-data: SECRETMARK}}]\n\tbad\n",
        ];
        for t in texts {
            let e = parse_kubeconfig(t).map(|_| ()).unwrap_err();
            assert!(!e.contains("SECRETMARK"), "{}", e);
            assert!(e.contains("line "), "{}", e);
        }
    }

    #[test]
    fn alias_bombs_in_a_kubeconfig_are_refused() {
        let mut t = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            t.push_str(&format!(
                "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                i = i,
                p = prev
            ));
        }
        assert!(parse_kubeconfig(&t).is_err());
    }

    #[test]
    fn user_information_is_left_out_of_urls() {
        assert_eq!(
            redact_url("https://admin:SECRETMARK@10.0.0.1:6443/"),
            "https://10.0.0.1:6443"
        );
        assert_eq!(redact_url("https://k8s:6443"), "https://k8s:6443");
    }
}
