//! Container-side hardening, each test named after the class of attack it reproduces (the
//! README's security section maps every CVE class to its test): ids that mean "unchanged" to the
//! kernel, a rename racing the /proc mount check, a /dev/console or /dev/null of the image that is
//! not what berth expects, writes into /proc redirected by an overmount, and descriptors or a
//! working directory reaching the container from the host.

mod common;

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{capture, Env, Run};
use serde_json::{json, Value};

/// The `sh -c script` config of `env` on its own copy of the fixture rootfs.
fn config_on(env: &Env, rootfs: &Path, script: &str) -> Value {
    let mut cfg = env.config(&["sh", "-c", script]);
    cfg["root"]["path"] = json!(rootfs);
    cfg
}

/// Removes the mount whose destination is `dest` from `cfg`.
fn drop_mount(cfg: &mut Value, dest: &str) {
    let mounts = cfg["mounts"].as_array_mut().unwrap();
    let before = mounts.len();
    mounts.retain(|m| m["destination"] != dest);
    assert_eq!(mounts.len(), before - 1, "no mount at {dest}");
}

/// `berth args…` with exactly `files` as its descriptors 3, 4, … and nothing else above stderr.
fn berth_with_fds(env: &Env, args: &[&str], files: &[fs::File]) -> Run {
    let raw: Vec<i32> = files.iter().map(AsRawFd::as_raw_fd).collect();
    let mut cmd = env.berth_cmd(args);
    cmd.stdin(Stdio::null());
    // SAFETY: only fcntl, dup2 and close_range between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut high = Vec::with_capacity(raw.len());
            for fd in &raw {
                let h = libc::fcntl(*fd, libc::F_DUPFD, 1000);
                if h < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push(h);
            }
            // Whatever the test harness holds open (cargo's jobserver pipes) goes too.
            libc::close_range(3, 999, 0);
            for (i, h) in high.iter().enumerate() {
                if libc::dup2(*h, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            libc::close_range(1000, u32::MAX, 0);
            Ok(())
        });
    }
    capture(&mut cmd, &env.dir)
}

fn mknod_char(path: &Path, major: u64, minor: u64) {
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    let mode = Mode::from_bits_truncate(0o666);
    mknod(path, SFlag::S_IFCHR, mode, makedev(major, minor)).unwrap();
}

