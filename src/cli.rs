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
    /// Print the cluster-scoped set shared by every install: the KFP and Argo CRDs.
    Crds {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: Output,
        /// Render your copy of the manifest tree instead of the embedded one.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
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
}

/// Where parameters come from (later sources win).
#[derive(Args, Debug)]
pub struct ParamArgs {
    /// accesskey (static keys) or iam (IRSA or kube2iam).
    #[arg(long, value_name = "accesskey|iam")]
    pub overlay: Option<String>,
    /// Parameters file(s), KEY=VALUE; without any, the embedded example is used.
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

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Output {
    Yaml,
    Json,
}
