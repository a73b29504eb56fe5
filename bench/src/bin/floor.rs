//! floor: the kernel work of a container start and nothing else, to show what a runtime adds.
//!
//! `floor run ROOTFS` clones into the config's namespaces, makes the config's mounts (with the
//! cgroup mount, devices, masked and read-only paths as runtimes make them), pivots into ROOTFS,
//! drops to the config's capabilities and rlimit and execs /bin/true; it exits with its status.
//! `floor run ROOTFS CGROUP` also does the cgroup work every runtime must: it creates CGROUP
//! in every hierarchy, moves the child there (which waits on a pipe meanwhile, as a runtime's
//! child waits for its parent) and removes it at the end.
//! `floor exec PID` joins PID's namespaces and execs /bin/true there.
//!
//! No state is written and no config is parsed: everything the config asks for is compiled in
//! from `berth_bench::spec`. Errors print one line and exit 127.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use berth_bench::spec;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.get(1).map(String::as_str) {
        Some("run") if args.len() == 3 => run(&args[2], None),
        Some("run") if args.len() == 4 => run(&args[2], Some(&args[3])),
        Some("exec") if args.len() == 3 => exec(&args[2]),
        _ => {
            eprintln!("usage: floor run ROOTFS [CGROUP] | floor exec PID");
            2
        }
    };
    std::process::exit(code);
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Exits the process with a one-line error when a syscall failed.
fn check(ret: libc::c_long, what: &str) {
    if ret < 0 {
        eprintln!("floor: {what}: {}", std::io::Error::last_os_error());
        unsafe { libc::_exit(127) };
    }
}

fn wait_status(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    check(
        unsafe { libc::waitpid(pid, &mut status, 0) } as libc::c_long,
        "waitpid",
    );
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

fn run(rootfs: &str, cgroup: Option<&str>) -> i32 {
    let flags: libc::c_int = spec::NAMESPACES
        .iter()
        .map(|(_, f)| f)
        .fold(0, |a, f| a | f);
    let dirs = cgroup.map(cgroup_dirs).unwrap_or_default();
    for d in &dirs {
        check(
            std::fs::create_dir_all(d).map_or(-1, |_| 0),
            &d.to_string_lossy(),
        );
        inherit_cpuset(d);
    }
    let mut pipe = [-1; 2];
    check(
        unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } as libc::c_long,
        "pipe",
    );
    // A raw clone without a new stack behaves like fork, with the namespace flags that fork
    // cannot take (the program is single-threaded, so this is safe).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0,
            0,
            0,
            0,
        )
    };
    check(pid, "clone");
    if pid == 0 {
        // Wait until the parent has moved us into the cgroups (EOF on the pipe).
        unsafe { libc::close(pipe[1]) };
        let mut b = 0u8;
        unsafe { libc::read(pipe[0], (&mut b as *mut u8).cast(), 1) };
        child(rootfs);
    }
    for d in &dirs {
        let procs = d.join("cgroup.procs");
        check(
            std::fs::write(&procs, pid.to_string()).map_or(-1, |_| 0),
            &procs.to_string_lossy(),
        );
    }
    unsafe { libc::close(pipe[1]) };
    let status = wait_status(pid as libc::pid_t);
    for d in &dirs {
        check(
            std::fs::remove_dir(d).map_or(-1, |_| 0),
            &d.to_string_lossy(),
        );
    }
    status
}

/// A new v1 cpuset cgroup starts with no cpus and mems (no process can join it): copy them
/// down from the parent at each level, as runtimes do.
fn inherit_cpuset(dir: &Path) {
    if !dir.join("cpuset.cpus").exists() {
        return;
    }
    let levels: Vec<&Path> = dir
        .ancestors()
        .take_while(|p| p.join("cpuset.cpus").exists())
        .collect();
    for level in levels.iter().rev().skip(1) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = std::fs::read_to_string(level.join(file)).unwrap_or_default();
            if own.trim().is_empty() {
                let parent = level.parent().unwrap_or(level);
                let value = std::fs::read_to_string(parent.join(file)).unwrap_or_default();
                let _ = std::fs::write(level.join(file), value.trim());
            }
        }
    }
}

