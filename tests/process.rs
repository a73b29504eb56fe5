//! The attributes of the container process, observed from inside: capabilities, no_new_privs,
//! user and groups, umask, environment, cwd, PATH lookup, rlimits, oom_score_adj, sysctls,
//! personality, NUMA memory policy, scheduler, I/O priority, inherited descriptors and the session
//! keyring.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use common::{Env, Run};
use serde_json::{json, Value};

/// The value of `key:` in a /proc/<pid>/status text, whitespace folded to single spaces.
fn status_field(status: &str, key: &str) -> String {
    let prefix = format!("{key}:");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `args` itself (not under a shell) as the container process.
fn run_args(env: &Env, id: &str, args: &[&str], edit: impl FnOnce(&mut Value)) -> Run {
    let mut cfg = env.config(args);
    edit(&mut cfg);
    env.run(id, &cfg)
}

/// The container process's own /proc/self/status (`cat` is the container process).
fn own_status(env: &Env, id: &str, edit: impl FnOnce(&mut Value)) -> String {
    let out = run_args(env, id, &["cat", "/proc/self/status"], edit);
    let status = out.ok().to_owned();
    env.assert_gone(id);
    status
}

/// Fields of /proc/<pid>/stat, numbered as in proc(5) (1 is the pid).
fn stat_field(stat: &str, n: usize) -> i64 {
    let after_comm = stat.rsplit_once(')').unwrap().1;
    after_comm
        .split_whitespace()
        .nth(n - 3)
        .unwrap()
        .parse()
        .unwrap()
}

/// Whether this test process may raise limits beyond its hard limits.
fn have_cap_sys_resource() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let eff = u64::from_str_radix(&status_field(&status, "CapEff"), 16).unwrap();
    eff & (1 << 24) != 0
}

fn caps_of(status: &str) -> [String; 5] {
    ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"].map(|k| status_field(status, k))
}

fn root_caps(c: &mut Value) {
    c["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
        "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL", "CAP_CHOWN"],
        "inheritable": ["CAP_NET_BIND_SERVICE"]
    });
}

#[test]
fn capabilities_of_root() {
    let env = Env::new("caps-root");
    // CHOWN 0, KILL 5, NET_BIND_SERVICE 10, AUDIT_WRITE 29. For uid 0 the exec computes
    // pP' = bounding | inheritable and pE' = pP' (the kernel's root rule) ...
    let status = own_status(&env, "c1", |c| {
        root_caps(c);
        c["process"]["noNewPrivileges"] = json!(false);
    });
    assert_eq!(
        caps_of(&status),
        [
            "0000000020000421",
            "0000000020000421",
            "0000000020000421",
            "0000000000000400",
            "0000000000000000"
        ]
    );
    // ... but under no_new_privs the exec may not gain what was not permitted before:
    // pP' = pE' = (bounding | inheritable) & permitted.
    let status = own_status(&env, "c1b", root_caps);
    assert_eq!(
        caps_of(&status),
        [
            "0000000020000421",
            "0000000000000021",
            "0000000000000021",
            "0000000000000400",
            "0000000000000000"
        ]
    );
}

#[test]
fn capabilities_of_a_user_with_ambient() {
    let env = Env::new("caps-ambient");
    let status = own_status(&env, "c2", |c| {
        c["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        c["process"]["capabilities"] = json!({
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
            "effective": ["CAP_CHOWN", "CAP_KILL"],
            "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "inheritable": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
            // KILL is not inheritable and NET_RAW not permitted: both are left out, as runc does.
            "ambient": ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_NET_RAW"]
        });
    });
    // A non-root exec of a file without capabilities keeps only the ambient set:
    // pP' = pE' = pA = NET_BIND_SERVICE; pI and the bounding set stay as configured.
    assert_eq!(
        caps_of(&status),
        [
            "0000000000002421",
            "0000000000000400",
            "0000000000000400",
            "0000000000000401",
            "0000000000000400"
        ]
    );
    assert_eq!(status_field(&status, "Uid"), "1000 1000 1000 1000");
}

