//! kfp-aws: argument dispatch only; the work lives in the library.

mod cli;

use clap::Parser;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use cli::{Cli, Command, Output, ParamArgs};
use kfp_aws::kustomize::{self, fs::DiskFs, Format, Resource};
use kfp_aws::params::{Params, RawParams};
use kfp_aws::render::Tree;

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// glibc gives each new thread its own heap, grown a page range at a time
/// with a system call each; the build runs on its own thread (for stack room)
/// and allocates in many small steps. One shared heap avoids that.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// An error and its causes on one line, whatever the source of the message.
fn one_line(e: &anyhow::Error) -> String {
    let line = format!("{:#}", e)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // A value echoed from a huge input stays short.
    kfp_aws::shorten_quoted(&line, 200)
}

/// The commands that reach your account or cluster refuse the example
/// parameters: they name a bucket, a role and an install that are not yours.
/// Prints the usage error and returns false when `--params` is missing.
fn has_own_params(a: &ParamArgs, command: &str) -> bool {
    if a.params.is_empty() {
        eprintln!(
            "error: {} needs your parameters: --params FILE (start from params/params.env)",
            command
        );
        return false;
    }
    true
}

fn format(o: Output) -> Format {
    match o {
        Output::Yaml => Format::Yaml,
        Output::Json => Format::Json,
    }
}

