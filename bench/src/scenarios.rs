//! The measurements. Every one is interleaved: each round runs every program once, the rounds
//! going through all n! orders in turn, so the machine's drift (other users, frequency, caches)
//! hits all programs alike, and each takes every position and follows every other program
//! equally often (what ran just before matters: a cgroup move right after another one skips
//! the kernel's RCU grace period).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::host::load_average;
use crate::runtime::{read_pid, wait4, Kind, Tool};
use crate::stats::Series;

pub struct Bench<'a> {
    /// berth, crun, runc (those that run here) and the floor.
    pub tools: &'a [&'a Tool],
    /// The floor with cgroup work, measured in `run` only.
    pub floor_cg: Option<&'a Tool>,
    pub rootfs: PathBuf,
    pub out: PathBuf,
    pub samples: usize,
    pub per_sample: usize,
    pub containers: usize,
    pub parallel: usize,
    pub batches: usize,
}

/// One measurement: a series per program (named in `names`) and the load average at the start
/// of each sample.
pub struct Measurement {
    pub names: Vec<&'static str>,
    pub series: Vec<Series>,
    pub loads: Vec<String>,
}

impl Measurement {
    fn new(tools: &[&Tool]) -> Self {
        Measurement {
            names: tools.iter().map(|t| t.name).collect(),
            series: vec![Series::default(); tools.len()],
            loads: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Series> {
        let i = self.names.iter().position(|n| *n == name)?;
        self.series.get(i)
    }
}

pub struct Runs {
    pub time_ms: Measurement,
    pub maxrss_kib: Measurement,
}

/// create, start, wait, delete, and their sum.
pub struct Lifecycles {
    pub total_ms: Measurement,
    pub steps_ms: [Measurement; 4],
}

pub const STEPS: [&str; 4] = ["create", "start", "wait", "delete"];

fn arg(s: impl Into<OsString>) -> OsString {
    s.into()
}

impl Bench<'_> {
    fn bundle(&self, tool: &Tool, slot: &str) -> OsString {
        self.out
            .join("bundles")
            .join(format!("{}-{slot}", tool.name))
            .into()
    }

    fn pid_file(&self, tool: &Tool, id: &str) -> PathBuf {
        self.out.join("pids").join(format!("{}-{id}", tool.name))
    }

    /// `floor run ROOTFS [CGROUP]`
    fn floor_run(&self, t: &Tool) -> Vec<OsString> {
        let mut args = vec![arg("run"), arg(&self.rootfs)];
        args.extend(t.cgroup.iter().map(arg));
        args
    }

    fn rounds(
        &self,
        tools: &[&Tool],
        mut op: impl FnMut(usize, usize, &Tool) -> Result<()>,
    ) -> Result<Vec<String>> {
        let orders = permutations(tools.len());
        let mut loads = Vec::new();
        for round in 0..self.samples * self.per_sample {
            let sample = round / self.per_sample;
            if round % self.per_sample == 0 {
                loads.push(load_average());
            }
            for &i in &orders[round % orders.len()] {
                op(i, sample, tools[i])?;
            }
        }
        Ok(loads)
    }

    /// `run` of /bin/true; the floors do their whole run.
    pub fn run(&self) -> Result<Runs> {
        let tools: Vec<&Tool> = self.tools.iter().copied().chain(self.floor_cg).collect();
        let (mut time, mut rss) = (Measurement::new(&tools), Measurement::new(&tools));
        let mut round = 0usize;
        time.loads = self.rounds(&tools, |i, sample, t| {
            round += 1;
            let args = match t.kind {
                Kind::Oci => {
                    let id = format!("{}-run-{round}", t.name);
                    vec![arg("run"), arg("--bundle"), self.bundle(t, "true"), arg(id)]
                }
                Kind::Floor => self.floor_run(t),
            };
            let obs = t.timed(&args)?;
            time.series[i].push(sample, obs.secs * 1e3);
            rss.series[i].push(sample, obs.maxrss_kib as f64);
            Ok(())
        })?;
        rss.loads = time.loads.clone();
        Ok(Runs {
            time_ms: time,
            maxrss_kib: rss,
        })
    }

    /// create (with --pid-file) + start + wait (we reap the init: we are its subreaper) + delete.
    /// The floor, which has no separate steps, does a whole run in their place.
    pub fn lifecycle(&self) -> Result<Lifecycles> {
        let mut total = Measurement::new(self.tools);
        let mut steps = [0; 4].map(|_| Measurement::new(self.tools));
        let mut round = 0usize;
        total.loads = self.rounds(self.tools, |i, sample, t| {
            round += 1;
            if t.kind == Kind::Floor {
                let obs = t.timed(&self.floor_run(t))?;
                total.series[i].push(sample, obs.secs * 1e3);
                return Ok(());
            }
            let id = format!("{}-lc-{round}", t.name);
            let t0 = Instant::now();
            let pid = self.create(t, "true", &id)?;
            let t1 = Instant::now();
            t.timed(&[arg("start"), arg(&id)])?;
            let t2 = Instant::now();
            wait4(pid)?;
            let t3 = Instant::now();
            t.timed(&[arg("delete"), arg(&id)])?;
            let t4 = Instant::now();
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
            for (k, d) in [ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4)]
                .into_iter()
                .enumerate()
            {
                steps[k].series[i].push(sample, d);
            }
            total.series[i].push(sample, ms(t0, t4));
            Ok(())
        })?;
        Ok(Lifecycles {
            total_ms: total,
            steps_ms: steps,
        })
    }

