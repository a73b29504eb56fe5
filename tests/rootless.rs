//! An unprivileged user runs berth: `spec --rootless`, run, exec and delete, with the state under
//! $XDG_RUNTIME_DIR and no cgroup of the container's own.

mod common;

use std::fs;
use std::os::unix::fs::chown;
use std::process::{Command, Stdio};

use common::{capture, fixture_rootfs, Run, BERTH};
use serde_json::{json, Value};

const UID: u32 = 64321;

/// `berth args…` as UID (no supplementary groups), in `dir`, with its runtime dir below `dir`.
fn berth_as_user(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        format!("--reuid={UID}"),
        format!("--regid={UID}"),
        "--clear-groups".into(),
    ])
    .arg(BERTH)
    .args(args)
    .current_dir(dir)
    .env("XDG_RUNTIME_DIR", dir.join("run"))
    .stdin(Stdio::null());
    capture(&mut cmd, &dir.join("run"))
}

#[test]
fn an_unprivileged_user_runs_a_rootless_container() {
    let dir = std::env::temp_dir().join(format!("berth-tests/rootless.{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("run")).unwrap();
    for d in [&dir, &dir.join("run")] {
        chown(d, Some(UID), Some(UID)).unwrap();
    }
    berth_as_user(&dir, &["spec", "--rootless"]).ok();
    let mut cfg: Value =
        serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["linux"]["uidMappings"][0]["hostID"], UID);
    cfg["root"]["path"] = json!(fixture_rootfs());
    cfg["process"]["terminal"] = json!(false);
    cfg["process"]["args"] = json!(["sh", "-c", "id -u; cat /proc/self/uid_map; exec sleep 1000"]);
    fs::write(dir.join("config.json"), cfg.to_string()).unwrap();

    berth_as_user(&dir, &["run", "-d", "rl1"]).ok();
    assert!(dir.join("run/berth/rl1/state.json").exists());
    let exec = berth_as_user(
        &dir,
        &["exec", "rl1", "sh", "-c", "id -u; cat /proc/self/uid_map"],
    );
    let lines: Vec<&str> = exec.ok().lines().collect();
    assert_eq!(lines[0], "0");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", &UID.to_string(), "1"]);
    let list = berth_as_user(&dir, &["list", "-q"]);
    assert_eq!(list.ok(), "rl1\n");
    berth_as_user(&dir, &["delete", "--force", "rl1"]).ok();
    assert!(!dir.join("run/berth/rl1").exists());
    let _ = fs::remove_dir_all(&dir);
}
