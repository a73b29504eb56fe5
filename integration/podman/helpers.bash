# Shared set-up for the podman suite: podman with conmon, private --root/--runroot/--tmpdir and
# CONTAINERS_CONF, every container under a cgroup parent of the suite's own, and leak checks.
# RUNTIME names the runtime under test (default: the berth built by cargo; RUNTIME=runc checks
# the suite itself against runc).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
source "$REPO/integration/common.bash"
IMAGE=localhost/berth-busybox:latest
# Every container's cgroup parent (--cgroup-parent), and its directory under each hierarchy.
case "$CGROUP_DRIVER" in
cgroupfs) CGROUP_PARENT=/berth-podman-test CGROUP_PARENT_DIR=berth-podman-test ;;
systemd) CGROUP_PARENT=berthpodman.slice CGROUP_PARENT_DIR=berthpodman.slice ;;
esac

setup_podman() {
	export PODMAN_DIR
	PODMAN_DIR=$(mktemp -d /tmp/berth-podman.XXXXXX)
	# This machine's root lacks CAP_SYS_RESOURCE: podman's default nofile/nproc limits (above
	# the hard limits) fail with EPERM for every runtime.
	cat >"$PODMAN_DIR/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]
		[engine]
		cgroup_manager = "$CGROUP_DRIVER"
		events_logger = "file"
		runtime_supports_json = ["berth", "crun", "runc"]
	CONF
	"$REPO/integration/make-oci-image" "$REPO/build/busybox/rootfs" "$PODMAN_DIR/busybox.tar" "$IMAGE"
	pm load -i "$PODMAN_DIR/busybox.tar" >/dev/null
}

teardown_podman() {
	[ -n "${PODMAN_DIR:-}" ] || return 0
	pm rm -af -t 0 >/dev/null 2>&1 || true
	pm system reset -f >/dev/null 2>&1 || true
	remove_cgroup_parent "$CGROUP_PARENT_DIR"
	awk -v d="$PODMAN_DIR" '$5 ~ "^"d {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$PODMAN_DIR"
}

# podman's options for the suite's private store (PODMAN_DIR, from mktemp, has no spaces).
pm_options() {
	echo "--root $PODMAN_DIR/root --runroot $PODMAN_DIR/runroot --tmpdir $PODMAN_DIR/tmp" \
		"--storage-driver vfs --runtime $(runtime_binary)"
}

pm() {
	CONTAINERS_CONF="$PODMAN_DIR/containers.conf" timeout -k 10 120 podman $(pm_options) "$@"
}

# podman on a pseudo-terminal of its own (pty-run, which bounds it too): $1 is the rest of its
# command line, shell-quoted.
pm_tty() {
	CONTAINERS_CONF="$PODMAN_DIR/containers.conf" "$REPO/integration/pty-run" --timeout 120 \
		sh -c "exec podman $(pm_options) $1"
}

pm_run() {
	pm run --cgroup-parent "$CGROUP_PARENT" "$@"
}

# Fails, naming them, when cgroups of containers are left under the parent (with cgroupfs,
# podman's own "conmon" cgroups there stay until teardown; with systemd conmon's scope goes with
# it).
no_cgroups_left() {
	local m found
	for m in $(cgroup_mounts); do
		found=$(find "$m/$CGROUP_PARENT_DIR" -mindepth 1 -type d -not -name conmon 2>/dev/null) || true
		[ -z "$found" ] || fail "cgroups left: $found"
	done
}

# Nothing of container $1 (a name) may be left: container, conmon, the container's cgroups.
assert_no_leaks() {
	local name=$1
	if pm container exists "$name"; then fail "container $name left"; fi
	no_process "conmon .*-n $name " "the conmon of $name"
	no_cgroups_left
}
