//! What the engine's steps share below `build.rs`: reading files under one
//! kustomization root (`RootLoader`) and decoding kustomize's own documents
//! the way Go's decoder does (`from_value_at`). `build.rs`, `steps.rs`,
//! `plugins.rs` and `fieldspec.rs` use it; it uses none of them.

use serde_json::Value;
use std::path::{Path, PathBuf};

use super::fs::{clean, display, io_reason, is_loop, utf8_text, FileSystem};
use super::generators::SourceLoader;

/// Files read relative to one kustomization root, which they may not leave.
pub struct RootLoader<'a> {
    fs: &'a dyn FileSystem,
    root: &'a Path,
    kfile: &'a str,
}

impl<'a> RootLoader<'a> {
    /// A loader for the kustomization file `kfile` in `root`.
    pub fn new(fs: &'a dyn FileSystem, root: &'a Path, kfile: &'a str) -> RootLoader<'a> {
        RootLoader { fs, root, kfile }
    }

    /// The real path of a file named relative to the root. The cleaned path
    /// and, once its symbolic links are resolved, the real one must both be
    /// in or below the root (kustomize's `RestrictionRootOnly`).
    fn resolve(&self, rel: &str) -> Result<PathBuf, String> {
        let p = clean(&self.root.join(rel));
        let outside = || {
            format!(
                "security; file '{}' is not in or below '{}' (files must live under the kustomization's directory)",
                rel,
                display(self.root)
            )
        };
        if !p.starts_with(self.root) {
            return Err(outside());
        }
        match self.fs.real_path(&p) {
            Ok(real) if real.starts_with(self.root) => Ok(real),
            Ok(_) => Err(outside()),
            Err(e) if is_loop(&e) => Err(format!("cannot read '{}': {}", rel, io_reason(&e))),
            // Missing: the read says so.
            Err(_) => Ok(p),
        }
    }

    pub fn read_string(&self, rel: &str) -> Result<String, String> {
        let bytes = self.load(rel)?;
        utf8_text(bytes).map_err(|e| format!("'{}': {}", rel, e))
    }
}

impl<'a> SourceLoader for RootLoader<'a> {
    fn load(&self, rel: &str) -> Result<Vec<u8>, String> {
        if rel.contains("://") {
            return Err(format!(
                "'{}': remote files are not supported; download it next to {}",
                rel, self.kfile
            ));
        }
        let p = self.resolve(rel)?;
        if self.fs.is_dir(&p) {
            return Err(format!("'{}' is a directory, expected a file", rel));
        }
        self.fs
            .read(&p)
            .map_err(|e| format!("cannot read '{}': {}", rel, io_reason(&e)))
    }
}

/// Deserialize, naming the field on failure (`configMapGenerator[0].options.annotations.x: …`).
pub fn from_value_at<T: serde::de::DeserializeOwned>(mut v: Value) -> Result<T, String> {
    // Go's decoder matches field names case-insensitively and leaves a null
    // at the zero value; serde does neither, so such spots are adjusted and
    // the decode retried.
    let mut last = String::new();
    for _ in 0..512 {
        let err = match serde_path_to_error::deserialize::<_, T>(&v) {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        let segs = path_segments(err.path());
        let raw = err.inner().to_string();
        let key = format!("{:?}|{}", segs, raw);
        if key == last || !go_lenient_fix(&mut v, &segs, &raw) {
            break;
        }
        last = key;
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path = e.path().to_string();
        let raw = e.into_inner().to_string();
        if raw.starts_with("unknown field") {
            // The path already ends with the unknown field itself.
            path = match path.rfind('.') {
                Some(i) => path[..i].to_string(),
                None => ".".to_string(),
            };
        }
        let msg = explain_unknown_field(&raw);
        if path == "." || path.is_empty() {
            msg
        } else {
            format!("{}: {}", path, msg)
        }
    })
}

/// The keys and indexes of a decoding error's location.
fn path_segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn value_at<'v>(v: &'v mut Value, segs: &[String]) -> Option<&'v mut Value> {
    let mut cur = v;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(s)?,
            Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Adjust `v` where Go would have decoded what serde refused; false when
/// there is nothing to adjust.
fn go_lenient_fix(v: &mut Value, segs: &[String], raw: &str) -> bool {
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let Some((field, rest)) = rest.split_once('`') else {
            return false;
        };
        let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        let Some(target) = candidates.iter().find(|c| c.eq_ignore_ascii_case(field)) else {
            return false;
        };
        let parent = &segs[..segs.len().saturating_sub(1)];
        let Some(Value::Object(m)) = value_at(v, parent) else {
            return false;
        };
        // kustomize decodes JSON with sorted keys, so of two spellings the
        // one that sorts later wins.
        let Some(value) = m.shift_remove(field) else {
            return false;
        };
        if !m.contains_key(*target) || field > *target {
            m.insert(target.to_string(), value);
        }
        return true;
    }
    if raw.starts_with("invalid type: null") {
        let Some(slot) = value_at(v, segs) else {
            return false;
        };
        *slot = if raw.contains("expected a string") {
            Value::String(String::new())
        } else if raw.contains("expected a sequence") {
            Value::Array(vec![])
        } else if raw.contains("expected a boolean") {
            Value::Bool(false)
        } else if raw.contains("expected i64") || raw.contains("expected u64") {
            Value::from(0)
        } else {
            Value::Object(Default::default())
        };
        return true;
    }
    false
}

/// serde's "unknown field `x`, expected one of `a`, `b`" becomes a short
/// message with the closest valid name.
fn explain_unknown_field(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((field, rest)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(&field.to_lowercase(), &c.to_lowercase()), *c))
        .min();
    match best {
        Some((d, c)) if d <= 3 => format!("unknown field '{}'; did you mean '{}'?", field, c),
        _ if candidates.is_empty() => format!("unknown field '{}'", field),
        _ => format!(
            "unknown field '{}'; valid fields are {}",
            field,
            candidates.join(", ")
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
