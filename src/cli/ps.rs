use std::process::Command;

use anyhow::{Context, Result};

use crate::cli::list::Format;
use crate::cli::GlobalOpts;
use crate::container;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format: table (ps output) or json (the array of host pids containerd reads)
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Container id
    pub id: String,

    /// Arguments for ps (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

impl Args {
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        // A stopped container lists what is left in its cgroup: often nothing (runc's way).
        let (_, state) = container::load(&g.state_root(), &self.id)?;
        let pids = state.cgroup.pids()?;
        if let Format::Json = self.format {
            println!("{}", serde_json::to_string(&pids)?);
            return Ok(0);
        }
        let args = if self.ps_args.is_empty() {
            vec!["-ef".to_owned()]
        } else {
            self.ps_args
        };
        let out = Command::new("ps").args(&args).output().context("run ps")?;
        if !out.status.success() {
            anyhow::bail!(
                "ps {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        print!(
            "{}",
            filter_table(&String::from_utf8_lossy(&out.stdout), &pids)?
        );
        Ok(0)
    }
}

/// The header and the lines whose PID column names a process of the container (runc's way).
fn filter_table(table: &str, pids: &[i32]) -> Result<String> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps output has no PID column")?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_container_lines() {
        let table = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 1 other\n";
        assert_eq!(
            filter_table(table, &[42]).unwrap(),
            "UID PID PPID CMD\nroot 42 1 sleep\n"
        );
    }
}
