use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::GlobalOpts;
use crate::container::{self, CreateOptions, StartMode};

/// Flags shared by `create` and `run`.
#[derive(clap::Args, Debug)]
pub struct CreateFlags {
    /// Path to the bundle directory (holds config.json)
    #[arg(short = 'b', long, default_value = ".", value_name = "DIR")]
    pub bundle: PathBuf,

    /// Write the container init's pid to this file
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Unix socket that receives the pty master of a terminal container
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,

    /// Use MS_MOVE + chroot instead of pivot_root (for ramfs roots)
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,

    /// Do not create a new session keyring for the container
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,

    /// Pass N file descriptors after stdio (3 .. 3+N-1) to the container process
    #[arg(long = "preserve-fds", default_value_t = 0, value_name = "N")]
    pub preserve_fds: u32,
}

impl CreateFlags {
    /// Moves into the bundle, as runc does (its setupSpec), so that the hooks berth runs on the
    /// host start there; the paths given relative to the caller's directory are made absolute
    /// first (runc's revisePaths). Call it after taking the state root.
    pub fn enter_bundle(&mut self) -> Result<()> {
        for path in [&mut self.bundle]
            .into_iter()
            .chain(self.pid_file.as_mut())
            .chain(self.console_socket.as_mut())
        {
            *path = std::path::absolute(&*path)
                .with_context(|| format!("make {} absolute", path.display()))?;
        }
        // A bundle that cannot be entered is named by the bundle's loading, as before.
        let _ = std::env::set_current_dir(&self.bundle);
        Ok(())
    }

    pub fn options<'a>(
        &'a self,
        g: &GlobalOpts,
        id: &'a str,
        mode: StartMode,
    ) -> Result<CreateOptions<'a>> {
        Ok(CreateOptions {
            id,
            bundle: &self.bundle,
            pid_file: self.pid_file.as_deref(),
            console_socket: self.console_socket.as_deref(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
            mode,
            attached: false,
            rootless_cgroups: g.rootless_cgroups()?,
            systemd_cgroup: g.systemd_cgroup,
            restore: None,
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: CreateFlags,

    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(mut self, g: &GlobalOpts) -> Result<i32> {
        let root = g.state_root();
        self.common.enter_bundle()?;
        container::create(
            &root,
            &self.common.options(g, &self.id, StartMode::OnStart)?,
        )?;
        Ok(0)
    }
}