#[test]
fn no_capabilities_object_means_none_even_for_root() {
    let env = Env::new("caps-none");
    let status = own_status(&env, "c3", |c| {
        c["process"].as_object_mut().unwrap().remove("capabilities");
    });
    for v in caps_of(&status) {
        assert_eq!(v, "0000000000000000", "{status}");
    }
}

#[test]
fn effective_capabilities_beyond_permitted_fail_cleanly() {
    let env = Env::new("caps-bad");
    let mut cfg = env.config(&["true"]);
    cfg["process"]["capabilities"] = json!({
        "bounding": ["CAP_KILL", "CAP_CHOWN"],
        "effective": ["CAP_KILL", "CAP_CHOWN"],
        "permitted": ["CAP_KILL"]
    });
    let out = env.create("c4", &cfg);
    let err = out.failed();
    assert!(err.contains("capabilit"), "{err}");
    env.assert_gone("c4");
}

#[test]
fn no_new_privileges() {
    let env = Env::new("nnp");
    let on = own_status(&env, "n1", |_| {});
    assert_eq!(status_field(&on, "NoNewPrivs"), "1");
    let off = own_status(&env, "n2", |c| {
        c["process"]["noNewPrivileges"] = json!(false)
    });
    assert_eq!(status_field(&off, "NoNewPrivs"), "0");
}

#[test]
fn user_group_and_additional_gids() {
    let env = Env::new("user-ids");
    let out = env.sh("u1", "id; cat /proc/$$/status", |c| {
        c["process"]["user"] = json!({ "uid": 1000, "gid": 1000, "additionalGids": [5, 65534] });
    });
    let text = out.ok();
    let (id, status) = text.split_once('\n').unwrap();
    assert_eq!(
        id, "uid=1000(user) gid=1000(user) groups=5(tty),65534(nogroup)",
        "{out:?}"
    );
    assert_eq!(status_field(status, "Uid"), "1000 1000 1000 1000");
    assert_eq!(status_field(status, "Gid"), "1000 1000 1000 1000");
    assert_eq!(status_field(status, "Groups"), "5 65534");
    env.assert_gone("u1");
}

#[test]
fn host_supplementary_groups_do_not_leak() {
    let env = Env::new("user-groups-leak");
    let bundle = env.write_bundle("u2", &env.config(&["cat", "/proc/self/status"]));
    let mut cmd = env.berth_cmd(&["run", "--bundle", bundle.to_str().unwrap(), "u2"]);
    // berth itself runs with groups 10 and 20; the config has no additionalGids.
    // SAFETY: only a raw system call between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let groups: [libc::gid_t; 2] = [10, 20];
            if libc::syscall(libc::SYS_setgroups, 2, groups.as_ptr()) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = Run::from_output(cmd.stdin(Stdio::null()).output().unwrap());
    assert_eq!(status_field(out.ok(), "Groups"), "", "{out:?}");
    assert_eq!(status_field(out.ok(), "Gid"), "0 0 0 0");
    env.assert_gone("u2");
}

#[test]
fn umask_default_and_configured() {
    let env = Env::new("umask");
    let out = env.sh("m1", "umask; grep Umask /proc/$$/status", |_| {});
    assert_eq!(out.ok(), "0022\nUmask:\t0022\n");
    let out = env.sh("m2", "umask; grep Umask /proc/$$/status", |c| {
        c["process"]["user"]["umask"] = json!(0o077)
    });
    assert_eq!(out.ok(), "0077\nUmask:\t0077\n");
    env.assert_gone("m1");
    env.assert_gone("m2");
}

fn sorted_env(env: &Env, id: &str, edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let out = run_args(env, id, &["env"], edit);
    let mut vars: Vec<String> = out.ok().lines().map(str::to_owned).collect();
    vars.sort();
    env.assert_gone(id);
    vars
}

