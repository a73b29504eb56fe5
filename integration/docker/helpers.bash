# Shared set-up for the docker suite: a private dockerd (its own daemon.json, data-root,
# exec-root, pid file and socket under a temp dir, started with setsid, stopped by pid) with the
# containerd it starts for itself (under the exec-root, stopped with it), an image built offline
# from the busybox fixture and loaded with `docker load`, and leak checks.
#
# RUNTIME names the runtime under test (default: the berth built by cargo; RUNTIME=runc checks
# the suite itself against docker's own runc). CGROUP_DRIVER (common.bash) is docker's cgroup
# driver: containers under /berth-docker-test with cgroupfs, under berthdocker.slice with systemd.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
source "$REPO/integration/common.bash"
IMAGE=berth-busybox:latest
# docker.io's own client: another docker first on PATH may be a newer one.
DOCKER_CLI=/usr/bin/docker

# The cgroup every container goes under (docker's --cgroup-parent), and its directory relative
# to each hierarchy's mount point. systemd would split a slice name with dashes into nested slices.
case "$CGROUP_DRIVER" in
cgroupfs) CGROUP_PARENT=/berth-docker-test CGROUP_PARENT_DIR=berth-docker-test ;;
systemd) CGROUP_PARENT=berthdocker.slice CGROUP_PARENT_DIR=berthdocker.slice ;;
esac

# The directory of container $1 (its full id) relative to a hierarchy's mount point.
container_cgroup_dir() {
	case "$CGROUP_DRIVER" in
	cgroupfs) echo "$CGROUP_PARENT_DIR/$1" ;;
	systemd) echo "$CGROUP_PARENT_DIR/docker-$1.scope" ;;
	esac
}

# Docker's name for the runtime under test. Docker has runc built in and refuses to redefine it;
# any other runtime is added under its file's name.
runtime_name() {
	basename "$(runtime_binary)"
}

# Where docker has the runtime keep its state (its --root): docker 20.10 gives every runtime
# the one it gives runc, a directory per containerd namespace ("moby") under the exec-root.
runtime_root() {
	echo "$DOCKER_DIR/exec/runtime-runc/moby"
}

# This machine's root lacks CAP_SYS_RESOURCE: a default RLIMIT_NOFILE above our hard limit would
# fail with EPERM whatever the runtime, so containers get the hard limit.
NOFILE=$(ulimit -Hn)

start_docker() {
	export DOCKER_DIR DOCKER_CONFIG
	DOCKER_DIR=$(mktemp -d /tmp/berth-docker.XXXXXX)
	DOCKER_CONFIG=$DOCKER_DIR/client # the client's config.json, not ~/.docker
	local name runtimes=
	name=$(runtime_name)
	[ "$name" = runc ] || runtimes="\"$name\": {\"path\": \"$(runtime_binary)\"}"
	# dockerd makes /run/docker/plugins whatever its exec-root; gone at the end if the run made it.
	[ -e /run/docker ] || echo /run/docker/plugins /run/docker >"$DOCKER_DIR/new-dirs"
	# No network changes on the host (no bridge, iptables or forwarding: containers run with
	# --network none); the daemon's key in the temp dir, not /etc/docker/key.json.
	cat >"$DOCKER_DIR/daemon.json" <<-EOF
		{
		  "data-root": "$DOCKER_DIR/data",
		  "exec-root": "$DOCKER_DIR/exec",
		  "pidfile": "$DOCKER_DIR/dockerd.pid",
		  "hosts": ["unix://$DOCKER_DIR/docker.sock"],
		  "deprecated-key-path": "$DOCKER_DIR/key.json",
		  "bridge": "none",
		  "iptables": false,
		  "ip-forward": false,
		  "ip-masq": false,
		  "exec-opts": ["native.cgroupdriver=$CGROUP_DRIVER"],
		  "cgroup-parent": "$CGROUP_PARENT",
		  "default-ulimits": {"nofile": {"Name": "nofile", "Soft": $NOFILE, "Hard": $NOFILE}},
		  "runtimes": {$runtimes},
		  "default-runtime": "$name"
		}
	EOF
	daemon "$DOCKER_DIR/dockerd.log" dockerd --config-file "$DOCKER_DIR/daemon.json"
	# Its own pid file may not be written yet when it has to be stopped.
	echo $! >"$DOCKER_DIR/daemon.pid"
	for _ in $(seq 300); do
		docker version >/dev/null 2>&1 && break
		sleep 0.1
	done
	docker version >/dev/null || fail "dockerd did not start: $(tail -20 "$DOCKER_DIR/dockerd.log")"
	"$REPO/integration/make-oci-image" --docker-archive "$REPO/build/busybox/rootfs" \
		"$DOCKER_DIR/busybox.tar" "$IMAGE"
	docker load -i "$DOCKER_DIR/busybox.tar" >/dev/null
	# dockerd's own: a bind mount of its data-root onto itself, for mount propagation.
	mounts_under "$DOCKER_DIR" >"$DOCKER_DIR/idle-mounts"
}

