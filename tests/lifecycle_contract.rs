//! kill, delete, ps and create as engines code against them (runc's words and exit codes), and
//! what a crash, a race or a tampered state must not leave behind.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{capture, cgroup_mounts, eventually, Env, Run};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The base config without a pid namespace of its own (a pod container's shape).
fn without_pid_ns(env: &Env, args: &[&str]) -> Value {
    let mut cfg = env.config(args);
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "pid");
    cfg
}

/// The hierarchy whose cgroup.procs berth lists a container's processes from: v1 `pids` on a
/// hybrid host, the cgroup2 mount on a pure one.
fn process_hierarchy() -> PathBuf {
    let mounts = cgroup_mounts();
    mounts
        .iter()
        .find(|m| m.ends_with("pids"))
        .or_else(|| {
            mounts
                .iter()
                .find(|m| m.as_path() == Path::new("/sys/fs/cgroup"))
        })
        .cloned()
        .expect("a pids or cgroup2 hierarchy")
}

/// The file that freezes a cgroup, and its frozen and thawed values: the v1 freezer where the
/// host has one, else cgroup2's cgroup.freeze.
fn freezer(cgroup: &str) -> (PathBuf, &'static str, &'static str) {
    let mounts = cgroup_mounts();
    match mounts.iter().find(|m| m.ends_with("freezer")) {
        Some(m) => (
            m.join(cgroup.trim_start_matches('/')).join("freezer.state"),
            "FROZEN",
            "THAWED",
        ),
        None => (
            Path::new("/sys/fs/cgroup")
                .join(cgroup.trim_start_matches('/'))
                .join("cgroup.freeze"),
            "1",
            "0",
        ),
    }
}

/// Pids of every process whose cgroup (in any hierarchy) is `cgroup` or below it.
fn processes_in(cgroup: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(text) = fs::read_to_string(entry.path().join("cgroup")) else {
            continue;
        };
        let inside = text.lines().any(|l| {
            let path = l.splitn(3, ':').nth(2).unwrap_or("");
            path == cgroup || path.starts_with(&format!("{cgroup}/"))
        });
        if inside {
            out.push(pid);
        }
    }
    out
}

/// Whether `pid` names a live (not zombie) process.
fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.starts_with(" Z"))
    })
}

