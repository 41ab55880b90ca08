//! Reconciliation: what KFP holds against what the folder says. `plan` and
//! `apply` run the same walk; `plan` records the steps, `apply` performs
//! them in order (see [`Writer`]).
//!
//! What is recorded on KFP's side, so that a later run can tell what it made:
//! - a pipeline version's description carries `kfp-aws:sha256=<hash>`, the
//!   sha256 of the pipeline file it was uploaded from;
//! - a recurring run's display name is the job's name and its description
//!   ends with `kfp-aws:spec=<hash>`, the hash of everything that makes the
//!   version (pipeline content, parameters, trigger, experiment, ...),
//!   followed by ` namespace=<ns>`: a single-user KFP drops namespaces, so
//!   the mark is what keeps two folders applied to one KFP apart.
//!   Recurring runs without the mark, or with another namespace's, are not
//!   touched.

use super::api::Kfp;
use super::config::{Folder, Job, Schedule};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const VERSION_MARK: &str = "kfp-aws:sha256=";
pub const SPEC_MARK: &str = "kfp-aws:spec=";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Change,
    Delete,
    /// Reported only (a removed job without `--prune`).
    Keep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    CreateExperiment,
    UploadPipeline {
        version: String,
        origin: String,
    },
    UploadVersion {
        version: String,
        origin: String,
    },
    /// `first`: the job has no version yet; `changed`: what differs from
    /// the newest version KFP has.
    CreateRecurringRun {
        paused: bool,
        first: bool,
        changed: Vec<&'static str>,
    },
    Pause {
        why: &'static str,
    },
    Enable,
    Delete {
        why: String,
    },
    Removed,
}

/// One change, in the order apply makes it.
#[derive(Debug, Clone)]
pub struct Step {
    pub kind: &'static str,
    pub name: String,
    /// The KFP id of what is changed (None for what does not exist yet).
    pub id: Option<String>,
    pub action: Action,
}

impl Step {
    pub fn op(&self) -> Op {
        match self.action {
            Action::CreateExperiment
            | Action::UploadPipeline { .. }
            | Action::UploadVersion { .. }
            | Action::CreateRecurringRun { .. } => Op::Create,
            Action::Pause { .. } | Action::Enable => Op::Change,
            Action::Delete { .. } => Op::Delete,
            Action::Removed => Op::Keep,
        }
    }

    fn what(&self) -> String {
        match &self.id {
            Some(id) => format!("{} \"{}\" {}", self.kind, self.name, id),
            None => format!("{} \"{}\"", self.kind, self.name),
        }
    }

    /// The plan's line.
    pub fn plan_line(&self) -> String {
        let sign = match self.op() {
            Op::Create => '+',
            Op::Change => '~',
            Op::Delete => '-',
            Op::Keep => '!',
        };
        let text = match &self.action {
            Action::CreateExperiment => format!("{}: create", self.what()),
            Action::UploadPipeline { version, origin } => {
                format!(
                    "{}: upload from {} (new pipeline, version \"{}\")",
                    self.what(),
                    origin,
                    version
                )
            }
            Action::UploadVersion { version, origin } => {
                format!(
                    "{}: upload version \"{}\" from {}",
                    self.what(),
                    version,
                    origin
                )
            }
            Action::CreateRecurringRun {
                paused: true,
                first: false,
                changed,
            } => format!(
                "{}: create new version, paused{}",
                self.what(),
                changed_text(changed)
            ),
            Action::CreateRecurringRun {
                paused: true,
                first: true,
                ..
            } => format!("{}: create, paused", self.what()),
            Action::CreateRecurringRun {
                paused: false,
                changed,
                ..
            } => {
                format!("{}: create, enabled{}", self.what(), changed_text(changed))
            }
            Action::Pause { why } => format!("{}: pause ({})", self.what(), why),
            Action::Enable => format!("{}: enable", self.what()),
            Action::Delete { why } => format!("{}: delete ({})", self.what(), why),
            Action::Removed => format!(
                "{}: not in recurring_runs.yaml; kept (apply --prune deletes it)",
                self.what()
            ),
        };
        format!("  {} {}", sign, text)
    }

