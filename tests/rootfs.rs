//! The container's root filesystem, mounts and devices, as a process inside sees them:
//! /proc/self/mountinfo, ls/stat of nodes, writes that fail, programs that will not run.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{eventually, fixture_rootfs, Env, Run};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers

/// One line of /proc/<pid>/mountinfo.
#[derive(Clone, Debug)]
struct Mnt {
    id: u32,
    parent: u32,
    /// major:minor of the filesystem.
    dev: String,
    /// The path inside the filesystem that is mounted (field 4).
    root: String,
    point: String,
    /// Per-mount options (ro, nosuid, relatime, …).
    opts: String,
    /// Optional fields: shared:N, master:N, …
    fields: Vec<String>,
    fstype: String,
    source: String,
    /// Superblock options (size=…, mode=…, controllers, …).
    sopts: String,
}

impl Mnt {
    fn field(&self, tag: &str) -> Option<&str> {
        self.fields
            .iter()
            .find_map(|f| f.strip_prefix(tag)?.strip_prefix(':'))
    }
}

fn parse_mountinfo(text: &str) -> Vec<Mnt> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (pre, post) = l.split_once(" - ").unwrap_or_else(|| panic!("{l:?}"));
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            Mnt {
                id: pre[0].parse().unwrap(),
                parent: pre[1].parse().unwrap(),
                dev: pre[2].to_owned(),
                root: pre[3].to_owned(),
                point: pre[4].to_owned(),
                opts: pre[5].to_owned(),
                fields: pre[6..].iter().map(|s| s.to_string()).collect(),
                fstype: post[0].to_owned(),
                source: post[1].to_owned(),
                // tmpfs shows inode64 where the kernel is built with TMPFS_INODE64 (Debian's
                // 6.1 in the cgroup v2 VMs) and not elsewhere: not an option berth sets.
                sopts: post[2]
                    .split(',')
                    .filter(|o| *o != "inode64")
                    .collect::<Vec<_>>()
                    .join(","),
            }
        })
        .collect()
}

/// The topmost mount at `point`.
#[track_caller]
fn at<'a>(mounts: &'a [Mnt], point: &str) -> &'a Mnt {
    mounts
        .iter()
        .rev()
        .find(|m| m.point == point)
        .unwrap_or_else(|| panic!("no mount at {point} in {mounts:#?}"))
}

fn host_mountinfo() -> Vec<Mnt> {
    parse_mountinfo(&fs::read_to_string("/proc/self/mountinfo").unwrap())
}

/// What mountinfo shows as `root` for a bind of host path `p`: the path inside the filesystem
/// of the host mount that holds it.
fn host_fs_path(p: &Path) -> String {
    let p = p.to_str().unwrap();
    let m = host_mountinfo()
        .into_iter()
        .filter(|m| m.point == "/" || p == m.point || p.starts_with(&format!("{}/", m.point)))
        .max_by_key(|m| m.point.len())
        .unwrap();
    let rest = if m.point == "/" {
        p
    } else {
        &p[m.point.len()..]
    };
    let root = m.root.trim_end_matches('/');
    format!("{root}{rest}")
}

/// The parts of a container's stdout separated by lines `--`.
fn sections(out: &str) -> Vec<&str> {
    out.split("--\n").collect()
}

/// A script prefix that prints the container's mountinfo and a `--` separator.
const MOUNTINFO: &str = "cat /proc/self/mountinfo; echo --; ";

/// Asserts that no mount of the host mentions the test's directory or the fixture rootfs.
#[track_caller]
fn assert_no_host_mounts(env: &Env) {
    let dir = env.dir.to_str().unwrap();
    let fixture = fixture_rootfs();
    let fixture = fixture.to_str().unwrap();
    let left: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(dir) || l.contains(fixture))
        .map(str::to_owned)
        .collect();
    assert!(left.is_empty(), "host mounts left behind: {left:#?}");
}

/// The end of every test: each container is gone and the host has no mount of the test.
#[track_caller]
fn assert_clean(env: &Env, ids: &[&str]) {
    for id in ids {
        env.assert_gone(id);
    }
    assert_no_host_mounts(env);
}

fn use_rootfs(cfg: &mut Value, rootfs: &Path) {
    cfg["root"]["path"] = json!(rootfs);
}

fn add_mount(cfg: &mut Value, m: Value) {
    cfg["mounts"].as_array_mut().unwrap().push(m);
}

fn bind(dest: &str, source: &Path, options: &[&str]) -> Value {
    json!({ "destination": dest, "type": "bind", "source": source, "options": options })
}

fn tmpfs(dest: &str, options: &[&str]) -> Value {
    json!({ "destination": dest, "type": "tmpfs", "source": "tmpfs", "options": options })
}

/// A mount made on the host for the test, detached again on drop.
struct HostMount(PathBuf);

impl HostMount {
    fn tmpfs(at: &Path) -> HostMount {
        fs::create_dir_all(at).unwrap();
        mount(
            Some("tmpfs"),
            at,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1m"),
        )
        .unwrap();
        HostMount(at.to_owned())
    }

