use anyhow::Result;

use crate::cli::GlobalOpts;
use crate::container;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        container::start(&g.state_root(), &self.id)?;
        Ok(0)
    }
}