    /// Apply's line once the step is done (`id` is then known).
    pub fn done_line(&self) -> String {
        let verb = match &self.action {
            Action::CreateExperiment => "created".to_string(),
            Action::UploadPipeline { version, .. } => {
                format!("uploaded (new pipeline, version \"{}\")", version)
            }
            Action::UploadVersion { version, .. } => format!("version \"{}\" uploaded", version),
            Action::CreateRecurringRun { paused: true, .. } => "created, paused".to_string(),
            Action::CreateRecurringRun { paused: false, .. } => "created, enabled".to_string(),
            Action::Pause { .. } => "paused".to_string(),
            Action::Enable => "enabled".to_string(),
            Action::Delete { .. } => "deleted".to_string(),
            Action::Removed => {
                "not in recurring_runs.yaml; kept (apply --prune deletes it)".to_string()
            }
        };
        format!("{} {}", self.what(), verb)
    }

    pub fn to_json(&self) -> Value {
        let (action, detail) = match &self.action {
            Action::CreateExperiment => ("create", json!({})),
            Action::UploadPipeline { version, origin } => (
                "upload",
                json!({"version": version, "source": origin, "new_pipeline": true}),
            ),
            Action::UploadVersion { version, origin } => (
                "upload",
                json!({"version": version, "source": origin, "new_pipeline": false}),
            ),
            Action::CreateRecurringRun {
                paused,
                first,
                changed,
            } => (
                "create",
                json!({"paused": paused, "first_version": first, "changed": changed}),
            ),
            Action::Pause { why } => ("pause", json!({"reason": why})),
            Action::Enable => ("enable", json!({})),
            Action::Delete { why } => ("delete", json!({"reason": why})),
            Action::Removed => ("removed", json!({"pruned": false})),
        };
        json!({
            "action": action,
            "kind": self.kind,
            "name": self.name,
            "id": self.id,
            "detail": detail,
        })
    }
}

/// What the walk needs of KFP for writing; reads go to [`Kfp`] directly.
pub trait Writer {
    /// Performs (or records) `step`; returns the id of what was created.
    /// `body` is the request's content for creations.
    fn write(&mut self, step: &mut Step, body: WriteBody) -> anyhow::Result<String>;
}

/// What a write sends.
pub enum WriteBody<'a> {
    None,
    Experiment {
        description: &'a str,
    },
    /// A new pipeline (upload), or a version of `pipeline_id`.
    Upload {
        pipeline_id: Option<&'a str>,
        yaml: &'a [u8],
        description: String,
    },
    RecurringRun(Value),
}

/// Writes nothing: `plan` (the walk records the steps itself).
#[derive(Default)]
pub struct DryRun;

/// The id shown for what does not exist yet.
pub const NEW: &str = "(new)";

impl Writer for DryRun {
    fn write(&mut self, _step: &mut Step, _body: WriteBody) -> anyhow::Result<String> {
        Ok(NEW.to_string())
    }
}

/// A recurring run as listed by KFP.
#[derive(Debug, Clone)]
struct Live {
    id: String,
    name: String,
    spec: String,
    enabled: bool,
    created: String,
    /// As KFP listed it.
    raw: Value,
}

/// The (spec hash, namespace) a recurring run's description records.
fn spec_mark(description: &str) -> Option<(&str, &str)> {
    let rest = description
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(SPEC_MARK))?;
    let mut words = rest.split_whitespace();
    let hash = words.next()?;
    let ns = words
        .find_map(|w| w.strip_prefix("namespace="))
        .unwrap_or("");
    Some((hash, ns))
}

