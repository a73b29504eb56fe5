//! Rootless berth, as runc runs rootless: an unprivileged user (`spec --rootless`, run, exec and
//! delete), and uid 0 inside a user namespace that is not the host's — where rootless podman runs
//! its runtime. State lives where runc's would (`$XDG_RUNTIME_DIR/berth` for `…/runc`), and the
//! containers run without cgroups of their own — unless one is delegated to the user.

mod common;

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{capture, fixture_rootfs, Env, Run, BERTH};
use serde_json::{json, Value};

const UID: u32 = 64321;

/// A test directory owned by UID, with its runtime dir (`run`) below it.
fn user_dir(env: &Env) -> PathBuf {
    let dir = env.dir.join("user");
    fs::create_dir_all(dir.join("run")).unwrap();
    for d in [&env.dir, &dir, &dir.join("run")] {
        chown(d, Some(UID), Some(UID)).unwrap();
    }
    dir
}

/// `prefix… berth args…` as UID (no supplementary groups), in `dir`, with XDG_RUNTIME_DIR
/// `dir/run` and USER `user`.
fn as_user(dir: &Path, prefix: &[&str], user: &str, args: &[&str]) -> Run {
    as_user_from(None, dir, prefix, user, args)
}

/// `as_user`, started by root in the cgroup whose cgroup.procs is `procs` (a user's session
/// starts in its delegated subtree).
fn as_user_from(
    procs: Option<&Path>,
    dir: &Path,
    prefix: &[&str],
    user: &str,
    args: &[&str],
) -> Run {
    let mut cmd = match procs {
        Some(procs) => {
            let mut c = Command::new("sh");
            c.args(["-c", r#"echo $$ > "$0" && exec setpriv "$@""#])
                .arg(procs);
            c
        }
        None => Command::new("setpriv"),
    };
    cmd.args([
        format!("--reuid={UID}"),
        format!("--regid={UID}"),
        "--clear-groups".into(),
    ])
    .args(prefix)
    .arg(BERTH)
    .args(args)
    .current_dir(dir)
    .env("XDG_RUNTIME_DIR", dir.join("run"))
    .env("USER", user)
    .stdin(Stdio::null());
    capture(&mut cmd, &dir.join("run"))
}

/// uid 0 in a user namespace of UID's own, as rootless podman runs its runtime.
const USERNS: &[&str] = &["unshare", "--map-root-user"];

/// Deletes the user's container `id` when the test ends, passed or not: its state is under the
/// user's runtime dir, which `Env` does not know.
struct DeleteOnDrop<'a> {
    dir: &'a Path,
    prefix: &'a [&'a str],
    id: &'a str,
}

