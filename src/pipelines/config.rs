//! The folder format (`experiments.yaml`, `recurring_runs.yaml`) and its
//! offline check.
//!
//! Files are read as plain YAML trees and walked by hand rather than through
//! serde, so that every problem of a folder is found in one pass: each one
//! becomes one line naming the file, the item and the field, with what to
//! write instead.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const EXPERIMENTS_FILE: &str = "experiments.yaml";
pub const RECURRING_RUNS_FILE: &str = "recurring_runs.yaml";

/// KFP refuses a recurring run with a `max_concurrency` above this
/// (`api_converter.go`: "must be at least 1 and at most 10").
pub const MAX_CONCURRENCY_LIMIT: i64 = 10;

/// One namespace's folder, checked.
#[derive(Debug, Clone)]
pub struct Folder {
    pub dir: PathBuf,
    pub experiments: Vec<Experiment>,
    pub jobs: Vec<Job>,
}

#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// KFP's six-field cron (seconds first) or a descriptor (`@daily`).
    Cron(String),
    IntervalSeconds(i64),
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub catchup: bool,
    /// RFC 3339 in UTC, as KFP takes it.
    pub start: Option<String>,
    pub end: Option<String>,
    pub schedule: Schedule,
}

/// One entry of `recurring_runs.yaml`, with its pipeline read.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub experiment: String,
    pub max_concurrency: i64,
    pub service_account: String,
    pub trigger: Trigger,
    /// The KFP pipeline the versions are uploaded to.
    pub pipeline_name: String,
    /// Where the pipeline came from, for messages (`file` or `file@ref`).
    pub pipeline_origin: String,
    pub pipeline_yaml: Vec<u8>,
    /// sha256 of the pipeline file's bytes, hex.
    pub pipeline_hash: String,
    /// Runtime parameters, as KFP's `runtime_config.parameters`.
    pub parameters: Map<String, Value>,
    /// Old (paused) versions to keep; -1 keeps all.
    pub keep_history: i64,
}

impl Job {
    /// The hash of everything that makes one version of this recurring run:
    /// a change in any of it is made by the replace sequence. `enabled` is
    /// not part of it (pausing needs no new version).
    pub fn spec_hash(&self) -> String {
        let (cron, interval) = match &self.trigger.schedule {
            Schedule::Cron(c) => (Value::from(c.clone()), Value::Null),
            Schedule::IntervalSeconds(s) => (Value::Null, Value::from(*s)),
        };
        let mut params: Vec<(&String, &Value)> = self.parameters.iter().collect();
        params.sort_by(|a, b| a.0.cmp(b.0));
        let doc = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "experiment": self.experiment,
            "max_concurrency": self.max_concurrency,
            "service_account": self.service_account,
            "catchup": self.trigger.catchup,
            "start": self.trigger.start,
            "end": self.trigger.end,
            "cron": cron,
            "interval_seconds": interval,
            "pipeline_name": self.pipeline_name,
            "pipeline_hash": self.pipeline_hash,
            "parameters": params.iter().map(|(k, v)| serde_json::json!([k, v])).collect::<Vec<_>>(),
        });
        hex(&Sha256::digest(doc.to_string().as_bytes()))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

/// Collects problems; each is one finished line.
struct Problems {
    lines: Vec<String>,
}

impl Problems {
    fn add(&mut self, file: &str, item: &str, field: &str, msg: impl AsRef<str>) {
        let mut line = file.to_string();
        if !item.is_empty() {
            line.push_str(": ");
            line.push_str(item);
        }
        if !field.is_empty() {
            line.push_str(": ");
            line.push_str(field);
        }
        line.push_str(": ");
        line.push_str(msg.as_ref());
        self.lines.push(line);
    }
}

/// Check the folder DIR. Every problem is one line; all of them are
/// returned together.
pub fn check(dir: &Path) -> Result<Folder, Vec<String>> {
    let mut p = Problems { lines: Vec::new() };
    if !dir.is_dir() {
        return Err(vec![format!(
            "{}: not a directory: give the folder that holds {} and {}",
            dir.display(),
            EXPERIMENTS_FILE,
            RECURRING_RUNS_FILE
        )]);
    }
    let exp_file = dir.join(EXPERIMENTS_FILE);
    let runs_file = dir.join(RECURRING_RUNS_FILE);
    let exp_name = exp_file.display().to_string();
    let runs_name = runs_file.display().to_string();
    let experiments = match read_top(&exp_file, "experiments", &mut p) {
        Some(items) => check_experiments(&exp_name, &items, &mut p),
        None => Vec::new(),
    };
    let jobs = match read_top(&runs_file, "recurring_runs", &mut p) {
        Some(items) => {
            let known: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
            check_jobs(dir, &runs_name, &items, &known, &mut p)
        }
        None => Vec::new(),
    };
    if p.lines.is_empty() {
        Ok(Folder {
            dir: dir.to_path_buf(),
            experiments,
            jobs,
        })
    } else {
        Err(p.lines)
    }
}

