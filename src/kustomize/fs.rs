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

use std::io;
use std::path::{Component, Path, PathBuf};

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

/// The real disk.
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_regular_file(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
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
    let mut out = Vec::with_capacity(meta.len().min(64 << 20) as usize);
    f.read_to_end(&mut out)?;
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