/// Runs berth, killing it if it has not finished within `limit` (then `None`: it hung).
fn bounded(env: &Env, args: &[&str], limit: Duration) -> Option<Run> {
    let out = env.dir.join(format!(".bounded-{}.out", std::process::id()));
    let err = env.dir.join(format!(".bounded-{}.err", std::process::id()));
    let mut child = env
        .berth_cmd(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = status.map(|status| {
        Run::from_output(std::process::Output {
            status,
            stdout: fs::read(&out).unwrap(),
            stderr: fs::read(&err).unwrap(),
        })
    });
    let _ = fs::remove_file(out);
    let _ = fs::remove_file(err);
    run
}

/// A host `sleep` in a container-to-be's cgroup; dropped, it goes back to the root cgroup of
/// that hierarchy and ends (however the test ends: its cgroup can then be removed).
struct Sleeper(Child);

impl Sleeper {
    /// In the hierarchy berth lists processes from.
    fn in_cgroup_of(env: &Env, id: &str) -> Sleeper {
        let dir = process_hierarchy().join(env.cgroup_path(id).trim_start_matches('/'));
        fs::create_dir_all(&dir).unwrap();
        let child = std::process::Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sleeper = Sleeper(child);
        fs::write(dir.join("cgroup.procs"), sleeper.0.id().to_string()).unwrap();
        sleeper
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = fs::write(
            process_hierarchy().join("cgroup.procs"),
            self.0.id().to_string(),
        );
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn kill_0_checks_liveness_and_a_stopped_container_is_not_running() {
    let env = Env::new("contract-kill0");
    env.create("k0", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["kill", "k0", "0"]).ok();
    env.berth(&["kill", "--all", "k0", "0"]).ok();
    assert_eq!(env.status("k0"), "created");

    env.berth(&["kill", "k0", "KILL"]).ok();
    eventually("k0 to stop", || env.status("k0") == "stopped");
    for args in [["kill", "k0", "0"], ["kill", "k0", "TERM"]] {
        let out = env.berth(&args);
        assert_eq!(out.code, 1, "{out:?}");
        // containerd's checkKillError turns exactly these words into "already exited".
        assert!(out.failed().contains("container not running"), "{out:?}");
    }
    env.berth(&["kill", "--all", "k0", "0"]).ok();
    env.berth(&["delete", "k0"]).ok();
    env.assert_gone("k0");
}

#[test]
fn missing_and_empty_ids_fail_as_with_runc() {
    let env = Env::new("contract-missing");
    for args in [
        &["kill", "nope", "KILL"][..],
        &["kill", "--all", "nope", "0"],
        &["delete", "nope"],
        &["ps", "nope"],
        &["pause", "nope"],
    ] {
        let out = env.berth(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.failed().contains("does not exist"), "{args:?}: {out:?}");
    }
    for args in [&["kill", "", "KILL"][..], &["delete", ""], &["ps", ""]] {
        let out = env.berth(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.failed().contains("container id cannot be empty"),
            "{args:?}: {out:?}"
        );
    }

    env.create("r1", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["start", "r1"]).ok();
    let out = env.berth(&["delete", "r1"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.failed()
            .contains("cannot delete container r1 that is not stopped: running"),
        "{out:?}"
    );
    assert_eq!(env.status("r1"), "running");
    env.berth(&["delete", "--force", "r1"]).ok();
    env.assert_gone("r1");
}

#[test]
fn ps_of_a_stopped_container_is_an_empty_list() {
    let env = Env::new("contract-ps");
    env.create("p1", &env.config(&["sleep", "1000"])).ok();
    let pid = env.state("p1")["pid"].as_i64().unwrap();
    let listed: Vec<i64> =
        serde_json::from_str(env.berth(&["ps", "-f", "json", "p1"]).ok()).unwrap();
    assert_eq!(listed, [pid]);
    env.berth(&["kill", "p1", "KILL"]).ok();
    eventually("p1 to stop", || env.status("p1") == "stopped");
    let json = env.berth(&["ps", "--format", "json", "p1"]);
    assert_eq!(json.ok().trim(), "[]");
    let table = env.berth(&["ps", "p1"]);
    let lines: Vec<&str> = table.ok().lines().collect();
    assert_eq!(lines.len(), 1, "only the header: {table:?}");
    assert!(lines[0].split_whitespace().any(|c| c == "PID"), "{table:?}");
    env.berth(&["delete", "p1"]).ok();
    env.assert_gone("p1");
}

/// A container without its own pid namespace whose shell leaves a `sleep` behind and exits:
/// returns the sleep's pid once the container is stopped.
fn leaves_a_sleep(env: &Env, id: &str) -> i32 {
    env.create(
        id,
        &without_pid_ns(env, &["sh", "-c", "sleep 1000 & exit 0"]),
    )
    .ok();
    env.berth(&["start", id]).ok();
    eventually("the shell to exit", || env.status(id) == "stopped");
    let procs = process_hierarchy()
        .join(env.cgroup_path(id).trim_start_matches('/'))
        .join("cgroup.procs");
    let pids: Vec<i32> = fs::read_to_string(procs)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 1, "the sleep is left in the cgroup: {pids:?}");
    assert!(alive(pids[0]));
    pids[0]
}

#[test]
fn kill_all_and_delete_end_what_a_container_without_a_pid_namespace_leaves() {
    let env = Env::new("contract-host-pidns");
    let sleep = leaves_a_sleep(&env, "h1");
    env.berth(&["kill", "--all", "h1", "KILL"]).ok();
    eventually("kill --all to end the sleep", || !alive(sleep));
    env.berth(&["delete", "h1"]).ok();
    env.assert_gone("h1");

    let sleep = leaves_a_sleep(&env, "h2");
    env.berth(&["kill", "h2", "KILL"]).ok();
    eventually("kill KILL to end the sleep", || !alive(sleep));
    env.berth(&["delete", "h2"]).ok();
    env.assert_gone("h2");

    // runc's destroy: delete kills what is left before removing the cgroup.
    let sleep = leaves_a_sleep(&env, "h3");
    env.berth(&["delete", "h3"]).ok();
    assert!(!alive(sleep), "delete left the sleep running");
    env.assert_gone("h3");
    assert_eq!(processes_in(&env.cgroup_path("h3")), Vec::<i32>::new());
}

#[test]
fn create_in_a_frozen_cgroup_fails_and_leaves_nothing() {
    let env = Env::new("contract-frozen");
    let cgroup = env.cgroup_path("f1");
    let (file, frozen, thawed) = freezer(&cgroup);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, frozen).unwrap();
    let bundle = env.write_bundle("f1", &env.config(&["sleep", "1000"]));
    let out = bounded(
        &env,
        &["create", "--bundle", s(&bundle), "f1"],
        Duration::from_secs(10),
    );
    // Whatever happened, thaw so that a hung init can be cleaned up.
    let deleted = bounded(&env, &["delete", "--force", "f1"], Duration::from_secs(10));
    fs::write(&file, thawed).unwrap();
    let out = out.expect("create hung in a frozen cgroup");
    let err = out.failed();
    assert!(
        err.contains("container's cgroup unexpectedly frozen"),
        "{err}"
    );
    assert!(err.contains(&cgroup), "the error names the cgroup: {err}");
    assert_eq!(deleted.expect("delete --force hung").code, 0);
    assert!(!env.root.join("f1").exists());
    assert_eq!(processes_in(&cgroup), Vec::<i32>::new());
    // Below a frozen parent, too.
    let (parent_file, _, _) = freezer(&env.cgroup_parent);
    fs::write(&parent_file, frozen).unwrap();
    let out = bounded(
        &env,
        &["create", "--bundle", s(&bundle), "f1"],
        Duration::from_secs(10),
    );
    let deleted = bounded(&env, &["delete", "--force", "f1"], Duration::from_secs(10));
    fs::write(&parent_file, thawed).unwrap();
    let out = out.expect("create hung below a frozen parent");
    assert!(out.failed().contains("unexpectedly frozen"), "{out:?}");
    assert_eq!(deleted.expect("delete --force hung").code, 0);
}

#[test]
fn delete_force_thaws_a_frozen_container() {
    let env = Env::new("contract-frozen-delete");
    env.create("z1", &env.config(&["sleep", "1000"])).ok();
    env.berth(&["start", "z1"]).ok();
    let (file, frozen, _) = freezer(&env.cgroup_path("z1"));
    fs::write(&file, frozen).unwrap();
    assert_eq!(env.status("z1"), "paused");
    let out = bounded(&env, &["delete", "--force", "z1"], Duration::from_secs(15));
    assert_eq!(out.expect("delete --force hung").code, 0);
    env.assert_gone("z1");
    assert_eq!(processes_in(&env.cgroup_path("z1")), Vec::<i32>::new());
}

#[test]
fn a_non_empty_cgroup_is_warned_about_and_used() {
    let env = Env::new("contract-busy");
    let sleeper = Sleeper::in_cgroup_of(&env, "b1");
    let out = env.create("b1", &env.config(&["sleep", "1000"]));
    out.ok();
    assert!(
        out.stderr
            .contains("container's cgroup is not empty: 1 process(es) found"),
        "{out:?}"
    );
    assert_eq!(env.status("b1"), "created");
    drop(sleeper);
    env.berth(&["delete", "b1"]).ok();
    env.assert_gone("b1");
}

#[test]
fn a_failed_create_says_what_it_could_not_clean_up() {
    let env = Env::new("contract-cleanup");
    // A process of its own keeps the cgroup busy: the failed create cannot remove it.
    let sleeper = Sleeper::in_cgroup_of(&env, "u1");
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["hooks"] = json!({ "createRuntime": [{ "path": "/bin/false" }] });
    let out = env.create("u1", &cfg);
    assert_ne!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("createRuntime")),
        "the error is the hook's: {out:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("clean up after the failed create")
                && l.contains("cgroup")
                && l.contains(&env.cgroup_path("u1"))),
        "what cleanup could not do is logged: {out:?}"
    );
    assert!(!env.root.join("u1").exists());
    drop(sleeper);
}

