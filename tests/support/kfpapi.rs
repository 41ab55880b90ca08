//! A test double of the KFP v2beta1 REST API, for the tests of
//! `kfp-aws pipelines`. It is not KFP: it keeps experiments, pipelines,
//! pipeline versions, recurring runs and runs in memory and answers over
//! plain HTTP/1.1 on 127.0.0.1 with the shapes of upstream's
//! `backend/api/v2beta1/swagger/*.swagger.json` (KFP 2.14):
//!
//! - ids are UUID-shaped strings, every object has `display_name`,
//!   `namespace` where the swagger has one, and `created_at` (RFC 3339, from
//!   a clock that moves one second per object);
//! - `POST /apis/v2beta1/pipelines/upload` and `.../upload_version` take the
//!   file as `multipart/form-data` field `uploadfile`, with `name`,
//!   `display_name`, `description`, `namespace` / `pipelineid` in the query;
//!   names are unique per namespace (pipelines) and per pipeline (versions);
//! - recurring runs have `mode` at creation and `status`
//!   (`ENABLED`/`DISABLED`), changed by `:enable` / `:disable`;
//! - lists are paged (`page_size`, `next_page_token`), capped at
//!   [`KfpApi::set_max_page`] items;
//! - runs move PENDING → RUNNING → the final state at each GET;
//! - fault injection: [`KfpApi::fail_write`] makes the Nth write from now
//!   fail with 500 (nothing is changed), [`KfpApi::fail_reads`] answers
//!   the next reads with 503;
//! - [`KfpApi::writes`] is the sequence of writes it carried out, as short
//!   labels (`create-recurring-run daily DISABLE`, `disable <id>`, ...).
//!
//! With [`KfpApi::start_under`] it answers under a path prefix, such as the
//! Kubernetes API server's service proxy path.

#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    writes: Vec<String>,
    experiments: Vec<Value>,
    pipelines: Vec<Value>,
    versions: Vec<Value>,
    recurring: Vec<Value>,
    runs: Vec<Value>,
    /// Run id → how many GETs it has had.
    run_polls: Vec<(String, u32)>,
    final_state: String,
    ids: u64,
    clock: i64,
    max_page: usize,
    /// Fail the write with this (1-based) number, counted from `write_count`.
    fail_at: Option<u64>,
    fail_status: u16,
    /// Reads still to answer with 503.
    fail_reads: u32,
    write_count: u64,
    prefix: String,
    /// KFP without multi-user mode: namespaces are dropped on create and
    /// ignored in lists (upstream's `ReplaceNamespace`).
    single_user: bool,
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

pub struct KfpApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl KfpApi {
    pub fn start() -> KfpApi {
        Self::start_under("")
    }

