//! Embeds the manifest tree (base, crds, overlays, params, components) in the
//! binary, so `kfp-aws render` works from any directory. A local
//! `params/secrets.env` is never embedded.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const ROOTS: [&str; 5] = ["base", "crds", "overlays", "params", "components"];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "secrets.env" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    link_without_pie();
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut files = Vec::new();
    for r in ROOTS {
        println!("cargo:rerun-if-changed={}", r);
        walk(&root.join(r), &mut files);
    }
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded.rs");
    let mut code = String::from("/// The embedded manifest tree: (path relative to the repository, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({:?}, include_bytes!({:?})),\n",
            rel,
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let mut fh = fs::File::create(out).expect("write embedded.rs");
    fh.write_all(code.as_bytes()).expect("write embedded.rs");
}

/// The executable carries some 50,000 pointers in static tables (mostly the
/// AWS and Kubernetes clients' metadata). Linked position-independent, the
/// loader rewrites each one at every start, touching some 200 pages before
/// `main` runs; linked at a fixed address they are resolved at link time.
/// Libraries and tests stay position-independent.
fn link_without_pie() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
