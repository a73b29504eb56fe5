use anyhow::Result;

use crate::cli::GlobalOpts;
use crate::container;

/// Freezes (`pause`) or thaws (`resume`) every process of the container.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container id
    pub id: String,
}

impl Args {
    pub fn pause(self, g: &GlobalOpts) -> Result<i32> {
        container::pause(&g.state_root(), &self.id)?;
        Ok(0)
    }

    pub fn resume(self, g: &GlobalOpts) -> Result<i32> {
        container::resume(&g.state_root(), &self.id)?;
        Ok(0)
    }
}