/// The `N -> target` pairs of busybox `ls -l /proc/PID/fd` output, up to the line `end`.
fn fd_links(out: &str) -> Vec<(u32, String)> {
    out.lines()
        .take_while(|l| *l != "end")
        .filter_map(|l| {
            let (left, target) = l.split_once(" -> ")?;
            let fd = left.rsplit(' ').next()?.parse().ok()?;
            Some((fd, target.to_owned()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// uid/gid (uid_t)-1: "leave unchanged" to setresuid/setresgid, so the process stayed root.

#[test]
fn ids_outside_runcs_range_are_refused_in_the_config() {
    let env = Env::new("hard-ids");
    for (id, user, field) in [
        (
            "u1",
            json!({ "uid": 4294967295u32, "gid": 0 }),
            "process.user.uid",
        ),
        (
            "u2",
            json!({ "uid": 1000, "gid": 4294967295u32 }),
            "process.user.gid",
        ),
        (
            "u3",
            json!({ "uid": 1000, "gid": 1000, "additionalGids": [5, 4294967295u32] }),
            "process.user.additionalGids[1]",
        ),
        (
            "u4",
            json!({ "uid": 2147483648u32, "gid": 0 }),
            "process.user.uid",
        ),
    ] {
        let out = env.sh(id, "id", |c| c["process"]["user"] = user);
        let err = out.failed();
        assert!(err.contains(field), "{err}");
        assert!(err.contains("must be in range 0-2147483647"), "{err}");
        env.assert_gone(id);
    }
    // The largest id runc accepts is a real id.
    let out = env.sh("u5", "id -u; id -g; id -G", |c| {
        c["process"]["user"] =
            json!({ "uid": 2147483647, "gid": 2147483647, "additionalGids": [2147483647] });
    });
    assert_eq!(out.ok(), "2147483647\n2147483647\n2147483647\n");
    env.assert_gone("u5");
}

#[test]
fn ids_outside_runcs_range_are_refused_by_exec() {
    let env = Env::new("hard-exec-ids");
    let bundle = env.write_bundle("e1", &env.config(&["sleep", "1000"]));
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "e1"])
        .ok();
    let file = env.dir.join("process.json");
    fs::write(
        &file,
        json!({
            "user": { "uid": 4294967295u32, "gid": 0 },
            "args": ["id", "-u"],
            "cwd": "/"
        })
        .to_string(),
    )
    .unwrap();
    for (args, field) in [
        (
            vec!["exec", "--user", "4294967295", "e1", "id", "-u"],
            "process.user.uid",
        ),
        (
            vec!["exec", "--user", "0:4294967295", "e1", "id", "-u"],
            "process.user.gid",
        ),
        (
            vec!["exec", "--additional-gids", "4294967295", "e1", "id", "-u"],
            "process.user.additionalGids[0]",
        ),
        (
            vec!["exec", "--process", file.to_str().unwrap(), "e1"],
            "process.user.uid",
        ),
    ] {
        let out = env.berth(&args);
        let err = out.failed();
        assert!(err.contains(field), "{args:?}: {err}");
        assert!(err.contains("must be in range 0-2147483647"), "{err}");
    }
    let out = env.berth(&["exec", "--user", "2147483647:2147483647", "e1", "id", "-u"]);
    assert_eq!(out.ok(), "2147483647\n");
    assert_eq!(env.status("e1"), "running");
    env.berth(&["delete", "--force", "e1"]).ok();
    env.assert_gone("e1");
}

// ---------------------------------------------------------------------------------------------
// CVE-2025-52881: a write into /proc redirected by a bind mount of another procfs file.

#[test]
fn sysctl_writes_reach_the_real_file_under_an_overmount() {
    let env = Env::new("hard-sysctl");
    let rootfs = env.copy_rootfs();
    let mut cfg = config_on(
        &env,
        &rootfs,
        "cat /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv4/ip_default_ttl",
    );
    cfg["linux"]["sysctl"] = json!({ "net.ipv4.ip_forward": "1" });
    // In the container's namespaces before pivot_root: ip_forward becomes ip_default_ttl.
    let ipv4 = format!("{}/proc/sys/net/ipv4", rootfs.display());
    cfg["hooks"] = json!({ "createContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "mount --bind \"$0/ip_default_ttl\" \"$0/ip_forward\"", ipv4]
    }]});
    let out = env.run("s1", &cfg);
    // The real ip_forward (also conf/all/forwarding) is set; the decoy keeps its default.
    assert_eq!(out.ok(), "1\n64\n");
    env.assert_gone("s1");
}

// ---------------------------------------------------------------------------------------------
// Symlink-in-rootfs mount redirection, raced: the destination checked and the destination
// mounted on must be one lookup.