    /// `create` from bundle `slot`; returns the init's pid from the pid file.
    fn create(&self, t: &Tool, slot: &str, id: &str) -> Result<libc::pid_t> {
        let pid_file = self.pid_file(t, id);
        t.timed(&[
            arg("create"),
            arg("--bundle"),
            self.bundle(t, slot),
            arg("--pid-file"),
            arg(&pid_file),
            arg(id),
        ])?;
        let pid = read_pid(&pid_file);
        let _ = std::fs::remove_file(&pid_file);
        pid
    }

    /// Kills a container with SIGKILL, reaps its init and deletes it.
    fn stop(&self, t: &Tool, id: &str, pid: libc::pid_t) -> Result<()> {
        t.timed(&[arg("kill"), arg(id), arg("KILL")])?;
        wait4(pid)?;
        t.timed(&[arg("delete"), arg(id)])?;
        Ok(())
    }

    /// `exec` of /bin/true into a running `sleep` container of each runtime; the floor joins
    /// the namespaces of berth's (or the first runtime's) container.
    pub fn exec(&self) -> Result<Runs> {
        let mut targets = Vec::new();
        let mut result = self.exec_rounds(&mut targets);
        for (t, id, pid) in targets {
            let stopped = self.stop(t, &id, pid);
            if result.is_ok() {
                stopped?;
            }
        }
        if let Ok(r) = &mut result {
            r.maxrss_kib.loads = r.time_ms.loads.clone();
        }
        result
    }

    fn exec_rounds<'t>(
        &'t self,
        targets: &mut Vec<(&'t Tool, String, libc::pid_t)>,
    ) -> Result<Runs> {
        for t in self.tools.iter().copied().filter(|t| t.kind == Kind::Oci) {
            let id = format!("{}-exec-target", t.name);
            let pid = self.create(t, "exec", &id)?;
            targets.push((t, id.clone(), pid));
            t.timed(&[arg("start"), arg(&id)])?;
        }
        let floor_target = targets.first().map(|(_, _, pid)| pid.to_string());
        let (mut time, mut rss) = (Measurement::new(self.tools), Measurement::new(self.tools));
        time.loads = self.rounds(self.tools, |i, sample, t| {
            let args = match t.kind {
                Kind::Oci => {
                    let id = format!("{}-exec-target", t.name);
                    vec![arg("exec"), arg(id), arg("/bin/true")]
                }
                Kind::Floor => vec![arg("exec"), arg(floor_target.clone().unwrap_or_default())],
            };
            let obs = t.timed(&args)?;
            time.series[i].push(sample, obs.secs * 1e3);
            rss.series[i].push(sample, obs.maxrss_kib as f64);
            Ok(())
        })?;
        Ok(Runs {
            time_ms: time,
            maxrss_kib: rss,
        })
    }

