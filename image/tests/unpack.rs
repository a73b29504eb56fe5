//! Unpacking crafted layers: every way out of the rootfs is refused or contained, whiteouts and
//! opaque directories give the right tree, and metadata arrives intact.

mod common;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::image::{Compression, Layer, TestImage};
use common::{berth_image, berth_image_within, temp_dir, Run};
use serde_json::json;

/// Long enough for any unpack here on a busy machine: past it, berth-image hangs.
const HANG: Duration = Duration::from_secs(60);

/// A store holding one image of `layers`, unpacked into a fresh bundle next to a sentinel
/// directory that must stay untouched.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let case = Case { dir: temp_dir() };
        fs::create_dir_all(case.outside()).unwrap();
        fs::write(case.outside().join("passwd"), "host secret\n").unwrap();
        case
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.path().join("bundle/rootfs")
    }

    /// Unpacks into a fresh store and bundle (the outside directory stays).
    fn unpack(&self, layers: Vec<Layer>) -> Run {
        self.unpack_compressed(layers, Compression::Gzip)
    }

    fn unpack_compressed(&self, layers: Vec<Layer>, compression: Compression) -> Run {
        let store = self.dir.path().join("store");
        for dir in [&store, &self.dir.path().join("bundle")] {
            let _ = fs::remove_dir_all(dir);
        }
        let mut image = TestImage::new("amd64", json!({"Cmd": ["/bin/true"]}));
        for layer in layers {
            image = image.layer(layer, compression);
        }
        image.store(&store, "test.local/crafted:v1");
        berth_image_within(
            &store,
            &[
                "unpack",
                "test.local/crafted:v1",
                self.dir.path().join("bundle").to_str().unwrap(),
            ],
            HANG,
        )
    }

    #[track_caller]
    fn assert_outside_untouched(&self) {
        let names: Vec<_> = fs::read_dir(self.outside())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["passwd"],
            "something was written outside the rootfs"
        );
        assert_eq!(
            fs::read_to_string(self.outside().join("passwd")).unwrap(),
            "host secret\n"
        );
    }

    fn outside_str(&self) -> String {
        self.outside().to_str().unwrap().to_string()
    }
}

#[test]
fn dotdot_entries_are_refused_naming_layer_and_path() {
    let case = Case::new();
    let climb = "../../outside/passwd";
    let err = case.unpack(vec![
        Layer::new().file("ok", b"x"),
        Layer::new().file(climb, b"owned\n"),
    ]);
    let err = err.failed();
    assert!(
        err.contains("layer ") && err.contains(climb) && err.contains("refused"),
        "{err}"
    );
    case.assert_outside_untouched();
}

#[test]
fn absolute_entry_paths_stay_inside() {
    let case = Case::new();
    let abs = format!("{}/passwd", case.outside_str());
    case.unpack(vec![Layer::new().file(&abs, b"inside\n")]).ok();
    case.assert_outside_untouched();
    assert_eq!(
        fs::read_to_string(case.rootfs().join(abs.trim_start_matches('/'))).unwrap(),
        "inside\n"
    );
}