#[test]
fn a_destination_renamed_during_create_never_covers_proc() {
    let env = Env::new("hard-proc-race");
    let rootfs = env.copy_rootfs();
    // /mnt/x flips between a plain directory and a symlink to /proc/sys, atomically and as fast
    // as it can. The destination reaches it through 19 symlinks, each leading through a thousand
    // directory levels: every lookup of it takes long, so that a check and a mount that look it
    // up separately see different things even on a machine too busy to run both at once. (Not
    // more links: a lookup that a rename sends back to the slow path counts them twice, and 40
    // is the limit.)
    let deep = format!("/mnt{}", "/d".repeat(1000));
    let inside = |p: &str| rootfs.join(&p[1..]);
    fs::create_dir_all(inside(&deep)).unwrap();
    for i in 0..19 {
        let target = match i {
            0 => "/mnt".to_owned(),
            _ => format!("{deep}/l{}", i - 1),
        };
        symlink(target, inside(&format!("{deep}/l{i}"))).unwrap();
    }
    fs::create_dir(inside("/mnt/x")).unwrap();
    symlink("/proc/sys", inside("/mnt/y")).unwrap();
    let mnt = fs::File::open(inside("/mnt")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let fd = mnt.as_raw_fd();
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: a directory descriptor and two C string literals.
                let ret = unsafe {
                    libc::renameat2(fd, c"x".as_ptr(), fd, c"y".as_ptr(), libc::RENAME_EXCHANGE)
                };
                assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
            }
        })
    };
    let mut cfg = config_on(&env, &rootfs, "cat /proc/self/mountinfo");
    cfg["mounts"].as_array_mut().unwrap().push(
        json!({ "destination": format!("{deep}/l18/x"), "type": "tmpfs", "source": "tmpfs" }),
    );
    let bundle = env.write_bundle("race", &cfg);
    let (mut mounted, mut refused) = (0, 0);
    let mut covered = Vec::new();
    for i in 0..50 {
        let id = format!("race{i}");
        let out = env.berth(&["run", "--bundle", bundle.to_str().unwrap(), &id]);
        if out.code == 0 {
            mounted += 1;
            covered.extend(
                out.stdout
                    .lines()
                    .filter(|l| {
                        let point = l.split(' ').nth(4).unwrap_or("");
                        point.starts_with("/proc/sys") && l.contains(" - tmpfs ")
                    })
                    .map(|l| format!("{id}: {l}")),
            );
        } else {
            refused += 1;
            let err = out.failed();
            assert!(
                err.contains("mounting over /proc/sys is not allowed"),
                "{id}: {err}"
            );
        }
        env.assert_gone(&id);
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    eprintln!(
        "STATS mounted {mounted} refused {refused} covered {}",
        covered.len()
    );
    assert!(
        covered.is_empty(),
        "a tmpfs covered /proc/sys:\n{covered:#?}"
    );
    // Both sides of the flip were seen: the race was run, not skipped.
    assert!(
        mounted > 0 && refused > 0,
        "{mounted} mounted, {refused} refused"
    );
}

// ---------------------------------------------------------------------------------------------
// CVE-2025-52565: /dev/console of the image followed to where it points; /dev/ptmx unchecked.

