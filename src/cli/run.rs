use anyhow::Result;

use crate::cli::create::CreateFlags;
use crate::cli::GlobalOpts;
use crate::container::{self, CreateOptions, StartMode};
use crate::process::foreground;
use crate::state::Root;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: CreateFlags,

    /// Return once the container runs instead of waiting for it
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Keep the container's state (and cgroup) after it exits
    #[arg(long)]
    pub keep: bool,

    /// Do not make berth a subreaper for the container's orphans
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,

    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(mut self, g: &GlobalOpts) -> Result<i32> {
        let root = g.state_root();
        self.common.enter_bundle()?;
        let mut opts = self.common.options(g, &self.id, StartMode::Now)?;
        if self.detach {
            container::create(&root, &opts)?;
            return Ok(0);
        }
        opts.attached = true;
        foreground(&root, &opts, self.no_subreaper, self.keep)
    }
}

/// Creates the container and waits for it in the foreground, forwarding signals; returns its
/// exit status (`run` and `restore` without `--detach`).
pub fn foreground(
    root: &Root,
    opts: &CreateOptions,
    no_subreaper: bool,
    keep: bool,
) -> Result<i32> {
    if !no_subreaper {
        // SAFETY: plain integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    let sigfd = foreground::catch_signals()?;
    let created = container::create(root, opts)?;
    let waited = foreground::wait(created.pid, &sigfd, created.pty_master);
    if !keep {
        container::delete(root, opts.id, true)?;
    }
    waited
}
