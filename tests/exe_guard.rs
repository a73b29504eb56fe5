//! CVE-2019-5736: a container whose program is `/proc/self/exe` makes berth's final execve run
//! the host's berth binary inside the container, as a container process. Whatever that process
//! runs as, the file behind its /proc/<pid>/exe must be one nobody can write.
//!
//! berth prints its version into a full pipe there, so it stays blocked while the test looks at
//! its exe link from the host.

mod common;

use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{chown, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{capture, Env, BERTH};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::statvfs::{statvfs, FsFlags};
use serde_json::{json, Value};

const SELF_EXE: [&str; 2] = ["/proc/self/exe", "--version"];
/// The unprivileged user of the rootless case (as in tests/rootless.rs).
const UID: u32 = 64321;

/// A pipe whose buffer is already full: a writer blocks on it. Returns (reader, writer).
fn full_pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = nix::unistd::pipe().unwrap();
    fcntl(&w, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
    while nix::unistd::write(&w, &[0u8; 65536]).is_ok() {}
    fcntl(&w, FcntlArg::F_SETFL(OFlag::empty())).unwrap();
    (r, w)
}

/// Copies the shared libraries and loader `binary` needs into `rootfs` (nothing if static), so
/// the container can run the host's berth.
fn add_libraries(rootfs: &Path, binary: &Path) {
    let out = Command::new("ldd").arg(binary).output().unwrap();
    for lib in String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let dst = rootfs.join(lib.trim_start_matches('/'));
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        fs::copy(lib, &dst).unwrap();
    }
}

/// Waits until `pid` runs `berth --version` from the container, then returns its exe, opened.
fn exe_of_blocked_berth(pid: i32) -> File {
    let start = Instant::now();
    let want = SELF_EXE.join("\0") + "\0";
    loop {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline == want.as_bytes() {
            return File::open(format!("/proc/{pid}/exe")).unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "pid {pid} never ran {SELF_EXE:?}"
        );
        sleep(Duration::from_millis(10));
    }
}

/// Whether the file can never be written: on a read-only mount, or a write-sealed memfd.
fn unwritable(exe: &File, pid: i32) -> bool {
    let ro = statvfs(format!("/proc/{pid}/exe").as_str())
        .unwrap()
        .flags()
        .contains(FsFlags::ST_RDONLY);
    let seals = fcntl(exe, FcntlArg::F_GET_SEALS).unwrap_or(0);
    ro || seals & libc::F_SEAL_WRITE != 0
}

/// A copy of the fixture rootfs that can run the host's berth.
fn rootfs_for_berth(env: &Env) -> PathBuf {
    let rootfs = env.copy_rootfs();
    add_libraries(&rootfs, Path::new(BERTH));
    rootfs
}

fn pid_file(path: &Path) -> i32 {
    fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

#[test]
fn a_container_running_proc_self_exe_cannot_reach_a_writable_berth() {
    let env = Env::new("exe-guard-run");
    let mut cfg = env.config(&SELF_EXE);
    cfg["root"] = json!({ "path": rootfs_for_berth(&env), "readonly": true });
    let bundle = env.write_bundle("eg1", &cfg);
    let (_reader, blocked) = full_pipe();
    let pidfile = env.dir.join("eg1.pid");
    let st = env
        .berth_cmd(&["run", "-d", "--bundle", bundle.to_str().unwrap()])
        .args(["--pid-file", pidfile.to_str().unwrap(), "eg1"])
        .stdin(Stdio::null())
        .stdout(blocked)
        .status()
        .unwrap();
    assert!(st.success());
    let pid = pid_file(&pidfile);
    let exe = exe_of_blocked_berth(pid);
    assert_eq!(
        exe.metadata().unwrap().ino(),
        fs::metadata(BERTH).unwrap().ino(),
        "the container runs berth's own file, through a read-only mount"
    );
    assert!(
        unwritable(&exe, pid),
        "the container reached a writable berth binary"
    );
    env.berth(&["delete", "--force", "eg1"]).ok();
}

#[test]
fn an_exec_of_proc_self_exe_cannot_reach_a_writable_berth() {
    let env = Env::new("exe-guard-exec");
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["root"] = json!({ "path": rootfs_for_berth(&env), "readonly": true });
    let bundle = env.write_bundle("eg2", &cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "eg2"])
        .ok();
    let (_reader, blocked) = full_pipe();
    let pidfile = env.dir.join("eg2.pid");
    let st = env
        .berth_cmd(&["exec", "-d", "--pid-file", pidfile.to_str().unwrap()])
        .args(["eg2", SELF_EXE[0], SELF_EXE[1]])
        .stdin(Stdio::null())
        .stdout(blocked)
        .status()
        .unwrap();
    assert!(st.success());
    let pid = pid_file(&pidfile);
    let exe = exe_of_blocked_berth(pid);
    assert!(
        unwritable(&exe, pid),
        "the exec reached a writable berth binary"
    );
    env.berth(&["delete", "--force", "eg2"]).ok();
}

/// `berth args…` as UID, from `binary`, with its runtime dir below `dir`.
fn as_user(binary: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        format!("--reuid={UID}"),
        format!("--regid={UID}"),
        "--clear-groups".into(),
    ])
    .arg(binary)
    .args(args)
    .current_dir(dir)
    .env("XDG_RUNTIME_DIR", dir.join("run"))
    .stdin(Stdio::null());
    cmd
}

#[test]
fn a_rootless_berth_that_can_write_its_binary_runs_from_a_sealed_copy() {
    let env = Env::new("exe-guard-rootless");
    let dir = &env.dir;
    let rootfs = rootfs_for_berth(&env);
    fs::create_dir_all(dir.join("run")).unwrap();
    for d in [dir, &dir.join("run")] {
        chown(d, Some(UID), Some(UID)).unwrap();
    }
    // The user's own copy of berth: the user, and so the container's root, could write it.
    let berth = dir.join("berth");
    fs::copy(BERTH, &berth).unwrap();
    chown(&berth, Some(UID), Some(UID)).unwrap();
    capture(&mut as_user(&berth, dir, &["spec", "--rootless"]), dir).ok();
    let mut cfg: Value =
        serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
    cfg["root"] = json!({ "path": rootfs, "readonly": true });
    cfg["process"]["terminal"] = json!(false);
    cfg["process"]["args"] = json!(SELF_EXE);
    fs::write(dir.join("config.json"), cfg.to_string()).unwrap();

    let (_reader, blocked) = full_pipe();
    let st = as_user(&berth, dir, &["run", "-d", "--pid-file", "eg3.pid", "eg3"])
        .stdout(blocked)
        .status()
        .unwrap();
    assert!(st.success());
    let pid = pid_file(&dir.join("eg3.pid"));
    let exe = exe_of_blocked_berth(pid);
    assert_ne!(
        exe.metadata().unwrap().ino(),
        fs::metadata(&berth).unwrap().ino()
    );
    assert!(
        unwritable(&exe, pid),
        "the container reached the user's writable berth"
    );
    capture(
        &mut as_user(&berth, dir, &["delete", "--force", "eg3"]),
        dir,
    )
    .ok();
}