    /// `dir` bound onto itself and made shared (a peer group host mounts propagate from).
    fn shared(dir: &Path) -> HostMount {
        fs::create_dir_all(dir).unwrap();
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).unwrap();
        let guard = HostMount(dir.to_owned());
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
        guard
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

fn mknod(path: &Path, major: u64, minor: u64) {
    nix::sys::stat::mknod(
        path,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(major, minor),
    )
    .unwrap();
    // mknod is subject to the umask.
    fs::set_permissions(path, fs::Permissions::from_mode(0o666)).unwrap();
}

/// Names in a host directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Creates `id` with its stdio in files, calls `between` while it waits for `start`, starts it
/// and returns what it printed once it stopped (then deletes it).
fn run_created(env: &Env, id: &str, cfg: &Value, between: impl FnOnce()) -> Run {
    let bundle = env.write_bundle(id, cfg);
    let (out, err) = (
        env.dir.join(format!("{id}.out")),
        env.dir.join(format!("{id}.err")),
    );
    let st = env
        .berth_cmd(&["create", "--bundle", bundle.to_str().unwrap(), id])
        .stdin(std::process::Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(
        st.success(),
        "create failed: {}",
        fs::read_to_string(&err).unwrap()
    );
    between();
    env.berth(&["start", id]).ok();
    eventually("the container to stop", || env.status(id) == "stopped");
    env.berth(&["delete", id]).ok();
    Run {
        code: 0,
        stdout: fs::read_to_string(&out).unwrap(),
        stderr: fs::read_to_string(&err).unwrap(),
    }
}

fn add_namespace(cfg: &mut Value, typ: &str) {
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": typ }));
}

fn identity_userns(cfg: &mut Value) {
    common::with_user_namespace(cfg, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// The mounts of the base config

#[test]
fn base_config_mounts_have_their_types_and_options() {
    let env = Env::new("rootfs-base-mounts");
    let out = env.sh(
        "base",
        &format!("{MOUNTINFO}stat -c '%n %a' /dev /dev/shm /dev/mqueue /dev/pts"),
        |_| {},
    );
    let s = sections(out.ok());
    let mounts = parse_mountinfo(s[0]);
    let points: Vec<&str> = mounts.iter().take(8).map(|m| m.point.as_str()).collect();
    assert_eq!(
        points,
        [
            "/",
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/sys",
            "/sys/fs/cgroup"
        ],
        "{mounts:#?}"
    );
    let root = at(&mounts, "/");
    assert_eq!(root.opts, "ro,relatime", "root.readonly: {root:?}");
    assert_eq!(root.root, host_fs_path(&fixture_rootfs()));
    // (point, fstype, source, mount options, superblock options, parent)
    let expected = [
        ("/proc", "proc", "proc", "rw,relatime", "rw", "/"),
        (
            "/dev",
            "tmpfs",
            "tmpfs",
            "rw,nosuid",
            "rw,size=65536k,mode=755",
            "/",
        ),
        (
            "/dev/pts",
            "devpts",
            "devpts",
            "rw,nosuid,noexec,relatime",
            "rw,gid=5,mode=620,ptmxmode=666",
            "/dev",
        ),
        (
            "/dev/shm",
            "tmpfs",
            "shm",
            "rw,nosuid,nodev,noexec,relatime",
            "rw,size=65536k",
            "/dev",
        ),
        (
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            "rw,nosuid,nodev,noexec,relatime",
            "rw",
            "/dev",
        ),
        (
            "/sys",
            "sysfs",
            "sysfs",
            "ro,nosuid,nodev,noexec,relatime",
            "rw",
            "/",
        ),
    ];
    // /sys/fs/cgroup: a tmpfs holding the hierarchies, or on a pure v2 host a bind of the
    // container's cgroup (without a cgroup namespace), which shows the host mount's source.
    let host_cgroup = at(&host_mountinfo(), "/sys/fs/cgroup").clone();
    let cgroup = if host_unified() {
        (
            host_cgroup.fstype.as_str(),
            host_cgroup.source.as_str(),
            host_cgroup.sopts.as_str(),
        )
    } else {
        ("tmpfs", "cgroup", "rw,mode=755")
    };
    let expected = expected.into_iter().chain([(
        "/sys/fs/cgroup",
        cgroup.0,
        cgroup.1,
        "ro,nosuid,nodev,noexec,relatime",
        cgroup.2,
        "/sys",
    )]);
    for (point, fstype, source, opts, sopts, parent) in expected {
        // What each mount shows of its filesystem: all of it, but the container's own
        // cgroup where that is bound from the host's cgroup2.
        let fs_root = if point == "/sys/fs/cgroup" && host_unified() {
            env.cgroup_path("base")
        } else {
            "/".to_owned()
        };
        let m = at(&mounts, point);
        assert_eq!(
            (
                m.fstype.as_str(),
                m.source.as_str(),
                m.opts.as_str(),
                m.sopts.as_str()
            ),
            (fstype, source, opts, sopts),
            "{m:?}"
        );
        assert_eq!(m.parent, at(&mounts, parent).id, "parent of {point}");
        assert_eq!(m.root, fs_root, "{m:?}");
    }
    // strictatime on /dev shows as the absence of relatime/noatime; mode=1777 of /dev/shm is
    // the tmpfs default, which mountinfo leaves out.
    assert_eq!(
        s[1],
        "/dev 755\n/dev/shm 1777\n/dev/mqueue 1777\n/dev/pts 755\n"
    );
    assert_clean(&env, &["base"]);
}

/// The host's cgroup hierarchies, by the name of their mount point below /sys/fs/cgroup:
/// (fstype, superblock options). A pure v2 host has one, named "": /sys/fs/cgroup itself.
fn host_cgroup_hierarchies() -> BTreeMap<String, (String, String)> {
    host_mountinfo()
        .into_iter()
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .filter_map(|m| {
            let name = match m.point.strip_prefix("/sys/fs/cgroup")? {
                "" => "",
                rest => rest.strip_prefix('/')?,
            };
            Some((name.to_owned(), (m.fstype, m.sopts)))
        })
        .collect()
}

/// Whether the host's /sys/fs/cgroup is itself the cgroup2 hierarchy (as in the cgroup v2 VMs).
fn host_unified() -> bool {
    host_cgroup_hierarchies().contains_key("")
}

/// Where the container's cgroup of `controller` shows inside: its directory of the v1
/// hierarchy, or /sys/fs/cgroup itself on a pure v2 host.
fn cgroup_dir_inside(controller: &str) -> String {
    if host_unified() {
        "/sys/fs/cgroup".to_owned()
    } else {
        format!("/sys/fs/cgroup/{controller}")
    }
}

/// Checks the container's /sys/fs/cgroup: one read-only mount per host hierarchy, each
/// showing `root` (on a v1 or hybrid host inside a tmpfs, on a pure v2 host the one cgroup2
/// mount, topmost on /sys/fs/cgroup); returns nothing, panics on a difference.
#[track_caller]
fn assert_cgroup_mounts(mounts: &[Mnt], root: &str) {
    let top = at(mounts, "/sys/fs/cgroup");
    let check = |m: &Mnt| {
        assert_eq!(m.opts, "ro,nosuid,nodev,noexec,relatime", "{m:?}");
        assert_eq!(m.root, root, "{m:?}");
        (m.fstype.clone(), m.sopts.clone())
    };
    let inside: BTreeMap<String, (String, String)> = if host_unified() {
        BTreeMap::from([(String::new(), check(top))])
    } else {
        mounts
            .iter()
            .filter_map(|m| {
                let name = m.point.strip_prefix("/sys/fs/cgroup/")?.to_owned();
                assert_eq!(m.parent, top.id, "{m:?}");
                Some((name, check(m)))
            })
            .collect()
    };
    let host = host_cgroup_hierarchies();
    assert!(!host.is_empty());
    assert_eq!(inside, host);
}

#[test]
fn cgroup_hierarchies_are_the_containers_own_cgroups_without_cgroupns() {
    let env = Env::new("rootfs-cgroup-nons");
    let pids = cgroup_dir_inside("pids");
    let out = env.sh(
        "cg1",
        &format!(
            "{MOUNTINFO}head -1 {pids}/cgroup.procs; \
             mkdir {pids}/x 2>&1; mkdir /sys/fs/cgroup/x 2>&1; \
             echo --; cat /proc/self/cgroup"
        ),
        |_| {},
    );
    let s = sections(&out.stdout);
    let mounts = parse_mountinfo(s[0]);
    assert_cgroup_mounts(&mounts, &env.cgroup_path("cg1"));
    // The bound directory is the container's cgroup: its init (pid 1 inside) is in it.
    assert_eq!(
        s[1],
        format!(
            "1\nmkdir: can't create directory '{pids}/x': Read-only file system\n\
             mkdir: can't create directory '/sys/fs/cgroup/x': Read-only file system\n"
        )
    );
    for line in s[2].lines() {
        assert!(
            line.ends_with(&format!(":{}", env.cgroup_path("cg1"))),
            "{line}"
        );
    }
    assert_clean(&env, &["cg1"]);
}

#[test]
fn cgroup_hierarchies_show_their_root_with_cgroupns() {
    let env = Env::new("rootfs-cgroup-ns");
    let out = env.sh(
        "cg2",
        &format!(
            "{MOUNTINFO}cat /proc/self/cgroup; head -1 {}/cgroup.procs",
            cgroup_dir_inside("pids")
        ),
        |c| add_namespace(c, "cgroup"),
    );
    let s = sections(out.ok());
    let mounts = parse_mountinfo(s[0]);
    assert_cgroup_mounts(&mounts, "/");
    let lines: Vec<&str> = s[1].lines().collect();
    assert_eq!(
        lines.len(),
        host_cgroup_hierarchies().len() + 1,
        "{lines:?}"
    );
    for line in &lines[..lines.len() - 1] {
        assert!(line.ends_with(":/"), "{line}");
    }
    assert_eq!(lines[lines.len() - 1], "1");
    assert_clean(&env, &["cg2"]);
}

// ---------------------------------------------------------------------------------------------
// Bind mounts

#[test]
fn bind_mounts_of_host_directories_and_files() {
    let env = Env::new("rootfs-bind");
    let rootfs = env.copy_rootfs();
    let hostdir = env.dir.join("hostdir");
    fs::create_dir(&hostdir).unwrap();
    fs::write(hostdir.join("greeting"), "hello\n").unwrap();
    let hostfile = env.dir.join("hostfile.txt");
    fs::write(&hostfile, "file content\n").unwrap();
    // Sources relative to the bundle directory.
    let bundle = env.bundle("b1");
    fs::create_dir_all(bundle.join("reldir")).unwrap();
    fs::write(bundle.join("reldir/inner"), "relative dir\n").unwrap();
    fs::write(bundle.join("relfile"), "relative file\n").unwrap();

    let out = env.sh(
        "b1",
        &format!(
            "{MOUNTINFO}cat /mnt/dir/greeting /mnt/file.txt /mnt/reldir/inner /etc/relfile; \
             echo written > /mnt/dir/from-container; echo more >> /mnt/file.txt"
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, bind("/mnt/dir", &hostdir, &["bind"]));
            add_mount(c, bind("/mnt/file.txt", &hostfile, &["bind"]));
            add_mount(c, bind("/mnt/reldir", Path::new("reldir"), &["rbind"]));
            add_mount(c, bind("/etc/relfile", Path::new("relfile"), &["bind"]));
        },
    );
    let s = sections(out.ok());
    assert_eq!(s[1], "hello\nfile content\nrelative dir\nrelative file\n");
    let mounts = parse_mountinfo(s[0]);
    for (point, source) in [
        ("/mnt/dir", hostdir.clone()),
        ("/mnt/file.txt", hostfile.clone()),
        ("/mnt/reldir", bundle.join("reldir")),
        ("/etc/relfile", bundle.join("relfile")),
    ] {
        let m = at(&mounts, point);
        assert_eq!(m.root, host_fs_path(&source), "{m:?}");
        assert_eq!(m.opts, "rw,relatime", "{m:?}");
    }
    // The binds are the host's files: writes show on the host.
    assert_eq!(
        fs::read_to_string(hostdir.join("from-container")).unwrap(),
        "written\n"
    );
    assert_eq!(
        fs::read_to_string(&hostfile).unwrap(),
        "file content\nmore\n"
    );
    assert_clean(&env, &["b1"]);
}

#[test]
fn bind_leaves_out_submounts_and_rbind_keeps_them() {
    let env = Env::new("rootfs-rbind");
    let rootfs = env.copy_rootfs();
    let src = env.dir.join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("top"), "").unwrap();
    let sub = HostMount::tmpfs(&src.join("sub"));
    fs::write(src.join("sub/marker"), "in the submount\n").unwrap();

    let out = env.sh(
        "rb",
        &format!("{MOUNTINFO}ls -A /mnt/b /mnt/b/sub; echo --; ls -A /mnt/rb /mnt/rb/sub"),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, bind("/mnt/b", &src, &["bind"]));
            add_mount(c, bind("/mnt/rb", &src, &["rbind"]));
        },
    );
    let s = sections(out.ok());
    assert_eq!(s[1], "/mnt/b:\nsub\ntop\n\n/mnt/b/sub:\n");
    assert_eq!(s[2], "/mnt/rb:\nsub\ntop\n\n/mnt/rb/sub:\nmarker\n");
    let mounts = parse_mountinfo(s[0]);
    assert!(
        mounts.iter().all(|m| m.point != "/mnt/b/sub"),
        "{mounts:#?}"
    );
    let rsub = at(&mounts, "/mnt/rb/sub");
    assert_eq!(rsub.fstype, "tmpfs");
    assert_eq!(rsub.parent, at(&mounts, "/mnt/rb").id);
    drop(sub);
    assert_clean(&env, &["rb"]);
}

