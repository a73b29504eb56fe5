//! An OCI bundle: config.json parsed with oci-spec (errors name the JSON path of the bad field),
//! validated (its seccomp profile compiled), and its rootfs resolved against the bundle directory.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use oci_spec::runtime::Spec;

use crate::{seccomp, validate};

pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    pub rootfs: PathBuf,
    pub seccomp: Option<seccomp::Filter>,
    /// config.json as read, kept in the state directory for later commands (exec, hooks).
    pub raw: Vec<u8>,
}

impl Bundle {
    pub fn load(dir: &Path) -> Result<Bundle> {
        let dir = std::path::absolute(dir).with_context(|| format!("bundle {}", dir.display()))?;
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => bail!("bundle {} is not a directory", dir.display()),
            Err(e) => return Err(e).with_context(|| format!("bundle {}", dir.display())),
        }
        let config = dir.join("config.json");
        let bytes = match fs::read(&config) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                bail!("config.json: not found in bundle {}", dir.display())
            }
            Err(e) => return Err(e).with_context(|| format!("read {}", config.display())),
        };
        let spec = parse(&bytes)?;
        let checked = validate::validate(&spec)?;
        let root = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .unwrap_or_default();
        let rootfs = if root.is_absolute() {
            root
        } else {
            dir.join(root)
        };
        match fs::metadata(&rootfs) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => bail!("root.path: rootfs {} is not a directory", rootfs.display()),
            Err(e) => {
                return Err(e).with_context(|| format!("root.path: rootfs {}", rootfs.display()))
            }
        }
        Ok(Bundle {
            dir,
            spec,
            rootfs,
            seccomp: checked.seccomp,
            raw: bytes,
        })
    }
}

/// Parses config.json; a bad field is reported by its path: `linux.namespaces[1].type: …`.
pub fn parse(bytes: &[u8]) -> Result<Spec> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = explain(&path, &e.inner().to_string());
        if path == "." || path == "?" {
            anyhow!("config.json: {msg}")
        } else {
            anyhow!("config.json: {path}: {msg}")
        }
    })
}

/// serde's "unknown variant `x`, expected one of …" in the words of the field it is about.
fn explain(path: &str, msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown variant `") else {
        return msg.to_owned();
    };
    let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
    let expected = expected
        .trim_start_matches(", expected one of ")
        .split(" at line ")
        .next()
        .unwrap_or("")
        .replace('`', "");
    let noun = if path.contains("namespaces[") {
        "namespace"
    } else if path.contains("rlimits[") {
        "rlimit"
    } else if path.contains("devices[") {
        "device type"
    } else if path.ends_with("action") || path.ends_with("Action") {
        "action"
    } else if path.ends_with(".op") {
        "operator"
    } else if path.contains("architectures[") {
        "architecture"
    } else if path.contains("seccomp.flags[") {
        "seccomp flag"
    } else {
        "value"
    };
    format!("unknown {noun} \"{value}\" (expected one of {expected})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let json =
            br#"{"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0},"cwd":"/","args":["sh"]},
            "linux":{"namespaces":[{"type":"pid"},{"type":"pidd"}]}}"#;
        let err = parse(json).unwrap_err().to_string();
        assert!(
            err.starts_with("config.json: linux.namespaces[1].type: unknown namespace \"pidd\""),
            "{err}"
        );
        let err = parse(b"{\"process\": 3}").unwrap_err().to_string();
        assert!(
            err.starts_with("config.json: process: invalid type"),
            "{err}"
        );
        let err = parse(b"{").unwrap_err().to_string();
        assert!(err.starts_with("config.json: EOF while parsing"), "{err}");
    }
}