/// CGROUP below every mounted hierarchy: /sys/fs/cgroup itself on v2, each cgroup mount
/// directly below it on v1 and hybrid hosts.
fn cgroup_dirs(cgroup: &str) -> Vec<PathBuf> {
    let rel = cgroup.trim_start_matches('/');
    let magic = |p: &Path| {
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        let path = c(&p.to_string_lossy());
        (unsafe { libc::statfs(path.as_ptr(), &mut st) } == 0).then_some(st.f_type)
    };
    let root = Path::new("/sys/fs/cgroup");
    if magic(root) == Some(libc::CGROUP2_SUPER_MAGIC) {
        return vec![root.join(rel)];
    }
    let cgroupfs = [libc::CGROUP_SUPER_MAGIC, libc::CGROUP2_SUPER_MAGIC];
    let entries = std::fs::read_dir(root).into_iter().flatten().flatten();
    entries
        .map(|e| e.path())
        .filter(|p| magic(p).is_some_and(|m| cgroupfs.contains(&m)))
        .map(|p| p.join(rel))
        .collect()
}

fn mount(src: Option<&str>, target: &str, typ: Option<&str>, flags: libc::c_ulong, data: &str) {
    let (src, typ, data) = (src.map(c), typ.map(c), c(data));
    let ret = unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            c(target).as_ptr(),
            typ.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            if data.is_empty() {
                std::ptr::null()
            } else {
                data.as_ptr().cast()
            },
        )
    };
    check(ret as libc::c_long, target);
}

fn mkdir(path: &str) {
    let ret = unsafe { libc::mkdir(c(path).as_ptr(), 0o755) };
    if ret < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
        check(-1, path);
    }
}

/// Runs in the new namespaces: mounts, pivot_root, process attributes, exec. Never returns.
fn child(rootfs: &str) -> ! {
    mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, "");
    mount(Some(rootfs), rootfs, None, libc::MS_BIND | libc::MS_REC, "");
    for m in spec::MOUNTS {
        let target = format!("{rootfs}{}", m.destination);
        mkdir(&target);
        let (flags, data) = spec::mount_flags(m.options);
        if m.typ == "cgroup" {
            cgroup_mount(&target, flags);
        } else {
            mount(Some(m.source), &target, Some(m.typ), flags, &data);
        }
    }
    devices(rootfs);

    // pivot_root(".", ".") stacks the old root on the new one; detach it.
    check(
        unsafe { libc::chdir(c(rootfs).as_ptr()) } as libc::c_long,
        "chdir",
    );
    let dot = c(".");
    check(
        unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) },
        "pivot_root",
    );
    mount(None, ".", None, libc::MS_SLAVE | libc::MS_REC, "");
    check(
        unsafe { libc::umount2(dot.as_ptr(), libc::MNT_DETACH) } as libc::c_long,
        "umount old root",
    );
    check(
        unsafe { libc::chdir(c("/").as_ptr()) } as libc::c_long,
        "chdir /",
    );

    for p in spec::MASKED_PATHS {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => mount(Some("tmpfs"), p, Some("tmpfs"), libc::MS_RDONLY, ""),
            Ok(_) => mount(Some("/dev/null"), p, None, libc::MS_BIND, ""),
            Err(_) => {}
        }
    }
    for p in spec::READONLY_PATHS {
        if Path::new(p).exists() {
            mount(Some(p), p, None, libc::MS_BIND | libc::MS_REC, "");
            let ro = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_REC;
            mount(None, p, None, ro, "");
        }
    }
    let ro_root = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
    mount(None, "/", None, ro_root, "");

    process_attributes();
    let (prog, env): (CString, Vec<CString>) =
        (c("/bin/true"), spec::ENV.iter().map(|e| c(e)).collect());
    let argv = [prog.as_ptr(), std::ptr::null()];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    unsafe { libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    check(-1, "execve /bin/true");
    unreachable!()
}

