//! berth under containerd's CRI plugin, driven as kubelet drives it. Every test runs once per
//! runtime handler: `runc::NAME` (Debian's runc: the reference, which proves the test) and
//! `berth::NAME`. Needs the private containerd of integration/cri/with-containerd (make test-cri).

mod lifecycle;
mod namespaces;
mod resources;
mod security;
mod stop;
mod streaming;

use berth_cri_tests::Harness;
use std::future::Future;
use std::time::Duration;

/// Runs one test on `handler`, bounded; the pods a failed test left are removed afterwards.
fn run<F, Fut>(handler: &str, test: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let harness = Harness::connect(handler)
            .await
            .expect("the CRI of with-containerd");
        let result = tokio::time::timeout(Duration::from_secs(300), test(harness.clone())).await;
        harness.remove_leftovers().await;
        match result {
            Err(_) => panic!("{handler}: the test did not end in 300 s"),
            Ok(Err(e)) => panic!("{handler}: {e:#}"),
            Ok(Ok(())) => {}
        }
    });
}

/// `mod runc` and `mod berth`, each with one #[test] per listed test.
macro_rules! for_each_handler {
    ($($module:ident::$test:ident),* $(,)?) => {
        mod runc {
            $(#[test] fn $test() { crate::run("runc", crate::$module::$test) })*
        }
        mod berth {
            $(#[test] fn $test() { crate::run("berth", crate::$module::$test) })*
        }
    };
}

for_each_handler! {
    lifecycle::pod_lifecycle_leaves_nothing,
    lifecycle::exit_codes_and_logs,
    lifecycle::restart_in_a_live_pod,
    namespaces::containers_share_network_ipc_uts_with_the_sandbox,
    namespaces::pod_pid_namespace_is_shared,
    namespaces::host_namespaces,
    stop::forking_server_stops_within_grace_period,
    stop::forking_server_in_pod_pid_namespace_stops_within_grace_period,
    security::run_as_user_and_group,
    security::read_only_root_filesystem,
    security::capabilities_add_and_drop,
    security::privileged,
    security::seccomp_runtime_default_and_unconfined,
    security::masked_and_readonly_paths,
    security::sysctls_and_no_new_privs,
    resources::limits_in_the_cgroup_update_and_stats,
    streaming::exec_sync_output_exit_code_and_timeout,
    streaming::exec_stream,
    streaming::attach_stream,
    streaming::port_forward,
}
