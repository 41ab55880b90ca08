//! `kfp-aws pipelines`: GitOps for experiments, pipeline versions and
//! recurring runs, against the KFP v2beta1 REST API.
//!
//! - [`config`] reads and checks a namespace's folder (offline);
//! - [`api`] is the REST client (direct URL or the service proxy);
//! - [`plan`] walks the folder against KFP and yields the ordered steps;
//! - [`apply`] performs them, and starts one-off runs.

pub mod api;
pub mod apply;
pub mod config;
pub mod plan;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The namespace a folder is for: `--namespace`, else the folder's name
/// (one folder per namespace).
pub fn namespace_for(dir: &Path, given: Option<&str>) -> String {
    if let Some(n) = given {
        return n.to_string();
    }
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// The checked folder, or every problem printed (one line each) and `Err`.
fn load(dir: &Path) -> Result<config::Folder, ()> {
    config::check(dir).map_err(|lines| {
        let mut err = std::io::stderr().lock();
        for l in &lines {
            let _ = writeln!(err, "error: {}", l);
        }
        let _ = writeln!(
            err,
            "{} problem(s) in {}; nothing was sent to KFP",
            lines.len(),
            dir.display()
        );
    })
}

/// `pipelines check DIR`: exit 0 when the folder is good, 1 with one line
/// per problem.
pub fn check_cmd(dir: &Path) -> u8 {
    match load(dir) {
        Ok(f) => {
            eprintln!(
                "{}: {} experiment(s), {} recurring run(s): ok",
                dir.display(),
                f.experiments.len(),
                f.jobs.len()
            );
            0
        }
        Err(()) => 1,
    }
}

/// `pipelines plan`: 0 when nothing would change, 2 when something would,
/// 1 on error (terraform's `-detailed-exitcode`).
pub fn plan_cmd(
    dir: &Path,
    ns: &str,
    e: &api::Endpoint,
    json: bool,
    prune: bool,
) -> anyhow::Result<u8> {
    let Ok(folder) = load(dir) else { return Ok(1) };
    let kfp = api::Kfp::connect(e)?;
    let steps = plan::reconcile(&kfp, &folder, ns, prune, &mut plan::DryRun)?;
    let text = if json {
        plan::plan_json(&steps, ns)
    } else {
        plan::plan_text(&steps, ns)
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if plan::has_changes(&steps) { 2 } else { 0 })
}

/// `pipelines apply`.
pub fn apply_cmd(dir: &Path, ns: &str, e: &api::Endpoint, prune: bool) -> anyhow::Result<u8> {
    let Ok(folder) = load(dir) else { return Ok(1) };
    let kfp = api::Kfp::connect(e)?;
    let steps = apply::apply(&kfp, &folder, ns, prune)?;
    let mut out = std::io::stdout().lock();
    for s in steps.iter().filter(|s| s.op() == plan::Op::Keep) {
        let _ = writeln!(out, "{}", s.done_line());
    }
    let count = |op| steps.iter().filter(|s| s.op() == op).count();
    if plan::has_changes(&steps) {
        let _ = writeln!(
            out,
            "Apply complete: {} created, {} changed, {} deleted.",
            count(plan::Op::Create),
            count(plan::Op::Change),
            count(plan::Op::Delete)
        );
    } else {
        let _ = writeln!(out, "No changes: KFP namespace {} matches the folder.", ns);
    }
    Ok(0)
}

/// `pipelines run DIR JOB [--wait]`.
pub fn run_cmd(
    dir: &Path,
    job: &str,
    ns: &str,
    e: &api::Endpoint,
    wait: Option<Duration>,
) -> anyhow::Result<u8> {
    let Ok(folder) = load(dir) else { return Ok(1) };
    let Some(j) = folder.jobs.iter().find(|j| j.name == job) else {
        let names: Vec<&str> = folder.jobs.iter().map(|j| j.name.as_str()).collect();
        return Err(anyhow::anyhow!(
            "{}: no job named '{}' in {}; the jobs are: {}",
            dir.display(),
            job,
            config::RECURRING_RUNS_FILE,
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let kfp = api::Kfp::connect(e)?;
    let run = apply::run(&kfp, &folder, j, ns)?;
    let id = run
        .get("run_id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow::anyhow!("POST /apis/v2beta1/runs: KFP's answer has no run_id"))?
        .to_string();
    let mut out = std::io::stdout();
    let _ = writeln!(out, "run {} created", id);
    let Some(every) = wait else { return Ok(0) };
    let mut last = String::new();
    loop {
        let r = kfp.get_run(&id)?;
        let state = r
            .get("state")
            .and_then(|v| v.as_str())
            .unwrap_or("RUNTIME_STATE_UNSPECIFIED")
            .to_string();
        if state != last {
            eprintln!("run {}: {}", id, state);
            last = state.clone();
        }
        if apply::finished(&state) {
            let _ = writeln!(out, "run {} {}", id, state);
            if state == "SUCCEEDED" || state == "SKIPPED" {
                return Ok(0);
            }
            let msg = r
                .pointer("/error/message")
                .and_then(|v| v.as_str())
                .map(|m| format!(": {}", m.split_whitespace().collect::<Vec<_>>().join(" ")))
                .unwrap_or_default();
            eprintln!("error: run {} of '{}' ended {}{}", id, job, state, msg);
            return Ok(1);
        }
        std::thread::sleep(every);
    }
}