#[test]
fn bind_options_ro_nodev_noexec() {
    let env = Env::new("rootfs-bind-opts");
    let rootfs = env.copy_rootfs();
    let tools = env.dir.join("tools");
    fs::create_dir(&tools).unwrap();
    fs::copy(fixture_rootfs().join("bin/busybox"), tools.join("busybox")).unwrap();
    mknod(&tools.join("null"), 1, 3);

    let script = format!(
        "{MOUNTINFO}\
         touch /mnt/plain/new-plain; echo plain-touch:$?; \
         touch /mnt/ro/new-ro 2>&1; echo ro-touch:$?; \
         {{ echo x > /mnt/ro/busybox; }} 2>&1; echo ro-write:$?; \
         cat /mnt/plain/null; echo plain-dev:$?; \
         cat /mnt/nodev/null 2>&1; echo nodev-dev:$?; \
         /mnt/plain/busybox true; echo plain-exec:$?; \
         /mnt/noexec/busybox true 2>&1; echo noexec-exec:$?"
    );
    let out = env.sh("opts", &script, |c| {
        use_rootfs(c, &rootfs);
        add_mount(c, bind("/mnt/plain", &tools, &["bind"]));
        add_mount(c, bind("/mnt/ro", &tools, &["bind", "ro"]));
        add_mount(c, bind("/mnt/nodev", &tools, &["bind", "nodev"]));
        add_mount(c, bind("/mnt/noexec", &tools, &["bind", "noexec"]));
        add_mount(c, bind("/mnt/nosuid", &tools, &["bind", "nosuid"]));
    });
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "plain-touch:0\n\
         touch: /mnt/ro/new-ro: Read-only file system\nro-touch:1\n\
         sh: can't create /mnt/ro/busybox: Read-only file system\nro-write:1\n\
         plain-dev:0\n\
         cat: can't open '/mnt/nodev/null': Permission denied\nnodev-dev:1\n\
         plain-exec:0\n\
         sh: /mnt/noexec/busybox: Permission denied\nnoexec-exec:126\n"
    );
    let mounts = parse_mountinfo(s[0]);
    for (point, opts) in [
        ("/mnt/plain", "rw,relatime"),
        ("/mnt/ro", "ro,relatime"),
        ("/mnt/nodev", "rw,nodev,relatime"),
        ("/mnt/noexec", "rw,noexec,relatime"),
        ("/mnt/nosuid", "rw,nosuid,relatime"),
    ] {
        assert_eq!(at(&mounts, point).opts, opts, "{point}");
    }
    assert!(tools.join("new-plain").exists());
    assert!(!tools.join("new-ro").exists());
    assert_clean(&env, &["opts"]);
}

#[test]
fn bind_option_nosuid_ignores_the_setuid_bit() {
    let env = Env::new("rootfs-nosuid");
    let rootfs = env.copy_rootfs();
    let tools = env.dir.join("suid");
    fs::create_dir(&tools).unwrap();
    let bb = tools.join("busybox");
    fs::copy(fixture_rootfs().join("bin/busybox"), &bb).unwrap();
    fs::set_permissions(&bb, fs::Permissions::from_mode(0o4755)).unwrap();
    std::os::unix::fs::symlink("busybox", tools.join("crontab")).unwrap();
    // busybox's crontab insists on euid 0: as uid 1000 it runs only if the setuid bit works.
    let script = "/mnt/suid/crontab -l 2>&1; echo suid:$?; \
                  /mnt/nosuid/crontab -l 2>&1; echo nosuid:$?; id -u";
    let out = env.sh("ns", script, |c| {
        use_rootfs(c, &rootfs);
        c["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        c["process"]["noNewPrivileges"] = json!(false);
        add_mount(c, bind("/mnt/suid", &tools, &["bind"]));
        add_mount(c, bind("/mnt/nosuid", &tools, &["bind", "nosuid"]));
    });
    assert_eq!(
        out.ok(),
        "crontab: can't change directory to '/var/spool/cron/crontabs': No such file or directory\n\
         suid:1\n\
         crontab: must be suid to work properly\nnosuid:1\n1000\n"
    );
    assert_clean(&env, &["ns"]);
}

#[test]
fn ro_on_an_rbind_leaves_submounts_writable_but_rro_does_not() {
    let env = Env::new("rootfs-rro");
    let rootfs = env.copy_rootfs();
    let src = env.dir.join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    let sub = HostMount::tmpfs(&src.join("sub"));

    let script = format!(
        "{MOUNTINFO}\
         touch /mnt/ro/a 2>&1; echo ro-top:$?; \
         touch /mnt/ro/sub/a 2>&1; echo ro-sub:$?; \
         touch /mnt/rro/b 2>&1; echo rro-top:$?; \
         touch /mnt/rro/sub/b 2>&1; echo rro-sub:$?"
    );
    let out = env.sh("rro", &script, |c| {
        use_rootfs(c, &rootfs);
        add_mount(c, bind("/mnt/ro", &src, &["rbind", "ro"]));
        add_mount(c, bind("/mnt/rro", &src, &["rbind", "rro"]));
    });
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "touch: /mnt/ro/a: Read-only file system\nro-top:1\n\
         ro-sub:0\n\
         touch: /mnt/rro/b: Read-only file system\nrro-top:1\n\
         touch: /mnt/rro/sub/b: Read-only file system\nrro-sub:1\n"
    );
    let mounts = parse_mountinfo(s[0]);
    assert_eq!(at(&mounts, "/mnt/ro").opts, "ro,relatime");
    assert_eq!(at(&mounts, "/mnt/ro/sub").opts, "rw,relatime");
    assert_eq!(at(&mounts, "/mnt/rro").opts, "ro,relatime");
    assert_eq!(at(&mounts, "/mnt/rro/sub").opts, "ro,relatime");
    assert_eq!(names(&src.join("sub")), ["a"]);
    drop(sub);
    assert_clean(&env, &["rro"]);
}

#[test]
fn propagation_options_show_in_mountinfo_and_govern_host_mounts() {
    let env = Env::new("rootfs-propagation");
    let rootfs = env.copy_rootfs();
    let shared = env.dir.join("shared");
    let peer = HostMount::shared(&shared);
    fs::create_dir(shared.join("later")).unwrap();
    let host_group = host_mountinfo()
        .into_iter()
        .rev()
        .find(|m| Path::new(&m.point) == shared)
        .and_then(|m| m.field("shared").map(str::to_owned))
        .expect("the host mount is shared");

    let mut cfg = env.config(&[
        "sh",
        "-c",
        &format!("{MOUNTINFO}for d in rshared rslave private; do ls /mnt/$d/later; done"),
    ]);
    use_rootfs(&mut cfg, &rootfs);
    add_mount(
        &mut cfg,
        bind("/mnt/rshared", &shared, &["rbind", "rshared"]),
    );
    add_mount(&mut cfg, bind("/mnt/rslave", &shared, &["rbind", "rslave"]));
    add_mount(
        &mut cfg,
        bind("/mnt/private", &shared, &["rbind", "private"]),
    );
    let mut later = None;
    // A host mount made after the container's mounts exist reaches slaves, not private mounts.
    let out = run_created(&env, "prop", &cfg, || {
        let m = HostMount::tmpfs(&shared.join("later"));
        fs::write(shared.join("later/arrived"), "").unwrap();
        later = Some(m);
    });
    let s = sections(&out.stdout);
    assert_eq!(s[1], "arrived\narrived\n", "{out:?}");
    let mounts = parse_mountinfo(s[0]);
    let rshared = at(&mounts, "/mnt/rshared");
    assert!(rshared.field("shared").is_some(), "{rshared:?}");
    assert_eq!(
        rshared.field("master"),
        Some(host_group.as_str()),
        "{rshared:?}"
    );
    let rslave = at(&mounts, "/mnt/rslave");
    assert_eq!(rslave.field("shared"), None, "{rslave:?}");
    assert_eq!(
        rslave.field("master"),
        Some(host_group.as_str()),
        "{rslave:?}"
    );
    let private = at(&mounts, "/mnt/private");
    assert!(private.fields.is_empty(), "{private:?}");
    drop(later);
    drop(peer);
    assert_clean(&env, &["prop"]);
}

// ---------------------------------------------------------------------------------------------
// tmpfs, tmpcopyup, nosymfollow, creation of mount points

#[test]
fn tmpfs_with_size_mode_and_owner() {
    let env = Env::new("rootfs-tmpfs");
    let rootfs = env.copy_rootfs();
    let out = env.sh(
        "t",
        &format!(
            "{MOUNTINFO}df -k /mnt/t | tail -1; stat -c '%a %u %g' /mnt/t; \
             touch /mnt/t/x 2>&1; \
             dd if=/dev/zero of=/mnt/small/big bs=1k count=128 2>&1 | head -1"
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(
                c,
                tmpfs(
                    "/mnt/t",
                    &["nosuid", "size=1m", "mode=700", "uid=1000", "gid=1000"],
                ),
            );
            add_mount(c, tmpfs("/mnt/small", &["size=64k", "mode=1777"]));
        },
    );
    let s = sections(out.ok());
    let m = at(&parse_mountinfo(s[0]), "/mnt/t").clone();
    assert_eq!(
        (m.fstype.as_str(), m.opts.as_str(), m.sopts.as_str()),
        (
            "tmpfs",
            "rw,nosuid,relatime",
            "rw,size=1024k,mode=700,uid=1000,gid=1000"
        )
    );
    let lines: Vec<&str> = s[1].lines().collect();
    let df: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        (df[0], df[1], df[5]),
        ("tmpfs", "1024", "/mnt/t"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "700 1000 1000");
    // Root without CAP_DAC_OVERRIDE is not the owner of the tmpfs root.
    assert_eq!(lines[2], "touch: /mnt/t/x: Permission denied");
    assert_eq!(
        lines[3],
        "dd: error writing '/mnt/small/big': No space left on device"
    );
    assert_clean(&env, &["t"]);
}