/// The list under the one top-level key of a file.
fn read_top(path: &Path, key: &str, p: &mut Problems) -> Option<Vec<Value>> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            p.add(
                &name,
                "",
                "",
                format!(
                    "not found; create it with '{}:' and a list (it may be empty: '{}: []')",
                    key, key
                ),
            );
            return None;
        }
        Err(e) => {
            p.add(&name, "", "", format!("cannot read: {}", e.kind()));
            return None;
        }
    };
    let docs = match crate::kustomize::yamlread::parse_documents(&text) {
        Ok(d) => d,
        Err(e) => {
            p.add(
                &name,
                "",
                "",
                format!("YAML does not parse: {}; fix the syntax", one_line(&e)),
            );
            return None;
        }
    };
    if docs.len() > 1 {
        p.add(&name, "", "", "holds several YAML documents; keep one");
        return None;
    }
    let doc = docs.into_iter().next().unwrap_or(Value::Null);
    let Value::Object(map) = doc else {
        p.add(
            &name,
            "",
            "",
            format!(
                "expected a mapping with the key '{}', found {}",
                key,
                kind_of(&doc)
            ),
        );
        return None;
    };
    for k in map.keys() {
        if k != key {
            p.add(
                &name,
                "",
                k,
                format!(
                    "unknown field{}; the only top-level field is '{}'",
                    suggest(k, &[key]),
                    key
                ),
            );
        }
    }
    match map.get(key) {
        None => {
            p.add(
                &name,
                "",
                key,
                format!("missing; write '{}:' with a list", key),
            );
            None
        }
        Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(a)) => Some(a.clone()),
        Some(v) => {
            p.add(
                &name,
                "",
                key,
                format!(
                    "expected a list, found {}; write one '- ' item per entry",
                    kind_of(v)
                ),
            );
            None
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("boolean {}", b),
        Value::Number(n) => format!("number {}", n),
        Value::String(s) => format!("string '{}'", s),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// ` (did you mean 'x'?)` when one known name is close.
fn suggest(k: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|n| (levenshtein(k, n), n))
        .filter(|(d, n)| *d < n.len() && *d <= 1.max(k.len().max(n.len()) / 3))
        .min()
        .map(|(_, n)| format!(" (did you mean '{}'?)", n))
        .unwrap_or_default()
}

/// A mapping's fields, reporting unknown ones; `None` (reported) when the
/// value is not a mapping.
fn fields<'a>(
    v: &'a Value,
    known: &[&str],
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    let Value::Object(m) = v else {
        p.add(
            file,
            item,
            at,
            format!(
                "expected a mapping, found {}; write the fields {}",
                kind_of(v),
                known.join(", ")
            ),
        );
        return None;
    };
    for k in m.keys() {
        if !known.contains(&k.as_str()) {
            p.add(
                file,
                item,
                &join(at, k),
                format!(
                    "unknown field{}; the fields here are {}",
                    suggest(k, known),
                    known.join(", ")
                ),
            );
        }
    }
    Some(m)
}

fn join(at: &str, k: &str) -> String {
    if at.is_empty() {
        k.to_string()
    } else {
        format!("{}.{}", at, k)
    }
}

