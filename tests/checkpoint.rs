//! `checkpoint` and `restore` with CRIU: a busybox loop counting into a file is checkpointed and
//! restored, and the count goes on from where it was. CRIU 3.17 (Debian's) cannot run on every
//! kernel (`criu check` fails on this host's 6.18): the suite skips there and runs in the cgroup v2
//! VMs (make test-cgroupv2 VM_SUITES=checkpoint), where the Makefile sets BERTH_CRIU_EXPECTED and a
//! failing `criu check` is a failure.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{skip, Env};
use serde_json::{json, Value};

/// Whether CRIU works here (`criu check`); skips otherwise, unless the VM expects it to.
fn criu_works() -> bool {
    let checked = Command::new("criu").arg("check").output();
    let ok = checked.as_ref().is_ok_and(|o| o.status.success());
    if !ok {
        let why = match &checked {
            Ok(o) => String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_owned(),
            Err(e) => format!("no criu: {e}"),
        };
        assert!(
            std::env::var_os("BERTH_CRIU_EXPECTED").is_none(),
            "criu check failed where CRIU must work: {why}"
        );
        skip("checkpoint/criu-unusable", &format!("criu check: {why}"));
    }
    ok
}

/// A loop that counts into /tmp/count, ten times a second, its stdio the container's /dev/null
/// (the test harness's files are outside the container's mounts, which CRIU refuses).
const COUNTER: &str = "exec </dev/null >/dev/null 2>&1; i=0; \
    while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done";

