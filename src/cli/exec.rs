use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{Capabilities, Capability, Process};
use serde_json::Value;

use crate::cgroups::SubCgroups;
use crate::cli::GlobalOpts;
use crate::container::{self, ExecOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A runtime-spec Process JSON file describing the process (instead of the command line)
    #[arg(short = 'p', long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    /// Working directory inside the container
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variable KEY=value (repeatable)
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// uid[:gid] to run as
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Additional group ids (repeatable)
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Add a capability (repeatable)
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    /// Set no_new_privs for the process
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// AppArmor profile for the process
    #[arg(long)]
    pub apparmor: Option<String>,
    /// SELinux label for the process
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Unix socket that receives the pty master
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,
    /// Return once the process runs
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Write the process's pid to this file
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Pass N file descriptors after stdio to the process
    #[arg(long = "preserve-fds", default_value_t = 0, value_name = "N")]
    pub preserve_fds: u32,
    /// Run in an existing sub-cgroup of the container's: PATH for every hierarchy, or
    /// CONTROLLER[,CONTROLLER]:PATH (v1), repeatable
    #[arg(long, value_name = "[CONTROLLER:]PATH")]
    pub cgroup: Vec<String>,
    /// Allow exec in a paused container
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,

    /// Container id
    pub id: String,

    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// runc's exit status when exec itself fails (as ssh's), so that a caller can tell a failure of
/// the runtime's from the process's own exit status.
const EXEC_FAILED: i32 = 255;

impl Args {
    /// The process's exit status, or 255 with the error logged. Only a command line that does not
    /// parse exits 1, as with runc.
    pub fn run(self, g: &GlobalOpts) -> Result<i32> {
        self.exec(g).or_else(|err| {
            crate::logging::fatal(&err.context("exec failed"));
            Ok(EXEC_FAILED)
        })
    }

    fn exec(self, g: &GlobalOpts) -> Result<i32> {
        if self.process_label.is_some() {
            bail!("--process-label: SELinux is not supported by berth yet");
        }
        let sub_cgroups = SubCgroups::parse(&self.cgroup)?;
        let root = g.state_root();
        let mut process = match &self.process {
            Some(path) => read_process(path)?,
            None => self.process_from_flags(&root)?,
        };
        if self.apparmor.is_some() {
            process.set_apparmor_profile(self.apparmor.clone());
        }
        let opts = ExecOptions {
            id: &self.id,
            process,
            console_socket: self.console_socket.as_deref(),
            pid_file: self.pid_file.as_deref(),
            detach: self.detach,
            preserve_fds: self.preserve_fds,
            ignore_paused: self.ignore_paused,
            sub_cgroups,
        };
        container::exec(&root, opts)
    }

    /// runc's rules: the container's process, with the command, env, cwd, user, caps, tty and
    /// no_new_privs given on the command line.
    fn process_from_flags(&self, root: &crate::state::Root) -> Result<Process> {
        if self.command.is_empty() {
            bail!("exec: no command given (give one after the container id, or --process)");
        }
        let (dir, state, _) = container::live(root, &self.id)?;
        let spec = dir.load_config(&state)?;
        let mut p = spec
            .process()
            .clone()
            .context("config.json: process missing")?;
        p.set_args(Some(self.command.clone()));
        p.set_terminal(Some(self.tty));
        p.set_console_size(None);
        let mut env = p.env().clone().unwrap_or_default();
        for kv in &self.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        p.set_env(Some(env));
        if let Some(cwd) = &self.cwd {
            p.set_cwd(cwd.clone());
        }
        if let Some(user) = &self.user {
            let (uid, gid) = match user.split_once(':') {
                Some((u, g)) => (u, Some(g)),
                None => (user.as_str(), None),
            };
            let user_spec = p.user_mut();
            user_spec.set_uid(
                uid.parse()
                    .with_context(|| format!("--user {user:?}: uid"))?,
            );
            if let Some(g) = gid {
                user_spec.set_gid(g.parse().with_context(|| format!("--user {user:?}: gid"))?);
            }
        }
        if !self.additional_gids.is_empty() {
            p.user_mut()
                .set_additional_gids(Some(self.additional_gids.clone()));
        }
        if !self.cap.is_empty() {
            let mut caps = p.capabilities().clone().unwrap_or_default();
            let add = |set: &Option<Capabilities>, extra: &[Capability]| -> Option<Capabilities> {
                let mut s = set.clone().unwrap_or_default();
                s.extend(extra.iter().copied());
                Some(s)
            };
            let extra = self
                .cap
                .iter()
                .map(|c| {
                    serde_json::from_value(serde_json::Value::from(c.as_str()))
                        .with_context(|| format!("--cap {c:?}"))
                })
                .collect::<Result<Vec<Capability>>>()?;
            caps.set_bounding(add(caps.bounding(), &extra));
            caps.set_effective(add(caps.effective(), &extra));
            caps.set_permitted(add(caps.permitted(), &extra));
            p.set_capabilities(Some(caps));
        }
        if self.no_new_privs {
            p.set_no_new_privileges(Some(true));
        }
        Ok(p)
    }
}

/// A process.json as runc reads it: Go's decoder leaves a missing (or null) `user` as uid 0 and
/// gid 0, and a missing `cwd` empty — refused later by name, as runc refuses it. Every other
/// field is optional in the schema already.
fn read_process(path: &Path) -> Result<Process> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let mut value: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    if let Some(fields) = value.as_object_mut() {
        for (key, zero) in [
            ("user", Value::Object(Default::default())),
            ("cwd", "".into()),
        ] {
            let field = fields.entry(key).or_insert(Value::Null);
            if field.is_null() {
                *field = zero;
            }
        }
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| anyhow::anyhow!("{}: {}: {}", path.display(), e.path(), e.inner()))
}