    /// Answers only under `prefix` (e.g.
    /// `/api/v1/namespaces/kubeflow/services/ml-pipeline:8888/proxy`).
    pub fn start_under(prefix: &str) -> KfpApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("KFP double: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("KFP double: address");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                final_state: "SUCCEEDED".into(),
                clock: 1_767_225_600, // 2026-01-01T00:00:00Z
                max_page: 3,
                prefix: prefix.to_string(),
                ..Default::default()
            }),
        });
        let s = Arc::clone(&shared);
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let c = Arc::clone(&s);
                thread::spawn(move || serve(&c, stream));
            }
        });
        KfpApi {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig whose cluster is this double (bearer token `kube-token`).
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: kube-token\n",
            self.url()
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// The writes carried out so far, in order.
    pub fn writes(&self) -> Vec<String> {
        self.shared.lock().writes.clone()
    }

    pub fn clear_writes(&self) {
        self.shared.lock().writes.clear();
    }

    /// The `n`th write from now (1 = the next one) fails with 500.
    pub fn fail_write(&self, n: u64) {
        self.fail_write_with(n, 500);
    }

    /// The `n`th write from now fails with `status`.
    pub fn fail_write_with(&self, n: u64, status: u16) {
        let mut st = self.shared.lock();
        st.fail_at = Some(st.write_count + n);
        st.fail_status = status;
    }

    pub fn set_single_user(&self, on: bool) {
        self.shared.lock().single_user = on;
    }

    /// The next `n` reads (GET) are answered with 503.
    pub fn fail_reads(&self, n: u32) {
        self.shared.lock().fail_reads = n;
    }

    pub fn set_max_page(&self, n: usize) {
        self.shared.lock().max_page = n.max(1);
    }

    pub fn set_run_final_state(&self, s: &str) {
        self.shared.lock().final_state = s.to_string();
    }

    pub fn experiments(&self) -> Vec<Value> {
        self.shared.lock().experiments.clone()
    }

    pub fn pipelines(&self) -> Vec<Value> {
        self.shared.lock().pipelines.clone()
    }

    /// Versions, with their stored `pipeline_spec` text under `_spec_text`.
    pub fn versions(&self) -> Vec<Value> {
        self.shared.lock().versions.clone()
    }

    pub fn recurring_runs(&self) -> Vec<Value> {
        self.shared.lock().recurring.clone()
    }

    pub fn runs(&self) -> Vec<Value> {
        self.shared.lock().runs.clone()
    }

    /// Sets a recurring run's status behind the tool's back (as the UI would).
    pub fn set_status(&self, id: &str, status: &str) {
        let mut st = self.shared.lock();
        for r in st
            .recurring
            .iter_mut()
            .filter(|r| r["recurring_run_id"] == id)
        {
            r["status"] = json!(status);
        }
    }

    /// Archives the experiment called `name`.
    pub fn archive_experiment(&self, name: &str) {
        let mut st = self.shared.lock();
        for e in st
            .experiments
            .iter_mut()
            .filter(|e| e["display_name"] == name)
        {
            e["storage_state"] = json!("ARCHIVED");
        }
    }

    /// Adds a recurring run as someone else made it (no kfp-aws marker).
    pub fn put_recurring_run(&self, v: Value) {
        let mut st = self.shared.lock();
        let mut v = v;
        v["recurring_run_id"] = json!(st.next_id());
        v["created_at"] = json!(st.tick());
        st.recurring.push(v);
    }
}

impl Drop for KfpApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

// --- HTTP -------------------------------------------------------------------

struct Http {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Http {
    fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let Ok(r) = stream.try_clone() else { return };
    let mut reader = BufReader::new(r);
    let mut w = stream;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let req = match read(&mut reader) {
            Ok(Some(r)) => r,
            _ => return,
        };
        let (code, body) = respond(shared, &req);
        let bytes = body.to_string();
        let head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            code,
            bytes.len()
        );
        if w.write_all(head.as_bytes()).is_err() || w.write_all(bytes.as_bytes()).is_err() {
            return;
        }
        let _ = w.flush();
    }
}

fn line(r: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    if r.read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn read(r: &mut BufReader<TcpStream>) -> io::Result<Option<Http>> {
    let Some(first) = line(r)? else {
        return Ok(None);
    };
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut headers = Vec::new();
    while let Some(l) = line(r)? {
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut req = Http {
        method,
        path,
        query,
        headers,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let size = line(r)?.unwrap_or_default();
            let n = usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16)
                .unwrap_or(0);
            if n == 0 {
                let _ = line(r)?;
                break;
            }
            let mut chunk = vec![0; n];
            r.read_exact(&mut chunk)?;
            req.body.extend_from_slice(&chunk);
            let _ = line(r)?;
        }
    } else if let Some(n) = req
        .header("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let mut body = vec![0; n];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(Some(req))
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn q(query: &str, key: &str) -> String {
    query
        .split('&')
        .find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k) == key).then(|| decode(v))
        })
        .unwrap_or_default()
}

fn err(code: u16, msg: &str) -> (u16, Value) {
    // grpc-gateway's error body (googlerpcStatus).
    let grpc = match code {
        400 => 3,
        404 => 5,
        409 => 6,
        503 => 14,
        _ => 13,
    };
    (code, json!({ "code": grpc, "message": msg, "details": [] }))
}

impl State {
    fn next_id(&mut self) -> String {
        self.ids += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", self.ids, self.ids)
    }

    fn tick(&mut self) -> String {
        self.clock += 1;
        let secs = self.clock;
        // Civil date from days (Howard Hinnant's algorithm).
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400);
        let z = days + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            y,
            m,
            d,
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    fn page(&self, items: Vec<Value>, key: &str, query: &str) -> (u16, Value) {
        let size = q(query, "page_size")
            .parse::<usize>()
            .unwrap_or(self.max_page)
            .clamp(1, self.max_page);
        let start = q(query, "page_token").parse::<usize>().unwrap_or(0);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(start).take(size).collect();
        let mut out = json!({ "total_size": total });
        if !page.is_empty() {
            out[key] = Value::Array(page);
        }
        if start + size < total {
            out["next_page_token"] = json!((start + size).to_string());
        }
        (200, out)
    }
}