impl Drop for DeleteOnDrop<'_> {
    fn drop(&mut self) {
        as_user(
            self.dir,
            self.prefix,
            "someone",
            &["delete", "--force", self.id],
        );
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn an_unprivileged_user_runs_a_rootless_container() {
    let env = Env::new("rootless-user");
    let dir = user_dir(&env);
    as_user(&dir, &[], "someone", &["spec", "--rootless"]).ok();
    let mut cfg: Value =
        serde_json::from_slice(&fs::read(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["linux"]["uidMappings"][0]["hostID"], UID);
    cfg["root"]["path"] = json!(fixture_rootfs());
    cfg["process"]["terminal"] = json!(false);
    cfg["process"]["args"] = json!(["sh", "-c", "id -u; cat /proc/self/uid_map; exec sleep 1000"]);
    fs::write(dir.join("config.json"), cfg.to_string()).unwrap();

    let _delete = DeleteOnDrop {
        dir: &dir,
        prefix: &[],
        id: "rl1",
    };
    as_user(&dir, &[], "someone", &["run", "-d", "rl1"]).ok();
    assert!(dir.join("run/berth/rl1/state.json").exists());
    // As runc keeps its root under XDG_RUNTIME_DIR: private, and sticky against clean-ups.
    assert_eq!(mode(&dir.join("run/berth")), 0o1700);
    let exec = as_user(
        &dir,
        &[],
        "someone",
        &["exec", "rl1", "sh", "-c", "id -u; cat /proc/self/uid_map"],
    );
    let lines: Vec<&str> = exec.ok().lines().collect();
    assert_eq!(lines[0], "0");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", &UID.to_string(), "1"]);
    let list = as_user(&dir, &[], "someone", &["list", "-q"]);
    assert_eq!(list.ok(), "rl1\n");
    as_user(&dir, &[], "someone", &["delete", "--force", "rl1"]).ok();
    assert!(!dir.join("run/berth/rl1").exists());
}

/// A bundle in `dir` like rootless podman's: no user namespace or cgroupsPath of its own.
fn podman_like_bundle(
    env: &Env,
    dir: &Path,
    id: &str,
    script: &str,
    edit: impl FnOnce(&mut Value),
) -> PathBuf {
    let mut cfg = env.config(&["sh", "-c", script]);
    // Only uid and gid 0 are mapped (`unshare --map-root-user`): devpts gets no gid=5, as
    // `runc spec --rootless` drops it.
    for m in cfg["mounts"].as_array_mut().unwrap() {
        if let Some(opts) = m["options"].as_array_mut() {
            opts.retain(|o| o != "gid=5");
        }
    }
    edit(&mut cfg);
    let bundle = dir.join(id);
    fs::create_dir_all(&bundle).unwrap();
    fs::write(bundle.join("config.json"), cfg.to_string()).unwrap();
    chown(&bundle, Some(UID), Some(UID)).unwrap();
    bundle
}

#[test]
fn uid_0_in_a_user_namespace_keeps_state_under_xdg_runtime_dir() {
    let env = Env::new("rootless-userns");
    let dir = user_dir(&env);
    // No network namespace: the user namespace does not own the host's, so no fresh sysfs.
    let bundle = podman_like_bundle(&env, &dir, "ns1", "exec sleep 1000", |cfg| {
        cfg["linux"]["namespaces"] = json!([
            { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }
        ]);
    });
    let bundle = bundle.to_str().unwrap();
    let _delete = DeleteOnDrop {
        dir: &dir,
        prefix: USERNS,
        id: "ns1",
    };
    as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "-d", "--bundle", bundle, "ns1"],
    )
    .ok();
    let state = dir.join("run/berth/ns1/state.json");
    assert!(state.exists(), "no state at {}", state.display());
    assert_eq!(mode(&dir.join("run/berth")), 0o1700);
    let recorded: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    let pid = recorded["pid"].as_i64().unwrap();
    let own_cgroup = fs::read_to_string("/proc/self/cgroup").unwrap();
    common::eventually("the container's process", || {
        fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("sleep"))
    });
    // No cgroup of its own: the init stays where berth was (this test's cgroups).
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap(),
        own_cgroup
    );
    let status = as_user(&dir, USERNS, "someone", &["state", "ns1"]);
    assert!(status.ok().contains("\"running\""), "{status:?}");
    // Nor can a limit be set later.
    let update = as_user(
        &dir,
        USERNS,
        "someone",
        &["update", "--memory", "64m", "ns1"],
    );
    assert_eq!(update.failed(), no_cgroup_for("memory"));
    as_user(&dir, USERNS, "someone", &["delete", "--force", "ns1"]).ok();
    assert!(!dir.join("run/berth/ns1").exists());
    common::eventually("the init's end", || {
        fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    });
}

/// runc's error for a limit that needs a cgroup a rootless container could not have: its v1
/// managers name the controller, its cgroup2 manager does not.
fn no_cgroup_for(controller: &str) -> String {
    if common::host_v2() {
        "rootless needs no limits + no cgrouppath when no permission is granted for cgroups".into()
    } else {
        format!("cannot set {controller} limit: container could not join or create cgroup")
    }
}

/// "<dev> <mount point> <fstype>" of the mounts at /sys and /dev/null, as awk prints them from
/// a mountinfo.
const MOUNTS_AWK: &str =
    r#"$5=="/sys"||$5=="/dev/null"||$5=="/dev"{for(i=7;$i!="-";i++);print $3,$5,$(i+1)}"#;

#[test]
fn a_rootless_container_sees_bound_devices_a_bound_sys_and_its_cgroups() {
    let env = Env::new("rootless-userns-view");
    let dir = user_dir(&env);
    let script = format!("id -u; awk '{MOUNTS_AWK}' /proc/self/mountinfo; ls /sys/fs/cgroup");
    let bundle = podman_like_bundle(&env, &dir, "ns2", &script, |cfg| {
        cfg["linux"]["namespaces"] = json!([
            { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }
        ]);
    });
    let out = as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "ns2"],
    );
    let out = out.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    // The host's own sysfs and devtmpfs, bound: neither a fresh sysfs (the user namespace does
    // not own the network namespace) nor mknod is allowed there.
    let host = Command::new("awk")
        .args([MOUNTS_AWK, "/proc/self/mountinfo"])
        .output()
        .unwrap();
    let host = String::from_utf8(host.stdout).unwrap();
    let dev_of = |text: &str, mount: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.contains(&format!(" {mount} ")))
            .unwrap_or("");
        line.split(' ').next().unwrap_or("").to_owned()
    };
    let (sys, dev) = (dev_of(&host, "/sys"), dev_of(&host, "/dev"));
    assert!(
        lines.contains(&format!("{sys} /sys sysfs").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("{dev} /dev/null devtmpfs").as_str()),
        "{out}"
    );
    // The cgroups are there, showing berth's own: every v1 hierarchy, or the cgroup2 directory.
    let expected: &[&str] = if common::host_v2() {
        &["cgroup.procs", "memory.max", "pids.max"]
    } else {
        &["memory", "pids"]
    };
    assert!(expected.iter().all(|e| lines.contains(e)), "{out}");
    assert!(!dir.join("run/berth/ns2").exists());
}

