//! Manifests as registries serve them: OCI image manifests and indexes, and their Docker
//! schema-2 twins (same JSON shape, other media types), read into oci-spec's types.

use anyhow::{bail, Context, Result};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

use crate::store::Store;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// What we ask registries for, in order of preference.
pub const ACCEPTED: &[&str] = &[
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST,
];

pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

impl Manifest {
    /// Parses `bytes` by the media type they declare (schema 2 requires it for Docker
    /// manifests; OCI ones may leave it out, and then an index is told by its `manifests`).
    pub fn parse(bytes: &[u8]) -> Result<Manifest> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
            manifests: Option<serde::de::IgnoredAny>,
        }
        let probe: Probe = serde_json::from_slice(bytes).context("manifest is not JSON")?;
        let is_index = match probe.media_type.as_deref() {
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
            Some(other) => bail!("unsupported manifest media type {other}"),
            None => probe.manifests.is_some(),
        };
        Ok(if is_index {
            Manifest::Index(Box::new(
                serde_json::from_slice(bytes).context("malformed image index")?,
            ))
        } else {
            Manifest::Image(Box::new(
                serde_json::from_slice(bytes).context("malformed image manifest")?,
            ))
        })
    }

    pub fn media_type(bytes: &[u8]) -> Result<&'static str> {
        Ok(
            match (
                Manifest::parse(bytes)?,
                declared_media_type(bytes).as_deref(),
            ) {
                (Manifest::Index(_), Some(DOCKER_MANIFEST_LIST)) => DOCKER_MANIFEST_LIST,
                (Manifest::Index(_), _) => OCI_INDEX,
                (Manifest::Image(_), Some(DOCKER_MANIFEST)) => DOCKER_MANIFEST,
                (Manifest::Image(_), _) => OCI_MANIFEST,
            },
        )
    }
}

fn declared_media_type(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(value.get("mediaType")?.as_str()?.to_string())
}

/// An image in the store: its name, manifest and config.
pub struct LocalImage {
    pub reference: String,
    pub descriptor: Descriptor,
    pub manifest: ImageManifest,
    pub config: ImageConfiguration,
}

impl LocalImage {
    pub fn load(store: &Store, reference: &str) -> Result<LocalImage> {
        let Some(descriptor) = store.find(reference)? else {
            bail!(
                "no image {reference} in the store {}",
                store.root().display()
            );
        };
        let manifest_bytes = store.read_blob(descriptor.digest().as_ref())?;
        let Manifest::Image(manifest) =
            Manifest::parse(&manifest_bytes).with_context(|| format!("image {reference}"))?
        else {
            bail!("image {reference} names an index, not an image manifest");
        };
        let config_digest = manifest.config().digest().to_string();
        let config = serde_json::from_slice(&store.read_blob(&config_digest)?)
            .with_context(|| format!("config {config_digest} of image {reference}"))?;
        Ok(LocalImage {
            reference: reference.to_string(),
            descriptor,
            manifest: *manifest,
            config,
        })
    }

    /// Bytes of the manifest, config and layers.
    pub fn size(&self) -> u64 {
        self.descriptor.size()
            + self.manifest.config().size()
            + self.manifest.layers().iter().map(|l| l.size()).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn docker_schema2_manifest_and_list_parse() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"{DIGEST}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2,"digest":"{DIGEST}"}}]}}"#
        );
        assert!(
            matches!(Manifest::parse(manifest.as_bytes()).unwrap(), Manifest::Image(m) if m.layers().len() == 1)
        );
        assert_eq!(
            Manifest::media_type(manifest.as_bytes()).unwrap(),
            DOCKER_MANIFEST
        );
        let list = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","size":1,"digest":"{DIGEST}","platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}]}}"#
        );
        assert!(
            matches!(Manifest::parse(list.as_bytes()).unwrap(), Manifest::Index(i) if i.manifests().len() == 1)
        );
    }

    #[test]
    fn an_oci_index_without_media_type_is_told_by_its_manifests() {
        let index = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            Manifest::parse(index.as_bytes()).unwrap(),
            Manifest::Index(_)
        ));
        assert_eq!(Manifest::media_type(index.as_bytes()).unwrap(), OCI_INDEX);
        assert!(Manifest::parse(br#"{"schemaVersion":2,"mediaType":"text/plain"}"#).is_err());
    }
}