fn respond(shared: &Shared, req: &Http) -> (u16, Value) {
    let mut st = shared.lock();
    let single_user = st.single_user;
    st.requests.push(Request {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        authorization: req.header("authorization").map(str::to_string),
    });
    let Some(path) = req
        .path
        .strip_prefix(st.prefix.as_str())
        .map(str::to_string)
    else {
        return err(404, "not under the prefix");
    };
    if req.method == "GET" && st.fail_reads > 0 {
        st.fail_reads -= 1;
        return err(503, "injected read failure");
    }
    let is_write = req.method != "GET";
    if is_write {
        st.write_count += 1;
        if st.fail_at == Some(st.write_count) {
            st.fail_at = None;
            return err(st.fail_status, "injected failure");
        }
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let query_owned = if single_user {
        req.query
            .split('&')
            .filter(|kv| !kv.starts_with("namespace="))
            .collect::<Vec<_>>()
            .join("&")
    } else {
        req.query.clone()
    };
    if single_user {
        if let Some(m) = body.as_object_mut() {
            if m.contains_key("namespace") {
                m.insert("namespace".into(), json!(""));
            }
        }
    }
    let query = query_owned.as_str();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["apis", "v2beta1", "experiments"]) => {
            let ns = q(query, "namespace");
            let items = st
                .experiments
                .iter()
                .filter(|e| ns.is_empty() || e["namespace"] == ns.as_str())
                .cloned()
                .collect();
            st.page(items, "experiments", query)
        }
        ("POST", ["apis", "v2beta1", "experiments"]) => {
            let name = body["display_name"].as_str().unwrap_or("").to_string();
            let ns = body["namespace"].as_str().unwrap_or("").to_string();
            if name.is_empty() {
                return err(
                    400,
                    "Invalid input error: Experiment must have a non-empty name",
                );
            }
            if st
                .experiments
                .iter()
                .any(|e| e["display_name"] == name.as_str() && e["namespace"] == ns.as_str())
            {
                return err(409, "Already exist error: experiment name already exists");
            }
            let e = json!({
                "experiment_id": st.next_id(),
                "display_name": name,
                "description": body["description"].as_str().unwrap_or(""),
                "created_at": st.tick(),
                "namespace": ns,
                "storage_state": "AVAILABLE",
            });
            st.writes.push(format!("create-experiment {}", name));
            st.experiments.push(e.clone());
            (200, e)
        }
        ("GET", ["apis", "v2beta1", "pipelines", "names", name]) => {
            let name = decode(name);
            let ns = q(query, "namespace");
            match st
                .pipelines
                .iter()
                .find(|p| p["name"] == name.as_str() && p["namespace"] == ns.as_str())
            {
                Some(p) => (200, p.clone()),
                None => err(404, &format!("Pipeline {} not found", name)),
            }
        }
        ("GET", ["apis", "v2beta1", "pipelines", id, "versions"]) => {
            let id = decode(id);
            if !st.pipelines.iter().any(|p| p["pipeline_id"] == id.as_str()) {
                return err(404, "pipeline not found");
            }
            let items = st
                .versions
                .iter()
                .filter(|v| v["pipeline_id"] == id.as_str())
                .map(public_version)
                .collect();
            st.page(items, "pipeline_versions", query)
        }
        ("POST", ["apis", "v2beta1", "pipelines", "upload"]) => {
            let Some(file) = multipart_file(req) else {
                return err(400, "Failed to read pipeline from file: no uploadfile");
            };
            let name = q(query, "name");
            let ns = q(query, "namespace");
            if name.is_empty() {
                return err(400, "pipeline name missing");
            }
            if st
                .pipelines
                .iter()
                .any(|p| p["name"] == name.as_str() && p["namespace"] == ns.as_str())
            {
                return err(409, "Already exist error: pipeline name already exists");
            }
            let display = Some(q(query, "display_name"))
                .filter(|d| !d.is_empty())
                .unwrap_or(name.clone());
            let description = q(query, "description");
            let pid = st.next_id();
            let p = json!({
                "pipeline_id": pid,
                "name": name,
                "display_name": display,
                "description": description,
                "created_at": st.tick(),
                "namespace": ns,
            });
            let vid = st.next_id();
            let v = json!({
                "pipeline_id": pid,
                "pipeline_version_id": vid,
                "name": name,
                "display_name": display,
                "description": description,
                "created_at": st.tick(),
                "_spec_text": file,
            });
            st.writes.push(format!("upload-pipeline {}", name));
            st.pipelines.push(p.clone());
            st.versions.push(v);
            (200, p)
        }
        ("POST", ["apis", "v2beta1", "pipelines", "upload_version"]) => {
            let Some(file) = multipart_file(req) else {
                return err(400, "Failed to read pipeline from file: no uploadfile");
            };
            let pid = q(query, "pipelineid");
            if !st
                .pipelines
                .iter()
                .any(|p| p["pipeline_id"] == pid.as_str())
            {
                return err(
                    400,
                    "Failed to create a pipeline version due to error reading pipeline id",
                );
            }
            let name = q(query, "name");
            if st
                .versions
                .iter()
                .any(|v| v["pipeline_id"] == pid.as_str() && v["name"] == name.as_str())
            {
                return err(
                    409,
                    "Already exist error: pipeline version name already exists",
                );
            }
            let display = Some(q(query, "display_name"))
                .filter(|d| !d.is_empty())
                .unwrap_or(name.clone());
            let v = json!({
                "pipeline_id": pid,
                "pipeline_version_id": st.next_id(),
                "name": name,
                "display_name": display,
                "description": q(query, "description"),
                "created_at": st.tick(),
                "_spec_text": file,
            });
            st.writes.push(format!("upload-version {}", name));
            st.versions.push(v.clone());
            (200, public_version(&v))
        }
        ("GET", ["apis", "v2beta1", "recurringruns"]) => {
            let ns = q(query, "namespace");
            let exp = q(query, "experiment_id");
            let items = st
                .recurring
                .iter()
                .filter(|r| ns.is_empty() || r["namespace"] == ns.as_str())
                .filter(|r| exp.is_empty() || r["experiment_id"] == exp.as_str())
                .cloned()
                .collect();
            st.page(items, "recurringRuns", query)
        }
        ("POST", ["apis", "v2beta1", "recurringruns"]) => {
            if let Err(e) = check_recurring(&st, &body) {
                return e;
            }
            let mut r = body.clone();
            let id = st.next_id();
            r["recurring_run_id"] = json!(id);
            let at = st.tick();
            r["created_at"] = json!(at);
            r["updated_at"] = json!(at);
            let enabled = body["mode"] == "ENABLE";
            r["status"] = json!(if enabled { "ENABLED" } else { "DISABLED" });
            st.writes.push(format!(
                "create-recurring-run {} {}",
                body["display_name"].as_str().unwrap_or(""),
                body["mode"].as_str().unwrap_or("")
            ));
            st.recurring.push(r.clone());
            (200, r)
        }
        ("GET", ["apis", "v2beta1", "recurringruns", id]) => {
            match st.recurring.iter().find(|r| r["recurring_run_id"] == *id) {
                Some(r) => (200, r.clone()),
                None => err(404, "recurring run not found"),
            }
        }
        ("DELETE", ["apis", "v2beta1", "recurringruns", id]) => {
            let id = decode(id);
            let before = st.recurring.len();
            st.recurring
                .retain(|r| r["recurring_run_id"] != id.as_str());
            if st.recurring.len() == before {
                return err(404, "recurring run not found");
            }
            st.writes.push(format!("delete {}", id));
            (200, json!({}))
        }
        ("POST", ["apis", "v2beta1", "recurringruns", action]) => {
            let Some((id, verb)) = action.split_once(':') else {
                return err(404, "no such path");
            };
            let id = decode(id);
            let status = match verb {
                "enable" => "ENABLED",
                "disable" => "DISABLED",
                _ => return err(404, "no such path"),
            };
            let tick = st.tick();
            let Some(r) = st
                .recurring
                .iter_mut()
                .find(|r| r["recurring_run_id"] == id.as_str())
            else {
                return err(404, "recurring run not found");
            };
            r["status"] = json!(status);
            r["mode"] = json!(if status == "ENABLED" {
                "ENABLE"
            } else {
                "DISABLE"
            });
            r["updated_at"] = json!(tick);
            st.writes.push(format!("{} {}", verb, id));
            (200, json!({}))
        }
        ("POST", ["apis", "v2beta1", "runs"]) => {
            let exp = body["experiment_id"].as_str().unwrap_or("");
            if !st.experiments.iter().any(|e| e["experiment_id"] == exp) {
                return err(404, "experiment not found");
            }
            let vref = &body["pipeline_version_reference"];
            if !st.versions.iter().any(|v| {
                v["pipeline_version_id"] == vref["pipeline_version_id"]
                    && v["pipeline_id"] == vref["pipeline_id"]
            }) {
                return err(404, "pipeline version not found");
            }
            let mut r = body.clone();
            let id = st.next_id();
            r["run_id"] = json!(id);
            r["created_at"] = json!(st.tick());
            r["state"] = json!("PENDING");
            r["storage_state"] = json!("AVAILABLE");
            st.writes.push(format!(
                "create-run {}",
                body["display_name"].as_str().unwrap_or("")
            ));
            st.runs.push(r.clone());
            st.run_polls.push((id, 0));
            (200, r)
        }
        ("GET", ["apis", "v2beta1", "runs", id]) => {
            let id = decode(id);
            let final_state = st.final_state.clone();
            let n = match st.run_polls.iter_mut().find(|(r, _)| *r == id) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => return err(404, "run not found"),
            };
            let Some(r) = st.runs.iter_mut().find(|r| r["run_id"] == id.as_str()) else {
                return err(404, "run not found");
            };
            r["state"] = json!(match n {
                0 | 1 => "PENDING",
                2 => "RUNNING",
                _ => final_state.as_str(),
            });
            if n >= 3 && final_state == "FAILED" {
                r["error"] = json!({"code": 2, "message": "step train failed"});
            }
            (200, r.clone())
        }
        _ => err(404, &format!("no route for {} {}", req.method, path)),
    }
}

