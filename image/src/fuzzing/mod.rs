//! What the fuzz targets in `../fuzz/` call: each function takes the fuzzer's bytes, runs one of
//! berth-image's parsers on them and panics where a property of the result does not hold. Not
//! part of berth-image's interface; the binary never calls it.

mod sandbox;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::digest::sha256_hex;
use crate::manifest::{Manifest, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use crate::platform::Platform;

pub use sandbox::unpack;

/// A manifest or index as a registry may serve it. What it parses to agrees with the media type
/// berth-image stores it under; every digest in it names at most one file of the store; each
/// platform it lists selects an entry of that platform; and it survives the JSON round trip the
/// store's own index.json goes through.
pub fn manifest(data: &[u8]) {
    let parsed = Manifest::parse(data);
    let media_type = Manifest::media_type(data);
    assert_eq!(parsed.is_ok(), media_type.is_ok(), "parse and media_type");
    let (Ok(parsed), Ok(media_type)) = (parsed, media_type) else {
        return;
    };
    match parsed {
        Manifest::Index(index) => {
            assert!([OCI_INDEX, DOCKER_MANIFEST_LIST].contains(&media_type));
            index.manifests().iter().for_each(names_one_blob);
            selects_each_platform(&index);
            let again: ImageIndex = round_trip(&*index);
            assert_eq!(again, *index, "the JSON round trip changes the index");
        }
        Manifest::Image(manifest) => {
            assert!([OCI_MANIFEST, DOCKER_MANIFEST].contains(&media_type));
            names_one_blob(manifest.config());
            manifest.layers().iter().for_each(names_one_blob);
            let again: ImageManifest = round_trip(&*manifest);
            assert_eq!(again, *manifest, "the JSON round trip changes the manifest");
        }
    }
}

fn names_one_blob(descriptor: &Descriptor) {
    if let Ok(hex) = sha256_hex(descriptor.digest().as_ref()) {
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hex:?}"
        );
    }
}

/// `--platform os/arch/variant`, written from an entry's own platform, picks an entry with that
/// platform.
fn selects_each_platform(index: &ImageIndex) {
    for entry in index.manifests() {
        let Some(p) = entry.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        let parts = [Some(&os), Some(&arch), p.variant().as_ref()];
        if parts
            .iter()
            .flatten()
            .any(|s| s.is_empty() || s.contains('/'))
        {
            continue; // not something `--platform` can name
        }
        let mut wanted = format!("{os}/{arch}");
        if let Some(variant) = p.variant() {
            wanted = format!("{wanted}/{variant}");
        }
        let platform: Platform = wanted.parse().expect("os/arch[/variant]");
        let chosen = platform
            .select(index)
            .unwrap_or_else(|e| panic!("{wanted}: {e:#}"));
        let q = chosen
            .platform()
            .as_ref()
            .expect("a chosen entry has a platform");
        assert_eq!(
            (q.os(), q.architecture()),
            (p.os(), p.architecture()),
            "{wanted}"
        );
    }
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    let json = serde_json::to_vec(value).expect("serialises");
    serde_json::from_slice(&json).unwrap_or_else(|e| {
        panic!(
            "{e}: in what it serialised: {}",
            String::from_utf8_lossy(&json)
        )
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds")
            .join(target);
        fs::read_dir(&dir)
            .unwrap()
            .map(|e| fs::read(e.unwrap().path()).unwrap())
            .collect()
    }

    /// Every committed manifest seed keeps its target's properties. (The unpack seeds are
    /// checked in tests/fuzz_seeds.rs, a process of their own: the target counts the process's
    /// open descriptors, which other unit tests running beside it change.)
    #[test]
    fn seeds_hold() {
        seeds("manifest").iter().for_each(|s| manifest(s));
    }
}