#[test]
fn a_pid_file_is_removed_when_create_fails_after_writing_it() {
    let env = Env::new("contract-pidfile");
    // A program the kernel refuses at execve: the create fails after the pid file is written.
    let bin = env.dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(bin.join("junk"), "not a program\n").unwrap();
    fs::set_permissions(bin.join("junk"), fs::Permissions::from_mode(0o755)).unwrap();
    let mut cfg = env.config(&["/mnt/junk"]);
    cfg["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": bin, "options": ["rbind", "ro"]
    }));
    let bundle = env.write_bundle("pf", &cfg);
    let pid_file = env.dir.join("pf.pid");
    let out = env.berth(&[
        "run",
        "--pid-file",
        s(&pid_file),
        "--bundle",
        s(&bundle),
        "pf",
    ]);
    assert!(out.failed().contains("/mnt/junk"), "{out:?}");
    assert!(!pid_file.exists(), "the failed create left its pid file");
    env.assert_gone("pf");
}

/// Puts the true state back and ends the decoy's process however the test ends, so that the
/// container can be deleted.
struct Restore {
    state_file: PathBuf,
    original: String,
    victim: Child,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = fs::write(&self.state_file, &self.original);
        let _ = self.victim.kill();
        let _ = self.victim.wait();
    }
}