#[test]
fn environment_and_home() {
    let env = Env::new("env-home");
    let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    // Exactly process.env plus HOME: nothing of berth's own environment.
    assert_eq!(
        sorted_env(&env, "e1", |_| {}),
        ["HOME=/root", path, "TERM=xterm"]
    );
    assert_eq!(
        sorted_env(&env, "e2", |c| c["process"]["user"] =
            json!({ "uid": 1000, "gid": 1000 })),
        ["HOME=/home/user", path, "TERM=xterm"]
    );
    // A uid without a passwd entry gets HOME=/.
    assert_eq!(
        sorted_env(&env, "e3", |c| c["process"]["user"] =
            json!({ "uid": 4242, "gid": 4242 })),
        ["HOME=/", path, "TERM=xterm"]
    );
    // An explicit HOME is kept, and nothing is added.
    assert_eq!(
        sorted_env(&env, "e4", |c| {
            c["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
            c["process"]["env"] = json!(["HOME=/srv", "A=b=c", "EMPTY=", "PATH=/bin"]);
        }),
        ["A=b=c", "EMPTY=", "HOME=/srv", "PATH=/bin"]
    );
}

#[test]
fn duplicate_variables_keep_the_last_value() {
    let env = Env::new("env-dups");
    // As runc: the last value of each variable wins, everywhere (the program, a getenv-style
    // first-match lookup and berth's own PATH search all agree), and an empty HOME counts as
    // none at all.
    let out = run_args(&env, "d1", &["env"], |c| {
        c["process"]["env"] = json!(["A=first", "PATH=/nowhere", "HOME=", "A=second", "PATH=/bin"]);
    });
    assert_eq!(out.ok(), "A=second\nPATH=/bin\nHOME=/root\n");
    env.assert_gone("d1");
}

#[test]
fn cwd_is_the_working_directory() {
    let env = Env::new("cwd");
    let out = run_args(&env, "w1", &["pwd"], |c| {
        c["process"]["cwd"] = json!("/home/user")
    });
    assert_eq!(out.ok(), "/home/user\n");
    // Unclean but absolute paths work too.
    let out = run_args(&env, "w2", &["pwd"], |c| {
        c["process"]["cwd"] = json!("/etc/../home//user/")
    });
    assert_eq!(out.ok(), "/home/user\n");
    env.assert_gone("w1");
    env.assert_gone("w2");
}

#[test]
fn missing_cwd_is_created_but_a_file_is_refused() {
    let env = Env::new("cwd-missing");
    // As runc: a working directory the image lacks is made (in a copy: the image changes).
    let rootfs = env.copy_rootfs();
    let mut cfg = env.config(&["pwd"]);
    cfg["root"]["path"] = json!(rootfs);
    cfg["process"]["cwd"] = json!("/no/such/dir");
    assert_eq!(env.run("w3", &cfg).ok(), "/no/such/dir\n");
    assert!(rootfs.join("no/such/dir").is_dir());
    env.assert_gone("w3");

    // A file is no working directory either.
    cfg["process"]["cwd"] = json!("/etc/passwd");
    let out = env.create("w4", &cfg);
    let err = out.failed();
    assert!(
        err.contains("process.cwd") && err.contains("/etc/passwd"),
        "{err}"
    );
    env.assert_gone("w4");
}

#[test]
fn args_are_resolved_through_path() {
    let env = Env::new("path-lookup");
    let out = run_args(&env, "a1", &["hostname"], |_| {});
    assert_eq!(out.ok(), "berth\n");

    // A relative path with a slash is taken from the cwd, not looked up.
    let out = run_args(&env, "a0", &["./sh", "-c", "echo relative"], |c| {
        c["process"]["cwd"] = json!("/bin")
    });
    assert_eq!(out.ok(), "relative\n");
    env.assert_gone("a0");

    // A non-executable file of that name earlier in PATH is skipped, as execvp/LookPath do.
    let noexec = env.dir.join("noexec");
    fs::create_dir_all(&noexec).unwrap();
    fs::write(noexec.join("hostname"), "#!/bin/sh\necho wrong\n").unwrap();
    // Over /mnt, which the fixture has: a new mount point would change the shared image.
    let out = run_args(&env, "a2", &["hostname"], |c| {
        c["process"]["env"] = json!(["PATH=/mnt:/bin"]);
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/mnt", "type": "bind", "source": noexec,
            "options": ["rbind", "ro"]
        }));
    });
    assert_eq!(out.ok(), "berth\n");

    // The PATH searched is the container's, not berth's.
    let out = run_args(&env, "a3", &["hostname"], |c| {
        c["process"]["env"] = json!(["PATH=/nowhere"]);
    });
    let err = out.failed();
    assert!(err.contains("hostname") && err.contains("$PATH"), "{err}");
    env.assert_gone("a1");
    env.assert_gone("a2");
    env.assert_gone("a3");
}

