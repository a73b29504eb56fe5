//! Test images made in memory: layers as tar archives (gzip, zstd or plain), a config and a
//! manifest, written into a store as an OCI layout and named in its index.json.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[derive(Clone, Copy)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One layer: a tar archive built entry by entry.
pub struct Layer {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Layer::new()
    }
}

impl Layer {
    pub fn new() -> Layer {
        Layer {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        h
    }

    /// Appends with the name written raw, so that `..` and absolute names reach the unpacker.
    fn append(mut self, mut header: tar::Header, path: &str, data: &[u8]) -> Layer {
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    pub fn file(self, path: &str, data: &[u8]) -> Layer {
        self.file_with(path, data, 0o644, 0, 0)
    }

    pub fn file_with(self, path: &str, data: &[u8], mode: u32, uid: u64, gid: u64) -> Layer {
        let mut h = Layer::header(tar::EntryType::Regular, mode);
        h.set_uid(uid);
        h.set_gid(gid);
        self.append(h, path, data)
    }

    pub fn dir(self, path: &str) -> Layer {
        self.append(Layer::header(tar::EntryType::Directory, 0o755), path, b"")
    }

    pub fn symlink(self, path: &str, target: &str) -> Layer {
        let mut h = Layer::header(tar::EntryType::Symlink, 0o777);
        h.set_link_name_literal(target).unwrap();
        self.append(h, path, b"")
    }

    pub fn hard_link(self, path: &str, target: &str) -> Layer {
        let mut h = Layer::header(tar::EntryType::Link, 0o644);
        h.set_link_name_literal(target).unwrap();
        self.append(h, path, b"")
    }

    pub fn node(self, path: &str, kind: tar::EntryType, major: u32, minor: u32) -> Layer {
        self.node_with(path, kind, major, minor, 0o600)
    }

    pub fn node_with(
        self,
        path: &str,
        kind: tar::EntryType,
        major: u32,
        minor: u32,
        mode: u32,
    ) -> Layer {
        let mut h = Layer::header(kind, mode);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.append(h, path, b"")
    }

    /// A GNU sparse file of `size` bytes: `segments` of data (offset, bytes; multiples of 512, as
    /// GNU tar writes them, at most three) and holes everywhere else.
    pub fn sparse_file(self, path: &str, size: u64, segments: &[(u64, &[u8])]) -> Layer {
        let mut h = Layer::header(tar::EntryType::GNUSparse, 0o644);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(size);
        let mut data = Vec::new();
        let mut end = 0;
        for (slot, (offset, bytes)) in gnu.sparse.iter_mut().zip(segments) {
            slot.set_offset(*offset);
            slot.set_length(bytes.len() as u64);
            data.extend_from_slice(bytes);
            end = offset + bytes.len() as u64;
        }
        if end < size {
            // GNU tar's marker for a hole at the end: an empty segment at the file's size.
            let marker = &mut gnu.sparse[segments.len()];
            marker.set_offset(size);
            marker.set_length(0);
        }
        self.append(h, path, &data)
    }

    /// A file with extended attributes, carried in a pax header.
    pub fn file_with_xattr(mut self, path: &str, data: &[u8], key: &str, value: &[u8]) -> Layer {
        self.builder
            .append_pax_extensions([(format!("SCHILY.xattr.{key}").as_str(), value)])
            .unwrap();
        self.file(path, data)
    }

    /// Every file of a host directory, with its symlinks, below `prefix`.
    pub fn tree(mut self, dir: &Path, prefix: &str) -> Layer {
        self.builder.follow_symlinks(false);
        self.builder.append_dir_all(prefix, dir).unwrap();
        self
    }

    pub fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// A layer as stored: compressed bytes and their descriptor.
pub struct Blob {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn layer(tar: Vec<u8>, compression: Compression, docker: bool) -> Blob {
        let (bytes, suffix) = match compression {
            Compression::None => (tar, ""),
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&tar).unwrap();
                (e.finish().unwrap(), "gzip")
            }
            Compression::Zstd => (zstd::encode_all(&tar[..], 1).unwrap(), "zstd"),
        };
        let media_type = match (docker, suffix) {
            (true, "") => "application/vnd.docker.image.rootfs.diff.tar".to_string(),
            (true, s) => format!("application/vnd.docker.image.rootfs.diff.tar.{s}"),
            (false, "") => "application/vnd.oci.image.layer.v1.tar".to_string(),
            (false, s) => format!("application/vnd.oci.image.layer.v1.tar+{s}"),
        };
        Blob { media_type, bytes }
    }

    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": sha256(&self.bytes), "size": self.bytes.len()})
    }
}

