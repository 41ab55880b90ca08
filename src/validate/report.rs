//! What every check reads (`Options`) and writes (`Report`). The checks in
//! `aws.rs` and `mysql.rs` and the driver in `mod.rs` all depend on this
//! module; it depends on none of them.

use std::time::Duration;

use serde_json::json;

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
