//! The host around the benchmark: a cgroup layout all three runtimes accept, the subreaper
//! role, clean-up of what the benchmark made, and the facts the report quotes.

use std::ffi::{CString, OsStr};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::bundle::CGROUP_PARENT;
use crate::runtime::{Kind, Tool};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const UNIFIED: &str = "/sys/fs/cgroup/unified";
const HUGETLB: &str = "/sys/fs/cgroup/hugetlb";

pub struct Host {
    /// How the runtimes see cgroups, for the report.
    pub cgroups: String,
    mounted_hugetlb: bool,
    created_hugetlb_dir: bool,
}

impl Host {
    /// Makes the benchmark the subreaper of the containers it creates (as a containerd shim is:
    /// a created container's init is reparented to us and reaped by us), and gives crun a cgroup
    /// layout it accepts.
    ///
    /// crun refuses a hybrid host whose cgroup2 hierarchy has controllers. Here that is
    /// hugetlb, which is moved to a v1 hierarchy of its own when it is free; when it is in use
    /// in the cgroup2 tree (or other controllers are there), the cgroup2 mount is hidden instead,
    /// in a private mount namespace of this process that every runtime inherits, so all three
    /// see the same pure v1 layout and nothing on the host changes.
    pub fn prepare() -> Result<Host> {
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            bail!(
                "PR_SET_CHILD_SUBREAPER: {}",
                std::io::Error::last_os_error()
            );
        }
        let mut host = Host {
            cgroups: String::new(),
            mounted_hugetlb: false,
            created_hugetlb_dir: false,
        };
        if fs_magic(CGROUP_ROOT)? == libc::CGROUP2_SUPER_MAGIC {
            host.cgroups = "cgroup v2".into();
            return Ok(host);
        }
        if !Path::new(UNIFIED).exists() || fs_magic(UNIFIED)? != libc::CGROUP2_SUPER_MAGIC {
            host.cgroups = "cgroup v1".into();
            return Ok(host);
        }
        let controllers = fs::read_to_string(format!("{UNIFIED}/cgroup.controllers"))?;
        let controllers: Vec<&str> = controllers.split_whitespace().collect();
        if controllers.is_empty() {
            host.cgroups = "hybrid (v1 controllers, an empty cgroup2 hierarchy)".into();
            return Ok(host);
        }
        if controllers == ["hugetlb"] && host.mount_hugetlb() {
            host.cgroups = "hybrid (v1 controllers, an empty cgroup2 hierarchy; \
                            hugetlb mounted as v1 by the benchmark for crun)"
                .into();
            return Ok(host);
        }
        hide_unified()?;
        host.cgroups = format!(
            "v1 only: this hybrid host's cgroup2 hierarchy carries `{}`, in use (so it cannot \
             move to v1) and refused by crun; the benchmark hides the cgroup2 mount in its own \
             mount namespace, which all three runtimes share",
            controllers.join(" ")
        );
        Ok(host)
    }

    /// `mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup …`; false (and
    /// nothing left behind) when the kernel refuses, e.g. hugetlb enabled in a cgroup2 subtree.
    fn mount_hugetlb(&mut self) -> bool {
        self.created_hugetlb_dir = !Path::new(HUGETLB).exists();
        if self.created_hugetlb_dir && fs::create_dir(HUGETLB).is_err() {
            return false;
        }
        if let Err(e) = mount_hugetlb_v1() {
            eprintln!("berth-bench: cannot mount hugetlb as v1 ({e}): hiding cgroup2 instead");
            if self.created_hugetlb_dir {
                let _ = fs::remove_dir(HUGETLB);
            }
            return false;
        }
        self.mounted_hugetlb = true;
        true
    }

    /// Undoes the hugetlb mount if this run made it and nobody else has cgroups in it since.
    pub fn finish(&self) {
        if !self.mounted_hugetlb {
            return;
        }
        let busy = fs::read_dir(HUGETLB)
            .map(|d| d.flatten().any(|e| e.path().is_dir()))
            .unwrap_or(false);
        if busy {
            eprintln!("berth-bench: {HUGETLB} holds cgroups of others now: left mounted");
            return;
        }
        // The kernel frees an unmounted v1 root only if no cgroup in it is still dying at the
        // umount (the runtimes' just removed ones may be); else hugetlb stays bound to a root
        // nobody can see, out of cgroup2, until the next mount and umount of it. So: umount,
        // wait up to 2 s (the root is freed asynchronously), and mount and umount again until
        // hugetlb is back in cgroup2.
        let target = cs(HUGETLB);
        'cycles: for cycle in 0..10 {
            if cycle > 0 && mount_hugetlb_v1().is_err() {
                break;
            }
            if unsafe { libc::umount(target.as_ptr()) } != 0 {
                eprintln!(
                    "berth-bench: umount {HUGETLB}: {}",
                    std::io::Error::last_os_error()
                );
                return;
            }
            for _ in 0..20 {
                if unified_has_hugetlb() {
                    break 'cycles;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        if !unified_has_hugetlb() {
            eprintln!("berth-bench: hugetlb did not return to cgroup2 (a v1 root of it lingers)");
        }
        if self.created_hugetlb_dir {
            let _ = fs::remove_dir(HUGETLB);
        }
    }
}

