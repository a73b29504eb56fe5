//! Bundles: one config (berth_bench::spec) written for every container slot, on one shared,
//! read-only busybox rootfs. Slots differ only in their args and their absolute cgroupsPath.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use berth_bench::spec;

/// Every cgroup the benchmark makes lives below this parent, in every hierarchy.
pub const CGROUP_PARENT: &str = "berth-bench";

pub const TRUE: &[&str] = &["/bin/true"];
pub const SLEEP: &[&str] = &["sleep", "1000000"];

pub fn config(args: &[&str], rootfs: &Path, cgroups_path: &str) -> Value {
    let caps: Vec<&str> = spec::CAPABILITIES.iter().map(|(name, _)| *name).collect();
    let mounts: Vec<Value> = spec::MOUNTS
        .iter()
        .map(|m| {
            let mut v = json!({"destination": m.destination, "type": m.typ, "source": m.source});
            if !m.options.is_empty() {
                v["options"] = json!(m.options);
            }
            v
        })
        .collect();
    let namespaces: Vec<Value> = spec::NAMESPACES
        .iter()
        .map(|(t, _)| json!({ "type": t }))
        .collect();
    json!({
        "ociVersion": spec::OCI_VERSION,
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": args,
            "env": spec::ENV,
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps
            },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": spec::NOFILE, "soft": spec::NOFILE }],
            "noNewPrivileges": true
        },
        "root": { "path": rootfs, "readonly": true },
        "hostname": spec::HOSTNAME,
        "mounts": mounts,
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
            "namespaces": namespaces,
            "maskedPaths": spec::MASKED_PATHS,
            "readonlyPaths": spec::READONLY_PATHS
        }
    })
}

/// Writes the bundle of `slot` for `tool` (cgroupsPath /berth-bench/<tool>-<slot>) under
/// `out/bundles` and returns its directory.
pub fn write(out: &Path, tool: &str, slot: &str, args: &[&str], rootfs: &Path) -> Result<PathBuf> {
    let dir = out.join("bundles").join(format!("{tool}-{slot}"));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let cgroups_path = format!("/{CGROUP_PARENT}/{tool}-{slot}");
    let text = serde_json::to_string_pretty(&config(args, rootfs, &cgroups_path))?;
    fs::write(dir.join("config.json"), text)
        .with_context(|| format!("writing {}/config.json", dir.display()))?;
    Ok(dir)
}
