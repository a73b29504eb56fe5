//! cgroups through the CLI: every linux.resources field as a user sees it — in the container's
//! cgroup files on the host and inside the container (with a cgroup namespace) — and enforced;
//! pause/resume, update, events, ps, kill --all and cleanup. The same file runs on a v1/hybrid
//! host and on a pure cgroup v2 host: each test finds the directory that carries the controller
//! and uses that version's file names.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{skip, Env, Run};
use serde_json::{json, Value};

const MIB: i64 = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The host's hierarchies.

/// One mounted hierarchy: its mount point, version and controllers.
#[derive(Debug)]
struct Hierarchy {
    mount: PathBuf,
    v2: bool,
    controllers: Vec<String>,
}

/// Whether some mounted hierarchy (v1, or cgroup2 offering it) has the controller.
fn has_controller(name: &str) -> bool {
    hierarchies()
        .iter()
        .any(|h| h.controllers.iter().any(|c| c == name))
}

fn hierarchies() -> Vec<Hierarchy> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let mut post = post.split(' ');
            let fstype = post.next()?;
            let super_opts = post.nth(1).unwrap_or("");
            let mount = PathBuf::from(pre.split(' ').nth(4)?);
            match fstype {
                "cgroup" => Some(Hierarchy {
                    controllers: super_opts
                        .split(',')
                        .filter(|o| {
                            !matches!(*o, "rw" | "ro" | "clone_children" | "xattr" | "noprefix")
                                && !o.starts_with("release_agent=")
                        })
                        .map(str::to_owned)
                        .collect(),
                    mount,
                    v2: false,
                }),
                "cgroup2" => Some(Hierarchy {
                    controllers: fs::read_to_string(mount.join("cgroup.controllers"))
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    mount,
                    v2: true,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Where a controller of container `id` lives: on the host and inside the container (whose
/// /sys/fs/cgroup berth mounts as one cgroup2 fs on a v2 host, else one mount per hierarchy).
#[derive(Debug, Clone)]
struct Loc {
    host: PathBuf,
    inside: String,
    v2: bool,
}

impl Loc {
    fn file(&self, name: &str) -> PathBuf {
        self.host.join(name)
    }

    fn inside(&self, name: &str) -> String {
        format!("{}/{name}", self.inside)
    }

    /// The trimmed content of one of the container's cgroup files.
    #[track_caller]
    fn read(&self, name: &str) -> String {
        read(&self.file(name))
    }
}

/// The directory of `id` for the v1 controller `v1` or else the cgroup2 controller `v2`;
/// None when the host has neither.
fn locate(env: &Env, id: &str, v1: &str, v2: &str) -> Option<Loc> {
    let rel = env.cgroup_path(id).trim_start_matches('/').to_owned();
    let hs = hierarchies();
    if let Some(h) = hs
        .iter()
        .find(|h| !h.v2 && h.controllers.iter().any(|c| c == v1))
    {
        return Some(Loc {
            host: h.mount.join(&rel),
            inside: format!("/sys/fs/cgroup/{v1}"),
            v2: false,
        });
    }
    let h = hs
        .iter()
        .find(|h| h.v2 && h.controllers.iter().any(|c| c == v2))?;
    Some(Loc {
        host: h.mount.join(&rel),
        inside: if common::host_v2() {
            "/sys/fs/cgroup".to_owned()
        } else {
            "/sys/fs/cgroup/unified".to_owned()
        },
        v2: true,
    })
}

/// `locate`, or a skip of the test (key "<test>/controller-<v1>").
fn need(env: &Env, id: &str, v1: &str, v2: &str) -> Option<Loc> {
    let loc = locate(env, id, v1, v2);
    if loc.is_none() {
        skip(
            &format!("{}/controller-{v1}", env.name),
            &format!("this host has neither a v1 {v1} nor a cgroup2 {v2} controller"),
        );
    }
    loc
}

/// The directory whose cgroup.procs lists every process of the container (what `ps` reads).
fn procs_dir(env: &Env, id: &str) -> PathBuf {
    locate(env, id, "pids", "pids")
        .or_else(|| locate(env, id, "freezer", "memory"))
        .expect("no hierarchy to list the container's processes")
        .host
}

fn cgroup_procs(env: &Env, id: &str) -> BTreeSet<i32> {
    fs::read_to_string(procs_dir(env, id).join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[track_caller]
fn read(p: &Path) -> String {
    fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_owned()
}

/// Waits until `check` holds: like common::eventually, with room for a slow (emulated) VM.
#[track_caller]
fn until(what: &str, check: impl FnMut() -> bool) {
    if !wait(Duration::from_secs(30), check) {
        panic!("timed out waiting for {what}");
    }
}

/// Polls `check` for up to `timeout`; whether it came to hold.
fn wait(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn page_size() -> i64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) }
}

fn host_has_swap() -> bool {
    fs::read_to_string("/proc/swaps").is_ok_and(|s| s.lines().count() > 1)
}

// ---------------------------------------------------------------------------------------------
// Config edits.

fn with_cgroupns(c: &mut Value) {
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "cgroup"}));
}

fn without_pidns(c: &mut Value) {
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "pid");
}

fn set_resources(c: &mut Value, r: Value) {
    c["linux"]["resources"] = r;
}

/// Binds the host directory `dir` read-write at /mnt in the container.
fn bind_mnt(c: &mut Value, dir: &Path) {
    c["mounts"].as_array_mut().unwrap().push(json!({
        "destination": "/mnt", "type": "bind", "source": dir, "options": ["rbind", "rw"]
    }));
}

fn deny_all() -> Value {
    json!({"allow": false, "access": "rwm"})
}

/// A config whose process is `sh -c script`.
fn sh_config(env: &Env, script: &str) -> Value {
    env.config(&["sh", "-c", script])
}

/// `berth run -d`: the container keeps running after berth returns.
#[track_caller]
fn run_detached(env: &Env, id: &str, config: &Value) {
    let bundle = env.write_bundle(id, config);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), id])
        .ok();
}

/// Runs berth with `input` on its stdin.
fn berth_stdin(env: &Env, args: &[&str], input: &str) -> Run {
    let mut child = env
        .berth_cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from_output(child.wait_with_output().unwrap())
}

/// Every process whose command line names this test's state root: berth itself and any
/// container init it forked (which keeps berth's command line until it execs).
fn berth_processes(env: &Env) -> Vec<i32> {
    let root = env.root.to_str().unwrap().as_bytes().to_vec();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(root.len()).any(|w| w == root.as_slice()))
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit_once(')').is_some_and(|(_, r)| r.starts_with(" Z")))
}