#[test]
fn limits_that_need_a_cgroup_fail_as_runc_fails_them() {
    let env = Env::new("rootless-userns-limits");
    let dir = user_dir(&env);
    for (id, resources, controller) in [
        ("lim1", json!({ "memory": { "limit": 67108864 } }), "memory"),
        ("lim2", json!({ "pids": { "limit": 50 } }), "pids"),
    ] {
        let bundle = podman_like_bundle(&env, &dir, id, "true", |cfg| {
            cfg["linux"]["resources"] = resources;
        });
        let run = as_user(
            &dir,
            USERNS,
            "someone",
            &["run", "--bundle", bundle.to_str().unwrap(), id],
        );
        let msg = run.failed();
        // On cgroup2 runc's words go on with the denial of the container's directory.
        assert!(
            msg == no_cgroup_for(controller)
                || (common::host_v2()
                    && msg.starts_with(&format!(
                        "{}: create cgroup /sys/fs/cgroup/",
                        no_cgroup_for(controller)
                    ))
                    && msg.ends_with("permission denied")),
            "{msg}"
        );
        assert!(!dir.join("run/berth").join(id).exists());
    }
    // A device rule needs no cgroup: runc ignores what it cannot apply there.
    let bundle = podman_like_bundle(&env, &dir, "lim3", "true", |cfg| {
        cfg["linux"]["resources"] = json!({ "devices": [{ "allow": false, "access": "rwm" }] });
    });
    as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "lim3"],
    )
    .ok();
    // A cgroupsPath of its own must be made: its error is the cgroup's.
    let bundle = podman_like_bundle(&env, &dir, "lim4", "true", |cfg| {
        cfg["linux"]["cgroupsPath"] = json!(env.cgroup_path("lim4"));
    });
    let run = as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "lim4"],
    );
    let msg = run.failed();
    assert!(
        msg.starts_with("create cgroup /sys/fs/cgroup/") && msg.ends_with("permission denied"),
        "{msg}"
    );
    // oom_score_adj may be raised, not lowered, without CAP_SYS_RESOURCE on the host (runc's
    // "failed to update /proc/self/oom_score_adj").
    let bundle = podman_like_bundle(&env, &dir, "oom1", "cat /proc/self/oom_score_adj", |cfg| {
        cfg["process"]["oomScoreAdj"] = json!(500);
    });
    let run = as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "oom1"],
    );
    assert_eq!(run.ok(), "500\n");
    let bundle = podman_like_bundle(&env, &dir, "oom2", "true", |cfg| {
        cfg["process"]["oomScoreAdj"] = json!(-500);
    });
    let run = as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "oom2"],
    );
    let msg = run.failed();
    assert!(msg.starts_with("process.oomScoreAdj: set -500"), "{msg}");
    // A sysctl of a namespace the user namespace owns is written.
    let script = "cat /proc/sys/net/ipv4/ip_forward";
    let bundle = podman_like_bundle(&env, &dir, "sysctl1", script, |cfg| {
        cfg["linux"]["sysctl"] = json!({ "net.ipv4.ip_forward": "1" });
    });
    let run = as_user(
        &dir,
        USERNS,
        "someone",
        &["run", "--bundle", bundle.to_str().unwrap(), "sysctl1"],
    );
    assert_eq!(run.ok(), "1\n");
    let left: Vec<_> = fs::read_dir(dir.join("run/berth")).unwrap().collect();
    assert!(left.is_empty(), "state left: {left:?}");
}

#[test]
fn root_in_a_user_namespace_named_root_and_an_explicit_root_keep_their_state_roots() {
    let env = Env::new("rootless-userns-root");
    let dir = user_dir(&env);
    // USER=root in a user namespace: runc's /run/runc, so berth's /run/berth (not the user's).
    let bundle = podman_like_bundle(&env, &dir, "r1", "true", |_| {});
    let run = as_user(
        &dir,
        USERNS,
        "root",
        &["run", "--bundle", bundle.to_str().unwrap(), "r1"],
    );
    let msg = run.failed();
    assert!(msg.contains("/run/berth"), "{msg}");
    assert!(!dir.join("run/berth").exists());
    // --root wins, and the XDG directory is not made.
    let own = dir.join("own-root");
    let listed = as_user(
        &dir,
        USERNS,
        "someone",
        &["--root", own.to_str().unwrap(), "list", "-q"],
    );
    assert_eq!(listed.ok(), "");
    assert!(!dir.join("run/berth").exists());
}

