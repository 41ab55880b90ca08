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

impl EmbeddedFs {
    fn rel(path: &Path) -> Option<String> {
        let rel = path.strip_prefix(EMBEDDED_ROOT).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }
}

impl FileSystem for EmbeddedFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let rel = Self::rel(path).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        embedded::FILES
            .iter()
            .find(|(p, _)| *p == rel)
            .map(|(_, b)| b.to_vec())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn is_dir(&self, path: &Path) -> bool {
        match Self::rel(path) {
            Some(rel) if rel.is_empty() => true,
            Some(rel) => {
                let prefix = format!("{}/", rel);
                embedded::FILES.iter().any(|(p, _)| p.starts_with(&prefix))
            }
            None => false,
        }
    }
    fn is_file(&self, path: &Path) -> bool {
        Self::rel(path)
            .map(|rel| embedded::FILES.iter().any(|(p, _)| *p == rel))
            .unwrap_or(false)
    }
}

/// Files held in memory over another file system.
pub struct LayerFs<'a> {
    pub base: &'a dyn FileSystem,
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl FileSystem for LayerFs<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.files.get(path) {
            Some(b) => Ok(b.clone()),
            None => self.base.read(path),
        }
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.base.is_dir(path) || self.files.keys().any(|p| p.starts_with(path) && p != path)
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path) || self.base.is_file(path)
    }
    fn real_path(&self, path: &Path) -> io::Result<PathBuf> {
        // The layer's own files have no links; they sit in real directories.
        if self.files.contains_key(path) {
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
        let fs = LayerFs {
            base: self.fs(),
            files,
        };
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
