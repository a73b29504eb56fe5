//! The container's namespaces, observed from inside: uts names, pid 1, user id maps, network,
//! ipc, cgroup and time namespaces, and namespaces joined by path.

mod common;

use std::fs;

use common::{eventually, Env};
use serde_json::{json, Value};

/// Removes the namespace of type `typ` from the config.
fn without_ns(cfg: &mut Value, typ: &str) {
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != typ);
}

/// Adds (or replaces) the namespace entry `ns` in the config.
fn with_ns(cfg: &mut Value, ns: Value) {
    without_ns(cfg, ns["type"].as_str().unwrap());
    cfg["linux"]["namespaces"].as_array_mut().unwrap().push(ns);
}

/// The host's view of one of our own namespaces, e.g. `net:[4026531840]`.
fn host_ns(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The namespace `kind` of process `pid`, as seen from the host.
fn ns_of(pid: i64, kind: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// An id map file as rows of three numbers (the kernel pads them with spaces).
fn map_rows(text: &str) -> Vec<[u64; 3]> {
    text.lines()
        .map(|l| {
            let n: Vec<u64> = l.split_whitespace().map(|w| w.parse().unwrap()).collect();
            [n[0], n[1], n[2]]
        })
        .collect()
}

/// The interface names in a /proc/net/dev text.
fn interfaces(net_dev: &str) -> Vec<String> {
    net_dev
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim().to_owned())
        .collect()
}

/// Starts a detached `sleep` container and returns its init's host pid.
fn start_sleeper(env: &Env, id: &str, edit: impl FnOnce(&mut Value)) -> i64 {
    let mut cfg = env.config(&["sleep", "1000"]);
    edit(&mut cfg);
    let bundle = env.write_bundle(id, &cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), id])
        .ok();
    let pid = env.state(id)["pid"].as_i64().unwrap();
    eventually("the sleeper to exec", || {
        fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0"))
    });
    pid
}

fn user_ns_config(cfg: &mut Value) {
    with_ns(cfg, json!({ "type": "user" }));
    cfg["linux"]["uidMappings"] = json!([
        { "containerID": 0, "hostID": 100000, "size": 1000 },
        { "containerID": 1000, "hostID": 200000, "size": 10 }
    ]);
    cfg["linux"]["gidMappings"] = json!([
        { "containerID": 0, "hostID": 300000, "size": 1000 },
        { "containerID": 1000, "hostID": 400000, "size": 10 }
    ]);
}