#[test]
fn dev_console_must_be_a_file_or_a_character_device() {
    let env = Env::new("hard-console");
    let rootfs = env.copy_rootfs();
    let console = rootfs.join("dev/console");
    let script = "tty; stat -c '%F %t' /dev/console; grep -c ' /proc.* - devpts ' /proc/self/mountinfo || true";
    let run = |id: &str| {
        let mut cfg = config_on(&env, &rootfs, script);
        cfg["process"]["terminal"] = json!(true);
        // The image's own /dev, not a tmpfs: its /dev/console is what berth finds.
        drop_mount(&mut cfg, "/dev");
        env.run(id, &cfg)
    };
    symlink("/proc/sys/kernel/core_pattern", &console).unwrap();
    let err = run("c1");
    let err = err.failed();
    assert!(err.contains("/dev/console"), "{err}");
    assert!(err.contains("symlink"), "{err}");
    env.assert_gone("c1");
    assert!(fs::symlink_metadata(&console).unwrap().is_symlink());

    fs::remove_file(&console).unwrap();
    fs::create_dir(&console).unwrap();
    let err = run("c2");
    assert!(err.failed().contains("/dev/console"), "{err:?}");
    env.assert_gone("c2");
    fs::remove_dir(&console).unwrap();
    nix::unistd::mkfifo(&console, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let err = run("c3");
    assert!(err.failed().contains("/dev/console"), "{err:?}");
    env.assert_gone("c3");
    fs::remove_file(&console).unwrap();

    // A regular file or the image's own console node is covered by the pty (major 136).
    fs::write(&console, "").unwrap();
    let out = run("c4");
    assert_eq!(out.ok(), "/dev/pts/0\r\ncharacter special file 88\r\n0\r\n");
    fs::remove_file(&console).unwrap();
    mknod_char(&console, 5, 1);
    let out = run("c5");
    assert_eq!(out.ok(), "/dev/pts/0\r\ncharacter special file 88\r\n0\r\n");
    env.assert_gone("c5");
}

#[test]
fn the_pty_comes_from_the_containers_own_devpts() {
    let env = Env::new("hard-ptmx");
    let rootfs = env.copy_rootfs();
    // A /dev bound from the bundle (berth then makes no nodes or links of its own) whose ptmx
    // leads to a second devpts instance.
    let dev = env.dir.join("dev");
    fs::create_dir(&dev).unwrap();
    symlink("/mnt/pts/ptmx", dev.join("ptmx")).unwrap();
    mknod_char(&dev.join("null"), 1, 3);
    let mut cfg = config_on(&env, &rootfs, "tty; readlink /proc/self/fd/1");
    cfg["process"]["terminal"] = json!(true);
    let mounts = cfg["mounts"].as_array_mut().unwrap();
    for m in mounts.iter_mut() {
        if m["destination"] == "/dev" {
            *m = json!({ "destination": "/dev", "type": "bind", "source": dev, "options": ["rbind"] });
        }
    }
    mounts.push(
        json!({ "destination": "/mnt/pts", "type": "devpts", "source": "devpts",
        "options": ["newinstance", "ptmxmode=0666"] }),
    );
    let out = env.run("p1", &cfg);
    assert_eq!(out.ok(), "/dev/pts/0\r\n/dev/pts/0\r\n");
    env.assert_gone("p1");

    // No devpts at /dev/pts at all: refused, naming it.
    let mut cfg = config_on(&env, &rootfs, "tty");
    cfg["process"]["terminal"] = json!(true);
    drop_mount(&mut cfg, "/dev/pts");
    let out = env.run("p2", &cfg);
    let err = out.failed();
    assert!(err.contains("/dev/pts/ptmx"), "{err}");
    env.assert_gone("p2");
}

// ---------------------------------------------------------------------------------------------
// CVE-2024-21626: host descriptors in the container, and a working directory reached through one.

#[test]
fn preserve_fds_must_all_be_open_before_anything_is_made() {
    let env = Env::new("hard-preserve");
    let bundle = env.write_bundle("f1", &env.config(&["true"]));
    let bundle = bundle.to_str().unwrap();
    let out = berth_with_fds(
        &env,
        &["create", "--bundle", bundle, "--preserve-fds", "5", "f1"],
        &[],
    );
    let err = out.failed();
    assert!(err.contains("preserved-fd 0 (of 5)"), "{err}");
    assert!(err.contains("fd 3"), "{err}");
    env.assert_gone("f1");
    let input = env.dir.join("in");
    fs::write(&input, "").unwrap();
    let files = [
        fs::File::open(&input).unwrap(),
        fs::File::open(&input).unwrap(),
    ];
    let out = berth_with_fds(
        &env,
        &["run", "--bundle", bundle, "--preserve-fds", "3", "f1"],
        &files,
    );
    let err = out.failed();
    assert!(err.contains("preserved-fd 2 (of 3)"), "{err}");
    assert!(err.contains("fd 5"), "{err}");
    env.assert_gone("f1");
    assert!(
        fs::read_dir(&env.root).map_or(true, |mut d| d.next().is_none()),
        "state left under {}",
        env.root.display()
    );
}

#[test]
fn only_stdio_and_the_callers_descriptors_reach_the_container() {
    let env = Env::new("hard-fds");
    let (a, b) = (env.dir.join("a"), env.dir.join("b"));
    fs::write(&a, "").unwrap();
    fs::write(&b, "").unwrap();
    let files = || [fs::File::open(&a).unwrap(), fs::File::open(&b).unwrap()];
    let log = env.dir.join("log.json");
    let expect = |out: &Run| {
        let links = fd_links(out.ok());
        let fds: Vec<u32> = links.iter().map(|(fd, _)| *fd).collect();
        assert_eq!(fds, [0, 1, 2, 3, 4], "{links:?}");
        assert_eq!(links[3].1, a.to_str().unwrap());
        assert_eq!(links[4].1, b.to_str().unwrap());
    };
    // ls lists the shell's descriptors; not as the last command, which ash would exec.
    let script = "ls -l /proc/$$/fd; echo end";
    let bundle = env.write_bundle("d1", &env.config(&["sh", "-c", script]));
    let bundle = bundle.to_str().unwrap();
    let log_arg = log.to_str().unwrap();
    let out = berth_with_fds(
        &env,
        &[
            "--log",
            log_arg,
            "run",
            "--bundle",
            bundle,
            "--preserve-fds",
            "2",
            "d1",
        ],
        &files(),
    );
    expect(&out);
    env.assert_gone("d1");

    let bundle = env.write_bundle("d2", &env.config(&["sleep", "1000"]));
    let bundle = bundle.to_str().unwrap();
    env.berth(&["run", "-d", "--bundle", bundle, "d2"]).ok();
    let out = berth_with_fds(
        &env,
        &[
            "--log",
            log_arg,
            "exec",
            "--preserve-fds",
            "2",
            "d2",
            "sh",
            "-c",
            script,
        ],
        &files(),
    );
    expect(&out);
    // Missing ones: refused before anything runs (it would have held berth's own instead).
    let out = berth_with_fds(
        &env,
        &["exec", "--preserve-fds", "2", "d2", "sh", "-c", script],
        &[],
    );
    let err = out.failed();
    assert!(err.contains("preserved-fd 0 (of 2)"), "{err}");
    let pids = env.berth(&["ps", "--format", "json", "d2"]);
    let pids: Vec<i64> = serde_json::from_str(pids.ok()).unwrap();
    assert_eq!(pids.len(), 1, "an exec'd process is left: {pids:?}");
    env.berth(&["delete", "--force", "d2"]).ok();
    env.assert_gone("d2");
}

#[test]
fn a_working_directory_through_a_descriptor_is_refused() {
    // The caller hands on a host directory (fd 3); process.cwd reaches it through /proc.
    let env = Env::new("hard-cwd");
    let host_dir = || [fs::File::open(&env.dir).unwrap()];
    let mut cfg = env.config(&["pwd"]);
    cfg["process"]["cwd"] = json!("/proc/self/fd/3");
    let bundle = env.write_bundle("w1", &cfg);
    let bundle = bundle.to_str().unwrap();
    let out = berth_with_fds(
        &env,
        &["run", "--bundle", bundle, "--preserve-fds", "1", "w1"],
        &host_dir(),
    );
    assert!(out.failed().contains("process.cwd"), "{out:?}");
    env.assert_gone("w1");

    let bundle = env.write_bundle("w2", &env.config(&["sleep", "1000"]));
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "w2"])
        .ok();
    let out = berth_with_fds(
        &env,
        &[
            "exec",
            "--preserve-fds",
            "1",
            "--cwd",
            "/proc/self/fd/3",
            "w2",
            "pwd",
        ],
        &host_dir(),
    );
    let err = out.failed();
    assert!(err.contains("process.cwd"), "{err}");
    assert!(err.contains("outside the container"), "{err}");
    env.berth(&["delete", "--force", "w2"]).ok();
    env.assert_gone("w2");
}
// ---------------------------------------------------------------------------------------------
// CVE-2025-31133: maskedPaths bind /dev/null; an image whose /dev/null is something else.

#[test]
fn masked_paths_use_only_the_real_null_device() {
    let env = Env::new("hard-null");
    let rootfs = env.copy_rootfs();
    let null = rootfs.join("dev/null");
    let run = |id: &str| {
        let mut cfg = config_on(&env, &rootfs, "cat /proc/sys/kernel/core_pattern");
        drop_mount(&mut cfg, "/dev");
        env.run(id, &cfg)
    };
    symlink("/proc/sys/kernel/core_pattern", &null).unwrap();
    let out = run("n1");
    assert!(out.failed().contains("not the null device"), "{out:?}");
    env.assert_gone("n1");
    fs::remove_file(&null).unwrap();
    fs::write(&null, "").unwrap();
    let out = run("n2");
    assert!(out.failed().contains("not the null device"), "{out:?}");
    env.assert_gone("n2");
    assert_eq!(fs::read(&null).unwrap(), b"");
}
