//! Command-line arguments: one place for every flag and its help.

use clap::{Parser, Subcommand, ValueEnum};
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
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Output {
    Yaml,
    Json,
}
