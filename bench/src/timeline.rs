//! `strace -f -ttt` output of one traced lifecycle → events → the durations of its phases,
//! and the longest stretches a process spent between two traced calls.

use std::collections::BTreeMap;

const MOUNT_CALLS: &[&str] = &[
    "mount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "move_mount",
    "open_tree",
    "mount_setattr",
];

/// One line of `strace -f -ttt`: pid, time, and the rest ("name(args) = ret",
/// "name(args <unfinished ...>", "<... name resumed>…", "+++ exited …", "--- SIG… ---").
pub struct Event {
    pid: u32,
    t: f64,
    text: String,
}

impl Event {
    fn name(&self) -> &str {
        if let Some(r) = self.text.strip_prefix("<... ") {
            return r.split(' ').next().unwrap_or("");
        }
        self.text.split('(').next().unwrap_or("")
    }
    fn is_exit(&self) -> bool {
        self.text.starts_with("+++")
    }
    fn unfinished(&self) -> bool {
        self.text.ends_with("<unfinished ...>")
    }
    fn ret(&self) -> Option<i64> {
        let (_, r) = self.text.rsplit_once(") = ")?;
        r.split_whitespace().next()?.parse().ok()
    }
}

pub fn parse_events(text: &str) -> Vec<Event> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let pid = it.next()?.parse().ok()?;
            let rest = it.next()?;
            // strace pads the pid column: "4557  1795… call"
            let (t, text) = if rest.is_empty() {
                let rest = it.next()?.trim_start();
                let (t, text) = rest.split_once(' ')?;
                (t, text)
            } else {
                (rest, it.next()?)
            };
            Some(Event {
                pid,
                t: t.parse().ok()?,
                text: text.to_owned(),
            })
        })
        .collect()
}

pub const PHASES: [&str; 10] = [
    "create: start-up, config, state dir (and cgroups if made before) → clone",
    "clone → container's first mount (parent: cgroups, sync)",
    "container: mounts, devices → pivot_root",
    "container: pivot_root → its last traced call before start (masked/read-only paths, attributes)",
    "create: that call → create exits (state, pid file)",
    "driver: create exited → start begins (spawn)",
    "start: begins → container execs /bin/true",
    "container: /bin/true runs and exits (namespaces torn down)",
    "delete: begins → exits",
    "total: create begins → delete exits",
];

/// Durations (ms) of PHASES from one traced lifecycle; None where a milestone is missing.
pub fn lifecycle_phases(ev: &[Event], bin: &str) -> Vec<Option<f64>> {
    let exec_of = |word: &str| {
        ev.iter().find(|e| {
            e.name() == "execve" && e.text.contains(bin) && e.text.contains(&format!("\"{word}\""))
        })
    };
    let exit_of = |pid: u32| ev.iter().find(|e| e.pid == pid && e.is_exit()).map(|e| e.t);
    let (create, start, delete) = (exec_of("create"), exec_of("start"), exec_of("delete"));
    // The container process is the one that calls pivot_root.
    let p = ev.iter().find(|e| e.name() == "pivot_root").map(|e| e.pid);
    let of_p =
        |f: &dyn Fn(&Event) -> bool| ev.iter().find(|e| Some(e.pid) == p && f(e)).map(|e| e.t);
    // The clone that returned P, timed at its call (an unfinished call resumes later).
    let mut clone = None;
    let mut pending: Vec<(u32, f64)> = Vec::new();
    for e in ev {
        if !matches!(e.name(), "clone" | "clone3" | "fork" | "vfork") {
            continue;
        }
        if e.unfinished() {
            pending.push((e.pid, e.t));
        } else if p.is_some() && e.ret() == p.map(i64::from) {
            let call = pending.iter().rev().find(|(pid, _)| *pid == e.pid);
            clone = Some(if e.text.starts_with("<...") {
                call.map_or(e.t, |c| c.1)
            } else {
                e.t
            });
            break;
        }
    }
    let first_mount = of_p(&|e| MOUNT_CALLS.contains(&e.name()));
    let pivot = of_p(&|e| e.name() == "pivot_root");
    let ready = start.and_then(|s| {
        ev.iter()
            .rev()
            .find(|e| Some(e.pid) == p && e.t < s.t)
            .map(|e| e.t)
    });
    let exec = start.and_then(|s| of_p(&|e| e.name() == "execve" && e.t > s.t));
    let (create_exit, delete_exit) = (
        create.and_then(|c| exit_of(c.pid)),
        delete.and_then(|d| exit_of(d.pid)),
    );
    let p_exit = p.and_then(exit_of);
    let d = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1e3);
    let t = |e: Option<&Event>| e.map(|e| e.t);
    vec![
        d(t(create), clone),
        d(clone, first_mount),
        d(first_mount, pivot),
        d(pivot, ready),
        d(ready, create_exit),
        d(create_exit, t(start)),
        d(t(start), exec),
        d(exec, p_exit),
        d(t(delete), delete_exit),
        d(t(create), delete_exit),
    ]
}

