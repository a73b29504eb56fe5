//! The systemd cgroup driver (`--systemd-cgroup`) with real containers: the unit systemd starts
//! for the init, its properties as `systemctl show` reports them and the cgroup files, update,
//! pause/resume, kill --all, delete stopping the unit, and a failed create leaving no unit.
//! These need systemd as PID 1 (make test-systemd runs them in its VM on pure cgroup v2, make
//! test-systemd-v1 on systemd's hybrid v1 layout: each check reads that version's names and
//! files); on a host without it, the driver's one-line error and runc's cgroupfs reading of
//! `slice:prefix:name` are checked.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{skip, Env};
use serde_json::{json, Value};

/// Whether systemd runs here. Where it does, its bus must answer: these tests cannot be skipped
/// in the systemd VM.
fn systemd_here() -> bool {
    if !Path::new("/run/systemd/system").is_dir() {
        skip(
            "systemd-cgroup/needs-systemd",
            "no systemd as PID 1 on this host",
        );
        return false;
    }
    assert!(
        Path::new("/run/dbus/system_bus_socket").exists(),
        "systemd runs but its system bus socket is missing"
    );
    true
}

/// `berth --systemd-cgroup ARGS... --bundle BUNDLE ID`.
fn systemd_berth(env: &Env, args: &[&str], bundle: &Path, id: &str) -> common::Run {
    let mut all = vec!["--systemd-cgroup"];
    all.extend_from_slice(args);
    all.extend(["--bundle", bundle.to_str().unwrap(), id]);
    env.berth(&all)
}

fn unique(name: &str) -> String {
    format!("{name}{}", std::process::id())
}

