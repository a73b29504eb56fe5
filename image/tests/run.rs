//! The bundle berth-image makes runs under berth: the image's Entrypoint, Cmd, Env and User, and a
//! command given on the command line. Needs root, the fixture rootfs (`make fixture`) and berth
//! built next to berth-image (`cargo build -p berth` with the same target directory).

mod common;

use common::image::{Compression, Layer, TestImage};
use common::registry::{Auth, Registry};
use common::{berth_binary, berth_image, fixture_rootfs, temp_dir, CgroupParent};
use serde_json::json;

#[test]
fn the_bundle_runs_under_berth_with_the_images_command_and_user() {
    berth_binary();
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
    let cgroup = CgroupParent::new("berth-image-run");
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