/// `mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb`.
fn mount_hugetlb_v1() -> std::io::Result<()> {
    let (src, target, typ, data) = (cs("cgroup"), cs(HUGETLB), cs("cgroup"), cs("hugetlb"));
    // SAFETY: plain mount(2) with valid C strings.
    let r = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            typ.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn unified_has_hugetlb() -> bool {
    fs::read_to_string(format!("{UNIFIED}/cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "hugetlb"))
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn fs_magic(path: &str) -> Result<libc::c_long> {
    let p = cs(path);
    // SAFETY: statfs fills a plain struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(p.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error()).context(format!("statfs {path}"));
    }
    Ok(st.f_type)
}

/// A private mount namespace (a slave of the host's, so nothing propagates back) without the
/// cgroup2 mount.
fn hide_unified() -> Result<()> {
    let (root, unified) = (cs("/"), cs(UNIFIED));
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0
            || libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_SLAVE,
                std::ptr::null(),
            ) != 0
            || libc::umount2(unified.as_ptr(), libc::MNT_DETACH) != 0
        {
            return Err(std::io::Error::last_os_error())
                .context("hiding the cgroup2 mount in a private mount namespace");
        }
    }
    Ok(())
}

/// A directory found below /berth-bench after every container was deleted.
pub struct Leftover {
    pub path: PathBuf,
    /// On a plain tmpfs (the mount point of a hidden cgroup2 hierarchy), not a cgroup.
    pub plain: bool,
}

/// Deletes every container left in the runtimes' state roots, reaps their inits (ours as the
/// subreaper), and removes /berth-bench from every cgroup hierarchy. Returns the directories
/// that were still there (a runtime that leaves its cgroup behind shows up here).
pub fn clean_up(tools: &[Tool]) -> Vec<Leftover> {
    for t in tools.iter().filter(|t| t.kind == Kind::Oci) {
        for id in fs::read_dir(&t.root).into_iter().flatten().flatten() {
            let id = id.file_name();
            let args = [OsStr::new("delete"), OsStr::new("--force"), &id];
            if let Ok(mut cmd) = t.command(&args) {
                let _ = cmd.status();
            }
        }
    }
    // Reap whatever was reparented to us and has exited (no runtime runs at this point).
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}

    let mut left = Vec::new();
    for dir in cgroup_roots() {
        let parent = dir.join(CGROUP_PARENT);
        if parent.is_dir() {
            // A hidden cgroup2 mount leaves a plain tmpfs directory where runtimes may have
            // created directories and files (crun writes cgroup.procs there): remove those too.
            let plain = fs_magic(&dir.to_string_lossy()).ok() == Some(libc::TMPFS_MAGIC);
            remove_tree(&parent, &parent, plain, &mut left);
        }
    }
    left
}

/// rmdir depth-first (and unlink files when `plain`); records the directories below `top`.
fn remove_tree(dir: &Path, top: &Path, plain: bool, found: &mut Vec<Leftover>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            remove_tree(&e.path(), top, plain, found);
        } else if plain {
            let _ = fs::remove_file(e.path());
        }
    }
    if dir != top {
        found.push(Leftover {
            path: dir.to_owned(),
            plain,
        });
    }
    if let Err(e) = fs::remove_dir(dir) {
        eprintln!("berth-bench: rmdir {}: {e}", dir.display());
    }
}

/// Where cgroup hierarchies are (or were, if hidden): cgroup mounts from /proc/self/mountinfo,
/// and every directory of a tmpfs /sys/fs/cgroup.
fn cgroup_roots() -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut roots: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fstype = post.split_whitespace().next()?;
            let mountpoint = pre.split_whitespace().nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(mountpoint))
        })
        .collect();
    if fs_magic(CGROUP_ROOT).ok() == Some(libc::TMPFS_MAGIC) {
        for e in fs::read_dir(CGROUP_ROOT).into_iter().flatten().flatten() {
            if !roots.contains(&e.path()) && e.path().is_dir() {
                roots.push(e.path());
            }
        }
    }
    roots
}

/// Removes the runtimes' (by now empty) state roots.
pub fn remove_roots(tools: &[Tool]) {
    for t in tools {
        let _ = fs::remove_dir(&t.root);
    }
    let _ = fs::remove_dir("/run/berth-bench");
}

pub fn load_average() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first line of a command's output, or "?".
pub fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into())
}

pub fn kernel() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".into())
}

/// Shared libraries `ldd` lists for `bin` (without the vDSO and the dynamic loader), or empty
/// for a static binary.
pub fn shared_libraries(bin: &Path) -> Vec<String> {
    let out = Command::new("ldd").arg(bin).output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| !name.starts_with("linux-vdso") && *name != "statically")
        .map(|name| name.rsplit('/').next().unwrap_or(name).to_owned())
        .filter(|name| !name.starts_with("ld-linux"))
        .collect()
}

/// Resolves a program name through $PATH to an absolute path (so each spawn skips the search).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return fs::canonicalize(name).ok();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
