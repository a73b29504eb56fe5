use anyhow::Result;

use crate::cli::checkpoint::CriuFlags;
use crate::cli::create::CreateFlags;
use crate::cli::GlobalOpts;
use crate::container::{self, RestoreOptions, StartMode};
use crate::criu::Criu;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: CreateFlags,

    #[command(flatten)]
    pub criu: CriuFlags,

    /// Return once the container is restored instead of waiting for it
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Do not make berth a subreaper for the container's orphans
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,

    /// Container id (of the new container; the checkpoint may come from another)
    pub id: String,
}

impl Args {
    pub fn run(mut self, g: &GlobalOpts) -> Result<i32> {
        // Before anything is made: without a usable criu there is nothing to undo.
        let found = Criu::find()?;
        let root = g.state_root();
        self.criu.make_absolute()?;
        self.common.enter_bundle()?;
        let restore = RestoreOptions {
            criu: self.criu.options(),
            found: &found,
        };
        let mut opts = self.common.options(g, &self.id, StartMode::Now)?;
        opts.restore = Some(&restore);
        if self.detach {
            container::create(&root, &opts)?;
            return Ok(0);
        }
        crate::cli::run::foreground(&root, &opts, self.no_subreaper, false)
    }
}