/// The base config running the counter, /tmp a tmpfs (whose contents CRIU dumps).
fn counter_config(env: &Env) -> Value {
    let mut cfg = env.config(&["sh", "-c", COUNTER]);
    cfg["mounts"].as_array_mut().unwrap().push(
        json!({ "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                      "options": ["nosuid", "nodev", "size=1m"] }),
    );
    cfg
}

fn pid_of(env: &Env, id: &str) -> i32 {
    env.state(id)["pid"].as_i64().unwrap() as i32
}

/// The count the container's loop last wrote, read through the init's root.
fn count_in(env: &Env, id: &str) -> u64 {
    read_count(Path::new(&format!(
        "/proc/{}/root/tmp/count",
        pid_of(env, id)
    )))
}

/// The loop's `echo $i > /tmp/count` truncates before it writes: an empty read is retried
/// (for up to 0.5 s) rather than taken for 0.
fn read_count(path: &Path) -> u64 {
    for _ in 0..50 {
        if let Some(n) = fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    0
}

/// Waits (up to 10 s) until `count` reaches `at_least`; returns what it read.
fn count_reaches(mut count: impl FnMut() -> u64, at_least: u64) -> u64 {
    for _ in 0..1000 {
        let n = count();
        if n >= at_least {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the count did not reach {at_least} (last {})", count());
}

fn run_detached(env: &Env, id: &str, cfg: &Value) -> PathBuf {
    let bundle = env.write_bundle(id, cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), id])
        .ok();
    bundle
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `berth checkpoint EXTRA... --image-path IMAGE ID`, which must succeed.
fn checkpoint(env: &Env, id: &str, image: &Path, extra: &[&str]) {
    let mut args = vec!["checkpoint"];
    args.extend_from_slice(extra);
    args.extend(["--image-path", s(image), id]);
    env.berth(&args).ok();
}

/// The words of `berth restore -d EXTRA... --image-path IMAGE --bundle BUNDLE ID`.
fn restore_args<'a>(
    id: &'a str,
    bundle: &'a Path,
    image: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["restore", "-d"];
    args.extend_from_slice(extra);
    args.extend(["--image-path", s(image), "--bundle", s(bundle), id]);
    args
}

/// `delete --force`, and nothing of the container may be left.
fn remove(env: &Env, id: &str) {
    env.berth(&["delete", "--force", id]).ok();
    env.assert_gone(id);
}

/// The init of `id` is in the container's own cgroup (a restore under a new id moves it there).
fn assert_in_own_cgroup(env: &Env, id: &str) {
    let cgroup = fs::read_to_string(format!("/proc/{}/cgroup", pid_of(env, id))).unwrap();
    assert!(cgroup.contains(&env.cgroup_path(id)), "{cgroup}");
}

/// Restores `image` as container `id` from `bundle` (detached, with a pid file) and checks what
/// every restore must give: a running container whose init is the pid file's, counting on from
/// at least `from`.
fn restore_and_check(
    env: &Env,
    id: &str,
    bundle: &Path,
    image: &Path,
    from: u64,
    count: &dyn Fn() -> u64,
) {
    let pid_file = env.dir.join(format!("{id}.pid"));
    env.berth(&restore_args(
        id,
        bundle,
        image,
        &["--pid-file", s(&pid_file), "-no-subreaper"],
    ))
    .ok();
    assert_eq!(env.status(id), "running");
    let pid = pid_of(env, id);
    assert_eq!(
        fs::read_to_string(&pid_file).unwrap().trim(),
        pid.to_string()
    );
    let first = count();
    assert!(
        first >= from,
        "restored count {first} is below the checkpoint's {from}"
    );
    count_reaches(count, first + 3);
}

#[test]
fn a_checkpointed_loop_is_restored_and_counts_on() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-basic");
    let id = "ckpt-basic";
    let bundle = run_detached(&env, id, &counter_config(&env));
    let before = count_reaches(|| count_in(&env, id), 5);
    let image = env.dir.join("image");
    let work = env.dir.join("work");
    checkpoint(&env, id, &image, &["--work-path", s(&work)]);
    // As runc: the checkpointed container is gone, its cgroup with it.
    assert!(env
        .berth(&["state", id])
        .failed()
        .contains("does not exist"));
    env.assert_gone(id);
    assert!(
        work.join("dump.log").exists(),
        "CRIU's log is in the work path"
    );
    restore_and_check(&env, id, &bundle, &image, before, &|| count_in(&env, id));
    // The restored container is a container like any other.
    let out = env.berth(&["exec", id, "cat", "/tmp/count"]);
    assert!(out.ok().trim().parse::<u64>().unwrap() >= before);
    assert_in_own_cgroup(&env, id);
    env.berth(&["kill", id, "9"]).ok();
    common::eventually("the restored init to die", || env.status(id) == "stopped");
    env.berth(&["delete", id]).ok();
    env.assert_gone(id);
}

#[test]
fn leave_running_keeps_the_container_and_the_image_restores_under_a_new_id() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-leave");
    let id = "ckpt-leave";
    let cfg = counter_config(&env);
    run_detached(&env, id, &cfg);
    let before = count_reaches(|| count_in(&env, id), 3);
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &["--leave-running"]);
    assert_eq!(env.status(id), "running");
    count_reaches(|| count_in(&env, id), before + 3);
    remove(&env, id);
    // Another id, so another cgroup: the restore goes there.
    let new_id = "ckpt-leave-2";
    let bundle = env.write_bundle(new_id, &cfg);
    restore_and_check(&env, new_id, &bundle, &image, before, &|| {
        count_in(&env, new_id)
    });
    assert_in_own_cgroup(&env, new_id);
    remove(&env, new_id);
}

#[test]
fn a_pre_dump_is_the_parent_of_the_final_dump() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-pre");
    let id = "ckpt-pre";
    let bundle = run_detached(&env, id, &counter_config(&env));
    count_reaches(|| count_in(&env, id), 3);
    let pre = env.dir.join("pre");
    let image = env.dir.join("final");
    checkpoint(&env, id, &pre, &["--pre-dump"]);
    assert_eq!(
        env.status(id),
        "running",
        "a pre-dump leaves the container running"
    );
    let before = count_in(&env, id);
    checkpoint(&env, id, &image, &["--parent-path", "../pre"]);
    env.assert_gone(id);
    assert!(
        image.join("parent").exists(),
        "the final dump links its parent"
    );
    restore_and_check(&env, id, &bundle, &image, before, &|| count_in(&env, id));
    remove(&env, id);
}