/// A number a container keeps rewriting in a shared file (None while it is half written).
fn counter(p: &Path) -> Option<u64> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// The lines `berth events` prints, read on a thread so the test can wait with a timeout.
struct Events {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Events {
    fn start(env: &Env, id: &str) -> Events {
        let mut child = env
            .berth_cmd(&["events", "--interval", "1s", id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Events { child, lines }
    }

    /// The next line whose "type" is `kind`, within `timeout` (else what was seen instead).
    fn wait_for(&self, kind: &str, timeout: Duration) -> Result<Value, String> {
        let end = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("events printed {line:?}: {e}"));
                    if v["type"] == kind {
                        return Ok(v);
                    }
                    seen.push(v["type"].as_str().unwrap_or("?").to_owned());
                }
                Err(_) => break,
            }
        }
        Err(format!(
            "no {kind:?} event within {timeout:?}; saw {seen:?}"
        ))
    }

    /// Waits for `events` to end by itself (it streams until the container stops).
    fn wait_exit(mut self) {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("berth events did not exit once the container stopped");
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// memory

#[test]
fn memory_limits_are_visible_from_host_and_container() {
    let env = Env::new("cg-memory");
    let Some(probe) = need(&env, "probe", "memory", "memory") else {
        return;
    };
    // Does the kernel account swap for this cgroup? Ask a throwaway container.
    env.create("probe", &env.config(&["true"])).ok();
    let swap_file = if probe.v2 {
        "memory.swap.max"
    } else {
        "memory.memsw.limit_in_bytes"
    };
    let swap = probe.file(swap_file).exists();
    env.berth(&["delete", "probe"]).ok();
    env.assert_gone("probe");

    let mut memory = json!({"limit": 32 * MIB, "reservation": 16 * MIB,
                            "kernel": 64 * MIB, "kernelTCP": 64 * MIB});
    if swap {
        memory["swap"] = json!(64 * MIB);
    } else {
        skip(
            "cg-memory/swap",
            "the kernel does not account swap; memory.swap not checked",
        );
    }
    if !probe.v2 {
        memory["swappiness"] = json!(10);
        memory["disableOOMKiller"] = json!(true);
    }
    let resources = json!({ "memory": memory });
    // (file, value) pairs the config must produce.
    let mut want: Vec<(&str, String)> = if probe.v2 {
        vec![
            ("memory.max", (32 * MIB).to_string()),
            ("memory.low", (16 * MIB).to_string()),
        ]
    } else {
        vec![
            ("memory.limit_in_bytes", (32 * MIB).to_string()),
            ("memory.soft_limit_in_bytes", (16 * MIB).to_string()),
            ("memory.swappiness", "10".to_owned()),
        ]
    };
    if swap {
        // v1 counts memory+swap, v2 swap alone.
        let v = if probe.v2 { 32 * MIB } else { 64 * MIB };
        want.push((swap_file, v.to_string()));
    }

    // From the host, in a created container.
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, resources.clone());
    let created = env.create("m1", &cfg);
    created.ok();
    assert!(
        created.stderr.contains("kernel") && created.stderr.contains("ignored"),
        "memory.kernel should be ignored with a warning: {created:?}"
    );
    let loc = locate(&env, "m1", "memory", "memory").unwrap();
    for (file, value) in &want {
        assert_eq!(&loc.read(file), value, "{file}");
    }
    if !loc.v2 {
        let oom_control = loc.read("memory.oom_control");
        assert!(
            oom_control.lines().any(|l| l == "oom_kill_disable 1"),
            "{oom_control}"
        );
    }
    env.berth(&["delete", "m1"]).ok();
    env.assert_gone("m1");

    // From inside, through a cgroup namespace: the container's own cgroup is its root.
    let files: Vec<String> = want.iter().map(|(f, _)| loc.inside(f)).collect();
    let script = format!("cat {}; cat /proc/self/cgroup", files.join(" "));
    let out = env.sh("m2", &script, |c| {
        set_resources(c, resources.clone());
        with_cgroupns(c);
    });
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    let values: Vec<&str> = want.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(&lines[..values.len()], values.as_slice(), "{text}");
    let own = lines[values.len()..]
        .iter()
        .find(|l| {
            let ctrls = l.split(':').nth(1).unwrap_or("");
            if loc.v2 {
                ctrls.is_empty()
            } else {
                ctrls.split(',').any(|c| c == "memory")
            }
        })
        .unwrap_or_else(|| panic!("no memory line in /proc/self/cgroup: {text}"));
    assert!(
        own.ends_with(":/"),
        "cgroup namespace root is not the container's cgroup: {own}"
    );
    env.assert_gone("m2");
}

#[test]
fn memory_hog_is_oom_killed_and_reported() {
    let env = Env::new("cg-oom");
    if need(&env, "hog", "memory", "memory").is_none() {
        return;
    }
    let mut memory = json!({"limit": 32 * MIB});
    if host_has_swap() {
        // Without swap the hog cannot escape into it.
        memory["swap"] = json!(32 * MIB);
    }
    let resources = json!({ "memory": memory });
    // busybox tail keeps every byte of a line: /dev/zero has no newline. The pipeline's
    // processes offer themselves to the OOM killer first: when a second OOM comes before the
    // first victim's memory is freed, the kernel would otherwise pick the shell.
    let first = "echo 1000 > /proc/self/oom_score_adj; exec";
    let hog = format!("({first} head -c 200m /dev/zero) | ({first} tail)");
    let hog = hog.as_str();

    let out = env.sh("hog", hog, |c| set_resources(c, resources.clone()));
    assert_eq!(out.code, 137, "the hog was not OOM-killed: {out:?}");
    env.assert_gone("hog");

    // A detached container: `events` sees the OOM as it happens, `events --stats` counts it.
    let shared = env.dir.join("shared");
    fs::create_dir_all(&shared).unwrap();
    let script = format!(
        "while [ ! -e /mnt/go ]; do sleep 0.02; done; {hog}; echo $? > /mnt/status; exec sleep 1000"
    );
    let mut cfg = sh_config(&env, &script);
    set_resources(&mut cfg, resources.clone());
    bind_mnt(&mut cfg, &shared);
    run_detached(&env, "oom", &cfg);
    let events = Events::start(&env, "oom");
    let first = events
        .wait_for("stats", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first["id"], "oom");
    assert_eq!(
        first["data"]["memory"]["usage"]["limit"],
        32 * MIB,
        "{first}"
    );
    fs::write(shared.join("go"), "").unwrap();
    let oom = events
        .wait_for("oom", Duration::from_secs(60))
        .unwrap_or_else(|e| {
            let loc = locate(&env, "oom", "memory", "memory").unwrap();
            let file = if loc.v2 {
                "memory.events"
            } else {
                "memory.oom_control"
            };
            panic!(
                "{e}; {file}: {:?}; hog status: {:?}",
                fs::read_to_string(loc.file(file)),
                fs::read_to_string(shared.join("status"))
            )
        });
    assert_eq!(oom, json!({"type": "oom", "id": "oom"}));
    // `echo $? > status` creates the file before it writes: wait for the line.
    let status_written =
        || fs::read_to_string(shared.join("status")).is_ok_and(|s| s.ends_with('\n'));
    if !wait(Duration::from_secs(30), status_written) {
        panic!(
            "no hog status; state {}; procs {:?}; ps {}",
            env.state("oom"),
            cgroup_procs(&env, "oom"),
            env.berth(&["ps", "oom"]).stdout
        );
    }
    assert_eq!(read(&shared.join("status")), "137");

    let stats: Value =
        serde_json::from_str(env.berth(&["events", "--stats", "oom"]).ok().trim()).unwrap();
    assert_eq!(stats["type"], "stats");
    assert_eq!(stats["id"], "oom");
    let mem = &stats["data"]["memory"];
    assert!(
        mem["event_count"]["oom_kill"].as_u64().unwrap() >= 1,
        "{mem}"
    );
    assert!(mem["usage"]["failcnt"].as_u64().unwrap() >= 1, "{mem}");
    assert_eq!(mem["usage"]["limit"], 32 * MIB);

    env.berth(&["delete", "--force", "oom"]).ok();
    events.wait_exit();
    env.assert_gone("oom");
}

// ---------------------------------------------------------------------------------------------
// pids

#[test]
fn a_container_starts_under_a_512_kib_memory_limit() {
    // Everything berth does once inside the container's cgroup — the mounts, pivot_root, the
    // exec — is charged to it: it must fit in 512 KiB (crun fits; runc needs 4 MiB and more).
    let env = Env::new("cg-512k");
    let Some(loc) = need(&env, "m1", "memory", "memory") else {
        return;
    };
    let limit = if loc.v2 {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    // exec, not a fork: the shell's own copy would not fit next to cat.
    let out = env.sh("m1", &format!("exec cat {}", loc.inside(limit)), |c| {
        set_resources(c, json!({"memory": {"limit": 512 * 1024}}));
        with_cgroupns(c);
    });
    assert_eq!((out.code, out.stdout.as_str()), (0, "524288\n"), "{out:?}");
    env.assert_gone("m1");

    // Far too little: set-up is OOM-killed, and the error says so.
    let out = env.sh("m2", "true", |c| {
        set_resources(c, json!({"memory": {"limit": 64 * 1024}}));
    });
    assert!(out.failed().contains("memory"), "{out:?}");
    env.assert_gone("m2");

    // The same in a user namespace, where berth writes the id maps before it sends anything.
    let out = env.sh("m3", "true", |c| {
        set_resources(c, json!({"memory": {"limit": 64 * 1024}}));
        common::with_user_namespace(c, 100000, 100000);
    });
    assert!(out.failed().contains("memory"), "{out:?}");
    env.assert_gone("m3");
}

#[test]
fn pids_limit_is_visible_and_stops_forks() {
    let env = Env::new("cg-pids");
    let Some(loc) = need(&env, "p1", "pids", "pids") else {
        return;
    };
    let resources = json!({"pids": {"limit": 5}});
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, resources.clone());
    env.create("p1", &cfg).ok();
    assert_eq!(loc.read("pids.max"), "5");
    env.berth(&["delete", "p1"]).ok();
    env.assert_gone("p1");

    // The shell (pid 1 of its namespace) plus four sleeps make five: the fifth fork fails and
    // ash gives up. Each successful fork is counted before the next one.
    let script = format!(
        "cat {}; i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); echo $i; done",
        loc.inside("pids.max")
    );
    let out = env.sh("p2", &script, |c| {
        set_resources(c, resources.clone());
        with_cgroupns(c);
    });
    assert_ne!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "5\n1\n2\n3\n4\n", "{out:?}");
    assert!(out.stderr.contains("can't fork"), "{out:?}");
    env.assert_gone("p2");
}