/// The recurring runs this folder's applies made in namespace `ns`.
fn live_runs(items: &[Value], ns: &str) -> Vec<Live> {
    let mut out: Vec<Live> = items
        .iter()
        .filter_map(|r| {
            let desc = r.get("description").and_then(Value::as_str).unwrap_or("");
            let (spec, owner) = spec_mark(desc)?;
            if owner != ns {
                return None;
            }
            let status = r
                .get("status")
                .and_then(Value::as_str)
                .or_else(|| {
                    r.get("mode").and_then(Value::as_str).map(|m| {
                        if m == "ENABLE" {
                            "ENABLED"
                        } else {
                            "DISABLED"
                        }
                    })
                })
                .unwrap_or("");
            Some(Live {
                id: r.get("recurring_run_id")?.as_str()?.to_string(),
                name: r
                    .get("display_name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                spec: spec.to_string(),
                enabled: status == "ENABLED",
                created: r
                    .get("created_at")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                raw: r.clone(),
            })
        })
        .collect();
    // Newest first. RFC 3339 in UTC sorts as text; ids break ties.
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
    out
}

fn mark(description: &str, mark: &str, hash: &str) -> String {
    if description.is_empty() {
        format!("{}{}", mark, hash)
    } else {
        format!("{}\n\n{}{}", description, mark, hash)
    }
}

/// The name of the version uploaded for content `hash` of `pipeline`.
pub fn version_name(pipeline: &str, hash: &str) -> String {
    format!("{}-{}", pipeline, &hash[..12.min(hash.len())])
}

/// A pipeline and the versions known for it (by content hash).
struct PipelineState {
    id: Option<String>,
    versions: Vec<(String, String)>,
}

/// Walks the folder against KFP. `prune`: delete removed jobs. Returns the
/// steps taken (or that would be taken).
pub fn reconcile<W: Writer>(
    kfp: &Kfp,
    folder: &Folder,
    ns: &str,
    prune: bool,
    w: &mut W,
) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    let experiments = ensure_experiments(kfp, folder, ns, w, &mut steps)?;
    let runs = live_runs(&kfp.list_recurring_runs(ns)?, ns);
    let mut pipelines: BTreeMap<String, PipelineState> = BTreeMap::new();
    for job in &folder.jobs {
        let (pid, vid) = ensure_version(kfp, job, ns, &mut pipelines, w, &mut steps)?;
        let exp = experiments
            .get(&job.experiment)
            .cloned()
            .unwrap_or_else(|| NEW.to_string());
        let versions: Vec<&Live> = runs.iter().filter(|r| r.name == job.name).collect();
        reconcile_job(job, ns, &pid, &vid, &exp, &versions, w, &mut steps)?;
    }
    let mut removed: Vec<&Live> = runs
        .iter()
        .filter(|r| !folder.jobs.iter().any(|j| j.name == r.name))
        .collect();
    removed.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.created.cmp(&b.created)));
    for r in removed {
        let mut s = Step {
            kind: "recurring run",
            name: r.name.clone(),
            id: Some(r.id.clone()),
            action: if prune {
                Action::Delete {
                    why: "not in recurring_runs.yaml, --prune".into(),
                }
            } else {
                Action::Removed
            },
        };
        if prune {
            w.write(&mut s, WriteBody::None)?;
        }
        steps.push(s);
    }
    Ok(steps)
}

/// Experiment name → id, creating the missing ones.
pub fn ensure_experiments<W: Writer>(
    kfp: &Kfp,
    folder: &Folder,
    ns: &str,
    w: &mut W,
    steps: &mut Vec<Step>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    for e in kfp.list_experiments(ns)? {
        if let (Some(n), Some(id)) = (
            e.get("display_name").and_then(Value::as_str),
            e.get("experiment_id").and_then(Value::as_str),
        ) {
            let archived = e.get("storage_state").and_then(Value::as_str) == Some("ARCHIVED");
            if archived && folder.experiments.iter().any(|x| x.name == n) {
                // KFP refuses new runs in an archived experiment, and its
                // name stays taken.
                return Err(anyhow::anyhow!(
                    "experiment \"{}\" {} is archived in KFP; restore it (KFP UI, or POST /apis/v2beta1/experiments/{}:unarchive) or use another name",
                    n, id, id
                ));
            }
            ids.entry(n.to_string()).or_insert_with(|| id.to_string());
        }
    }
    for e in &folder.experiments {
        if ids.contains_key(&e.name) {
            continue;
        }
        let mut s = Step {
            kind: "experiment",
            name: e.name.clone(),
            id: None,
            action: Action::CreateExperiment,
        };
        let id = w.write(
            &mut s,
            WriteBody::Experiment {
                description: &e.description,
            },
        )?;
        steps.push(s);
        ids.insert(e.name.clone(), id);
    }
    Ok(ids)
}

/// (pipeline id, version id) holding the job's pipeline content, uploading
/// a pipeline or a version only when no version has that content.
pub fn ensure_version_for<W: Writer>(
    kfp: &Kfp,
    job: &Job,
    ns: &str,
    w: &mut W,
    steps: &mut Vec<Step>,
) -> anyhow::Result<(String, String)> {
    ensure_version(kfp, job, ns, &mut BTreeMap::new(), w, steps)
}