#[test]
fn hostname_and_domainname() {
    let env = Env::new("ns-uts");
    let out = env.sh(
        "u1",
        "hostname; uname -n; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname; \
         readlink /proc/self/ns/uts",
        |c| {
            c["hostname"] = json!("alpha.berth");
            c["domainname"] = json!("example.org");
        },
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(
        lines[..4],
        ["alpha.berth", "alpha.berth", "alpha.berth", "example.org"],
        "{out:?}"
    );
    assert_ne!(
        lines[4],
        host_ns("uts"),
        "the container shares the host's uts namespace"
    );
    // The host's names are untouched.
    assert_ne!(
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        "alpha.berth\n"
    );
    env.assert_gone("u1");
}

#[test]
fn pid_namespace_makes_the_process_pid_1() {
    let env = Env::new("ns-pid");
    let out = env.sh(
        "p1",
        "echo $$; readlink /proc/self/ns/pid; echo /proc/[0-9]*",
        |_| {},
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines[0], "1", "{out:?}");
    assert_ne!(lines[1], host_ns("pid"));
    // The shell is alone in its namespace (the glob is expanded by the shell itself).
    assert_eq!(lines[2], "/proc/1", "{out:?}");

    let out = env.sh("p2", "echo $$; readlink /proc/self/ns/pid", |c| {
        without_ns(c, "pid")
    });
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_ne!(lines[0], "1", "{out:?}");
    assert!(lines[0].parse::<u32>().unwrap() > 1, "{out:?}");
    assert_eq!(lines[1], host_ns("pid"));
    env.assert_gone("p1");
    env.assert_gone("p2");
}

#[test]
fn user_namespace_with_several_ranges() {
    let env = Env::new("ns-user");
    let out = env.sh(
        "us1",
        "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; \
         id -u; id -g; stat -c '%u:%g' /bin/busybox; readlink /proc/self/ns/user; \
         touch /tmp/x 2>/dev/null && echo writable || echo read-only",
        user_ns_config,
    );
    let text = out.ok();
    let parts: Vec<&str> = text.split("--\n").collect();
    assert_eq!(parts.len(), 3, "{out:?}");
    assert_eq!(
        map_rows(parts[0]),
        [[0, 100000, 1000], [1000, 200000, 10]],
        "{out:?}"
    );
    assert_eq!(
        map_rows(parts[1]),
        [[0, 300000, 1000], [1000, 400000, 10]],
        "{out:?}"
    );
    let rest: Vec<&str> = parts[2].lines().collect();
    assert_eq!(rest[..2], ["0", "0"], "{out:?}");
    // Host root, which owns the fixture, has no mapping: its files show as the overflow ids.
    assert_eq!(rest[2], "65534:65534", "{out:?}");
    assert_ne!(rest[3], host_ns("user"));
    assert_eq!(rest[4], "read-only", "{out:?}");
    env.assert_gone("us1");
}

#[test]
fn user_namespace_process_runs_as_a_host_id() {
    let env = Env::new("ns-user-host");
    let pid = start_sleeper(&env, "us2", |c| {
        user_ns_config(c);
        c["process"]["user"] = json!({ "uid": 1001, "gid": 1002, "additionalGids": [5, 1003] });
    });
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Container uid 1001 is host uid 200001; gid 1002 is host gid 400002; gid 5 is 300005.
    assert_eq!(line("Uid:"), "200001 200001 200001 200001");
    assert_eq!(line("Gid:"), "400002 400002 400002 400002");
    // Root wrote the maps, so setgroups stays allowed and additionalGids apply (mapped too).
    assert_eq!(line("Groups:"), "300005 400003");
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/setgroups")).unwrap(),
        "allow\n"
    );
    env.berth(&["delete", "-f", "us2"]).ok();
    env.assert_gone("us2");
}

#[test]
fn network_namespace_has_only_loopback() {
    let env = Env::new("ns-net");
    let script = "cat /proc/net/dev; readlink /proc/self/ns/net";
    let out = env.sh("n1", script, |_| {});
    let lines: Vec<&str> = out.ok().lines().collect();
    let (dev, ns) = lines.split_at(lines.len() - 1);
    assert_eq!(interfaces(&dev.join("\n")), ["lo"], "{out:?}");
    assert_ne!(ns[0], host_ns("net"));

    let out = env.sh("n2", script, |c| without_ns(c, "network"));
    let host_ifs = interfaces(&fs::read_to_string("/proc/net/dev").unwrap());
    assert!(host_ifs.len() > 1, "the host has only {host_ifs:?}");
    let lines: Vec<&str> = out.ok().lines().collect();
    let (dev, ns) = lines.split_at(lines.len() - 1);
    assert_eq!(interfaces(&dev.join("\n")), host_ifs, "{out:?}");
    assert_eq!(ns[0], host_ns("net"));
    env.assert_gone("n1");
    env.assert_gone("n2");
}

#[test]
fn loopback_is_up_in_a_new_network_namespace() {
    // As runc does for a network namespace of the container's own: lo is brought up
    // (IFF_UP|IFF_LOOPBACK = 0x9), so 127.0.0.1 answers.
    let env = Env::new("ns-net-lo");
    let out = env.sh(
        "n3",
        "cat /sys/class/net/lo/flags; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo reachable",
        |c| {
            // ping needs a raw socket.
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("CAP_NET_RAW"));
            }
        },
    );
    assert_eq!(out.ok(), "0x9\nreachable\n", "{out:?}");
    env.assert_gone("n3");
}

