//! `apply` and `run`: the writes, made one at a time in the walk's order.

use super::api::Kfp;
use super::config::{Folder, Job};
use super::plan::{self, Step, WriteBody, Writer};
use serde_json::{json, Value};
use std::io::Write;

/// Performs each step against KFP and reports it as done.
pub struct LiveWriter<'a> {
    pub kfp: &'a Kfp,
    pub ns: &'a str,
    /// Where finished steps are reported (stdout for apply, stderr for run).
    pub report: &'a mut dyn Write,
    pub writes: usize,
}

fn id_of(v: &Value, key: &str, what: &str) -> anyhow::Result<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("{}: KFP's answer has no {}", what, key))
}

impl Writer for LiveWriter<'_> {
    fn write(&mut self, step: &mut Step, body: WriteBody) -> anyhow::Result<String> {
        use plan::Action::*;
        let line = step.plan_line();
        let what = line.trim_start().get(2..).unwrap_or("").to_string();
        let ctx = move || {
            format!(
                "{} failed (the steps before it are done; run the same command again to complete the rest)",
                what
            )
        };
        let id = match (&step.action, body) {
            (CreateExperiment, WriteBody::Experiment { description }) => {
                let v = self
                    .kfp
                    .create_experiment(&step.name, description, self.ns)
                    .map_err(|e| e.context(ctx()))?;
                id_of(&v, "experiment_id", "experiment")?
            }
            (
                UploadPipeline { .. },
                WriteBody::Upload {
                    yaml, description, ..
                },
            ) => {
                let p = self
                    .kfp
                    .upload_pipeline(&step.name, &description, self.ns, yaml)
                    .map_err(|e| e.context(ctx()))?;
                let pid = id_of(&p, "pipeline_id", "pipeline upload")?;
                // The upload made the first version; find its id.
                let versions = self.kfp.list_versions(&pid)?;
                let vid = versions
                    .iter()
                    .find(|v| {
                        v.get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.contains(&description))
                    })
                    .or(versions.first())
                    .and_then(|v| v.get("pipeline_version_id").and_then(Value::as_str))
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "pipeline \"{}\" {}: uploaded, but KFP lists no version of it",
                            step.name,
                            pid
                        )
                    })?
                    .to_string();
                step.id = Some(pid.clone());
                format!("{}/{}", pid, vid)
            }
            (
                UploadVersion { version, .. },
                WriteBody::Upload {
                    pipeline_id: Some(pid),
                    yaml,
                    description,
                },
            ) => {
                let v = self
                    .kfp
                    .upload_version(pid, version, &description, yaml)
                    .map_err(|e| e.context(ctx()))?;
                id_of(&v, "pipeline_version_id", "pipeline version upload")?
            }
            (CreateRecurringRun { .. }, WriteBody::RecurringRun(body)) => {
                let v = self
                    .kfp
                    .create_recurring_run(&body)
                    .map_err(|e| e.context(ctx()))?;
                let id = id_of(&v, "recurring_run_id", "recurring run")?;
                step.id = Some(id.clone());
                id
            }
            (Pause { .. }, _) => {
                let id = step.id.clone().unwrap_or_default();
                self.kfp
                    .disable_recurring_run(&id)
                    .map_err(|e| e.context(ctx()))?;
                id
            }
            (Enable, _) => {
                let id = step.id.clone().unwrap_or_default();
                self.kfp
                    .enable_recurring_run(&id)
                    .map_err(|e| e.context(ctx()))?;
                id
            }
            (Delete { .. }, _) => {
                let id = step.id.clone().unwrap_or_default();
                self.kfp
                    .delete_recurring_run(&id)
                    .map_err(|e| e.context(ctx()))?;
                id
            }
            _ => {
                return Err(anyhow::anyhow!(
                    "{}: no request for this step",
                    step.plan_line().trim()
                ))
            }
        };
        self.writes += 1;
        if step.id.is_none() {
            step.id = Some(id.clone());
        }
        let _ = writeln!(self.report, "{}", step.done_line());
        Ok(id)
    }
}

/// Applies the folder; the report of each step goes to stdout as it is done.
pub fn apply(kfp: &Kfp, folder: &Folder, ns: &str, prune: bool) -> anyhow::Result<Vec<Step>> {
    let mut out = std::io::stdout();
    let mut w = LiveWriter {
        kfp,
        ns,
        report: &mut out,
        writes: 0,
    };
    plan::reconcile(kfp, folder, ns, prune, &mut w)
}

/// Terminal run states (v2beta1 `RuntimeState`).
pub fn finished(state: &str) -> bool {
    matches!(state, "SUCCEEDED" | "SKIPPED" | "FAILED" | "CANCELED")
}

/// Starts one run of `job` now, in its experiment. The experiment and the
/// pipeline version are created first when missing (as apply would).
pub fn run(kfp: &Kfp, folder: &Folder, job: &Job, ns: &str) -> anyhow::Result<Value> {
    let mut err = std::io::stderr();
    let mut w = LiveWriter {
        kfp,
        ns,
        report: &mut err,
        writes: 0,
    };
    let mut steps = Vec::new();
    let only = Folder {
        dir: folder.dir.clone(),
        experiments: folder
            .experiments
            .iter()
            .filter(|e| e.name == job.experiment)
            .cloned()
            .collect(),
        jobs: Vec::new(),
    };
    let experiments = plan::ensure_experiments(kfp, &only, ns, &mut w, &mut steps)?;
    let exp = experiments.get(&job.experiment).cloned().ok_or_else(|| {
        anyhow::anyhow!("experiment \"{}\" was not found or created", job.experiment)
    })?;
    let (pid, vid) = plan::ensure_version_for(kfp, job, ns, &mut w, &mut steps)?;
    let mut body = json!({
        "display_name": format!("{} {}", job.name, super::config::format_time(now())),
        "description": job.description,
        "pipeline_version_reference": { "pipeline_id": pid, "pipeline_version_id": vid },
        "runtime_config": { "parameters": job.parameters },
        "experiment_id": exp,
    });
    if !job.service_account.is_empty() {
        body["service_account"] = json!(job.service_account);
    }
    kfp.create_run(&body)
        .map_err(|e| e.context(format!("starting a run of \"{}\"", job.name)))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
