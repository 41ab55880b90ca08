//! `render`, `crds` and `check`: the KFP install built from the manifest tree
//! (embedded in the binary, or a user's copy with `--from`) and the resolved
//! parameters.
//!
//! The parameters reach the manifests the way a user's own overlay would
//! reach them: the tool writes `params/params.env` and `params/secrets.env`
//! into an in-memory layer over the tree, and the overlays' replacements do
//! the rest. Variants kustomize cannot choose by itself (external MySQL,
//! kube2iam instead of IRSA, an existing S3 Secret, the cache webhook's TLS) are
//! a small generated kustomization on top of the overlay, or a component
//! swapped into it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use crate::kustomize::fs::{absolute, DiskFs, FileSystem};
use crate::kustomize::{self, Error, Resource};
use crate::params::{Overlay, Params};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Where the embedded tree appears.
pub const EMBEDDED_ROOT: &str = "/kfp-aws";

/// The manifest tree compiled into the binary.
pub struct EmbeddedFs;

/// The embedded files by path, and every directory that holds one.
struct Index {
    files: foldhash::HashMap<&'static str, &'static [u8]>,
    dirs: foldhash::HashSet<&'static str>,
}

fn index() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut files = foldhash::HashMap::default();
        let mut dirs = foldhash::HashSet::default();
        dirs.insert("");
        for (p, b) in embedded::FILES {
            files.insert(*p, *b);
            let mut d = *p;
            while let Some(i) = d.rfind('/') {
                d = &d[..i];
                if !dirs.insert(d) {
                    break;
                }
            }
        }
        Index { files, dirs }
    })
}

impl EmbeddedFs {
    /// The path relative to the embedded root, when it is under it. The
    /// engine asks with clean paths; any other form is cleaned first.
    fn rel(path: &Path) -> Option<std::borrow::Cow<'_, str>> {
        let s = path.to_str()?;
        let rest = s.strip_prefix(EMBEDDED_ROOT)?;
        if rest.is_empty() {
            return Some("".into());
        }
        let rest = rest.strip_prefix('/')?;
        let plain = !rest.is_empty()
            && !rest.ends_with('/')
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if plain {
            return Some(rest.into());
        }
        let rel = crate::kustomize::fs::clean(path);
        let rel = rel.strip_prefix(EMBEDDED_ROOT).ok()?;
        Some(rel.to_string_lossy().into_owned().into())
    }
}

impl FileSystem for EmbeddedFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        Self::rel(path)
            .and_then(|rel| index().files.get(rel.as_ref()))
            .map(|b| b.to_vec())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn is_dir(&self, path: &Path) -> bool {
        Self::rel(path).is_some_and(|rel| index().dirs.contains(rel.as_ref()))
    }
    fn is_file(&self, path: &Path) -> bool {
        Self::rel(path).is_some_and(|rel| index().files.contains_key(rel.as_ref()))
    }
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        // No links here: the real path is the clean one.
        let rel = Self::rel(path).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let idx = index();
        if !idx.files.contains_key(rel.as_ref()) && !idx.dirs.contains(rel.as_ref()) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(match rel {
            std::borrow::Cow::Borrowed(_) => path.to_path_buf(),
            std::borrow::Cow::Owned(rel) => Path::new(EMBEDDED_ROOT).join(rel),
        })
    }
}

/// Files held in memory over another file system.
pub struct LayerFs<'a> {
    pub base: &'a dyn FileSystem,
    files: foldhash::HashMap<OsString, Vec<u8>>,
    /// Every directory above a layer file.
    dirs: foldhash::HashSet<OsString>,
}

impl<'a> LayerFs<'a> {
    pub fn new(base: &'a dyn FileSystem, files: BTreeMap<PathBuf, Vec<u8>>) -> LayerFs<'a> {
        let mut dirs = foldhash::HashSet::default();
        for p in files.keys() {
            for d in p.ancestors().skip(1) {
                dirs.insert(d.as_os_str().to_owned());
            }
        }
        let files = files
            .into_iter()
            .map(|(p, b)| (p.into_os_string(), b))
            .collect();
        LayerFs { base, files, dirs }
    }
}

impl FileSystem for LayerFs<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.files.get(path.as_os_str()) {
            Some(b) => Ok(b.clone()),
            None => self.base.read(path),
        }
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.base.is_dir(path) || self.dirs.contains(path.as_os_str())
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path.as_os_str()) || self.base.is_file(path)
    }
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        // The layer's own files have no links; they sit in real directories.
        if self.files.contains_key(path.as_os_str()) {
            return Ok(path.to_path_buf());
        }
        match self.base.real_path(path) {
            Ok(real) => Ok(real),
            Err(_) if self.is_file(path) || self.is_dir(path) => Ok(path.to_path_buf()),
            Err(e) => Err(e),
        }
    }
}

/// The tree a render reads: embedded, or a user's copy.
pub struct Tree {
    root: PathBuf,
    /// The user's copy, or `None` for the embedded tree.
    disk: Option<DiskFs>,
}

impl Tree {
    pub fn new(from: Option<&Path>) -> Tree {
        match from {
            Some(dir) => Tree {
                // A real path: the engine resolves links before it reads,
                // and the layered parameter files must sit at that path.
                root: std::fs::canonicalize(dir).unwrap_or_else(|_| absolute(dir)),
                disk: Some(DiskFs::new()),
            },
            None => Tree {
                root: PathBuf::from(EMBEDDED_ROOT),
                disk: None,
            },
        }
    }

