//! kfp-aws: argument dispatch only; the work lives in the library.

mod cli;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

use cli::{Cli, Command, Output};
use kfp_aws::kustomize::{self, fs::DiskFs, Format};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the source of the message.
            let msg = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("error: {}", msg);
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build { dir, output } => {
            let built = kustomize::build_with_warnings(&DiskFs, &dir)?;
            for w in &built.warnings {
                eprintln!("warning: {}", w);
            }
            let items = built.resources;
            let format = match output {
                Output::Yaml => Format::Yaml,
                Output::Json => Format::Json,
            };
            let text = kustomize::render(&items, format);
            let mut out = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(ExitCode::SUCCESS)
        }
    }
}