#[test]
fn ipc_namespace_is_new_or_the_hosts() {
    let env = Env::new("ns-ipc");
    let out = env.sh("i1", "readlink /proc/self/ns/ipc", |_| {});
    assert_ne!(out.ok().trim(), host_ns("ipc"), "{out:?}");
    let out = env.sh("i2", "readlink /proc/self/ns/ipc", |c| without_ns(c, "ipc"));
    assert_eq!(out.ok().trim(), host_ns("ipc"), "{out:?}");
    env.assert_gone("i1");
    env.assert_gone("i2");
}

#[test]
fn cgroup_namespace_roots_every_hierarchy_at_the_container() {
    let env = Env::new("ns-cgroup");
    let out = env.sh(
        "cg1",
        "cat /proc/self/cgroup; readlink /proc/self/ns/cgroup",
        |c| with_ns(c, json!({ "type": "cgroup" })),
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    let (cgroups, ns) = lines.split_at(lines.len() - 1);
    assert!(!cgroups.is_empty(), "{out:?}");
    for l in cgroups {
        assert!(l.ends_with(":/"), "{l:?} is not rooted: {out:?}");
    }
    assert_ne!(ns[0], host_ns("cgroup"));

    // Without one, the paths are the host's, ending in the container's cgroupsPath: the memory
    // hierarchy's line, or on a pure v2 host the one line there is (0::PATH).
    let out = env.sh("cg2", "cat /proc/self/cgroup", |_| {});
    let want = env.cgroup_path("cg2");
    let lines: Vec<&str> = out.ok().lines().collect();
    let memory = match lines[..] {
        [unified] if unified.starts_with("0::") => unified,
        _ => lines
            .iter()
            .find(|l| l.split(':').nth(1) == Some("memory"))
            .unwrap_or_else(|| panic!("no memory line: {out:?}")),
    };
    assert!(memory.ends_with(&format!(":{want}")), "{out:?}");
    env.assert_gone("cg1");
    env.assert_gone("cg2");
}

#[test]
fn time_namespace_applies_offsets() {
    let env = Env::new("ns-time");
    let host_uptime = || -> f64 {
        fs::read_to_string("/proc/uptime")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = host_uptime();
    let out = env.sh(
        "t1",
        "cat /proc/self/timens_offsets; cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time; \
         echo $$",
        |c| {
            with_ns(c, json!({ "type": "time" }));
            c["linux"]["timeOffsets"] = json!({
                "boottime": { "secs": 1000000, "nanosecs": 0 },
                "monotonic": { "secs": 86400, "nanosecs": 500 }
            });
        },
    );
    let after = host_uptime();
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 5, "{out:?}");
    let mut offsets: Vec<Vec<&str>> = lines[..2]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    offsets.sort();
    assert_eq!(
        offsets,
        [
            vec!["boottime", "1000000", "0"],
            vec!["monotonic", "86400", "500"]
        ],
        "{out:?}"
    );
    let inside: f64 = lines[2].parse().unwrap();
    assert!(
        inside >= before + 1_000_000.0 && inside <= after + 1_000_000.0,
        "uptime {inside} inside, host {before}..{after}"
    );
    assert_ne!(lines[3], host_ns("time"));
    // A time namespace takes a second fork (like pid): the init is still pid 1 of its own.
    assert_eq!(lines[4], "1", "{out:?}");

    // Without a time namespace the offsets are all zero.
    let out = env.sh("t2", "cat /proc/self/timens_offsets", |_| {});
    let mut zero: Vec<Vec<&str>> = out
        .ok()
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    zero.sort();
    assert_eq!(
        zero,
        [vec!["boottime", "0", "0"], vec!["monotonic", "0", "0"]],
        "{out:?}"
    );
    env.assert_gone("t1");
    env.assert_gone("t2");
}

#[test]
fn joining_uts_and_network_namespaces_by_path() {
    let env = Env::new("ns-join-uts");
    let pid = start_sleeper(&env, "first", |c| c["hostname"] = json!("first-host"));
    let out = env.sh(
        "second",
        "hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/net; cat /proc/net/dev",
        |c| {
            c.as_object_mut().unwrap().remove("hostname");
            with_ns(
                c,
                json!({ "type": "uts", "path": format!("/proc/{pid}/ns/uts") }),
            );
            with_ns(
                c,
                json!({ "type": "network", "path": format!("/proc/{pid}/ns/net") }),
            );
        },
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines[0], "first-host", "{out:?}");
    assert_eq!(lines[1], ns_of(pid, "uts"));
    assert_eq!(lines[2], ns_of(pid, "net"));
    assert_ne!(lines[2], host_ns("net"));
    assert_eq!(interfaces(&lines[3..].join("\n")), ["lo"], "{out:?}");
    env.assert_gone("second");
    // The first container is unaffected.
    assert_eq!(env.status("first"), "running");
    env.berth(&["delete", "-f", "first"]).ok();
    env.assert_gone("first");
}

#[test]
fn joining_a_pid_namespace_by_path() {
    let env = Env::new("ns-join-pid");
    let pid = start_sleeper(&env, "first", |_| {});
    let out = env.sh(
        "second",
        "echo $$; readlink /proc/self/ns/pid; tr '\\0' ' ' < /proc/1/cmdline; echo",
        |c| {
            with_ns(
                c,
                json!({ "type": "pid", "path": format!("/proc/{pid}/ns/pid") }),
            )
        },
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    // The shell is a new process in the first container's namespace, whose pid 1 is `sleep`.
    assert!(lines[0].parse::<u32>().unwrap() > 1, "{out:?}");
    assert_eq!(lines[1], ns_of(pid, "pid"));
    assert_eq!(lines[2], "sleep 1000 ", "{out:?}");
    env.assert_gone("second");
    assert_eq!(env.status("first"), "running");
    env.berth(&["delete", "-f", "first"]).ok();
    env.assert_gone("first");
}

#[test]
fn joining_a_time_namespace_by_path() {
    let env = Env::new("ns-join-time");
    let pid = start_sleeper(&env, "first", |c| {
        with_ns(c, json!({ "type": "time" }));
        c["linux"]["timeOffsets"] = json!({ "boottime": { "secs": 2000000, "nanosecs": 0 } });
    });
    let out = env.sh(
        "second",
        "readlink /proc/self/ns/time; grep boottime /proc/self/timens_offsets; echo $$",
        |c| {
            with_ns(
                c,
                json!({ "type": "time", "path": format!("/proc/{pid}/ns/time") }),
            )
        },
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines[0], ns_of(pid, "time"), "{out:?}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["boottime", "2000000", "0"],
        "{out:?}"
    );
    // Joining a time namespace also takes the second fork; the new pid namespace is its own.
    assert_eq!(lines[2], "1", "{out:?}");
    env.assert_gone("second");
    env.berth(&["delete", "-f", "first"]).ok();
    env.assert_gone("first");
}

#[test]
fn joining_a_user_namespace_by_path() {
    let env = Env::new("ns-join-user");
    let pid = start_sleeper(&env, "first", user_ns_config);
    let out = env.sh(
        "second",
        "readlink /proc/self/ns/user; id -u; echo $$; cat /proc/self/uid_map",
        |c| {
            with_ns(
                c,
                json!({ "type": "user", "path": format!("/proc/{pid}/ns/user") }),
            )
        },
    );
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], ns_of(pid, "user"), "{out:?}");
    assert_ne!(lines[0], host_ns("user"));
    assert_eq!(lines[1], "0", "{out:?}");
    // Its new pid namespace, made after joining, is its own.
    assert_eq!(lines[2], "1", "{out:?}");
    assert_eq!(
        map_rows(&lines[3..].join("\n")),
        [[0, 100000, 1000], [1000, 200000, 10]],
        "{out:?}"
    );
    env.assert_gone("second");
    env.berth(&["delete", "-f", "first"]).ok();
    env.assert_gone("first");
}