#[test]
fn a_tampered_state_cannot_aim_kill_or_delete_elsewhere() {
    let env = Env::new("contract-tampered");
    env.create("t1", &env.config(&["sleep", "1000"])).ok();
    // A decoy: a plain directory tree with a cgroup.procs naming a process of the test's own.
    let decoy = env.dir.join("decoy");
    let state_file = env.root.join("t1/state.json");
    let original = fs::read_to_string(&state_file).unwrap();
    let mut restore = Restore {
        state_file: state_file.clone(),
        original: original.clone(),
        victim: std::process::Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    };
    fs::create_dir_all(decoy.join("t1/keep")).unwrap();
    let victim = restore.victim.id();
    fs::write(decoy.join("t1/cgroup.procs"), format!("{victim}\n")).unwrap();
    fs::write(decoy.join("t1/freezer.state"), "THAWED\n").unwrap();
    let mut tampered: Value = serde_json::from_str(&original).unwrap();
    for dir in tampered["cgroup"]["dirs"].as_array_mut().unwrap() {
        dir["mountpoint"] = json!(decoy);
        dir["path"] = json!("/t1");
    }
    fs::write(&state_file, tampered.to_string()).unwrap();

    for args in [
        &["kill", "--all", "t1", "KILL"][..],
        &["delete", "--force", "t1"],
        &["delete", "t1"],
        &["pause", "t1"],
    ] {
        let out = env.berth(args);
        let err = out.failed();
        assert!(
            err.contains("state.json") && err.contains(s(&decoy)),
            "{args:?}: the error names state.json and the path: {err}"
        );
    }
    assert!(
        restore.victim.try_wait().unwrap().is_none(),
        "kill --all signalled a process listed in a plain file"
    );
    assert!(
        decoy.join("t1/keep").is_dir(),
        "delete removed the decoy tree"
    );

    // The root of a real hierarchy is refused too: kill --all would reach every process (ps, which
    // only reads, asks).
    let mut root_cgroup: Value = serde_json::from_str(&original).unwrap();
    for dir in root_cgroup["cgroup"]["dirs"].as_array_mut().unwrap() {
        dir["path"] = json!("/");
    }
    fs::write(&state_file, root_cgroup.to_string()).unwrap();
    let out = env.berth(&["ps", "t1"]);
    assert!(out.failed().contains("state.json"), "{out:?}");

    drop(restore);
    env.berth(&["delete", "--force", "t1"]).ok();
    env.assert_gone("t1");
}

