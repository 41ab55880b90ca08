//! Hostile input, table-driven: files outside the root, secrets near errors,
//! servers that never answer, alias bombs, FIFOs, broken and huge values.
//!
//! Every case runs the binary and checks its exit status, that stdout is
//! empty (or holds only the report the command prints), that stderr names
//! the file or field, that the secret marker never appears, that the peak
//! memory stays small, and that it ends: the time bound is a generous hang
//! guard for a loaded machine, never a performance assertion.
//!
//! Test peers are plain listeners on 127.0.0.1 started here.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What no output may ever contain: every secret in these inputs is this.
const SECRET: &str = "SECRETMARK";
/// A process that runs this long is hung.
const HANG_GUARD: Duration = Duration::from_secs(60);
/// Peak resident memory any case may use.
const MAX_RSS_KB: i64 = 400 * 1024;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "kfp-aws-hostile-{}-{}-{}",
        std::process::id(),
        name,
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(p: &Path, text: &str) {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

fn symlink(target: &str, link: &Path) {
    if let Some(d) = link.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn fifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo only reads the path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    max_rss_kb: i64,
}

/// Run kfp-aws with a clean environment (no kubeconfig of the machine),
/// under an address-space cap, and kill it if it outlives the hang guard.
fn kfp(args: &[String], envs: &[(String, String)], home: &Path) -> Out {
    let dir = scratch("out");
    let (o, e) = (dir.join("stdout"), dir.join("stderr"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kfp-aws"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    // Reaped below with wait4, which also gives the peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("run kfp-aws");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child only.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if start.elapsed() > HANG_GUARD {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            panic!("kfp-aws {:?} did not end within {:?}", args, HANG_GUARD);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    let out = Out {
        code,
        stdout: std::fs::read_to_string(&o).unwrap_or_default(),
        stderr: std::fs::read_to_string(&e).unwrap_or_default(),
        elapsed: start.elapsed(),
        max_rss_kb: usage.ru_maxrss,
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// One hostile input and what must come of it.
struct Case {
    name: &'static str,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    code: i32,
    /// Substrings the error must contain (case-insensitive).
    says: Vec<String>,
    /// Whether stdout may carry a report (validate, check's diff).
    report: bool,
}

fn case(name: &'static str, args: &[&str], code: i32, says: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        envs: Vec::new(),
        code,
        says: says.iter().map(|s| s.to_string()).collect(),
        report: false,
    }
}

impl Case {
    fn env(mut self, k: &str, v: &str) -> Case {
        self.envs.push((k.to_string(), v.to_string()));
        self
    }
    fn report(mut self) -> Case {
        self.report = true;
        self
    }
}

fn run_table(cases: Vec<Case>, home: &Path) {
    let mut failures = Vec::new();
    for c in &cases {
        let out = kfp(&c.args, &c.envs, home);
        let mut problems = Vec::new();
        if out.code != Some(c.code) {
            problems.push(format!("exit {:?}, want {}", out.code, c.code));
        }
        if !c.report && !out.stdout.is_empty() {
            problems.push(format!("stdout is not empty: {:.200}", out.stdout));
        }
        let err = out.stderr.trim_end();
        let err_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        if err_lines.len() != 1 && !c.report {
            problems.push(format!("want one error line, got {:?}", err));
        }
        if err.lines().count() > 1 && !c.report {
            problems.push(format!("stderr is not one line: {:?}", err));
        }
        let haystack = if c.report {
            format!("{}{}", out.stdout, out.stderr)
        } else {
            out.stderr.clone()
        }
        .to_lowercase();
        for want in &c.says {
            if !haystack.contains(&want.to_lowercase()) {
                problems.push(format!("does not mention {:?}", want));
            }
        }
        if out.stdout.contains(SECRET) || out.stderr.contains(SECRET) {
            problems.push("a secret appears in the output".to_string());
        }
        if err.len() > 2000 {
            problems.push(format!("error is {} bytes long", err.len()));
        }
        if out.max_rss_kb > MAX_RSS_KB {
            problems.push(format!("peak memory {} MB", out.max_rss_kb / 1024));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} (stderr: {:.400}; {:?})",
                c.name,
                problems.join("; "),
                err,
                out.elapsed
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

const SECRET_CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  token: SECRETMARK\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  a: b\n";

/// A kustomization that reads `what` through `field`.
fn kust(root: &Path, body: &str) {
    write(&root.join("kustomization.yaml"), body);
}

/// A chain of anchors, each ten aliases of the one before: 10^depth nodes.
fn alias_bomb(prefix: &str, depth: usize) -> String {
    let mut t = format!("{}  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n", prefix);
    for i in 1..=depth {
        let p = format!("*a{}", i - 1);
        t.push_str(&format!(
            "  a{i}: &a{i} [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]\n",
            i = i,
            p = p
        ));
    }
    t
}

#[test]
fn build_refuses_files_outside_the_root_and_never_hangs() {
    let base = scratch("build");
    let outside = base.join("outside");
    write(&outside.join("s.yaml"), SECRET_CM);
    write(&outside.join("env.txt"), "token=SECRETMARK\n");
    write(
        &outside.join("patch.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  token: SECRETMARK\n",
    );
    write(
        &outside.join("config.yaml"),
        "namePrefix:\n- path: metadata/name\n  kind: SECRETMARK\n",
    );
    write(
        &outside.join("kustomization.yaml"),
        "resources:\n- s.yaml\n",
    );
    let mut cases = Vec::new();
    let dir = |name: &str| {
        let d = base.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };

    // A resource that is a symlink to a file outside.
    let d = dir("resource-link");
    symlink("../outside/s.yaml", &d.join("link.yaml"));
    kust(&d, "resources:\n- link.yaml\n");
    cases.push(case(
        "resource symlink",
        &["build", &s(&d)],
        1,
        &["security", "'link.yaml'", "not in or below"],
    ));

    // A directory on the way that is a symlink to outside.
    let d = dir("dir-link");
    symlink("../outside", &d.join("sdir"));
    kust(&d, "resources:\n- sdir/s.yaml\n");
    cases.push(case(
        "directory on the way",
        &["build", &s(&d)],
        1,
        &["security", "sdir/s.yaml"],
    ));

    // A patch file.
    let d = dir("patch-link");
    write(&d.join("cm.yaml"), CM);
    symlink("../outside/patch.yaml", &d.join("p.yaml"));
    kust(&d, "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n");
    cases.push(case(
        "patch symlink",
        &["build", &s(&d)],
        1,
        &["security", "p.yaml", "patches"],
    ));

    // Generator files and envs.
    let d = dir("generator-files");
    symlink("../outside/env.txt", &d.join("f.txt"));
    kust(&d, "configMapGenerator:\n- name: g\n  files:\n  - f.txt\n");
    cases.push(case(
        "generator files",
        &["build", &s(&d)],
        1,
        &["security", "f.txt", "configMapGenerator"],
    ));
    let d = dir("generator-envs");
    symlink("../outside/env.txt", &d.join("e.env"));
    kust(&d, "secretGenerator:\n- name: g\n  envs:\n  - e.env\n");
    cases.push(case(
        "generator envs",
        &["build", &s(&d)],
        1,
        &["security", "e.env", "secretGenerator"],
    ));

    // configurations and crds.
    let d = dir("configurations");
    write(&d.join("cm.yaml"), CM);
    symlink("../outside/config.yaml", &d.join("c.yaml"));
    kust(&d, "resources:\n- cm.yaml\nconfigurations:\n- c.yaml\n");
    cases.push(case(
        "configurations",
        &["build", &s(&d)],
        1,
        &["security", "c.yaml", "configurations"],
    ));

    // A replacement's source file.
    let d = dir("replacement-source");
    write(&d.join("cm.yaml"), CM);
    symlink("../outside/config.yaml", &d.join("r.yaml"));
    kust(&d, "resources:\n- cm.yaml\nreplacements:\n- path: r.yaml\n");
    cases.push(case(
        "replacement source",
        &["build", &s(&d)],
        1,
        &["security", "r.yaml", "replacements"],
    ));

    // The kustomization file itself.
    let d = dir("kustomization-link");
    symlink(
        "../outside/kustomization.yaml",
        &d.join("kustomization.yaml"),
    );
    cases.push(case(
        "kustomization symlink",
        &["build", &s(&d)],
        1,
        &["security", "kustomization.yaml"],
    ));

    // A component directory elsewhere may be used, but not read outside itself.
    let d = dir("component");
    write(&d.join("cm.yaml"), CM);
    write(
        &base.join("comp/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- ../outside/s.yaml\n",
    );
    symlink("../comp", &d.join("c"));
    kust(&d, "resources:\n- cm.yaml\ncomponents:\n- c\n");
    cases.push(case(
        "component reading outside",
        &["build", &s(&d)],
        1,
        &["security", "../outside/s.yaml"],
    ));

    // Symlink loops: two links, and a directory that contains itself.
    let d = dir("loop");
    symlink("b", &d.join("a"));
    symlink("a", &d.join("b"));
    kust(&d, "resources:\n- a\n");
    cases.push(case(
        "symlink loop",
        &["build", &s(&d)],
        1,
        &["'a'", "symlink loop"],
    ));
    let d = dir("loop-patch");
    write(&d.join("cm.yaml"), CM);
    symlink("q", &d.join("p"));
    symlink("p", &d.join("q"));
    kust(&d, "resources:\n- cm.yaml\npatches:\n- path: p\n");
    cases.push(case(
        "symlink loop patch",
        &["build", &s(&d)],
        1,
        &["'p'", "symlink loop"],
    ));
    let d = dir("self");
    symlink(".", &d.join("self"));
    kust(&d, "resources:\n- self\n");
    cases.push(case(
        "directory loop",
        &["build", &s(&d)],
        1,
        &["self", "cycle"],
    ));
    let d = dir("top-loop");
    symlink("x", &d.join("y"));
    symlink("y", &d.join("x"));
    cases.push(case(
        "build a loop",
        &["build", &s(&d.join("x"))],
        1,
        &["symlink loop"],
    ));

    // A file where a directory is expected.
    let d = dir("file");
    write(&d.join("kustomization.yaml"), "resources: []\n");
    cases.push(case(
        "build FILE",
        &["build", &s(&d.join("kustomization.yaml"))],
        1,
        &["kustomization.yaml", "expected a directory"],
    ));
    cases.push(case(
        "build missing",
        &["build", &s(&d.join("nothere"))],
        1,
        &["nothere", "no such file or directory"],
    ));

    // FIFOs are never opened for reading.
    let d = dir("fifo-resource");
    fifo(&d.join("r.yaml"));
    kust(&d, "resources:\n- r.yaml\n");
    cases.push(case(
        "FIFO resource",
        &["build", &s(&d)],
        1,
        &["r.yaml", "not a regular file"],
    ));
    let d = dir("fifo-generator");
    fifo(&d.join("f.txt"));
    kust(&d, "configMapGenerator:\n- name: g\n  files:\n  - f.txt\n");
    cases.push(case(
        "FIFO generator file",
        &["build", &s(&d)],
        1,
        &["f.txt", "not a regular file"],
    ));
    let d = dir("fifo-patch");
    write(&d.join("cm.yaml"), CM);
    fifo(&d.join("p.yaml"));
    kust(
        &d,
        "resources:\n- cm.yaml\npatchesStrategicMerge:\n- p.yaml\n",
    );
    cases.push(case(
        "FIFO patch",
        &["build", &s(&d)],
        1,
        &["p.yaml", "not a regular file"],
    ));
    let d = dir("fifo-kustomization");
    fifo(&d.join("kustomization.yaml"));
    cases.push(case(
        "FIFO kustomization",
        &["build", &s(&d)],
        1,
        &["kustomization.yaml", "not a regular file"],
    ));
    let d = dir("loop-kustomization");
    symlink("kustomization.yaml", &d.join("kustomization.yaml"));
    cases.push(case(
        "kustomization loop",
        &["build", &s(&d)],
        1,
        &["kustomization.yaml", "symlink loop"],
    ));

    // Alias bombs in each kind of file the engine reads.
    let d = dir("bomb-kustomization");
    kust(
        &d,
        &alias_bomb(
            "resources: []\ncommonAnnotations:\n  x: y\nlabels:\n- pairs:\n    a: b\nx-bomb:\n",
            9,
        ),
    );
    cases.push(case(
        "alias bomb kustomization",
        &["build", &s(&d)],
        1,
        &["kustomization.yaml", "excessive aliasing"],
    ));
    let d = dir("bomb-resource");
    write(
        &d.join("r.yaml"),
        &alias_bomb(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\nbomb:\n",
            9,
        ),
    );
    kust(&d, "resources:\n- r.yaml\n");
    cases.push(case(
        "alias bomb resource",
        &["build", &s(&d)],
        1,
        &["r.yaml", "excessive aliasing"],
    ));
    let d = dir("bomb-patch");
    write(&d.join("cm.yaml"), CM);
    write(
        &d.join("p.yaml"),
        &alias_bomb(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n",
            9,
        ),
    );
    kust(&d, "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n");
    cases.push(case(
        "alias bomb patch",
        &["build", &s(&d)],
        1,
        &["p.yaml", "excessive aliasing"],
    ));
    let d = dir("bomb-flat");
    let mut flat =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\ndata:\n  big: &big [");
    flat.push_str(&vec!["x"; 2000].join(", "));
    flat.push_str("]\nitems:\n");
    for _ in 0..3000 {
        flat.push_str("- *big\n");
    }
    write(&d.join("r.yaml"), &flat);
    kust(&d, "resources:\n- r.yaml\n");
    cases.push(case(
        "wide alias bomb",
        &["build", &s(&d)],
        1,
        &["r.yaml", "excessive aliasing"],
    ));

    let home = scratch("home");
    run_table(cases, &home);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn symlinks_inside_the_root_keep_working() {
    let d = scratch("inside");
    write(&d.join("real/cm.yaml"), CM);
    symlink("real/cm.yaml", &d.join("link.yaml"));
    symlink("real", &d.join("rdir"));
    write(&d.join("k.yaml"), "resources:\n- link.yaml\n");
    symlink("k.yaml", &d.join("kustomization.yaml"));
    let out = kfp(&["build".to_string(), s(&d)], &[], &d);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("name: ok"), "{}", out.stdout);
    // Through a symlinked directory inside the root, and a root reached by a link.
    write(&d.join("k.yaml"), "resources:\n- rdir/cm.yaml\n");
    let link = scratch("root-link").join("to-root");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    let out = kfp(&["build".to_string(), s(&link)], &[], &d);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("name: ok"), "{}", out.stdout);
    // Aliases in moderation are fine.
    write(
        &d.join("real/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  labels: &l {a: b}\n  annotations: *l\n",
    );
    let out = kfp(&["build".to_string(), s(&d)], &[], &d);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// Accepts connections and never says a word.
fn silent_server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        let start = Instant::now();
        // Long enough for every case; the test process ends it anyway.
        while start.elapsed() < Duration::from_secs(600) {
            match l.accept() {
                Ok((c, _)) => held.push(c),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            if held.len() > 1000 {
                held.clear();
            }
        }
    });
    (port, h)
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\nusers:\n- name: u\n  user:\n    token: SECRETMARK\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
        server
    )
}

fn with_params(cmd: &str, extra: &[String]) -> Vec<String> {
    let mut v = vec![
        cmd.to_string(),
        "--overlay".to_string(),
        "iam".to_string(),
        "--params".to_string(),
        s(&repo().join("params/params.env")),
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn cluster_commands_name_the_server_and_never_quote_a_kubeconfig() {
    let d = scratch("kube");
    let (silent, _h) = silent_server();
    let closed = closed_port();
    let k_http = d.join("silent-http");
    write(
        &k_http,
        &kubeconfig(&format!("http://127.0.0.1:{}", silent)),
    );
    let k_https = d.join("silent-https");
    write(
        &k_https,
        &kubeconfig(&format!("https://127.0.0.1:{}", silent)),
    );
    let k_closed = d.join("closed");
    write(
        &k_closed,
        &kubeconfig(&format!("https://127.0.0.1:{}", closed)),
    );
    let broken = d.join("broken");
    write(
        &broken,
        "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: SECRETMARK\n    client-key-data: SECRETMARK\n  password: [SECRETMARK\n",
    );
    let typed = d.join("typed");
    write(&typed, "apiVersion: v1\nusers: \"SECRETMARK\"\n");
    let tabbed = d.join("tabbed");
    write(&tabbed, "users:\n- name: u\n  user:\n\ttoken: SECRETMARK\n");
    let empty = d.join("empty");
    write(&empty, "");
    let comments = d.join("comments");
    write(&comments, "# nothing here\n");
    let bomb = d.join("bomb");
    write(&bomb, &alias_bomb("apiVersion: v1\nx:\n", 8));
    let fifo_k = d.join("fifo");
    fifo(&fifo_k);
    let no_ctx = d.join("no-context");
    write(
        &no_ctx,
        &kubeconfig("https://127.0.0.1:1").replace("current-context: x\n", ""),
    );
    let bad_url = d.join("bad-url");
    write(&bad_url, &kubeconfig("https://exa mple:SECRETMARK"));
    let b64 = d.join("bad-base64");
    write(
        &b64,
        &kubeconfig("https://127.0.0.1:1").replace(
            "token: SECRETMARK",
            "client-key-data: SECRETMARK!!\n    client-certificate-data: SECRETMARK!!",
        ),
    );
    let http = format!("http://127.0.0.1:{}", silent);
    let https = format!("https://127.0.0.1:{}", silent);
    let closed_url = format!("https://127.0.0.1:{}", closed);
    let kc = |p: &Path| vec!["--kubeconfig".to_string(), s(p)];
    let fast = |p: &Path| {
        vec![
            "--kubeconfig".to_string(),
            s(p),
            "--request-timeout".to_string(),
            "1s".to_string(),
        ]
    };
    let mut cases = Vec::new();
    for (cmd, code) in [("apply", 1), ("diff", 2), ("delete", 1)] {
        let c = |name, extra: Vec<String>, says: &[&str]| Case {
            name,
            args: with_params(cmd, &extra),
            envs: Vec::new(),
            code,
            says: says.iter().map(|s| s.to_string()).collect(),
            report: false,
        };
        cases.push(c(
            "silent http",
            fast(&k_http),
            &["did not answer in time", &http, "--request-timeout"],
        ));
        cases.push(c(
            "silent https",
            fast(&k_https),
            &["did not answer in time", &https],
        ));
        cases.push(c(
            "refused",
            kc(&k_closed),
            &[
                "cannot reach the API server",
                &closed_url,
                "connection refused",
            ],
        ));
        cases.push(c("broken yaml", kc(&broken), &["broken", "line"]));
        cases.push(c("wrong type", kc(&typed), &["typed", "line 2"]));
        cases.push(c("tab indent", kc(&tabbed), &["tabbed", "line"]));
        cases.push(c(
            "empty",
            kc(&empty),
            &["empty", "the kubeconfig is empty"],
        ));
        cases.push(c("only comments", kc(&comments), &["comments", "empty"]));
        cases.push(c("alias bomb", kc(&bomb), &["bomb"]));
        cases.push(c("FIFO", kc(&fifo_k), &["fifo", "not a regular file"]));
        cases.push(c("directory", kc(&d), &["is a directory"]));
        cases.push(c(
            "missing",
            kc(&d.join("nothere")),
            &["nothere", "no such file"],
        ));
        cases.push(c(
            "no context",
            kc(&no_ctx),
            &["no-context", "current context"],
        ));
        cases.push(c(
            "unknown context",
            [kc(&k_http), vec!["--context".into(), "nope".into()]].concat(),
            &["'nope'", "not defined"],
        ));
        cases.push(c("bad server url", kc(&bad_url), &["bad-url", "server"]));
        cases.push(c("bad base64", kc(&b64), &["bad-base64", "base64"]));
        // The same through $KUBECONFIG.
        cases.push(c("env broken", vec![], &["broken", "line"]).env("KUBECONFIG", &s(&broken)));
        cases.push(c("env empty", vec![], &["empty"]).env("KUBECONFIG", &s(&empty)));
        cases.push(
            c("env missing", vec![], &["nothere", "does not exist"])
                .env("KUBECONFIG", &s(&d.join("nothere"))),
        );
        cases.push(
            c("env list with a broken file", vec![], &["broken", "line"]).env(
                "KUBECONFIG",
                &format!("{}:{}", s(&d.join("nothere")), s(&broken)),
            ),
        );
        cases.push(
            c(
                "env silent",
                vec!["--request-timeout".into(), "500ms".into()],
                &["did not answer in time", &http],
            )
            .env("KUBECONFIG", &s(&k_http)),
        );
        cases.push(c("nothing configured", vec![], &["no cluster configured"]));
    }
    // The default limit ends a silent server too (once: it takes its 20 s).
    cases.push(case(
        "default timeout",
        &with_params("diff", &kc(&k_http))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        2,
        &["did not answer in time", &http],
    ));
    // So does `pipelines` (through the service proxy, or --api-url).
    let folder = s(&repo().join("examples/pipelines/team-a"));
    let plan = |extra: &[&str]| {
        let mut v = vec!["pipelines", "plan", folder.as_str()];
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let pc = |name, args: Vec<String>, says: &[&str]| Case {
        name,
        args,
        envs: Vec::new(),
        code: 1,
        says: says.iter().map(|s| s.to_string()).collect(),
        report: false,
    };
    cases.push(pc(
        "pipelines silent api-url",
        plan(&["--api-url", &http, "--request-timeout", "1s"]),
        &["no answer in time", "within 1s", &http],
    ));
    cases.push(pc(
        "pipelines silent proxy",
        plan(&["--kubeconfig", &s(&k_http), "--request-timeout", "1s"]),
        &["no answer in time", &http],
    ));
    cases.push(pc(
        "pipelines refused",
        plan(&["--kubeconfig", &s(&k_closed)]),
        &["connection refused", &closed_url],
    ));
    cases.push(pc(
        "pipelines broken kubeconfig",
        plan(&["--kubeconfig", &s(&broken)]),
        &["broken", "line"],
    ));
    cases.push(
        pc("pipelines empty kubeconfig", plan(&[]), &["empty"]).env("KUBECONFIG", &s(&empty)),
    );
    // crds --apply talks to the cluster as well.
    cases.push(case(
        "crds --apply",
        &[
            "crds",
            "--apply",
            "--kubeconfig",
            &s(&k_https),
            "--request-timeout",
            "1s",
        ],
        1,
        &["did not answer in time", &https],
    ));
    run_table(cases, &d);
}

#[test]
fn request_timeout_is_checked_like_kubectl() {
    let d = scratch("rt");
    for bad in ["5x", "-1s", "soon", "", "1e400s"] {
        let out = kfp(
            &with_params("diff", &[format!("--request-timeout={}", bad)]),
            &[],
            &d,
        );
        assert_eq!(out.code, Some(2), "{}: {}", bad, out.stderr);
        assert!(out.stderr.contains("--request-timeout"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    let help = kfp(&["apply".to_string(), "--help".to_string()], &[], &d);
    assert!(help.stdout.contains("--request-timeout"), "{}", help.stdout);
    assert!(help.stdout.contains("--crd-timeout"));
    assert!(!help.stdout.contains("the embedded example is used"));
}

#[test]
fn params_and_secrets_files_are_read_with_care() {
    let d = scratch("params");
    let good = std::fs::read_to_string(repo().join("params/params.env")).unwrap();
    let twice = d.join("twice.env");
    write(&twice, &format!("{}s3Bucket=other-bucket\n", good));
    let sec_twice = d.join("secrets-twice.env");
    write(
        &sec_twice,
        "awsAccessKeyId=SECRETMARK\nawsSecretAccessKey=SECRETMARK\nawsAccessKeyId=SECRETMARK\n",
    );
    let latin1 = d.join("latin1.env");
    std::fs::write(
        &latin1,
        [b"namespace=kubeflow\n".as_slice(), b"s3Bucket=caf\xe9\n"].concat(),
    )
    .unwrap();
    let sec_latin1 = d.join("secrets-latin1.env");
    std::fs::write(&sec_latin1, b"awsAccessKeyId=SECRETMARK\xe9\n").unwrap();
    let fifo_p = d.join("fifo.env");
    fifo(&fifo_p);
    let huge = d.join("huge.env");
    let huge_text: String = good
        .lines()
        .map(|l| {
            if l.starts_with("s3Bucket=") {
                format!("s3Bucket={}\n", "a".repeat(5 << 20))
            } else {
                format!("{}\n", l)
            }
        })
        .collect();
    write(&huge, &huge_text);
    let check_dir = d.join("gitops");
    std::fs::create_dir_all(&check_dir).unwrap();
    write(
        &check_dir.join("params.env"),
        &format!("{}overlay=iam\n", good),
    );
    fifo(&check_dir.join("install.yaml"));
    let check_dir2 = d.join("gitops-params-fifo");
    std::fs::create_dir_all(&check_dir2).unwrap();
    fifo(&check_dir2.join("params.env"));
    let ex = s(&repo().join("params/params.env"));

    let twice_line = good.lines().count() + 1;
    let twice_first = good
        .lines()
        .position(|l| l.starts_with("s3Bucket="))
        .unwrap()
        + 1;
    let twice_says = [
        format!("twice.env:{}", twice_line),
        format!("line {}", twice_first),
        "s3Bucket".to_string(),
    ];
    let mut cases = vec![
        case(
            "key twice",
            &["render", "--overlay", "iam", "--params", &s(&twice)],
            1,
            &twice_says.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
        case(
            "secret key twice",
            &[
                "render",
                "--overlay",
                "accesskey",
                "--params",
                &ex,
                "--secrets",
                &s(&sec_twice),
            ],
            1,
            &["secrets-twice.env:3", "awsAccessKeyId", "line 1"],
        ),
        case(
            "not UTF-8",
            &["render", "--overlay", "iam", "--params", &s(&latin1)],
            1,
            &["latin1.env", "not UTF-8", "line 2"],
        ),
        case(
            "secrets not UTF-8",
            &[
                "render",
                "--overlay",
                "accesskey",
                "--params",
                &ex,
                "--secrets",
                &s(&sec_latin1),
            ],
            1,
            &["secrets-latin1.env", "not UTF-8", "line 1"],
        ),
        case(
            "params FIFO",
            &["render", "--overlay", "iam", "--params", &s(&fifo_p)],
            1,
            &["fifo.env", "not a regular file"],
        ),
        case(
            "secrets FIFO",
            &[
                "render",
                "--overlay",
                "accesskey",
                "--params",
                &ex,
                "--secrets",
                &s(&fifo_p),
            ],
            1,
            &["fifo.env", "not a regular file"],
        ),
        case(
            "params directory",
            &["render", "--overlay", "iam", "--params", &s(&d)],
            1,
            &["is a directory"],
        ),
        case(
            "params missing",
            &[
                "render",
                "--overlay",
                "iam",
                "--params",
                &s(&d.join("nothere.env")),
            ],
            1,
            &["nothere.env", "no such file or directory"],
        ),
        case(
            "huge value",
            &["render", "--overlay", "iam", "--params", &s(&huge)],
            1,
            &["s3Bucket", "bytes)"],
        ),
        case(
            "huge --set",
            &[
                "render",
                "--overlay",
                "iam",
                "--set",
                &format!("s3Bucket={}", "b".repeat(100_000)),
            ],
            1,
            &["s3Bucket", "bytes)"],
        ),
        case(
            "check with install.yaml a FIFO",
            &["check", &s(&check_dir)],
            1,
            &["install.yaml", "not a regular file"],
        ),
        case(
            "check with params.env a FIFO",
            &["check", &s(&check_dir2)],
            1,
            &["params.env", "not a regular file"],
        ),
        case(
            "bad AWS_ENDPOINT_URL",
            &[
                "validate",
                "--overlay",
                "iam",
                "--params",
                &ex,
                "--checks",
                "s3",
                "--timeout",
                "2",
            ],
            1,
            &["AWS_ENDPOINT_URL", "not a valid endpoint URL"],
        )
        .env("AWS_ENDPOINT_URL", "not a url")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .report(),
        case(
            "bad AWS_ENDPOINT_URL_S3",
            &[
                "validate",
                "--overlay",
                "iam",
                "--params",
                &ex,
                "--checks",
                "s3",
                "--timeout",
                "2",
            ],
            1,
            &["AWS_ENDPOINT_URL_S3"],
        )
        .env("AWS_ENDPOINT_URL_S3", "ftp//x")
        .report(),
        case(
            "validate without --params",
            &["validate", "--overlay", "iam"],
            2,
            &["--params"],
        ),
    ];
    // Without --params a bad value is the only line.
    cases.push(case(
        "example params, bad --set",
        &["render", "--overlay", "iam", "--set", "s3Bucket=Bad_Bucket"],
        1,
        &["s3Bucket"],
    ));
    run_table(cases, &d);

    // A byte order mark is ignored.
    let bom = d.join("bom.env");
    write(&bom, &format!("\u{feff}{}", good));
    let out = kfp(
        &[
            "render".into(),
            "--overlay".into(),
            "iam".into(),
            "--params".into(),
            s(&bom),
        ],
        &[],
        &d,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.is_empty());
    // Later files and --set still override earlier ones.
    let other = d.join("other.env");
    write(&other, "namespace=second-ns\n");
    let out = kfp(
        &[
            "render",
            "--overlay",
            "iam",
            "--params",
            &ex,
            "--params",
            &s(&other),
            "--set",
            "namespace=third-ns",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
        &[],
        &d,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("namespace: third-ns"));
    assert!(!out.stdout.contains("second-ns"));
}

#[test]
fn embedded_tree_and_from_dir_go_through_the_same_loader() {
    let d = scratch("from");
    // A copy of the tree whose params/params.env is a symlink to a file outside.
    let tree = d.join("tree");
    for sub in ["base", "crds", "overlays", "params", "components"] {
        copy_tree(&repo().join(sub), &tree.join(sub));
    }
    write(&d.join("outside/leak.yaml"), SECRET_CM);
    let base_k = tree.join("base/kustomization.yaml");
    let text = std::fs::read_to_string(&base_k).unwrap();
    write(
        &base_k,
        &text.replacen("resources:\n", "resources:\n- leak.yaml\n", 1),
    );
    symlink("../../outside/leak.yaml", &tree.join("base/leak.yaml"));
    let ex = s(&repo().join("params/params.env"));
    let out = kfp(
        &[
            "render",
            "--overlay",
            "iam",
            "--params",
            &ex,
            "--from",
            &s(&tree),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
        &[],
        &d,
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("security"), "{}", out.stderr);
    assert!(!out.stderr.contains(SECRET));
    // Reached through a symlinked --from, an untouched copy renders.
    std::fs::remove_file(tree.join("base/leak.yaml")).unwrap();
    write(&base_k, &text);
    let link = d.join("tree-link");
    std::os::unix::fs::symlink(&tree, &link).unwrap();
    let out = kfp(
        &[
            "render",
            "--overlay",
            "iam",
            "--params",
            &ex,
            "--from",
            &s(&link),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
        &[],
        &d,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let embedded = kfp(
        &["render", "--overlay", "iam", "--params", &ex]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        &[],
        &d,
    );
    assert_eq!(out.stdout, embedded.stdout);
    let _ = std::io::stderr().flush();
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}
