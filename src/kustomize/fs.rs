//! Files the engine reads, and the rules for reaching them.
//!
//! The engine only reads through [`FileSystem`], so the same build runs on the
//! disk or on a tree embedded in the binary. A file must lie in or below the
//! directory of the kustomization that names it, as with kustomize's default
//! `LoadRestrictionsRootOnly`: the path is first cleaned lexically (`..`),
//! then every symbolic link in it is resolved ([`FileSystem::real_path`]) and
//! the real path must still be under the root, itself a real path. Other
//! kustomization directories may be anywhere. Only regular files are read
//! (a FIFO or a device would block or never end).

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

pub trait FileSystem: Sync {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    fn is_dir(&self, path: &Path) -> bool;
    fn is_file(&self, path: &Path) -> bool;
    /// The absolute path with every symbolic link resolved (Go's
    /// `filepath.EvalSymlinks`, which kustomize's loader uses); `NotFound`
    /// when nothing is there. A file system without links gives the cleaned
    /// path.
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        if self.is_file(path) || self.is_dir(path) {
            Ok(clean(path))
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
    }
}

/// The real disk. It remembers what it has learnt of each path (the real
/// path of a directory, whether a path is a file or a directory), so a file
/// costs one `lstat` and its read instead of a `readlink` per component of
/// its path and a `stat` per question; make one per build (the tree is
/// taken not to change while it is read).
#[derive(Default)]
pub struct DiskFs {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    // Keyed by the path's bytes: `Path`'s own hash walks its components.
    /// Real paths of directories (and of links to them).
    dirs: foldhash::HashMap<OsString, PathBuf>,
    /// What a path names once links are followed.
    kinds: foldhash::HashMap<OsString, Kind>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    File,
    Dir,
    Other,
    Missing,
}

impl Kind {
    fn of(meta: &std::fs::Metadata) -> Kind {
        if meta.is_file() {
            Kind::File
        } else if meta.is_dir() {
            Kind::Dir
        } else {
            Kind::Other
        }
    }
}

impl DiskFs {
    pub fn new() -> DiskFs {
        DiskFs::default()
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `path` names, following links.
    fn kind(&self, path: &Path) -> Kind {
        if let Some(k) = self.seen().kinds.get(path.as_os_str()) {
            return *k;
        }
        let k = match std::fs::metadata(path) {
            Ok(meta) => Kind::of(&meta),
            Err(_) => Kind::Missing,
        };
        self.seen().kinds.insert(path.into(), k);
        k
    }

    /// `real_path` of an absolute path made only of names: the parent's
    /// real path (remembered) joined with the last name, unless that name
    /// is itself a symbolic link.
    fn real_absolute(&self, path: &Path) -> io::Result<PathBuf> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(path.to_path_buf());
        };
        if let Some(real) = self.seen().dirs.get(path.as_os_str()) {
            return Ok(real.clone());
        }
        let real_parent = self.real_absolute(parent)?;
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            let real = std::fs::canonicalize(path)?;
            if self.kind(&real) == Kind::Dir {
                self.seen().dirs.insert(path.into(), real.clone());
            }
            return Ok(real);
        }
        let real = real_parent.join(name);
        let kind = Kind::of(&meta);
        let mut seen = self.seen();
        if kind == Kind::Dir {
            seen.dirs.insert(path.into(), real.clone());
        }
        seen.kinds.insert(path.into(), kind);
        seen.kinds.insert(real.clone().into(), kind);
        Ok(real)
    }
}

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_regular_file(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.kind(path) == Kind::Dir
    }
    fn is_file(&self, path: &Path) -> bool {
        self.kind(path) == Kind::File
    }
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        let lexical = path.is_absolute()
            && path
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if !lexical {
            // `..` after a symbolic link means the link's parent: leave
            // such paths to realpath(3).
            return std::fs::canonicalize(path);
        }
        self.real_absolute(path)
    }
}

/// The error [`read_regular_file`] gives for a FIFO, socket or device.
const NOT_REGULAR: &str = "not a regular file";

/// Read a file only when it is a regular file. It is opened without
/// blocking, so a FIFO (which would wait for a writer) or a device is
/// refused at once instead of read.
pub fn read_regular_file(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let mut f = opts.open(path)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, NOT_REGULAR));
    }
    // Read into a buffer of the size just learnt (plus one byte to see the
    // end at once); a file that grew meanwhile is still read whole.
    let mut out = vec![0u8; meta.len().min(64 << 20) as usize + 1];
    let mut len = 0;
    loop {
        if len == out.len() {
            out.resize(len * 2, 0);
        }
        match f.read(&mut out[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.truncate(len);
    Ok(out)
}

/// Read a regular file as UTF-8 text. A byte order mark at the start is
/// dropped; text that is not UTF-8 is an error naming the line.
pub fn read_text_file(path: &Path) -> Result<String, String> {
    let bytes = read_regular_file(path).map_err(|e| io_reason(&e))?;
    utf8_text(bytes)
}

/// Bytes as UTF-8 text, or a message naming the first line that is not.
pub fn utf8_text(bytes: Vec<u8>) -> Result<String, String> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
            Err(format!("not UTF-8 text (line {})", line))
        }
    }
}

