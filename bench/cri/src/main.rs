//! berth-cri-bench: a pod's life through containerd's CRI plugin — RunPodSandbox, a container
//! created and started (running), then kubelet's deletion (StopContainer, StopPodSandbox,
//! RemovePodSandbox) — with berth, runc and crun as runtime handlers of one containerd,
//! interleaved; prints a Markdown table with berth's ratio to each. Runs under
//! integration/cri/with-containerd (make bench-cri); every pod is checked to leave nothing.
//!
//! usage: berth-cri-bench [--pods N] [--handlers berth,runc,crun]

use anyhow::{bail, Context, Result};
use berth_bench::stats::Series;
use berth_cri_tests::Harness;
use std::time::{Duration, Instant};

const STEPS: [&str; 6] = [
    "RunPodSandbox",
    "CreateContainer + StartContainer",
    "StopContainer (exits on TERM)",
    "StopPodSandbox",
    "RemovePodSandbox",
    "whole pod",
];

/// One pod's steps, in ms.
async fn one_pod(h: &Harness) -> Result<[f64; 6]> {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut pod = h.pod("bench").run().await?;
    let started = Instant::now();
    // Exits on TERM at once, as a well-behaved workload does.
    pod.start(
        h.busybox("app")
            .shell("trap 'exit 0' TERM; sleep 1000 & wait"),
    )
    .await?;
    let start = started.elapsed();
    let run = pod.run_time;
    let r = pod.remove(30).await?;
    let whole = run + start + r.stop_containers + r.stop_pod + r.remove_pod;
    Ok([
        ms(run),
        ms(start),
        ms(r.stop_containers),
        ms(r.stop_pod),
        ms(r.remove_pod),
        ms(whole),
    ])
}

fn parse() -> Result<(usize, Vec<String>)> {
    let mut pods = 20;
    let mut handlers = vec!["berth".to_string(), "runc".into(), "crun".into()];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pods" => pods = value.parse().context("--pods")?,
            "--handlers" => handlers = value.split(',').map(str::to_string).collect(),
            _ => bail!("unknown flag {flag}"),
        }
    }
    if handlers.first().map(String::as_str) != Some("berth") {
        bail!("--handlers must start with berth (the others are compared with it)");
    }
    Ok((pods, handlers))
}

#[tokio::main]
async fn main() -> Result<()> {
    let (pods, handlers) = parse()?;
    let mut harnesses = vec![];
    for handler in &handlers {
        harnesses.push(Harness::connect(handler).await?);
    }
    // A warm-up pod each (image snapshots, the shim binary in the page cache), not counted.
    for h in &harnesses {
        one_pod(h)
            .await
            .with_context(|| format!("warm-up pod on {}", h.handler))?;
    }
    let mut series: Vec<[Series; 6]> = handlers.iter().map(|_| Default::default()).collect();
    let load_before = load_average();
    for round in 0..pods {
        // Each round starts with the next handler, so that none always follows the same one.
        for i in 0..harnesses.len() {
            let which = (round + i) % harnesses.len();
            let h = &harnesses[which];
            let steps = one_pod(h)
                .await
                .with_context(|| format!("pod {round} on {}", h.handler))?;
            for (step, value) in series[which].iter_mut().zip(steps) {
                step.push(0, value);
            }
        }
    }
    println!(
        "{pods} pods per handler, interleaved; medians in ms (p90 in parentheses); \
         load average {load_before} before, {} after\n",
        load_average()
    );
    let mut header = String::from("| step |");
    let mut rule = String::from("|---|");
    for handler in &handlers {
        header += &format!(" {handler} |");
        rule += "---|";
    }
    for other in &handlers[1..] {
        header += &format!(" berth/{other} |");
        rule += "---|";
    }
    println!("{header}\n{rule}");
    for (i, step) in STEPS.iter().enumerate() {
        let stats: Vec<_> = series
            .iter()
            .map(|s| s[i].stats().expect("samples"))
            .collect();
        let mut row = format!("| {step} |");
        for s in &stats {
            row += &format!(" {:.0} ({:.0}) |", s.median, s.p90);
        }
        for s in &stats[1..] {
            row += &format!(" {:.2}× |", stats[0].median / s.median);
        }
        println!("{row}");
    }
    Ok(())
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