#[test]
fn joining_a_missing_namespace_path_fails_cleanly() {
    let env = Env::new("ns-join-missing");
    let out = env.sh("j1", "true", |c| {
        with_ns(
            c,
            json!({ "type": "network", "path": "/proc/999999999/ns/net" }),
        )
    });
    let err = out.failed();
    assert!(err.contains("/proc/999999999/ns/net"), "{err}");
    env.assert_gone("j1");
}

#[test]
fn joining_a_namespace_of_the_wrong_type_fails_cleanly() {
    let env = Env::new("ns-join-wrong");
    let out = env.sh("j2", "true", |c| {
        with_ns(c, json!({ "type": "network", "path": "/proc/self/ns/uts" }))
    });
    let err = out.failed();
    assert!(err.contains("network"), "{err}");
    env.assert_gone("j2");
}

#[test]
fn user_namespace_made_by_unshare_gets_its_maps() {
    // A time namespace forces the general path: the user namespace is unshared, not cloned.
    let env = Env::new("ns-user-unshare");
    let out = env.sh(
        "uu1",
        "cat /proc/self/uid_map; echo --; id -u; hostname; cat /proc/self/timens_offsets",
        |c| {
            user_ns_config(c);
            with_ns(c, json!({ "type": "time" }));
            c["linux"]["timeOffsets"] = json!({ "boottime": { "secs": 7, "nanosecs": 0 } });
        },
    );
    let text = out.ok();
    let (map, rest) = text.split_once("--\n").unwrap();
    assert_eq!(
        map_rows(map),
        [[0, 100000, 1000], [1000, 200000, 10]],
        "{out:?}"
    );
    let rest: Vec<Vec<&str>> = rest
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rest[0], ["0"], "{out:?}");
    assert_eq!(rest[1], ["berth"], "{out:?}");
    assert!(rest[2..].contains(&vec!["boottime", "7", "0"]), "{out:?}");
    env.assert_gone("uu1");
}

