//! A fake Kubernetes API server: a test double for the integration tests of
//! `kfp-aws apply`. It is not a real API server and implements only what the
//! tests need, over plain HTTP/1.1 on 127.0.0.1:
//!
//! - legacy (non-aggregated) discovery: `/version`, `/api`, `/api/v1`,
//!   `/apis`, `/apis/<group>` and `/apis/<group>/<version>`, for a fixed set
//!   of built-in resources plus the resources of every Established
//!   CustomResourceDefinition;
//! - GET, LIST (with `labelSelector` and simple `fieldSelector`), DELETE and
//!   server-side apply (`PATCH` with `application/apply-patch+yaml`) of
//!   objects, with a simplified model of field ownership (leaf paths per
//!   field manager), conflicts, `force` and `dryRun=All`;
//! - CRDs that become Established a configurable delay after their creation;
//! - aggregated discovery (`apidiscovery.k8s.io/v2` at `/api` and `/apis`)
//!   when switched on with `set_aggregated_discovery`, for clients that ask
//!   for it in `Accept`;
//! - fault injection (`fail_next`, `fail_next_retry_after`) and a log of
//!   every request received.
//!
//! Watches are not supported (they are answered with 405).

#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The timestamp given to every object (creation, managed fields).
const TIMESTAMP: &str = "2026-01-01T00:00:00Z";
const VERBS: [&str; 7] = [
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const MAX_LINE: u64 = 64 * 1024;
const MAX_HEADERS: usize = 256;
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Server-set metadata fields: never taken from a request body, never owned.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Built-in resources, one per line: group/version (`v1` for the core
/// group), kind, plural, scope. The singular name is the lowercased kind.
const BUILTIN: &str = "\
    v1 Namespace namespaces Cluster
    v1 ServiceAccount serviceaccounts Namespaced
    v1 ConfigMap configmaps Namespaced
    v1 Secret secrets Namespaced
    v1 Service services Namespaced
    v1 PersistentVolumeClaim persistentvolumeclaims Namespaced
    v1 Pod pods Namespaced
    v1 Event events Namespaced
    apps/v1 Deployment deployments Namespaced
    apps/v1 StatefulSet statefulsets Namespaced
    apps/v1 DaemonSet daemonsets Namespaced
    rbac.authorization.k8s.io/v1 Role roles Namespaced
    rbac.authorization.k8s.io/v1 RoleBinding rolebindings Namespaced
    rbac.authorization.k8s.io/v1 ClusterRole clusterroles Cluster
    rbac.authorization.k8s.io/v1 ClusterRoleBinding clusterrolebindings Cluster
    apiextensions.k8s.io/v1 CustomResourceDefinition customresourcedefinitions Cluster
    scheduling.k8s.io/v1 PriorityClass priorityclasses Cluster
    policy/v1 PodDisruptionBudget poddisruptionbudgets Namespaced
    networking.k8s.io/v1 NetworkPolicy networkpolicies Namespaced
    admissionregistration.k8s.io/v1 MutatingWebhookConfiguration mutatingwebhookconfigurations Cluster
    admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration validatingwebhookconfigurations Cluster
    batch/v1 Job jobs Namespaced
    batch/v1 CronJob cronjobs Namespaced
";

/// One request as received (logged before it is processed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Req {
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string (without `?`), empty when there is none.
    pub query: String,
    /// The `Content-Type` header, empty when there is none.
    pub content_type: String,
    /// The request body (lossily decoded as UTF-8).
    pub body: String,
    /// The `Accept` header, empty when there is none.
    pub accept: String,
    /// When it was received.
    pub at: Instant,
}

/// The fake API server. It listens until dropped.
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct State {
    requests: Vec<Req>,
    objects: Vec<Stored>,
    /// The last resourceVersion handed out.
    rv: u64,
    /// The number of uids handed out.
    uids: u64,
    crd_delay: Option<Duration>,
    require_namespaces: bool,
    /// (status, remaining count) of the injected failures.
    fail: Option<(u16, usize)>,
    /// The `Retry-After` (and `retryAfterSeconds`) of an injected 429.
    retry_after_secs: u32,
    /// Whether `/api` and `/apis` answer with aggregated discovery when asked.
    aggregated: bool,
    /// What `/version` reports as `gitVersion`.
    git_version: String,
}

#[derive(Clone)]
struct Stored {
    /// The object without `metadata.managedFields` (rendered from `managers`)
    /// and, for CRDs, without `status` (computed on every read).
    obj: Value,
    managers: Vec<Manager>,
    created: Instant,
}

#[derive(Clone, Debug, PartialEq)]
struct Manager {
    name: String,
    operation: String,
    api_version: String,
    fields: BTreeSet<Vec<String>>,
}

#[derive(Clone, Debug)]
struct Resource {
    group: String,
    version: String,
    plural: String,
    singular: String,
    kind: String,
    namespaced: bool,
}

struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Response {
    code: u16,
    body: Value,
    /// The `Retry-After` header, in seconds.
    retry_after: Option<u32>,
    content_type: &'static str,
}

impl Response {
    fn ok(code: u16, body: Value) -> Response {
        Response {
            code,
            body,
            retry_after: None,
            content_type: "application/json",
        }
    }
}

impl FakeApi {
    /// Starts listening on a free port of 127.0.0.1, serving in background
    /// threads (one per connection).
    pub fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake API: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake API: local address");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                requests: Vec::new(),
                objects: Vec::new(),
                rv: 1000,
                uids: 0,
                crd_delay: Some(Duration::from_millis(200)),
                require_namespaces: true,
                fail: None,
                retry_after_secs: 0,
                aggregated: false,
                git_version: "v1.31.0".to_string(),
            }),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("fakeapi-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let conn_shared = Arc::clone(&accept_shared);
                    let _ = thread::Builder::new()
                        .name("fakeapi-conn".into())
                        .spawn(move || serve_connection(&conn_shared, stream));
                }
            })
            .expect("fake API: spawn the accept thread");
        FakeApi {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes `dir/kubeconfig` (cluster and context "fake", bearer token
    /// "test-token") and returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: fake\n  \
               cluster:\n    \
                 server: {}\n\
             contexts:\n\
             - name: fake\n  \
               context:\n    \
                 cluster: fake\n    \
                 user: fake\n    \
                 namespace: default\n\
             current-context: fake\n\
             users:\n\
             - name: fake\n  \
               user:\n    \
                 token: test-token\n\
             preferences: {{}}\n",
            self.url()
        );
        std::fs::write(&path, text).expect("fake API: write the kubeconfig");
        path
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Req> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Every stored object, as a GET would return it.
    pub fn objects(&self) -> Vec<Value> {
        let st = self.shared.lock();
        st.objects.iter().map(|s| st.render(s)).collect()
    }

    /// One stored object, as a GET would return it. `api_version` is only
    /// used for its group; `namespace` is `None` for cluster-scoped objects.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let st = self.shared.lock();
        let (group, _) = split_api_version(api_version);
        let i = st.find(group, kind, namespace.unwrap_or(""), name)?;
        Some(st.render(&st.objects[i]))
    }

    /// Inserts or replaces an object directly, as if another tool had written
    /// it with an update: field manager "other-tool" (operation "Update")
    /// owns all its fields. A namespaced object without a namespace goes to
    /// "default".
    pub fn put(&self, obj: Value) {
        assert!(
            obj.get("apiVersion").and_then(Value::as_str).is_some()
                && obj.get("kind").and_then(Value::as_str).is_some()
                && obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .is_some(),
            "FakeApi::put needs apiVersion, kind and metadata.name: {obj}"
        );
        self.shared.lock().put(obj);
    }

    /// The delay after which a newly created CRD becomes Established
    /// (evaluated on every read, for every CRD). `None`: never.
    /// Whether creating a namespaced object needs its Namespace (default:
    /// true, as on a real server).
    /// The `gitVersion` of `/version` (e.g. an EKS build, `v1.31.4-eks-0a21954`).
    pub fn set_git_version(&self, v: &str) {
        self.shared.lock().git_version = v.to_string();
    }

    pub fn set_require_namespaces(&self, on: bool) {
        self.shared.lock().require_namespaces = on;
    }

    pub fn set_crd_establish_delay(&self, d: Option<Duration>) {
        self.shared.lock().crd_delay = d;
    }

    /// The next `count` requests that are not discovery requests are answered
    /// with `status` and a Status body (429 also gets `Retry-After: 0`).
    pub fn fail_next(&self, status: u16, count: usize) {
        self.fail_next_retry_after(status, count, 0);
    }

    /// As [`FakeApi::fail_next`], a 429 saying `Retry-After: secs` (header and
    /// `details.retryAfterSeconds`, as kube-apiserver sends both).
    pub fn fail_next_retry_after(&self, status: u16, count: usize, secs: u32) {
        let mut st = self.shared.lock();
        st.retry_after_secs = secs;
        st.fail = if count == 0 {
            None
        } else {
            Some((status, count))
        };
    }

    /// Serve aggregated discovery (`application/json;g=apidiscovery.k8s.io;v=v2`)
    /// at `/api` and `/apis` to clients that ask for it (default: off, as on
    /// servers before 1.26; the legacy endpoints are always served).
    pub fn set_aggregated_discovery(&self, on: bool) {
        self.shared.lock().aggregated = on;
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match read_request(&mut reader, &mut writer) {
            Ok(None) => return,
            Ok(Some(req)) => {
                let resp = respond(shared, &req);
                if write_response(&mut writer, &resp, !req.keep_alive).is_err() || !req.keep_alive {
                    return;
                }
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::InvalidData {
                    let resp = error(400, "BadRequest", &format!("malformed HTTP request: {e}"));
                    let _ = write_response(&mut writer, &resp, true);
                }
                return;
            }
        }
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// One line without its line ending; `None` at EOF.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(bad("line too long or truncated"));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| bad("line is not UTF-8"))
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> io::Result<Option<HttpRequest>> {
    let mut line = String::new();
    while line.is_empty() {
        match read_line(reader)? {
            None => return Ok(None),
            Some(l) => line = l,
        }
    }
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(bad("bad request line"));
    };
    if !version.starts_with("HTTP/1.") || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("bad request line"));
    }
    let mut keep_alive = *version != "HTTP/1.0";
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    if !path.starts_with('/') {
        return Err(bad("bad request target"));
    }
    let mut headers = Vec::new();
    loop {
        let Some(l) = read_line(reader)? else {
            return Err(bad("EOF in headers"));
        };
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(bad("bad header line"));
        };
        if headers.len() >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut req = HttpRequest {
        method: method.to_string(),
        path,
        query,
        headers,
        body: Vec::new(),
        keep_alive: false,
    };
    if let Some(conn) = req.header("connection") {
        let conn = conn.to_ascii_lowercase();
        if conn.contains("close") {
            keep_alive = false;
        } else if conn.contains("keep-alive") {
            keep_alive = true;
        }
    }
    req.keep_alive = keep_alive;
    if req
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(reader)?;
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
        if len > MAX_BODY {
            return Err(bad("body too large"));
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad("truncated body")
            } else {
                e
            }
        })?;
        req.body = body;
    }
    Ok(Some(req))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else {
            return Err(bad("EOF in chunked body"));
        };
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                match read_line(reader)? {
                    None => return Err(bad("EOF in chunked trailers")),
                    Some(l) if l.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if size > MAX_BODY || body.len() + size > MAX_BODY {
            return Err(bad("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad("truncated chunk")
            } else {
                e
            }
        })?;
        match read_line(reader)? {
            Some(l) if l.is_empty() => {}
            _ => return Err(bad("missing CRLF after chunk")),
        }
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response(w: &mut TcpStream, resp: &Response, close: bool) -> io::Result<()> {
    let body = serde_json::to_vec(&resp.body).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        resp.code,
        reason_phrase(resp.code),
        resp.content_type,
        body.len()
    );
    if let Some(secs) = resp.retry_after {
        out.push_str(&format!("Retry-After: {secs}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    w.write_all(&bytes)?;
    w.flush()
}

/// `%XX` escapes decoded (invalid ones kept as they are); in a query, `+`
/// is a space.
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let text = if plus_is_space {
        s.replace('+', " ")
    } else {
        s.to_string()
    };
    percent_encoding::percent_decode_str(&text)
        .decode_utf8_lossy()
        .into_owned()
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k, true) == key).then(|| percent_decode(v, true))
    })
}

