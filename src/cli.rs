//! Command-line arguments: one place for every flag and its help.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "kfp-aws", version, about = "Render, validate and apply Kubeflow Pipelines on AWS", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build a kustomization directory and print the objects, as `kubectl kustomize DIR` does.
    Build {
        /// Directory holding kustomization.yaml (or kustomization.yml, Kustomization).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: Output,
    },
    /// Print the whole KFP install for these parameters: CRDs first, then the namespace's objects.
    Render {
        #[command(flatten)]
        params: ParamArgs,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: Output,
        /// Leave out the shared CRDs (install them once with `kfp-aws crds`).
        #[arg(long)]
        no_crds: bool,
    },
    /// Check the S3 bucket, the IAM role and the MySQL database before installing.
    Validate {
        #[command(flatten)]
        params: ParamArgs,
        /// Groups of checks to run.
        #[arg(long, value_name = "s3,iam,mysql", default_value = "s3,iam,mysql")]
        checks: String,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Seconds each network call may take.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        timeout: u64,
        /// Do not write, read and delete a probe object with the accesskey keys.
        #[arg(long)]
        no_write_probe: bool,
    },
    /// Install on a cluster: server-side apply of the render, CRDs first.
    Apply {
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Run `validate` first; a failed check stops before anything is sent.
        #[arg(long)]
        validate: bool,
        /// Leave out the shared CRDs (installed once with `crds --apply`).
        #[arg(long)]
        no_crds: bool,
        /// Delete objects of this install that the render no longer contains (never CRDs).
        #[arg(long)]
        prune: bool,
    },
    /// Show what `apply` would change, as a unified diff per object (exit 0: none, 1: changes, 2: error).
    Diff {
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Leave out the shared CRDs.
        #[arg(long)]
        no_crds: bool,
    },
    /// Remove an install: its objects (by their inventory label) and its namespace.
    Delete {
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Also remove the shared CRDs; refused while another install is on the cluster.
        #[arg(long)]
        with_crds: bool,
    },
    /// Print the cluster-scoped set shared by every install: the KFP and Argo CRDs.
    Crds {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: Output,
        /// Render your copy of the manifest tree instead of the embedded one.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// Apply them to the cluster (and wait until they are established) instead of printing.
        #[arg(long)]
        apply: bool,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Check that DIR/install.yaml is what DIR/params.env renders today; print a diff if not.
    Check {
        /// Directory holding params.env and install.yaml.
        dir: PathBuf,
        /// Secrets file(s) for the render (KEY=VALUE); the environment is read too.
        #[arg(long = "secrets", value_name = "FILE")]
        secrets: Vec<PathBuf>,
        /// Render your copy of the manifest tree instead of the embedded one.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// Compare without the CRDs (for installs that manage them separately).
        #[arg(long)]
        no_crds: bool,
    },
    /// GitOps for experiments, pipeline versions and recurring runs (KFP v2beta1 API).
    #[command(subcommand)]
    Pipelines(PipelinesCommand),
}

/// `kfp-aws pipelines ...`: one folder per namespace with experiments.yaml and recurring_runs.yaml.
#[derive(Subcommand, Debug)]
pub enum PipelinesCommand {
    /// Check a folder offline: every problem is one line (exit 1), nothing on stdout.
    Check {
        /// Folder holding experiments.yaml and recurring_runs.yaml.
        dir: PathBuf,
    },
    /// Show what apply would do (exit 0: nothing, 2: changes, 1: error).
    Plan {
        /// Folder holding experiments.yaml and recurring_runs.yaml.
        dir: PathBuf,
        #[command(flatten)]
        kfp: KfpArgs,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: PlanOutput,
        /// Plan the deletion of recurring runs whose job left the folder.
        #[arg(long)]
        prune: bool,
    },
    /// Reconcile KFP with the folder: experiments, pipeline versions, recurring runs.
    Apply {
        /// Folder holding experiments.yaml and recurring_runs.yaml.
        dir: PathBuf,
        #[command(flatten)]
        kfp: KfpArgs,
        /// Delete the recurring runs of jobs removed from recurring_runs.yaml.
        #[arg(long)]
        prune: bool,
    },
    /// Start one run of JOB's pipeline and parameters now, in its experiment.
    Run {
        /// Folder holding experiments.yaml and recurring_runs.yaml.
        dir: PathBuf,
        /// The job's name (job.name in recurring_runs.yaml).
        job: String,
        #[command(flatten)]
        kfp: KfpArgs,
        /// Follow the run to its end; exit 1 unless it succeeds.
        #[arg(long)]
        wait: bool,
        /// Seconds between two looks at the run with --wait.
        #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
        poll_interval: f64,
    },
}

/// How to reach the KFP API.
#[derive(Args, Debug, Clone)]
pub struct KfpArgs {
    /// The namespace the folder is for (default: the folder's name).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// KFP API base URL (a port-forward or an ingress); default: the cluster's service proxy.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Namespace of KFP's ml-pipeline Service, for the service proxy.
    #[arg(long, value_name = "NS", default_value = "kubeflow")]
    pub kfp_namespace: String,
    /// Bearer token (default: $KFP_TOKEN); never printed.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Time a single request may take, as in kubectl (`5s`, `1m`; 0 means no limit).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = kfp_aws::kubeclient::RequestTimeout::parse)]
    pub request_timeout: kfp_aws::kubeclient::RequestTimeout,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PlanOutput {
    Text,
    Json,
}

/// Where parameters come from (later sources win).
#[derive(Args, Debug)]
pub struct ParamArgs {
    /// accesskey (static keys) or iam (IRSA or kube2iam).
    #[arg(long, value_name = "accesskey|iam", value_parser = ["accesskey", "iam"])]
    pub overlay: Option<String>,
    /// Parameters file(s), KEY=VALUE; later files win. Required by validate,
    /// apply, diff and delete; render without any uses the embedded example.
    #[arg(long = "params", value_name = "FILE")]
    pub params: Vec<PathBuf>,
    /// Secrets file(s), KEY=VALUE (awsAccessKeyId, awsSecretAccessKey, mysqlUser, mysqlPassword).
    #[arg(long = "secrets", value_name = "FILE")]
    pub secrets: Vec<PathBuf>,
    /// One parameter, overriding the files.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Render your copy of the manifest tree instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

/// Which cluster, and how to apply.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Server-side dry run (dryRun=All): report what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields that another field manager owns.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Seconds to wait for CRDs to become established.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub crd_timeout: u64,
    /// Time a single request to the API server may take, as in kubectl
    /// (`5s`, `1m`; 0 means no limit).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = kfp_aws::kubeclient::RequestTimeout::parse)]
    pub request_timeout: kfp_aws::kubeclient::RequestTimeout,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Output {
    Yaml,
    Json,
}