    /// `containers` containers through create, start, kill, reap, delete, `parallel` at a time;
    /// one observation (wall seconds for the batch) per tool per batch. The floor runs
    /// `containers` floor runs the same way.
    pub fn concurrent(&self) -> Result<Measurement> {
        let orders = permutations(self.tools.len());
        let mut m = Measurement::new(self.tools);
        for batch in 0..self.batches {
            m.loads.push(load_average());
            for &i in &orders[batch % orders.len()] {
                let secs = self.batch(self.tools[i])?;
                m.series[i].push(batch, secs);
            }
        }
        Ok(m)
    }

    fn batch(&self, t: &Tool) -> Result<f64> {
        let next = AtomicUsize::new(0);
        let first_error = Mutex::new(None);
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..self.parallel {
                s.spawn(|| loop {
                    let slot = next.fetch_add(1, Ordering::Relaxed);
                    if slot >= self.containers {
                        break;
                    }
                    if let Err(e) = self.one_of_many(t, slot) {
                        first_error.lock().unwrap().get_or_insert(e);
                        // Stop handing out work; the other workers finish theirs.
                        next.store(self.containers, Ordering::Relaxed);
                    }
                });
            }
        });
        let secs = start.elapsed().as_secs_f64();
        match first_error.into_inner().unwrap() {
            Some(e) => Err(e).context(format!("{}: concurrent containers", t.name)),
            None => Ok(secs),
        }
    }

    fn one_of_many(&self, t: &Tool, slot: usize) -> Result<()> {
        if t.kind == Kind::Floor {
            t.timed(&self.floor_run(t))?;
            return Ok(());
        }
        let id = format!("{}-c{slot}", t.name);
        let pid = self.create(t, &format!("c{slot}"), &id)?;
        t.timed(&[arg("start"), arg(&id)])?;
        self.stop(t, &id, pid)
    }
}

/// All orders of 0..n, each program first equally often when taken in turn.
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for first in 0..n {
        for rest in permutations(n - 1) {
            let mut order = vec![first];
            order.extend(rest.into_iter().map(|i| if i >= first { i + 1 } else { i }));
            all.push(order);
        }
    }
    // Interleave so that consecutive rounds start with different programs: with the orders
    // grouped by their first element, a short run would favour some programs' positions.
    let k = all.len() / n.max(1);
    (0..all.len())
        .map(|j| all[(j % n) * k + j / n].clone())
        .collect()
}

/// Slot names of the bundles the measurements use: "true" (run, lifecycle), "exec" (the exec
/// target), "c<n>" (concurrent containers).
pub fn slots(containers: usize) -> Vec<(String, &'static [&'static str])> {
    let mut v = vec![
        ("true".to_owned(), crate::bundle::TRUE),
        ("exec".to_owned(), crate::bundle::SLEEP),
    ];
    v.extend((0..containers).map(|n| (format!("c{n}"), crate::bundle::SLEEP)));
    v
}

/// Runs each runtime once on its `true` bundle; returns the error of those that cannot.
pub fn preflight(tool: &Tool, out: &Path, rootfs: &Path) -> Result<()> {
    match tool.kind {
        Kind::Oci => {
            let bundle = out.join("bundles").join(format!("{}-true", tool.name));
            tool.timed(&[
                arg("run"),
                arg("--bundle"),
                arg(bundle),
                arg(format!("{}-preflight", tool.name)),
            ])?;
        }
        Kind::Floor => {
            let mut args = vec![arg("run"), arg(rootfs)];
            args.extend(tool.cgroup.iter().map(arg));
            tool.timed(&args)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::permutations;

    #[test]
    fn every_order_once_and_first_positions_rotate() {
        let p = permutations(3);
        assert_eq!(p.len(), 6);
        let mut sorted = p.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 6);
        let firsts: Vec<usize> = p.iter().map(|o| o[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
        assert!(p.iter().all(|o| {
            let mut s = o.clone();
            s.sort();
            s == [0, 1, 2]
        }));
    }
}