#[test]
fn missing_executable_fails_at_create() {
    let env = Env::new("exec-missing");
    let out = env.create("x1", &env.config(&["no-such-program", "arg"]));
    let err = out.failed();
    assert!(
        err.contains("no-such-program") && err.contains("$PATH"),
        "{err}"
    );
    env.assert_gone("x1");

    let out = env.create("x2", &env.config(&["/bin/no-such-program"]));
    let err = out.failed();
    assert!(err.contains("/bin/no-such-program"), "{err}");
    env.assert_gone("x2");

    // A file that is there but not executable.
    let out = env.create("x3", &env.config(&["/etc/passwd"]));
    let err = out.failed();
    assert!(err.contains("/etc/passwd"), "{err}");
    env.assert_gone("x3");
}

/// Soft and hard value of one line of /proc/self/limits.
fn limit(limits: &str, name: &str) -> (String, String) {
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {limits}"));
    let rest: Vec<&str> = line[name.len()..].split_whitespace().collect();
    (rest[0].to_owned(), rest[1].to_owned())
}

#[test]
fn rlimits_nofile_and_core() {
    let env = Env::new("rlimits");
    let out = env.sh("r1", "ulimit -n; ulimit -Hn; cat /proc/$$/limits", |c| {
        c["process"]["rlimits"] = json!([
            { "type": "RLIMIT_NOFILE", "soft": 512, "hard": 768 },
            { "type": "RLIMIT_CORE", "soft": 4096, "hard": 8192 }
        ]);
    });
    let text = out.ok();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("512"), "{out:?}");
    assert_eq!(lines.next(), Some("768"), "{out:?}");
    let limits = lines.collect::<Vec<_>>().join("\n");
    assert_eq!(
        limit(&limits, "Max open files"),
        ("512".into(), "768".into())
    );
    assert_eq!(
        limit(&limits, "Max core file size"),
        ("4096".into(), "8192".into())
    );
    env.assert_gone("r1");
}

#[test]
fn rlimit_above_the_hard_limit_fails_cleanly() {
    let env = Env::new("rlimit-above");
    let mut ours = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into `ours`.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut ours) },
        0
    );
    // Without CAP_SYS_RESOURCE no hard limit can rise; above fs.nr_open none can, even with it.
    let above = if have_cap_sys_resource() {
        fs::read_to_string("/proc/sys/fs/nr_open")
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
            + 1
    } else {
        ours.rlim_max + 1
    };
    let mut cfg = env.config(&["true"]);
    cfg["process"]["rlimits"] = json!([{ "type": "RLIMIT_NOFILE", "soft": above, "hard": above }]);
    let out = env.create("r2", &cfg);
    let err = out.failed();
    assert!(err.contains("RLIMIT_NOFILE"), "{err}");
    env.assert_gone("r2");
}

#[test]
fn oom_score_adj() {
    let env = Env::new("oom");
    let out = run_args(&env, "o1", &["cat", "/proc/self/oom_score_adj"], |c| {
        c["process"]["oomScoreAdj"] = json!(500)
    });
    assert_eq!(out.ok(), "500\n");
    env.assert_gone("o1");
    // Without it, the value is inherited from berth's caller.
    let ours = fs::read_to_string("/proc/self/oom_score_adj").unwrap();
    let out = run_args(&env, "o2", &["cat", "/proc/self/oom_score_adj"], |_| {});
    assert_eq!(out.ok(), ours);
    env.assert_gone("o2");
}