/// `systemctl show -p NAME --value UNIT`.
fn show(unit: &str, name: &str) -> String {
    let out = Command::new("systemctl")
        .args(["show", "-p", name, "--value", unit])
        .output()
        .expect("systemctl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn cgroup_file(path: &str, file: &str) -> String {
    fs::read_to_string(
        Path::new("/sys/fs/cgroup")
            .join(path.trim_start_matches('/'))
            .join(file),
    )
    .unwrap_or_else(|e| panic!("read {path}/{file}: {e}"))
    .trim()
    .to_owned()
}

/// A file of the container's cgroup: `v2` on a pure cgroup2 host, else `v1`, which names its
/// hierarchy ("memory/memory.limit_in_bytes").
fn scope_file(scope: &str, v2: &str, v1: &str) -> String {
    if common::host_v2() {
        cgroup_file(scope, v2)
    } else {
        let (hierarchy, file) = v1.split_once('/').unwrap();
        cgroup_file(&format!("{hierarchy}{scope}"), file)
    }
}

/// `cgroup` in no hierarchy: systemd removed its own, berth those systemd does not manage.
fn assert_no_cgroup(cgroup: &str) {
    for m in common::cgroup_mounts() {
        let d = m.join(cgroup.trim_start_matches('/'));
        assert!(!d.exists(), "{} left", d.display());
    }
}

/// What `/proc/<pid>/cgroup` must say of a process in `scope`: the cgroup2 line (also kept on a
/// hybrid host), and on v1 a hierarchy systemd manages (memory) and one berth joins (freezer).
fn assert_in_scope(proc_cgroup: &str, scope: &str) {
    let mut want = vec![format!("0::{scope}")];
    if !common::host_v2() {
        want.extend([format!(":memory:{scope}"), format!(":freezer:{scope}")]);
    }
    for w in want {
        assert!(
            proc_cgroup.lines().any(|l| l.ends_with(&w)),
            "{w} not in {proc_cgroup}"
        );
    }
}

/// The init's /proc/PID/cgroup, from outside.
fn init_cgroups(env: &Env, id: &str) -> String {
    let pid = env.state(id)["pid"].as_i64().unwrap();
    fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap()
}

fn state_json(env: &Env, id: &str) -> Value {
    serde_json::from_slice(&fs::read(env.root.join(id).join("state.json")).unwrap()).unwrap()
}

fn sleeper(env: &Env, cgroups_path: &str) -> Value {
    let mut cfg = env.config(&["sleep", "600"]);
    cfg["linux"]["cgroupsPath"] = json!(cgroups_path);
    cfg
}

#[test]
fn limits_reach_systemd_and_the_files_and_the_unit_goes_with_delete() {
    if !systemd_here() {
        return;
    }
    let env = Env::new("sd-limits");
    let id = unique("sdlim");
    let unit = format!("berth-test-{id}.scope");
    let scope = format!("/system.slice/{unit}");
    let mut cfg = sleeper(&env, &format!("system.slice:berth-test:{id}"));
    cfg["linux"]["resources"] = json!({
        "memory": { "limit": 64 << 20 },
        "cpu": { "shares": 1024, "quota": 50000, "period": 100000 },
        "pids": { "limit": 42 }
    });
    cfg["annotations"] = json!({
        "org.systemd.property.TimeoutStopUSec": "uint64 123000000",
        "org.systemd.property.CollectMode": "'inactive-or-failed'"
    });
    let bundle = env.write_bundle(&id, &cfg);
    systemd_berth(&env, &["create"], &bundle, &id).ok();
    assert_in_scope(&init_cgroups(&env, &id), &scope);
    let st = state_json(&env, &id);
    assert_eq!(st["cgroup"]["systemd"]["unit"], json!(unit), "{st}");

    // The v1 names of the limits (runc's genV1ResourcesProperties) and their files.
    let v2 = common::host_v2();
    let memory_max = if v2 { "MemoryMax" } else { "MemoryLimit" };
    let memory_file = || scope_file(&scope, "memory.max", "memory/memory.limit_in_bytes");
    assert_eq!(show(&unit, "ActiveState"), "active");
    assert_eq!(show(&unit, "Delegate"), "yes");
    assert_eq!(show(&unit, memory_max), "67108864");
    if v2 {
        assert_eq!(show(&unit, "CPUWeight"), "39");
    } else {
        assert_eq!(show(&unit, "CPUShares"), "1024");
    }
    assert_eq!(show(&unit, "TasksMax"), "42");
    assert_eq!(show(&unit, "CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(show(&unit, "TimeoutStopUSec"), "2min 3s");
    assert_eq!(show(&unit, "CollectMode"), "inactive-or-failed");
    assert_eq!(memory_file(), "67108864");
    assert_eq!(scope_file(&scope, "pids.max", "pids/pids.max"), "42");
    if v2 {
        assert_eq!(cgroup_file(&scope, "cpu.weight"), "39");
        assert_eq!(cgroup_file(&scope, "cpu.max"), "50000 100000");
    } else {
        let cpu = format!("cpu{scope}");
        assert_eq!(cgroup_file(&cpu, "cpu.shares"), "1024");
        assert_eq!(cgroup_file(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(cgroup_file(&cpu, "cpu.cfs_period_us"), "100000");
    }

    // Later commands need no flag: the state says which driver.
    env.berth(&["update", "--memory", "128M", "--pids-limit", "50", &id])
        .ok();
    assert_eq!(show(&unit, memory_max), "134217728");
    assert_eq!(show(&unit, "TasksMax"), "50");
    assert_eq!(memory_file(), "134217728");
    assert_eq!(scope_file(&scope, "pids.max", "pids/pids.max"), "50");

    env.berth(&["start", &id]).ok();
    let frozen = || scope_file(&scope, "cgroup.freeze", "freezer/freezer.state");
    env.berth(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    assert_eq!(frozen(), if v2 { "1" } else { "FROZEN" });
    env.berth(&["resume", &id]).ok();
    assert_eq!(env.status(&id), "running");
    assert_eq!(frozen(), if v2 { "0" } else { "THAWED" });
    let ps = env.berth(&["ps", "--format", "json", &id]);
    assert!(
        !ps.ok().trim().is_empty() && ps.ok().trim() != "[]",
        "{ps:?}"
    );
    // An exec'd process joins the unit's cgroup; events read it.
    let exec = env.berth(&["exec", &id, "cat", "/proc/self/cgroup"]);
    assert_in_scope(exec.ok(), &scope);
    let events = env.berth(&["events", "--stats", &id]);
    let ev: Value = serde_json::from_str(events.ok().trim()).unwrap();
    assert_eq!(ev["type"], "stats", "{ev}");
    assert_eq!(ev["data"]["pids"]["limit"], json!(50), "{ev}");
    assert_eq!(
        ev["data"]["memory"]["usage"]["limit"],
        json!(128 << 20),
        "{ev}"
    );

    env.berth(&["kill", "--all", &id, "KILL"]).ok();
    common::eventually("the container stops", || env.status(&id) == "stopped");
    // The flag is accepted on later commands too.
    env.berth(&["--systemd-cgroup", "delete", &id]).ok();
    assert_eq!(show(&unit, "LoadState"), "not-found");
    assert_no_cgroup(&scope);
    assert!(!env.root.join(&id).exists());
}

#[test]
fn run_inside_a_nested_slice_and_delete_of_a_running_container() {
    if !systemd_here() {
        return;
    }
    let env = Env::new("sd-nested");
    let id = unique("sdnest");
    let unit = format!("berth-test-{id}.scope");
    let scope = format!("/berthtest.slice/berthtest-nested.slice/{unit}");
    // From inside: the process sees its own scope.
    let mut cfg = env.config(&["cat", "/proc/self/cgroup"]);
    cfg["linux"]["cgroupsPath"] = json!(format!("berthtest-nested.slice:berth-test:{id}"));
    let bundle = env.write_bundle(&id, &cfg);
    let out = systemd_berth(&env, &["run"], &bundle, &id);
    assert_in_scope(out.ok(), &scope);
    assert_eq!(show(&unit, "LoadState"), "not-found");
    assert_no_cgroup(&scope);
    assert!(!env.root.join(&id).exists());

    let id2 = unique("sdnest2");
    let unit2 = format!("berth-test-{id2}.scope");
    let cfg = sleeper(&env, &format!("berthtest-nested.slice:berth-test:{id2}"));
    let bundle = env.write_bundle(&id2, &cfg);
    systemd_berth(&env, &["run", "-d"], &bundle, &id2).ok();
    let scope2 = format!("/berthtest.slice/berthtest-nested.slice/{unit2}");
    assert_in_scope(&init_cgroups(&env, &id2), &scope2);
    env.berth(&["delete", "--force", &id2]).ok();
    assert_eq!(show(&unit2, "LoadState"), "not-found");
    assert_no_cgroup(&scope2);
}

#[test]
fn an_empty_path_is_a_berth_scope_in_system_slice() {
    if !systemd_here() {
        return;
    }
    let env = Env::new("sd-default");
    let id = unique("sddef");
    let cfg = sleeper(&env, "");
    let bundle = env.write_bundle(&id, &cfg);
    systemd_berth(&env, &["create"], &bundle, &id).ok();
    let scope = format!("/system.slice/berth-{id}.scope");
    assert_in_scope(&init_cgroups(&env, &id), &scope);
    env.berth(&["delete", "--force", &id]).ok();
    assert_eq!(show(&format!("berth-{id}.scope"), "LoadState"), "not-found");
    assert_no_cgroup(&scope);
}

#[test]
fn a_failed_create_leaves_no_unit() {
    if !systemd_here() {
        return;
    }
    let env = Env::new("sd-failed");
    let id = unique("sdfail");
    let unit = format!("berth-test-{id}.scope");
    let mut cfg = sleeper(&env, &format!("system.slice:berth-test:{id}"));
    cfg["process"]["args"] = json!(["/does-not-exist"]);
    let bundle = env.write_bundle(&id, &cfg);
    let out = systemd_berth(&env, &["run"], &bundle, &id);
    assert_ne!(out.code, 0, "{out:?}");
    assert_eq!(show(&unit, "LoadState"), "not-found");
    assert!(!env.root.join(&id).exists());
    assert_no_cgroup(&format!("/system.slice/{unit}"));
}

#[test]
fn a_path_not_in_slice_prefix_name_form_is_refused_as_runc_refuses_it() {
    let env = Env::new("sd-badpath");
    let id = unique("sdbad");
    let cfg = sleeper(&env, "/berth-test/not-systemd");
    let bundle = env.write_bundle(&id, &cfg);
    let out = systemd_berth(&env, &["create"], &bundle, &id);
    let msg = out.failed();
    assert!(
        msg.contains(
            "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups"
        ),
        "{msg}"
    );
    assert!(!env.root.join(&id).exists());
}

#[test]
fn without_systemd_the_driver_fails_in_one_line_and_leaves_nothing() {
    if Path::new("/run/dbus/system_bus_socket").exists() {
        skip(
            "systemd-cgroup/has-bus",
            "this host has a system bus: the no-bus error cannot happen here",
        );
        return;
    }
    let env = Env::new("sd-nobus");
    let id = unique("sdnobus");
    let cfg = sleeper(&env, &format!("system.slice:berth-test:{id}"));
    let bundle = env.write_bundle(&id, &cfg);
    for cmd in ["create", "run"] {
        let out = systemd_berth(&env, &[cmd], &bundle, &id);
        let msg = out.failed();
        assert!(
            msg.starts_with(
                "--systemd-cgroup: no systemd: cannot connect to the system bus at /run/dbus/system_bus_socket"
            ),
            "{msg}"
        );
        assert!(!env.root.join(&id).exists(), "state left by {cmd}");
        assert_no_cgroup(&format!("/system.slice/berth-test-{id}.scope"));
    }
    // Under --log-format json the same error is one JSON line.
    let bundle = bundle.to_str().unwrap();
    let out = env.berth(&[
        "--log-format",
        "json",
        "--systemd-cgroup",
        "run",
        "--bundle",
        bundle,
        &id,
    ]);
    let line = out.failed_plain();
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"].as_str().unwrap().contains("no systemd"), "{v}");
}

#[test]
fn slice_prefix_name_without_the_flag_is_a_relative_cgroupfs_path_as_in_runc() {
    // runc's cgroupfs driver takes it as a directory below its own cgroup: berth is started in
    // the test's parent cgroup (never in the cgroup of the test process itself), so that the
    // container lands in <parent>/a.slice:pfx:<id>.
    if common::host_v2() {
        // cgroup v2 forbids processes in a cgroup whose children get controllers: berth's
        // own cgroup cannot be a container's parent there (runc's relative paths fail alike).
        skip(
            "systemd-cgroup/relative-on-v2",
            "a relative cgroupsPath on pure cgroup v2 puts berth's own cgroup above the container's",
        );
        return;
    }
    let env = Env::new("sd-cgroupfs");
    let id = unique("sdfs");
    let mut cfg = env.config(&["cat", "/proc/self/cgroup"]);
    let rel = format!("a.slice:pfx:{id}");
    cfg["linux"]["cgroupsPath"] = json!(rel);
    let bundle = env.write_bundle(&id, &cfg);
    let mut joins = String::new();
    for m in common::cgroup_mounts() {
        let dir = m.join(env.cgroup_parent.trim_start_matches('/'));
        fs::create_dir_all(&dir).unwrap();
        if dir.join("cpuset.cpus").exists() {
            for f in ["cpuset.cpus", "cpuset.mems"] {
                let mut parent = dir.clone();
                let mut chain = Vec::new();
                while parent != m
                    && fs::read_to_string(parent.join(f))
                        .unwrap_or_default()
                        .trim()
                        .is_empty()
                {
                    chain.push(parent.clone());
                    parent.pop();
                }
                let value = fs::read_to_string(parent.join(f)).unwrap_or_default();
                for d in chain.iter().rev() {
                    fs::write(d.join(f), value.trim()).unwrap();
                }
            }
        }
        joins.push_str(&format!("echo $$ > {}/cgroup.procs; ", dir.display()));
    }
    let script = format!("{joins}exec \"$@\"");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script, "sh", common::BERTH, "--root"])
        .arg(&env.root)
        .args(["run", "--bundle", bundle.to_str().unwrap(), &id]);
    let out = common::capture(cmd.stdin(std::process::Stdio::null()), &env.dir);
    let want = format!("{}/{rel}", env.cgroup_parent);
    assert!(out.ok().contains(&want), "{want} not in {out:?}");
    assert!(!env.root.join(&id).exists());
}

/// The tests' own containers (the cgroupfs driver, below the systemd VMs' delegated job unit)
/// keep their cgroup in every hierarchy while systemd starts and stops a unit that uses blkio.
/// On cgroup v1 systemd moves every process below a unit without blkio to the root blkio cgroup
/// then: the VMs' job unit asks for IO accounting against it (integration/cgroupv2/README.md).
/// Without that, checkpoint tests failed now and then; this one fails each time.
#[test]
fn a_cgroupfs_container_keeps_its_cgroups_while_a_blkio_scope_comes_and_goes() {
    if !systemd_here() {
        return;
    }
    let env = Env::new("sd-keep");
    let id = unique("keep");
    let cgroup = env.cgroup_path(&id);
    let bundle = env.write_bundle(&id, &sleeper(&env, &cgroup));
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), &id])
        .ok();
    let before = init_cgroups(&env, &id);
    assert!(
        before.lines().all(|l| l.ends_with(&format!(":{cgroup}"))),
        "the container is not in {cgroup} everywhere: {before}"
    );
    let scope = Command::new("systemd-run")
        .args(["--quiet", "--scope", "-p", "BlockIOAccounting=yes"])
        .args(["-p", "BlockIOWeight=500", "true"])
        .status()
        .expect("systemd-run");
    assert!(scope.success(), "systemd-run: {scope}");
    // systemd trims the slice's controllers once the scope has gone: give it that time.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(
        init_cgroups(&env, &id),
        before,
        "systemd moved the container (integration/cgroupv2/README.md, systemd-v1)"
    );
    env.berth(&["delete", "--force", &id]).ok();
    env.assert_gone(&id);
}