#[test]
fn a_bind_mount_is_restored_as_an_external_mount() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-bind");
    let id = "ckpt-bind";
    let data = env.dir.join("data");
    fs::create_dir(&data).unwrap();
    let mut cfg = env.config(&["sh", "-c", COUNTER]);
    cfg["mounts"].as_array_mut().unwrap().push(
        json!({ "destination": "/tmp", "type": "bind", "source": data, "options": ["rbind", "rw"] }),
    );
    let bundle = run_detached(&env, id, &cfg);
    let count = || read_count(&data.join("count"));
    let before = count_reaches(count, 3);
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &[]);
    env.assert_gone(id);
    let after_dump = count();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(), after_dump, "nothing counts while checkpointed");
    restore_and_check(&env, id, &bundle, &image, before.max(after_dump), &count);
    remove(&env, id);
}

#[test]
fn a_container_in_a_cgroup_namespace_is_restored_into_its_new_cgroup() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-cgns");
    let id = "ckpt-cgns";
    let mut cfg = counter_config(&env);
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "type": "cgroup" }));
    run_detached(&env, id, &cfg);
    let before = count_reaches(|| count_in(&env, id), 3);
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &[]);
    let new_id = "ckpt-cgns-2";
    let bundle = env.write_bundle(new_id, &cfg);
    restore_and_check(&env, new_id, &bundle, &image, before, &|| {
        count_in(&env, new_id)
    });
    let inside = env.berth(&["exec", new_id, "cat", "/proc/self/cgroup"]);
    assert!(
        inside.ok().lines().any(|l| l.ends_with(":/")),
        "the namespace's root is the container's cgroup: {inside:?}"
    );
    assert_in_own_cgroup(&env, new_id);
    remove(&env, new_id);
}

#[test]
fn checkpoint_of_an_unknown_container_fails_in_one_line() {
    let env = Env::new("ckpt-unknown");
    let image = env.dir.join("image");
    let out = env.berth(&["checkpoint", "--image-path", s(&image), "nosuch"]);
    let msg = out.failed();
    assert!(
        msg.contains("does not exist") || msg.contains("CRIU"),
        "{msg}"
    );
    assert!(!image.exists(), "nothing written for an unknown container");
}

#[test]
fn without_criu_both_commands_fail_in_one_line_and_leave_nothing() {
    let env = Env::new("ckpt-nocriu");
    let id = "ckpt-nocriu";
    let bundle = env.write_bundle(id, &counter_config(&env));
    let image = env.dir.join("image");
    let berth = |args: &[&str]| {
        common::capture(
            env.berth_cmd(args)
                .env("PATH", "/nonexistent")
                .stdin(std::process::Stdio::null()),
            &env.dir,
        )
    };
    let out = berth(&["checkpoint", "--image-path", s(&image), id]);
    assert!(
        out.failed().contains("no criu binary found in PATH"),
        "{out:?}"
    );
    let out = berth(&restore_args(id, &bundle, &image, &[]));
    assert!(
        out.failed().contains("no criu binary found in PATH"),
        "{out:?}"
    );
    env.assert_gone(id);
    // features says so too.
    let features: Value = serde_json::from_str(berth(&["features"]).ok()).unwrap();
    assert_eq!(
        features["annotations"]["org.opencontainers.berth.checkpoint.enabled"],
        "false"
    );
}

/// The lines a reader thread gets from `read`, one at a time with a timeout.
fn lines_of(read: std::os::fd::OwnedFd) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(fs::File::from(read)).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs `cmd` (its stdin and stdout set by the caller) to success, its stderr through a file.
fn with_stdio(env: &Env, cmd: &mut Command) {
    let err = env.dir.join(".pipes.err");
    let status = cmd
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{status}: {}",
        fs::read_to_string(&err).unwrap()
    );
}

fn next_count(rx: &std::sync::mpsc::Receiver<String>) -> u64 {
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a line from the container within 10 s");
    line.trim().parse().unwrap()
}

