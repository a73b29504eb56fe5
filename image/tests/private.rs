//! Other local users cannot reach what berth-image unpacks. An image's setuid-root binaries and
//! world-writable device nodes keep their modes (a container needs them), so the store and every
//! bundle must be private to their owner (0700) — after `pull`, `unpack` and during `run`,
//! whatever the caller's umask, and stores and bundles of older versions (0755) once touched.
//! Needs root (the probes run as nobody), the fixture rootfs, and berth for `run`.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::image::{Compression, Layer, TestImage};
use common::registry::{Auth, Registry};
use common::{
    berth_binary, berth_image, berth_image_with, berth_image_within, fixture_rootfs, nobody,
    temp_dir, CgroupParent, Run,
};
use serde_json::json;

/// Pushes the fixture with a setuid-root copy of busybox and two 0666 device nodes.
fn push_dangerous_image(registry: &Registry, config: serde_json::Value) -> String {
    let reference = format!("{}/private/setuid:v1", registry.addr);
    let source = temp_dir();
    let busybox = fs::read(fixture_rootfs().join("bin/busybox")).unwrap();
    TestImage::new("amd64", config)
        .layer(Layer::new().tree(&fixture_rootfs(), "."), Compression::Gzip)
        .layer(
            Layer::new()
                .file_with("bin/sush", &busybox, 0o4755, 0, 0)
                .node_with("disk", tar::EntryType::Block, 7, 0, 0o666)
                .node_with("null", tar::EntryType::Char, 1, 3, 0o666),
            Compression::Gzip,
        )
        .store(source.path(), &reference);
    berth_image(source.path(), &["push", &reference]).ok();
    reference
}