/// A string field. `None` when absent (reported when `required`) or wrong.
fn string(
    m: &Map<String, Value>,
    key: &str,
    required: bool,
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<String> {
    match m.get(key) {
        None | Some(Value::Null) => {
            if required {
                p.add(file, item, &join(at, key), "missing; write a string");
            }
            None
        }
        Some(Value::String(s)) if s.is_empty() && required => {
            p.add(
                file,
                item,
                &join(at, key),
                "is empty; write a non-empty string",
            );
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            p.add(
                file,
                item,
                &join(at, key),
                format!("expected a string, found {}; quote it", kind_of(v)),
            );
            None
        }
    }
}

fn boolean(
    m: &Map<String, Value>,
    key: &str,
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<bool> {
    match m.get(key) {
        None | Some(Value::Null) => {
            p.add(file, item, &join(at, key), "missing; write true or false");
            None
        }
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            p.add(
                file,
                item,
                &join(at, key),
                format!("expected true or false, found {}", kind_of(v)),
            );
            None
        }
    }
}

/// An integer field within `min..=max` (`max` None: unbounded).
#[allow(clippy::too_many_arguments)]
fn integer(
    m: &Map<String, Value>,
    key: &str,
    min: i64,
    max: Option<i64>,
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<i64> {
    let range = match max {
        Some(x) => format!("an integer from {} to {}", min, x),
        None => format!("an integer of at least {}", min),
    };
    match m.get(key) {
        None | Some(Value::Null) => {
            p.add(
                file,
                item,
                &join(at, key),
                format!("missing; write {}", range),
            );
            None
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if i >= min && max.is_none_or(|x| i <= x) => Some(i),
            _ => {
                p.add(
                    file,
                    item,
                    &join(at, key),
                    format!("{} is out of range; write {}", n, range),
                );
                None
            }
        },
        Some(v) => {
            p.add(
                file,
                item,
                &join(at, key),
                format!("expected {}, found {}", range, kind_of(v)),
            );
            None
        }
    }
}

fn check_experiments(file: &str, items: &[Value], p: &mut Problems) -> Vec<Experiment> {
    let mut out: Vec<Experiment> = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let mut item = format!("experiments[{}]", i);
        if let Some(n) = v.get("name").and_then(Value::as_str) {
            item = format!("{} '{}'", item, n);
        }
        let Some(m) = fields(v, &["name", "description"], file, &item, "", p) else {
            continue;
        };
        let name = string(m, "name", true, file, &item, "", p);
        let description = string(m, "description", false, file, &item, "", p).unwrap_or_default();
        if let Some(name) = name {
            if let Some((_, j)) = seen.iter().find(|(n, _)| *n == name) {
                p.add(
                    file,
                    &item,
                    "name",
                    format!("duplicate experiment name (also experiments[{}]); give each experiment its own name or remove one", j),
                );
                continue;
            }
            seen.push((name.clone(), i));
            out.push(Experiment { name, description });
        }
    }
    out
}

const JOB_ITEM_FIELDS: [&str; 4] = [
    "pipeline_source",
    "pipeline_parameters",
    "keep_history",
    "job",
];
const SOURCE_FIELDS: [&str; 3] = ["file_path", "git_reference", "pipeline_name"];
const JOB_FIELDS: [&str; 7] = [
    "enabled",
    "name",
    "description",
    "experiment",
    "max_concurrency",
    "service_account",
    "trigger",
];
const TRIGGER_FIELDS: [&str; 5] = [
    "catchup",
    "start_date",
    "end_date",
    "cron",
    "interval_seconds",
];

fn check_jobs(
    dir: &Path,
    file: &str,
    items: &[Value],
    experiments: &[&str],
    p: &mut Problems,
) -> Vec<Job> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let mut item = format!("recurring_runs[{}]", i);
        if let Some(n) = v.pointer("/job/name").and_then(Value::as_str) {
            item = format!("{} '{}'", item, n);
        }
        let before = p.lines.len();
        let Some(m) = fields(v, &JOB_ITEM_FIELDS, file, &item, "", p) else {
            continue;
        };
        let keep_history = integer(m, "keep_history", -1, None, file, &item, "", p);

        // job
        let mut name = None;
        let mut job_parts = None;
        match m.get("job") {
            None | Some(Value::Null) => p.add(
                file,
                &item,
                "job",
                "missing; write the job's enabled, name, experiment, max_concurrency and trigger",
            ),
            Some(jv) => {
                if let Some(j) = fields(jv, &JOB_FIELDS, file, &item, "job", p) {
                    let enabled = boolean(j, "enabled", file, &item, "job", p);
                    name = string(j, "name", true, file, &item, "job", p);
                    if let Some(n) = &name {
                        if !valid_job_name(n) {
                            p.add(file, &item, "job.name", format!("'{}' starts or ends with a space or holds a control character; write the name on one line without surrounding spaces", n.escape_debug()));
                        }
                        if let Some((_, j)) = seen.iter().find(|(s, _)| s == n) {
                            p.add(file, &item, "job.name", format!("duplicate job name (also recurring_runs[{}]); names must be unique in the namespace: rename one", j));
                        } else {
                            seen.push((n.clone(), i));
                        }
                    }
                    let description =
                        string(j, "description", false, file, &item, "job", p).unwrap_or_default();
                    let experiment = string(j, "experiment", true, file, &item, "job", p);
                    if let Some(e) = &experiment {
                        if !experiments.contains(&e.as_str()) {
                            let known: Vec<&str> = experiments.to_vec();
                            p.add(
                                file,
                                &item,
                                "job.experiment",
                                format!(
                                    "'{}' is not in {}{}; add it there or use one of: {}",
                                    e,
                                    EXPERIMENTS_FILE,
                                    suggest(e, &known),
                                    if known.is_empty() {
                                        "(none defined)".to_string()
                                    } else {
                                        known.join(", ")
                                    }
                                ),
                            );
                        }
                    }
                    let max_concurrency = integer(
                        j,
                        "max_concurrency",
                        1,
                        Some(MAX_CONCURRENCY_LIMIT),
                        file,
                        &item,
                        "job",
                        p,
                    );
                    let service_account =
                        string(j, "service_account", false, file, &item, "job", p)
                            .unwrap_or_default();
                    let trigger = match j.get("trigger") {
                        None | Some(Value::Null) => {
                            p.add(
                                file,
                                &item,
                                "job.trigger",
                                "missing; write catchup and one of cron or interval_seconds",
                            );
                            None
                        }
                        Some(t) => check_trigger(t, file, &item, p),
                    };
                    job_parts = Some((
                        enabled,
                        description,
                        experiment,
                        max_concurrency,
                        service_account,
                        trigger,
                    ));
                }
            }
        }

        // pipeline_source
        let source = match m.get("pipeline_source") {
            None | Some(Value::Null) => {
                p.add(
                    file,
                    &item,
                    "pipeline_source",
                    "missing; write file_path: the compiled pipeline YAML, relative to this folder",
                );
                None
            }
            Some(s) => check_source(dir, s, file, &item, "pipeline_source", p),
        };

        // pipeline_parameters
        let mut named = Vec::new();
        let params = match m.get("pipeline_parameters") {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(list)) => {
                named = param_names(list);
                Some(check_params(dir, list, file, &item, p))
            }
            Some(v) => {
                p.add(
                    file,
                    &item,
                    "pipeline_parameters",
                    format!(
                        "expected a list, found {}; write '- name: ..., value: ...' items",
                        kind_of(v)
                    ),
                );
                None
            }
        };

        let mut parameters = Map::new();
        if let (Some(src), Some(params)) = (&source, &params) {
            let declared = declared_parameters(&src.yaml);
            match declared {
                Err(e) => p.add(
                    file,
                    &item,
                    "pipeline_source.file_path",
                    format!(
                        "{} is not a compiled KFP v2 pipeline: {}; compile it with kfp.compiler",
                        src.origin, e
                    ),
                ),
                Ok(declared) => {
                    for (idx, (pname, value)) in params.iter().enumerate() {
                        let field = format!("pipeline_parameters[{}] '{}'", idx, pname);
                        match declared.iter().find(|d| d.name == *pname) {
                            None => {
                                let names: Vec<&str> =
                                    declared.iter().map(|d| d.name.as_str()).collect();
                                p.add(file, &item, &field, format!(
                                    "the pipeline ({}) declares no parameter '{}'{}; its parameters are: {}",
                                    src.origin, pname, suggest(pname, &names),
                                    if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
                                ));
                            }
                            Some(d) => match coerce(value, &d.kind) {
                                Ok(v) => {
                                    parameters.insert(pname.clone(), v);
                                }
                                Err(e) => p.add(file, &item, &field, e),
                            },
                        }
                    }
                    for d in &declared {
                        if d.required && !named.contains(&d.name) {
                            p.add(file, &item, "pipeline_parameters", format!(
                                "the pipeline's required parameter '{}' ({}) is not set; add '- name: {}' with a value",
                                d.name, d.kind, d.name
                            ));
                        }
                    }
                }
            }
        }

        if p.lines.len() != before {
            continue;
        }
        if let (
            Some(name),
            Some((
                Some(enabled),
                description,
                Some(experiment),
                Some(max_concurrency),
                service_account,
                Some(trigger),
            )),
            Some(src),
            Some(keep_history),
        ) = (name, job_parts, source, keep_history)
        {
            let pipeline_hash = hex(&Sha256::digest(&src.yaml));
            out.push(Job {
                pipeline_name: src.pipeline_name.unwrap_or_else(|| name.clone()),
                name,
                description,
                enabled,
                experiment,
                max_concurrency,
                service_account,
                trigger,
                pipeline_origin: src.origin,
                pipeline_yaml: src.yaml,
                pipeline_hash,
                parameters,
                keep_history,
            });
        }
    }
    out
}