#[test]
fn oom_score_adj_below_the_minimum_fails_cleanly() {
    // Only CAP_SYS_RESOURCE may go below the minimum: berth runs without it (dropped from the
    // bounding and inheritable sets, so that root's execve cannot give it back), whether this
    // host's root has it or not.
    let env = Env::new("oom-low");
    let mut cfg = env.config(&["true"]);
    cfg["process"]["oomScoreAdj"] = json!(-1000);
    let bundle = env.write_bundle("o3", &cfg);
    let berth = env.berth_cmd(&["create", "--bundle", bundle.to_str().unwrap(), "o3"]);
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--bounding-set=-sys_resource", "--inh-caps=-sys_resource"])
        .arg(berth.get_program())
        .args(berth.get_args())
        .stdin(Stdio::null());
    let out = common::capture(&mut cmd, &env.dir);
    let err = out.failed();
    assert!(err.contains("oomScoreAdj"), "{err}");
    env.assert_gone("o3");
}

#[test]
fn sysctls_in_the_containers_namespaces() {
    let env = Env::new("sysctl");
    let host_forward = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let host_shmmax = fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    let out = env.sh(
        "s1",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname",
        |c| {
            c["linux"]["sysctl"] = json!({
                "net.ipv4.ip_forward": if host_forward.trim() == "1" { "0" } else { "1" },
                "kernel.shmmax": "12345678",
                "kernel.domainname": "sysctl.example"
            });
        },
    );
    let want_forward = if host_forward.trim() == "1" { "0" } else { "1" };
    assert_eq!(
        out.ok(),
        format!("{want_forward}\n12345678\nsysctl.example\n")
    );
    // The host's values are untouched.
    assert_eq!(
        fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_forward
    );
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/shmmax").unwrap(),
        host_shmmax
    );
    env.assert_gone("s1");
}

#[test]
fn sysctl_outside_any_namespace_is_rejected() {
    let env = Env::new("sysctl-bad");
    let mut cfg = env.config(&["true"]);
    cfg["linux"]["sysctl"] = json!({ "vm.swappiness": "10" });
    let out = env.create("s2", &cfg);
    let err = out.failed();
    assert!(err.contains("vm.swappiness"), "{err}");
    env.assert_gone("s2");

    // A net.* key needs a network namespace of the container's own.
    let mut cfg = env.config(&["true"]);
    cfg["linux"]["sysctl"] = json!({ "net.ipv4.ip_forward": "1" });
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != "network");
    let out = env.create("s3", &cfg);
    let err = out.failed();
    assert!(err.contains("net.ipv4.ip_forward"), "{err}");
    env.assert_gone("s3");

    // A key that does not exist fails at create, naming it, the reason in runc's (Go's) words:
    // docker's client turns "no such file or directory" into its exit status 127.
    let mut cfg = env.config(&["true"]);
    cfg["linux"]["sysctl"] = json!({ "net.ipv4.no_such_key": "1" });
    let out = env.create("s4", &cfg);
    let err = out.failed();
    assert!(
        err.contains("open /proc/sys/net/ipv4/no_such_key: no such file or directory"),
        "{err}"
    );
    env.assert_gone("s4");
}

#[test]
fn personality_linux32() {
    let env = Env::new("personality");
    let want = match std::env::consts::ARCH {
        "x86_64" => "i686",
        "aarch64" => "armv8l",
        other => {
            common::skip(
                "personality/arch",
                &format!("no 32-bit personality name known for {other}"),
            );
            return;
        }
    };
    let out = env.sh("pe1", "uname -m; cat /proc/$$/personality", |c| {
        c["linux"]["personality"] = json!({ "domain": "LINUX32" })
    });
    assert_eq!(out.ok(), format!("{want}\n00000008\n"));
    let out = env.sh("pe2", "uname -m", |c| {
        c["linux"]["personality"] = json!({ "domain": "LINUX" })
    });
    assert_eq!(out.ok().trim(), std::env::consts::ARCH);
    env.assert_gone("pe1");
    env.assert_gone("pe2");
}

/// The task's NUMA policy as numa_maps shows it: the program's first mapping has no policy of
/// its own, so the line shows the task's ("interleave:0", "bind=static:0", "default").
fn numa_policy(numa_maps: &str) -> &str {
    numa_maps.split_whitespace().nth(1).unwrap()
}

