//! The Markdown report: one table (what | berth | crun | runc | berth/crun | berth/runc |
//! floor), the lifecycle's steps, the libraries, and the per-sample medians that show noise.

use std::fmt::Write;

use crate::scenarios::{Lifecycles, Measurement, Runs, STEPS};
use crate::stats::{Series, Stats};

/// Column order of the table; the floor comes last, after the ratios.
pub const COLUMNS: [&str; 3] = ["berth", "crun", "runc"];

pub struct Report {
    pub date: String,
    pub kernel: String,
    pub cpus: usize,
    pub versions: Vec<(String, String)>,
    pub cgroups: String,
    pub load_before: String,
    pub load_after: String,
    pub samples: usize,
    pub per_sample: usize,
    pub containers: usize,
    pub parallel: usize,
    pub batches: usize,
    /// Tool names in the order of the measurements' series.
    pub tools: Vec<&'static str>,
    pub run: Runs,
    pub lifecycle: Lifecycles,
    pub exec: Runs,
    pub concurrent: Measurement,
    /// Per tool: binary size in bytes and `ldd` libraries.
    pub binaries: Vec<(u64, Vec<String>)>,
    pub notes: Vec<String>,
    /// strace summaries, printed after the report (not part of the table to paste).
    pub appendix: String,
}

type Fmt = fn(&Stats) -> String;

fn ms(s: &Stats) -> String {
    let f = |v: f64| {
        if v < 10.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.1}")
        }
    };
    format!("{} ({}–{})", f(s.median), f(s.min), f(s.p90))
}

fn secs(s: &Stats) -> String {
    format!("{:.2} s ({:.2}–{:.2})", s.median, s.min, s.p90)
}

fn mib(s: &Stats) -> String {
    let m = |kib: f64| kib / 1024.0;
    format!("{:.1} MiB ({:.1}–{:.1})", m(s.median), m(s.min), m(s.p90))
}

impl Report {
    fn index(&self, name: &str) -> Option<usize> {
        self.tools.iter().position(|t| *t == name)
    }

    /// berth | crun | runc | berth/crun | berth/runc | floor cells from per-program values
    /// (the floor's cell also gives berth/floor).
    fn cells(&self, get: impl Fn(&str) -> Option<(f64, String)>) -> String {
        let mut row = String::new();
        for name in COLUMNS {
            let cell = get(name).map_or("n/a".to_owned(), |(_, s)| s);
            write!(row, " {cell} |").unwrap();
        }
        let berth = get("berth").map(|(v, _)| v);
        for other in ["crun", "runc"] {
            let ratio = match (berth, get(other).map(|(v, _)| v)) {
                (Some(b), Some(o)) if o > 0.0 => format!("{:.2}×", b / o),
                _ => "—".into(),
            };
            write!(row, " {ratio} |").unwrap();
        }
        let floor = match (get("floor"), berth) {
            (Some((f, s)), Some(b)) if f > 0.0 => format!("{s}; berth {:.1}×", b / f),
            (Some((_, s)), _) => s,
            (None, _) => "—".to_owned(),
        };
        write!(row, " {floor} |").unwrap();
        row
    }

