//! `--platform os/arch[/variant]` and the choice of one manifest from an image index.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use oci_spec::image::{Descriptor, ImageIndex};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this binary runs on, named as Go's GOOS/GOARCH (which image indexes use).
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn matches(&self, descriptor: &Descriptor) -> bool {
        let Some(p) = descriptor.platform() else {
            return false;
        };
        p.os().to_string() == self.os
            && p.architecture().to_string() == self.architecture
            && self
                .variant
                .as_ref()
                .is_none_or(|v| p.variant().as_ref() == Some(v))
    }

    /// The entry of `index` for this platform.
    pub fn select<'a>(&self, index: &'a ImageIndex) -> Result<&'a Descriptor> {
        if let Some(found) = index.manifests().iter().find(|d| self.matches(d)) {
            return Ok(found);
        }
        let offered: Vec<String> = index
            .manifests()
            .iter()
            .filter_map(|d| d.platform().as_ref())
            .map(|p| format!("{}/{}", p.os(), p.architecture()))
            .collect();
        bail!(
            "no image for {self} in the index (it has: {})",
            offered.join(", ")
        )
    }
}

impl FromStr for Platform {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts[..] {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.into(),
                architecture: arch.into(),
                variant: parts.get(2).map(|v| v.to_string()),
            }),
            _ => bail!("platform {s:?} is not os/arch[/variant], e.g. linux/amd64"),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_arch_and_variant() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(
            (p.os.as_str(), p.architecture.as_str(), p.variant.as_deref()),
            ("linux", "arm64", Some("v8"))
        );
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert!("/amd64".parse::<Platform>().is_err());
    }

    #[test]
    fn selects_the_matching_entry_or_lists_what_there_is() {
        let zero = "0".repeat(64);
        let one = "1".repeat(64);
        let index: ImageIndex = serde_json::from_str(&format!(
            r#"{{"schemaVersion":2,"manifests":[
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{zero}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{one}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#
        ))
        .unwrap();
        let arm: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(arm.select(&index).unwrap().digest().digest(), one);
        let err = "linux/s390x"
            .parse::<Platform>()
            .unwrap()
            .select(&index)
            .unwrap_err();
        assert!(
            err.to_string().contains("linux/amd64, linux/arm64"),
            "{err}"
        );
    }
}
