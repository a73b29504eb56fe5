use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::Serialize;

use crate::cgroups::stats::Stats;
use crate::cli::GlobalOpts;
use crate::container;
use crate::state::init_alive;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one stats event and exit
    #[arg(long)]
    pub stats: bool,

    /// Time between stats events (5s, 500ms, 1m)
    #[arg(long, default_value = "5s")]
    pub interval: String,

    /// Container id
    pub id: String,
}

/// runc's event line: `{"type":"stats","id":"x","data":{…}}` or `{"type":"oom","id":"x"}`.
#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Stats>,
}

fn emit(kind: &str, id: &str, data: Option<Stats>) -> Result<()> {
    println!("{}", serde_json::to_string(&Event { kind, id, data })?);
    Ok(())
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        let interval = parse_duration(&self.interval)?;
        let (_, state, _) = container::live(&g.state_root(), &self.id)?;
        let cgroup = &state.cgroup;
        if self.stats {
            emit("stats", &self.id, Some(cgroup.stats()?))?;
            return Ok(0);
        }
        let notifier = cgroup.oom_notifier()?;
        let mut ooms = cgroup.oom_kills();
        let mut next = Instant::now();
        // Streams until the container stops, as runc does.
        while init_alive(&state) {
            let now = Instant::now();
            if now >= next {
                emit("stats", &self.id, Some(cgroup.stats()?))?;
                next = now + interval;
            }
            let wait = next
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1));
            let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
            if let Some(fd) = &notifier {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, timeout).context("poll")? > 0 {
                    let mut buf = [0u8; 4096];
                    let _ = nix::unistd::read(fd, &mut buf);
                }
            } else {
                std::thread::sleep(wait);
            }
            let now_ooms = cgroup.oom_kills();
            if now_ooms > ooms {
                emit("oom", &self.id, None)?;
                ooms = now_ooms;
            }
        }
        Ok(0)
    }
}

/// A Go-style duration: "5s", "500ms", "1m", "2h", "1.5s".
fn parse_duration(text: &str) -> Result<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let value: f64 = num
        .parse()
        .with_context(|| format!("--interval: invalid duration {text:?}"))?;
    let secs = match unit {
        "ns" => value / 1e9,
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" | "" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => bail!("--interval: invalid duration {text:?}"),
    };
    if secs <= 0.0 {
        bail!("--interval: must be positive");
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