fn public_version(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        if let Some(Value::String(text)) = m.remove("_spec_text") {
            // KFP returns the spec as a Struct; a string stands in for it.
            m.insert(
                "pipeline_spec".into(),
                json!({ "_text_length": text.len() }),
            );
        }
    }
    v
}

/// The `uploadfile` part of a multipart/form-data body.
fn multipart_file(req: &Http) -> Option<String> {
    let ct = req.header("content-type")?;
    if !ct.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let delim = format!("--{}", boundary);
    for part in body.split(&delim).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n")?;
        let (head, content) = part.split_once("\r\n\r\n")?;
        if head.contains("name=\"uploadfile\"") && head.contains("filename=") {
            return Some(content.strip_suffix("\r\n").unwrap_or(content).to_string());
        }
    }
    None
}

/// What KFP's `toModelJob` refuses, as far as these tests need.
fn check_recurring(st: &State, b: &Value) -> Result<(), (u16, Value)> {
    let obj: &Map<String, Value> = b
        .as_object()
        .ok_or_else(|| err(400, "body is not an object"))?;
    if obj
        .get("display_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return Err(err(400, "recurring run name is empty"));
    }
    let exp = obj
        .get("experiment_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !st.experiments.iter().any(|e| e["experiment_id"] == exp) {
        return Err(err(404, &format!("experiment {} not found", exp)));
    }
    let vref = &b["pipeline_version_reference"];
    if !st.versions.iter().any(|v| {
        v["pipeline_version_id"] == vref["pipeline_version_id"]
            && v["pipeline_id"] == vref["pipeline_id"]
    }) {
        return Err(err(404, "pipeline version not found"));
    }
    let mc: i64 = match &b["max_concurrency"] {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    if !(1..=10).contains(&mc) {
        return Err(err(
            400,
            &format!(
                "Max concurrency of a recurring run must be at least 1 and at most 10. Received {}",
                mc
            ),
        ));
    }
    let t = &b["trigger"];
    let cron = t.get("cron_schedule").is_some();
    let periodic = t.get("periodic_schedule").is_some();
    if cron == periodic {
        return Err(err(
            400,
            "exactly one of cron_schedule and periodic_schedule",
        ));
    }
    if !matches!(b["mode"].as_str(), Some("ENABLE" | "DISABLE")) {
        return Err(err(400, "mode must be ENABLE or DISABLE"));
    }
    Ok(())
}
