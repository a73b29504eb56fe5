use anyhow::Result;
use serde_json::json;

use crate::cli::{GlobalOpts, SPEC_VERSION};
use crate::linux::mempolicy;
use crate::linux::mount::KNOWN_OPTIONS;
use crate::seccomp;

/// Prints what this berth supports, in the runtime-spec's features.md format (containerd reads
/// it through `containerd-shim-runc-v2 -info`).
#[derive(clap::Args, Debug)]
pub struct Args {}

impl Args {
    pub fn run(self, _g: &GlobalOpts) -> Result<i32> {
        let mut caps: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
        caps.sort();
        let doc = json!({
            "ociVersionMin": "1.0.0",
            "ociVersionMax": SPEC_VERSION,
            "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            "mountOptions": KNOWN_OPTIONS,
            "linux": {
                "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
                "capabilities": caps,
                "cgroup": { "v1": true, "v2": true, "systemd": true, "systemdUser": true, "rdma": true },
                "seccomp": {
                    "enabled": true,
                    "actions": seccomp::actions(),
                    "operators": seccomp::operators(),
                    "archs": seccomp::arches(),
                    "knownFlags": seccomp::flags(),
                    "supportedFlags": seccomp::flags()
                },
                "apparmor": { "enabled": true },
                "selinux": { "enabled": false },
                "intelRdt": { "enabled": false },
                "mountExtensions": { "idmap": { "enabled": true } },
                "netDevices": { "enabled": true },
                "memoryPolicy": { "modes": mempolicy::MODES, "flags": mempolicy::FLAGS }
            },
            "annotations": {
                "org.opencontainers.berth.version": env!("CARGO_PKG_VERSION"),
                // Only where a criu answers: the commands need it (runc says true when built with them).
                "org.opencontainers.berth.checkpoint.enabled": crate::criu::Criu::find().is_ok().to_string()
            }
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        Ok(0)
    }
}