#[test]
fn tmpcopyup_starts_the_tmpfs_with_the_image_content() {
    let env = Env::new("rootfs-copyup");
    let rootfs = env.copy_rootfs();
    let data = rootfs.join("data");
    fs::create_dir_all(data.join("sub")).unwrap();
    fs::write(data.join("file"), "hello\n").unwrap();
    fs::set_permissions(data.join("file"), fs::Permissions::from_mode(0o664)).unwrap();
    std::os::unix::fs::chown(data.join("file"), Some(1000), Some(2000)).unwrap();
    fs::write(data.join("sub/deep"), "deep\n").unwrap();
    std::os::unix::fs::symlink("file", data.join("link")).unwrap();
    mknod(&data.join("nul"), 1, 3);

    let out = env.sh(
        "cu",
        &format!(
            "{MOUNTINFO}cd /data; stat -c '%n %F %a %u:%g' file sub sub/deep link nul; \
             readlink link; cat link sub/deep; echo new > new; cat new"
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, tmpfs("/data", &["tmpcopyup", "mode=750"]));
        },
    );
    let s = sections(out.ok());
    let m = at(&parse_mountinfo(s[0]), "/data").clone();
    assert_eq!(
        (m.fstype.as_str(), m.sopts.as_str()),
        ("tmpfs", "rw,mode=750")
    );
    assert_eq!(
        s[1],
        "file regular file 664 1000:2000\n\
         sub directory 755 0:0\n\
         sub/deep regular file 644 0:0\n\
         link symbolic link 777 0:0\n\
         nul character special file 666 0:0\n\
         file\nhello\ndeep\nnew\n"
    );
    // The write went to the tmpfs, not to the image.
    assert_eq!(names(&data), ["file", "link", "nul", "sub"]);

    // A read-only tmpfs is filled first, then made read-only (as runc remounts it).
    let out = env.sh(
        "curo",
        &format!("{MOUNTINFO}cat /data/file /data/sub/deep; touch /data/x 2>&1; echo rc:$?"),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, tmpfs("/data", &["tmpcopyup", "ro", "nosuid"]));
        },
    );
    let s = sections(out.ok());
    let m = at(&parse_mountinfo(s[0]), "/data").clone();
    assert_eq!(
        (m.fstype.as_str(), m.opts.as_str()),
        ("tmpfs", "ro,nosuid,relatime")
    );
    assert_eq!(
        s[1],
        "hello\ndeep\ntouch: /data/x: Read-only file system\nrc:1\n"
    );
    assert_clean(&env, &["cu", "curo"]);
}

#[test]
fn nosymfollow_refuses_to_follow_symlinks() {
    let env = Env::new("rootfs-nosymfollow");
    let rootfs = env.copy_rootfs();
    let dir = env.dir.join("links");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("target"), "target\n").unwrap();
    std::os::unix::fs::symlink("target", dir.join("sym")).unwrap();
    let out = env.sh(
        "nsf",
        &format!(
            "{MOUNTINFO}cat /mnt/follow/sym; cat /mnt/nofollow/sym 2>&1; echo rc:$?; \
             readlink /mnt/nofollow/sym; cat /mnt/nofollow/target"
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, bind("/mnt/follow", &dir, &["bind"]));
            add_mount(c, bind("/mnt/nofollow", &dir, &["bind", "nosymfollow"]));
        },
    );
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "target\ncat: can't open '/mnt/nofollow/sym': Too many levels of symbolic links\nrc:1\n\
         target\ntarget\n"
    );
    assert_eq!(
        at(&parse_mountinfo(s[0]), "/mnt/nofollow").opts,
        "rw,relatime,nosymfollow"
    );
    assert_clean(&env, &["nsf"]);
}

#[test]
fn missing_mount_points_are_created_as_the_source_needs() {
    let env = Env::new("rootfs-create-dest");
    let rootfs = env.copy_rootfs();
    let dir = env.dir.join("srcdir");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("in-dir"), "dir\n").unwrap();
    let file = env.dir.join("srcfile");
    fs::write(&file, "file\n").unwrap();
    let out = env.sh(
        "mk",
        "cat /mnt/a/b/c/in-dir /opt/conf/app.conf; stat -c '%F' /new/tmp",
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, bind("/mnt/a/b/c", &dir, &["bind"]));
            add_mount(c, bind("/opt/conf/app.conf", &file, &["bind"]));
            add_mount(c, tmpfs("/new/tmp", &[]));
        },
    );
    assert_eq!(out.ok(), "dir\nfile\ndirectory\n");
    // The mount points berth made, seen in the image once the mounts are gone.
    let kind = |p: &str| {
        let m = fs::symlink_metadata(rootfs.join(p)).unwrap();
        (m.is_dir(), m.is_file(), m.mode() & 0o7777)
    };
    for dir in [
        "mnt/a",
        "mnt/a/b",
        "mnt/a/b/c",
        "opt",
        "opt/conf",
        "new",
        "new/tmp",
    ] {
        assert_eq!(kind(dir), (true, false, 0o755), "{dir}");
    }
    assert_eq!(kind("opt/conf/app.conf"), (false, true, 0o644));
    assert_eq!(
        fs::metadata(rootfs.join("opt/conf/app.conf"))
            .unwrap()
            .len(),
        0
    );
    assert_clean(&env, &["mk"]);
}

// ---------------------------------------------------------------------------------------------
// Security of mount destinations

#[test]
fn symlinked_mount_destinations_stay_inside_the_rootfs() {
    let env = Env::new("rootfs-symlink-escape");
    let rootfs = env.copy_rootfs();
    // A relative climb: followed on the host, /mnt/up/landed would be <test dir>/landed.
    std::os::unix::fs::symlink("../..", rootfs.join("mnt/up")).unwrap();
    // An absolute link to a host directory that exists on the host (with a sentinel) and, at the
    // same path, inside the image.
    let hostside = env.dir.join("hostside");
    fs::create_dir(&hostside).unwrap();
    fs::write(hostside.join("sentinel"), "host\n").unwrap();
    let inside = rootfs.join(hostside.strip_prefix("/").unwrap());
    fs::create_dir_all(&inside).unwrap();
    std::os::unix::fs::symlink(&hostside, rootfs.join("mnt/abs")).unwrap();
    let payload = env.dir.join("payload");
    fs::create_dir(&payload).unwrap();
    fs::write(payload.join("payload-file"), "payload\n").unwrap();

    let out = env.sh(
        "esc",
        &format!(
            "{MOUNTINFO}echo tmp > /mnt/up/landed/f && cat /landed/f; \
             ls -A /mnt/abs; echo x > /mnt/abs/written; ls -A {}",
            hostside.display()
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, tmpfs("/mnt/up/landed", &[]));
            add_mount(c, bind("/mnt/abs", &payload, &["bind"]));
        },
    );
    let s = sections(out.ok());
    assert_eq!(s[1], "tmp\npayload-file\npayload-file\nwritten\n");
    let mounts = parse_mountinfo(s[0]);
    assert_eq!(at(&mounts, "/landed").fstype, "tmpfs");
    let abs = at(&mounts, hostside.to_str().unwrap());
    assert_eq!(abs.root, host_fs_path(&payload));
    assert_eq!(abs.parent, at(&mounts, "/").id);
    // The host was not touched; the mount point was made inside the image.
    assert!(!env.dir.join("landed").exists());
    assert!(rootfs.join("landed").is_dir());
    assert_eq!(names(&hostside), ["sentinel"]);
    assert_eq!(names(&payload), ["payload-file", "written"]);

    // A link whose target does not exist inside the image: nothing is created through it on
    // the host; berth refuses the mount.
    let top: PathBuf = hostside.strip_prefix("/").unwrap().iter().take(2).collect();
    fs::remove_dir_all(rootfs.join(&top)).unwrap();
    let out = env.sh("esc2", "true", |c| {
        use_rootfs(c, &rootfs);
        add_mount(c, tmpfs("/mnt/abs", &[]));
    });
    let err = out.failed();
    assert!(err.contains("mounts[7] /mnt/abs"), "{err}");
    assert_eq!(names(&hostside), ["sentinel"]);
    assert!(!rootfs.join(&top).exists());
    assert_clean(&env, &["esc", "esc2"]);
}

#[test]
fn mounts_over_proc_are_limited_to_the_allowed_files() {
    let env = Env::new("rootfs-proc-dest");
    let fake = env.dir.join("uptime");
    fs::write(&fake, "42.00 1.00\n").unwrap();
    for (id, dest) in [
        ("p1", "/proc/kmsg"),
        ("p2", "/proc/self/attr/current"),
        ("p3", "/proc/../proc/sys/kernel/core_pattern"),
    ] {
        let out = env.sh(id, "true", |c| add_mount(c, bind(dest, &fake, &["bind"])));
        let err = out.failed();
        assert!(err.contains("mounts[7]"), "{err}");
        let clean = dest.replace("/proc/../proc", "/proc");
        assert!(err.contains(&clean), "{err}");
        env.assert_gone(id);
    }
    let out = env.sh("p4", "cat /proc/uptime", |c| {
        add_mount(c, bind("/proc/uptime", &fake, &["bind", "ro"]));
    });
    assert_eq!(out.ok(), "42.00 1.00\n");

    // The same rule for destinations that lead into /proc through symlinks of the image.
    let rootfs = env.copy_rootfs();
    std::os::unix::fs::symlink("/proc/self/attr/current", rootfs.join("etc/evil")).unwrap();
    std::os::unix::fs::symlink("../proc/sys/kernel", rootfs.join("mnt/kernel")).unwrap();
    std::os::unix::fs::symlink("/proc", rootfs.join("mnt/proc")).unwrap();
    for (id, dest, resolved) in [
        ("s1", "/etc/evil", "/attr/current"),
        ("s2", "/mnt/kernel/hostname", "/proc/sys/kernel/hostname"),
        ("s3", "/mnt/proc/kmsg", "/proc/kmsg"),
        ("s4", "/mnt/proc/acpi", "/proc/acpi"),
    ] {
        let out = env.sh(id, "true", |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, bind(dest, &fake, &["bind"]));
        });
        let err = out.failed();
        assert!(err.contains(&format!("mounts[7] {dest}")), "{err}");
        assert!(err.contains("mounting over /proc/"), "{err}");
        assert!(err.contains(&format!("{resolved} is not allowed")), "{err}");
        env.assert_gone(id);
    }
    let out = env.sh("s5", "cat /proc/uptime", |c| {
        use_rootfs(c, &rootfs);
        add_mount(c, bind("/mnt/proc/uptime", &fake, &["bind"]));
    });
    assert_eq!(out.ok(), "42.00 1.00\n");
    assert_clean(
        &env,
        &["p1", "p2", "p3", "p4", "s1", "s2", "s3", "s4", "s5"],
    );
}