/// A `cgroup` mount without a cgroup namespace: on cgroup v2 the hierarchy itself; on v1 or
/// hybrid hosts a tmpfs with a read-only bind of every host hierarchy, as runc lays it out.
fn cgroup_mount(target: &str, flags: libc::c_ulong) {
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    check(
        unsafe { libc::statfs(c("/sys/fs/cgroup").as_ptr(), &mut st) } as libc::c_long,
        "statfs /sys/fs/cgroup",
    );
    if st.f_type == libc::CGROUP2_SUPER_MAGIC {
        mount(Some("cgroup2"), target, Some("cgroup2"), flags, "");
        return;
    }
    let nosuid = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;
    mount(Some("tmpfs"), target, Some("tmpfs"), nosuid, "mode=755");
    let hierarchies = std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten();
    for h in hierarchies.flatten() {
        let dst = format!("{target}/{}", h.file_name().to_string_lossy());
        mkdir(&dst);
        let src = h.path();
        let src = std::str::from_utf8(src.as_os_str().as_bytes()).unwrap_or("/");
        mount(Some(src), &dst, None, libc::MS_BIND, "");
        mount(
            None,
            &dst,
            None,
            libc::MS_BIND | libc::MS_REMOUNT | flags,
            "",
        );
    }
    mount(None, target, None, libc::MS_REMOUNT | flags, "mode=755");
}

/// The default devices as device nodes, and the standard /dev symlinks.
fn devices(rootfs: &str) {
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        let path = c(&format!("{rootfs}/dev/{name}"));
        let mode = libc::S_IFCHR | 0o666;
        let ret = unsafe { libc::mknod(path.as_ptr(), mode, libc::makedev(major, minor)) };
        check(ret as libc::c_long, name);
        // mknod's mode is filtered by the umask; runtimes chmod to the wanted one.
        check(
            unsafe { libc::chmod(path.as_ptr(), 0o666) } as libc::c_long,
            name,
        );
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        let path = c(&format!("{rootfs}/dev/{link}"));
        check(
            unsafe { libc::symlink(c(to).as_ptr(), path.as_ptr()) } as libc::c_long,
            link,
        );
    }
}

/// Hostname, rlimit, capabilities (bounding drop, capset, ambient) and no_new_privs.
fn process_attributes() {
    let host = spec::HOSTNAME;
    check(
        unsafe { libc::sethostname(host.as_ptr().cast(), host.len()) } as libc::c_long,
        "sethostname",
    );
    let lim = libc::rlimit {
        rlim_cur: spec::NOFILE,
        rlim_max: spec::NOFILE,
    };
    check(
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } as libc::c_long,
        "setrlimit",
    );

    let keep: u64 = spec::CAPABILITIES.iter().fold(0, |a, (_, n)| a | 1 << n);
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40u32);
    for cap in (0..=last).filter(|n| keep & 1 << n == 0) {
        check(
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) }
                as libc::c_long,
            "drop bounding capability",
        );
    }
    // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
    let header = [0x2008_0522u32, 0];
    let word = |i: usize| (keep >> (32 * i)) as u32;
    let data = [word(0), word(0), 0, word(1), word(1), 0]; // effective, permitted, inheritable
    check(
        unsafe { libc::syscall(libc::SYS_capset, header.as_ptr(), data.as_ptr()) },
        "capset",
    );
    for (_, n) in spec::CAPABILITIES {
        // Fails (as it does for the runtimes) while the cap is not inheritable; runtimes ignore it.
        unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                *n as libc::c_ulong,
                0,
                0,
            )
        };
    }
    check(
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } as libc::c_long,
        "no_new_privs",
    );
}

/// Joins the namespaces of `pid` (mount last: it changes the root the others are read from),
/// then forks so the child is in the pid namespace, and execs /bin/true there.
fn exec(pid: &str) -> i32 {
    let fds: Vec<libc::c_int> = ["ipc", "uts", "net", "pid", "mnt"]
        .iter()
        .map(|ns| {
            let path = c(&format!("/proc/{pid}/ns/{ns}"));
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            check(fd as libc::c_long, ns);
            fd
        })
        .collect();
    for fd in fds {
        check(unsafe { libc::setns(fd, 0) } as libc::c_long, "setns");
        unsafe { libc::close(fd) };
    }
    check(
        unsafe { libc::chdir(c("/").as_ptr()) } as libc::c_long,
        "chdir /",
    );
    let child = unsafe { libc::fork() };
    check(child as libc::c_long, "fork");
    if child == 0 {
        let prog = c("/bin/true");
        let argv = [prog.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null()];
        unsafe { libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        check(-1, "execve /bin/true");
    }
    wait_status(child)
}