#[test]
fn memory_policy_reaches_the_process_and_its_execs() {
    let env = Env::new("mempolicy");
    let show = ["head", "-n1", "/proc/self/numa_maps"];
    let with = |id: &str, policy: Option<Value>| {
        let out = run_args(&env, id, &show, |c| {
            if let Some(p) = policy {
                c["linux"]["memoryPolicy"] = p;
            }
        });
        let line = numa_policy(out.ok()).to_owned();
        env.assert_gone(id);
        line
    };
    assert_eq!(with("mp1", None), "default");
    let interleave = json!({ "mode": "MPOL_INTERLEAVE", "nodes": "0" });
    assert_eq!(with("mp2", Some(interleave.clone())), "interleave:0");
    let bind = json!({ "mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"] });
    assert_eq!(with("mp3", Some(bind)), "bind=static:0");
    assert_eq!(with("mp4", Some(json!({ "mode": "MPOL_LOCAL" }))), "local");

    // The policy is the container's: an exec'd process gets it too.
    let mut cfg = env.config(&["sleep", "1000"]);
    cfg["linux"]["memoryPolicy"] = interleave;
    env.create("mp5", &cfg).ok();
    let mut args = vec!["exec", "mp5"];
    args.extend(show);
    assert_eq!(numa_policy(env.berth(&args).ok()), "interleave:0");
    env.berth(&["delete", "--force", "mp5"]).ok();
    env.assert_gone("mp5");
}

#[test]
fn scheduler_policy_and_nice() {
    let env = Env::new("sched");
    let out = run_args(&env, "sc1", &["cat", "/proc/self/stat"], |c| {
        c["process"]["scheduler"] = json!({ "policy": "SCHED_BATCH", "nice": 5 })
    });
    let stat = out.ok();
    assert_eq!(stat_field(stat, 19), 5, "nice: {stat}");
    assert_eq!(stat_field(stat, 41), 3, "policy (SCHED_BATCH): {stat}");

    let out = run_args(&env, "sc2", &["cat", "/proc/self/stat"], |c| {
        c["process"]["scheduler"] = json!({ "policy": "SCHED_IDLE" })
    });
    assert_eq!(stat_field(out.ok(), 41), 5, "policy (SCHED_IDLE): {out:?}");

    let out = run_args(&env, "sc3", &["cat", "/proc/self/stat"], |_| {});
    assert_eq!(stat_field(out.ok(), 41), 0, "default SCHED_OTHER: {out:?}");
    env.assert_gone("sc1");
    env.assert_gone("sc2");
    env.assert_gone("sc3");
}

#[test]
fn scheduler_may_raise_priority_without_cap_sys_nice_in_the_container() {
    // As in runc, the scheduler is set while the init still has all its capabilities: the
    // container's own capability sets (here the base ones, without CAP_SYS_NICE) do not matter.
    let env = Env::new("sched-neg");
    let out = run_args(&env, "sc4", &["cat", "/proc/self/stat"], |c| {
        c["process"]["scheduler"] = json!({ "policy": "SCHED_OTHER", "nice": -5 })
    });
    assert_eq!(stat_field(out.ok(), 19), -5, "nice: {out:?}");
    env.assert_gone("sc4");
}

#[test]
fn io_priority() {
    let env = Env::new("ioprio");
    let out = env.sh("io1", "ionice -p $$", |c| {
        c["process"]["ioPriority"] = json!({ "class": "IOPRIO_CLASS_BE", "priority": 5 })
    });
    assert_eq!(out.ok(), "best-effort: prio 5\n");
    let out = env.sh("io2", "ionice -p $$", |c| {
        c["process"]["ioPriority"] = json!({ "class": "IOPRIO_CLASS_IDLE", "priority": 0 })
    });
    // busybox prints no level for the idle class.
    assert_eq!(out.ok(), "idle\n");
    // The realtime class needs CAP_SYS_ADMIN (or CAP_SYS_NICE), which the container lacks: it is
    // set before the capabilities are dropped, as runc does.
    let out = env.sh("io3", "ionice -p $$", |c| {
        c["process"]["ioPriority"] = json!({ "class": "IOPRIO_CLASS_RT", "priority": 3 })
    });
    assert_eq!(out.ok(), "realtime: prio 3\n");
    env.assert_gone("io3");
    env.assert_gone("io1");
    env.assert_gone("io2");
}