// ---------------------------------------------------------------------------
// Statuses

fn status_reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let (Some(d), Some(map)) = (details, v.as_object_mut()) {
        map.insert("details".into(), d);
    }
    v
}

fn error(code: u16, reason: &str, message: &str) -> Response {
    Response::ok(code, status_body(code, reason, message, None))
}

fn unknown_resource() -> Response {
    error(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn not_found(res: &Resource, name: &str) -> Response {
    let qualified = if res.group.is_empty() {
        res.plural.clone()
    } else {
        format!("{}.{}", res.plural, res.group)
    };
    Response::ok(
        404,
        status_body(
            404,
            "NotFound",
            &format!("{qualified} \"{name}\" not found"),
            Some(json!({"name": name, "group": res.group, "kind": res.plural})),
        ),
    )
}

fn method_not_allowed(method: &str) -> Response {
    error(
        405,
        "MethodNotAllowed",
        &format!("the server does not allow this method on the requested resource: {method}"),
    )
}

// ---------------------------------------------------------------------------
// Routing

fn respond(shared: &Shared, req: &HttpRequest) -> Response {
    let mut st = shared.lock();
    st.requests.push(Req {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        content_type: req.header("content-type").unwrap_or("").to_string(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        accept: req.header("accept").unwrap_or("").to_string(),
        at: Instant::now(),
    });
    let segs: Vec<String> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if !is_discovery(&segs) {
        if let Some((code, n)) = st.fail {
            st.fail = if n > 1 { Some((code, n - 1)) } else { None };
            let mut details = json!({});
            let secs = st.retry_after_secs;
            if code == 429 {
                details = json!({"retryAfterSeconds": secs});
            }
            let message = match code {
                429 => "too many requests, please try again later".to_string(),
                500 => "an internal error occurred (injected by the fake API server)".to_string(),
                _ => format!("injected failure with status {code}"),
            };
            return Response {
                code,
                body: status_body(code, status_reason(code), &message, Some(details)),
                retry_after: (code == 429).then_some(secs),
                content_type: "application/json",
            };
        }
    }
    let st = &mut *st;
    match catch_unwind(AssertUnwindSafe(|| route(st, req, &segs))) {
        Ok(resp) => resp,
        Err(_) => error(
            500,
            "InternalError",
            "internal error in the fake API server",
        ),
    }
}

fn is_discovery(segs: &[&str]) -> bool {
    matches!(
        segs,
        [] | ["version"] | ["api"] | ["api", _] | ["apis"] | ["apis", _] | ["apis", _, _]
    ) || segs.first() == Some(&"openapi")
}

fn route(st: &mut State, req: &HttpRequest, segs: &[&str]) -> Response {
    if is_discovery(segs) && req.method != "GET" {
        return method_not_allowed(&req.method);
    }
    let aggregated = st.aggregated
        && req
            .header("accept")
            .is_some_and(|a| a.contains("g=apidiscovery.k8s.io;v=v2"));
    match segs {
        ["api"] if aggregated => st.aggregated_discovery(true),
        ["apis"] if aggregated => st.aggregated_discovery(false),
        ["version"] => Response::ok(
            200,
            json!({
                "major": "1",
                "minor": "31",
                "gitVersion": st.git_version,
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean",
                "buildDate": TIMESTAMP,
                "goVersion": "go1.22.5",
                "compiler": "gc",
                "platform": "linux/amd64",
            }),
        ),
        ["api"] => Response::ok(
            200,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        ["api", version] => st.resource_list("", version),
        ["apis"] => {
            let groups: Vec<Value> = st
                .group_versions()
                .iter()
                .map(|(g, vs, pref)| api_group(g, vs, pref))
                .collect();
            Response::ok(
                200,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            )
        }
        ["apis", group] => match st.group_versions().iter().find(|(g, _, _)| g == group) {
            Some((g, vs, pref)) => Response::ok(200, api_group(g, vs, pref)),
            None => unknown_resource(),
        },
        ["apis", group, version] => st.resource_list(group, version),
        ["api", version, rest @ ..] => st.objects_request(req, "", version, rest),
        ["apis", group, version, rest @ ..] => st.objects_request(req, group, version, rest),
        _ => unknown_resource(),
    }
}

fn api_group(group: &str, versions: &[String], preferred: &str) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
        "preferredVersion": gv(preferred),
    })
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn is_crd(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|av| split_api_version(av).0 == "apiextensions.k8s.io")
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn object_key(obj: &Value) -> (&str, &str, &str, &str) {
    (
        split_api_version(str_at(obj, "/apiVersion")).0,
        str_at(obj, "/kind"),
        str_at(obj, "/metadata/namespace"),
        str_at(obj, "/metadata/name"),
    )
}

// ---------------------------------------------------------------------------
// State

impl State {
    fn find(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<usize> {
        self.objects
            .iter()
            .position(|s| object_key(&s.obj) == (group, kind, namespace, name))
    }

    fn established(&self, s: &Stored) -> bool {
        self.crd_delay.is_some_and(|d| s.created.elapsed() >= d)
    }

    /// The resources of the CRDs; `all`: also those not Established.
    fn crd_resources(&self, all: bool) -> Vec<(Resource, bool)> {
        let mut out = Vec::new();
        for s in &self.objects {
            if !is_crd(&s.obj) || !(all || self.established(s)) {
                continue;
            }
            let spec = &s.obj["spec"];
            let group = str_at(spec, "/group");
            let plural = str_at(spec, "/names/plural");
            let kind = str_at(spec, "/names/kind");
            if group.is_empty() || plural.is_empty() || kind.is_empty() {
                continue;
            }
            let singular = match str_at(spec, "/names/singular") {
                "" => kind.to_ascii_lowercase(),
                s => s.to_string(),
            };
            let namespaced = str_at(spec, "/scope") == "Namespaced";
            for v in spec["versions"].as_array().into_iter().flatten() {
                let name = str_at(v, "/name");
                if name.is_empty() || v.get("served") != Some(&Value::Bool(true)) {
                    continue;
                }
                let storage = v.get("storage") == Some(&Value::Bool(true));
                out.push((
                    Resource {
                        group: group.to_string(),
                        version: name.to_string(),
                        plural: plural.to_string(),
                        singular: singular.clone(),
                        kind: kind.to_string(),
                        namespaced,
                    },
                    storage,
                ));
            }
        }
        out
    }

    fn builtin_resources() -> impl Iterator<Item = Resource> {
        BUILTIN.lines().filter_map(|line| {
            let [gv, kind, plural, scope] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                return None;
            };
            let (group, version) = split_api_version(gv);
            Some(Resource {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                singular: kind.to_ascii_lowercase(),
                kind: kind.into(),
                namespaced: scope == "Namespaced",
            })
        })
    }

    /// Every served resource: built-ins and those of Established CRDs.
    fn resources(&self) -> Vec<Resource> {
        let mut out: Vec<Resource> = Self::builtin_resources().collect();
        out.extend(self.crd_resources(false).into_iter().map(|(r, _)| r));
        out
    }

    /// The named API groups: (group, versions, preferred version).
    fn group_versions(&self) -> Vec<(String, Vec<String>, String)> {
        let mut out: Vec<(String, Vec<String>, String)> = Vec::new();
        let builtin = Self::builtin_resources().map(|r| (r, false));
        for (r, storage) in builtin.chain(self.crd_resources(false)) {
            if r.group.is_empty() {
                continue;
            }
            match out.iter_mut().find(|(g, _, _)| *g == r.group) {
                Some((_, versions, preferred)) => {
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                    if storage {
                        *preferred = r.version.clone();
                    }
                }
                None => out.push((r.group.clone(), vec![r.version.clone()], r.version)),
            }
        }
        out
    }

    fn find_resource(&self, group: &str, version: &str, plural: &str) -> Option<Resource> {
        self.resources()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// `APIGroupDiscoveryList` of the core group (`core`) or of every named group.
    fn aggregated_discovery(&self, core: bool) -> Response {
        let resources = self.resources();
        let mut groups: Vec<(String, Vec<String>, String)> = if core {
            vec![(String::new(), vec!["v1".to_string()], "v1".to_string())]
        } else {
            self.group_versions()
        };
        let items: Vec<Value> = groups
            .iter_mut()
            .map(|(g, versions, preferred)| {
                // The preferred version first, as the server lists them.
                versions.sort_by_key(|v| v != preferred);
                let versions: Vec<Value> = versions
                    .iter()
                    .map(|v| {
                        let rs: Vec<Value> = resources
                            .iter()
                            .filter(|r| &r.group == g && &r.version == v)
                            .map(|r| {
                                json!({
                                    "resource": r.plural,
                                    "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                                    "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                                    "singularResource": r.singular,
                                    "verbs": VERBS,
                                })
                            })
                            .collect();
                        json!({"version": v, "resources": rs, "freshness": "Current"})
                    })
                    .collect();
                json!({"metadata": {"name": g}, "versions": versions})
            })
            .collect();
        Response {
            code: 200,
            body: json!({
                "kind": "APIGroupDiscoveryList",
                "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {},
                "items": items,
            }),
            retry_after: None,
            content_type: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        }
    }

    fn resource_list(&self, group: &str, version: &str) -> Response {
        let resources: Vec<Value> = self
            .resources()
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .map(|r| {
                json!({
                    "name": r.plural,
                    "singularName": r.singular,
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": VERBS,
                })
            })
            .collect();
        if resources.is_empty() {
            return unknown_resource();
        }
        Response::ok(
            200,
            json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": group_version(group, version),
                "resources": resources,
            }),
        )
    }

    /// The object as the API returns it: with managedFields and, for CRDs,
    /// the computed status.
    fn render(&self, s: &Stored) -> Value {
        let mut obj = s.obj.clone();
        let managed: Vec<Value> = s
            .managers
            .iter()
            .map(|m| {
                json!({
                    "manager": m.name,
                    "operation": m.operation,
                    "apiVersion": m.api_version,
                    "time": TIMESTAMP,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": fields_v1(&m.fields),
                })
            })
            .collect();
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("managedFields".into(), Value::Array(managed));
        }
        if is_crd(&obj) {
            let names = obj.pointer("/spec/names").cloned().unwrap_or(json!({}));
            let storage: Vec<Value> = obj
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|v| v.get("storage") == Some(&Value::Bool(true)))
                .filter_map(|v| v.get("name").cloned())
                .collect();
            let mut conditions = vec![json!({
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": TIMESTAMP,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            })];
            if self.established(s) {
                conditions.push(json!({
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": TIMESTAMP,
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                }));
            }
            if let Some(map) = obj.as_object_mut() {
                map.insert(
                    "status".into(),
                    json!({
                        "conditions": conditions,
                        "acceptedNames": names,
                        "storedVersions": storage,
                    }),
                );
            }
        }
        obj
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    fn next_uid(&mut self) -> String {
        self.uids += 1;
        uid(self.uids)
    }

    /// Whether a kind is namespaced (built-ins and all CRDs, Established or
    /// not); unknown kinds count as namespaced when they have a namespace.
    fn kind_namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        Self::builtin_resources()
            .chain(self.crd_resources(true).into_iter().map(|(r, _)| r))
            .find(|r| r.group == group && r.kind == kind)
            .map(|r| r.namespaced)
    }

    fn put(&mut self, mut obj: Value) {
        strip_server_metadata(&mut obj, false);
        let (group, kind) = {
            let (g, k, _, _) = object_key(&obj);
            (g.to_string(), k.to_string())
        };
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            match self.kind_namespaced(&group, &kind) {
                Some(true) if !meta.contains_key("namespace") => {
                    meta.insert("namespace".into(), json!("default"));
                }
                Some(false) => {
                    meta.shift_remove("namespace");
                }
                _ => {}
            }
        }
        let api_version = str_at(&obj, "/apiVersion").to_string();
        let fields: BTreeSet<Vec<String>> =
            collect_leaves(&obj).into_iter().map(|(p, _)| p).collect();
        let (ns, name) = {
            let (_, _, ns, name) = object_key(&obj);
            (ns.to_string(), name.to_string())
        };
        let other = Manager {
            name: "other-tool".into(),
            operation: "Update".into(),
            api_version,
            fields,
        };
        match self.find(&group, &kind, &ns, &name) {
            None => {
                let uid = self.next_uid();
                let rv = self.next_rv();
                set_server_metadata(&mut obj, &uid, &rv, 1);
                self.objects.push(Stored {
                    obj,
                    managers: vec![other],
                    created: Instant::now(),
                });
            }
            Some(i) => {
                let live = self.objects[i].clone();
                let mut managers: Vec<Manager> = Vec::new();
                for mut m in live.managers {
                    if m.name == other.name && m.operation == other.operation {
                        continue;
                    }
                    m.fields
                        .retain(|p| get_path(&live.obj, p) == get_path(&obj, p));
                    if !m.fields.is_empty() {
                        managers.push(m);
                    }
                }
                managers.push(other);
                for key in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                    if let (Some(v), Some(meta)) = (
                        live.obj.pointer(&format!("/metadata/{key}")).cloned(),
                        obj.get_mut("metadata").and_then(Value::as_object_mut),
                    ) {
                        meta.insert(key.into(), v);
                    }
                }
                if obj != live.obj {
                    let rv = self.next_rv();
                    bump(&mut obj, &live.obj, &rv);
                }
                self.objects[i] = Stored {
                    obj,
                    managers,
                    created: live.created,
                };
            }
        }
    }

    fn objects_request(
        &mut self,
        req: &HttpRequest,
        group: &str,
        version: &str,
        rest: &[&str],
    ) -> Response {
        let (namespace, plural, tail) = match rest {
            ["namespaces", ns, plural, tail @ ..] => (Some(*ns), *plural, tail),
            [plural, tail @ ..] => (None, *plural, tail),
            [] => return unknown_resource(),
        };
        let name = match tail {
            [] => None,
            [name] => Some(*name),
            _ => return unknown_resource(),
        };
        let Some(res) = self.find_resource(group, version, plural) else {
            return unknown_resource();
        };
        if (!res.namespaced && namespace.is_some())
            || (res.namespaced && namespace.is_none() && name.is_some())
        {
            return unknown_resource();
        }
        if matches!(
            query_param(&req.query, "watch").as_deref(),
            Some("true" | "1")
        ) {
            return error(
                405,
                "MethodNotAllowed",
                "watch is not supported by the fake API server",
            );
        }
        match (req.method.as_str(), name) {
            ("GET", None) => self.list(req, &res, namespace),
            ("GET", Some(name)) => {
                match self.find(group, &res.kind, namespace.unwrap_or(""), name) {
                    Some(i) => Response::ok(200, self.render(&self.objects[i])),
                    None => not_found(&res, name),
                }
            }
            ("DELETE", Some(name)) => self.delete(req, &res, namespace, name),
            ("PATCH", Some(name)) => self.apply(req, &res, namespace, name),
            (method, _) => method_not_allowed(method),
        }
    }

    fn list(&self, req: &HttpRequest, res: &Resource, namespace: Option<&str>) -> Response {
        let labels = query_param(&req.query, "labelSelector").unwrap_or_default();
        let fields = query_param(&req.query, "fieldSelector").unwrap_or_default();
        let mut items: Vec<&Stored> = self
            .objects
            .iter()
            .filter(|s| {
                let (g, k, ns, _) = object_key(&s.obj);
                g == res.group
                    && k == res.kind
                    && namespace.is_none_or(|n| n == ns)
                    && labels_match(&s.obj, &labels)
                    && fields_match(&s.obj, &fields)
            })
            .collect();
        items.sort_by(|a, b| {
            let (_, _, ans, an) = object_key(&a.obj);
            let (_, _, bns, bn) = object_key(&b.obj);
            (ans, an).cmp(&(bns, bn))
        });
        let items: Vec<Value> = items.into_iter().map(|s| self.render(s)).collect();
        Response::ok(
            200,
            json!({
                "kind": format!("{}List", res.kind),
                "apiVersion": group_version(&res.group, &res.version),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items,
            }),
        )
    }

    fn delete(
        &mut self,
        req: &HttpRequest,
        res: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Response {
        let dry_run = match dry_run(&req.query) {
            Ok(d) => d,
            Err(resp) => return resp,
        };
        // DELETE may also carry DeleteOptions in its body: {"dryRun": ["All"]}.
        let dry_run = dry_run
            || serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|b| b.get("dryRun").and_then(Value::as_array).cloned())
                .is_some_and(|v| v.iter().any(|x| x == "All"));
        let Some(i) = self.find(&res.group, &res.kind, namespace.unwrap_or(""), name) else {
            return not_found(res, name);
        };
        let body = self.render(&self.objects[i]);
        if dry_run {
            return Response::ok(200, body);
        }
        let removed = self.objects.remove(i);
        if is_crd(&removed.obj) {
            let group = str_at(&removed.obj, "/spec/group").to_string();
            let kind = str_at(&removed.obj, "/spec/names/kind").to_string();
            self.objects.retain(|s| {
                let (g, k, _, _) = object_key(&s.obj);
                !(g == group && k == kind)
            });
        } else if res.group.is_empty() && res.kind == "Namespace" {
            self.objects.retain(|s| object_key(&s.obj).2 != name);
        }
        self.next_rv();
        Response::ok(200, body)
    }

    fn apply(
        &mut self,
        req: &HttpRequest,
        res: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Response {
        let content_type = req.header("content-type").unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/apply-patch+yaml") {
            return error(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format - accepted media types \
                     include: application/apply-patch+yaml (got {content_type:?})"
                ),
            );
        }
        let manager = match query_param(&req.query, "fieldManager") {
            Some(m) if !m.is_empty() => m,
            _ => {
                return error(
                    400,
                    "BadRequest",
                    "fieldManager is required for apply requests",
                )
            }
        };
        let force = match query_param(&req.query, "force").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return error(
                    400,
                    "BadRequest",
                    &format!("invalid value for force: {other:?}"),
                )
            }
        };
        let dry_run = match dry_run(&req.query) {
            Ok(d) => d,
            Err(resp) => return resp,
        };
        let mut applied: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    400,
                    "BadRequest",
                    &format!("error decoding YAML: the fake API server only accepts JSON: {e}"),
                )
            }
        };
        if !applied.is_object() {
            return error(
                400,
                "BadRequest",
                "the applied configuration is not an object",
            );
        }
        let api_version = group_version(&res.group, &res.version);
        let found_av = str_at(&applied, "/apiVersion");
        if found_av != api_version {
            return error(
                400,
                "BadRequest",
                &format!("apiVersion {found_av:?} does not match the request ({api_version:?})"),
            );
        }
        let found_kind = str_at(&applied, "/kind");
        if found_kind != res.kind {
            return error(
                400,
                "BadRequest",
                &format!(
                    "kind {found_kind:?} does not match the request ({:?})",
                    res.kind
                ),
            );
        }
        let found_name = str_at(&applied, "/metadata/name");
        if found_name != name {
            return error(
                400,
                "BadRequest",
                &format!("the name of the object ({found_name:?}) does not match the name on the URL ({name:?})"),
            );
        }
        if let (Some(ns), Some(found)) = (
            namespace,
            applied
                .pointer("/metadata/namespace")
                .and_then(Value::as_str),
        ) {
            if ns != found {
                return error(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                );
            }
        }
        strip_server_metadata(&mut applied, true);
        if let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
            match namespace {
                Some(ns) => {
                    meta.insert("namespace".into(), json!(ns));
                }
                None => {
                    meta.shift_remove("namespace");
                }
            }
        }
        let leaves = collect_leaves(&applied);
        let new_fields: BTreeSet<Vec<String>> = leaves.iter().map(|(p, _)| p.clone()).collect();

        let Some(i) = self.find(&res.group, &res.kind, namespace.unwrap_or(""), name) else {
            // Create. As on a real server, a namespaced object needs its
            // Namespace to exist (a dry run does not create one).
            if let Some(ns) = namespace.filter(|_| self.require_namespaces) {
                if self.find("", "Namespace", "", ns).is_none() {
                    return Response::ok(
                        404,
                        status_body(
                            404,
                            "NotFound",
                            &format!("namespaces \"{ns}\" not found"),
                            Some(json!({"name": ns, "kind": "namespaces"})),
                        ),
                    );
                }
            }
            let (uid_str, rv) = if dry_run {
                (uid(self.uids + 1), (self.rv + 1).to_string())
            } else {
                (self.next_uid(), self.next_rv())
            };
            let mut obj = applied;
            set_server_metadata(&mut obj, &uid_str, &rv, 1);
            let stored = Stored {
                obj,
                managers: vec![Manager {
                    name: manager,
                    operation: "Apply".into(),
                    api_version,
                    fields: new_fields,
                }],
                created: Instant::now(),
            };
            let body = self.render(&stored);
            if !dry_run {
                self.objects.push(stored);
            }
            return Response::ok(201, body);
        };

        // Update.
        let live = self.objects[i].clone();
        let mut managers = live.managers.clone();
        let applier = managers
            .iter()
            .position(|m| m.name == manager && m.operation == "Apply");
        let mut conflicts: Vec<(String, Vec<String>)> = Vec::new();
        let mut lost: Vec<(usize, Vec<String>)> = Vec::new();
        for (p, v) in &leaves {
            for (mi, m) in managers.iter().enumerate() {
                if Some(mi) == applier {
                    continue;
                }
                for q in &m.fields {
                    if conflicts_with(&live.obj, q, p, v) {
                        if !conflicts.iter().any(|(n, c)| *n == m.name && c == p) {
                            conflicts.push((m.name.clone(), p.clone()));
                        }
                        lost.push((mi, q.clone()));
                    }
                }
            }
        }
        if !conflicts.is_empty() && !force {
            return conflict_response(&conflicts);
        }
        for (mi, q) in &lost {
            managers[*mi].fields.remove(q);
        }
        let mut obj = live.obj.clone();
        let previous = applier
            .map(|a| managers[a].fields.clone())
            .unwrap_or_default();
        for p in previous.difference(&new_fields) {
            let still_applied = new_fields.iter().any(|n| related(n, p));
            let owned_by_others = managers
                .iter()
                .enumerate()
                .any(|(mi, m)| Some(mi) != applier && m.fields.iter().any(|q| related(q, p)));
            if still_applied || owned_by_others {
                continue;
            }
            remove_path(&mut obj, p);
            // Drop the maps this removal left empty, unless still wanted.
            for k in (2..p.len()).rev() {
                let ancestor = &p[..k];
                let empty = get_path(&obj, ancestor)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty);
                let wanted = get_path(&applied, ancestor).is_some()
                    || managers.iter().any(|m| m.fields.contains(ancestor));
                if !empty || wanted {
                    break;
                }
                remove_path(&mut obj, ancestor);
            }
        }
        for (p, v) in &leaves {
            set_path(&mut obj, p, v.clone());
        }
        match applier {
            Some(a) => {
                managers[a].fields = new_fields;
                managers[a].api_version = api_version;
            }
            None => managers.push(Manager {
                name: manager,
                operation: "Apply".into(),
                api_version,
                fields: new_fields,
            }),
        }
        managers.retain(|m| !m.fields.is_empty());
        let changed = obj != live.obj;
        if changed {
            let rv = if dry_run {
                (self.rv + 1).to_string()
            } else {
                self.next_rv()
            };
            bump(&mut obj, &live.obj, &rv);
        }
        let stored = Stored {
            obj,
            managers,
            created: live.created,
        };
        let body = self.render(&stored);
        if !dry_run {
            self.objects[i] = stored;
        }
        Response::ok(200, body)
    }
}