// ---------------------------------------------------------------------------------------------
// cpu

#[test]
fn cpu_shares_quota_burst_and_cpuset() {
    let env = Env::new("cg-cpu");
    let Some(cpu) = need(&env, "c1", "cpu", "cpu") else {
        return;
    };
    let cpuset = locate(&env, "c1", "cpuset", "cpuset");
    let mut c = json!({"shares": 512, "quota": 50000, "period": 100000, "burst": 10000});
    if cpuset.is_some() {
        c["cpus"] = json!("0");
        c["mems"] = json!("0");
    } else {
        skip(
            "cg-cpu/cpuset",
            "no cpuset controller; cpu.cpus and cpu.mems not checked",
        );
    }
    let resources = json!({ "cpu": c });
    let want: Vec<(&Loc, &str, String)> = if cpu.v2 {
        // runc's conversion: 1 + ((shares - 2) * 9999) / 262142.
        vec![
            (&cpu, "cpu.weight", (1 + (510 * 9999) / 262142).to_string()),
            (&cpu, "cpu.max", "50000 100000".to_owned()),
            (&cpu, "cpu.max.burst", "10000".to_owned()),
        ]
    } else {
        vec![
            (&cpu, "cpu.shares", "512".to_owned()),
            (&cpu, "cpu.cfs_quota_us", "50000".to_owned()),
            (&cpu, "cpu.cfs_period_us", "100000".to_owned()),
            (&cpu, "cpu.cfs_burst_us", "10000".to_owned()),
        ]
    };
    let mut want = want;
    if let Some(cs) = &cpuset {
        want.push((cs, "cpuset.cpus", "0".to_owned()));
        want.push((cs, "cpuset.mems", "0".to_owned()));
    }
    assert_eq!(want[0].2, if cpu.v2 { "20" } else { "512" });

    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, resources.clone());
    env.create("c1", &cfg).ok();
    for (loc, file, value) in &want {
        assert_eq!(&loc.read(file), value, "{file}");
    }
    env.berth(&["delete", "c1"]).ok();
    env.assert_gone("c1");

    let files: Vec<String> = want.iter().map(|(l, f, _)| l.inside(f)).collect();
    let script = format!(
        "cat {}; grep Cpus_allowed_list /proc/self/status",
        files.join(" ")
    );
    let out = env.sh("c2", &script, |c| {
        set_resources(c, resources.clone());
        with_cgroupns(c);
    });
    let mut expected: Vec<String> = want.iter().map(|(_, _, v)| v.clone()).collect();
    if cpuset.is_some() {
        // The scheduler enforces the cpuset: the process may only run on CPU 0.
        expected.push("Cpus_allowed_list:\t0".to_owned());
    }
    let got: Vec<&str> = out.ok().lines().collect();
    assert_eq!(
        got[..expected.len()],
        expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    env.assert_gone("c2");
}

#[test]
fn cpu_idle_and_realtime_period() {
    let env = Env::new("cg-cpu-idle");
    let Some(loc) = need(&env, "i1", "cpu", "cpu") else {
        return;
    };
    let mut c = json!({"idle": 1});
    let rt = !loc.v2 && Path::new("/sys/fs/cgroup/cpu/cpu.rt_period_us").exists();
    if rt {
        c["realtimePeriod"] = json!(900000);
    }
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, json!({ "cpu": c }));
    env.create("i1", &cfg).ok();
    assert_eq!(loc.read("cpu.idle"), "1");
    if rt {
        assert_eq!(loc.read("cpu.rt_period_us"), "900000");
    }
    env.berth(&["delete", "i1"]).ok();
    env.assert_gone("i1");
}

// ---------------------------------------------------------------------------------------------
// blockIO

#[test]
fn block_io_weight_and_throttles() {
    let env = Env::new("cg-blkio");
    let Some(loc) = need(&env, "b1", "blkio", "io") else {
        return;
    };
    let disk = LoopDevice::new(&env.dir.join("disk.img"));
    let (major, minor) = (disk.major, disk.minor);
    let dev = |rate: u64| json!([{"major": major, "minor": minor, "rate": rate}]);
    let mut resources = json!({"blockIO": {
        "throttleReadBpsDevice": dev(1 << 20),
        "throttleWriteBpsDevice": dev(1 << 20),
        "throttleReadIOPSDevice": dev(100),
        "throttleWriteIOPSDevice": dev(200),
    }});
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, resources.clone());
    env.create("b1", &cfg).ok();
    let d = format!("{major}:{minor}");
    // A weight needs BFQ (or v2's io.cost): a kernel with neither has no weight file, and
    // berth refuses the field there (cg-mistakes checks how).
    let candidates: &[&str] = if loc.v2 {
        &["io.bfq.weight", "io.weight"]
    } else {
        &["blkio.weight", "blkio.bfq.weight"]
    };
    let weight_file = candidates.iter().copied().find(|f| loc.file(f).exists());
    let mut want: Vec<(String, String)> = Vec::new();
    match weight_file {
        Some(file) => {
            env.berth(&["update", "--blkio-weight", "300", "b1"]).ok();
            resources["blockIO"]["weight"] = json!(300);
            // io.weight is 1..10000: runc's conversion 1 + (weight - 10) * 9999 / 990; BFQ's
            // files take the number as it is. v1 prints the bare number, v2 "default N".
            let w = if file == "io.weight" {
                1 + (300 - 10) * 9999 / 990
            } else {
                300
            };
            let shown = if loc.v2 {
                format!("default {w}")
            } else {
                w.to_string()
            };
            want.push((file.to_owned(), shown));
        }
        None => skip(
            "cg-blkio/weight",
            "this kernel has no blkio/io weight file; weight not checked",
        ),
    }
    if loc.v2 {
        want.push((
            "io.max".to_owned(),
            format!("{d} rbps=1048576 wbps=1048576 riops=100 wiops=200"),
        ));
    } else {
        for (file, rate) in [
            ("read_bps_device", 1 << 20),
            ("write_bps_device", 1 << 20),
            ("read_iops_device", 100),
            ("write_iops_device", 200),
        ] {
            want.push((format!("blkio.throttle.{file}"), format!("{d} {rate}")));
        }
    }
    for (file, value) in &want {
        assert_eq!(&loc.read(file), value, "{file}");
    }
    env.berth(&["delete", "b1"]).ok();
    env.assert_gone("b1");

    // Inside, and enforced: 512 KiB of direct reads at 1 MiB/s take about half a second, through
    // a node of the disk the device cgroup allows for reading only.
    let files: Vec<String> = want.iter().map(|(f, _)| loc.inside(f)).collect();
    let script = format!(
        "cat {}; read a _ < /proc/uptime; \
         dd if=/dev/throttled of=/dev/null bs=64k count=8 iflag=direct 2>/dev/null || exit 9; \
         read b _ < /proc/uptime; echo $a $b",
        files.join(" ")
    );
    let out = env.sh("b2", &script, |c| {
        let mut r = resources.clone();
        r["devices"] = json!([deny_all(),
            {"allow": true, "type": "b", "major": major, "minor": minor, "access": "r"}]);
        c["linux"]["devices"] = json!([{"path": "/dev/throttled", "type": "b",
            "major": major, "minor": minor, "fileMode": 0o400, "uid": 0, "gid": 0}]);
        set_resources(c, r);
        with_cgroupns(c);
    });
    let text = out.ok();
    let mut got: Vec<&str> = text.lines().collect();
    let times = got.pop().unwrap();
    // A multi-line file (io.max may list a device per line) is compared line by line.
    let expected: Vec<&str> = want.iter().flat_map(|(_, v)| v.lines()).collect();
    assert_eq!(got, expected);
    let (a, b) = times.split_once(' ').unwrap();
    let took = b.parse::<f64>().unwrap() - a.parse::<f64>().unwrap();
    println!("cg-blkio: 512 KiB of direct I/O took {took:.2} s");
    assert!(took >= 0.35, "512 KiB at 1 MiB/s took only {took} s");
    env.assert_gone("b2");
}