/// containerd's case: the container's stdin and stdout are pipes of its caller; the restore is
/// given new pipes (berth's own stdio, as the shim gives it) and the output goes on in them.
#[test]
fn stdio_pipes_are_handed_to_the_restored_process() {
    if !criu_works() {
        return;
    }
    use std::process::Stdio;
    let env = Env::new("ckpt-pipes");
    let id = "ckpt-pipes";
    let script = "exec 2>/dev/null; i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done";
    let bundle = env.write_bundle(id, &env.config(&["sh", "-c", script]));
    let (in_r, in_w) = nix::unistd::pipe().unwrap();
    let (out_r, out_w) = nix::unistd::pipe().unwrap();
    with_stdio(
        &env,
        env.berth_cmd(&["run", "-d", "--bundle", s(&bundle), id])
            .stdin(Stdio::from(in_r))
            .stdout(Stdio::from(out_w)),
    );
    let lines = lines_of(out_r);
    let mut before = 0;
    while before < 3 {
        before = next_count(&lines);
    }
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &[]);
    env.assert_gone(id);
    let names = fs::read_to_string(image.join("descriptors.json")).unwrap();
    assert!(names.contains("pipe:"), "{names}");
    while lines.try_recv().is_ok() {}
    drop(in_w);
    let (in_r, _in_w) = nix::unistd::pipe().unwrap();
    let (out_r, out_w) = nix::unistd::pipe().unwrap();
    with_stdio(
        &env,
        env.berth_cmd(&restore_args(id, &bundle, &image, &[]))
            .stdin(Stdio::from(in_r))
            .stdout(Stdio::from(out_w)),
    );
    let lines = lines_of(out_r);
    let first = next_count(&lines);
    assert!(
        first > before,
        "the restored loop printed {first} after {before}"
    );
    assert_eq!(next_count(&lines), first + 1);
    remove(&env, id);
}

/// The pty master berth sends to a console socket at `path` (it connected before returning).
fn master_from(listener: &std::os::unix::net::UnixListener) -> std::os::fd::OwnedFd {
    let (conn, _) = listener
        .accept()
        .expect("berth connected to the console socket");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    common::receive_with_fd(&conn).1
}

/// A terminal container: CRIU leaves the pty's master behind (orphan_pts_master), makes a new
/// pair on restore and berth sends the new master to the restore's console socket, where the
/// restored loop's output goes on.
#[test]
fn a_terminal_container_gets_a_new_pty_through_the_console_socket() {
    if !criu_works() {
        return;
    }
    use std::os::unix::net::UnixListener;
    let env = Env::new("ckpt-tty");
    let id = "ckpt-tty";
    let script = "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done";
    let mut cfg = env.config(&["sh", "-c", script]);
    cfg["process"]["terminal"] = json!(true);
    let bundle = env.write_bundle(id, &cfg);
    let sock = env.dir.join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    env.berth(&[
        "run",
        "-d",
        "--console-socket",
        s(&sock),
        "--bundle",
        s(&bundle),
        id,
    ])
    .ok();
    let master = master_from(&listener);
    let lines = lines_of(master.try_clone().unwrap());
    let mut before = 0;
    while before < 3 {
        before = next_count(&lines);
    }
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &["--shell-job"]);
    env.assert_gone(id);
    drop(master);
    let sock2 = env.dir.join("console2.sock");
    let listener2 = UnixListener::bind(&sock2).unwrap();
    env.berth(&restore_args(
        id,
        &bundle,
        &image,
        &["--shell-job", "--console-socket", s(&sock2)],
    ))
    .ok();
    let lines = lines_of(master_from(&listener2));
    let first = next_count(&lines);
    assert!(
        first > before,
        "the restored loop printed {first} after {before}"
    );
    let tty = fs::read_link(format!("/proc/{}/fd/1", pid_of(&env, id))).unwrap();
    assert!(tty.starts_with("/dev/pts"), "{}", tty.display());
    remove(&env, id);
}