fn ensure_version<W: Writer>(
    kfp: &Kfp,
    job: &Job,
    ns: &str,
    pipelines: &mut BTreeMap<String, PipelineState>,
    w: &mut W,
    steps: &mut Vec<Step>,
) -> anyhow::Result<(String, String)> {
    if !pipelines.contains_key(&job.pipeline_name) {
        let state = match kfp.pipeline_by_name(&job.pipeline_name, ns)? {
            None => PipelineState {
                id: None,
                versions: Vec::new(),
            },
            Some(p) => {
                let id = p
                    .get("pipeline_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "pipeline \"{}\": KFP's answer has no pipeline_id",
                            job.pipeline_name
                        )
                    })?
                    .to_string();
                let mut versions = Vec::new();
                for v in kfp.list_versions(&id)? {
                    let desc = v.get("description").and_then(Value::as_str).unwrap_or("");
                    let hash = desc
                        .lines()
                        .rev()
                        .find_map(|l| l.trim().strip_prefix(VERSION_MARK));
                    if let (Some(h), Some(vid)) =
                        (hash, v.get("pipeline_version_id").and_then(Value::as_str))
                    {
                        versions.push((h.to_string(), vid.to_string()));
                    }
                }
                PipelineState {
                    id: Some(id),
                    versions,
                }
            }
        };
        pipelines.insert(job.pipeline_name.clone(), state);
    }
    let Some(state) = pipelines.get_mut(&job.pipeline_name) else {
        return Err(anyhow::anyhow!(
            "pipeline \"{}\": internal state lost",
            job.pipeline_name
        ));
    };
    if let (Some(pid), Some((_, vid))) = (
        &state.id,
        state.versions.iter().find(|(h, _)| *h == job.pipeline_hash),
    ) {
        return Ok((pid.clone(), vid.clone()));
    }
    let description = mark("", VERSION_MARK, &job.pipeline_hash);
    let (pid, vid) = match state.id.clone() {
        None => {
            let mut s = Step {
                kind: "pipeline",
                name: job.pipeline_name.clone(),
                id: None,
                action: Action::UploadPipeline {
                    version: job.pipeline_name.clone(),
                    origin: job.pipeline_origin.clone(),
                },
            };
            let ids = w.write(
                &mut s,
                WriteBody::Upload {
                    pipeline_id: None,
                    yaml: &job.pipeline_yaml,
                    description,
                },
            )?;
            steps.push(s);
            // The writer answers "pipeline_id/version_id" for an upload.
            let (p, v) = ids
                .split_once('/')
                .map(|(p, v)| (p.to_string(), v.to_string()))
                .unwrap_or((ids.clone(), ids));
            (p, v)
        }
        Some(pid) => {
            let version = version_name(&job.pipeline_name, &job.pipeline_hash);
            let mut s = Step {
                kind: "pipeline",
                name: job.pipeline_name.clone(),
                id: Some(pid.clone()),
                action: Action::UploadVersion {
                    version,
                    origin: job.pipeline_origin.clone(),
                },
            };
            let vid = w.write(
                &mut s,
                WriteBody::Upload {
                    pipeline_id: Some(&pid),
                    yaml: &job.pipeline_yaml,
                    description,
                },
            )?;
            steps.push(s);
            (pid, vid)
        }
    };
    state.id = Some(pid.clone());
    state
        .versions
        .push((job.pipeline_hash.clone(), vid.clone()));
    Ok((pid, vid))
}

