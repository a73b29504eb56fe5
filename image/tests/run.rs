//! The bundle berth-image makes runs under berth: the image's Entrypoint, Cmd, Env and User, and a
//! command given on the command line. Needs root, the fixture rootfs (`make fixture`) and berth
//! built next to berth-image (`cargo build -p berth` with the same target directory).

mod common;

use std::path::{Path, PathBuf};

use common::image::{Compression, Layer, TestImage};
use common::registry::{Auth, Registry};
use common::{berth_image, temp_dir};
use serde_json::json;

fn fixture_rootfs() -> PathBuf {
    let rootfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../build/busybox/rootfs");
    assert!(
        rootfs.join("bin/busybox").exists(),
        "no fixture at {}: run `make fixture`",
        rootfs.display()
    );
    rootfs
}

/// A cgroup parent of this test's own, removed at the end from every hierarchy (berth's delete
/// leaves parents, as runc's does), with /berth-test when nothing else is in it.
struct CgroupParent(String);

impl Drop for CgroupParent {
    fn drop(&mut self) {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        for line in mountinfo.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            if !post.starts_with("cgroup ") && !post.starts_with("cgroup2 ") {
                continue;
            }
            let Some(mount) = pre.split(' ').nth(4) else {
                continue;
            };
            let parent = Path::new(mount).join(self.0.trim_start_matches('/'));
            let _ = std::fs::remove_dir(&parent);
            if let Some(up) = parent.parent() {
                let _ = std::fs::remove_dir(up);
            }
        }
    }
}

#[test]
fn the_bundle_runs_under_berth_with_the_images_command_and_user() {
    let berth = Path::new(common::BERTH_IMAGE).with_file_name("berth");
    assert!(
        berth.exists(),
        "{} is missing: run `cargo build -p berth` with the same CARGO_TARGET_DIR",
        berth.display()
    );
    let registry = Registry::start(Auth::Anonymous);
    let reference = format!("{}/run/busybox:v1", registry.addr);
    let source = temp_dir();
    TestImage::new(
        "amd64",
        json!({"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hello from $GREETING; id -u; id -g; pwd"], "Env": ["GREETING=berth"],
               "User": "user", "WorkingDir": "/home/user"}),
    )
    .layer(Layer::new().tree(&fixture_rootfs(), "."), Compression::Gzip)
    .store(source.path(), &reference);
    berth_image(source.path(), &["push", &reference]).ok();

    let store = temp_dir();
    let state = temp_dir();
    let cgroup = CgroupParent(format!(
        "/berth-test/berth-image-run.{}",
        std::process::id()
    ));
    let run = |name: &str, command: &[&str]| {
        let mut args = vec![
            "run",
            "--berth-root",
            state.path().to_str().unwrap(),
            "--cgroup-parent",
            &cgroup.0,
            "--name",
            name,
            &reference,
        ];
        if !command.is_empty() {
            args.push("--");
            args.extend(command);
        }
        berth_image(store.path(), &args)
    };
    let out = run("image-cmd", &[]);
    assert_eq!(out.ok(), "hello from berth\n1000\n1000\n/home/user\n");
    let out = run("override", &["echo overridden; exit 3"]);
    assert_eq!((out.code, out.stdout.as_str()), (3, "overridden\n"));
    assert_eq!(
        std::fs::read_dir(store.path().join("bundles"))
            .unwrap()
            .count(),
        0,
        "bundles are removed after the run"
    );
}