fn dry_run(query: &str) -> Result<bool, Response> {
    match query_param(query, "dryRun").as_deref() {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(error(
            400,
            "BadRequest",
            &format!("unsupported dryRun value {other:?}, only \"All\" is supported"),
        )),
    }
}

fn conflict_response(conflicts: &[(String, Vec<String>)]) -> Response {
    let n = conflicts.len();
    let text = if let [(manager, path)] = conflicts {
        format!("conflict with {manager:?}: {}", dotted(path))
    } else {
        let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for m in managers {
            lines.push(format!("conflicts with {m:?}:"));
            for (_, path) in conflicts.iter().filter(|(cm, _)| cm == m) {
                lines.push(format!("- {}", dotted(path)));
            }
        }
        lines.join("\n")
    };
    let message = format!(
        "Apply failed with {n} conflict{}: {text}",
        if n == 1 { "" } else { "s" }
    );
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, p)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {m:?}"),
                "field": dotted(p),
            })
        })
        .collect();
    Response::ok(
        409,
        status_body(409, "Conflict", &message, Some(json!({"causes": causes}))),
    )
}

fn dotted(path: &[String]) -> String {
    path.iter().map(|s| format!(".{s}")).collect()
}

fn uid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

// ---------------------------------------------------------------------------
// Objects and field paths