/// Asserts that nothing of container `id` is left after a killed create and `delete --force`:
/// no state (nor a create's temporary directory), no cgroup directory in any hierarchy, no
/// process in its cgroup.
#[track_caller]
fn assert_nothing_left(env: &Env, id: &str, what: &str) {
    let entries: Vec<_> = fs::read_dir(&env.root)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "{what}: state left: {entries:?}");
    for d in env.cgroup_dirs(id) {
        assert!(!d.exists(), "{what}: cgroup {} left", d.display());
    }
    assert_eq!(
        processes_in(&env.cgroup_path(id)),
        Vec::<i32>::new(),
        "{what}: processes left in the container's cgroup"
    );
}

#[test]
fn delete_force_removes_whatever_a_killed_create_made() {
    let env = Env::new("contract-crash");
    let bundles = [
        env.write_bundle("x", &env.config(&["sleep", "1000"])),
        env.write_bundle("y", &without_pid_ns(&env, &["sleep", "1000"])),
    ];
    // How long a create takes here (debug builds are slower): kills are spread across it.
    let started = Instant::now();
    env.berth(&["create", "--bundle", s(&bundles[0]), "x"]).ok();
    let took = started.elapsed();
    env.berth(&["delete", "--force", "x"]).ok();
    assert_nothing_left(&env, "x", "a plain create");

    let tries = 48;
    for i in 0..tries {
        let (id, bundle) = if i % 2 == 0 {
            ("x", &bundles[0])
        } else {
            ("y", &bundles[1])
        };
        let delay = took.mul_f64(1.2 * i as f64 / tries as f64);
        let mut create = env
            .berth_cmd(&["create", "--bundle", s(bundle), id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = kill(Pid::from_raw(create.id() as i32), Signal::SIGKILL);
        let _ = create.wait();
        let out = bounded(&env, &["delete", "--force", id], Duration::from_secs(15))
            .unwrap_or_else(|| panic!("try {i} ({delay:?}): delete --force hung"));
        assert_eq!(out.code, 0, "try {i} ({delay:?}): {out:?}");
        assert_nothing_left(&env, id, &format!("try {i}, killed after {delay:?}"));
    }
}

#[test]
fn delete_force_removes_a_create_killed_in_its_hooks() {
    let env = Env::new("contract-crash-hook");
    // Killed while its hooks run (init spawned, in its cgroups, waiting) — once as it is, once
    // with the init frozen: delete --force must thaw it to end it.
    let (freeze_file, frozen, _) = freezer(&env.cgroup_path("w2"));
    for (id, script) in [
        ("w1", "kill -9 $PPID".to_owned()),
        (
            "w2",
            format!("echo {frozen} > {}; kill -9 $PPID", freeze_file.display()),
        ),
    ] {
        let mut cfg = without_pid_ns(&env, &["sleep", "1000"]);
        cfg["hooks"] =
            json!({ "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", script] }] });
        let bundle = env.write_bundle(id, &cfg);
        let out = capture(
            env.berth_cmd(&["create", "--bundle", s(&bundle), id])
                .stdin(Stdio::null()),
            &env.dir,
        );
        assert_eq!(
            out.code,
            128 + 9,
            "create was to be killed by its hook: {out:?}"
        );
        // What the crash leaves for delete --force: the cgroups, and the frozen init of w2. The
        // init of w1 ends once it sees berth gone: soon, or already (a slow machine, a VM).
        assert!(
            env.cgroup_dirs(id).iter().all(|d| d.exists()),
            "{id}: the cgroup is gone"
        );
        if id == "w2" {
            assert!(
                !processes_in(&env.cgroup_path(id)).is_empty(),
                "{id}: the frozen init is left in the cgroup"
            );
        }
        let out = bounded(&env, &["delete", "--force", id], Duration::from_secs(15))
            .unwrap_or_else(|| panic!("{id}: delete --force hung"));
        assert_eq!(out.code, 0, "{id}: {out:?}");
        assert_nothing_left(&env, id, id);
    }
}