/// A loop device over a 1 MiB file, detached on drop: a block device to throttle whatever
/// disks the host has (or has not).
struct LoopDevice {
    path: String,
    major: u64,
    minor: u64,
}

impl LoopDevice {
    fn new(backing: &Path) -> LoopDevice {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        fs::File::create(backing)
            .and_then(|f| f.set_len(MIB as u64))
            .unwrap();
        let out = std::process::Command::new("losetup")
            .args(["--find", "--show"])
            .arg(backing)
            .output()
            .expect("losetup (util-linux)");
        assert!(out.status.success(), "losetup: {out:?}");
        let path = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let meta = fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_block_device(), "{path}");
        let rdev = meta.rdev();
        LoopDevice {
            major: libc::major(rdev).into(),
            minor: libc::minor(rdev).into(),
            path,
        }
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["--detach", &self.path])
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// hugetlb

#[test]
fn hugepage_limits() {
    let env = Env::new("cg-hugetlb");
    let Some(loc) = need(&env, "h1", "hugetlb", "hugetlb") else {
        return;
    };
    let sizes: Vec<String> = fs::read_dir("/sys/kernel/mm/hugepages")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let kb: u64 = e
                        .file_name()
                        .to_str()?
                        .strip_prefix("hugepages-")?
                        .strip_suffix("kB")?
                        .parse()
                        .ok()?;
                    Some(if kb >= 1 << 20 {
                        format!("{}GB", kb >> 20)
                    } else {
                        format!("{}MB", kb >> 10)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(size) = sizes
        .iter()
        .find(|s| *s == "2MB")
        .or(sizes.first())
        .cloned()
    else {
        skip("cg-hugetlb/sizes", "the kernel has no huge page sizes");
        return;
    };
    let limit = 4 * MIB;
    let resources = json!({"hugepageLimits": [{"pageSize": size, "limit": limit}]});
    let file = if loc.v2 {
        format!("hugetlb.{size}.max")
    } else {
        format!("hugetlb.{size}.limit_in_bytes")
    };
    let rsvd = if loc.v2 {
        format!("hugetlb.{size}.rsvd.max")
    } else {
        format!("hugetlb.{size}.rsvd.limit_in_bytes")
    };
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, resources.clone());
    env.create("h1", &cfg).ok();
    assert_eq!(loc.read(&file), limit.to_string());
    if loc.file(&rsvd).exists() {
        assert_eq!(loc.read(&rsvd), limit.to_string());
    }
    env.berth(&["delete", "h1"]).ok();
    env.assert_gone("h1");

    let out = env.sh("h2", &format!("cat {}", loc.inside(&file)), |c| {
        set_resources(c, resources.clone());
        with_cgroupns(c);
    });
    assert_eq!(out.ok(), format!("{limit}\n"));
    env.assert_gone("h2");
}

// ---------------------------------------------------------------------------------------------
// devices

/// The rules berth always allows (runc's list), as devices.list prints them.
const ALWAYS_ALLOWED: [&str; 10] = [
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",
    "c 1:8 rwm",
    "c 1:7 rwm",
    "c 5:0 rwm",
    "c 1:5 rwm",
    "c 1:9 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
];

#[test]
fn devices_are_denied_unless_allowed() {
    let env = Env::new("cg-devices");
    let v1_devices = if common::host_v2() {
        None
    } else {
        match locate(&env, "d", "devices", "devices") {
            Some(l) => Some(l),
            None => {
                skip("cg-devices/controller-devices", "no devices controller");
                return;
            }
        }
    };
    // /dev/kmsg (1:11) is a device a container is not given by default; opening it for
    // writing needs no capability, so only the device cgroup can refuse it.
    let kmsg = json!([{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
                       "fileMode": 438, "uid": 0, "gid": 0}]);
    let script = "cat /dev/null && echo null-ok; true > /dev/kmsg; echo kmsg=$?";
    let cases = [
        ("no-rules", None, false),
        ("deny-all", Some(json!([deny_all()])), false),
        (
            "allowed",
            Some(
                json!([deny_all(), {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]),
            ),
            true,
        ),
        // Access strings as runc reads them: repeated letters and letters other than r, w, m
        // are accepted, and a rule for all devices resets whatever its access says.
        (
            "runc-access",
            Some(json!([{"allow": false, "access": "rwa"},
                        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "wwa"}])),
            true,
        ),
    ];
    for (id, rules, allowed) in cases {
        let edit = |c: &mut Value| {
            c["linux"]["devices"] = kmsg.clone();
            if let Some(r) = &rules {
                set_resources(c, json!({ "devices": r }));
            }
        };
        let out = env.sh(id, script, edit);
        let text = out.ok();
        if allowed {
            assert_eq!(text, "null-ok\nkmsg=0\n", "{id}: {out:?}");
        } else {
            assert_eq!(text, "null-ok\nkmsg=1\n", "{id}: {out:?}");
            assert!(
                out.stderr.contains("Operation not permitted"),
                "{id}: {out:?}"
            );
        }
        env.assert_gone(id);

        // The rules the kernel holds.
        let created = format!("{id}-list");
        let mut cfg = env.config(&["sleep", "1000"]);
        edit(&mut cfg);
        env.create(&created, &cfg).ok();
        if v1_devices.is_some() {
            let loc = locate(&env, &created, "devices", "devices").unwrap();
            let list: BTreeSet<String> = loc
                .read("devices.list")
                .lines()
                .map(str::to_owned)
                .collect();
            let mut want: BTreeSet<String> = ALWAYS_ALLOWED.iter().map(|s| s.to_string()).collect();
            if allowed {
                want.insert("c 1:11 w".to_owned());
            }
            assert_eq!(list, want, "{id}: devices.list");
        } else {
            show_bpf_program(&env, &created);
        }
        // update takes them too (and, as runc's, leaves the device rules as they are).
        let rules = json!({ "devices": rules.clone().unwrap_or_default() }).to_string();
        berth_stdin(&env, &["update", "-r", "-", &created], &rules).ok();
        env.berth(&["delete", &created]).ok();
        env.assert_gone(&created);
    }
}

/// On cgroup v2 the device filter is an eBPF program attached to the container's cgroup:
/// bpftool (when installed) lists it.
fn show_bpf_program(env: &Env, id: &str) {
    let dir = locate(env, id, "devices", "memory").unwrap().host;
    match std::process::Command::new("bpftool")
        .args(["cgroup", "list"])
        .arg(&dir)
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            println!("bpftool cgroup list {}:\n{text}", dir.display());
            assert!(out.status.success(), "bpftool: {out:?}");
            // Exactly one device program: berth replaces what it attached before.
            let programs = text
                .lines()
                .filter(|l| l.split_whitespace().nth(1) == Some("cgroup_device"))
                .count();
            assert_eq!(programs, 1, "device programs on {}: {text}", dir.display());
        }
        Err(_) => skip(
            "cg-devices/bpftool",
            "bpftool is not installed; the eBPF program is checked by behaviour only",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// unified

#[test]
fn unified_keys_are_written_or_refused_by_name() {
    let env = Env::new("cg-unified");
    let Some(v2) = hierarchies().into_iter().find(|h| h.v2) else {
        skip("cg-unified/cgroup2", "no cgroup2 hierarchy");
        return;
    };
    // A key the host's cgroup2 hierarchy can take: memory.high on v2, a hugetlb file on a
    // hybrid host whose cgroup2 mount carries hugetlb.
    let page = page_size();
    let valid: Option<(String, String, String)> = if v2.controllers.iter().any(|c| c == "memory") {
        Some((
            "memory.high".into(),
            "50000000".into(),
            (50_000_000 / page * page).to_string(),
        ))
    } else if v2.controllers.iter().any(|c| c == "hugetlb")
        && Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists()
    {
        Some(("hugetlb.2MB.max".into(), "4194304".into(), "4194304".into()))
    } else {
        None
    };
    match &valid {
        Some((key, value, shown)) => {
            let mut cfg = env.config(&["sleep", "1000"]);
            set_resources(&mut cfg, json!({"unified": {key.as_str(): value}}));
            env.create("u1", &cfg).ok();
            let dir = v2.mount.join(env.cgroup_path("u1").trim_start_matches('/'));
            assert_eq!(&read(&dir.join(key)), shown, "{key}");
            env.berth(&["delete", "u1"]).ok();
            env.assert_gone("u1");
        }
        None => skip(
            "cg-unified/key",
            "the cgroup2 hierarchy has no controller to write a key of",
        ),
    }

    // An unknown file of a known controller, a controller nobody has, and (on hybrid hosts)
    // a controller that lives on v1: each fails naming the key and leaves nothing behind.
    let hybrid = hierarchies().iter().any(|h| !h.v2);
    let mut bad = vec!["memory.no_such_file", "nosuch.max"];
    if !v2.controllers.iter().any(|c| c == "pids") {
        bad.push("pids.max");
    }
    for (i, key) in bad.into_iter().enumerate() {
        let id = format!("bad{i}");
        let out = env.sh(&id, "true", |c| {
            set_resources(c, json!({"unified": {key: "1"}}))
        });
        let err = out.failed();
        assert!(err.contains(&format!("unified[\"{key}\"]")), "{key}: {err}");
        // On a v1 host, runc's words for a key its cgroup2 mount cannot take.
        let controller = key.split('.').next().unwrap();
        if hybrid && !v2.controllers.iter().any(|c| c == controller) {
            assert!(err.contains("invalid configuration"), "{key}: {err}");
        }
        env.assert_gone(&id);
        assert!(berth_processes(&env).is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// mistakes

#[test]
fn resource_mistakes_fail_by_field_and_leave_nothing() {
    let env = Env::new("cg-mistakes");
    let v2 = common::host_v2();
    let hs = hierarchies();
    let has_v1 = |c: &str| {
        hs.iter()
            .any(|h| !h.v2 && h.controllers.iter().any(|x| x == c))
    };
    // (name, resources, words the error must contain)
    let mut cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "cpus",
            json!({"cpu": {"cpus": "99"}}),
            vec!["cpu.cpus", "99"],
        ),
        (
            // A size the host lacks; or, with no hugetlb controller at all, that.
            "hugepage",
            json!({"hugepageLimits": [{"pageSize": "3MB", "limit": 1048576}]}),
            if has_controller("hugetlb") {
                vec!["hugepageLimits[0].pageSize", "3MB"]
            } else {
                vec!["hugepageLimits", "hugetlb controller"]
            },
        ),
        (
            "access",
            // runc refuses only an empty access (other letters than r, w, m it ignores).
            json!({"devices": [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": ""}]}),
            vec!["devices[0].access", "must not be empty"],
        ),
        (
            "weight",
            json!({"blockIO": {"weight": 1001}}),
            vec!["blockIO.weight"],
        ),
        (
            "quota",
            json!({"cpu": {"quota": 10, "period": 100000}}),
            vec!["cpu.quota"],
        ),
        (
            "swap",
            json!({"memory": {"limit": 64 * MIB, "swap": 32 * MIB}}),
            vec!["memory.swap"],
        ),
        (
            // Kernels since 5.16 (and v2 always) refuse non-hierarchical memory accounting.
            "hierarchy",
            json!({"memory": {"useHierarchy": false}}),
            vec!["memory.useHierarchy"],
        ),
        (
            // No RDMA device here: the controller is missing, or refuses an unknown device.
            "rdma",
            json!({"rdma": {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 10000}}}),
            vec!["rdma"],
        ),
    ];
    if v2 || !Path::new("/sys/fs/cgroup/blkio/blkio.leaf_weight").exists() {
        // leafWeight was CFQ's: gone from v1 since Linux 5.0, never in v2.
        cases.push((
            "leaf",
            json!({"blockIO": {"leafWeight": 500}}),
            vec!["blockIO.leafWeight"],
        ));
    }
    if !has_v1("net_cls") {
        cases.push((
            "classid",
            json!({"network": {"classID": 1048577}}),
            vec!["network.classID", "net_cls"],
        ));
    }
    if !has_v1("net_prio") {
        cases.push((
            "netprio",
            json!({"network": {"priorities": [{"name": "lo", "priority": 1}]}}),
            vec!["network.priorities", "net_prio"],
        ));
    }
    if v2 {
        cases.push((
            "realtime",
            json!({"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 100000}}),
            vec!["cpu.realtimeRuntime", "v2"],
        ));
        cases.push((
            "swappiness",
            json!({"memory": {"swappiness": 10}}),
            vec!["memory.swappiness", "v2"],
        ));
        cases.push((
            "oomkiller",
            json!({"memory": {"disableOOMKiller": true}}),
            vec!["memory.disableOOMKiller", "v2"],
        ));
    } else {
        cases.push((
            "swappiness",
            json!({"memory": {"swappiness": 101}}),
            vec!["memory.swappiness", "101"],
        ));
        if Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists() {
            // The test's parent cgroup grants no realtime time to hand on.
            cases.push((
                "realtime",
                json!({"cpu": {"realtimeRuntime": 10000}}),
                vec!["cpu.realtimeRuntime"],
            ));
        }
    }
    let mut failures = Vec::new();
    for (id, resources, words) in cases {
        let out = env.sh(id, "echo started", |c| set_resources(c, resources.clone()));
        assert_ne!(out.code, 0, "{id}: {out:?}");
        assert!(!out.stdout.contains("started"), "{id} ran: {out:?}");
        let err = out.failed();
        println!("{id}: {err}");
        // EACCES is what cgroupfs says about a file it does not have: not a reason a user can act on.
        if !words.iter().all(|w| err.contains(w))
            || err.to_lowercase().contains("permission denied")
        {
            failures.push(format!("{id}: {err:?} does not name {words:?}"));
        }
        env.assert_gone(id);
        for d in env.cgroup_dirs(id) {
            assert!(!d.exists(), "{id}: {} left", d.display());
        }
        assert_eq!(berth_processes(&env), Vec::<i32>::new(), "{id}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A cgroup2 controller the container's parent cannot hand down fails the limit that needs it by
/// name, as runc's write of that limit does, and leaves nothing: the parent here holds a process,
/// so the kernel refuses to enable controllers for its children (the no-internal-processes rule)
/// — as systemd's user.slice refuses a rootless user the controllers it does not delegate.
#[test]
fn a_limit_whose_controller_the_parent_cannot_delegate_fails_by_name() {
    let env = Env::new("cg-undelegated");
    // A domain controller (threaded ones, as pids, may be enabled beside processes): memory on
    // pure v2; on a hybrid host the cgroup2 hierarchy's own (hugetlb, here).
    let hs = hierarchies();
    let v1_has = |c: &str| {
        hs.iter()
            .any(|h| !h.v2 && h.controllers.iter().any(|x| x == c))
    };
    let Some(v2) = hs.iter().find(|h| h.v2) else {
        skip(
            "cg-undelegated/no-cgroup2",
            "this host mounts no cgroup2 hierarchy",
        );
        return;
    };
    let (resources, words) = if common::host_v2() {
        (
            json!({"memory": {"limit": 64 * MIB}}),
            ["linux.resources.memory", "memory controller"],
        )
    } else if v2.controllers.iter().any(|c| c == "hugetlb") && !v1_has("hugetlb") {
        (
            json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 * MIB}]}),
            ["linux.resources.hugepageLimits", "hugetlb controller"],
        )
    } else {
        skip(
            "cg-undelegated/no-v2-only-controller",
            "every controller of this hybrid host is in a v1 hierarchy",
        );
        return;
    };
    let parent = v2
        .mount
        .join(env.cgroup_path("busy").trim_start_matches('/'));
    fs::create_dir_all(&parent).unwrap();
    let mut holder = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    fs::write(parent.join("cgroup.procs"), holder.id().to_string()).unwrap();

    let config = {
        let mut c = sh_config(&env, "echo started");
        c["linux"]["cgroupsPath"] = json!(format!("{}/c", env.cgroup_path("busy")));
        set_resources(&mut c, resources);
        c
    };
    let out = env.run("c", &config);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("started"), "it ran: {out:?}");
    let err = out.failed();
    println!("{err}");
    assert!(
        words.iter().all(|w| err.contains(w)),
        "{err:?} does not name {words:?}"
    );
    assert!(!env.root.join("c").exists(), "state of c left");
    for m in common::cgroup_mounts() {
        let c = m
            .join(env.cgroup_path("busy").trim_start_matches('/'))
            .join("c");
        assert!(!c.exists(), "{} left", c.display());
    }
    assert_eq!(berth_processes(&env), Vec::<i32>::new());
}

// ---------------------------------------------------------------------------------------------
// exec --cgroup

/// /proc/self/cgroup as a process exec'd into s1 with `--cgroup sub` sees it.
fn cgroup_file_seen_by(env: &Env, sub: &str) -> String {
    exec_in_sub_cgroup(env, &["--cgroup", sub], &["cat", "/proc/self/cgroup"])
        .ok()
        .to_owned()
}

/// `berth exec OPTS s1 COMMAND`.
fn exec_in_sub_cgroup(env: &Env, opts: &[&str], command: &[&str]) -> Run {
    let args: Vec<&str> = [&["exec"], opts, &["s1"], command].concat();
    env.berth(&args)
}

/// The cgroup paths of `cat /proc/self/cgroup` output, one per hierarchy.
fn cgroup_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .collect()
}

#[test]
fn exec_cgroup_runs_in_an_existing_sub_cgroup() {
    // runc's --cgroup: PATH for every hierarchy, or CONTROLLER:PATH for v1 ones. The sub-cgroup
    // must exist; berth joins it and does not make it.
    let env = Env::new("exec-subcg");
    run_detached(&env, "s1", &env.config(&["sleep", "1000"]));
    let base = env.cgroup_path("s1");
    let only_init = |env: &Env| {
        let ps = env.berth(&["ps", "--format", "json", "s1"]);
        let ps = ps.ok();
        assert_eq!(
            serde_json::from_str::<Vec<i32>>(ps).unwrap().len(),
            1,
            "{ps}"
        );
    };

    let missing = exec_in_sub_cgroup(&env, &["--cgroup", "sub"], &["true"]);
    assert!(
        missing.failed().contains(&format!("{base}/sub")),
        "{missing:?}"
    );
    only_init(&env);
    for (args, want) in [
        // runc's words, which its tests match with the path before them.
        (&["--cgroup", ".."][..], " .. is not a sub cgroup path"),
        (&["--cgroup", "../up"], " ../up is not a sub cgroup path"),
        (
            &["--cgroup", "memory:a/../.."],
            " a/../.. is not a sub cgroup path",
        ),
        (&["--cgroup", "nosuch:x"], "nosuch"),
        (&["--cgroup", "x", "--cgroup", "memory:y"], "alone"),
    ] {
        let out = exec_in_sub_cgroup(&env, args, &["true"]);
        assert!(out.failed().contains(want), "{args:?}: {out:?}");
    }
    only_init(&env);

    let dirs = env.cgroup_dirs("s1");
    for dir in &dirs {
        fs::create_dir(dir.join("sub")).unwrap();
        // A v1 cpuset child starts without cpus and mems: nothing can join it until it has some.
        // (A cgroup2 child has no cpuset files unless its parent enables the controller.)
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = fs::read_to_string(dir.join("sub").join(file));
            if own.is_ok_and(|v| v.trim().is_empty()) {
                fs::write(dir.join("sub").join(file), read(&dir.join(file))).unwrap();
            }
        }
    }
    let inside = cgroup_file_seen_by(&env, "/sub");
    let want = format!("{base}/sub");
    let lines = cgroup_lines(&inside);
    assert_eq!(
        lines.iter().filter(|&&l| l == want).count(),
        dirs.len(),
        "{inside}"
    );
    assert!(!lines.contains(&base.as_str()), "{inside}");

    // Per controller, on a v1 memory hierarchy: only that line moves. A pure v2 host has no
    // hierarchy that a controller names: runc fails ("unknown controller"), and so does berth.
    if common::host_v2() {
        let out = exec_in_sub_cgroup(&env, &["--cgroup", "memory:sub"], &["true"]);
        assert!(out.failed().contains("memory"), "{out:?}");
        only_init(&env);
    } else {
        let inside = cgroup_file_seen_by(&env, "memory:sub");
        let moved: Vec<&str> = inside
            .lines()
            .filter(|l| l.split(':').nth(2) == Some(want.as_str()))
            .collect();
        assert_eq!(moved.len(), 1, "{inside}");
        assert!(
            moved[0]
                .split(':')
                .nth(1)
                .unwrap()
                .split(',')
                .any(|c| c == "memory"),
            "{inside}"
        );
        assert_eq!(
            cgroup_lines(&inside).iter().filter(|&&l| l == base).count(),
            dirs.len() - 1,
            "{inside}"
        );
    }

    // delete removes the sub-cgroups with the container's.
    env.berth(&["delete", "--force", "s1"]).ok();
    env.assert_gone("s1");
}

// ---------------------------------------------------------------------------------------------
// pause / resume

#[test]
fn pause_stops_progress_and_resume_continues() {
    let env = Env::new("cg-pause");
    let shared = env.dir.join("shared");
    fs::create_dir_all(&shared).unwrap();
    let mut cfg = sh_config(
        &env,
        "i=0; while :; do i=$((i+1)); echo $i > /mnt/n; sleep 0.01; done",
    );
    bind_mnt(&mut cfg, &shared);
    run_detached(&env, "z", &cfg);
    let n = shared.join("n");
    until("the counter to run", || counter(&n).is_some_and(|v| v >= 3));

    env.berth(&["pause", "z"]).ok();
    assert_eq!(env.status("z"), "paused");
    assert_frozen(&env, "z", true);
    let again = env.berth(&["pause", "z"]);
    assert!(again.failed().contains("paused"), "{again:?}");
    // A write may have been cut in half by the freeze: read what it left.
    let frozen_at = fs::read_to_string(&n).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fs::read_to_string(&n).unwrap(),
        frozen_at,
        "the counter advanced while paused"
    );

    env.berth(&["resume", "z"]).ok();
    assert_eq!(env.status("z"), "running");
    assert_frozen(&env, "z", false);
    let before: u64 = frozen_at.trim().parse().unwrap_or(0);
    until("the counter to advance after resume", || {
        counter(&n).is_some_and(|v| v > before + 2)
    });
    let not_paused = env.berth(&["resume", "z"]);
    assert!(not_paused.failed().contains("not paused"), "{not_paused:?}");

    // delete --force of a paused container.
    env.berth(&["pause", "z"]).ok();
    assert_eq!(env.status("z"), "paused");
    env.berth(&["delete", "--force", "z"]).ok();
    env.assert_gone("z");
}

#[track_caller]
fn assert_frozen(env: &Env, id: &str, frozen: bool) {
    if common::host_v2() {
        let dir = locate(env, id, "freezer", "memory").unwrap();
        let events = dir.read("cgroup.events");
        let want = if frozen { "frozen 1" } else { "frozen 0" };
        assert!(events.lines().any(|l| l == want), "{events}");
    } else {
        let dir = locate(env, id, "freezer", "freezer").unwrap();
        let want = if frozen { "FROZEN" } else { "THAWED" };
        assert_eq!(dir.read("freezer.state"), want);
    }
}

// ---------------------------------------------------------------------------------------------
// update

#[test]
fn update_changes_the_live_limits() {
    let env = Env::new("cg-update");
    let (Some(mem), Some(pids), Some(cpu)) = (
        need(&env, "u", "memory", "memory"),
        need(&env, "u", "pids", "pids"),
        need(&env, "u", "cpu", "cpu"),
    ) else {
        return;
    };
    let v2 = mem.v2;
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(
        &mut cfg,
        json!({"memory": {"limit": 64 * MIB}, "pids": {"limit": 20}}),
    );
    run_detached(&env, "u", &cfg);
    let mem_limit = if v2 {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    let mem_soft = if v2 {
        "memory.low"
    } else {
        "memory.soft_limit_in_bytes"
    };
    assert_eq!(mem.read(mem_limit), (64 * MIB).to_string());
    assert_eq!(pids.read("pids.max"), "20");

    // Flags.
    env.berth(&[
        "update",
        "--memory",
        "100m",
        "--pids-limit",
        "30",
        "--cpu-quota",
        "20000",
        "u",
    ])
    .ok();
    assert_eq!(mem.read(mem_limit), (100 * MIB).to_string());
    assert_eq!(pids.read("pids.max"), "30");
    if v2 {
        assert_eq!(cpu.read("cpu.max"), "20000 100000");
    } else {
        assert_eq!(cpu.read("cpu.cfs_quota_us"), "20000");
        assert_eq!(cpu.read("cpu.cfs_period_us"), "100000");
    }

    // LinuxResources JSON on stdin.
    let json = json!({
        "memory": {"limit": 200 * MIB, "reservation": 100 * MIB},
        "cpu": {"shares": 256, "period": 50000},
        "pids": {"limit": -1}
    });
    berth_stdin(&env, &["update", "--resources=-", "u"], &json.to_string()).ok();
    assert_eq!(mem.read(mem_limit), (200 * MIB).to_string());
    assert_eq!(mem.read(mem_soft), (100 * MIB).to_string());
    assert_eq!(pids.read("pids.max"), "max");
    if v2 {
        assert_eq!(
            cpu.read("cpu.weight"),
            (1 + (254 * 9999) / 262142).to_string()
        );
        assert_eq!(cpu.read("cpu.max"), "20000 50000");
    } else {
        assert_eq!(cpu.read("cpu.shares"), "256");
        assert_eq!(cpu.read("cpu.cfs_period_us"), "50000");
        assert_eq!(cpu.read("cpu.cfs_quota_us"), "20000");
    }

    // -r FILE; flags given with it win over the file.
    let file = env.dir.join("resources.json");
    fs::write(
        &file,
        json!({"memory": {"limit": 300 * MIB}, "pids": {"limit": 40}}).to_string(),
    )
    .unwrap();
    env.berth(&[
        "update",
        "-r",
        file.to_str().unwrap(),
        "--pids-limit",
        "41",
        "u",
    ])
    .ok();
    assert_eq!(mem.read(mem_limit), (300 * MIB).to_string());
    assert_eq!(pids.read("pids.max"), "41");

    // memory.checkBeforeUpdate refuses a limit below what the container uses already.
    let check = json!({"memory": {"limit": 4096, "checkBeforeUpdate": true}});
    let refused = berth_stdin(&env, &["update", "-r", "-", "u"], &check.to_string());
    let err = refused.failed();
    assert!(err.contains("memory.limit"), "{err}");
    assert_eq!(mem.read(mem_limit), (300 * MIB).to_string());
    assert_eq!(env.status("u"), "running");

    // A malformed document names the field.
    let bad = berth_stdin(
        &env,
        &["update", "-r", "-", "u"],
        r#"{"memory": {"limit": "lots"}}"#,
    );
    assert!(bad.failed().contains("memory.limit"), "{bad:?}");

    // Only a live container can be updated.
    env.berth(&["kill", "u", "KILL"]).ok();
    until("the container to stop", || env.status("u") == "stopped");
    let stopped = env.berth(&["update", "--memory", "10m", "u"]);
    assert!(stopped.failed().contains("not running"), "{stopped:?}");
    let unknown = env.berth(&["update", "--memory", "10m", "nosuch"]);
    assert!(unknown.failed().contains("does not exist"), "{unknown:?}");
    env.berth(&["delete", "u"]).ok();
    env.assert_gone("u");
}

/// What an unlimited value reads as: v2's "max", or v1's largest limit (the hierarchy root's).
fn unlimited(loc: &Loc, file: &str) -> String {
    if loc.v2 {
        return "max".to_owned();
    }
    let mount = hierarchies()
        .into_iter()
        .find(|h| loc.host.starts_with(&h.mount))
        .unwrap()
        .mount;
    read(&mount.join(file))
}

#[test]
fn update_takes_minus_one_for_unlimited() {
    // runc's update.go: --memory, --memory-reservation, --memory-swap, --pids-limit and
    // --cpu-quota take -1 for "no limit"; --memory -1 alone lifts the swap limit too.
    let env = Env::new("cg-update-unlimited");
    let (Some(mem), Some(pids), Some(cpu)) = (
        need(&env, "u", "memory", "memory"),
        need(&env, "u", "pids", "pids"),
        need(&env, "u", "cpu", "cpu"),
    ) else {
        return;
    };
    let v2 = mem.v2;
    let (limit, soft, swap) = if v2 {
        ("memory.max", "memory.low", "memory.swap.max")
    } else {
        (
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "memory.memsw.limit_in_bytes",
        )
    };
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(
        &mut cfg,
        json!({"memory": {"limit": 64 * MIB, "reservation": 32 * MIB}, "pids": {"limit": 20},
               "cpu": {"quota": 50000, "period": 100000}}),
    );
    run_detached(&env, "u", &cfg);
    let has_swap = mem.file(swap).exists();
    if has_swap {
        env.berth(&["update", "--memory", "64m", "--memory-swap", "128m", "u"])
            .ok();
        let want = if v2 { 64 * MIB } else { 128 * MIB };
        assert_eq!(mem.read(swap), want.to_string());
    } else {
        skip(
            "cg-update-unlimited/swap",
            "no swap accounting; the swap limit is not checked",
        );
    }

    env.berth(&["update", "--memory", "-1", "u"]).ok();
    assert_eq!(mem.read(limit), unlimited(&mem, limit));
    if has_swap {
        assert_eq!(mem.read(swap), unlimited(&mem, swap));
    }
    env.berth(&["update", "--memory-reservation", "-1", "u"])
        .ok();
    assert_eq!(mem.read(soft), unlimited(&mem, soft));
    if has_swap {
        env.berth(&["update", "--memory", "64m", "--memory-swap", "128m", "u"])
            .ok();
        env.berth(&["update", "--memory-swap", "-1", "u"]).ok();
        assert_eq!(mem.read(swap), unlimited(&mem, swap));
        assert_eq!(mem.read(limit), (64 * MIB).to_string());
    }
    env.berth(&["update", "--pids-limit", "-1", "u"]).ok();
    assert_eq!(pids.read("pids.max"), "max");
    env.berth(&["update", "--cpu-quota", "-1", "u"]).ok();
    if v2 {
        assert_eq!(cpu.read("cpu.max"), "max 100000");
    } else {
        assert_eq!(cpu.read("cpu.cfs_quota_us"), "-1");
    }
    // The other signed flags take -1 as a value too: what the kernel makes of it is its own.
    for flag in ["--cpu-idle", "--cpu-rt-runtime"] {
        let out = env.berth(&["update", flag, "-1", "u"]);
        assert!(
            !out.stderr.contains("unexpected argument"),
            "{flag}: {out:?}"
        );
    }
    assert_eq!(env.status("u"), "running");
    env.berth(&["delete", "--force", "u"]).ok();
    env.assert_gone("u");
}

#[test]
fn update_lowers_the_cpu_period_under_a_pod_limit() {
    // runc's "update cpu period in a pod cgroup with pod limit set": the kernel checks every
    // write against the parent's quota, so the period and burst go first and, when refused,
    // again after the quota (fs/cpu.go); on v2 cpu.max takes both at once.
    let env = Env::new("cg-update-pod");
    let Some(cpu) = need(&env, "p", "cpu", "cpu") else {
        return;
    };
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(
        &mut cfg,
        json!({"cpu": {"quota": 500000, "period": 1000000}}),
    );
    run_detached(&env, "p", &cfg);
    // The pod: the test's own parent cgroup, limited to half a CPU.
    let pod = cpu.host.parent().unwrap();
    if cpu.v2 {
        fs::write(pod.join("cpu.max"), "50000 100000").unwrap();
    } else {
        fs::write(pod.join("cpu.cfs_quota_us"), "50000").unwrap();
        assert_eq!(read(&pod.join("cpu.cfs_period_us")), "100000");
        // The limit is in force: 60% of a CPU is refused (v2 caps a child instead).
        let over = env.berth(&["update", "--cpu-quota", "600000", "p"]);
        assert!(over.failed().contains("cpu.quota"), "{over:?}");
    }
    let quota_period = |q: &str, p: &str| {
        if cpu.v2 {
            assert_eq!(cpu.read("cpu.max"), format!("{q} {p}"));
        } else {
            assert_eq!(cpu.read("cpu.cfs_quota_us"), q);
            assert_eq!(cpu.read("cpu.cfs_period_us"), p);
        }
    };
    quota_period("500000", "1000000");
    // 30% with a tenth of the period: the period alone first would ask for 50 CPUs.
    env.berth(&[
        "update",
        "--cpu-period",
        "10000",
        "--cpu-quota",
        "3000",
        "p",
    ])
    .ok();
    quota_period("3000", "10000");

    // A burst may not exceed the quota: raising both needs the quota first, lowering both the
    // burst first.
    let burst = if cpu.v2 {
        "cpu.max.burst"
    } else {
        "cpu.cfs_burst_us"
    };
    env.berth(&["update", "--cpu-quota", "5000", "--cpu-burst", "5000", "p"])
        .ok();
    quota_period("5000", "10000");
    assert_eq!(cpu.read(burst), "5000");
    env.berth(&["update", "--cpu-quota", "2000", "--cpu-burst", "1000", "p"])
        .ok();
    quota_period("2000", "10000");
    assert_eq!(cpu.read(burst), "1000");
    assert_eq!(env.status("p"), "running");
    env.berth(&["delete", "--force", "p"]).ok();
    env.assert_gone("p");
}

// ---------------------------------------------------------------------------------------------
// ps

#[test]
fn ps_lists_the_container_processes() {
    let env = Env::new("cg-ps");
    run_detached(
        &env,
        "ps",
        &sh_config(&env, "sleep 1000 & sleep 1001 & wait"),
    );
    until("three processes", || cgroup_procs(&env, "ps").len() == 3);
    let procs = cgroup_procs(&env, "ps");

    let json: Vec<i32> =
        serde_json::from_str(env.berth(&["ps", "--format", "json", "ps"]).ok().trim()).unwrap();
    assert_eq!(json.iter().copied().collect::<BTreeSet<_>>(), procs);
    assert_eq!(json.len(), 3);

    let table = env.berth(&["ps", "ps"]).ok().to_owned();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header[..2], ["UID", "PID"], "{table}");
    let listed: BTreeSet<i32> = lines
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed, procs, "{table}");
    assert_eq!(table.lines().count(), 4, "{table}");

    let custom = env
        .berth(&["ps", "ps", "--", "-o", "pid,comm"])
        .ok()
        .to_owned();
    let mut lines = custom.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["PID", "COMMAND"]
    );
    let rows: BTreeSet<(i32, String)> = lines
        .map(|l| {
            let mut f = l.split_whitespace();
            (f.next().unwrap().parse().unwrap(), f.next().unwrap().into())
        })
        .collect();
    let commands: Vec<&str> = rows.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(rows.iter().map(|(p, _)| *p).collect::<BTreeSet<_>>(), procs);
    let mut sorted = commands.clone();
    sorted.sort();
    assert_eq!(sorted, ["sh", "sleep", "sleep"], "{custom}");

    env.berth(&["delete", "--force", "ps"]).ok();
    env.assert_gone("ps");
    let gone = env.berth(&["ps", "ps"]);
    assert!(gone.failed().contains("does not exist"), "{gone:?}");
}