/// A restore that fails (no image there) leaves no state, cgroup or mount behind.
#[test]
fn a_failed_restore_leaves_nothing() {
    let env = Env::new("ckpt-fail");
    let id = "ckpt-fail";
    let bundle = env.write_bundle(id, &counter_config(&env));
    let image = env.dir.join("no-image");
    let out = env.berth(&restore_args(id, &bundle, &image, &[]));
    let msg = out.failed();
    assert!(msg.contains("no-image") || msg.contains("CRIU"), "{msg}");
    env.assert_gone(id);
}

/// Without --detach, restore waits for the container as `run` does and returns its status.
#[test]
fn restore_in_the_foreground_returns_the_containers_status() {
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-fg");
    let id = "ckpt-fg";
    let bundle = run_detached(&env, id, &counter_config(&env));
    let before = count_reaches(|| count_in(&env, id), 3);
    let image = env.dir.join("image");
    checkpoint(&env, id, &image, &[]);
    let err = fs::File::create(env.dir.join(".fg.err")).unwrap();
    let mut restore = env
        .berth_cmd(&[
            "restore",
            "--image-path",
            s(&image),
            "--bundle",
            s(&bundle),
            id,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    common::eventually("the restored container", || {
        env.berth(&["state", id]).code == 0 && env.status(id) == "running"
    });
    count_reaches(|| count_in(&env, id), before + 2);
    env.berth(&["kill", id, "9"]).ok();
    let status = restore.wait().unwrap();
    assert_eq!(status.code(), Some(137), "128 + SIGKILL");
    env.assert_gone(id);
}

/// With the systemd driver the restore's unit is started for CRIU, whose restored tasks stay in
/// it: the new container's scope (systemd as PID 1 only: the systemd VM).
#[test]
fn the_systemd_driver_restores_into_a_new_scope() {
    if !Path::new("/run/systemd/system").is_dir() {
        skip(
            "systemd-cgroup/needs-systemd",
            "no systemd as PID 1 on this host",
        );
        return;
    }
    if !criu_works() {
        return;
    }
    let env = Env::new("ckpt-sd");
    let id = format!("ckptsd{}", std::process::id());
    let mut cfg = counter_config(&env);
    cfg["linux"]["cgroupsPath"] = json!(format!("system.slice:berth-test:{id}"));
    let bundle = env.write_bundle(&id, &cfg);
    let sd = |args: &[&str]| {
        let mut all = vec!["--systemd-cgroup"];
        all.extend_from_slice(args);
        env.berth(&all)
    };
    sd(&["run", "-d", "--bundle", s(&bundle), &id]).ok();
    let before = count_reaches(|| count_in(&env, &id), 3);
    let image = env.dir.join("image");
    sd(&["checkpoint", "--image-path", s(&image), &id]).ok();
    let scope = format!("/sys/fs/cgroup/system.slice/berth-test-{id}.scope");
    common::eventually("the checkpointed container's scope to go", || {
        !Path::new(&scope).exists()
    });
    sd(&restore_args(&id, &bundle, &image, &[])).ok();
    let first = count_reaches(|| count_in(&env, &id), before);
    count_reaches(|| count_in(&env, &id), first + 2);
    let cgroup = fs::read_to_string(format!("/proc/{}/cgroup", pid_of(&env, &id))).unwrap();
    assert!(
        cgroup.contains(&format!("/system.slice/berth-test-{id}.scope")),
        "{cgroup}"
    );
    sd(&["delete", "--force", &id]).ok();
    common::eventually("the restored container's scope to go", || {
        !Path::new(&scope).exists()
    });
}

/// Stdio that is the host's /dev/null (conmon's for a detached container; these tests' stdin)
/// is reopened as the container's own, as runc does: CRIU refuses a descriptor of a mount
/// outside the container ("Can't lookup mount").
#[test]
fn stdio_from_the_hosts_dev_null_is_the_containers_own() {
    let env = Env::new("ckpt-null");
    let script = "[ \"$(awk '/^mnt_id/ {print $2}' /proc/self/fdinfo/0)\" = \
                  \"$(awk '$5 == \"/dev\" {print $1}' /proc/self/mountinfo)\" ] && echo own-null";
    let out = env.sh("ckpt-null", script, |_| {});
    assert_eq!(out.ok().trim(), "own-null", "{out:?}");
}
