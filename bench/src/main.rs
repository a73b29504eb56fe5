//! berth-bench: berth, crun and runc side by side on one bundle, interleaved, with a
//! kernel-only floor; prints a Markdown report. No assertion anywhere: it measures.
//!
//! usage: berth-bench --berth PATH --rootfs DIR [--out DIR] [--samples N] [--per-sample N]
//!                    [--containers N] [--parallel N] [--batches N] [--runc P] [--crun P]
//!                    [--no-trace]

mod bundle;
mod host;
mod report;
mod runtime;
mod scenarios;
use berth_bench::stats;
mod timeline;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use host::Host;
use report::Report;
use runtime::{Kind, Tool};
use scenarios::Bench;

struct Opts {
    berth: PathBuf,
    rootfs: PathBuf,
    runc: String,
    crun: String,
    out: PathBuf,
    samples: usize,
    per_sample: usize,
    containers: usize,
    parallel: usize,
    batches: usize,
    trace: bool,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        berth: PathBuf::new(),
        rootfs: PathBuf::new(),
        runc: "runc".into(),
        crun: "crun".into(),
        out: "/tmp/berth-bench".into(),
        samples: 5,
        per_sample: 50,
        containers: 100,
        parallel: 8,
        batches: 3,
        trace: true,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--no-trace" {
            o.trace = false;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .with_context(|| format!("{flag} {value}"))
        };
        match flag.as_str() {
            "--berth" => o.berth = value.into(),
            "--rootfs" => o.rootfs = value.into(),
            "--runc" => o.runc = value.clone(),
            "--crun" => o.crun = value.clone(),
            "--out" => o.out = value.into(),
            "--samples" => o.samples = number()?.max(1),
            "--per-sample" => o.per_sample = number()?.max(1),
            "--containers" => o.containers = number()?,
            "--parallel" => o.parallel = number()?.max(1),
            "--batches" => o.batches = number()?,
            _ => bail!("unknown flag {flag} (see the usage at the top of bench/src/main.rs)"),
        }
    }
    if o.berth.as_os_str().is_empty() || o.rootfs.as_os_str().is_empty() {
        bail!("usage: berth-bench --berth PATH --rootfs DIR [options]");
    }
    o.berth = std::fs::canonicalize(&o.berth).context("--berth")?;
    o.rootfs = std::fs::canonicalize(&o.rootfs).context("--rootfs")?;
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("trace-lifecycle") => trace::lifecycle_child(&args[1..]),
        _ => parse(&args).and_then(|o| bench(&o)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn bench(o: &Opts) -> Result<()> {
    std::fs::create_dir_all(o.out.join("pids"))?;
    let host = Host::prepare()?;
    let floor = std::env::current_exe()?.with_file_name("floor");
    let mut tools = vec![Tool::new("berth", Kind::Oci, o.berth.clone(), &o.out)?];
    for (name, bin) in [("crun", &o.crun), ("runc", &o.runc)] {
        match host::which(bin) {
            Some(path) => tools.push(Tool::new(name, Kind::Oci, path, &o.out)?),
            None => eprintln!("berth-bench: {bin} not found: left out"),
        }
    }
    tools.push(Tool::new("floor", Kind::Floor, floor.clone(), &o.out)?);
    let mut floor_cg = Tool::new("floor-cg", Kind::Floor, floor, &o.out)?;
    floor_cg.cgroup = Some(format!("/{}/floor-cg-true", bundle::CGROUP_PARENT));
    tools.push(floor_cg);
    for left in host::clean_up(&tools) {
        eprintln!("berth-bench: removed a leftover {}", left.path.display());
    }

    let result = measure(o, &host, &tools);
    let leftovers = host::clean_up(&tools);
    host::remove_roots(&tools);
    host.finish();
    let mut report = result?;
    report.notes.extend(leftover_notes(&tools, &leftovers));
    let text = format!("{}\n{}", report.render(), report.appendix);
    let path = o.out.join("report.md");
    std::fs::write(&path, &text)?;
    println!("\n{text}");
    eprintln!("berth-bench: report written to {}", path.display());
    Ok(())
}

/// Bundles, a first run of each program (a runtime that cannot run the bundle is left out,
/// berth and the floor must), then every measurement.
fn measure(o: &Opts, host: &Host, tools: &[Tool]) -> Result<Report> {
    for t in tools {
        for (slot, args) in scenarios::slots(o.containers) {
            bundle::write(&o.out, t.name, &slot, args, &o.rootfs)?;
        }
    }
    let mut notes = Vec::new();
    let mut usable = Vec::new();
    for t in tools {
        match scenarios::preflight(t, &o.out, &o.rootfs) {
            Ok(()) => usable.push(t),
            Err(e) if t.name == "berth" || t.kind == Kind::Floor => return Err(e),
            Err(e) => {
                eprintln!(
                    "berth-bench: {} cannot run the bundle, left out: {e:#}",
                    t.name
                );
                notes.push(format!("{} left out: {e:#}", t.name));
            }
        }
    }
    run_all(o, host, &usable, notes)
}

/// What each runtime left below /berth-bench after deleting all its containers (the
/// directories are named <runtime>-<slot>).
fn leftover_notes(tools: &[Tool], left: &[host::Leftover]) -> Vec<String> {
    let mut notes = Vec::new();
    for t in tools {
        for plain in [false, true] {
            let mine: Vec<&host::Leftover> = left
                .iter()
                .filter(|l| l.plain == plain)
                .filter(|l| {
                    let name = l.path.file_name().unwrap_or_default().to_string_lossy();
                    name.starts_with(&format!("{}-", t.name))
                })
                .collect();
            let Some(first) = mine.first() else { continue };
            let what = if plain {
                "plain directories under the hidden cgroup2 mount point (it still follows the \
                 `0::` line of /proc/self/cgroup)"
            } else {
                "cgroups after deleting its containers"
            };
            notes.push(format!(
                "{} left {} {what}, e.g. {}; the benchmark removed them.",
                t.name,
                mine.len(),
                first.path.display()
            ));
        }
    }
    notes
}

fn run_all(o: &Opts, host: &Host, tools: &[&Tool], notes: Vec<String>) -> Result<Report> {
    let floor_cg = tools.iter().copied().find(|t| t.name == "floor-cg");
    let tools: Vec<&Tool> = tools
        .iter()
        .copied()
        .filter(|t| t.name != "floor-cg")
        .collect();
    let tools = &tools[..];
    let b = Bench {
        tools,
        floor_cg,
        rootfs: o.rootfs.clone(),
        out: o.out.clone(),
        samples: o.samples,
        per_sample: o.per_sample,
        containers: o.containers,
        parallel: o.parallel,
        batches: o.batches,
    };
    let load_before = host::load_average();
    let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    let rounds = o.samples * o.per_sample;
    eprintln!("berth-bench: {} — load {load_before}", names.join(", "));
    eprintln!("berth-bench: run /bin/true, {rounds} rounds");
    let run = b.run()?;
    eprintln!("berth-bench: create+start+wait+delete, {rounds} rounds");
    let lifecycle = b.lifecycle()?;
    eprintln!("berth-bench: exec /bin/true, {rounds} rounds");
    let exec = b.exec()?;
    eprintln!(
        "berth-bench: {} containers {} at a time, {} batches",
        o.containers, o.parallel, o.batches
    );
    let concurrent = b.concurrent()?;
    let load_after = host::load_average();

    let mut appendix = String::new();
    if o.trace {
        eprintln!("berth-bench: strace");
        appendix = trace::all(&o.out, tools, &o.rootfs)
            .unwrap_or_else(|e| format!("strace summaries failed: {e:#}\n"));
    }
    let mut versions = Vec::new();
    for t in tools {
        let v = match t.kind {
            Kind::Floor => continue,
            Kind::Oci => host::first_line(&t.bin.to_string_lossy(), &["--version"]),
        };
        versions.push((
            t.name.to_owned(),
            v.rsplit(' ').next().unwrap_or("?").to_owned(),
        ));
    }
    let commit = host::first_line("git", &["rev-parse", "--short", "HEAD"]);
    if let Some(v) = versions
        .iter_mut()
        .find(|(n, _)| n == "berth" && commit != "?")
    {
        v.1 = format!("{} (git {commit})", v.1);
    }
    let binaries = tools
        .iter()
        .map(|t| {
            let size = std::fs::metadata(&t.bin).map(|m| m.len()).unwrap_or(0);
            (size, host::shared_libraries(&t.bin))
        })
        .collect();
    Ok(Report {
        date: host::first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        kernel: host::kernel(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        versions,
        cgroups: host.cgroups.clone(),
        load_before,
        load_after,
        samples: o.samples,
        per_sample: o.per_sample,
        containers: o.containers,
        parallel: o.parallel,
        batches: o.batches,
        tools: names,
        run,
        lifecycle,
        exec,
        concurrent,
        binaries,
        notes,
        appendix,
    })
}
