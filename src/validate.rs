//! `kfp-aws validate`: the checks that catch, before deploying, what would
//! otherwise show up only in pod logs. Every check has an id, a status and
//! one line that says what is wrong and how to fix it. No secret value is
//! ever part of a message.

use std::time::Duration;

use serde_json::json;

use crate::params::{Overlay, Params};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
    fn mark(&self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "skipped",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Check {
    pub id: String,
    pub status: Status,
    pub message: String,
}

#[derive(Default, Debug)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, id: &str, status: Status, message: impl Into<String>) {
        self.checks.push(Check {
            id: id.to_string(),
            status,
            message: message.into(),
        });
    }
    pub fn pass(&mut self, id: &str, m: impl Into<String>) {
        self.push(id, Status::Pass, m)
    }
    pub fn fail(&mut self, id: &str, m: impl Into<String>) {
        self.push(id, Status::Fail, m)
    }
    pub fn skip(&mut self, id: &str, m: impl Into<String>) {
        self.push(id, Status::Skip, m)
    }
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// `{"checks":[{"id","status","message"}], "ok": bool}`
    pub fn to_json(&self) -> String {
        let checks: Vec<_> = self
            .checks
            .iter()
            .map(|c| json!({"id": c.id, "status": c.status.word(), "message": c.message}))
            .collect();
        let mut s = serde_json::to_string_pretty(&json!({"checks": checks, "ok": self.ok()}))
            .unwrap_or_default();
        s.push('\n');
        s
    }

    /// A table: mark, check id, message.
    pub fn to_table(&self) -> String {
        let w = self
            .checks
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!("{:<7}  {:<w$}  {}\n", "STATUS", "CHECK", "RESULT", w = w);
        for c in &self.checks {
            s.push_str(&format!(
                "{:<7}  {:<w$}  {}\n",
                c.status.mark(),
                c.id,
                c.message,
                w = w
            ));
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        s.push_str(&if failed == 0 {
            "all checks passed\n".to_string()
        } else {
            format!("{} check(s) failed\n", failed)
        });
        s
    }
}

/// Which groups of checks to run.
#[derive(Clone, Copy, Debug)]
pub struct Selection {
    pub s3: bool,
    pub iam: bool,
    pub mysql: bool,
}

impl Selection {
    pub fn parse(list: &str) -> Result<Selection, String> {
        let mut sel = Selection {
            s3: false,
            iam: false,
            mysql: false,
        };
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "s3" => sel.s3 = true,
                "iam" => sel.iam = true,
                "mysql" => sel.mysql = true,
                other => {
                    return Err(format!(
                        "--checks: unknown check group '{}'; use s3, iam, mysql",
                        other
                    ))
                }
            }
        }
        Ok(sel)
    }
}

pub struct Options {
    pub selection: Selection,
    pub timeout: Duration,
    pub write_probe: bool,
}

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
        let aws = !needs_aws || crate::aws::identity_check(p, o, &mut report).await;
        if o.selection.s3 {
            if aws {
                crate::aws::s3_checks(p, o, &mut report).await;
            } else {
                report.skip("s3", "needs usable AWS credentials (see aws.identity)");
            }
        }
        if o.selection.iam {
            if !aws && p.overlay == Overlay::Iam {
                report.skip("iam", "needs usable AWS credentials (see aws.identity)");
            } else if p.overlay == Overlay::Iam {
                crate::aws::iam_checks(p, o, &mut report).await;
            } else {
                report.skip(
                    "iam",
                    "the accesskey overlay uses static keys, not an IAM role",
                );
            }
        }
        if o.selection.mysql {
            if p.external_mysql() {
                crate::mysqlcheck::run(p, o, &mut report).await;
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