#[test]
fn proc_and_sysfs_are_mounted_only_on_ordinary_directories() {
    // runc's rule (CVE-2019-19921) and words, which its tests match: a /proc or /sys of the
    // image that is a symlink — even one to a directory inside the image — or a file is refused.
    let env = Env::new("rootfs-proc-symlink");
    let rootfs = env.copy_rootfs();
    let cases = [
        ("l1", "proc", "/tmp", 0, "a symlink"),
        ("l2", "proc", "/nonexistent", 0, "a symlink"),
        ("l3", "sys", "/tmp", 5, "a symlink"),
        ("l4", "proc", "", 0, "not a directory"),
    ];
    for (id, dir, link, index, what) in cases {
        let path = rootfs.join(dir);
        fs::remove_dir(&path).unwrap();
        if link.is_empty() {
            fs::write(&path, "").unwrap();
        } else {
            std::os::unix::fs::symlink(link, &path).unwrap();
        }
        let out = env.sh(id, "true", |c| use_rootfs(c, &rootfs));
        let err = out.failed();
        let typ = if dir == "proc" { "proc" } else { "sysfs" };
        assert!(err.contains(&format!("mounts[{index}] /{dir}: ")), "{err}");
        assert!(
            err.contains(&format!(
                "filesystem \"{typ}\" must be mounted on ordinary directory ({what} in the rootfs)"
            )),
            "{err}"
        );
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
    }
    // A missing mount point is made.
    fs::remove_dir(rootfs.join("proc")).unwrap();
    let out = env.sh("l5", "grep -c ^Pid: /proc/self/status", |c| {
        use_rootfs(c, &rootfs)
    });
    assert_eq!(out.ok(), "1\n");
    assert!(rootfs.join("proc").is_dir());
    assert_eq!(names(&rootfs.join("tmp")), Vec::<String>::new());
    assert_clean(&env, &["l1", "l2", "l3", "l4", "l5"]);
}

// ---------------------------------------------------------------------------------------------
// root, rootfsPropagation, maskedPaths, readonlyPaths

#[test]
fn readonly_root_keeps_tmpfs_mounts_writable() {
    let env = Env::new("rootfs-readonly");
    let out = env.sh(
        "ro",
        "touch /x 2>&1; echo root:$?; touch /etc/x 2>&1; echo etc:$?; \
         echo data > /tmp/f && cat /tmp/f; echo tmp:$?",
        |c| add_mount(c, tmpfs("/tmp", &["nosuid", "nodev"])),
    );
    assert_eq!(
        out.ok(),
        "touch: /x: Read-only file system\nroot:1\n\
         touch: /etc/x: Read-only file system\netc:1\ndata\ntmp:0\n"
    );
    assert_clean(&env, &["ro"]);
}

#[test]
fn rootfs_propagation_sets_the_propagation_of_root() {
    let env = Env::new("rootfs-root-propagation");
    let out = env.sh("rs", MOUNTINFO, |c| {
        c["linux"]["rootfsPropagation"] = json!("rshared");
    });
    let mounts = parse_mountinfo(sections(out.ok())[0]);
    for point in ["/", "/proc", "/dev", "/sys"] {
        let m = at(&mounts, point);
        assert!(m.field("shared").is_some(), "{m:?}");
    }
    // The host's mounts below a shared mount are still there: the container's copies were
    // unmounted with the old root without the unmount propagating back.
    let peer = HostMount::shared(&env.dir.join("peer"));
    let leaf = HostMount::tmpfs(&env.dir.join("peer/leaf"));
    let leaf_point = env.dir.join("peer/leaf");
    let out = env.sh("rsh", "true", |c| {
        c["linux"]["rootfsPropagation"] = json!("shared");
    });
    out.ok();
    assert!(
        host_mountinfo()
            .iter()
            .any(|m| Path::new(&m.point) == leaf_point),
        "the container unmounted the host's {}",
        leaf_point.display()
    );
    drop(leaf);
    drop(peer);
    let out = env.sh("rp", MOUNTINFO, |c| {
        c["linux"]["rootfsPropagation"] = json!("private");
    });
    let mounts = parse_mountinfo(sections(out.ok())[0]);
    assert!(at(&mounts, "/").fields.is_empty(), "{mounts:#?}");
    assert_clean(&env, &["rs", "rsh", "rp"]);
}

#[test]
fn masked_paths_read_as_empty() {
    let env = Env::new("rootfs-masked");
    let out = env.sh(
        "mask",
        &format!(
            "{MOUNTINFO}wc -c < /etc/passwd; stat -c '%F %t:%T' /etc/passwd; echo ok > /etc/passwd; \
             ls -A /home; touch /home/x 2>&1; wc -c < /proc/keys; ls -A /proc/acpi /sys/firmware"
        ),
        |c| {
            let masked = c["linux"]["maskedPaths"].as_array_mut().unwrap();
            masked.push(json!("/etc/passwd"));
            masked.push(json!("/home"));
            masked.push(json!("/does/not/exist"));
        },
    );
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "0\ncharacter special file 1:3\n\
         touch: /home/x: Read-only file system\n0\n/proc/acpi:\n\n/sys/firmware:\n"
    );
    let mounts = parse_mountinfo(s[0]);
    for dir in ["/home", "/proc/acpi", "/sys/firmware"] {
        let m = at(&mounts, dir);
        assert_eq!(
            (m.fstype.as_str(), m.opts.as_str()),
            ("tmpfs", "ro,relatime"),
            "{m:?}"
        );
    }
    // Files are covered by the container's /dev/null.
    let dev = at(&mounts, "/dev");
    for file in ["/etc/passwd", "/proc/keys"] {
        let m = at(&mounts, file);
        assert_eq!(
            (m.root.as_str(), m.source.as_str()),
            ("/null", "tmpfs"),
            "{m:?}"
        );
        assert_eq!(m.sopts, dev.sopts, "{m:?}");
    }
    assert!(mounts.iter().all(|m| !m.point.starts_with("/does")));
    // The image's files are intact.
    let passwd = fs::read_to_string(fixture_rootfs().join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:"), "{passwd}");
    assert_clean(&env, &["mask"]);
}

#[test]
fn readonly_paths_cover_their_submounts() {
    let env = Env::new("rootfs-readonly-paths");
    let out = env.sh(
        "rop",
        &format!(
            "{MOUNTINFO}touch /tmp/a 2>&1; touch /tmp/sub/b 2>&1; touch /run/c; echo run:$?; \
             {{ echo x > /proc/sys/kernel/hostname; }} 2>&1; echo sys:$?"
        ),
        |c| {
            add_mount(c, tmpfs("/tmp", &[]));
            add_mount(c, tmpfs("/tmp/sub", &[]));
            add_mount(c, tmpfs("/run", &[]));
            let ro = c["linux"]["readonlyPaths"].as_array_mut().unwrap();
            ro.push(json!("/tmp"));
            ro.push(json!("/does/not/exist"));
        },
    );
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "touch: /tmp/a: Read-only file system\ntouch: /tmp/sub/b: Read-only file system\n\
         run:0\nsh: can't create /proc/sys/kernel/hostname: Read-only file system\nsys:1\n"
    );
    let mounts = parse_mountinfo(s[0]);
    assert_eq!(at(&mounts, "/tmp").opts, "ro,relatime");
    assert_eq!(at(&mounts, "/tmp/sub").opts, "ro,relatime");
    assert_eq!(at(&mounts, "/tmp/sub").parent, at(&mounts, "/tmp").id);
    assert_eq!(at(&mounts, "/proc/sys").opts, "ro,relatime");
    assert_clean(&env, &["rop"]);
}

// ---------------------------------------------------------------------------------------------
// Devices

const STAT_DEV: &str = "stat -c '%n %F %t:%T %a %u:%g'";

const DEFAULT_DEVICES: &str = "\
/dev/null character special file 1:3 666 0:0
/dev/zero character special file 1:5 666 0:0
/dev/full character special file 1:7 666 0:0
/dev/random character special file 1:8 666 0:0
/dev/urandom character special file 1:9 666 0:0
/dev/tty character special file 5:0 666 0:0
";

const DEVICE_LIST: &str = "/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty";

#[test]
fn default_devices_and_dev_symlinks() {
    let env = Env::new("rootfs-default-devices");
    let out = env.sh(
        "dev",
        &format!(
            "{STAT_DEV} {DEVICE_LIST}; echo --; \
             for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done; \
             echo --; ls -A /dev; head -c 4 /dev/zero | wc -c; echo hi > /dev/null"
        ),
        |_| {},
    );
    let s = sections(out.ok());
    assert_eq!(s[0], DEFAULT_DEVICES);
    assert_eq!(
        s[1],
        "fd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\n\
         stderr /proc/self/fd/2\nptmx pts/ptmx\n"
    );
    let core = if Path::new("/proc/kcore").exists() {
        "core "
    } else {
        ""
    };
    let listing: Vec<&str> = s[2].lines().collect();
    assert_eq!(
        listing[..listing.len() - 1].join(" "),
        format!(
            "{core}fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
        )
    );
    assert_eq!(listing[listing.len() - 1], "4");
    assert_clean(&env, &["dev"]);
}

#[test]
fn read_only_dev_still_gets_its_devices() {
    let env = Env::new("rootfs-dev-ro");
    let out = env.sh(
        "devro",
        &format!("{STAT_DEV} {DEVICE_LIST}; touch /dev/x 2>&1; readlink /dev/ptmx"),
        |c| {
            c["mounts"][1]["options"]
                .as_array_mut()
                .unwrap()
                .push(json!("ro"))
        },
    );
    assert_eq!(
        out.ok(),
        format!("{DEFAULT_DEVICES}touch: /dev/x: Read-only file system\npts/ptmx\n")
    );
    assert_clean(&env, &["devro"]);
}

