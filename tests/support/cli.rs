//! Running the kfp-aws binary from the integration tests.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::process::Command;

/// What one run printed, and its exit status (-1 when killed by a signal).
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `kfp-aws ARGS` with `envs` set, kept away from the developer's own
/// cluster and cloud: no `KUBECONFIG`, no `KFP_TOKEN`, no EC2 metadata
/// lookups.
pub fn kfp<S: AsRef<OsStr>>(args: &[S], envs: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kfp-aws"));
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KFP_TOKEN")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kfp-aws");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