fn strip_server_metadata(obj: &mut Value, drop_status: bool) {
    if let Some(map) = obj.as_object_mut() {
        if drop_status {
            map.shift_remove("status");
        }
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                meta.shift_remove(key);
            }
        }
    }
}

fn set_server_metadata(obj: &mut Value, uid: &str, rv: &str, generation: u64) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("uid".into(), json!(uid));
        meta.insert("creationTimestamp".into(), json!(TIMESTAMP));
        meta.insert("resourceVersion".into(), json!(rv));
        meta.insert("generation".into(), json!(generation));
    }
}

/// Sets a new resourceVersion on `obj`, and bumps its generation when
/// anything outside metadata and status differs from `old`.
fn bump(obj: &mut Value, old: &Value, rv: &str) {
    let spec_of = |v: &Value| -> Map<String, Value> {
        let mut m = v.as_object().cloned().unwrap_or_default();
        m.shift_remove("metadata");
        m.shift_remove("status");
        m
    };
    let spec_changed = spec_of(obj) != spec_of(old);
    let generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), json!(rv));
        let generation = if spec_changed {
            generation + 1
        } else {
            generation
        };
        meta.insert("generation".into(), json!(generation));
    }
}

/// The owned leaves of an object: paths to scalars, lists and empty maps,
/// leaving out apiVersion, kind, status, metadata.name, metadata.namespace
/// and the server-set metadata.
fn collect_leaves(obj: &Value) -> Vec<(Vec<String>, Value)> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => out.push((path.clone(), v.clone())),
        }
    }
    let mut out = Vec::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for (mk, mv) in v.as_object().into_iter().flatten() {
                    if mk == "name" || mk == "namespace" || SERVER_METADATA.contains(&mk.as_str()) {
                        continue;
                    }
                    walk(mv, &mut vec!["metadata".into(), mk.clone()], &mut out);
                }
            }
            _ => walk(v, &mut vec![k.clone()], &mut out),
        }
    }
    out
}