#[test]
fn linux_devices_are_created_with_their_mode_and_owner() {
    let env = Env::new("rootfs-linux-devices");
    // Whether this kernel has a driver behind c 10:229: a node of it opens (the open loads the
    // fuse module where it is one and not loaded yet, as the container's open will; the host's
    // /dev/fuse appears only then).
    let probe = env.dir.join("fuse-probe");
    mknod(&probe, 10, 229);
    let fuse = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&probe)
        .is_ok();
    let out = env.sh(
        "ldev",
        &format!(
            "{STAT_DEV} /dev/net/tun /dev/fuse /dev/blk0 /dev/null /dev/fifo; \
             stat -c '%a' /dev/net; \
             if exec 3<>/dev/fuse; then echo fuse opened; fi"
        ),
        |c| {
            c["linux"]["devices"] = json!([
                { "path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200,
                  "fileMode": 0o600, "uid": 1000, "gid": 2000 },
                { "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229 },
                { "path": "/dev/blk0", "type": "b", "major": 7, "minor": 0,
                  "fileMode": 0o640, "gid": 6 },
                // Replaces the default node of the same path.
                { "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o644 },
                { "path": "/dev/fifo", "type": "p", "major": 0, "minor": 0, "fileMode": 0o620 }
            ]);
            // A node is not an allowance: the device cgroup denies what it does not list.
            c["linux"]["resources"] = json!({ "devices": [
                { "allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm" }
            ]});
        },
    );
    let mut expected = "/dev/net/tun character special file a:c8 600 1000:2000\n\
         /dev/fuse character special file a:e5 666 0:0\n\
         /dev/blk0 block special file 7:0 640 0:6\n\
         /dev/null character special file 1:3 644 0:0\n\
         /dev/fifo fifo 0:0 620 0:0\n\
         755\n"
        .to_owned();
    if fuse {
        expected.push_str("fuse opened\n");
    }
    assert_eq!(out.ok(), expected);
    assert_clean(&env, &["ldev"]);
}

/// The base config with /dev bound from `dir`, without the mounts below /dev.
fn dev_bound_from(c: &mut Value, dir: &Path, options: Option<&[&str]>) {
    let mounts = c["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| !m["destination"].as_str().unwrap().starts_with("/dev"));
    let mut m = json!({ "destination": "/dev", "type": "bind", "source": dir });
    if let Some(o) = options {
        m["options"] = json!(o);
    }
    mounts.insert(1, m);
    c["linux"]["devices"] =
        json!([{ "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229 }]);
}

#[test]
fn no_device_nodes_in_a_dev_bound_from_the_host() {
    let env = Env::new("rootfs-dev-bind");
    for (id, options) in [
        ("db1", Some(&["rbind", "nosuid"][..])),
        ("db2", None),
        ("db3", Some(&["bind"][..])),
    ] {
        let dir = env.dir.join(format!("dev-{id}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("marker"), "").unwrap();
        // maskedPaths of files need the container's /dev/null.
        mknod(&dir.join("null"), 1, 3);
        let out = env.sh(id, "ls -A /dev; wc -c < /proc/keys", |c| {
            dev_bound_from(c, &dir, options)
        });
        assert_eq!(out.ok(), "marker\nnull\n0\n", "{id}");
        assert_eq!(
            names(&dir),
            ["marker", "null"],
            "{id}: berth wrote to the host directory"
        );
        env.assert_gone(id);
    }
    assert_clean(&env, &["db1", "db2", "db3"]);
}

#[test]
fn devices_are_bound_from_the_host_in_a_user_namespace() {
    let env = Env::new("rootfs-userns-devices");
    // linux.devices are bound from the host node of the same path.
    let fuse = Path::new("/dev/fuse").exists();
    let out = env.sh(
        "udev",
        &format!("{MOUNTINFO}{STAT_DEV} {DEVICE_LIST}; readlink /dev/ptmx; cat /proc/self/uid_map"),
        |c| {
            identity_userns(c);
            if fuse {
                c["linux"]["devices"] =
                    json!([{ "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229 }]);
            }
        },
    );
    let s = sections(out.ok());
    let rest: Vec<&str> = s[1].lines().collect();
    // The nodes are the host's: their modes and owners too.
    let host_nodes: Vec<String> = DEVICE_LIST
        .split(' ')
        .zip(DEFAULT_DEVICES.lines())
        .map(|(path, line)| {
            let m = fs::metadata(path).unwrap();
            let kind = line.split(' ').take(5).collect::<Vec<_>>().join(" ");
            format!("{kind} {:o} {}:{}", m.mode() & 0o7777, m.uid(), m.gid())
        })
        .collect();
    assert_eq!(rest[..6], host_nodes);
    assert_eq!(rest[6], "pts/ptmx");
    assert_eq!(
        rest[7].split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "65536"]
    );
    let mounts = parse_mountinfo(s[0]);
    let host_dev = at(&host_mountinfo(), "/dev").clone();
    let dev = at(&mounts, "/dev");
    let mut nodes = vec!["null", "zero", "full", "random", "urandom", "tty"];
    if fuse {
        nodes.push("fuse");
    }
    for node in nodes {
        let m = at(&mounts, &format!("/dev/{node}"));
        assert_eq!(m.root, format!("/{node}"), "{m:?}");
        assert_eq!(m.fstype, host_dev.fstype, "{m:?}");
        assert_eq!(m.parent, dev.id, "{m:?}");
    }
    assert_clean(&env, &["udev"]);
}

#[test]
fn sysfs_is_bound_from_the_host_in_a_user_namespace_without_netns() {
    let env = Env::new("rootfs-userns-sysfs");
    // sysfs can only be mounted by the user namespace owning the network namespace: with the
    // host's network namespace berth binds the host's /sys instead (as runc does).
    let out = env.sh(
        "usys",
        &format!(
            "{MOUNTINFO}touch /sys/x 2>&1; head -1 {}/cgroup.procs; readlink /proc/1/ns/net",
            cgroup_dir_inside("pids")
        ),
        |c| {
            identity_userns(c);
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .retain(|n| n["type"] != "network");
        },
    );
    let s = sections(out.ok());
    let host_net = fs::read_link("/proc/self/ns/net").unwrap();
    assert_eq!(
        s[1],
        format!(
            "touch: /sys/x: Read-only file system\n1\n{}\n",
            host_net.display()
        )
    );
    let mounts = parse_mountinfo(s[0]);
    let sys = mounts.iter().find(|m| m.point == "/sys").unwrap();
    assert_eq!(
        (sys.fstype.as_str(), sys.opts.as_str(), sys.root.as_str()),
        ("sysfs", "ro,nosuid,nodev,noexec,relatime", "/")
    );
    // The host's sysfs superblock, not a new one.
    let host_sys = at(&host_mountinfo(), "/sys").clone();
    assert_eq!((&sys.dev, &sys.sopts), (&host_sys.dev, &host_sys.sopts));
    // The container's cgroup mounts are on top of what came along with the host's /sys.
    let top = at(&mounts, "/sys/fs/cgroup").id;
    let own: Vec<Mnt> = mounts
        .iter()
        .filter(|m| !m.point.starts_with("/sys/fs/cgroup/") || m.parent == top)
        .cloned()
        .collect();
    assert_cgroup_mounts(&own, &env.cgroup_path("usys"));
    assert_clean(&env, &["usys"]);
}

#[test]
fn mqueue_is_bound_from_the_host_in_a_user_namespace_without_ipcns() {
    let env = Env::new("rootfs-userns-mqueue");
    // Like sysfs, mqueue needs the IPC namespace's owner: berth falls back to the host's
    // /dev/mqueue (which this host may not have mounted).
    let out = env.sh("umq", MOUNTINFO, |c| {
        identity_userns(c);
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "ipc");
    });
    match host_mountinfo()
        .iter()
        .rev()
        .find(|m| m.point == "/dev/mqueue")
    {
        Some(host) => {
            let m = at(&parse_mountinfo(sections(out.ok())[0]), "/dev/mqueue").clone();
            assert_eq!((&m.fstype, &m.dev), (&host.fstype, &host.dev));
        }
        None => {
            let err = out.failed();
            assert!(
                err.contains("mounts[4] /dev/mqueue: bind /dev/mqueue"),
                "no fallback to the host's /dev/mqueue: {err}"
            );
        }
    }
    assert_clean(&env, &["umq"]);
}

// ---------------------------------------------------------------------------------------------
// --no-pivot

#[test]
fn no_pivot_still_shows_the_rootfs_as_root() {
    let env = Env::new("rootfs-no-pivot");
    let script = format!("{MOUNTINFO}ls /; readlink /proc/1/root; stat -c %i /");
    let cfg = env.config(&["sh", "-c", &script]);
    let bundle = env.write_bundle("np", &cfg);
    let out = env.berth(&[
        "run",
        "--no-pivot",
        "--bundle",
        bundle.to_str().unwrap(),
        "np",
    ]);
    let s = sections(out.ok());
    let mut image = names(&fixture_rootfs());
    image.push("/".to_owned());
    image.push(fs::metadata(fixture_rootfs()).unwrap().ino().to_string());
    assert_eq!(s[1].lines().collect::<Vec<_>>(), image);
    let mounts = parse_mountinfo(s[0]);
    assert_eq!(at(&mounts, "/").root, host_fs_path(&fixture_rootfs()));
    // The same mounts as with pivot_root, and nothing of the host's tree.
    let pivot = env.sh("p", &script, |_| {});
    let pivot = parse_mountinfo(sections(pivot.ok())[0]);
    let points = |m: &[Mnt]| m.iter().map(|m| m.point.clone()).collect::<Vec<_>>();
    assert_eq!(points(&mounts), points(&pivot));
    assert_clean(&env, &["np", "p"]);
}

// ---------------------------------------------------------------------------------------------
// Id-mapped mounts

/// A directory with a file owned by host uid/gid 0 and one by 1000.
fn owned_files(env: &Env) -> PathBuf {
    let dir = env.dir.join("owned");
    fs::create_dir(&dir).unwrap();
    for (name, id) in [("by0", 0), ("by1000", 1000)] {
        fs::write(dir.join(name), "").unwrap();
        std::os::unix::fs::chown(dir.join(name), Some(id), Some(id)).unwrap();
    }
    std::os::unix::fs::chown(&dir, Some(1000), Some(1000)).unwrap();
    dir
}

fn idmapped(dest: &str, source: &Path, container: u32, host: u32) -> Value {
    let map = json!([{ "containerID": container, "hostID": host, "size": 1 }]);
    json!({ "destination": dest, "type": "bind", "source": source,
            "options": ["rbind", "idmap"], "uidMappings": map, "gidMappings": map })
}

#[test]
fn idmapped_bind_mounts_shift_file_owners() {
    let env = Env::new("rootfs-idmap");
    let rootfs = env.copy_rootfs();
    let dir = owned_files(&env);
    // An id-mapped mount shows an owner stored as X with the id X maps to on the host
    // (containerID -> hostID), as the container's user namespace would: a mapping 0 -> 1000
    // shows files of 0 as 1000; 1000 -> 0 shows files of 1000 as 0. Ids without a mapping
    // show as the overflow id 65534.
    let out = env.sh(
        "idm",
        &format!(
            "{MOUNTINFO}stat -c '%n %u:%g' /mnt/a/by0 /mnt/a/by1000 /mnt/b/by0 /mnt/b/by1000; \
             touch /mnt/b/new-b; stat -c '%n %u:%g' /mnt/b/new-b; touch /mnt/a/new-a 2>&1; echo a:$?"
        ),
        |c| {
            use_rootfs(c, &rootfs);
            add_mount(c, idmapped("/mnt/a", &dir, 0, 1000));
            add_mount(c, idmapped("/mnt/b", &dir, 1000, 0));
        },
    );
    let s = sections(out.ok());
    assert_eq!(
        s[1],
        "/mnt/a/by0 1000:1000\n/mnt/a/by1000 65534:65534\n\
         /mnt/b/by0 65534:65534\n/mnt/b/by1000 0:0\n\
         /mnt/b/new-b 0:0\n\
         touch: /mnt/a/new-a: Value too large for defined data type\na:1\n"
    );
    let mounts = parse_mountinfo(s[0]);
    assert_eq!(at(&mounts, "/mnt/a").opts, "rw,relatime,idmapped");
    // Written through the mount by uid 0, stored on disk as 1000.
    let meta = fs::metadata(dir.join("new-b")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    assert!(!dir.join("new-a").exists());
    assert_clean(&env, &["idm"]);
}

#[test]
fn idmapped_bind_mounts_in_a_user_namespace() {
    let env = Env::new("rootfs-idmap-userns");
    let rootfs = env.copy_rootfs();
    // The image belongs to host root, unmapped in the container: the mount point must exist.
    fs::create_dir_all(rootfs.join("mnt/v")).unwrap();
    let dir = owned_files(&env);
    // Container root, without CAP_DAC_OVERRIDE, writes into a directory it owns.
    std::os::unix::fs::chown(&dir, Some(0), Some(0)).unwrap();
    // The Kubernetes case: the mount has the container's own mapping, so files of the volume
    // show inside with the ids they have on disk.
    let map = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    let out = env.sh(
        "idu",
        "stat -c '%n %u:%g' /mnt/v/by0 /mnt/v/by1000; touch /mnt/v/new; stat -c '%u' /mnt/v/new",
        |c| {
            use_rootfs(c, &rootfs);
            add_namespace(c, "user");
            c["linux"]["uidMappings"] = map.clone();
            c["linux"]["gidMappings"] = map.clone();
            add_mount(
                c,
                json!({ "destination": "/mnt/v", "type": "bind", "source": dir,
                        "options": ["rbind", "idmap"], "uidMappings": map, "gidMappings": map }),
            );
        },
    );
    assert_eq!(out.ok(), "/mnt/v/by0 0:0\n/mnt/v/by1000 1000:1000\n0\n");
    assert_eq!(fs::metadata(dir.join("new")).unwrap().uid(), 0);
    assert_clean(&env, &["idu"]);
}

/// A tmpfs mounted on the host at `at` with the mount flags `flags`, detached again on drop.
fn host_tmpfs_with(at: &Path, flags: MsFlags) -> HostMount {
    fs::create_dir_all(at).unwrap();
    mount(Some("tmpfs"), at, Some("tmpfs"), flags, Some("size=1m")).unwrap();
    HostMount(at.to_owned())
}

#[test]
fn recursive_atime_options_leave_runcs_mode_on_a_bind_and_its_submounts() {
    let env = Env::new("rootfs-ratime");
    let rootfs = env.copy_rootfs();
    // The bind source and a mount below it start in modes no single option gives both of:
    // noatime with nodiratime above, strictatime (no flag in mountinfo) below.
    let src = env.dir.join("src");
    let top = host_tmpfs_with(&src, MsFlags::MS_NOATIME | MsFlags::MS_NODIRATIME);
    let sub = host_tmpfs_with(&src.join("sub"), MsFlags::MS_STRICTATIME);
    // Options, then the flags mountinfo shows for the bind and for its submount: runc's (1.3.x,
    // 1.4.1 and later, whose atime fix took away 1.1's EINVAL for ratime and rnostrictatime and
    // made rnorelatime, a no-op there, relatime).
    let relatime = ("rw,nodiratime,relatime", "rw,relatime");
    let cases: &[(&[&str], (&str, &str))] = &[
        (&["rnoatime"], ("rw,noatime,nodiratime", "rw,noatime")),
        (&["rstrictatime"], ("rw,nodiratime", "rw")),
        (&["rrelatime"], relatime),
        (&["ratime"], relatime),
        (&["rnostrictatime"], relatime),
        (&["rnorelatime"], relatime),
        (&["rnodiratime"], ("rw,noatime,nodiratime", "rw,nodiratime")),
        (&["rdiratime"], ("rw,noatime", "rw")),
        // A mode set earlier stays: rrelatime and rnorelatime change no bit of it.
        (
            &["rnoatime", "rrelatime"],
            ("rw,noatime,nodiratime", "rw,noatime"),
        ),
        (
            &["rnoatime", "rnorelatime"],
            ("rw,noatime,nodiratime", "rw,noatime"),
        ),
        (&["rstrictatime", "ratime"], ("rw,nodiratime", "rw")),
        (&["rnoatime", "ratime"], relatime),
    ];
    let out = env.sh("ratime", MOUNTINFO, |c| {
        use_rootfs(c, &rootfs);
        for (i, (opts, _)) in cases.iter().enumerate() {
            let options: Vec<&str> = ["rbind"].iter().chain(opts.iter()).copied().collect();
            add_mount(c, bind(&format!("/mnt/m{i}"), &src, &options));
        }
    });
    let mounts = parse_mountinfo(sections(out.ok())[0]);
    for (i, (opts, (above, below))) in cases.iter().enumerate() {
        let seen = (
            at(&mounts, &format!("/mnt/m{i}")).opts.as_str(),
            at(&mounts, &format!("/mnt/m{i}/sub")).opts.as_str(),
        );
        assert_eq!(seen, (*above, *below), "{opts:?}");
    }
    // Two modes at once: the kernel refuses them, and so the container, as with runc.
    let res = env.sh("ratime2", "true", |c| {
        use_rootfs(c, &rootfs);
        add_mount(
            c,
            bind("/mnt/both", &src, &["rbind", "rnoatime", "rstrictatime"]),
        );
    });
    let err = res.failed();
    assert!(
        err.contains("/mnt/both") && err.contains("invalid argument"),
        "{err}"
    );
    // The host's mounts keep their own modes.
    let host = host_mountinfo();
    assert_eq!(
        at(&host, src.to_str().unwrap()).opts,
        "rw,noatime,nodiratime"
    );
    assert_eq!(at(&host, src.join("sub").to_str().unwrap()).opts, "rw");
    drop(sub);
    drop(top);
    assert_clean(&env, &["ratime", "ratime2"]);
}

#[test]
fn no_pivot_does_not_expose_a_bare_proc() {
    // runc's no_pivot.bats: with MS_MOVE + chroot the host's /proc and /sys stay in the
    // container's mount namespace, beyond its root. A full procfs mount there would let a
    // process that makes its own user namespace mount a fresh, unmasked procfs; runc unmounts
    // them first, and the kernel then refuses the mount (mount_too_revealing).
    let env = Env::new("rootfs-no-pivot-proc");
    let script =
        "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted' 2>&1 || echo refused";
    let mut cfg = env.config(&["sh", "-c", script]);
    for set in ["bounding", "permitted", "effective"] {
        cfg["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SETFCAP"));
    }
    let host_before = host_mountinfo();
    let bundle = env.write_bundle("npp", &cfg);
    let out = env.berth(&[
        "run",
        "--no-pivot",
        "--bundle",
        bundle.to_str().unwrap(),
        "npp",
    ]);
    assert_eq!(
        out.ok(),
        "mount: permission denied (are you root?)\nrefused\n"
    );
    // The host's /proc and /sys were only taken away in the container's mount namespace.
    let host_after = host_mountinfo();
    for point in ["/proc", "/sys"] {
        assert_eq!(at(&host_after, point).id, at(&host_before, point).id);
    }
    assert_clean(&env, &["npp"]);
}

#[test]
fn no_pivot_under_a_shared_root_leaves_the_hosts_proc_and_root_alone() {
    // Under rootfsPropagation "rshared" the container's mounts are peers of the host's: an
    // unmount of /proc would propagate to the host's /proc (runc 1.1.5 does that), and the
    // rootfs moved onto / would appear on the host's / (runc #1961). Played in a mount namespace
    // of the test's own whose / is shared, standing in for the host, so that a failure stays
    // there; the rootfs is on a mount of its own, so that / is not the rootfs's parent.
    let env = Env::new("rootfs-no-pivot-shared");
    let sandbox_rootfs = env.dir.join("tt/rootfs");
    let mut cfg = env.config(&["true"]);
    use_rootfs(&mut cfg, &sandbox_rootfs);
    cfg["linux"]["rootfsPropagation"] = json!("rshared");
    let bundle = env.write_bundle("nps", &cfg);
    let script = format!(
        "mount --make-rshared / && mount -t tmpfs tmpfs {tt} && cp -a {fixture} {rootfs} && \
         tops() {{ awk '$5 == \"/\"' /proc/self/mountinfo | wc -l; }} && before=$(tops) && \
         {berth} --root {state} run --no-pivot --bundle {bundle} nps && \
         grep -cE ' /(proc|sys) ' /proc/self/mountinfo && [ \"$(tops)\" = \"$before\" ] && echo same-root",
        tt = env.dir.join("tt").display(),
        fixture = fixture_rootfs().display(),
        rootfs = sandbox_rootfs.display(),
        berth = common::BERTH,
        state = env.root.display(),
        bundle = bundle.display(),
    );
    fs::create_dir_all(env.dir.join("tt")).unwrap();
    let out = common::capture(
        std::process::Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(std::process::Stdio::null()),
        &env.dir,
    );
    assert_eq!(out.ok(), "2\nsame-root\n", "{out:?}");
    assert_clean(&env, &["nps"]);
}

// ---------------------------------------------------------------------------------------------
// Bind sources out of the user namespace's reach

#[test]
fn bind_sources_the_user_namespace_cannot_reach_are_opened_by_berth() {
    // runc opens such sources as root, in the container's mount namespace (its mount source
    // fds): the container's root, host uid 100000, could not pass the 0700 directory.
    let env = Env::new("rootfs-userns-binds");
    let rootfs = env.copy_rootfs();
    fs::create_dir(rootfs.join("mnt/d")).unwrap();
    fs::create_dir(rootfs.join("mnt/r")).unwrap();
    fs::write(rootfs.join("mnt/f"), "").unwrap();
    let secret = env.dir.join("secret");
    fs::create_dir_all(secret.join("dir")).unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(secret.join("dir/inside"), "dir-data\n").unwrap();
    fs::write(secret.join("file"), "file-data\n").unwrap();
    // A mount that is read-only on the host, with files the container's root would own: the
    // kernel locks the flag in the container's copy of it, and the bind keeps that lock.
    let ro = host_tmpfs_with(&secret.join("ro"), MsFlags::empty());
    std::os::unix::fs::chown(secret.join("ro"), Some(100000), Some(100000)).unwrap();
    let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    mount(
        None::<&str>,
        &secret.join("ro"),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .unwrap();
    let script = "cat /mnt/d/inside /mnt/f; (echo x >/mnt/f) 2>&1; \
                  mount -o remount,bind,rw /mnt/r 2>&1; touch /mnt/r/new 2>&1; true";
    let out = env.sh("ub", script, |c| {
        use_rootfs(c, &rootfs);
        common::with_user_namespace(c, 100000, 100000);
        for set in ["bounding", "permitted", "effective"] {
            c["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push(json!("CAP_SYS_ADMIN"));
        }
        add_mount(c, bind("/mnt/d", &secret.join("dir"), &["bind"]));
        add_mount(c, bind("/mnt/f", &secret.join("file"), &["bind", "ro"]));
        add_mount(c, bind("/mnt/r", &secret.join("ro"), &["bind"]));
    });
    assert_eq!(
        out.ok(),
        "dir-data\nfile-data\nsh: can't create /mnt/f: Read-only file system\n\
         mount: permission denied (are you root?)\ntouch: /mnt/r/new: Read-only file system\n"
    );
    drop(ro);
    assert_clean(&env, &["ub"]);
}

// ---------------------------------------------------------------------------------------------
// No mount namespace of the container's own

/// The container's mounts when it has no mount namespace: its masked and read-only paths
/// refused as runc refuses them (they would need one).
fn in_the_hosts_mount_namespace(cfg: &mut Value, rootfs: &Path) {
    use_rootfs(cfg, rootfs);
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "mount");
    cfg["linux"]["maskedPaths"] = json!([]);
    cfg["linux"]["readonlyPaths"] = json!([]);
}

/// Asserts that every host mount present in `before` is still there unchanged — propagation
/// included — and that none of the test's directory is left. Other mounts may come and go (the
/// host is shared).
#[track_caller]
fn assert_host_mounts_unchanged(env: &Env, before: &[Mnt]) {
    let after = host_mountinfo();
    for b in before {
        let a = after.iter().find(|a| a.id == b.id);
        let a = a.unwrap_or_else(|| panic!("host mount {} is gone", b.point));
        assert_eq!(
            (&a.point, &a.opts, &a.fields),
            (&b.point, &b.opts, &b.fields),
            "host mount {} changed",
            b.point
        );
    }
    assert_no_host_mounts(env);
}

#[test]
fn without_a_mount_namespace_the_container_runs_in_the_hosts_and_leaves_nothing() {
    let env = Env::new("rootfs-host-mntns");
    let rootfs = env.copy_rootfs();
    fs::write(rootfs.join("marker"), "").unwrap();
    let before = host_mountinfo();
    let host_mnt_ns = fs::read_link("/proc/self/ns/mnt").unwrap();

    // run: the process is in the host's mount namespace, its root is the rootfs, with the
    // config's mounts (and the read-only root it asks for) below it.
    let script = format!(
        "{MOUNTINFO}readlink /proc/self/ns/mnt; ls /; touch /new 2>&1; ls /dev/pts/ptmx /proc/self/exe"
    );
    let out = env.sh("hm", &script, |c| in_the_hosts_mount_namespace(c, &rootfs));
    let s = sections(out.ok());
    let mut expected = vec![host_mnt_ns.to_str().unwrap().to_owned()];
    expected.extend(names(&rootfs));
    expected.push("touch: /new: Read-only file system".to_owned());
    expected.extend(["/dev/pts/ptmx".to_owned(), "/proc/self/exe".to_owned()]);
    assert_eq!(s[1].lines().collect::<Vec<_>>(), expected);
    let inside = parse_mountinfo(s[0]);
    assert_eq!(at(&inside, "/").opts.split(',').next(), Some("ro"));
    for point in ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup"] {
        at(&inside, point);
    }
    assert_host_mounts_unchanged(&env, &before);

    // create, start, delete: while it runs its mounts are the host's, under the rootfs; delete
    // takes them away, with what the container mounted there itself — below its root, and on it.
    let mut cfg = env.config(&[
        "sh",
        "-c",
        "mount -t tmpfs own /mnt && touch /mnt/made && mount -t tmpfs top / && sleep 1000",
    ]);
    in_the_hosts_mount_namespace(&mut cfg, &rootfs);
    cfg["root"]["readonly"] = json!(false);
    for set in ["bounding", "permitted", "effective"] {
        cfg["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SYS_ADMIN"));
    }
    let bundle = env.write_bundle("hm2", &cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "hm2"])
        .ok();
    let top = |m: &[Mnt]| at(m, rootfs.to_str().unwrap()).source.clone();
    eventually("the container's own mounts", || {
        top(&host_mountinfo()) == "top"
    });
    let running = host_mountinfo();
    let under = |p: &str| {
        at(&running, rootfs.join(p).to_str().unwrap())
            .source
            .clone()
    };
    assert_eq!(
        [under("proc"), under("dev"), under("mnt")],
        ["proc", "tmpfs", "own"]
    );
    env.berth(&["delete", "--force", "hm2"]).ok();
    assert!(!rootfs.join("mnt/made").exists());
    assert_host_mounts_unchanged(&env, &before);

    // A create that fails half-way leaves nothing either.
    let res = env.sh("hm3", "true", |c| {
        in_the_hosts_mount_namespace(c, &rootfs);
        add_mount(c, bind("/mnt", &env.dir.join("missing"), &["bind"]));
    });
    let err = res.failed();
    assert!(err.contains("mounts[7] /mnt: bind source"), "{err}");
    assert_host_mounts_unchanged(&env, &before);

    // What needs a mount namespace of the container's own is refused, as runc refuses it.
    let res = env.sh("hm4", "true", |c| {
        in_the_hosts_mount_namespace(c, &rootfs);
        c["linux"]["maskedPaths"] = json!(["/proc/kcore"]);
    });
    assert_eq!(
        res.failed(),
        "config.json: linux.maskedPaths: unable to restrict sys entries without a private MNT namespace"
    );
    assert_clean(&env, &["hm", "hm2", "hm3", "hm4"]);
}

#[test]
fn idmapped_binds_keep_the_flags_the_host_mount_locks() {
    // A mount read-only on the host, bound id-mapped into a user namespace: the kernel locks
    // the flag in the container's copy of the host's mounts, and a bind cloned from that copy
    // keeps the lock (runc makes id-mapped binds in the container's mount namespace). A clone
    // of the host's own mount would carry none: the container's root could make it writable.
    let env = Env::new("rootfs-idmap-locked");
    let rootfs = env.copy_rootfs();
    fs::create_dir(rootfs.join("mnt/r")).unwrap();
    // A read-only bind of a directory of the test's: not a tmpfs, which Linux before 6.3 cannot
    // id-map (the cgroup v2 VMs run 6.1).
    let src = env.dir.join("ro");
    fs::create_dir(&src).unwrap();
    mount(
        Some(&src),
        &src,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .unwrap();
    let ro = HostMount(src.clone());
    let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    mount(None::<&str>, &src, None::<&str>, flags, None::<&str>).unwrap();
    let map = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    let out = env.sh(
        "idl",
        "mount -o remount,bind,rw /mnt/r 2>&1; touch /mnt/r/new 2>&1; grep -c ' /mnt/r ro,.*idmapped' /proc/self/mountinfo",
        |c| {
            use_rootfs(c, &rootfs);
            common::with_user_namespace(c, 100000, 100000);
            for set in ["bounding", "permitted", "effective"] {
                c["process"]["capabilities"][set]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("CAP_SYS_ADMIN"));
            }
            add_mount(
                c,
                json!({ "destination": "/mnt/r", "type": "bind", "source": src,
                        "options": ["bind", "idmap"], "uidMappings": map, "gidMappings": map }),
            );
        },
    );
    assert_eq!(
        out.ok(),
        "mount: permission denied (are you root?)\ntouch: /mnt/r/new: Read-only file system\n1\n"
    );
    drop(ro);
    assert_clean(&env, &["idl"]);
}