# The mount points under directory $1.
mounts_under() {
	awk -v d="$1" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo
}

# The mount points under the suite's directory that an idle dockerd does not have.
container_mounts() {
	mounts_under "$DOCKER_DIR" | grep -vxF -f "$DOCKER_DIR/idle-mounts"
}

# Stops dockerd (which stops its containerd), then whatever outlived it, by pid.
stop_docker() {
	[ -n "${DOCKER_DIR:-}" ] || return 0
	# Containers first, so that no shim outlives containerd.
	local ids pid
	ids=$(docker ps -aq 2>/dev/null) || true
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
	stop_pid "$(cat "$DOCKER_DIR/daemon.pid" 2>/dev/null)"
	stop_pid "$(cat "$DOCKER_DIR/exec/containerd/containerd.pid" 2>/dev/null)"
	for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $DOCKER_DIR/"); do
		stop_pid "$pid"
	done
	mounts_under "$DOCKER_DIR" | sort -r | xargs -r -n1 umount -l
	remove_cgroup_parent "$CGROUP_PARENT_DIR"
	[ ! -e "$DOCKER_DIR/new-dirs" ] || xargs -r rmdir <"$DOCKER_DIR/new-dirs" 2>/dev/null || true
	rm -rf "$DOCKER_DIR"
}

# TERM to process $1 (if any), KILL when it is still there after 20 s.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# The docker client, bounded. `docker run` hands a TERM on to its container; a KILL follows.
docker() {
	timeout -k 10 120 "$DOCKER_CLI" -H "unix://$DOCKER_DIR/docker.sock" "$@"
}

# docker on a pseudo-terminal of its own (pty-run, which bounds it too): $1 is the rest of its
# command line, shell-quoted.
docker_tty() {
	"$REPO/integration/pty-run" --timeout 120 \
		sh -c "exec $DOCKER_CLI -H unix://$DOCKER_DIR/docker.sock $1"
}

# Containers have no network: dockerd made no bridge.
docker_run() {
	docker run --network none "$@"
}

# The full id of container $1 (a name).
container_id() {
	docker inspect -f '{{.Id}}' "$1"
}

# The host path of container $1's cgroup file: $3 in controller $2's hierarchy on cgroup v1, $4
# on a cgroup v2 host.
cgroup_file() {
	local v1
	v1=$(awk -v c="$2" '$9 == "cgroup" && index("," $NF ",", "," c ",") {print $5; exit}' /proc/self/mountinfo)
	if [ -n "$v1" ]; then
		echo "$v1/$(container_cgroup_dir "$1")/$3"
	else
		echo "$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)/$(container_cgroup_dir "$1")/$4"
	fi
}

# Waits (up to 10 s) until container $1 has printed the line $2, then checks that it has.
wait_logs() {
	for _ in $(seq 100); do
		docker logs "$1" 2>&1 | grep -qx -- "$2" && return 0
		sleep 0.1
	done
	fail "no line \"$2\" in the logs of $1: $(docker logs "$1" 2>&1)"
}

# Nothing of container $1 (its full id, taken before it went) may be left: container, shim,
# runtime state, cgroups; and, as tests run one container at a time, no mount under the suite's
# directory at all (overlay rootfs, /dev/shm, network namespace).
assert_no_leaks() {
	local id=$1 found
	if docker inspect "$id" >/dev/null 2>&1; then fail "container $id left"; fi
	no_process "containerd-shim-runc-v2 .*-id $id( |$)" "the shim of $id"
	[ ! -e "$(runtime_root)/$id" ] || fail "runtime state of $id left in $(runtime_root)"
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$(container_cgroup_dir "$id")" ] || fail "cgroup $m/$(container_cgroup_dir "$id") left"
	done
	found=$(container_mounts) || true
	[ -z "$found" ] || fail "mounts left: $found"
}