/// The name is the recurring run's display name and, by default, the
/// pipeline's name: one line, no surrounding spaces.
fn valid_job_name(n: &str) -> bool {
    !n.chars().any(char::is_control) && n.trim() == n
}

struct Source {
    yaml: Vec<u8>,
    origin: String,
    pipeline_name: Option<String>,
}

/// `file_path` with optional `git_reference` (read with `git show`).
fn check_source(
    dir: &Path,
    v: &Value,
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<Source> {
    let m = fields(v, &SOURCE_FIELDS, file, item, at, p)?;
    let path = string(m, "file_path", true, file, item, at, p);
    let git_ref = string(m, "git_reference", false, file, item, at, p);
    let pipeline_name = string(m, "pipeline_name", false, file, item, at, p);
    let path = path?;
    let field = join(at, "file_path");
    let content = read_source(dir, &path, git_ref.as_deref());
    match content {
        Ok(yaml) => Some(Source {
            yaml,
            origin: match &git_ref {
                Some(r) => format!("{}@{}", path, r),
                None => path.clone(),
            },
            pipeline_name,
        }),
        Err(e) => {
            let f = if e.starts_with("git_reference") {
                join(at, "git_reference")
            } else {
                field
            };
            p.add(file, item, &f, e);
            None
        }
    }
}

/// The bytes of `path` (relative to `dir`), from disk or from git at `rev`.
pub fn read_source(dir: &Path, path: &str, rev: Option<&str>) -> Result<Vec<u8>, String> {
    if Path::new(path).is_absolute() {
        return Err(format!(
            "'{}' is absolute; write the path relative to {}",
            path,
            dir.display()
        ));
    }
    match rev {
        None => std::fs::read(dir.join(path)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "'{}' does not exist in {}; fix the path (it is relative to this folder)",
                    path,
                    dir.display()
                )
            } else {
                format!("cannot read '{}': {}", path, e.kind())
            }
        }),
        Some(rev) => git_show(dir, path, rev),
    }
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(std::process::Stdio::null());
    c
}

