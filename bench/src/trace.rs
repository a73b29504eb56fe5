//! strace views of one `run` (syscall counts, berth against crun and the floor) and of one
//! lifecycle (timestamps of the steps), written under the output directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::runtime::{read_pid, wait4, Kind, Tool};
use crate::timeline::{largest_gaps, lifecycle_phases, parse_events, Event, PHASES};

/// `berth-bench trace-lifecycle BIN ROOT BUNDLE ID PIDFILE`: one create, start, wait (as the
/// subreaper), delete, untimed; run under `strace -f` by `lifecycle_breakdown`.
pub fn lifecycle_child(args: &[String]) -> Result<()> {
    let [bin, root, bundle, id, pid_file] = args else {
        bail!("usage: berth-bench trace-lifecycle BIN ROOT BUNDLE ID PIDFILE");
    };
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let step = |args: &[&str]| -> Result<()> {
        let st = Command::new(bin)
            .arg("--root")
            .arg(root)
            .args(args)
            .status()?;
        if !st.success() {
            bail!("{bin} {}: {st}", args.join(" "));
        }
        Ok(())
    };
    step(&["create", "--bundle", bundle, "--pid-file", pid_file, id])?;
    let pid = read_pid(Path::new(pid_file))?;
    step(&["start", id])?;
    wait4(pid)?;
    step(&["delete", id])
}

/// Syscalls traced for the lifecycle breakdown: few enough that strace (with seccomp-bpf)
/// stops only on them, enough to see processes, cgroup directories, files and mounts.
const TRACED: &str = "%process,mount,umount2,pivot_root,fsopen,fsconfig,fsmount,move_mount,\
                      open_tree,mount_setattr,mkdir,mkdirat,rmdir,unlinkat,openat,openat2,\
                      setns,unshare";
/// Writes out/strace-counts.md and out/lifecycle-breakdown.md; returns both, shortened, for
/// the console.
pub fn all(out: &Path, tools: &[&Tool], rootfs: &Path) -> Result<String> {
    if crate::host::which("strace").is_none() {
        bail!("strace is not installed");
    }
    let find = |name: &str| tools.iter().copied().find(|t| t.name == name);
    let mut counted = Vec::new();
    for t in ["berth", "crun", "floor"].into_iter().filter_map(find) {
        let file = out.join(format!("strace-c-{}.txt", t.name));
        let args = match t.kind {
            Kind::Oci => vec![
                OsString::from("run"),
                "--bundle".into(),
                out.join("bundles").join(format!("{}-true", t.name)).into(),
                format!("{}-strace", t.name).into(),
            ],
            Kind::Floor => vec!["run".into(), rootfs.into()],
        };
        strace(t, &["-f", "-c", "-o"], &file, &args)?;
        counted.push((t.name, parse_counts(&fs::read_to_string(&file)?)));
    }
    let counts = render_counts(&counted);
    fs::write(out.join("strace-counts.md"), &counts.0)?;

    // Several traced lifecycles per runtime, and the median of each phase: one trace on a busy
    // machine is mostly noise.
    let mut phases = Vec::new();
    let mut gaps = String::new();
    for t in ["berth", "crun"].into_iter().filter_map(find) {
        let mut runs: Vec<(Vec<Option<f64>>, Vec<Event>)> = Vec::new();
        for k in 0..TRACE_RUNS {
            let events = trace_lifecycle(t, out, k)?;
            runs.push((lifecycle_phases(&events, &t.bin.to_string_lossy()), events));
        }
        let median = |k: usize| {
            let v: Vec<f64> = runs.iter().filter_map(|r| r.0[k]).collect();
            crate::stats::Stats::of(&v).map(|s| s.median)
        };
        phases.push((t.name, (0..PHASES.len()).map(median).collect()));
        if t.name == "berth" {
            // The gaps of the run whose total is the median one.
            runs.sort_by(|a, b| {
                a.0[PHASES.len() - 1]
                    .unwrap_or(0.0)
                    .total_cmp(&b.0[PHASES.len() - 1].unwrap_or(0.0))
            });
            gaps = largest_gaps(&runs[runs.len() / 2].1, 8);
        }
    }
    let breakdown = render_phases(&phases, &gaps, out);
    fs::write(out.join("lifecycle-breakdown.md"), &breakdown)?;
    Ok(format!(
        "## strace -c -f of one `run` (calls; full table in {}/strace-counts.md)\n\n{}\n{}",
        out.display(),
        counts.1,
        breakdown
    ))
}

const TRACE_RUNS: usize = 5;

