# Shared set-up for the containerd suite: a private containerd (own config, root, state and
# sockets under a temp dir, started with setsid and a pid file, stopped by pid), an image built
# offline from the busybox fixture, and leak checks. RUNTIME names the runtime under test
# (default: the berth built by cargo; RUNTIME=runc checks the suite itself against runc).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
source "$REPO/integration/common.bash"
CTR=$(command -v ctr)
IMAGE=docker.io/library/berth-busybox:latest
BROKEN=docker.io/library/berth-broken:latest

# The cgroup of task $1 under each hierarchy: in containerd's namespace directory ("default")
# with cgroupfs; with systemd, a scope in a slice of the suite's own, which ctr names itself.
CGROUP_SLICE=berthctr.slice
task_cgroup_dir() {
	case "$CGROUP_DRIVER" in
	cgroupfs) echo "default/$1" ;;
	systemd) echo "$CGROUP_SLICE/berth-ctr-$1.scope" ;;
	esac
}

# ctr's options for the runtime under test running task $1: with systemd, runc's
# --systemd-cgroup and a slice:prefix:name cgroup.
# One line: ctr_tty's command is a string.
ctr_runtime_options() {
	local systemd=
	[ "$CGROUP_DRIVER" != systemd ] || systemd=" --runc-systemd-cgroup --cgroup $CGROUP_SLICE:berth-ctr:$1"
	echo "--runc-binary $(runtime_binary)$systemd"
}

# The directory of the whole suite run (set in setup_file, exported to every test).
start_containerd() {
	export CTRD_DIR
	CTRD_DIR=$(mktemp -d /tmp/berth-containerd.XXXXXX)
	# The cgroups of namespace "default" that the run will make (each container's goes, the
	# namespace's own stays): the ones not there yet are removed when the run ends.
	for m in $(cgroup_mounts); do
		[ -e "$m/default" ] || echo "$m/default"
	done >"$CTRD_DIR/new-cgroups"
	cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
[grpc]
  address = "$CTRD_DIR/containerd.sock"
[ttrpc]
  address = "$CTRD_DIR/containerd.sock.ttrpc"
[debug]
  address = "$CTRD_DIR/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
EOF
	daemon "$CTRD_DIR/containerd.log" containerd --config "$CTRD_DIR/config.toml"
	echo $! >"$CTRD_DIR/containerd.pid"
	for _ in $(seq 100); do
		ctr version >/dev/null 2>&1 && break
		sleep 0.1
	done
	ctr version >/dev/null
	"$REPO/integration/make-oci-image" "$REPO/build/busybox/rootfs" "$CTRD_DIR/busybox.tar" "$IMAGE"
	"$REPO/integration/make-oci-image" "$REPO/build/busybox/rootfs" "$CTRD_DIR/broken.tar" "$BROKEN" \
		'{"Cmd": ["/no/such/program"]}'
	ctr images import "$CTRD_DIR/busybox.tar" >/dev/null
	ctr images import "$CTRD_DIR/broken.tar" >/dev/null
}

stop_containerd() {
	[ -n "${CTRD_DIR:-}" ] || return 0
	local pid
	pid=$(cat "$CTRD_DIR/containerd.pid" 2>/dev/null) || true
	# Tasks first, so that no shim outlives containerd.
	for t in $(ctr task ls -q 2>/dev/null); do
		ctr task kill -s KILL "$t" >/dev/null 2>&1 || true
		ctr task rm -f "$t" >/dev/null 2>&1 || true
	done
	for c in $(ctr containers ls -q 2>/dev/null); do
		ctr containers rm "$c" >/dev/null 2>&1 || true
	done
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q " $CTRD_DIR" /proc/self/mountinfo && awk -v d="$CTRD_DIR" '$5 ~ "^"d {print $5}' /proc/self/mountinfo |
		sort -r | xargs -r -n1 umount -l
	xargs -r rmdir <"$CTRD_DIR/new-cgroups" 2>/dev/null || true
	[ "$CGROUP_DRIVER" != systemd ] || remove_cgroup_parent "$CGROUP_SLICE"
	rm -rf "$CTRD_DIR"
}

# ctr, bounded: `ctr run` hands a TERM on to its task, so a KILL follows 10 s later.
ctr() {
	timeout -k 10 60 "$CTR" --address "$CTRD_DIR/containerd.sock" "$@"
}

# ctr on a pseudo-terminal of its own (pty-run, which bounds it too): $1 is the rest of its
# command line, shell-quoted.
ctr_tty() {
	"$REPO/integration/pty-run" --timeout 60 sh -c "exec $CTR --address $CTRD_DIR/containerd.sock $1"
}

# ctr run with the runtime under test: [OPTION...] IMAGE ID [COMMAND...], IMAGE one of the
# suite's.
ctr_run() {
	local prev= a id=
	for a in "$@"; do
		if [ "$prev" = "$IMAGE" ] || [ "$prev" = "$BROKEN" ]; then id=$a && break; fi
		prev=$a
	done
	[ -n "$id" ] || fail "ctr_run: no task id after the image in: $*"
	ctr run $(ctr_runtime_options "$id") "$@"
}

# Waits (up to 5 s) until task $1 is STOPPED, then checks that it is.
wait_stopped() {
	for _ in $(seq 50); do
		ctr task ls | grep -q "$1.*STOPPED" && break
		sleep 0.1
	done
	run ctr task ls
	[[ "$output" =~ $1[[:space:]]+[0-9]+[[:space:]]+STOPPED ]] || fail "task $1 is not STOPPED: $output"
}

# Nothing of container $1 may be left: task, shim, state, cgroups, mounts.
assert_no_leaks() {
	local id=$1
	run ctr task ls -q
	[[ ! "$output" =~ (^|$'\n')$id($'\n'|$) ]] || fail "task $id left"
	no_process "containerd-shim-runc-v2 .*-id $id( |$)" "the shim of $id"
	[ ! -e "/run/containerd/runc/default/$id" ] || fail "runtime state of $id left"
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$(task_cgroup_dir "$id")" ] || fail "cgroup $m/$(task_cgroup_dir "$id") left"
	done
	if grep -q "/$id/rootfs" /proc/self/mountinfo; then fail "rootfs mount of $id left"; fi
}