/// `berth run` of `script` with `files` open as descriptors 3, 4, … and `vars` set for berth
/// (`LISTEN_PID=berth` stands for berth's own pid).
fn run_with_fds(
    env: &Env,
    id: &str,
    script: &str,
    files: Vec<fs::File>,
    extra_args: &[&str],
    vars: &[(&str, &str)],
) -> Run {
    let bundle = env.write_bundle(id, &env.config(&["sh", "-c", script]));
    let mut args = vec!["run", "--bundle", bundle.to_str().unwrap()];
    args.extend_from_slice(extra_args);
    args.push(id);
    let mut cmd = env.berth_cmd(&args);
    cmd.env_remove("LISTEN_PID").env_remove("LISTEN_FDS");
    for (k, v) in vars {
        if *k == "LISTEN_PID" && *v == "berth" {
            // LISTEN_PID naming berth itself: a host shell sets it to its pid, then execs berth.
            cmd = std::process::Command::new("/bin/sh");
            cmd.arg("-c")
                .arg("LISTEN_PID=$$ exec \"$0\" \"$@\"")
                .arg(common::BERTH)
                .arg("--root")
                .arg(&env.root)
                .args(&args)
                .env_remove("LISTEN_PID");
            for (k, v) in vars.iter().filter(|(k, _)| *k != "LISTEN_PID") {
                cmd.env(k, v);
            }
            break;
        }
        cmd.env(k, v);
    }
    let raw: Vec<i32> = files.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
    // SAFETY: only fcntl/dup2/close between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Move every source out of the way first, so no dup2 target clobbers a source.
            let mut high = Vec::new();
            for fd in &raw {
                let h = libc::fcntl(*fd, libc::F_DUPFD, 100);
                if h < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push(h);
            }
            for (i, h) in high.iter().enumerate() {
                if libc::dup2(*h, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(*h);
            }
            Ok(())
        });
    }
    // The shell's `ls /proc/$$/fd` lists exactly the shell's descriptors only as long as the
    // shell adds none: no pipe (`| tr`), no redirection (ash keeps a saved copy at fd 10), and not
    // as the last command (ash execs that one: `ls` would list its own directory descriptor).
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    drop(files);
    Run::from_output(out)
}

#[test]
fn preserve_fds_passes_exactly_those_descriptors() {
    let env = Env::new("preserve-fds");
    let input = env.dir.join("in");
    let output = env.dir.join("out");
    fs::write(&input, "from the host\n").unwrap();
    let files = vec![
        fs::File::open(&input).unwrap(),
        fs::File::create(&output).unwrap(),
    ];
    let out = run_with_fds(
        &env,
        "f1",
        "ls /proc/$$/fd; cat <&3; echo to the host >&4",
        files,
        &["--preserve-fds", "2"],
        &[],
    );
    assert_eq!(out.ok(), "0\n1\n2\n3\n4\nfrom the host\n");
    assert_eq!(fs::read_to_string(&output).unwrap(), "to the host\n");
    env.assert_gone("f1");

    // Without the flag, nothing above stderr reaches the container.
    let files = vec![
        fs::File::open(&input).unwrap(),
        fs::File::open(&input).unwrap(),
    ];
    let out = run_with_fds(&env, "f2", "ls /proc/$$/fd; echo end", files, &[], &[]);
    assert_eq!(out.ok(), "0\n1\n2\nend\n");
    env.assert_gone("f2");
}