#[test]
fn symlinks_pointing_out_are_followed_inside_the_root() {
    let case = Case::new();
    let outside = case.outside_str();
    // The host path does not exist inside the rootfs: refused, nothing written anywhere.
    let err = case.unpack(vec![
        Layer::new().symlink("abs", &outside),
        Layer::new().file("abs/passwd", b"via abs\n"),
    ]);
    assert!(err.failed().contains("\"abs/passwd\""), "{err:?}");
    case.assert_outside_untouched();
    case.unpack(vec![
        Layer::new()
            .symlink("abs", "/")
            .symlink("rel", "../../../../../../..")
            .dir("etc"),
        Layer::new()
            .file("abs/hosts", b"via abs\n")
            .file("rel/etc/passwd", b"via rel\n"),
        // A later layer replaces the symlink's target by writing through it.
        Layer::new()
            .symlink("etc/shadow", &format!("{outside}/passwd"))
            .file("etc/shadow", b"replaced\n"),
    ])
    .ok();
    case.assert_outside_untouched();
    let root = case.rootfs();
    assert_eq!(fs::read_to_string(root.join("hosts")).unwrap(), "via abs\n");
    assert_eq!(
        fs::read_to_string(root.join("etc/passwd")).unwrap(),
        "via rel\n"
    );
    assert!(!fs::symlink_metadata(root.join("etc/shadow"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn hard_links_cannot_reach_host_files() {
    let case = Case::new();
    let outside = case.outside_str();
    let err = case.unpack(vec![
        Layer::new().hard_link("stolen", "../../outside/passwd")
    ]);
    assert!(err.failed().contains("hard link target"), "{err:?}");
    // Through a symlink the target is looked up inside the root, where it does not exist.
    let case2 = Case::new();
    let err = case2.unpack(vec![
        Layer::new().symlink("out", &outside),
        Layer::new().hard_link("stolen", "out/passwd"),
    ]);
    err.failed();
    let err = case.unpack(vec![
        Layer::new().hard_link("stolen", &format!("{outside}/passwd"))
    ]);
    err.failed();
    case.assert_outside_untouched();
    case2.assert_outside_untouched();
    assert_eq!(
        fs::metadata(case.outside().join("passwd")).unwrap().nlink(),
        1
    );
}

#[test]
fn whiteouts_cannot_climb() {
    let case = Case::new();
    for name in ["../outside/.wh.passwd", "a/.wh..."] {
        let err = case.unpack(vec![Layer::new().dir("a"), Layer::new().file(name, b"")]);
        assert!(err.failed().contains("refused"), "{name}: {err:?}");
    }
    // Through a symlink, the whiteout removes inside the root.
    let outside = case.outside_str();
    case.unpack(vec![
        Layer::new().symlink("out", &outside),
        Layer::new().file("out/.wh.passwd", b""),
    ])
    .ok();
    case.assert_outside_untouched();
}

#[test]
fn whiteouts_and_opaque_directories_hide_lower_layers_only() {
    let case = Case::new();
    case.unpack(vec![
        Layer::new()
            .dir("a")
            .file("a/x", b"x")
            .file("a/y", b"y")
            .dir("b")
            .file("b/old", b"old")
            .dir("b/sub")
            .file("b/sub/old", b"o")
            .file("c", b"c")
            .dir("d")
            .file("d/keep", b"k"),
        Layer::new()
            .file("a/.wh.x", b"")
            .file(".wh.c", b"")
            // Order does not matter: the new entries come before the marker.
            .file("b/new", b"new")
            .dir("b/sub")
            .file("b/sub/new", b"n")
            .file("b/.wh..wh..opq", b"")
            .file("d/.wh.missing", b""),
    ])
    .ok();
    let root = case.rootfs();
    let list = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list("a"), ["y"]);
    assert_eq!(list("b"), ["new", "sub"]);
    assert_eq!(list("b/sub"), ["new"]);
    assert_eq!(list("d"), ["keep"]);
    assert!(!root.join("c").exists());
}

#[test]
fn metadata_links_nodes_xattrs_and_all_compressions() {
    let case = Case::new();
    let store = case.dir.path().join("store");
    let image = TestImage::new("amd64", json!({"Cmd": ["/bin/true"]}))
        .layer(
            Layer::new()
                .dir("bin")
                .file_with("bin/su", b"#!", 0o4755, 0, 0)
                .file_with("home", b"h", 0o640, 1000, 1001)
                .dir("etc")
                .file("etc/motd", b"hi"),
            Compression::Gzip,
        )
        .layer(
            Layer::new()
                .symlink("bin/sh", "su")
                .hard_link("bin/su2", "bin/su")
                .node("fifo", tar::EntryType::Fifo, 0, 0),
            Compression::Zstd,
        )
        .layer(
            Layer::new()
                .node("null", tar::EntryType::Char, 1, 3)
                .file_with_xattr("tagged", b"t", "user.berth", b"yes"),
            Compression::None,
        );
    image.store(&store, "test.local/meta:v1");
    berth_image(
        &store,
        &[
            "unpack",
            "test.local/meta:v1",
            case.dir.path().join("bundle").to_str().unwrap(),
        ],
    )
    .ok();
    let root = case.rootfs();
    let meta = |p: &str| fs::symlink_metadata(root.join(p)).unwrap();
    assert_eq!(meta("bin/su").permissions().mode() & 0o7777, 0o4755);
    assert_eq!(meta("bin/su").mtime(), 1_600_000_000);
    assert_eq!(
        meta("etc").mtime(),
        1_600_000_000,
        "directory mtimes survive the files written into them"
    );
    assert_eq!(
        (
            meta("home").uid(),
            meta("home").gid(),
            meta("home").mode() & 0o777
        ),
        (1000, 1001, 0o640)
    );
    assert_eq!(fs::read_link(root.join("bin/sh")).unwrap(), Path::new("su"));
    assert_eq!(meta("bin/su2").ino(), meta("bin/su").ino());
    assert!(meta("fifo").file_type().is_fifo());
    assert!(meta("null").file_type().is_char_device());
    assert_eq!(meta("null").rdev(), rustix::fs::makedev(1, 3));
    let value = rustix::fs::lgetxattr(root.join("tagged"), "user.berth", &mut [0u8; 16]).unwrap();
    assert_eq!(value, 3);
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(case.dir.path().join("bundle/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["process"]["args"], json!(["/bin/true"]));
}

const GIB: u64 = 1 << 30;

#[test]
fn sparse_files_keep_their_holes() {
    let case = Case::new();
    // Uncompressed, so that the blob is large enough for a 1 GiB file: a layer may expand to
    // 64 KiB per byte of its blob, and this one has 17.5 KiB.
    let (head, middle) = ([b'h'; 8192], [b'm'; 8192]);
    case.unpack_compressed(
        vec![Layer::new().sparse_file("sparse", GIB, &[(0, &head), (GIB / 2, &middle)])],
        Compression::None,
    )
    .ok();
    let path = case.rootfs().join("sparse");
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), GIB);
    assert!(
        meta.blocks() * 512 < 1 << 20,
        "{} bytes allocated for 16 KiB of data",
        meta.blocks() * 512
    );
    let mut file = fs::File::open(&path).unwrap();
    let mut read_at = |offset: u64| {
        let mut block = [0u8; 8192];
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.read_exact(&mut block).unwrap();
        block
    };
    assert_eq!(read_at(0), head);
    assert_eq!(read_at(GIB / 2), middle);
    assert_eq!(read_at(GIB / 4), [0; 8192]);
    assert_eq!(read_at(GIB - 8192), [0; 8192]);
}

#[test]
fn a_layer_expanding_far_past_its_size_is_refused() {
    let case = Case::new();
    // A few hundred compressed bytes that claim a 1 TiB file: reading its holes would take
    // about a minute of CPU, for nothing.
    let err = case.unpack(vec![Layer::new().file("small", b"x").sparse_file(
        "huge",
        1024 * GIB,
        &[(0, &[b'h'; 512])],
    )]);
    let err = err.failed();
    assert!(
        err.contains("layer ") && err.contains("\"huge\"") && err.contains("refused"),
        "{err}"
    );
    assert!(!case.rootfs().join("huge").exists());
}

#[test]
fn passwd_and_group_are_read_only_when_they_are_regular_files() {
    let case = Case::new();
    // Opening a fifo for reading waits for a writer: once, unpack hung here for ever.
    let err = case.unpack(vec![Layer::new().dir("etc").node(
        "etc/passwd",
        tar::EntryType::Fifo,
        0,
        0,
    )]);
    let err = err.failed();
    assert!(err.contains("/etc/passwd") && err.contains("fifo"), "{err}");
    // Opening a device node runs its driver.
    let err = case.unpack(vec![Layer::new()
        .dir("etc")
        .file("etc/passwd", b"root:x:0:0::/:/bin/sh\n")
        .node("etc/group", tar::EntryType::Char, 1, 3)]);
    let err = err.failed();
    assert!(
        err.contains("/etc/group") && err.contains("character device"),
        "{err}"
    );
}
