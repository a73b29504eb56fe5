use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::GlobalOpts;
use crate::container::{self, CheckpointOptions, CriuOptions};

/// The CRIU flags `checkpoint` and `restore` share (runc's).
#[derive(clap::Args, Debug)]
pub struct CriuFlags {
    /// Directory of the CRIU image files (default: ./checkpoint)
    #[arg(long = "image-path", value_name = "DIR")]
    pub image_path: Option<PathBuf>,

    /// Directory for CRIU's log and work files (default: the image path)
    #[arg(long = "work-path", value_name = "DIR")]
    pub work_path: Option<PathBuf>,

    /// Allow open TCP connections
    #[arg(long = "tcp-established")]
    pub tcp_established: bool,

    /// Allow external unix sockets
    #[arg(long = "ext-unix-sk")]
    pub ext_unix_sk: bool,

    /// Allow shell jobs (a terminal the container shares with its caller)
    #[arg(long = "shell-job")]
    pub shell_job: bool,

    /// Handle file locks
    #[arg(long = "file-locks")]
    pub file_locks: bool,

    /// How CRIU handles cgroups: soft, full, strict or ignore
    #[arg(long = "manage-cgroups-mode", value_name = "MODE")]
    pub manage_cgroups_mode: Option<String>,

    /// Create this namespace (network) but do not restore its contents
    #[arg(long = "empty-ns", value_name = "NS")]
    pub empty_ns: Option<String>,

    /// Deduplicate images against their parent as they are written
    #[arg(long = "auto-dedup")]
    pub auto_dedup: bool,

    /// Lazy migration of memory pages (when this CRIU supports it)
    #[arg(long = "lazy-pages")]
    pub lazy_pages: bool,
}

impl CriuFlags {
    /// Paths made absolute against the caller's directory, the image path given its default.
    pub fn make_absolute(&mut self) -> Result<()> {
        let image = self
            .image_path
            .take()
            .unwrap_or_else(|| PathBuf::from("checkpoint"));
        self.image_path = Some(std::path::absolute(&image).context("--image-path")?);
        if let Some(work) = &mut self.work_path {
            *work = std::path::absolute(&*work).context("--work-path")?;
        }
        Ok(())
    }

    pub fn options(&self) -> CriuOptions<'_> {
        CriuOptions {
            image_path: self.image_path.as_deref().unwrap_or("checkpoint".as_ref()),
            work_path: self.work_path.as_deref(),
            tcp_established: self.tcp_established,
            ext_unix_sk: self.ext_unix_sk,
            shell_job: self.shell_job,
            file_locks: self.file_locks,
            manage_cgroups_mode: self.manage_cgroups_mode.as_deref(),
            empty_ns: self.empty_ns.as_deref(),
            auto_dedup: self.auto_dedup,
            lazy_pages: self.lazy_pages,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub criu: CriuFlags,

    /// Directory of a previous (pre-)dump, relative to the image path
    #[arg(long = "parent-path", value_name = "DIR")]
    pub parent_path: Option<PathBuf>,

    /// Leave the container running after the checkpoint
    #[arg(long = "leave-running")]
    pub leave_running: bool,

    /// Only dump memory, for a later dump with --parent-path (the container keeps running)
    #[arg(long = "pre-dump")]
    pub pre_dump: bool,

    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(mut self, g: &GlobalOpts) -> Result<i32> {
        self.criu.make_absolute()?;
        container::checkpoint(
            &g.state_root(),
            &self.id,
            &CheckpointOptions {
                criu: self.criu.options(),
                parent_path: self.parent_path.as_deref(),
                leave_running: self.leave_running,
                pre_dump: self.pre_dump,
            },
        )?;
        Ok(0)
    }
}
