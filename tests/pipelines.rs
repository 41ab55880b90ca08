//! `kfp-aws pipelines check|plan|apply|run` against the KFP v2beta1 test
//! double of tests/support/kfpapi.rs (on 127.0.0.1).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::cli::{kfp, Out};
use support::kfpapi::KfpApi;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kfp-aws-pipelines-{}-{}-{}",
        name,
        std::process::id(),
        support::peers::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A copy of the shipped example folder, named `team-a`.
fn example_copy(name: &str) -> PathBuf {
    let root = scratch(name);
    let dst = root.join("team-a");
    copy_dir(&repo().join("examples/pipelines/team-a"), &dst);
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read_dir") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

fn on(api: &KfpApi, cmd: &str, dir: &Path, extra: &[&str]) -> Out {
    let d = dir.to_str().expect("utf-8 path");
    let url = api.url();
    let mut args = vec!["pipelines", cmd, d, "--api-url", url.as_str()];
    args.extend_from_slice(extra);
    kfp(&args, &[])
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} has no {:?}", path.display(), from);
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn runs_of(api: &KfpApi, job: &str) -> Vec<Value> {
    api.recurring_runs()
        .into_iter()
        .filter(|r| r["display_name"] == job)
        .collect()
}

fn enabled_ids(api: &KfpApi, job: &str) -> Vec<String> {
    runs_of(api, job)
        .iter()
        .filter(|r| r["status"] == "ENABLED")
        .map(|r| r["recurring_run_id"].as_str().unwrap().to_string())
        .collect()
}

// --- check ------------------------------------------------------------------

#[test]
fn check_accepts_the_shipped_example() {
    let out = kfp(&["pipelines", "check", "examples/pipelines/team-a"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("2 experiment(s), 2 recurring run(s): ok"),
        "{}",
        out.stderr
    );
}

const PIPELINE: &str = "\
pipelineInfo:
  name: p
root:
  dag:
    tasks: {}
  inputDefinitions:
    parameters:
      need:
        parameterType: STRING
      count:
        defaultValue: 1.0
        isOptional: true
        parameterType: NUMBER_INTEGER
schemaVersion: 2.1.0
sdkVersion: kfp-2.14.3
";

/// One valid job with `body` spliced into its `job:` (after `trigger` is
/// replaced when `trigger` is given) — every test job differs in one place.
fn job(name: &str, params: &str, job_extra: &str, trigger: &str) -> String {
    format!(
        "- pipeline_source:\n    file_path: p.yaml\n  pipeline_parameters:\n{params}  keep_history: 1\n  job:\n    enabled: true\n    name: {name}\n    experiment: e\n    max_concurrency: 1\n{job_extra}    trigger:\n{trigger}"
    )
}

const PARAM: &str = "  - name: need\n    value: x\n";
const TRIGGER: &str = "      catchup: false\n      cron: 0 0 * * * *\n";

/// Each entry: (the job's YAML, a text the problem's line must contain).
fn bad_jobs() -> Vec<(String, &'static str)> {
    vec![
        (
            job("unknown-field", PARAM, "    cron_schedule: x\n", TRIGGER),
            "'unknown-field': job.cron_schedule: unknown field; the fields here are enabled, name",
        ),
        (
            job("wrong-type", PARAM, "", TRIGGER).replace("max_concurrency: 1", "max_concurrency: \"3\""),
            "'wrong-type': job.max_concurrency: expected an integer from 1 to 10, found string '3'",
        ),
        (
            job("five-fields", PARAM, "", "      catchup: false\n      cron: 0 2 * * *\n"),
            "'five-fields': job.trigger.cron: '0 2 * * *' has 5 fields; KFP's cron has six, seconds first, and would read this one shifted: write '0 0 2 * * *'",
        ),
        (
            job("both-schedules", PARAM, "", "      catchup: false\n      cron: 0 0 * * * *\n      interval_seconds: 60\n"),
            "'both-schedules': job.trigger: has both cron and interval_seconds; keep one of them",
        ),
        (
            job("no-schedule", PARAM, "", "      catchup: false\n"),
            "'no-schedule': job.trigger: has neither cron nor interval_seconds",
        ),
        (
            job("both-values", "  - name: need\n    value: x\n    valueFrom:\n      file_path: v.txt\n", "", TRIGGER),
            "'both-values': pipeline_parameters[0] 'need': has both value and valueFrom; keep one of them",
        ),
        (
            job("no-value", "  - name: need\n", "", TRIGGER),
            "'no-value': pipeline_parameters[0] 'need': has neither value nor valueFrom",
        ),
        (
            job("bad-experiment", PARAM, "", TRIGGER).replace("experiment: e\n", "experiment: f\n"),
            "'bad-experiment': job.experiment: 'f' is not in experiments.yaml; add it there or use one of: e",
        ),
        (
            job("dup", PARAM, "", TRIGGER) + &job("dup", PARAM, "", TRIGGER),
            "'dup': job.name: duplicate job name (also recurring_runs[",
        ),
        (
            job("no-pipeline", PARAM, "", TRIGGER).replace("file_path: p.yaml", "file_path: missing.yaml"),
            "'no-pipeline': pipeline_source.file_path: 'missing.yaml' does not exist in",
        ),
        (
            job("no-param-file", "  - name: need\n    valueFrom:\n      file_path: nothing.txt\n", "", TRIGGER),
            "'no-param-file': pipeline_parameters[0] 'need'.valueFrom.file_path: 'nothing.txt' does not exist in",
        ),
        (
            job("undeclared", "  - name: need\n    value: x\n  - name: neeed2\n    value: y\n", "", TRIGGER),
            "'undeclared': pipeline_parameters[1] 'neeed2': the pipeline (p.yaml) declares no parameter 'neeed2'",
        ),
        (
            job("unset", "", "", TRIGGER),
            "'unset': pipeline_parameters: the pipeline's required parameter 'need' (STRING) is not set; add '- name: need' with a value",
        ),
        (
            job("param-type", "  - name: need\n    value: x\n  - name: count\n    value: many\n", "", TRIGGER),
            "'param-type': pipeline_parameters[1] 'count': the pipeline declares it NUMBER_INTEGER, found string 'many'; write an integer",
        ),
        (
            job("dates", PARAM, "", "      catchup: false\n      start_date: 2026-05-01T00:00:00Z\n      end_date: 2026-04-01T00:00:00Z\n      interval_seconds: 60\n"),
            "'dates': job.trigger.end_date: 2026-04-01T00:00:00Z is before start_date 2026-05-01T00:00:00Z",
        ),
        (
            job("bad-date", PARAM, "", "      catchup: false\n      start_date: next monday\n      interval_seconds: 60\n"),
            "'bad-date': job.trigger.start_date: 'next monday' is not a timestamp",
        ),
        (
            job("keep", PARAM, "", TRIGGER).replace("keep_history: 1", "keep_history: -2"),
            "'keep': keep_history: -2 is out of range; write an integer of at least -1",
        ),
        (
            job("concurrency", PARAM, "", TRIGGER).replace("max_concurrency: 1", "max_concurrency: 0"),
            "'concurrency': job.max_concurrency: 0 is out of range; write an integer from 1 to 10",
        ),
        (
            job("too-concurrent", PARAM, "", TRIGGER).replace("max_concurrency: 1", "max_concurrency: 11"),
            "'too-concurrent': job.max_concurrency: 11 is out of range; write an integer from 1 to 10",
        ),
        (
            job("interval", PARAM, "", "      catchup: false\n      interval_seconds: 0\n"),
            "'interval': job.trigger.interval_seconds: 0 is out of range; write an integer of at least 1",
        ),
        (
            job("bad-cron-field", PARAM, "", "      catchup: false\n      cron: 0 61 * * * *\n"),
            "'bad-cron-field': job.trigger.cron: '0 61 * * * *': the minute field '61' is not valid",
        ),
        (
            job("no-catchup", PARAM, "", "      cron: 0 0 * * * *\n"),
            "'no-catchup': job.trigger.catchup: missing; write true or false",
        ),
        (
            job("bad-ref", PARAM, "", TRIGGER).replace("file_path: p.yaml", "file_path: p.yaml\n    git_reference: no-such-branch"),
            "'bad-ref': pipeline_source.git_reference: git_reference 'no-such-branch': ",
        ),
        (
            job("' spaced'", PARAM, "", TRIGGER),
            "' spaced': job.name: ' spaced' starts or ends with a space",
        ),
        (
            job("not-a-pipeline", PARAM, "", TRIGGER).replace("file_path: p.yaml", "file_path: v.txt"),
            "'not-a-pipeline': pipeline_source.file_path: v.txt is not a compiled KFP v2 pipeline",
        ),
    ]
}

fn bad_folder() -> (PathBuf, Vec<(String, &'static str)>) {
    let dir = scratch("check").join("ns");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.yaml"), PIPELINE).unwrap();
    std::fs::write(dir.join("v.txt"), "a value\n").unwrap();
    std::fs::write(
        dir.join("experiments.yaml"),
        "experiments:\n- name: e\n- name: e\n- description: no name\n  colour: red\n",
    )
    .unwrap();
    let jobs = bad_jobs();
    let mut text = String::from("recurring_runs:\n");
    for (j, _) in &jobs {
        text.push_str(j);
    }
    std::fs::write(dir.join("recurring_runs.yaml"), text).unwrap();
    (dir, jobs)
}

#[test]
fn check_reports_every_problem_of_a_folder_in_one_run() {
    let (dir, jobs) = bad_folder();
    let out = kfp(&["pipelines", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "nothing on stdout");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    let runs = format!(
        "{}: recurring_runs[",
        dir.join("recurring_runs.yaml").display()
    );
    for (_, want) in &jobs {
        assert!(
            errors
                .iter()
                .any(|l| l.starts_with(&format!("error: {}", runs)) && l.contains(want)),
            "no line containing {:?} in:\n{}",
            want,
            out.stderr
        );
    }
    let exps = dir.join("experiments.yaml").display().to_string();
    for want in [
        format!(
            "{}: experiments[1] 'e': name: duplicate experiment name (also experiments[0])",
            exps
        ),
        format!(
            "{}: experiments[2]: colour: unknown field; the fields here are name, description",
            exps
        ),
        format!("{}: experiments[2]: name: missing; write a string", exps),
        "'unknown-field': job.cron_schedule: unknown field".to_string(),
    ] {
        assert!(
            errors.iter().any(|l| l.contains(&want)),
            "no {:?} in:\n{}",
            want,
            out.stderr
        );
    }
    // One problem per job (two for the duplicate pair: only the second is
    // a duplicate), three in experiments.yaml, nothing else.
    assert_eq!(errors.len(), jobs.len() + 3, "{}", out.stderr);
    assert!(out.stderr.ends_with(&format!(
        "{} problem(s) in {}; nothing was sent to KFP\n",
        jobs.len() + 3,
        dir.display()
    )));
}

#[test]
fn check_names_the_typo_in_an_unknown_field() {
    let dir = example_copy("typo");
    edit(
        &dir.join("recurring_runs.yaml"),
        "keep_history: 2",
        "keep_histroy: 2",
    );
    let out = kfp(&["pipelines", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("recurring_runs[0] 'nightly-train': keep_histroy: unknown field (did you mean 'keep_history'?)"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("recurring_runs[0] 'nightly-train': keep_history: missing"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_reports_yaml_that_does_not_parse_and_goes_on() {
    let dir = example_copy("yaml");
    std::fs::write(
        dir.join("experiments.yaml"),
        "experiments:\n- name: [unclosed\n",
    )
    .unwrap();
    edit(
        &dir.join("recurring_runs.yaml"),
        "max_concurrency: 1",
        "max_concurrency: 100",
    );
    let out = kfp(&["pipelines", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert!(
        errors
            .iter()
            .any(|l| l.contains("experiments.yaml: YAML does not parse:")
                && l.ends_with("fix the syntax")),
        "{}",
        out.stderr
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("'nightly-train': job.max_concurrency: 100 is out of range")),
        "{}",
        out.stderr
    );
}

#[test]
fn check_reports_missing_files_and_wrong_top_level() {
    let dir = scratch("empty").join("ns");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("experiments.yaml"), "experiment:\n- name: a\n").unwrap();
    let out = kfp(&["pipelines", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("experiments.yaml: experiment: unknown field (did you mean 'experiments'?)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("experiments.yaml: experiments: missing"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("recurring_runs.yaml: not found; create it with 'recurring_runs:'"),
        "{}",
        out.stderr
    );
}

// --- plan and apply -----------------------------------------------------------

#[test]
fn plan_then_apply_then_nothing_to_do() {
    let api = KfpApi::start();
    let dir = example_copy("apply");
    let plan = on(&api, "plan", &dir, &[]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(api.writes().is_empty(), "plan wrote: {:?}", api.writes());
    for want in [
        "KFP namespace team-a: apply would:",
        "  + experiment \"nightly\": create",
        "  + experiment \"adhoc\": create",
        "  + pipeline \"nightly-train\": upload from pipelines/train.yaml (new pipeline, version \"nightly-train\")",
        "  + recurring run \"nightly-train\": create, enabled",
        "  + pipeline \"train-hourly\": upload from pipelines/train.yaml",
        "  + recurring run \"hourly-train\": create, paused",
        "Plan: 6 to create, 0 to change, 0 to delete.",
    ] {
        assert!(plan.stdout.contains(want), "no {:?} in:\n{}", want, plan.stdout);
    }

    let json = on(&api, "plan", &dir, &["-o", "json"]);
    assert_eq!(json.code, 2);
    let v: Value = serde_json::from_str(&json.stdout).expect("plan -o json is JSON");
    assert_eq!(v["namespace"], "team-a");
    assert_eq!(v["summary"]["create"], 6);
    assert_eq!(v["changes"][0]["kind"], "experiment");
    assert_eq!(v["changes"][0]["action"], "create");
    assert_eq!(v["changes"][5]["detail"]["paused"], true);

    let apply = on(&api, "apply", &dir, &[]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("Apply complete: 6 created, 0 changed, 0 deleted."),
        "{}",
        apply.stdout
    );
    assert_eq!(
        api.writes(),
        [
            "create-experiment nightly",
            "create-experiment adhoc",
            "upload-pipeline nightly-train",
            "create-recurring-run nightly-train ENABLE",
            "upload-pipeline train-hourly",
            "create-recurring-run hourly-train DISABLE",
        ]
    );
    // What KFP holds follows the folder.
    let r = &runs_of(&api, "nightly-train")[0];
    assert_eq!(r["namespace"], "team-a");
    assert_eq!(r["trigger"]["cron_schedule"]["cron"], "0 0 2 * * *");
    assert_eq!(
        r["trigger"]["cron_schedule"]["start_time"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(r["max_concurrency"], "1");
    assert_eq!(r["no_catchup"], true);
    assert_eq!(r["service_account"], "pipeline-runner");
    assert_eq!(r["runtime_config"]["parameters"]["epochs"], 20);
    assert_eq!(
        r["runtime_config"]["parameters"]["output_uri"],
        "s3://acme-kfp-artifacts/team-a/models/nightly"
    );
    let h = &runs_of(&api, "hourly-train")[0];
    assert_eq!(h["trigger"]["periodic_schedule"]["interval_second"], "3600");
    assert_eq!(h["no_catchup"], false);
    assert_eq!(h["status"], "DISABLED");
    let exp = api.experiments();
    assert_eq!(
        exp[0]["description"],
        "Scheduled training of the team's models"
    );
    assert_eq!(r["experiment_id"], exp[0]["experiment_id"]);
    // The uploaded file is the pipeline, byte for byte, with its hash recorded.
    let spec = std::fs::read_to_string(dir.join("pipelines/train.yaml")).unwrap();
    let v = &api.versions()[0];
    assert_eq!(v["_spec_text"], spec.as_str());
    assert!(v["description"]
        .as_str()
        .unwrap()
        .starts_with("kfp-aws:sha256="));

    api.clear_writes();
    let again = on(&api, "apply", &dir, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        api.writes().is_empty(),
        "second apply wrote: {:?}",
        api.writes()
    );
    assert!(
        again
            .stdout
            .contains("No changes: KFP namespace team-a matches the folder."),
        "{}",
        again.stdout
    );
    let plan = on(&api, "plan", &dir, &[]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    // Every read was a GET: nothing but reads on the second pass.
    assert!(api
        .requests()
        .iter()
        .rev()
        .take(5)
        .all(|r| r.method == "GET"));
}

#[test]
fn a_change_replaces_the_recurring_run_in_the_safe_order() {
    let api = KfpApi::start();
    let dir = example_copy("replace");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    let first = enabled_ids(&api, "nightly-train");
    assert_eq!(first.len(), 1);

    edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 30");
    let plan = on(&api, "plan", &dir, &[]);
    assert_eq!(plan.code, 2);
    let lines: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .collect();
    assert_eq!(
        lines,
        [
            "  + recurring run \"nightly-train\": create new version, paused (changed: parameters)"
                .to_string(),
            format!(
                "  ~ recurring run \"nightly-train\" {}: pause (old version)",
                first[0]
            ),
            "  ~ recurring run \"nightly-train\" (new): enable".to_string(),
        ]
    );
    api.clear_writes();
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let w = api.writes();
    assert_eq!(w.len(), 3, "{:?}", w);
    assert_eq!(w[0], "create-recurring-run nightly-train DISABLE");
    assert_eq!(w[1], format!("disable {}", first[0]));
    let second = enabled_ids(&api, "nightly-train");
    assert_eq!(second.len(), 1);
    assert_eq!(w[2], format!("enable {}", second[0]));
    assert_ne!(first, second);
    assert_eq!(runs_of(&api, "nightly-train").len(), 2);

    // Two more changes: keep_history 2 keeps two old versions, the oldest goes.
    for n in ["31", "32"] {
        let text = std::fs::read_to_string(dir.join("recurring_runs.yaml")).unwrap();
        let prev = if n == "31" { "30" } else { "31" };
        std::fs::write(
            dir.join("recurring_runs.yaml"),
            text.replacen(&format!("value: {}", prev), &format!("value: {}", n), 1),
        )
        .unwrap();
        api.clear_writes();
        assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    }
    let w = api.writes();
    assert_eq!(w.len(), 4, "{:?}", w);
    assert_eq!(w[0], "create-recurring-run nightly-train DISABLE");
    assert!(w[1].starts_with("disable "));
    assert!(w[2].starts_with("enable "));
    assert_eq!(
        w[3],
        format!("delete {}", first[0]),
        "the oldest version goes last"
    );
    assert_eq!(runs_of(&api, "nightly-train").len(), 3);
    assert_eq!(enabled_ids(&api, "nightly-train").len(), 1);

    // A new pipeline file: one new version uploaded, then the same sequence.
    edit(
        &dir.join("pipelines/train.yaml"),
        "image: python:3.11-slim",
        "image: python:3.12-slim",
    );
    let plan = on(&api, "plan", &dir, &[]);
    assert!(
        plan.stdout.contains(
            "  + recurring run \"nightly-train\": create new version, paused (changed: pipeline)"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("  + pipeline \"nightly-train\" ")
            && plan.stdout.contains(": upload version \"nightly-train-"),
        "{}",
        plan.stdout
    );
    api.clear_writes();
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    let w = api.writes();
    let kinds: Vec<String> = w
        .iter()
        .map(|x| {
            x.rsplit_once(' ')
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "upload-version",
            "create-recurring-run nightly-train",
            "disable",
            "enable",
            "delete",
            "upload-version",
            "create-recurring-run hourly-train",
            "delete",
        ],
        "{:?}",
        w
    );
    assert!(w[0].starts_with("upload-version nightly-train-"), "{:?}", w);
    assert!(w[5].starts_with("upload-version train-hourly-"), "{:?}", w);
    assert!(
        w[1].ends_with(" DISABLE") && w[6].ends_with(" DISABLE"),
        "{:?}",
        w
    );
    // hourly-train: keep_history 0 and disabled: a new paused version, the old one deleted.
    assert_eq!(runs_of(&api, "hourly-train").len(), 1);
    assert_eq!(enabled_ids(&api, "hourly-train").len(), 0);
    api.clear_writes();
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    assert!(api.writes().is_empty(), "{:?}", api.writes());
}

#[test]
fn enabled_false_pauses_every_version() {
    let api = KfpApi::start();
    let dir = example_copy("pause");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 21");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    // Both versions enabled, as if someone had enabled the old one in the UI.
    let ids: Vec<String> = runs_of(&api, "nightly-train")
        .iter()
        .map(|r| r["recurring_run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        api.set_status(id, "ENABLED");
    }
    edit(
        &dir.join("recurring_runs.yaml"),
        "enabled: true",
        "enabled: false",
    );
    api.clear_writes();
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut w = api.writes();
    w.sort();
    let mut want: Vec<String> = ids.iter().map(|i| format!("disable {}", i)).collect();
    want.sort();
    assert_eq!(w, want, "only pauses, no new version");
    assert!(enabled_ids(&api, "nightly-train").is_empty());
    api.clear_writes();
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    assert!(api.writes().is_empty());
    // Enabled again: the current version comes back, the old one stays paused.
    edit(
        &dir.join("recurring_runs.yaml"),
        "enabled: false",
        "enabled: true",
    );
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    let on_now = enabled_ids(&api, "nightly-train");
    assert_eq!(on_now.len(), 1);
    assert_eq!(api.writes(), [format!("enable {}", on_now[0])]);
}

#[test]
fn a_failed_apply_is_completed_by_the_next_one() {
    // For each write of the replace sequence: fail it, apply again, and end
    // in the same state as an apply that never failed.
    for n in 1..=3u64 {
        let api = KfpApi::start();
        let dir = example_copy(&format!("resume{}", n));
        assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
        let old = enabled_ids(&api, "nightly-train");
        edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 25");
        api.clear_writes();
        api.fail_write(n);
        let out = on(&api, "apply", &dir, &[]);
        assert_eq!(out.code, 1, "write {} should fail", n);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("failed (the steps before it are done; run the same command again to complete the rest)"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("KFP answered 500 Internal Server Error: injected failure"),
            "{}",
            out.stderr
        );
        assert_eq!(api.writes().len() as u64, n - 1);

        api.clear_writes();
        let out = on(&api, "apply", &dir, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let w = api.writes();
        let expected_rest = 3 - (n - 1) as usize;
        assert_eq!(
            w.len(),
            expected_rest,
            "resume after failing write {}: {:?}",
            n,
            w
        );
        let runs = runs_of(&api, "nightly-train");
        assert_eq!(runs.len(), 2, "{:?}", runs);
        let now = enabled_ids(&api, "nightly-train");
        assert_eq!(now.len(), 1);
        assert_ne!(now, old);
        let enabled = runs.iter().find(|r| r["status"] == "ENABLED").unwrap();
        assert_eq!(enabled["runtime_config"]["parameters"]["epochs"], 25);
        api.clear_writes();
        assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
        assert!(api.writes().is_empty(), "{:?}", api.writes());
    }
}

#[test]
fn a_failed_upload_is_retried_by_the_next_apply() {
    let api = KfpApi::start();
    let dir = example_copy("upload");
    api.fail_write(3); // the first pipeline upload
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("pipeline \"nightly-train\": upload from pipelines/train.yaml"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("experiment \"adhoc\""),
        "done steps are reported: {}",
        out.stdout
    );
    api.clear_writes();
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    assert_eq!(api.writes()[0], "upload-pipeline nightly-train");
    assert_eq!(api.pipelines().len(), 2);
}

#[test]
fn removed_jobs_are_reported_and_deleted_only_with_prune() {
    let api = KfpApi::start();
    let dir = example_copy("prune");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    // Someone else's recurring run with a job's name is never touched.
    api.put_recurring_run(serde_json::json!({"display_name": "hourly-train", "description": "by hand", "status": "ENABLED", "namespace": "team-a"}));
    let text = std::fs::read_to_string(dir.join("recurring_runs.yaml")).unwrap();
    let cut = text.find("- pipeline_source:\n    file_path: pipelines/train.yaml\n    pipeline_name: train-hourly").unwrap();
    std::fs::write(dir.join("recurring_runs.yaml"), &text[..cut]).unwrap();
    let id = runs_of(&api, "hourly-train")
        .iter()
        .find(|r| r["description"] != "by hand")
        .unwrap()["recurring_run_id"]
        .as_str()
        .unwrap()
        .to_string();

    let plan = on(&api, "plan", &dir, &[]);
    assert_eq!(
        plan.code, 0,
        "a removed job alone changes nothing: {}",
        plan.stdout
    );
    assert!(plan.stdout.contains(&format!("  ! recurring run \"hourly-train\" {}: not in recurring_runs.yaml; kept (apply --prune deletes it)", id)), "{}", plan.stdout);
    api.clear_writes();
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 0);
    assert!(api.writes().is_empty());
    assert!(
        out.stdout.contains("not in recurring_runs.yaml; kept"),
        "{}",
        out.stdout
    );

    let plan = on(&api, "plan", &dir, &["--prune"]);
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains(&format!(
            "  - recurring run \"hourly-train\" {}: delete (not in recurring_runs.yaml, --prune)",
            id
        )),
        "{}",
        plan.stdout
    );
    let out = on(&api, "apply", &dir, &["--prune"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.writes(), [format!("delete {}", id)]);
    let left = runs_of(&api, "hourly-train");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["description"], "by hand");
}

#[test]
fn lists_are_read_page_by_page() {
    let api = KfpApi::start();
    api.set_max_page(1);
    let dir = example_copy("paging");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    api.clear_writes();
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    assert!(api
        .requests()
        .iter()
        .any(|r| r.query.contains("page_token=1")));
}

#[test]
fn git_reference_reads_the_file_at_that_commit() {
    let root = scratch("git");
    let dir = root.join("team-a");
    copy_dir(&repo().join("examples/pipelines/team-a"), &dir);
    let git = |args: &[&str]| {
        let s = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&root)
            .output()
            .expect("git");
        assert!(
            s.status.success(),
            "git {:?}: {}",
            args,
            String::from_utf8_lossy(&s.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "v1"]);
    git(&["tag", "v1"]);
    let v1 = std::fs::read_to_string(dir.join("pipelines/train.yaml")).unwrap();
    edit(
        &dir.join("pipelines/train.yaml"),
        "python:3.11-slim",
        "python:3.13-slim",
    );
    edit(&dir.join("params/output_uri.txt"), "nightly", "changed");
    edit(&dir.join("recurring_runs.yaml"), "    file_path: pipelines/train.yaml\n  pipeline_parameters:\n  - name: data_path", "    file_path: pipelines/train.yaml\n    git_reference: v1\n  pipeline_parameters:\n  - name: data_path");
    edit(
        &dir.join("recurring_runs.yaml"),
        "      file_path: params/output_uri.txt",
        "      file_path: params/output_uri.txt\n      git_reference: v1",
    );
    let api = KfpApi::start();
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let nightly = api
        .pipelines()
        .into_iter()
        .find(|p| p["name"] == "nightly-train")
        .unwrap();
    let v = api
        .versions()
        .into_iter()
        .find(|v| v["pipeline_id"] == nightly["pipeline_id"])
        .unwrap();
    assert_eq!(v["_spec_text"], v1.as_str(), "the file as committed at v1");
    let r = &runs_of(&api, "nightly-train")[0];
    assert_eq!(
        r["runtime_config"]["parameters"]["output_uri"],
        "s3://acme-kfp-artifacts/team-a/models/nightly"
    );
    // The working copy (without git_reference) is what hourly-train uploads.
    let hourly = api
        .pipelines()
        .into_iter()
        .find(|p| p["name"] == "train-hourly")
        .unwrap();
    let hv = api
        .versions()
        .into_iter()
        .find(|v| v["pipeline_id"] == hourly["pipeline_id"])
        .unwrap();
    assert!(hv["_spec_text"]
        .as_str()
        .unwrap()
        .contains("python:3.13-slim"));

    edit(
        &dir.join("recurring_runs.yaml"),
        "git_reference: v1\n  pipeline_parameters",
        "git_reference: v9\n  pipeline_parameters",
    );
    let out = kfp(&["pipelines", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("'nightly-train': pipeline_source.git_reference: git_reference 'v9' is not a commit, tag or branch of the repository"), "{}", out.stderr);
}

// --- run ---------------------------------------------------------------------

#[test]
fn run_starts_one_run_and_waits_for_its_end() {
    let api = KfpApi::start();
    let dir = example_copy("run");
    let out = on(&api, "run", &dir, &["nightly-train"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("run ") && out.stdout.trim_end().ends_with(" created"),
        "{}",
        out.stdout
    );
    // The experiment and the pipeline version it needs were made first.
    let w = api.writes();
    assert_eq!(w[0], "create-experiment nightly");
    assert_eq!(w[1], "upload-pipeline nightly-train");
    assert!(w[2].starts_with("create-run nightly-train "), "{:?}", w);
    let run = &api.runs()[0];
    assert_eq!(
        run["runtime_config"]["parameters"]["data_path"],
        "s3://acme-data/events/daily"
    );
    assert_eq!(run["experiment_id"], api.experiments()[0]["experiment_id"]);

    api.clear_writes();
    let out = on(
        &api,
        "run",
        &dir,
        &["nightly-train", "--wait", "--poll-interval", "0.01"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        api.writes().len(),
        1,
        "nothing but the run: {:?}",
        api.writes()
    );
    assert!(
        out.stdout.trim_end().ends_with("SUCCEEDED"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains(": RUNNING"), "{}", out.stderr);

    api.set_run_final_state("FAILED");
    let out = on(
        &api,
        "run",
        &dir,
        &["nightly-train", "--wait", "--poll-interval", "0.01"],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.trim_end().ends_with("FAILED"));
    assert!(
        out.stderr
            .contains("of 'nightly-train' ended FAILED: step train failed"),
        "{}",
        out.stderr
    );

    let out = on(&api, "run", &dir, &["nightly-trian"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no job named 'nightly-trian' in recurring_runs.yaml; the jobs are: nightly-train, hourly-train"), "{}", out.stderr);
}

// --- reaching the API ----------------------------------------------------------

#[test]
fn by_default_the_api_is_reached_through_the_service_proxy() {
    let prefix = "/api/v1/namespaces/kubeflow/services/ml-pipeline:8888/proxy";
    let api = KfpApi::start_under(prefix);
    let dir = example_copy("proxy");
    let kc = api.kubeconfig(dir.parent().unwrap());
    let out = kfp(
        &[
            "pipelines",
            "apply",
            dir.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.writes().len(), 6);
    let reqs = api.requests();
    assert!(
        reqs.iter()
            .all(|r| r.path.starts_with(&format!("{}/apis/v2beta1/", prefix))),
        "{:?}",
        reqs
    );
    assert!(reqs
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer kube-token")));

    // --kfp-namespace moves the proxy path; --token replaces the kubeconfig's user.
    let other = KfpApi::start_under("/api/v1/namespaces/kfp-team/services/ml-pipeline:8888/proxy");
    let kc2 = other.kubeconfig(&scratch("proxy2"));
    let out = kfp(
        &[
            "pipelines",
            "plan",
            dir.to_str().unwrap(),
            "--kubeconfig",
            kc2.to_str().unwrap(),
            "--kfp-namespace",
            "kfp-team",
            "--token",
            "s3cr3t-token",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(other
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer s3cr3t-token")));
    assert!(!out.stdout.contains("s3cr3t") && !out.stderr.contains("s3cr3t"));
}

#[test]
fn a_token_goes_to_the_api_url_and_is_never_printed() {
    let api = KfpApi::start();
    let dir = example_copy("token");
    let url = api.url();
    let out = kfp(
        &[
            "pipelines",
            "apply",
            dir.to_str().unwrap(),
            "--api-url",
            &url,
        ],
        &[("KFP_TOKEN", "tok-from-env")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(api
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer tok-from-env")));
    api.fail_write(1);
    edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 22");
    let out = kfp(
        &[
            "pipelines",
            "apply",
            dir.to_str().unwrap(),
            "--api-url",
            &url,
            "--token",
            "tok-from-flag",
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        api.requests().last().unwrap().authorization.as_deref() == Some("Bearer tok-from-flag")
    );
    for o in [&out.stdout, &out.stderr] {
        assert!(!o.contains("tok-from"), "{}", o);
    }
}

#[test]
fn an_unreachable_api_is_one_line() {
    let dir = example_copy("down");
    let port = support::peers::free_port();
    let url = format!("http://127.0.0.1:{}", port);
    let out = kfp(
        &[
            "pipelines",
            "plan",
            dir.to_str().unwrap(),
            "--api-url",
            &url,
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            "error: GET /apis/v2beta1/experiments: cannot reach the KFP API at http://127.0.0.1:"
        ),
        "{}",
        out.stderr
    );
    let out = kfp(
        &[
            "pipelines",
            "plan",
            dir.to_str().unwrap(),
            "--api-url",
            "localhost:8888",
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("needs a scheme and host"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_namespace_is_the_folder_name_unless_given() {
    let api = KfpApi::start();
    let dir = example_copy("ns");
    assert_eq!(on(&api, "apply", &dir, &["--namespace", "team-b"]).code, 0);
    assert!(api.experiments().iter().all(|e| e["namespace"] == "team-b"));
    // team-a has nothing yet.
    let plan = on(&api, "plan", &dir, &[]);
    assert_eq!(plan.code, 2);
    assert!(plan.stdout.contains("KFP namespace team-a"));
}

#[test]
fn an_archived_experiment_stops_before_any_write() {
    let api = KfpApi::start();
    let dir = example_copy("archived");
    assert_eq!(on(&api, "apply", &dir, &[]).code, 0);
    api.archive_experiment("nightly");
    edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 23");
    api.clear_writes();
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("experiment \"nightly\" ")
            && out.stderr.contains("is archived in KFP; restore it"),
        "{}",
        out.stderr
    );
    assert!(api.writes().is_empty());
}

#[test]
fn an_api_url_with_a_path_keeps_it() {
    // KFP behind Kubeflow's gateway answers under /pipeline.
    let api = KfpApi::start_under("/pipeline");
    let dir = example_copy("urlpath");
    let url = format!("{}/pipeline/", api.url());
    let out = kfp(
        &[
            "pipelines",
            "apply",
            dir.to_str().unwrap(),
            "--api-url",
            &url,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.writes().len(), 6);
    assert!(api
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/pipeline/apis/v2beta1/")));
}

#[test]
fn two_folders_on_a_single_user_kfp_stay_apart() {
    // A single-user KFP (as kfp-aws installs it) drops namespaces: the mark
    // on each recurring run keeps the folders' jobs apart.
    let api = KfpApi::start();
    api.set_single_user(true);
    let a = example_copy("single-a");
    let b = a.parent().unwrap().join("team-b");
    copy_dir(&a, &b);
    assert_eq!(on(&api, "apply", &a, &[]).code, 0);
    api.clear_writes();
    let out = on(&api, "apply", &b, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Experiments and pipeline versions are shared; recurring runs are not.
    assert_eq!(
        api.writes(),
        [
            "create-recurring-run nightly-train ENABLE",
            "create-recurring-run hourly-train DISABLE",
        ]
    );
    assert_eq!(runs_of(&api, "nightly-train").len(), 2);
    for dir in [&a, &b] {
        api.clear_writes();
        assert_eq!(on(&api, "apply", dir, &[]).code, 0);
        assert!(api.writes().is_empty(), "{:?}", api.writes());
    }
    // Pruning team-a's removed job leaves team-b's alone.
    let text = std::fs::read_to_string(a.join("recurring_runs.yaml")).unwrap();
    let cut = text.find("- pipeline_source:\n    file_path: pipelines/train.yaml\n    pipeline_name: train-hourly").unwrap();
    std::fs::write(a.join("recurring_runs.yaml"), &text[..cut]).unwrap();
    let out = on(&api, "apply", &a, &["--prune"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(api.writes().len(), 1, "{:?}", api.writes());
    assert_eq!(runs_of(&api, "hourly-train").len(), 1);
    api.clear_writes();
    assert_eq!(on(&api, "apply", &b, &[]).code, 0);
    assert!(api.writes().is_empty(), "{:?}", api.writes());
}

#[test]
fn reads_are_retried_and_writes_are_not() {
    let api = KfpApi::start();
    let dir = example_copy("retry");
    api.fail_reads(2);
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 0, "two failed reads are retried: {}", out.stderr);
    assert_eq!(api.writes().len(), 6);
    api.fail_reads(3);
    let out = on(&api, "plan", &dir, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("GET /apis/v2beta1/experiments: KFP answered 503 Service Unavailable: injected read failure"), "{}", out.stderr);
    // A failed write is not sent again.
    edit(&dir.join("recurring_runs.yaml"), "value: 20", "value: 24");
    api.clear_writes();
    api.fail_write_with(1, 503);
    let out = on(&api, "apply", &dir, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("KFP answered 503 Service Unavailable"),
        "{}",
        out.stderr
    );
    let posts = api.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(
        posts,
        1 + 6,
        "the six of the first apply and one failed create"
    );
}