    fn fs(&self) -> &dyn FileSystem {
        match &self.disk {
            Some(disk) => disk,
            None => &EmbeddedFs,
        }
    }

    /// Build one directory of the tree with the parameters written in.
    fn build(&self, files: BTreeMap<PathBuf, Vec<u8>>, dir: &Path) -> Result<Vec<Resource>, Error> {
        let fs = LayerFs::new(self.fs(), files);
        kustomize::build(&fs, dir).map_err(|e| Error(self.shorten(&e.0)))
    }

    /// Messages about the embedded tree name it `kfp-aws:` rather than by a
    /// path that exists nowhere on disk.
    fn shorten(&self, msg: &str) -> String {
        if self.disk.is_some() {
            msg.to_string()
        } else {
            msg.replace(&format!("{}/", EMBEDDED_ROOT), "kfp-aws:")
        }
    }

    fn read_text(&self, rel: &str) -> Result<String, Error> {
        let p = self.root.join(rel);
        let bytes = self.fs().read(&p).map_err(|e| {
            Error(format!(
                "{}: {}",
                self.shorten(&p.display().to_string()),
                crate::kustomize::fs::io_reason(&e)
            ))
        })?;
        String::from_utf8(bytes).map_err(|_| Error(format!("{}: not UTF-8", rel)))
    }

    /// The example parameters shipped in the tree.
    pub fn example_params(&self) -> Result<String, Error> {
        self.read_text("params/params.env")
    }

    /// The example secrets shipped in the tree.
    pub fn example_secrets(&self) -> Result<String, Error> {
        self.read_text("params/secrets.env.example")
    }

    /// The shared CRDs.
    pub fn crds(&self) -> Result<Vec<Resource>, Error> {
        self.build(BTreeMap::new(), &self.root.join("crds"))
    }

    /// The install for these parameters (without the CRDs).
    pub fn install(&self, p: &Params) -> Result<Vec<Resource>, Error> {
        let mut files = BTreeMap::new();
        files.insert(
            self.root.join("params/params.env"),
            p.params_env().into_bytes(),
        );
        files.insert(
            self.root.join("params/secrets.env"),
            p.secrets_env().into_bytes(),
        );
        let overlay = p.overlay.name();
        let kube2iam = p.overlay == Overlay::Iam && p.get("iamMode") == "kube2iam";
        if kube2iam {
            // Same overlay, with the kube2iam component in place of IRSA.
            self.edit_overlay(
                &mut files,
                "iam",
                "- ../../components/irsa\n",
                "- ../../components/kube2iam\n",
            )?;
        }
        if p.overlay == Overlay::AccessKey && p.get("createS3Secret") == "false" {
            // The Secret named awsSecretName exists already: do not create it.
            self.edit_overlay(
                &mut files,
                "accesskey",
                "- ../../components/s3-secret\n",
                "",
            )?;
        }
        // The cache webhook's TLS: a component in place of the cache
        // deployer, listed before components/params so that it finds the
        // deployer's objects under their base names.
        let cache = match p.get("cacheTls") {
            "cert-manager" => Some("cache-cert-manager"),
            "none" => Some("no-cache"),
            _ => None,
        };
        if let Some(component) = cache {
            let params = "- ../../components/params\n";
            self.edit_overlay(
                &mut files,
                overlay,
                params,
                &format!("- ../../components/{}\n{}", component, params),
            )?;
        }
        // The namespace is a parameter like any other (components/params
        // moves every object); only external MySQL needs a component added.
        let external = p.external_mysql();
        if !external {
            return self.build(files, &self.root.join("overlays").join(overlay));
        }
        let mut wrapper = format!(
            "# Generated by kfp-aws render.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../overlays/{}\n",
            overlay
        );
        wrapper.push_str("components:\n- ../components/external-mysql\n");
        let dir = self.root.join(".render");
        files.insert(dir.join("kustomization.yaml"), wrapper.into_bytes());
        self.build(files, &dir)
    }

    /// Replace one line of an overlay's kustomization, in the render's layer
    /// (over the edits already made there).
    fn edit_overlay(
        &self,
        files: &mut BTreeMap<PathBuf, Vec<u8>>,
        overlay: &str,
        from: &str,
        to: &str,
    ) -> Result<(), Error> {
        let rel = format!("overlays/{}/kustomization.yaml", overlay);
        let text = match files.get(&self.root.join(&rel)) {
            Some(edited) => String::from_utf8_lossy(edited).into_owned(),
            None => self.read_text(&rel)?,
        };
        if !text.contains(from) {
            return Err(Error(format!(
                "{}: expected the line '{}'",
                rel,
                from.trim()
            )));
        }
        files.insert(self.root.join(&rel), text.replace(from, to).into_bytes());
        Ok(())
    }

    /// CRDs (unless left out), then the install.
    pub fn render(&self, p: &Params, with_crds: bool) -> Result<Vec<Resource>, Error> {
        let mut out = if with_crds { self.crds()? } else { Vec::new() };
        out.extend(self.install(p)?);
        Ok(out)
    }
}
