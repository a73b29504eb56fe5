use anyhow::Result;

use crate::cli::GlobalOpts;
use crate::container;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Kill a running container first; succeed if it does not exist
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        container::delete(&g.state_root(), &self.id, self.force)?;
        Ok(0)
    }
}