// ---------------------------------------------------------------------------------------------
// kill --all

#[test]
fn kill_all_ends_every_process() {
    let env = Env::new("cg-killall");
    for (id, pidns) in [("own-ns", true), ("host-ns", false)] {
        let mut cfg = sh_config(&env, "sleep 1000 & sleep 1001 & exec sleep 1002");
        if !pidns {
            without_pidns(&mut cfg);
        }
        run_detached(&env, id, &cfg);
        until("three processes", || cgroup_procs(&env, id).len() == 3);
        let procs = cgroup_procs(&env, id);
        env.berth(&["kill", "--all", id, "KILL"]).ok();
        until("every process to die", || {
            procs.iter().all(|p| !alive(*p)) && cgroup_procs(&env, id).is_empty()
        });
        until("the container to stop", || env.status(id) == "stopped");
        env.berth(&["delete", id]).ok();
        env.assert_gone(id);
    }
}

// ---------------------------------------------------------------------------------------------
// default cgroupsPath and cleanup

#[test]
fn default_cgroups_path_is_berth_id_and_is_removed() {
    let env = Env::new("cg-default");
    let id = format!("cgdefault-{}", std::process::id());
    // Written by hand: the harness would fill in a cgroupsPath.
    let bundle = env.bundle(&id);
    fs::create_dir_all(&bundle).unwrap();
    let mut cfg = env.config(&["sleep", "1000"]);
    set_resources(&mut cfg, json!({"pids": {"limit": 10}}));
    fs::write(bundle.join("config.json"), cfg.to_string()).unwrap();
    let mounts: Vec<PathBuf> = hierarchies().into_iter().map(|h| h.mount).collect();
    let parent_existed: Vec<bool> = mounts.iter().map(|m| m.join("berth").exists()).collect();

    env.berth(&["create", "--bundle", bundle.to_str().unwrap(), &id])
        .ok();
    for m in &mounts {
        let dir = m.join("berth").join(&id);
        assert!(dir.is_dir(), "{} missing", dir.display());
    }
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    // Every mounted hierarchy has the init in /berth/<id>. (A v1 root outliving its umount
    // shows in /proc/<pid>/cgroup too; it is nobody's to place in, so lines are looked up from
    // the mounts, not the other way round.)
    for h in hierarchies() {
        let controllers = if h.v2 {
            String::new()
        } else {
            h.controllers.join(",")
        };
        let line = own
            .lines()
            .find(|l| l.split(':').nth(1) == Some(controllers.as_str()))
            .unwrap_or_else(|| panic!("no line for {controllers:?} in {own}"));
        assert!(
            line.ends_with(&format!(":/berth/{id}")),
            "init not in /berth/{id}: {own}"
        );
    }
    if let Some(loc) = hierarchies()
        .iter()
        .find(|h| h.controllers.iter().any(|c| c == "pids"))
    {
        assert_eq!(
            read(&loc.mount.join("berth").join(&id).join("pids.max")),
            "10"
        );
    }

    env.berth(&["delete", &id]).ok();
    assert!(!env.root.join(&id).exists());
    for (m, existed) in mounts.iter().zip(parent_existed) {
        let dir = m.join("berth").join(&id);
        assert!(!dir.exists(), "{} left behind", dir.display());
        // The parent stays, as runc's do (shared; remade for every container it would cost
        // time): the test removes the one it caused.
        let parent = m.join("berth");
        assert!(parent.is_dir(), "{} removed", parent.display());
        if !existed {
            let _ = fs::remove_dir(&parent);
        }
    }
}