/// The body of a new recurring run for `job`.
pub fn recurring_run_body(
    job: &Job,
    ns: &str,
    pipeline_id: &str,
    version_id: &str,
    experiment_id: &str,
    paused: bool,
) -> Value {
    let mut schedule = json!({});
    if let Some(s) = &job.trigger.start {
        schedule["start_time"] = json!(s);
    }
    if let Some(e) = &job.trigger.end {
        schedule["end_time"] = json!(e);
    }
    let trigger = match &job.trigger.schedule {
        Schedule::Cron(c) => {
            schedule["cron"] = json!(c);
            json!({ "cron_schedule": schedule })
        }
        Schedule::IntervalSeconds(n) => {
            schedule["interval_second"] = json!(n.to_string());
            json!({ "periodic_schedule": schedule })
        }
    };
    let mut body = json!({
        "display_name": job.name,
        "description": mark(
            &job.description,
            SPEC_MARK,
            &format!("{} namespace={}", job.spec_hash(), ns)
        ),
        "pipeline_version_reference": { "pipeline_id": pipeline_id, "pipeline_version_id": version_id },
        "runtime_config": { "parameters": job.parameters },
        "max_concurrency": job.max_concurrency.to_string(),
        "trigger": trigger,
        "mode": if paused { "DISABLE" } else { "ENABLE" },
        "no_catchup": !job.trigger.catchup,
        "experiment_id": experiment_id,
    });
    if !job.service_account.is_empty() {
        body["service_account"] = json!(job.service_account);
    }
    if !ns.is_empty() {
        body["namespace"] = json!(ns);
    }
    body
}

/// The replace sequence for one job: a new version is created paused, the
/// old ones are paused, the new one is enabled, and old versions beyond
/// `keep_history` are deleted. Each step is found again from KFP's state,
/// so an apply that stopped half way is completed by the next one.
#[allow(clippy::too_many_arguments)]
fn reconcile_job<W: Writer>(
    job: &Job,
    ns: &str,
    pipeline_id: &str,
    version_id: &str,
    experiment_id: &str,
    versions: &[&Live],
    w: &mut W,
    steps: &mut Vec<Step>,
) -> anyhow::Result<()> {
    let want = job.spec_hash();
    let current = versions.iter().find(|r| r.spec == want);
    let step = |id: Option<String>, action| Step {
        kind: "recurring run",
        name: job.name.clone(),
        id,
        action,
    };
    let (new_id, new_enabled) = match current {
        Some(r) => (r.id.clone(), r.enabled),
        None => {
            // Created enabled only when nothing else of this job runs.
            let paused = !job.enabled || versions.iter().any(|r| r.enabled);
            let body = recurring_run_body(job, ns, pipeline_id, version_id, experiment_id, paused);
            let changed = versions
                .first()
                .map(|newest| changes(&newest.raw, &body))
                .unwrap_or_default();
            let mut s = step(
                None,
                Action::CreateRecurringRun {
                    paused,
                    first: versions.is_empty(),
                    changed,
                },
            );
            let id = w.write(&mut s, WriteBody::RecurringRun(body))?;
            steps.push(s);
            (id, !paused)
        }
    };
    for r in versions.iter().filter(|r| r.id != new_id && r.enabled) {
        let mut s = step(Some(r.id.clone()), Action::Pause { why: "old version" });
        w.write(&mut s, WriteBody::None)?;
        steps.push(s);
    }
    if job.enabled && !new_enabled {
        let mut s = step(Some(new_id.clone()), Action::Enable);
        w.write(&mut s, WriteBody::None)?;
        steps.push(s);
    }
    if !job.enabled && new_enabled {
        let mut s = step(
            Some(new_id.clone()),
            Action::Pause {
                why: "enabled: false",
            },
        );
        w.write(&mut s, WriteBody::None)?;
        steps.push(s);
    }
    if job.keep_history >= 0 {
        let old: Vec<&&Live> = versions.iter().filter(|r| r.id != new_id).collect();
        for r in old.iter().skip(job.keep_history as usize) {
            let mut s = step(
                Some(r.id.clone()),
                Action::Delete {
                    why: format!("old version beyond keep_history {}", job.keep_history),
                },
            );
            w.write(&mut s, WriteBody::None)?;
            steps.push(s);
        }
    }
    Ok(())
}

fn changed_text(changed: &[&str]) -> String {
    if changed.is_empty() {
        String::new()
    } else {
        format!(" (changed: {})", changed.join(", "))
    }
}

/// A number KFP may give as a string (int64 in proto JSON) or a number.
fn int_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// The user's part of a description (without kfp-aws's mark).
fn user_description(v: &Value) -> &str {
    let d = v.as_str().unwrap_or("");
    match d.rfind(SPEC_MARK) {
        Some(i) => d[..i].trim_end(),
        None => d,
    }
}