fn git_show(dir: &Path, path: &str, rev: &str) -> Result<Vec<u8>, String> {
    if rev.is_empty()
        || rev.starts_with('-')
        || rev.contains(':')
        || rev.chars().any(char::is_whitespace)
    {
        return Err(format!("git_reference '{}' is not a commit, tag or branch name; write one such as main, v1.2.0 or a commit id", rev));
    }
    let verify = git(dir)
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{}^{{commit}}", rev))
        .output()
        .map_err(|e| {
            format!(
                "git_reference '{}': cannot run git: {}; install git or remove git_reference",
                rev,
                e.kind()
            )
        })?;
    if !verify.status.success() {
        let inside = git(dir)
            .args(["rev-parse", "--git-dir"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !inside {
            return Err(format!("git_reference '{}': {} is not inside a git repository; remove git_reference or commit the folder", rev, dir.display()));
        }
        return Err(format!("git_reference '{}' is not a commit, tag or branch of the repository holding {}; fetch it or fix the name", rev, dir.display()));
    }
    let commit = String::from_utf8_lossy(&verify.stdout).trim().to_string();
    let rel = format!("./{}", path.trim_start_matches("./"));
    let out = git(dir)
        .args(["show", "--no-textconv"])
        .arg(format!("{}:{}", commit, rel))
        .output()
        .map_err(|e| format!("cannot run git: {}", e.kind()))?;
    if !out.status.success() {
        return Err(format!(
            "'{}' does not exist at git_reference '{}'; fix the path or the reference",
            path, rev
        ));
    }
    Ok(out.stdout)
}

/// A parameter the pipeline declares in `root.inputDefinitions.parameters`.
#[derive(Debug)]
pub struct Declared {
    pub name: String,
    /// KFP's parameterType: STRING, NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN, LIST, STRUCT.
    pub kind: String,
    pub required: bool,
}

/// The pipeline spec: the first document of a compiled pipeline file (a
/// second one, when present, is the platform spec).
pub fn pipeline_spec(yaml: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(yaml).map_err(|_| "it is not UTF-8 text".to_string())?;
    let docs = crate::kustomize::yamlread::parse_documents(text)
        .map_err(|e| format!("YAML does not parse: {}", one_line(&e)))?;
    let spec = docs
        .into_iter()
        .next()
        .ok_or_else(|| "it is empty".to_string())?;
    if spec.get("pipelineInfo").is_none() || spec.get("root").is_none() {
        return Err("it has no pipelineInfo and root".into());
    }
    Ok(spec)
}

pub fn declared_parameters(yaml: &[u8]) -> Result<Vec<Declared>, String> {
    let spec = pipeline_spec(yaml)?;
    let mut out = Vec::new();
    if let Some(ps) = spec.pointer("/root/inputDefinitions/parameters") {
        let Value::Object(ps) = ps else {
            return Err("root.inputDefinitions.parameters is not a mapping".into());
        };
        for (name, d) in ps {
            let kind = d
                .get("parameterType")
                .and_then(Value::as_str)
                .unwrap_or("STRING")
                .to_string();
            let optional = d
                .get("isOptional")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let required = !optional && d.get("defaultValue").is_none();
            out.push(Declared {
                name: name.clone(),
                kind,
                required,
            });
        }
    }
    Ok(out)
}

/// A configured value, before it is matched to the pipeline's declaration.
enum ParamValue {
    Inline(Value),
    /// The text of a file.
    File(String, String),
}

/// The names every entry gives, good or not (so that a broken entry is not
/// also reported as a missing parameter).
fn param_names(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn check_params(
    dir: &Path,
    list: &[Value],
    file: &str,
    item: &str,
    p: &mut Problems,
) -> Vec<(String, ParamValue)> {
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (idx, v) in list.iter().enumerate() {
        let mut at = format!("pipeline_parameters[{}]", idx);
        if let Some(n) = v.get("name").and_then(Value::as_str) {
            at = format!("{} '{}'", at, n);
        }
        let Some(m) = fields(v, &["name", "value", "valueFrom"], file, item, &at, p) else {
            continue;
        };
        let name = string(m, "name", true, file, item, &at, p);
        let value = m.get("value");
        let from = m.get("valueFrom");
        let got = match (value, from) {
            (Some(_), Some(_)) => {
                p.add(
                    file,
                    item,
                    &at,
                    "has both value and valueFrom; keep one of them",
                );
                None
            }
            (None, None) => {
                p.add(file, item, &at, "has neither value nor valueFrom; write 'value: ...' or 'valueFrom: {file_path: ...}'");
                None
            }
            (Some(Value::Null), None) => {
                p.add(
                    file,
                    item,
                    &join(&at, "value"),
                    "is empty; write a value (quote \"\" for an empty string)",
                );
                None
            }
            (Some(v), None) => Some(ParamValue::Inline(v.clone())),
            (None, Some(f)) => {
                let fat = join(&at, "valueFrom");
                let mm = fields(f, &["file_path", "git_reference"], file, item, &fat, p);
                mm.and_then(|mm| {
                    let path = string(mm, "file_path", true, file, item, &fat, p);
                    let rev = string(mm, "git_reference", false, file, item, &fat, p);
                    let path = path?;
                    match read_source(dir, &path, rev.as_deref()) {
                        Ok(bytes) => match String::from_utf8(bytes) {
                            Ok(t) => Some(ParamValue::File(t, path)),
                            Err(_) => {
                                p.add(
                                    file,
                                    item,
                                    &join(&fat, "file_path"),
                                    format!(
                                        "'{}' is not UTF-8 text; a parameter file must be text",
                                        path
                                    ),
                                );
                                None
                            }
                        },
                        Err(e) => {
                            let f = if e.starts_with("git_reference") {
                                "git_reference"
                            } else {
                                "file_path"
                            };
                            p.add(file, item, &join(&fat, f), e);
                            None
                        }
                    }
                })
            }
        };
        if let Some(n) = &name {
            if seen.contains(n) {
                p.add(
                    file,
                    item,
                    &join(&at, "name"),
                    "set twice; keep one entry per parameter",
                );
                continue;
            }
            seen.push(n.clone());
        }
        if let (Some(n), Some(g)) = (name, got) {
            out.push((n, g));
        }
    }
    out
}

/// The value KFP receives for a parameter of type `kind`.
fn coerce(v: &ParamValue, kind: &str) -> Result<Value, String> {
    let (value, origin) = match v {
        ParamValue::Inline(v) => (v.clone(), None),
        ParamValue::File(text, path) => {
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if kind == "STRING" {
                return Ok(Value::String(text.to_string()));
            }
            let parsed = crate::kustomize::yamlread::parse_documents(text)
                .ok()
                .and_then(|d| d.into_iter().next())
                .unwrap_or(Value::String(text.to_string()));
            (parsed, Some(path.as_str()))
        }
    };
    let ok = match kind {
        "STRING" => value.is_string(),
        "NUMBER_INTEGER" => value.as_i64().is_some(),
        "NUMBER_DOUBLE" => value.is_number(),
        "BOOLEAN" => value.is_boolean(),
        "LIST" => value.is_array(),
        "STRUCT" => value.is_object(),
        _ => true,
    };
    if ok {
        return Ok(value);
    }
    let want = match kind {
        "STRING" => "a string (quote it)",
        "NUMBER_INTEGER" => "an integer",
        "NUMBER_DOUBLE" => "a number",
        "BOOLEAN" => "true or false",
        "LIST" => "a list",
        _ => "a mapping",
    };
    Err(match origin {
        None => format!(
            "the pipeline declares it {}, found {}; write {}",
            kind,
            kind_of(&value),
            want
        ),
        Some(path) => format!(
            "the pipeline declares it {}, but '{}' holds {}; put {} in the file",
            kind,
            path,
            kind_of(&value),
            want
        ),
    })
}

fn check_trigger(v: &Value, file: &str, item: &str, p: &mut Problems) -> Option<Trigger> {
    let at = "job.trigger";
    let m = fields(v, &TRIGGER_FIELDS, file, item, at, p)?;
    let catchup = boolean(m, "catchup", file, item, at, p);
    let start = timestamp(m, "start_date", file, item, at, p);
    let end = timestamp(m, "end_date", file, item, at, p);
    let schedule = match (m.get("cron"), m.get("interval_seconds")) {
        (Some(_), Some(_)) => {
            p.add(
                file,
                item,
                at,
                "has both cron and interval_seconds; keep one of them",
            );
            None
        }
        (None, None) => {
            p.add(file, item, at, "has neither cron nor interval_seconds; write cron: '0 0 * * * *' (seconds first) or interval_seconds: 3600");
            None
        }
        (Some(_), None) => {
            string(m, "cron", true, file, item, at, p).and_then(|c| match check_cron(&c) {
                Ok(()) => Some(Schedule::Cron(c)),
                Err(e) => {
                    p.add(file, item, "job.trigger.cron", e);
                    None
                }
            })
        }
        (None, Some(_)) => integer(m, "interval_seconds", 1, None, file, item, at, p)
            .map(Schedule::IntervalSeconds),
    };
    if let (Some((s, st)), Some((e, et))) = (&start, &end) {
        if e < s {
            p.add(
                file,
                item,
                "job.trigger.end_date",
                format!(
                    "{} is before start_date {}; write an end_date after the start_date",
                    et, st
                ),
            );
        }
    }
    Some(Trigger {
        catchup: catchup?,
        start: start.map(|(_, t)| t),
        end: end.map(|(_, t)| t),
        schedule: schedule?,
    })
}

/// (seconds since the epoch, RFC 3339 in UTC) of a timestamp field.
fn timestamp(
    m: &Map<String, Value>,
    key: &str,
    file: &str,
    item: &str,
    at: &str,
    p: &mut Problems,
) -> Option<(i64, String)> {
    let v = m.get(key)?;
    let field = join(at, key);
    let Value::String(s) = v else {
        if !v.is_null() {
            p.add(
                file,
                item,
                &field,
                format!(
                    "expected a timestamp, found {}; write e.g. 2026-01-31T00:00:00Z",
                    kind_of(v)
                ),
            );
        }
        return None;
    };
    match parse_time(s) {
        Some(secs) => Some((secs, format_time(secs))),
        None => {
            p.add(file, item, &field, format!("'{}' is not a timestamp; write RFC 3339 such as 2026-01-31T00:00:00Z (or a date, 2026-01-31)", s));
            None
        }
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// RFC 3339 (`2026-01-31T10:00:00Z`, `...+02:00`, fractions dropped) or a
/// bare date, to seconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() != 3 || dp[0].len() != 4 {
        return None;
    }
    let (y, mo, d): (i64, i64, i64) = (
        dp[0].parse().ok()?,
        dp[1].parse().ok()?,
        dp[2].parse().ok()?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize] {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86400;
    if let Some(rest) = rest {
        let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let (c, o) = rest.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            let (oh, om): (i64, i64) = (oh.parse().ok()?, om.parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            (c, sign * (oh * 3600 + om * 60))
        } else {
            return None;
        };
        let clock = clock.split('.').next()?;
        let cp: Vec<&str> = clock.split(':').collect();
        if cp.len() != 3 || cp.iter().any(|x| x.len() != 2) {
            return None;
        }
        let (h, mi, se): (i64, i64, i64) = (
            cp[0].parse().ok()?,
            cp[1].parse().ok()?,
            cp[2].parse().ok()?,
        );
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se - offset;
    }
    Some(secs)
}

pub fn format_time(secs: i64) -> String {
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

const DESCRIPTORS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// KFP's cron (robfig/cron v1 `Parse`): six fields, seconds first, or a
/// descriptor. A five-field Unix cron would be read by KFP with the fields
/// shifted (the first one taken as seconds), so it is refused here.
pub fn check_cron(c: &str) -> Result<(), String> {
    let c = c.trim();
    if c.starts_with('@') {
        if DESCRIPTORS.contains(&c) {
            return Ok(());
        }
        if let Some(d) = c.strip_prefix("@every ") {
            if go_duration(d.trim()) {
                return Ok(());
            }
        }
        return Err(format!(
            "'{}' is not a descriptor KFP knows; write one of {} or '@every 1h30m'",
            c,
            DESCRIPTORS.join(", ")
        ));
    }
    let f: Vec<&str> = c.split_whitespace().collect();
    if f.len() == 5 {
        return Err(format!(
            "'{}' has 5 fields; KFP's cron has six, seconds first, and would read this one shifted: write '0 {}'",
            c,
            f.join(" ")
        ));
    }
    if f.len() != 6 {
        return Err(format!(
            "'{}' has {} fields; KFP's cron has six (second minute hour day-of-month month day-of-week), e.g. '0 0 2 * * *'",
            c,
            f.len()
        ));
    }
    const NAMES: [&str; 6] = [
        "second",
        "minute",
        "hour",
        "day-of-month",
        "month",
        "day-of-week",
    ];
    const RANGES: [(u32, u32); 6] = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];
    for (i, field) in f.iter().enumerate() {
        if !cron_field(field, RANGES[i], i) {
            return Err(format!(
                "'{}': the {} field '{}' is not valid; write *, a number from {} to {}, a range a-b, a list a,b or a step */n",
                c, NAMES[i], field, RANGES[i].0, RANGES[i].1
            ));
        }
    }
    Ok(())
}

fn cron_value(s: &str, idx: usize) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let l = s.to_ascii_lowercase();
    match idx {
        4 => MONTHS.iter().position(|m| *m == l).map(|p| p as u32 + 1),
        5 => DAYS.iter().position(|d| *d == l).map(|p| p as u32),
        _ => None,
    }
}

fn cron_field(field: &str, (lo, hi): (u32, u32), idx: usize) -> bool {
    field.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(s) = step {
            if !s.parse::<u32>().is_ok_and(|n| n >= 1) {
                return false;
            }
        }
        if range == "*" || (range == "?" && (idx == 3 || idx == 5)) {
            return true;
        }
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (range, None),
        };
        let Some(a) = cron_value(a, idx) else {
            return false;
        };
        let b = match b {
            Some(b) => match cron_value(b, idx) {
                Some(b) => b,
                None => return false,
            },
            None => a,
        };
        a >= lo && b <= hi && a <= b
    })
}

/// Go's `time.ParseDuration` form: `1h30m`, `90s`, `1.5h`.
fn go_duration(s: &str) -> bool {
    if s.is_empty() || s == "0" {
        return s == "0";
    }
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(*u))
            .max_by_key(|u| u.len());
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            format_time(parse_time("2026-03-01T10:20:30+02:00").unwrap()),
            "2026-03-01T08:20:30Z"
        );
        assert_eq!(
            format_time(parse_time("2024-02-29").unwrap()),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(parse_time("2023-02-29"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn cron_forms() {
        assert!(check_cron("0 0 2 * * *").is_ok());
        assert!(check_cron("*/30 0-30/5 1,2 ? JAN-MAR mon-fri").is_ok());
        assert!(check_cron("@every 1h30m").is_ok());
        assert!(check_cron("@daily").is_ok());
        assert!(check_cron("0 2 * * *")
            .unwrap_err()
            .contains("write '0 0 2 * * *'"));
        assert!(check_cron("0 60 * * * *").is_err());
        assert!(check_cron("@sometimes").is_err());
    }
}