fn print(items: &[Resource], o: Output) {
    let text = kustomize::render(items, format(o));
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Parameters from the command line, or the embedded example.
fn params(a: &ParamArgs, tree: &Tree) -> anyhow::Result<Params> {
    let mut raw = RawParams::default();
    if a.params.is_empty() {
        raw.add_text(&tree.example_params()?, "params/params.env")
            .map_err(anyhow::Error::msg)?;
    }
    for f in &a.params {
        raw.add_file(f).map_err(anyhow::Error::msg)?;
    }
    for f in &a.secrets {
        raw.add_secrets_file(f).map_err(anyhow::Error::msg)?;
    }
    raw.add_secrets_from_env(env_var);
    if a.params.is_empty() && a.secrets.is_empty() {
        raw.add_example_secrets(&tree.example_secrets()?);
    }
    if let Some(o) = &a.overlay {
        raw.set(&format!("overlay={}", o))
            .map_err(anyhow::Error::msg)?;
    }
    for s in &a.set {
        raw.set(s).map_err(anyhow::Error::msg)?;
    }
    let p = raw.resolve().map_err(anyhow::Error::msg)?;
    // Said once the parameters are good, so a bad one is the only line.
    if a.params.is_empty() {
        eprintln!("note: no --params given: rendering the example parameters (params/params.env)");
    }
    Ok(p)
}

fn apply_options(
    c: &cli::ClusterArgs,
    install: Option<String>,
    prune: bool,
) -> kfp_aws::apply::ApplyOptions {
    kfp_aws::apply::ApplyOptions {
        kubeconfig: c.kubeconfig.clone(),
        context: c.context.clone(),
        dry_run: c.dry_run,
        force_conflicts: c.force_conflicts,
        crd_timeout: std::time::Duration::from_secs(c.crd_timeout),
        request_timeout: c.request_timeout.0,
        install,
        prune,
        version_warnings: Vec::new(),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build { dir, output } => {
            let built = kustomize::build_with_warnings(&DiskFs::new(), &dir)?;
            for w in &built.warnings {
                eprintln!("warning: {}", w);
            }
            print(&built.resources, output);
            // The process ends next: freeing each node of the tree one by
            // one would only cost time.
            std::mem::forget(built);
        }
        Command::Render {
            params: a,
            output,
            no_crds,
        } => {
            let tree = Tree::new(a.from.as_deref());
            let p = params(&a, &tree)?;
            let items = tree.render(&p, !no_crds)?;
            print(&items, output);
            std::mem::forget(items);
        }
        Command::Validate {
            params: a,
            checks,
            json,
            timeout,
            no_write_probe,
        } => {
            let selection = match kfp_aws::validate::Selection::parse(&checks) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {}", e);
                    return Ok(ExitCode::from(2));
                }
            };
            if !has_own_params(&a, "validate") {
                return Ok(ExitCode::from(2));
            }
            let tree = Tree::new(a.from.as_deref());
            let p = params(&a, &tree)?;
            let opts = kfp_aws::validate::Options {
                selection,
                timeout: std::time::Duration::from_secs(timeout.max(1)),
                write_probe: !no_write_probe,
            };
            let report = kfp_aws::validate::run(&p, &opts);
            let text = if json {
                report.to_json()
            } else {
                report.to_table()
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            return Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Crds {
            output,
            from,
            apply,
            cluster,
        } => {
            let tree = Tree::new(from.as_deref());
            if apply {
                let summary =
                    kfp_aws::apply::apply(&tree.crds()?, &apply_options(&cluster, None, false))?;
                let _ = std::io::stdout()
                    .lock()
                    .write_all(summary.to_table().as_bytes());
            } else {
                print(&tree.crds()?, output);
            }
        }
        Command::Diff {
            params: a,
            cluster,
            no_crds,
        } => {
            // kubectl diff's convention: 0 no change, 1 changes, 2 trouble.
            if !has_own_params(&a, "diff") {
                return Ok(ExitCode::from(2));
            }
            let result = (|| -> anyhow::Result<Vec<kfp_aws::apply::ObjectDiff>> {
                let tree = Tree::new(a.from.as_deref());
                let p = params(&a, &tree)?;
                let items = tree.render(&p, !no_crds)?;
                kfp_aws::apply::diff(
                    &items,
                    &apply_options(&cluster, Some(p.get("namespace").to_string()), false),
                )
            })();
            let diffs = match result {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: {}", one_line(&e));
                    return Ok(ExitCode::from(2));
                }
            };
            use std::io::IsTerminal;
            let colour = std::io::stdout().is_terminal();
            let mut out = std::io::stdout().lock();
            for d in &diffs {
                let id = if d.namespace.is_empty() {
                    format!("{}/{}", d.kind, d.name)
                } else {
                    format!("{}/{}/{}", d.kind, d.namespace, d.name)
                };
                let text = similar::TextDiff::from_lines(&d.live, &d.merged)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("live/{}", id), &format!("merged/{}", id))
                    .to_string();
                for line in text.lines() {
                    let painted = match line.as_bytes().first() {
                        Some(b'-') if colour => format!("\x1b[31m{}\x1b[0m", line),
                        Some(b'+') if colour => format!("\x1b[32m{}\x1b[0m", line),
                        _ => line.to_string(),
                    };
                    let _ = writeln!(out, "{}", painted);
                }
            }
            eprintln!("{} object(s) would change", diffs.len());
            return Ok(if diffs.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Delete {
            params: a,
            cluster,
            with_crds,
        } => {
            if !has_own_params(&a, "delete") {
                return Ok(ExitCode::from(2));
            }
            let tree = Tree::new(a.from.as_deref());
            let p = params(&a, &tree)?;
            let crds = tree
                .crds()?
                .iter()
                .filter_map(|r| r.obj["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            let o = kfp_aws::apply::DeleteOptions {
                cluster: apply_options(&cluster, Some(p.get("namespace").to_string()), false),
                with_crds,
                crds,
            };
            let summary = kfp_aws::apply::delete(&o)?;
            let _ = std::io::stdout()
                .lock()
                .write_all(summary.to_table().as_bytes());
        }
        Command::Apply {
            params: a,
            cluster,
            validate,
            no_crds,
            prune,
        } => {
            if !has_own_params(&a, "apply") {
                return Ok(ExitCode::from(2));
            }
            let tree = Tree::new(a.from.as_deref());
            let p = params(&a, &tree)?;
            let items = tree.render(&p, !no_crds)?;
            if validate {
                let opts = kfp_aws::validate::Options {
                    selection: kfp_aws::validate::Selection {
                        s3: true,
                        iam: true,
                        mysql: true,
                    },
                    timeout: std::time::Duration::from_secs(10),
                    write_probe: true,
                };
                let report = kfp_aws::validate::run(&p, &opts);
                eprint!("{}", report.to_table());
                if !report.ok() {
                    eprintln!("error: validation failed; nothing was applied");
                    return Ok(ExitCode::from(1));
                }
            }
            let mut o = apply_options(&cluster, Some(p.get("namespace").to_string()), prune);
            if p.get("cacheTls") == "kubelet-csr" {
                o.version_warnings.push((
                    "-eks-".into(),
                    "cacheTls=kubelet-csr: EKS does not sign kubelet-serving certificates for the cache deployer, so the cache server will not start; set cacheTls=cert-manager (with cert-manager installed) or cacheTls=none".into(),
                ));
            }
            let summary = kfp_aws::apply::apply(&items, &o)?;
            let _ = std::io::stdout()
                .lock()
                .write_all(summary.to_table().as_bytes());
        }
        Command::Check {
            dir,
            secrets,
            from,
            no_crds,
        } => {
            return check(&dir, &secrets, from.as_deref(), no_crds);
        }
        Command::Pipelines(c) => return pipelines(c),
    }
    Ok(ExitCode::SUCCESS)
}

/// `kfp-aws pipelines ...`.
fn pipelines(c: cli::PipelinesCommand) -> anyhow::Result<ExitCode> {
    use cli::PipelinesCommand as P;
    use kfp_aws::pipelines as p;
    let endpoint = |k: &cli::KfpArgs| p::api::Endpoint {
        api_url: k.api_url.clone(),
        kubeconfig: k.kubeconfig.clone(),
        context: k.context.clone(),
        kfp_namespace: k.kfp_namespace.clone(),
        token: k.token.clone().or_else(|| env_var("KFP_TOKEN")),
        request_timeout: k.request_timeout.0,
    };
    let ns = |dir: &Path, k: &cli::KfpArgs| p::namespace_for(dir, k.namespace.as_deref());
    let code = match c {
        P::Check { dir } => p::check_cmd(&dir),
        P::Plan {
            dir,
            kfp,
            output,
            prune,
        } => p::plan_cmd(
            &dir,
            &ns(&dir, &kfp),
            &endpoint(&kfp),
            matches!(output, cli::PlanOutput::Json),
            prune,
        )?,
        P::Apply { dir, kfp, prune } => {
            p::apply_cmd(&dir, &ns(&dir, &kfp), &endpoint(&kfp), prune)?
        }
        P::Run {
            dir,
            job,
            kfp,
            wait,
            poll_interval,
        } => p::run_cmd(
            &dir,
            &job,
            &ns(&dir, &kfp),
            &endpoint(&kfp),
            wait.then(|| std::time::Duration::from_secs_f64(poll_interval.clamp(0.01, 3600.0))),
        )?,
    };
    Ok(ExitCode::from(code))
}

/// GitOps check: exit 0 when DIR/install.yaml is current, 1 with a diff when
/// it is stale.
fn check(
    dir: &Path,
    secrets: &[std::path::PathBuf],
    from: Option<&Path>,
    no_crds: bool,
) -> anyhow::Result<ExitCode> {
    let tree = Tree::new(from);
    let mut raw = RawParams::default();
    raw.add_file(&dir.join("params.env"))
        .map_err(anyhow::Error::msg)?;
    for f in secrets {
        raw.add_secrets_file(f).map_err(anyhow::Error::msg)?;
    }
    raw.add_secrets_from_env(env_var);
    let p = raw.resolve().map_err(anyhow::Error::msg)?;
    let want = kustomize::render(&tree.render(&p, !no_crds)?, Format::Yaml);
    let path = dir.join("install.yaml");
    // Only a regular file is read: a FIFO would block forever.
    let have = kfp_aws::kustomize::fs::read_text_file(&path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {}", path.display(), e))?;
    if have == want {
        eprintln!("{} is up to date", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let diff = similar::TextDiff::from_lines(&have, &want);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{} (committed)", path.display()),
            "render (current)",
        )
        .to_string();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    eprintln!(
        "{} is stale: run kfp-aws render again and commit the result",
        path.display()
    );
    Ok(ExitCode::from(1))
}