/// Without systemd, a cgroup subtree the admin delegates to the user (chowned to it, with the
/// controllers its parents hand down) takes a rootless container whose cgroupsPath is below it,
/// with its limits, as runc does: the user's berth starts in that subtree, as a session would.
#[test]
fn a_cgroup_subtree_delegated_to_the_user_holds_the_containers_limits() {
    let env = Env::new("rootless-delegated");
    let dir = user_dir(&env);
    let deleg = env.cgroup_path("deleg");
    let mut launcher = None;
    for m in common::cgroup_mounts() {
        let d = m.join(deleg.trim_start_matches('/'));
        fs::create_dir_all(&d).unwrap();
        if m.join("cgroup.controllers").exists() {
            // cgroup2: every ancestor hands its controllers down (the admin's part), and the
            // user's processes start in a leaf of their own beside the container's.
            let mut ancestors: Vec<&Path> = d
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(&m))
                .collect();
            ancestors.reverse();
            for a in ancestors {
                let all = fs::read_to_string(a.join("cgroup.controllers")).unwrap();
                for c in all.split_whitespace() {
                    let _ = fs::write(a.join("cgroup.subtree_control"), format!("+{c}"));
                }
            }
            let leaf = d.join("session");
            fs::create_dir(&leaf).unwrap();
            launcher = Some(leaf.join("cgroup.procs"));
        } else if m.join("cpuset.cpus").exists() {
            // v1 cpuset: a cgroup takes no process before its CPUs and nodes are set.
            let mut made: Vec<&Path> = d.ancestors().take_while(|a| *a != m).collect();
            made.reverse();
            for c in made {
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    let parent = fs::read_to_string(c.parent().unwrap().join(f)).unwrap();
                    fs::write(c.join(f), parent.trim()).unwrap();
                }
            }
        }
        for entry in walk(&d) {
            chown(&entry, Some(UID), Some(UID)).unwrap();
        }
    }
    let cgroups_path = format!("{deleg}/c");
    let bundle = podman_like_bundle(&env, &dir, "dl1", "exec sleep 1000", |cfg| {
        cfg["linux"]["cgroupsPath"] = json!(cgroups_path);
        cfg["linux"]["resources"] =
            json!({ "memory": { "limit": 67108864 }, "pids": { "limit": 50 } });
    });
    let _delete = DeleteOnDrop {
        dir: &dir,
        prefix: USERNS,
        id: "dl1",
    };
    let bundle = bundle.to_str().unwrap();
    as_user_from(
        launcher.as_deref(),
        &dir,
        USERNS,
        "someone",
        &["run", "-d", "--bundle", bundle, "dl1"],
    )
    .ok();
    // Each limit in the directory of the hierarchy that holds its controller.
    let file = |controller: &str, v1: &str, v2: &str| -> String {
        let path = common::cgroup_mounts()
            .into_iter()
            .find_map(|m| {
                let c = m.join(cgroups_path.trim_start_matches('/'));
                let v2_has = fs::read_to_string(c.join("cgroup.controllers"))
                    .is_ok_and(|cs| cs.split_whitespace().any(|x| x == controller));
                if c.join(v1).exists() && !c.join("cgroup.controllers").exists() {
                    Some(c.join(v1))
                } else {
                    v2_has.then(|| c.join(v2))
                }
            })
            .unwrap_or_else(|| panic!("no {controller} directory for {cgroups_path}"));
        fs::read_to_string(&path).unwrap().trim().to_owned()
    };
    assert_eq!(
        file("memory", "memory.limit_in_bytes", "memory.max"),
        "67108864"
    );
    assert_eq!(file("pids", "pids.max", "pids.max"), "50");
    as_user(&dir, USERNS, "someone", &["delete", "--force", "dl1"]).ok();
    assert!(!dir.join("run/berth/dl1").exists());
    for m in common::cgroup_mounts() {
        let c = m.join(cgroups_path.trim_start_matches('/'));
        assert!(!c.exists(), "{} left", c.display());
    }
}

/// `dir` and every file and directory below it.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            all.extend(walk(&e.path()));
        } else {
            all.push(e.path());
        }
    }
    all
}
