//! Preflight of an external MySQL: reachable, credentials accepted, server
//! version, the right to create KFP's three databases, and (MySQL 8) the
//! `mysql_native_password` plugin that ML Metadata needs. The password never
//! appears in a message.

use std::time::Duration;

use mysql_async::prelude::Queryable;

use super::report::{Options, Report};
use crate::params::Params;

async fn within<T>(t: Duration, f: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(t, f).await.ok()
}

pub async fn run(p: &Params, o: &Options, r: &mut Report) {
    let host = p.get("mysqlHost").to_string();
    let port: u16 = p.get("mysqlPort").parse().unwrap_or(3306);
    let addr = format!("{}:{}", host, port);
    match within(o.timeout, tokio::net::TcpStream::connect(&addr)).await {
        None => {
            r.fail(
                "mysql.reachable",
                format!(
                    "no answer from {} within {}s; check the host, the port and security groups",
                    addr,
                    o.timeout.as_secs()
                ),
            );
            skip_rest(r);
            return;
        }
        Some(Err(e)) => {
            let why = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused: nothing listens on that port".to_string()
                }
                _ => crate::kustomize::fs::io_reason(&e),
            };
            r.fail(
                "mysql.reachable",
                format!(
                    "cannot reach {}: {}; check mysqlHost and mysqlPort",
                    addr, why
                ),
            );
            skip_rest(r);
            return;
        }
        Some(Ok(_)) => r.pass("mysql.reachable", format!("{} accepts connections", addr)),
    }
    let user = p
        .secret("mysqlUser")
        .map(|s| s.expose().to_string())
        .unwrap_or_else(|| "root".into());
    let pass = p.secret("mysqlPassword").map(|s| s.expose().to_string());
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(host.clone())
        .tcp_port(port)
        .user(Some(user.clone()))
        .pass(pass)
        .prefer_socket(false);
    let mut conn = match within(o.timeout, mysql_async::Conn::new(opts)).await {
        None => {
            r.fail(
                "mysql.login",
                format!(
                    "{} did not finish the login within {}s",
                    addr,
                    o.timeout.as_secs()
                ),
            );
            skip_after_login(r);
            return;
        }
        Some(Err(mysql_async::Error::Server(e))) if e.code == 1045 => {
            r.fail("mysql.login", format!("MySQL refused user {}: wrong password, or the user may not connect from this host", user));
            skip_after_login(r);
            return;
        }
        Some(Err(mysql_async::Error::Server(e))) => {
            r.fail(
                "mysql.login",
                format!("MySQL refused the login of {} (error {})", user, e.code),
            );
            skip_after_login(r);
            return;
        }
        Some(Err(e)) => {
            r.fail(
                "mysql.login",
                format!("cannot log in to {}: {}", addr, short_error(&e)),
            );
            skip_after_login(r);
            return;
        }
        Some(Ok(c)) => c,
    };
    r.pass("mysql.login", format!("user {} can log in", user));

    let version: String =
        match within(o.timeout, conn.query_first::<String, _>("SELECT VERSION()")).await {
            Some(Ok(Some(v))) => v,
            _ => String::new(),
        };
    let mariadb = version.to_lowercase().contains("mariadb");
    r.pass(
        "mysql.version",
        if version.is_empty() {
            "server version unknown".to_string()
        } else {
            format!("server {}", version)
        },
    );

    // The right to create (or use) the three databases.
    let grants: Vec<String> = within(
        o.timeout,
        conn.query::<String, _>("SHOW GRANTS FOR CURRENT_USER()"),
    )
    .await
    .and_then(Result::ok)
    .unwrap_or_default();
    let global = grants.iter().any(|g| {
        let g = g.to_uppercase();
        g.contains(" ON *.* ") && (g.contains("ALL PRIVILEGES") || g.contains("CREATE"))
    });
    let mut missing = Vec::new();
    // With cacheTls=none there is no cache server and so no cache database.
    let keys: &[&str] = if p.get("cacheTls") == "none" {
        &["pipelineDb", "metadataDb"]
    } else {
        &["pipelineDb", "metadataDb", "cacheDb"]
    };
    let dbs: Vec<&str> = keys.iter().map(|k| p.get(k)).collect();
    for db in &dbs {
        if global {
            continue;
        }
        let named = grants.iter().any(|g| {
            let u = g.to_uppercase();
            (u.contains(&format!("ON `{}`.*", db.to_uppercase()))
                || u.contains(&format!("ON {}.*", db.to_uppercase())))
                && (u.contains("ALL PRIVILEGES") || u.contains("CREATE"))
        });
        if !named {
            missing.push(db.to_string());
        }
    }
    if missing.is_empty() {
        r.pass(
            "mysql.databases",
            format!("user {} may create {}", user, and_list(&dbs)),
        );
    } else {
        r.fail(
            "mysql.databases",
            format!(
                "user {} may not create {}; GRANT ALL ON <db>.* TO the user, or create them first",
                user,
                missing.join(", ")
            ),
        );
    }

    // MySQL 8: ML Metadata's client needs mysql_native_password.
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if mariadb || major < 8 {
        r.skip(
            "mysql.auth-plugin",
            if mariadb {
                "MariaDB uses mysql_native_password"
            } else {
                "MySQL before 8 uses mysql_native_password"
            },
        );
    } else {
        let q = "SELECT plugin FROM mysql.user WHERE CONCAT(user, '@', host) = CURRENT_USER()";
        match within(o.timeout, conn.query_first::<String, _>(q)).await {
            Some(Ok(Some(plugin))) if plugin == "mysql_native_password" => r.pass("mysql.auth-plugin", format!("user {} uses mysql_native_password", user)),
            Some(Ok(Some(plugin))) => r.fail(
                "mysql.auth-plugin",
                format!(
                    "user {} uses {}; ML Metadata needs mysql_native_password (ALTER USER ... IDENTIFIED WITH mysql_native_password BY ...)",
                    user, plugin
                ),
            ),
            _ => r.skip("mysql.auth-plugin", format!("cannot read the auth plugin of {} (no access to mysql.user)", user)),
        }
    }
    let _ = conn.disconnect().await;
}

fn short_error(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Io(_) => "connection error".into(),
        mysql_async::Error::Driver(d) => d.to_string(),
        mysql_async::Error::Server(s) => format!("server error {}", s.code),
        _ => "unexpected error".into(),
    }
}

fn skip_rest(r: &mut Report) {
    r.skip("mysql.login", "needs a reachable server");
    skip_after_login(r);
}

fn skip_after_login(r: &mut Report) {
    r.skip("mysql.version", "needs a login");
    r.skip("mysql.databases", "needs a login");
    r.skip("mysql.auth-plugin", "needs a login");
}

/// `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {}", rest.join(", "), last),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}