/// An image to write into a store.
pub struct TestImage {
    pub layers: Vec<Blob>,
    pub config: Value,
    /// Docker schema-2 media types instead of OCI ones.
    pub docker: bool,
}

impl TestImage {
    pub fn new(arch: &str, config: Value) -> TestImage {
        TestImage {
            layers: Vec::new(),
            config: json!({"architecture": arch, "os": "linux", "config": config, "rootfs": {"type": "layers", "diff_ids": []}}),
            docker: false,
        }
    }

    pub fn layer(mut self, layer: Layer, compression: Compression) -> TestImage {
        let tar = layer.tar();
        self.config["rootfs"]["diff_ids"]
            .as_array_mut()
            .unwrap()
            .push(sha256(&tar).into());
        self.layers.push(Blob::layer(tar, compression, self.docker));
        self
    }

    /// Writes blobs into the store and returns the manifest's bytes.
    pub fn write_blobs(&self, store: &Path) -> Vec<u8> {
        let config = serde_json::to_vec(&self.config).unwrap();
        let (manifest_type, config_type) = if self.docker {
            (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
            )
        } else {
            (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
            )
        };
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": sha256(&config), "size": config.len()},
            "layers": self.layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
        }))
        .unwrap();
        for bytes in self
            .layers
            .iter()
            .map(|l| &l.bytes)
            .chain([&config, &manifest])
        {
            write_blob(store, bytes);
        }
        manifest
    }

    /// Stores the image under `reference`; returns the manifest digest.
    pub fn store(&self, store: &Path, reference: &str) -> String {
        let manifest = self.write_blobs(store);
        let media_type = if self.docker {
            "application/vnd.docker.distribution.manifest.v2+json"
        } else {
            "application/vnd.oci.image.manifest.v1+json"
        };
        name(
            store,
            reference,
            json!({"mediaType": media_type, "digest": sha256(&manifest), "size": manifest.len()}),
        );
        sha256(&manifest)
    }
}

/// Stores an index of `images` (arch, image) under `reference`; returns the index digest.
pub fn store_index(store: &Path, reference: &str, images: &[&TestImage]) -> String {
    let manifests: Vec<Value> = images
        .iter()
        .map(|image| {
            let manifest = image.write_blobs(store);
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&manifest), "size": manifest.len(),
                   "platform": {"os": "linux", "architecture": image.config["architecture"]}})
        })
        .collect();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})).unwrap();
    write_blob(store, &index);
    name(
        store,
        reference,
        json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256(&index), "size": index.len()}),
    );
    sha256(&index)
}

fn write_blob(store: &Path, bytes: &[u8]) {
    let dir = store.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(sha256(bytes).trim_start_matches("sha256:")), bytes).unwrap();
}

/// Adds `descriptor` to the store's index.json under `reference`.
fn name(store: &Path, reference: &str, mut descriptor: Value) {
    descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": reference});
    let path = store.join("index.json");
    let mut index: Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"schemaVersion": 2, "manifests": []}));
    index["manifests"].as_array_mut().unwrap().push(descriptor);
    std::fs::write(&path, serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(
        store.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
}