/// An I/O error in plain words (never Rust's `entity not found`).
pub fn io_reason(e: &io::Error) -> String {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "too many levels of symbolic links (a symlink loop)".into();
    }
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ENOTDIR) {
        return "no such file or directory (a part of the path is not a directory)".into();
    }
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory, expected a file".into(),
        io::ErrorKind::InvalidInput if e.to_string() == NOT_REGULAR => {
            "not a regular file (a FIFO, socket or device is never read)".into()
        }
        _ => {
            // The OS message without Rust's " (os error N)" tail.
            let s = e.to_string().to_lowercase();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Whether an I/O error is a symlink loop.
pub fn is_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Lexical normalisation: resolve `.` and `..` without touching the disk.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Make `path` absolute against the current directory and clean it.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        clean(path)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        clean(&cwd.join(path))
    }
}

/// A path for messages: relative to the current directory when below it.
pub fn display(path: &Path) -> String {
    // Asked once per file; the process never changes directory.
    static CWD: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().unwrap_or_default());
    match path.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        Ok(_) => ".".to_string(),
        Err(_) => path.display().to_string(),
    }
}

pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// The remembered resolution gives what realpath(3) gives, for every
    /// kind of path, asked twice (the second time from what it remembers).
    #[test]
    fn real_path_agrees_with_canonicalize() {
        let t = std::env::temp_dir().join(format!("kfp-aws-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        let t = {
            std::fs::create_dir_all(t.join("a/b")).unwrap();
            std::fs::canonicalize(&t).unwrap()
        };
        std::fs::write(t.join("a/b/f.yaml"), "x: 1\n").unwrap();
        std::fs::create_dir_all(t.join("out")).unwrap();
        std::fs::write(t.join("out/s.yaml"), "y: 1\n").unwrap();
        symlink("b", t.join("a/lb")).unwrap();
        symlink("../out/s.yaml", t.join("a/ls.yaml")).unwrap();
        symlink("../../out", t.join("a/b/lo")).unwrap();
        symlink("loop2", t.join("a/loop1")).unwrap();
        symlink("loop1", t.join("a/loop2")).unwrap();
        symlink("nowhere", t.join("a/dangling")).unwrap();
        let cases = [
            "a",
            "a/b",
            "a/b/f.yaml",
            "a/lb",
            "a/lb/f.yaml",
            "a/lb/lo/s.yaml",
            "a/ls.yaml",
            "a/b/lo",
            "a/loop1",
            "a/loop1/x",
            "a/dangling",
            "a/missing",
            "a/missing/x",
            "a/b/f.yaml/x",
            "a/lb/../b/f.yaml",
        ];
        let fs = DiskFs::new();
        for _ in 0..2 {
            for c in cases {
                let p = t.join(c);
                let want = std::fs::canonicalize(&p);
                let got = fs.real_path(&p);
                match (&want, &got) {
                    (Ok(w), Ok(g)) => assert_eq!(w, g, "{}", c),
                    (Err(w), Err(g)) => {
                        assert_eq!(w.raw_os_error(), g.raw_os_error(), "{}", c)
                    }
                    _ => panic!("{}: realpath {:?}, DiskFs {:?}", c, want, got),
                }
                assert_eq!(fs.is_file(&p), p.is_file(), "is_file {}", c);
                assert_eq!(fs.is_dir(&p), p.is_dir(), "is_dir {}", c);
            }
        }
        std::fs::remove_dir_all(&t).unwrap();
    }

    /// A file is read whole whatever its size relative to the buffer.
    #[test]
    fn reads_whole_files() {
        let t = std::env::temp_dir().join(format!("kfp-aws-read-{}", std::process::id()));
        std::fs::create_dir_all(&t).unwrap();
        for n in [0usize, 1, 4095, 4096, 70_000] {
            let p = t.join(format!("f{}", n));
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            std::fs::write(&p, &data).unwrap();
            assert_eq!(read_regular_file(&p).unwrap(), data, "{} bytes", n);
        }
        std::fs::remove_dir_all(&t).unwrap();
    }
}
