//! What berth reads about a process from /proc.

use anyhow::{Context, Result};

pub struct ProcessStat {
    /// Clock ticks after boot at which the process started (stat field 22).
    pub start_time: u64,
    state: char,
}

impl ProcessStat {
    pub fn read(pid: i32) -> Result<Self> {
        let stat = procfs::process::Process::new(pid)
            .and_then(|p| p.stat())
            .with_context(|| format!("read /proc/{pid}/stat"))?;
        Ok(ProcessStat {
            start_time: stat.starttime,
            state: stat.state,
        })
    }

    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}
