use anyhow::{Context, Result};

use crate::cli::GlobalOpts;
use crate::state::{NotFound, OciState};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container id
    pub id: String,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        let dir = g.state_root().open(&self.id)?;
        let state = dir.load()?.ok_or_else(|| NotFound(self.id.clone()))?;
        let status = dir.status(Some(&state));
        let doc = OciState::new(&dir, &state, status);
        let text = serde_json::to_string_pretty(&doc).context("encode state")?;
        println!("{text}");
        Ok(0)
    }
}