/// What a new version changes against `live`, by field, for the plan.
fn changes(live: &Value, want: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    let same = |p: &str| live.pointer(p) == want.pointer(p);
    if !same("/pipeline_version_reference/pipeline_version_id") {
        out.push("pipeline");
    }
    let params = |v: &Value| {
        v.pointer("/runtime_config/parameters")
            .cloned()
            .filter(|p| p.as_object().is_some_and(|m| !m.is_empty()))
    };
    if params(live) != params(want) {
        out.push("parameters");
    }
    if !same("/trigger") {
        out.push("trigger");
    }
    if int_text(&live["max_concurrency"]) != int_text(&want["max_concurrency"]) {
        out.push("max_concurrency");
    }
    if live["no_catchup"].as_bool().unwrap_or(false)
        != want["no_catchup"].as_bool().unwrap_or(false)
    {
        out.push("catchup");
    }
    if live["service_account"].as_str().unwrap_or("")
        != want["service_account"].as_str().unwrap_or("")
    {
        out.push("service_account");
    }
    if !same("/experiment_id") {
        out.push("experiment");
    }
    if user_description(&live["description"]) != user_description(&want["description"]) {
        out.push("description");
    }
    out
}

/// The plan as text; the summary line last.
pub fn plan_text(steps: &[Step], ns: &str) -> String {
    let mut out = String::new();
    let count = |op| steps.iter().filter(|s| s.op() == op).count();
    let (c, u, d, k) = (
        count(Op::Create),
        count(Op::Change),
        count(Op::Delete),
        count(Op::Keep),
    );
    if c + u + d == 0 {
        for s in steps {
            out.push_str(&s.plan_line());
            out.push('\n');
        }
        out.push_str(&format!(
            "No changes: KFP namespace {} matches the folder.\n",
            ns_name(ns)
        ));
        return out;
    }
    out.push_str(&format!("KFP namespace {}: apply would:\n", ns_name(ns)));
    for s in steps {
        out.push_str(&s.plan_line());
        out.push('\n');
    }
    out.push_str(&format!(
        "Plan: {} to create, {} to change, {} to delete",
        c, u, d
    ));
    if k > 0 {
        out.push_str(&format!(", {} removed from the folder and kept", k));
    }
    out.push_str(".\n");
    out
}

pub fn plan_json(steps: &[Step], ns: &str) -> String {
    let count = |op| steps.iter().filter(|s| s.op() == op).count();
    let v = json!({
        "namespace": ns,
        "changes": steps.iter().filter(|s| s.op() != Op::Keep).map(Step::to_json).collect::<Vec<_>>(),
        "removed": steps.iter().filter(|s| s.op() == Op::Keep).map(Step::to_json).collect::<Vec<_>>(),
        "summary": { "create": count(Op::Create), "change": count(Op::Change), "delete": count(Op::Delete) },
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// True when applying would write.
pub fn has_changes(steps: &[Step]) -> bool {
    steps.iter().any(|s| s.op() != Op::Keep)
}

fn ns_name(ns: &str) -> String {
    if ns.is_empty() {
        "(default)".to_string()
    } else {
        ns.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_named_by_field() {
        let live = json!({
            "description": "d\n\nkfp-aws:spec=1 namespace=a",
            "pipeline_version_reference": {"pipeline_version_id": "v1"},
            "runtime_config": {"parameters": {"a": 1}},
            "trigger": {"cron_schedule": {"cron": "0 0 * * * *"}},
            "max_concurrency": "1",
            "no_catchup": true,
            "experiment_id": "e",
        });
        let mut want = live.clone();
        want["max_concurrency"] = json!(1);
        want["description"] = json!("d\n\nkfp-aws:spec=2 namespace=a");
        assert!(changes(&live, &want).is_empty());
        want["runtime_config"]["parameters"]["a"] = json!(2);
        want["trigger"]["cron_schedule"]["cron"] = json!("0 0 1 * * *");
        want["no_catchup"] = json!(false);
        assert_eq!(changes(&live, &want), ["parameters", "trigger", "catchup"]);
    }

    #[test]
    fn the_spec_mark_is_read_back() {
        let d = mark("Nightly\nrun", SPEC_MARK, "abc namespace=team-a");
        assert_eq!(spec_mark(&d), Some(("abc", "team-a")));
        assert_eq!(spec_mark("kfp-aws:spec=abc"), Some(("abc", "")));
        assert_eq!(spec_mark("by hand"), None);
    }
}