#[test]
fn commands_wait_for_a_create_in_progress() {
    let env = Env::new("contract-lock");
    let marker = env.dir.join("hook-running");
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["hooks"] = json!({ "createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", format!(": > {}; exec /bin/sleep 1", marker.display())]
    }] });
    let bundle = env.write_bundle("l1", &cfg);
    let mut create = env
        .berth_cmd(&["create", "--bundle", s(&bundle), "l1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the create's hook to run", || marker.exists());
    assert_eq!(env.status("l1"), "creating");
    // Each takes the container's lock before it reads the state: none sees "creating".
    let env = &env;
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = [
            &["kill", "l1", "0"][..],
            &["update", "--pids-limit", "100", "l1"],
            &["pause", "l1"],
        ]
        .into_iter()
        .map(|args| scope.spawn(move || env.berth(args)))
        .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(create.wait().unwrap().success());
    for run in &runs {
        run.ok();
    }
    assert_eq!(env.status("l1"), "paused");
    env.berth(&["delete", "--force", "l1"]).ok();
    env.assert_gone("l1");
}

/// Whether `c` is in place without its state.json. A delete renames the directory away before
/// emptying it, so a directory that lacks it and is still in place afterwards lacked it in place.
fn in_place_without_state(env: &Env) -> bool {
    use std::os::unix::fs::MetadataExt;
    let path = env.root.join("c");
    let Ok(dir) = fs::File::open(&path) else {
        return false;
    };
    if path.join("state.json").exists() {
        return false;
    }
    let (Ok(now), Ok(seen)) = (fs::metadata(&path), dir.metadata()) else {
        return false;
    };
    // Checked through the path again: `dir` may have been renamed away meanwhile.
    now.ino() == seen.ino() && !path.join("state.json").exists()
}

#[test]
fn a_state_directory_appears_with_its_state_and_a_concurrent_delete_leaks_nothing() {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    use std::sync::atomic::{AtomicBool, Ordering};

    let env = Env::new("contract-race");
    fs::create_dir_all(&env.root).unwrap();
    let bundle = env.write_bundle("c", &env.config(&["sleep", "1000"]));
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK).unwrap();
    inotify
        .add_watch(
            &env.root,
            AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
        )
        .unwrap();
    /// Stops the helper threads however the main one ends (a failed assertion included).
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let done = AtomicBool::new(false);
    let (bare, deletes) = std::thread::scope(|scope| {
        // The moment `c` appears, it must hold its state: a delete then waits for its lock.
        let watcher = scope.spawn(|| {
            let mut bare = 0;
            while !done.load(Ordering::Relaxed) {
                for event in inotify.read_events().unwrap_or_default() {
                    if event.name.as_deref() == Some("c".as_ref()) && in_place_without_state(&env) {
                        bare += 1;
                    }
                }
            }
            bare
        });
        let deleter = scope.spawn(|| {
            let mut failed = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let out = env.berth(&["delete", "--force", "c"]);
                if out.code != 0 {
                    failed.push(out);
                }
            }
            failed
        });
        let stop = Stop(&done);
        for _ in 0..30 {
            let out = env.berth(&["create", "--bundle", s(&bundle), "c"]);
            if out.code == 0 {
                // Created: until a delete removes all of it, its state is whole.
                let state = env.berth(&["state", "c"]);
                assert!(
                    state.code == 0 || state.stderr.contains("does not exist"),
                    "{state:?}"
                );
            } else {
                assert!(out.stderr.contains("exists"), "{out:?}");
            }
        }
        drop(stop);
        (watcher.join().unwrap(), deleter.join().unwrap())
    });
    assert!(deletes.is_empty(), "delete --force failed: {deletes:?}");
    assert_eq!(bare, 0, "the state directory appeared without state.json");
    env.berth(&["delete", "--force", "c"]).ok();
    assert_nothing_left(&env, "c", "after the race");
}