/// Whether one path is a prefix of the other (or equal).
fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Whether applying `value` at `path` conflicts with another manager's
/// ownership of `owned`, given the live object.
fn conflicts_with(live: &Value, owned: &[String], path: &[String], value: &Value) -> bool {
    let empty_map = value.as_object().is_some_and(Map::is_empty);
    if owned == path {
        let current = get_path(live, path);
        if empty_map {
            return !current.is_some_and(Value::is_object);
        }
        return current != Some(value);
    }
    if path.starts_with(owned) {
        // The other manager owns an ancestor as a leaf: a conflict unless it
        // is a map (that the applied value only adds to).
        return !get_path(live, owned).is_some_and(Value::is_object);
    }
    if owned.starts_with(path) {
        // The other manager owns a descendant: replacing the map with a
        // non-map value would drop it.
        return !empty_map && get_path(live, path) != Some(value);
    }
    false
}

fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(v, |cur, seg| cur.as_object()?.get(seg))
}

fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("just made an object")
}

fn set_path(root: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for seg in parents {
        cur = ensure_object(cur)
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let map = ensure_object(cur);
    if value.as_object().is_some_and(Map::is_empty) && map.get(last).is_some_and(Value::is_object) {
        return;
    }
    map.insert(last.clone(), value);
}

fn remove_path(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for seg in parents {
        match cur.get_mut(seg.as_str()) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(map) = cur.as_object_mut() {
        map.shift_remove(last);
    }
}

fn labels_match(obj: &Value, selector: &str) -> bool {
    let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
    let get = |k: &str| labels.and_then(|l| l.get(k.trim())).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some(k) = term.strip_prefix('!') {
                get(k).is_none()
            } else if let Some((k, v)) = term.split_once("!=") {
                get(k) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==") {
                get(k) == Some(v.trim())
            } else if let Some((k, v)) = term.split_once('=') {
                get(k) == Some(v.trim())
            } else {
                get(term).is_some()
            }
        })
}

fn fields_match(obj: &Value, selector: &str) -> bool {
    let get = |k: &str| {
        let pointer = format!("/{}", k.trim().replace('.', "/"));
        obj.pointer(&pointer)
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                get(k) != v.trim()
            } else if let Some((k, v)) = term.split_once("==") {
                get(k) == v.trim()
            } else if let Some((k, v)) = term.split_once('=') {
                get(k) == v.trim()
            } else {
                true
            }
        })
}

fn fields_v1(fields: &BTreeSet<Vec<String>>) -> Value {
    let mut root = Value::Object(Map::new());
    for path in fields {
        let mut cur = &mut root;
        for seg in path {
            cur = ensure_object(cur)
                .entry(format!("f:{seg}"))
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    root
}