/// The longest stretches from the start of one traced call of a process to the start of its
/// next: that call's own time (when it was not reported unfinished, i.e. blocked), untraced
/// work (reads, writes, computation, page faults) or a wait on a pipe or socket. The driver's
/// own process (the first in the trace) is left out.
pub fn largest_gaps(ev: &[Event], n: usize) -> String {
    let driver = ev.first().map(|e| e.pid);
    let mut last: BTreeMap<u32, &Event> = BTreeMap::new();
    let mut gaps: Vec<(f64, &Event, &Event)> = Vec::new();
    for e in ev.iter().filter(|e| Some(e.pid) != driver) {
        if let Some(prev) = last.get(&e.pid) {
            if !prev.unfinished() && !prev.text.starts_with("---") {
                gaps.push(((e.t - prev.t) * 1e3, prev, e));
            }
        }
        last.insert(e.pid, e);
    }
    gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
    let short = |e: &Event| e.text.chars().take(110).collect::<String>();
    let mut s = String::new();
    for (ms, a, b) in gaps.into_iter().take(n) {
        // Many calls of the runtime's other processes meanwhile means this one was waiting.
        let others = ev
            .iter()
            .filter(|e| e.pid != a.pid && Some(e.pid) != driver && e.t > a.t && e.t < b.t)
            .count();
        s += &format!(
            "- {ms:.2} ms in pid {} ({others} traced calls of the others meanwhile): after `{}`\n  \
             before `{}`\n",
            a.pid,
            short(a),
            short(b)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shortened berth lifecycle as strace -f -ttt writes it (pid 10 is the driver).
    const TRACE: &str = r#"10    1.000000 execve("/bench", ["/bench"], 0x1 /* 3 vars */) = 0
10    1.000100 clone3({flags=CLONE_VM|CLONE_VFORK}, 88 <unfinished ...>
11    1.001000 execve("/b", ["/b", "--root", "/r", "create", "x"], 0x1 /* 3 vars */ <unfinished ...>
10    1.001100 <... clone3 resumed>) = 11
11    1.002000 clone3({flags=CLONE_NEWNS|CLONE_NEWPID, exit_signal=SIGCHLD}, 88) = 12
12    1.004000 mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) = 0
12    1.007000 pivot_root(".", ".") = 0
12    1.008000 openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
11    1.009000 exit_group(0)   = ?
11    1.009200 +++ exited with 0 +++
13    1.011000 execve("/b", ["/b", "--root", "/r", "start", "x"], 0x1 /* 3 vars */) = 0
12    1.012000 execve("/bin/true", ["/bin/true"], 0x2 /* 3 vars */) = 0
13    1.012500 +++ exited with 0 +++
12    1.013000 +++ exited with 0 +++
14    1.020000 execve("/b", ["/b", "--root", "/r", "delete", "x"], 0x1 /* 3 vars */) = 0
14    1.026000 +++ exited with 0 +++
"#;

    #[test]
    fn phases_of_a_lifecycle() {
        let ev = parse_events(TRACE);
        assert_eq!(ev.len(), 16);
        assert_eq!(ev[3].name(), "clone3");
        assert_eq!(ev[3].ret(), Some(11));
        let ms: Vec<Option<i64>> = lifecycle_phases(&ev, "/b")
            .into_iter()
            .map(|v| v.map(|v| v.round() as i64))
            .collect();
        let want = [1, 2, 3, 1, 1, 2, 1, 1, 6, 25].map(Some);
        assert_eq!(ms, want);
    }

    #[test]
    fn gaps_leave_out_the_driver_and_blocked_calls() {
        let gaps = largest_gaps(&parse_events(TRACE), 20);
        assert!(
            gaps.starts_with("- 7.00 ms in pid 11 (3 traced calls of the others"),
            "{gaps}"
        );
        assert!(gaps.contains("- 6.00 ms in pid 14 (0 traced"), "{gaps}");
        assert!(!gaps.contains("pid 10 "), "{gaps}");
        // pid 11 was inside execve (unfinished) until its next event: not a gap.
        assert!(
            !gaps.contains("after `execve(\"/b\", [\"/b\", \"--root\", \"/r\", \"create"),
            "{gaps}"
        );
    }
}
