use anyhow::Result;
use clap::ValueEnum;

use crate::cli::GlobalOpts;
use crate::state::OciState;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Print only the container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        let root = g.state_root();
        let mut dirs = Vec::new();
        for id in root.ids()? {
            let Ok(dir) = root.open(&id) else { continue };
            if let Ok(Some(state)) = dir.load() {
                dirs.push((dir, state));
            }
        }
        let states: Vec<OciState> = dirs
            .iter()
            .map(|(dir, state)| OciState::new(dir, state, dir.status(Some(state))))
            .collect();
        if self.quiet {
            for s in &states {
                println!("{}", s.id);
            }
            return Ok(0);
        }
        match self.format {
            Format::Json => println!("{}", serde_json::to_string(&states)?),
            Format::Table => print!("{}", table(&states)),
        }
        Ok(0)
    }
}

/// runc's table: columns at least 12 wide, 3 spaces of padding, the last one unpadded.
fn table(states: &[OciState]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for s in states {
        rows.push([
            s.id.to_owned(),
            s.pid.to_string(),
            s.status.to_owned(),
            s.bundle.display().to_string(),
            s.created.to_owned(),
            s.owner.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len() + 3)
                .max()
                .unwrap_or(0)
                .max(12)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (c, cell) in row.iter().enumerate() {
            match widths.get(c) {
                Some(w) => out.push_str(&format!("{cell:<w$}")),
                None => out.push_str(cell),
            }
        }
        out.push('\n');
    }
    out
}
