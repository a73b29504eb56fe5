use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::cli::GlobalOpts;

/// The config `berth spec` writes: runc's default, with berth's hostname and spec version.
const DEFAULT_CONFIG: &str = include_str!("default-config.json");

/// berth's default seccomp profile (see seccomp/README.md).
const DEFAULT_SECCOMP: &str = include_str!("../../seccomp/default.json");

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write config.json into
    #[arg(short = 'b', long, default_value = ".", value_name = "DIR")]
    pub bundle: PathBuf,

    /// A config for an unprivileged user: a user namespace mapping the caller to root
    #[arg(long)]
    pub rootless: bool,

    /// Add berth's default seccomp profile (the one Docker and podman apply, in effect)
    #[arg(long)]
    pub seccomp_default: bool,
}

impl Args {
    pub fn run(self, _g: &GlobalOpts) -> Result<i32> {
        let mut config: Value = serde_json::from_str(DEFAULT_CONFIG).context("default config")?;
        if self.rootless {
            make_rootless(&mut config);
        }
        if self.seccomp_default {
            config["linux"]["seccomp"] =
                serde_json::from_str(DEFAULT_SECCOMP).context("default seccomp profile")?;
        }
        let path = self.bundle.join("config.json");
        let mut text = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        serde::Serialize::serialize(
            &config,
            &mut serde_json::Serializer::with_formatter(&mut text, fmt),
        )?;
        text.push(b'\n');
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => std::io::Write::write_all(&mut f, &text)
                .with_context(|| format!("write {}", path.display()))?,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                bail!("{} already exists: remove it first", path.display())
            }
            Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
        }
        Ok(0)
    }
}

/// runc's rootless changes: map the caller to root in a new user namespace, keep the host's
/// network, bind /sys instead of mounting it, no devpts gid, no cgroup resources.
fn make_rootless(config: &mut Value) {
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    if let Some(mounts) = config["mounts"].as_array_mut() {
        for m in mounts {
            if m["destination"] == "/sys" {
                m["type"] = json!("none");
                m["source"] = json!("/sys");
                if let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) {
                    opts.insert(0, json!("rbind"));
                }
            }
            if let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) {
                opts.retain(|o| o != "gid=5");
            }
        }
    }
    let Some(linux) = config["linux"].as_object_mut() else {
        return;
    };
    linux.remove("resources");
    if let Some(ns) = linux.get_mut("namespaces").and_then(Value::as_array_mut) {
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({ "type": "user" }));
    }
    let mut with_maps = serde_json::Map::new();
    with_maps.insert(
        "uidMappings".into(),
        json!([{ "containerID": 0, "hostID": uid, "size": 1 }]),
    );
    with_maps.insert(
        "gidMappings".into(),
        json!([{ "containerID": 0, "hostID": gid, "size": 1 }]),
    );
    with_maps.extend(std::mem::take(linux));
    *linux = with_maps;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses_and_validates_apart_from_resources() {
        let spec = crate::bundle::parse(DEFAULT_CONFIG.as_bytes()).unwrap();
        assert_eq!(spec.hostname().as_deref(), Some("berth"));
        let mut rootless: Value = serde_json::from_str(DEFAULT_CONFIG).unwrap();
        make_rootless(&mut rootless);
        let spec = crate::bundle::parse(rootless.to_string().as_bytes()).unwrap();
        crate::validate::validate(&spec).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.uid_mappings().as_ref().unwrap().len(), 1);
        assert!(linux.resources().is_none());
    }

    #[test]
    fn the_default_seccomp_profile_compiles() {
        let profile = serde_json::from_str(DEFAULT_SECCOMP).unwrap();
        let filter = crate::seccomp::compile(&profile).unwrap();
        assert!(filter.listener.is_none());
    }
}