    fn stats_row(&self, out: &mut String, what: &str, m: &Measurement, fmt: Fmt) {
        let cells = self.cells(|name| m.get(name)?.stats().map(|s| (s.median, fmt(&s))));
        writeln!(out, "| {what} |{cells}").unwrap();
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        writeln!(
            o,
            "Measured {} on Linux {}, {} CPUs.  ",
            self.date, self.kernel, self.cpus
        )
        .unwrap();
        writeln!(o, "{}.  ", versions.join(", ")).unwrap();
        writeln!(
            o,
            "Load average (1/5/15 min): {} before, {} after.  ",
            self.load_before, self.load_after
        )
        .unwrap();
        writeln!(o, "cgroups: {}.", self.cgroups).unwrap();
        writeln!(o).unwrap();
        writeln!(
            o,
            "Cells: median (min–p90) over {}×{} interleaved runs per program; same bundle \
             (busybox, `runc spec` defaults, read-only root) for all.",
            self.samples, self.per_sample
        )
        .unwrap();
        writeln!(o).unwrap();
        writeln!(
            o,
            "| what | berth | crun | runc | berth/crun | berth/runc | floor |"
        )
        .unwrap();
        writeln!(o, "|---|---|---|---|---|---|---|").unwrap();
        self.stats_row(&mut o, "`run` /bin/true, ms", &self.run.time_ms, ms);
        self.stats_row(
            &mut o,
            "create+start+wait+delete, ms",
            &self.lifecycle.total_ms,
            ms,
        );
        self.stats_row(&mut o, "`exec` /bin/true, ms", &self.exec.time_ms, ms);
        let what = format!(
            "{} containers create/start/kill/delete, {} at a time",
            self.containers, self.parallel
        );
        self.stats_row(&mut o, &what, &self.concurrent, secs);
        self.stats_row(&mut o, "peak RSS, `run`", &self.run.maxrss_kib, mib);
        self.stats_row(&mut o, "peak RSS, `exec`", &self.exec.maxrss_kib, mib);
        // Size and libraries of the floor say nothing about a runtime: no floor cell.
        let size = self.cells(|name| {
            let b = self.binaries[self.index(name).filter(|_| name != "floor")?].0 as f64;
            Some((b, format!("{:.2} MiB", b / 1048576.0)))
        });
        writeln!(o, "| binary size |{size}").unwrap();
        let libs = self.cells(|name| {
            let n = self.binaries[self.index(name).filter(|_| name != "floor")?]
                .1
                .len();
            Some((n as f64, n.to_string()))
        });
        writeln!(o, "| shared libraries (ldd, without the loader) |{libs}").unwrap();
        writeln!(o).unwrap();
        if let Some(cg) = self.run.time_ms.get("floor-cg").and_then(Series::stats) {
            let berth = self.run.time_ms.get("berth").and_then(Series::stats);
            let ratio = berth.map_or(String::new(), |b| {
                format!("; berth {:.1}× that", b.median / cg.median)
            });
            writeln!(
                o,
                "Floor with cgroups (the floor plus what every runtime does with cgroups: mkdir, \
                 move the child in, rmdir, in each hierarchy): `run` {} ms{ratio}.",
                ms(&cg)
            )
            .unwrap();
            writeln!(o).unwrap();
        }
        writeln!(
            o,
            "Floor: clone into the same namespaces, the same mounts, pivot_root, exec /bin/true \
             (joining the namespaces and exec for `exec`); no cgroup, no state (for the \
             lifecycle and concurrent rows the floor does a whole run). Peak RSS is wait4's \
             ru_maxrss of the runtime process: the largest of it and the processes it reaped \
             itself (the container process, before and after its execve)."
        )
        .unwrap();
        writeln!(o).unwrap();

        writeln!(o, "Lifecycle steps, ms, median (min–p90):").unwrap();
        writeln!(o).unwrap();
        writeln!(o, "| step | berth | crun | runc |").unwrap();
        writeln!(o, "|---|---|---|---|").unwrap();
        for (k, step) in STEPS.iter().enumerate() {
            let mut row = format!("| {step} |");
            for name in COLUMNS {
                let cell = self.lifecycle.steps_ms[k]
                    .get(name)
                    .and_then(Series::stats)
                    .map_or("n/a".to_owned(), |s| ms(&s));
                write!(row, " {cell} |").unwrap();
            }
            writeln!(o, "{row}").unwrap();
        }
        writeln!(o).unwrap();
        writeln!(o, "Shared libraries:").unwrap();
        writeln!(o).unwrap();
        for (i, name) in self.tools.iter().enumerate() {
            let libs = &self.binaries[i].1;
            let libs = if libs.is_empty() {
                "none (static)".to_owned()
            } else {
                libs.join(", ")
            };
            writeln!(o, "- {name}: {libs}").unwrap();
        }
        for n in &self.notes {
            writeln!(o, "\n{n}").unwrap();
        }
        writeln!(o).unwrap();
        self.noise(&mut o);
        o
    }

    /// The median of every sample and the load at its start: drift and noise in plain sight.
    fn noise(&self, o: &mut String) {
        writeln!(
            o,
            "Per-sample medians (one sample = {} interleaved rounds; concurrent: {} batches of \
             one observation), with the 1-minute load average at the start of each:",
            self.per_sample, self.batches
        )
        .unwrap();
        writeln!(o).unwrap();
        writeln!(o, "```").unwrap();
        let sets: [(&str, &Measurement); 4] = [
            ("run, ms", &self.run.time_ms),
            ("lifecycle, ms", &self.lifecycle.total_ms),
            ("exec, ms", &self.exec.time_ms),
            ("concurrent, s", &self.concurrent),
        ];
        for (what, m) in sets {
            let loads: Vec<&str> = m
                .loads
                .iter()
                .map(|l| l.split_whitespace().next().unwrap_or("?"))
                .collect();
            writeln!(o, "{what:<16} load {}", loads.join(" ")).unwrap();
            for (name, series) in m.names.iter().zip(&m.series) {
                let meds: Vec<String> = series
                    .sample_medians()
                    .iter()
                    .map(|v| format!("{v:7.2}"))
                    .collect();
                writeln!(o, "  {name:<8} {}", meds.join(" ")).unwrap();
            }
        }
        writeln!(o, "```").unwrap();
    }
}