/// A directory every user can traverse, as /var/lib is, whatever the test's umask (0700 would
/// hide the very thing under test).
fn open_dir() -> tempfile::TempDir {
    let dir = temp_dir();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// The image's dangerous files are there, as the image made them, and nobody reaches them.
#[track_caller]
fn assert_kept_but_unreachable(rootfs: &Path) {
    let sush = fs::symlink_metadata(rootfs.join("bin/sush")).unwrap();
    assert_eq!((sush.mode() & 0o7777, sush.uid()), (0o4755, 0));
    let disk = fs::symlink_metadata(rootfs.join("disk")).unwrap();
    assert!(disk.file_type().is_block_device() && disk.mode() & 0o777 == 0o666);
    // The probe itself works: nobody opens what is open to all.
    assert_eq!(nobody::open_errno(Path::new("/dev/null")), 0);
    assert_eq!(
        nobody::exec_errno(&rootfs.join("bin/sush")),
        libc::EACCES,
        "nobody runs the image's setuid-root binary"
    );
    for node in ["disk", "null"] {
        assert_eq!(
            nobody::open_errno(&rootfs.join(node)),
            libc::EACCES,
            "nobody opens the image's device node /{node}"
        );
    }
}

/// Any one of the store's blobs.
fn some_blob(store: &Path) -> PathBuf {
    fs::read_dir(store.join("blobs/sha256"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[test]
fn pull_and_unpack_keep_setuid_binaries_and_devices_from_other_users() {
    let registry = Registry::start(Auth::Anonymous);
    let reference = push_dangerous_image(&registry, json!({"Cmd": ["/bin/sh"]}));
    let top = open_dir();
    let store = top.path().join("store");
    berth_image(&store, &["pull", &reference]).ok();
    assert_eq!(mode(&store), 0o700);
    assert_eq!(nobody::open_errno(&some_blob(&store)), libc::EACCES);

    let bundle = top.path().join("bundle");
    berth_image(&store, &["unpack", &reference, bundle.to_str().unwrap()]).ok();
    assert_eq!(mode(&bundle), 0o700);
    assert_eq!(mode(&bundle.join("rootfs")), 0o755);
    assert_kept_but_unreachable(&bundle.join("rootfs"));
}

/// `berth-image run` of a container that waits for `done` to appear in its rootfs: ended and
/// waited for also when the test fails half-way, before the directories it uses are removed.
struct Container {
    done: PathBuf,
    runner: Option<std::thread::JoinHandle<Run>>,
}

impl Container {
    fn finish(mut self) -> Run {
        let _ = fs::write(&self.done, "");
        self.runner.take().unwrap().join().unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(runner) = self.runner.take() {
            let _ = fs::write(&self.done, "");
            let _ = runner.join();
        }
    }
}

#[test]
fn run_keeps_them_from_other_users_while_the_container_runs() {
    berth_binary();
    let registry = Registry::start(Auth::Anonymous);
    let reference = push_dangerous_image(
        &registry,
        json!({"Cmd": ["/bin/sh", "-c", "touch /ready; while [ ! -e /done ]; do sleep 0.1; done"]}),
    );
    let top = open_dir();
    let store = top.path().join("store");
    let state = temp_dir();
    let cgroup = CgroupParent::new("berth-image-private");
    let rootfs = store.join("bundles/private-run/rootfs");
    let args: Vec<String> = [
        "run",
        "--berth-root",
        state.path().to_str().unwrap(),
        "--cgroup-parent",
        &cgroup.0,
        "--name",
        "private-run",
        &reference,
    ]
    .map(String::from)
    .to_vec();
    let store_path = store.clone();
    let container = Container {
        done: rootfs.join("done"),
        runner: Some(std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            berth_image_within(&store_path, &args, Duration::from_secs(180))
        })),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !rootfs.join("ready").exists() {
        let runner = container.runner.as_ref().unwrap();
        assert!(!runner.is_finished(), "the container ended early");
        assert!(Instant::now() < deadline, "the container never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(mode(&store), 0o700);
    assert_eq!(mode(&store.join("bundles/private-run")), 0o700);
    assert_kept_but_unreachable(&rootfs);
    container.finish().ok();
    assert_eq!(fs::read_dir(store.join("bundles")).unwrap().count(), 0);
}

/// Runs berth-image under `umask`.
fn with_umask(store: &Path, args: &[&str], umask: u32) -> Run {
    berth_image_with(store, args, |command| unsafe {
        command.pre_exec(move || {
            libc::umask(umask);
            Ok(())
        });
    })
}

#[test]
fn older_stores_and_bundles_are_made_private_whatever_the_umask() {
    let top = open_dir();
    let store = top.path().join("store");
    let reference = "test.local/private:v1";
    // Parents without entries of their own: the unpacker makes them.
    TestImage::new("amd64", json!({"Cmd": ["/bin/true"]}))
        .layer(Layer::new().file("a/b/file", b"x"), Compression::Gzip)
        .store(&store, reference);
    for dir in [&store, &store.join("blobs"), &store.join("blobs/sha256")] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    with_umask(&store, &["images"], 0).ok();
    for dir in ["", "blobs", "blobs/sha256", "tmp", "bundles"] {
        assert_eq!(mode(&store.join(dir)), 0o700, "store/{dir}");
    }

    let new = top.path().join("new");
    with_umask(&store, &["unpack", reference, new.to_str().unwrap()], 0).ok();
    assert_eq!(mode(&new), 0o700, "a bundle made under umask 0");

    let empty = top.path().join("empty");
    fs::create_dir(&empty).unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o755)).unwrap();
    with_umask(
        &store,
        &["unpack", reference, empty.to_str().unwrap()],
        0o077,
    )
    .ok();
    assert_eq!(mode(&empty), 0o700, "an empty directory made into a bundle");
    for dir in ["rootfs", "rootfs/a", "rootfs/a/b"] {
        assert_eq!(mode(&empty.join(dir)), 0o755, "{dir} under umask 077");
    }

    // A bundle of an older version: refused (its rootfs is not empty), and made private.
    fs::set_permissions(&new, fs::Permissions::from_mode(0o755)).unwrap();
    let err = berth_image(&store, &["unpack", reference, new.to_str().unwrap()]);
    assert!(err.failed().contains("not empty"), "{err:?}");
    assert_eq!(mode(&new), 0o700, "an older bundle once touched");

    // A directory with other things in it, that others reach: not made a bundle, left as it is.
    let shared = top.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(shared.join("notes"), "mine").unwrap();
    let err = berth_image(&store, &["unpack", reference, shared.to_str().unwrap()]);
    let err = err.failed();
    assert!(
        err.contains(shared.to_str().unwrap()) && err.contains("other users"),
        "{err}"
    );
    assert_eq!(mode(&shared), 0o755);
    assert!(!shared.join("rootfs").exists());

    // Directories of another user: their owner could open them again.
    let theirs = top.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(nobody::NOBODY), Some(nobody::NOBODY)).unwrap();
    let err = berth_image(&store, &["unpack", reference, theirs.to_str().unwrap()]);
    assert!(err.failed().contains("uid 65534"), "{err:?}");
    assert!(!theirs.join("rootfs").exists());
    let err = berth_image(&theirs, &["images"]);
    assert!(err.failed().contains("uid 65534"), "{err:?}");
    assert_eq!(fs::read_dir(&theirs).unwrap().count(), 0);
}
