//! What seccomp costs a container: compiling berth's default profile (seccomp/default.json, 430
//! syscall names over three ABIs) on the host side, installing it in the container process,
//! and the filter's run on every syscall afterwards. Built into berth's unit tests (berth has no
//! library to link a bench binary against) and run by `make bench-seccomp`; it prints numbers
//! and asserts nothing about them.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::{compile, install, Filter};

const PROFILE: &str = include_str!("../seccomp/default.json");

#[test]
#[ignore = "a benchmark: make bench-seccomp"]
fn seccomp_costs() {
    let profile = serde_json::from_str(PROFILE).unwrap();
    let filter = compile(&profile).unwrap();
    let compiles: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(compile(&profile).unwrap());
            start.elapsed()
        })
        .collect();
    println!("default profile: {} BPF instructions", filter.program.len());
    report("compile", compiles);
    let [installs, unfiltered, filtered] = in_child(&filter);
    report("install", installs);
    report("getppid without the filter", unfiltered);
    report("getppid with the filter", filtered);
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{what:28} median {:8.3} µs   min {:8.3} µs   p90 {:8.3} µs   ({} runs)",
        micros(samples[samples.len() / 2]),
        micros(samples[0]),
        micros(samples[samples.len() * 9 / 10]),
        samples.len()
    );
}

const INSTALLS: usize = 20;
const BATCHES: usize = 50;
const BATCH: u32 = 1000;

/// The time of one getppid(), from a batch of them (the clock costs as much as the call).
fn getppid_batch() -> Duration {
    let start = Instant::now();
    for _ in 0..BATCH {
        // SAFETY: no arguments.
        unsafe { libc::getppid() };
    }
    start.elapsed() / BATCH
}

fn timed_install(filter: &Filter) -> Duration {
    let start = Instant::now();
    install(filter).unwrap();
    start.elapsed()
}

/// Installing is one-way: it is timed in a forked child, which sends its samples back.
fn in_child(filter: &Filter) -> [Vec<Duration>; 3] {
    let (mut ours, mut theirs) = UnixStream::pair().unwrap();
    // SAFETY: the child only makes syscalls, reads the clock and writes to a socket, then
    // leaves with _exit.
    match unsafe { libc::fork() } {
        0 => {
            let unfiltered: Vec<Duration> = (0..BATCHES).map(|_| getppid_batch()).collect();
            // SAFETY: plain integer arguments.
            unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
            let mut installs = vec![timed_install(filter)];
            let filtered: Vec<Duration> = (0..BATCHES).map(|_| getppid_batch()).collect();
            installs.extend((1..INSTALLS).map(|_| timed_install(filter)));
            for d in [installs, unfiltered, filtered].iter().flatten() {
                theirs.write_all(&d.as_nanos().to_le_bytes()).unwrap();
            }
            // SAFETY: leave without running the test harness's exit path.
            unsafe { libc::_exit(0) }
        }
        pid => {
            drop(theirs);
            let mut bytes = Vec::new();
            ours.read_to_end(&mut bytes).unwrap();
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            let all: Vec<Duration> = bytes
                .chunks(16)
                .map(|c| Duration::from_nanos(u128::from_le_bytes(c.try_into().unwrap()) as u64))
                .collect();
            let (installs, rest) = all.split_at(INSTALLS);
            let (unfiltered, filtered) = rest.split_at(BATCHES);
            [installs.to_vec(), unfiltered.to_vec(), filtered.to_vec()]
        }
    }
}
