//! Layers unpacked into a fresh rootfs, confined. The unpacking runs on a thread of its own, in a
//! mount namespace of its own where every mount is read-only but a tmpfs over /tmp; that holds
//! the rootfs and, beside it, `outside`, a directory the unpacking must never touch, which is also
//! the thread's working directory. A write outside the rootfs then either fails with EROFS or
//! lands in /tmp, and both are caught — and the host is safe from a fuzzer that runs as root.

use std::collections::HashSet;
use std::ffi::CStr;
use std::fs;
use std::io::{self, Cursor};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Mutex, OnceLock};

use anyhow::Result;

use crate::entry_write::Writer;
use crate::inroot::RootDir;
use crate::unpack::{apply_layer, Budget};

const TOP: &str = "/tmp";
const ROOTFS: &str = "/tmp/rootfs";
const OUTSIDE: &str = "/tmp/outside";
const CANARY: &str = "/tmp/outside/canary";
/// Layers past this many are not applied: more only repeat what the fuzzer can do with fewer.
const MAX_LAYERS: usize = 4;

type Job = (Vec<u8>, SyncSender<()>);

static WORKER: OnceLock<Mutex<SyncSender<Job>>> = OnceLock::new();

/// `data`: one layer's tar stream, or several concatenated, each applied over the ones before.
/// Nothing outside the rootfs changes; no descriptor stays open; and the rootfs takes no more
/// space than the layers' bytes (and a page per file) could fill.
pub fn unpack(data: &[u8]) {
    let worker = WORKER.get_or_init(|| Mutex::new(start()));
    let (done, wait) = sync_channel(0);
    worker
        .lock()
        .unwrap()
        .send((data.to_vec(), done))
        .expect("the unpacking thread is alive");
    wait.recv().expect("the unpacking thread answers");
}

fn start() -> SyncSender<Job> {
    let (jobs, receive) = sync_channel::<Job>(0);
    let (ready, is_ready) = sync_channel(0);
    std::thread::spawn(move || {
        confine();
        ready.send(()).unwrap();
        for (data, done) in receive {
            unpack_confined(&data);
            done.send(()).unwrap();
        }
    });
    is_ready.recv().expect("the unpacking thread is confined");
    jobs
}

/// This thread's own mount namespace (and with it its own cwd and umask: CLONE_NEWNS implies
/// CLONE_FS), every mount read-only, a tmpfs on /tmp.
fn confine() {
    fn check(ret: libc::c_long, what: &str) {
        assert!(ret == 0, "{what}: {}", io::Error::last_os_error());
    }
    let root: &CStr = c"/";
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: syscalls on this thread's own namespace, with valid strings and a valid attr.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS).into(), "unshare");
        let private = libc::MS_REC | libc::MS_PRIVATE;
        let none = std::ptr::null();
        check(
            libc::mount(none, root.as_ptr(), none, private, std::ptr::null()).into(),
            "making / private",
        );
        check(
            libc::syscall(
                libc::SYS_mount_setattr,
                libc::AT_FDCWD,
                root.as_ptr(),
                libc::AT_RECURSIVE,
                &attr,
                size_of::<libc::mount_attr>(),
            ),
            "making every mount read-only",
        );
        check(
            libc::mount(
                c"berth-fuzz".as_ptr(),
                c"/tmp".as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"size=64m,mode=0755".as_ptr().cast(),
            )
            .into(),
            "mounting a tmpfs on /tmp",
        );
    }
    fs::create_dir(OUTSIDE).unwrap();
    fs::write(CANARY, "canary").unwrap();
    std::env::set_current_dir(OUTSIDE).unwrap();
    // As `unpack_image`: modes come from the archive exactly.
    rustix::process::umask(rustix::fs::Mode::empty());
}

fn unpack_confined(data: &[u8]) {
    fs::create_dir(ROOTFS).unwrap();
    let fds = names(Path::new("/proc/self/fd"));
    let result = apply_layers(data);
    if let Err(e) = &result {
        assert!(!is_erofs(e), "a write outside the rootfs: {e:#}");
    }
    assert_eq!(
        names(Path::new(TOP)),
        ["outside", "rootfs"],
        "beside the rootfs"
    );
    assert_eq!(
        names(Path::new(OUTSIDE)),
        ["canary"],
        "in the working directory"
    );
    let canary = fs::symlink_metadata(CANARY).unwrap();
    assert_eq!(fs::read(CANARY).unwrap(), b"canary");
    assert_eq!(canary.permissions().mode() & 0o7777, 0o644);
    assert_eq!(
        names(Path::new("/proc/self/fd")),
        fds,
        "descriptors left open"
    );
    if result.is_ok() {
        let (bytes, files) = used(Path::new(ROOTFS));
        let bound = 2 * data.len() as u64 + 8192 * (files + 1);
        assert!(
            bytes <= bound,
            "{bytes} bytes in {files} files from a {}-byte input",
            data.len()
        );
    }
    fs::remove_dir_all(ROOTFS).unwrap();
}

fn apply_layers(data: &[u8]) -> Result<()> {
    let root = RootDir::open(Path::new(ROOTFS))?;
    let mut writer = Writer::new();
    let mut stream = Cursor::new(data);
    for _ in 0..MAX_LAYERS {
        let before = stream.position();
        if before as usize >= data.len() {
            break;
        }
        apply_layer(
            &root,
            &mut writer,
            &mut stream,
            Budget::for_blob(data.len() as u64),
        )?;
        if stream.position() == before {
            break;
        }
    }
    Ok(())
}

fn is_erofs(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
            == Some(libc::EROFS)
    }) || format!("{e:#}").contains("Read-only file system")
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The bytes allocated under `dir` and the number of inodes, each inode once.
fn used(dir: &Path) -> (u64, u64) {
    let mut seen = HashSet::new();
    let mut bytes = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = fs::symlink_metadata(&path).unwrap();
        if !seen.insert(meta.ino()) {
            continue;
        }
        bytes += meta.blocks() * 512;
        if meta.is_dir() {
            pending.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    (bytes, seen.len() as u64)
}
