//! Differential tests of the kustomize engine.
//!
//! `tests/fixtures/build/<case>/` holds a kustomization tree and
//! `expected.yaml`, the exact output of `kubectl kustomize` (kustomize
//! v5.5.0) on it. `tests/fixtures/errors/<case>/` holds trees that kustomize
//! rejects, with `expect.txt`: substrings (file and key names) our one-line
//! error must contain. When kubectl is installed the expectations are also
//! checked live against it, so a stale fixture cannot pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use kfp_aws::kustomize::{self, fs::DiskFs, Format};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", root.display(), e))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn kubectl() -> Option<&'static str> {
    if std::env::var_os("KFP_AWS_NO_KUBECTL").is_some() {
        return None;
    }
    let ok = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some("kubectl")
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Cases listed in `tests/fixtures/known-differences.txt`.
fn known_differences() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/known-differences.txt");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn builds_match_kubectl_kustomize() {
    let cases = fixtures("build");
    assert!(
        cases.len() >= 80,
        "expected at least 80 build fixtures, found {}",
        cases.len()
    );
    let live = kubectl();
    let known = known_differences();
    let mut failures = Vec::new();
    let mut still_known = 0;
    for dir in &cases {
        let expected = std::fs::read_to_string(dir.join("expected.yaml")).unwrap_or_default();
        if known.contains(&name(dir)) {
            let got = kustomize::build(&DiskFs::new(), dir)
                .map(|items| kustomize::render(&items, Format::Yaml));
            if got.as_deref().ok() == Some(expected.as_str()) {
                failures.push(format!(
                    "{}: now matches kubectl; remove it from known-differences.txt",
                    name(dir)
                ));
            } else {
                still_known += 1;
            }
            continue;
        }
        if let Some(k) = live {
            let out = Command::new(k)
                .arg("kustomize")
                .arg(dir)
                .output()
                .expect("run kubectl");
            let live_out = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || live_out != expected {
                failures.push(format!("{}: stored expected.yaml differs from live kubectl output (run tests/fixtures/regen.sh)", name(dir)));
                continue;
            }
        }
        match kustomize::build(&DiskFs::new(), dir) {
            Ok(items) => {
                let got = kustomize::render(&items, Format::Yaml);
                if got != expected {
                    let exp_objs: Vec<serde_json::Value> =
                        serde_saphyr::from_multiple(&expected).unwrap_or_default();
                    let got_objs: Vec<serde_json::Value> =
                        serde_saphyr::from_multiple(&got).unwrap_or_default();
                    let what = if exp_objs == got_objs {
                        "same objects, different text"
                    } else {
                        "different objects"
                    };
                    failures.push(format!(
                        "{}: {}\n--- got\n{}\n--- expected\n{}",
                        name(dir),
                        what,
                        got,
                        expected
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: build failed: {}", name(dir), e)),
        }
    }
    println!(
        "{} build fixtures checked{}, {} known differences",
        cases.len(),
        if live.is_some() {
            " (live against kubectl)"
        } else {
            ""
        },
        still_known
    );
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn bad_input_gives_one_line_errors() {
    let cases = fixtures("errors");
    assert!(
        cases.len() >= 20,
        "expected at least 20 error fixtures, found {}",
        cases.len()
    );
    let live = kubectl();
    let mut failures = Vec::new();
    let known = known_differences();
    for dir in &cases {
        if known.contains(&name(dir)) {
            if kustomize::build(&DiskFs::new(), dir).is_err() {
                failures.push(format!(
                    "{}: now rejected like kubectl does; remove it from known-differences.txt",
                    name(dir)
                ));
            }
            continue;
        }
        if let Some(k) = live {
            let st = Command::new(k)
                .arg("kustomize")
                .arg(dir)
                .output()
                .expect("run kubectl");
            if st.status.success() {
                failures.push(format!(
                    "{}: kubectl kustomize accepts this input; it is not an error case",
                    name(dir)
                ));
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
            .arg("build")
            .arg(dir)
            .output()
            .expect("run kfp-aws");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut problems = Vec::new();
        if out.status.code() != Some(1) {
            problems.push(format!("exit code {:?}, want 1", out.status.code()));
        }
        if !out.stdout.is_empty() {
            problems.push("stdout is not empty".to_string());
        }
        if stderr.trim_end().lines().count() != 1 {
            problems.push(format!("stderr is not one line: {:?}", stderr));
        }
        let expect = std::fs::read_to_string(dir.join("expect.txt")).unwrap_or_default();
        for want in expect.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !stderr.to_lowercase().contains(&want.to_lowercase()) {
                problems.push(format!("error does not mention {:?}", want));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} (stderr: {})",
                name(dir),
                problems.join("; "),
                stderr.trim_end()
            ));
        }
    }
    println!("{} error fixtures checked", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} error fixtures fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Small deterministic generator for the mutation test.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

fn files_in(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files_in(&p, out);
        } else if p.file_name().map(|n| n != "expected.yaml").unwrap_or(false) {
            out.push(p);
        }
    }
}

/// Corrupted inputs (bytes flipped, lines dropped or duplicated, text cut)
/// must give an error or a result, never a panic.
#[test]
fn mutated_inputs_never_panic() {
    let mut rng = XorShift(0x9e3779b97f4a7c15);
    let scratch = std::env::temp_dir().join(format!("kfp-aws-mutate-{}", std::process::id()));
    let mut runs = 0;
    for dir in fixtures("build").iter().chain(fixtures("errors").iter()) {
        for round in 0..4 {
            let case = scratch.join(format!("{}-{}", name(dir), round));
            copy_tree(dir, &case);
            let mut files = Vec::new();
            files_in(&case, &mut files);
            if files.is_empty() {
                continue;
            }
            let f = &files[(rng.next() as usize) % files.len()];
            let mut bytes = std::fs::read(f).unwrap_or_default();
            if !bytes.is_empty() {
                match rng.next() % 4 {
                    0 => {
                        let i = (rng.next() as usize) % bytes.len();
                        let specials = b"-:[]{}\n \t'\"&*!|>%@#";
                        bytes[i] = specials[(rng.next() as usize) % specials.len()];
                    }
                    1 => bytes.truncate((rng.next() as usize) % bytes.len()),
                    2 => {
                        let i = (rng.next() as usize) % bytes.len();
                        let j = (i + 1 + (rng.next() as usize) % 40).min(bytes.len());
                        let chunk = bytes[i..j].to_vec();
                        bytes.splice(i..i, chunk);
                    }
                    _ => {
                        let i = (rng.next() as usize) % bytes.len();
                        bytes.drain(i..(i + 1 + (rng.next() as usize) % 30).min(bytes.len()));
                    }
                }
            }
            std::fs::write(f, &bytes).expect("write");
            let r = std::panic::catch_unwind(|| {
                kustomize::build(&DiskFs::new(), &case)
                    .map(|items| kustomize::render(&items, Format::Yaml))
            });
            assert!(r.is_ok(), "panic while building mutated {}", case.display());
            runs += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("{} mutated builds without a panic", runs);
}
