use anyhow::Result;

use crate::cli::GlobalOpts;
use crate::{container, signals};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal every process of the container, not only its init
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Container id
    pub id: String,

    /// Signal name or number
    #[arg(default_value = "TERM")]
    pub signal: String,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        let sig = signals::parse(&self.signal)?;
        container::kill(&g.state_root(), &self.id, sig, self.all)?;
        Ok(0)
    }
}
