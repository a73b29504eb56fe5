//! A container config as kubelet sends it, and a started container as the host sees it.

use crate::host::Process;
use k8s_cri::v1 as cri;

/// A container of a pod: kubelet's ContainerConfig, the pod's namespace options copied in when
/// the pod starts it (as kubelet does) unless set here.
pub struct ContainerBuilder {
    pub(crate) config: cri::ContainerConfig,
}

impl ContainerBuilder {
    pub fn new(name: &str, image: &str) -> ContainerBuilder {
        let config = cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            image: Some(cri::ImageSpec {
                image: image.into(),
                ..Default::default()
            }),
            log_path: format!("{name}/0.log"),
            linux: Some(cri::LinuxContainerConfig {
                resources: Some(cri::LinuxContainerResources::default()),
                security_context: Some(cri::LinuxContainerSecurityContext::default()),
            }),
            ..Default::default()
        };
        ContainerBuilder { config }
    }

    /// The command (the image's entrypoint when not given).
    pub fn command(mut self, argv: &[&str]) -> ContainerBuilder {
        self.config.command = argv.iter().map(|s| s.to_string()).collect();
        self
    }

    /// `sh -c script`.
    pub fn shell(self, script: &str) -> ContainerBuilder {
        self.command(&["sh", "-c", script])
    }

    /// Kubelet's restart: the same name, the next attempt, a log file of its own.
    pub fn attempt(mut self, attempt: u32) -> ContainerBuilder {
        let name = self
            .config
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        self.config.metadata = Some(cri::ContainerMetadata {
            name: name.clone(),
            attempt,
        });
        self.config.log_path = format!("{name}/{attempt}.log");
        self
    }

    /// Stdin kept open for attach (stdin_once false).
    pub fn stdin(mut self) -> ContainerBuilder {
        self.config.stdin = true;
        self
    }

    pub fn security(
        mut self,
        set: impl FnOnce(&mut cri::LinuxContainerSecurityContext),
    ) -> ContainerBuilder {
        set(self
            .linux()
            .security_context
            .get_or_insert_with(Default::default));
        self
    }

    pub fn resources(mut self, resources: cri::LinuxContainerResources) -> ContainerBuilder {
        self.linux().resources = Some(resources);
        self
    }

    fn linux(&mut self) -> &mut cri::LinuxContainerConfig {
        self.config.linux.get_or_insert_with(Default::default)
    }

    pub(crate) fn security_context(&mut self) -> &mut cri::LinuxContainerSecurityContext {
        self.linux()
            .security_context
            .get_or_insert_with(Default::default)
    }
}

/// A started container: its id and its init process on the host.
#[derive(Clone, Debug)]
pub struct Container {
    pub id: String,
    pub init: Process,
    /// Its cgroup, relative to a hierarchy's root.
    pub cgroup: std::path::PathBuf,
    /// Its log file on the host (the pod's log directory joined with the config's log_path).
    pub log_path: std::path::PathBuf,
}

impl Container {
    pub fn pid(&self) -> i32 {
        self.init.pid
    }

    /// The processes in its cgroup (every hierarchy's, merged).
    pub fn cgroup_procs(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = crate::host::existing_cgroup_dirs(&self.cgroup)
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|procs| {
                procs
                    .lines()
                    .filter_map(|l| l.parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// The CRI log file: lines "<RFC3339Nano> <stream> <F|P> <text>".
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The log's text of one stream ("stdout" or "stderr"), one entry per line.
    pub fn log_lines(&self, stream: &str) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(4, ' ');
                let (_time, s, _tag) = (fields.next()?, fields.next()?, fields.next()?);
                (s == stream).then(|| fields.next().unwrap_or("").to_string())
            })
            .collect()
    }

    /// The stream's log lines once there are at least `count` (waiting up to 5 s: containerd
    /// writes the log as the container writes).
    pub async fn wait_log_lines(&self, stream: &str, count: usize) -> Vec<String> {
        for _ in 0..50 {
            let lines = self.log_lines(stream);
            if lines.len() >= count {
                return lines;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.log_lines(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_by_stream() {
        let dir = std::env::temp_dir().join(format!("berth-cri-log-{}", std::process::id()));
        std::fs::write(
            &dir,
            "2026-12-07T04:00:00.1Z stdout F one\n2026-12-07T04:00:00.2Z stderr F err\n\
             2026-12-07T04:00:00.3Z stdout F two words\n2026-12-07T04:00:00.4Z stdout F \n",
        )
        .unwrap();
        let c = Container {
            id: "c".into(),
            init: Process::new(0),
            cgroup: "x".into(),
            log_path: dir.clone(),
        };
        assert_eq!(c.log_lines("stdout"), ["one", "two words", ""]);
        assert_eq!(c.log_lines("stderr"), ["err"]);
        std::fs::remove_file(dir).unwrap();
    }
}