#[test]
fn user_and_cgroup_namespaces_together() {
    let env = Env::new("ns-user-cgroup");
    let out = env.sh(
        "uc1",
        "cat /proc/self/cgroup; echo --; ls /sys/fs/cgroup",
        |c| {
            user_ns_config(c);
            with_ns(c, json!({ "type": "cgroup" }));
        },
    );
    let (cgroups, _) = out.ok().split_once("--\n").unwrap();
    for l in cgroups.lines() {
        assert!(l.ends_with(":/"), "{l:?} is not rooted: {out:?}");
    }
    env.assert_gone("uc1");
}

#[test]
fn delete_force_of_a_container_in_a_joined_pid_namespace_kills_all_its_processes() {
    let env = Env::new("ns-join-pid-delete");
    let pid = start_sleeper(&env, "first", |_| {});
    let mut cfg = env.config(&["sh", "-c", "sleep 1001 & sleep 1002"]);
    with_ns(
        &mut cfg,
        json!({ "type": "pid", "path": format!("/proc/{pid}/ns/pid") }),
    );
    let bundle = env.write_bundle("second", &cfg);
    env.berth(&["run", "-d", "--bundle", bundle.to_str().unwrap(), "second"])
        .ok();
    let procs = env.cgroup_dirs("second")[0].join("cgroup.procs");
    let sleeps = || -> Vec<i32> {
        fs::read_to_string(&procs)
            .unwrap_or_default()
            .lines()
            .filter_map(|p| p.parse().ok())
            .filter(|p| {
                fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\x00100"))
            })
            .collect()
    };
    eventually("both sleeps to run", || sleeps().len() == 2);
    let pids = sleeps();
    // Its init is not the namespace's init: killing it alone would leave the others running.
    env.berth(&["delete", "-f", "second"]).ok();
    env.assert_gone("second");
    for p in pids {
        let stat = fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z"),
            "process {p} of the deleted container still runs: {stat}"
        );
    }
    assert_eq!(env.status("first"), "running");
    env.berth(&["delete", "-f", "first"]).ok();
    env.assert_gone("first");
}