/// One create/start/wait/delete of `t` under strace (out/lifecycle-<name>-<k>.strace).
fn trace_lifecycle(t: &Tool, out: &Path, k: usize) -> Result<Vec<Event>> {
    let file = out.join(format!("lifecycle-{}-{k}.strace", t.name));
    let pid_file = out.join("pids").join(format!("{}-strace", t.name));
    let args: Vec<OsString> = vec![
        "trace-lifecycle".into(),
        t.bin.clone().into(),
        t.root.clone().into(),
        out.join("bundles").join(format!("{}-true", t.name)).into(),
        format!("{}-trace-{k}", t.name).into(),
        pid_file.into(),
    ];
    let flags = ["-f", "-ttt", "--seccomp-bpf", "-e", TRACED, "-o"];
    strace_program(&std::env::current_exe()?, &flags, &file, &args)?;
    Ok(parse_events(&fs::read_to_string(&file)?))
}

fn strace(t: &Tool, flags: &[&str], file: &Path, args: &[OsString]) -> Result<()> {
    let mut full: Vec<OsString> = Vec::new();
    if t.kind == Kind::Oci {
        full.push("--root".into());
        full.push(t.root.clone().into());
    }
    full.extend(args.iter().cloned());
    strace_program(&t.bin, flags, file, &full)
}

fn strace_program(bin: &Path, flags: &[&str], file: &Path, args: &[OsString]) -> Result<()> {
    let st = Command::new("strace")
        .args(flags)
        .arg(file)
        .arg("--")
        .arg(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("running strace")?;
    if !st.success() {
        bail!("strace {}: {st}", bin.display());
    }
    Ok(())
}

/// syscall → (calls, errors)
type Counts = BTreeMap<String, (u64, u64)>;

/// The counts of `strace -c` output.
fn parse_counts(text: &str) -> Counts {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if !(5..=6).contains(&f.len()) || f[0].parse::<f64>().is_err() || f[f.len() - 1] == "total"
        {
            continue;
        }
        let calls = f[3].parse().unwrap_or(0);
        let errors = if f.len() == 6 {
            f[4].parse().unwrap_or(0)
        } else {
            0
        };
        m.insert(f[f.len() - 1].to_owned(), (calls, errors));
    }
    m
}

/// (full table, short table: totals and the 15 syscalls berth makes most).
fn render_counts(counted: &[(&str, Counts)]) -> (String, String) {
    let mut names: Vec<&String> = counted.iter().flat_map(|(_, m)| m.keys()).collect();
    names.sort();
    names.dedup();
    let calls = |i: usize, n: &str| counted[i].1.get(n).map_or(0, |c| c.0);
    // Most calls by berth (the first column) first.
    names.sort_by_key(|n| std::cmp::Reverse(calls(0, n)));
    let header = {
        let cols: Vec<&str> = counted.iter().map(|(n, _)| *n).collect();
        format!(
            "| syscall | {} |\n|---|{}\n",
            cols.join(" | "),
            "---|".repeat(cols.len())
        )
    };
    let row = |n: &str| {
        let cells: Vec<String> = (0..counted.len())
            .map(|i| calls(i, n).to_string())
            .collect();
        format!("| {n} | {} |\n", cells.join(" | "))
    };
    let totals = {
        let cells: Vec<String> = counted
            .iter()
            .map(|(_, m)| {
                let (c, e) = m.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
                format!("**{c}** ({e} failed)")
            })
            .collect();
        format!("| **total** | {} |\n", cells.join(" | "))
    };
    let mut full = header.clone() + &totals;
    let mut short = header + &totals;
    for (k, n) in names.iter().enumerate() {
        full += &row(n);
        if k < 15 {
            short += &row(n);
        }
    }
    (full, short)
}

fn render_phases(phases: &[(&str, Vec<Option<f64>>)], gaps: &str, out: &Path) -> String {
    let cols: Vec<&str> = phases.iter().map(|(n, _)| *n).collect();
    let mut s = format!(
        "## One lifecycle step by step\n\nMedian of {TRACE_RUNS} lifecycles (ms) under `strace -f -ttt \
         --seccomp-bpf`, tracing process, mount, cgroup-directory and open calls only; strace \
         slows every traced call, so absolute numbers are high. Traces: {}/lifecycle-*.strace.\n\n",
        out.display()
    );
    s += &format!(
        "| phase | {} |\n|---|{}\n",
        cols.join(" | "),
        "---|".repeat(cols.len())
    );
    for (k, name) in PHASES.iter().enumerate() {
        let cells: Vec<String> = phases
            .iter()
            .map(|(_, v)| v[k].map_or("—".into(), |ms| format!("{ms:.2}")))
            .collect();
        s += &format!("| {name} | {} |\n", cells.join(" | "));
    }
    if !gaps.is_empty() {
        s += "\nLongest stretches in berth's processes from the start of one traced call to the \
              start of the next (that call's own time, untraced work, or a wait on a pipe or \
              socket):\n\n";
        s += gaps;
    }
    s
}