#[test]
fn nothing_is_left_in_any_hierarchy_after_delete() {
    let env = Env::new("cg-cleanup");
    let mut cfg = sh_config(&env, "sleep 1000 & exec sleep 1001");
    set_resources(
        &mut cfg,
        json!({"pids": {"limit": 50}, "memory": {"limit": 256 * MIB}, "devices": [deny_all()]}),
    );
    run_detached(&env, "all", &cfg);
    let dirs = env.cgroup_dirs("all");
    assert!(!dirs.is_empty());
    for d in &dirs {
        assert!(d.is_dir(), "{} missing", d.display());
        // A cgroup of its own below the container's, as a nested runtime would make.
        fs::create_dir(d.join("nested")).unwrap();
    }
    env.berth(&["delete", "--force", "all"]).ok();
    env.assert_gone("all");
    for m in common::cgroup_mounts() {
        let dir = m.join(env.cgroup_path("all").trim_start_matches('/'));
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

#[test]
fn creates_survive_their_parent_cgroup_being_removed_meanwhile() {
    // Whoever made a parent cgroup removes it once it is empty (a failed create, a test's
    // clean-up, an engine): a create that has just made that parent, or found it, must not fail
    // because it vanished before the container's own directory went in. The rival removes the
    // parent whenever it is empty, but no more often than there are containers (a rival that
    // never stops could starve a create on a slow machine).
    let env = Env::new("cg-vanishing-parent");
    let parents: Vec<PathBuf> = common::cgroup_mounts()
        .iter()
        .map(|m| m.join(env.cgroup_parent.trim_start_matches('/')))
        .collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut removals = 0;
            while !stop.load(Ordering::Relaxed) && removals < 15 {
                let removed = parents.iter().filter(|p| fs::remove_dir(p).is_ok()).count();
                removals += (removed > 0) as u32;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let env = &env;
                s.spawn(move || {
                    for n in 0..10 {
                        let id = format!("v{t}-{n}");
                        env.run(&id, &env.config(&["/bin/true"])).ok();
                        env.assert_gone(&id);
                    }
                })
            })
            .collect();
        let failed = workers.into_iter().map(|w| w.join()).any(|r| r.is_err());
        stop.store(true, Ordering::Relaxed);
        assert!(!failed, "a create failed while its parent came and went");
    });
}
