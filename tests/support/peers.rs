//! Test peers for `kfp-aws validate`: moto (S3, IAM and STS on one port) and
//! MariaDB. Each peer listens on 127.0.0.1 only, on a free port, and is
//! stopped when its value is dropped.
//!
//! Where they come from: `scripts/test` installs moto into a virtualenv and
//! exports `KFP_AWS_PYTHON` (that virtualenv's python, which also has boto3
//! for setting up the scenarios); MariaDB comes from the `mariadb-server`
//! package (`mariadb-install-db`, `mariadbd`, `mariadb` on the PATH).

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (the listener is closed again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{} exited ({}) before listening: {}",
                what,
                status,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} did not listen on 127.0.0.1:{} within 60s", what, port);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kfp-aws-{}-{}-{}",
        name,
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// The python that has moto and boto3, if the test command provided one.
pub fn python() -> Option<PathBuf> {
    std::env::var_os("KFP_AWS_PYTHON").map(PathBuf::from)
}

pub struct Moto {
    child: Child,
    pub url: String,
    dir: PathBuf,
}

impl Moto {
    /// Start moto. It accepts every request until [`Moto::enforce_iam`].
    pub fn start(python: &Path) -> Moto {
        let port = free_port();
        let dir = scratch("moto");
        let log = dir.join("moto.log");
        let mut child = Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            // A large count keeps IAM open for the set-up; enforce_iam closes it.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000000")
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start moto");
        wait_for_port(port, &mut child, "moto", &log);
        Moto {
            child,
            url: format!("http://127.0.0.1:{}", port),
            dir,
        }
    }

    /// From now on every request must be signed by an IAM identity of moto
    /// that is allowed to make it.
    pub fn enforce_iam(&self) {
        self.setup("import urllib.request\nurllib.request.urlopen(urllib.request.Request(URL + '/moto-api/reset-auth', data=b'0', headers={'Content-Type': 'text/plain'}, method='POST')).read()");
    }

    /// Run boto3 code against this moto. The prelude defines `URL`, `s3(region)`,
    /// `iam()` and `json`; whatever the code prints is returned.
    pub fn setup(&self, code: &str) -> String {
        let prelude = format!(
            "import json, boto3\nURL = {url:?}\n\
             def _kw(region='us-east-1'):\n    return dict(endpoint_url=URL, region_name=region, aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             def s3(region='us-east-1'):\n    from botocore.config import Config\n    return boto3.client('s3', config=Config(s3={{'addressing_style': 'path'}}), **_kw(region))\n\
             def iam():\n    return boto3.client('iam', **_kw())\n",
            url = self.url
        );
        let script = self.dir.join("setup.py");
        std::fs::write(&script, format!("{}{}\n", prelude, code)).expect("write setup");
        let out = Command::new(python().expect("KFP_AWS_PYTHON"))
            .arg(&script)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "set-up failed:\n{}\n{}",
            code,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct MariaDb {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

/// Whether the MariaDB programs are installed.
pub fn mariadb_available() -> bool {
    ["mariadbd", "mariadb-install-db", "mariadb"]
        .iter()
        .all(|p| which(p).is_some())
}

fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

impl MariaDb {
    pub fn start() -> MariaDb {
        let dir = scratch("mariadb");
        let data = dir.join("data");
        let log = dir.join("error.log");
        let user = if is_root() {
            vec!["--user=root".to_string()]
        } else {
            vec![]
        };
        let out = Command::new(which("mariadb-install-db").expect("mariadb-install-db"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .args(&user)
            .output()
            .expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut child = Command::new(which("mariadbd").expect("mariadbd"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--port={}", port))
            .arg("--bind-address=127.0.0.1")
            .arg("--skip-name-resolve")
            .args(&user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        wait_for_port(port, &mut child, "mariadbd", &log);
        MariaDb { child, port, dir }
    }

    /// Run SQL as root over the server's socket.
    pub fn sql(&self, sql: &str) {
        let out = Command::new(which("mariadb").expect("mariadb"))
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .args(["-uroot", "-e", sql])
            .output()
            .expect("run mariadb");
        assert!(
            out.status.success(),
            "{}: {}",
            sql,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