#[test]
fn listen_fds_are_passed_on() {
    let env = Env::new("listen-fds");
    let input = env.dir.join("socket-standin");
    fs::write(&input, "activated\n").unwrap();
    let files = vec![
        fs::File::open(&input).unwrap(),
        fs::File::open(&input).unwrap(),
    ];
    let out = run_with_fds(
        &env,
        "l1",
        "echo $LISTEN_FDS $LISTEN_PID; ls /proc/$$/fd; cat <&3",
        files,
        &[],
        &[("LISTEN_FDS", "1")],
    );
    // Only the one listed descriptor is passed (not the second one open in berth).
    assert_eq!(out.ok(), "1 1\n0\n1\n2\n3\nactivated\n");
    env.assert_gone("l1");

    // LISTEN_FDS meant for another process (LISTEN_PID) is not berth's to pass.
    let files = vec![fs::File::open(&input).unwrap()];
    let out = run_with_fds(
        &env,
        "l2",
        "echo \"[$LISTEN_FDS]\"; ls /proc/$$/fd; echo end",
        files,
        &[],
        &[("LISTEN_FDS", "1"), ("LISTEN_PID", "1")],
    );
    assert_eq!(out.ok(), "[]\n0\n1\n2\nend\n");
    env.assert_gone("l2");

    // LISTEN_PID naming berth itself is the same as none.
    let files = vec![fs::File::open(&input).unwrap()];
    let out = run_with_fds(
        &env,
        "l3",
        "echo $LISTEN_FDS $LISTEN_PID; ls /proc/$$/fd; cat <&3",
        files,
        &[],
        &[("LISTEN_FDS", "1"), ("LISTEN_PID", "berth")],
    );
    assert_eq!(out.ok(), "1 1\n0\n1\n2\n3\nactivated\n");
    env.assert_gone("l3");
}

#[test]
fn each_container_joins_a_session_keyring_of_its_own() {
    let env = Env::new("keyring");
    let unmask_keys = |c: &mut Value| {
        c["linux"]["maskedPaths"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p != "/proc/keys");
    };
    // Ids unique to this run: keyrings of other containers (other tests, other runs) with the
    // same name would be visible too.
    let id = &format!("keyring-{}", std::process::id());
    let id2 = &format!("no-keyring-{}", std::process::id());
    let out = env.sh(id, "cat /proc/keys", unmask_keys);
    let keys = out.ok();
    // "serial flags usage timeout perm uid gid type description: summary". Keyrings of other
    // containers owned by uid 0 are visible too (their permissions let uid 0 view them); the
    // container's own is the one named after it.
    let keyrings_named = |keys: &str, name: &str| -> usize {
        keys.lines()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 8 && f[7] == "keyring" && f[8] == format!("{name}:")
            })
            .count()
    };
    assert_eq!(keyrings_named(keys, id), 1, "{keys}");
    env.assert_gone(id);

    // With --no-new-keyring the container keeps the caller's session keyring.
    let bundle = env.write_bundle(id2, &{
        let mut c = env.config(&["cat", "/proc/keys"]);
        unmask_keys(&mut c);
        c
    });
    let out = env.berth(&[
        "run",
        "--no-new-keyring",
        "--bundle",
        bundle.to_str().unwrap(),
        id2,
    ]);
    assert_eq!(keyrings_named(out.ok(), id2), 0, "{out:?}");
    env.assert_gone(id2);
}

#[test]
fn sigterm_right_after_create_ends_the_init() {
    // The init of a pid namespace ignores signals left at their default disposition: the
    // handlers that end a created container must be in place before `create` returns.
    let env = Env::new("term-after-create");
    let cfg = env.config(&["sleep", "1000"]);
    let bundle = env.write_bundle("t", &cfg);
    for i in 0..30 {
        let id = format!("t{i}");
        // create and kill back to back, from one host shell: the race is a few microseconds wide.
        let status = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(
                "\"$0\" --root \"$1\" create --bundle \"$2\" \"$3\" </dev/null >/dev/null && \
                  exec \"$0\" --root \"$1\" kill \"$3\" TERM",
            )
            .arg(common::BERTH)
            .arg(&env.root)
            .arg(&bundle)
            .arg(&id)
            .status()
            .unwrap();
        assert!(status.success(), "create or kill of {id} failed");
        common::eventually("the created container to stop", || {
            env.status(&id) == "stopped"
        });
        env.berth(&["delete", &id]).ok();
        env.assert_gone(&id);
    }
}
