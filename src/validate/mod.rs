//! `kfp-aws validate`: the checks that catch, before deploying, what would
//! otherwise show up only in pod logs. Every check has an id, a status and
//! one line that says what is wrong and how to fix it. No secret value is
//! ever part of a message.

//!
//! Layout (dependencies point down only):
//! - `mod.rs` (this file): `run`, which picks the groups and drives them;
//! - `aws.rs` (S3, IAM, STS) and `mysql.rs`: the checks;
//! - `policy.rs`: the IAM policy evaluator `aws.rs` uses;
//! - `report.rs`: what every check reads (`Options`) and writes (`Report`).

pub mod aws;
pub mod mysql;
pub mod policy;
mod report;

pub use report::{Check, Options, Report, Selection, Status};

use crate::params::{Overlay, Params};

/// Run every selected check that applies to these parameters.
pub fn run(p: &Params, o: &Options) -> Report {
    let mut report = Report::default();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report.fail("runtime", format!("cannot start the async runtime: {}", e));
            return report;
        }
    };
    rt.block_on(async {
        let needs_aws = o.selection.s3 || (o.selection.iam && p.overlay == Overlay::Iam);
        let aws = !needs_aws || aws::identity_check(p, o, &mut report).await;
        if o.selection.s3 {
            if aws {
                aws::s3_checks(p, o, &mut report).await;
            } else {
                report.skip("s3", "needs usable AWS credentials (see aws.identity)");
            }
        }
        if o.selection.iam {
            if !aws && p.overlay == Overlay::Iam {
                report.skip("iam", "needs usable AWS credentials (see aws.identity)");
            } else if p.overlay == Overlay::Iam {
                aws::iam_checks(p, o, &mut report).await;
            } else {
                report.skip(
                    "iam",
                    "the accesskey overlay uses static keys, not an IAM role",
                );
            }
        }
        if o.selection.mysql {
            if p.external_mysql() {
                mysql::run(p, o, &mut report).await;
            } else {
                report.skip(
                    "mysql",
                    "MySQL runs in the cluster (mysqlHost is empty): nothing to reach yet",
                );
            }
        }
    });
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_json_agree() {
        let mut r = Report::default();
        r.pass("s3.bucket", "bucket b exists");
        r.fail(
            "s3.region",
            "bucket b is in eu-west-1 but awsRegion is us-east-1; set awsRegion=eu-west-1",
        );
        r.skip("s3.access", "needs the bucket");
        assert!(!r.ok());
        let t = r.to_table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "STATUS   CHECK      RESULT");
        assert_eq!(lines[1], "✓        s3.bucket  bucket b exists");
        assert!(lines[2].starts_with("✗        s3.region  bucket b is in eu-west-1"));
        assert_eq!(lines[3], "skipped  s3.access  needs the bucket");
        assert_eq!(lines[4], "1 check(s) failed");
        let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(j["ok"], false);
        assert_eq!(j["checks"][1]["status"], "fail");
        assert_eq!(j["checks"][2]["status"], "skip");
        assert_eq!(j["checks"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn selection_names_the_unknown_group() {
        let s = Selection::parse("s3, mysql").unwrap();
        assert!(s.s3 && s.mysql && !s.iam);
        assert!(Selection::parse("s3,dns").unwrap_err().contains("'dns'"));
    }
}
