# Shared set-up for the rootless podman suite: a test user of the suite's own, with subuid and
# subgid ranges, runs podman (and conmon, and the runtime under test inside podman's user
# namespace) with its storage, runtime dir and config under one private directory. RUNTIME
# names the runtime (default: the berth built by cargo; RUNTIME=runc checks the suite itself).
# With CGROUP_DRIVER=systemd (the systemd VM) the user gets its systemd user manager, as a login
# starts it: podman's systemd cgroup manager, and the runtime's --systemd-cgroup, reach it on the
# user's session bus, and containers get scopes in the subtree systemd delegates to the user.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
source "$REPO/integration/common.bash"
IMAGE=localhost/berth-busybox:latest
RL_USER=berth-rootless
# A subordinate id range far above any this machine hands out: the suite adds and removes it.
RL_SUBIDS=1610612736
RL_SUBIDS_COUNT=65536

setup_rootless() {
	# A user left by a run that was killed goes first, with everything it had.
	teardown_rootless
	export RL_DIR
	RL_DIR=$(mktemp -d /tmp/berth-podman-rootless.XXXXXX)
	chmod 755 "$RL_DIR"
	useradd --no-create-home --home-dir "$RL_DIR/home" --shell /bin/sh --user-group "$RL_USER"
	echo "$RL_USER:$RL_SUBIDS:$RL_SUBIDS_COUNT" >>/etc/subuid
	echo "$RL_USER:$RL_SUBIDS:$RL_SUBIDS_COUNT" >>/etc/subgid
	install -d -o "$RL_USER" -g "$RL_USER" -m 700 "$RL_DIR/home" "$RL_DIR/run"
	if [ "$CGROUP_DRIVER" = systemd ]; then
		# /run/user/UID (user-runtime-dir@) and the manager with its session bus (dbus.socket).
		systemctl start "user@$(id -u "$RL_USER").service"
	fi
	# A rootless runtime cannot raise a hard limit: podman's default nofile/nproc limits fail
	# with EPERM for every runtime where the user's are lower (this machine lacks
	# CAP_SYS_RESOURCE; a VM's nproc follows its memory). Events in a file (no journal needed).
	local nofile nproc
	nofile=$(at_most_20000 "$(ulimit -Hn)")
	nproc=$(at_most_20000 "$(ulimit -Hu)")
	cat >"$RL_DIR/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		[engine]
		cgroup_manager = "$CGROUP_DRIVER"
		events_logger = "file"
	CONF
	"$REPO/integration/make-oci-image" "$REPO/build/busybox/rootfs" "$RL_DIR/busybox.tar" "$IMAGE"
	chmod 644 "$RL_DIR/busybox.tar" "$RL_DIR/containers.conf"
	pm load -i "$RL_DIR/busybox.tar" >/dev/null
}

# $1, a hard limit as ulimit prints it, or 20000 if that is lower.
at_most_20000() {
	if [ "$1" = unlimited ] || [ "$1" -gt 20000 ]; then echo 20000; else echo "$1"; fi
}

# Everything of the test user goes: its containers, its processes (podman's pause process that
# holds its user namespace, conmons), mounts under its directory, the user and its id ranges.
teardown_rootless() {
	if id "$RL_USER" >/dev/null 2>&1; then
		[ -z "${RL_DIR:-}" ] || pm system reset -f >/dev/null 2>&1 || true
		local pid
		local uid
		uid=$(id -u "$RL_USER")
		# The user manager first (its scopes, and what is in them, go with it).
		systemctl stop "user@$uid.service" "user-runtime-dir@$uid.service" 2>/dev/null || true
		for pid in $(pgrep -u "$RL_USER"); do kill -KILL "$pid" 2>/dev/null || true; done
		for _ in $(seq 50); do pgrep -u "$RL_USER" >/dev/null || break; sleep 0.1; done
		userdel "$RL_USER" >/dev/null 2>&1 || true
	fi
	sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
	[ -n "${RL_DIR:-}" ] || return 0
	awk -v d="$RL_DIR" '$5 ~ "^"d {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$RL_DIR"
}

# The user's XDG_RUNTIME_DIR: its manager's /run/user/UID under systemd, else one under RL_DIR.
user_runtime_dir() {
	if [ "$CGROUP_DRIVER" = systemd ]; then echo "/run/user/$(id -u "$RL_USER")"; else echo "$RL_DIR/run"; fi
}

# The words that run a command as the test user with a clean environment of its own, as a login
# of it would have: HOME, USER, the XDG directories (from mktemp: no spaces) and, with its
# manager, the session bus.
user_env() {
	local run bus=
	run=$(user_runtime_dir)
	[ "$CGROUP_DRIVER" != systemd ] || bus="DBUS_SESSION_BUS_ADDRESS=unix:path=$run/bus"
	echo "setpriv --reuid=$RL_USER --regid=$RL_USER --init-groups env -i HOME=$RL_DIR/home" \
		"USER=$RL_USER LOGNAME=$RL_USER PATH=/usr/sbin:/usr/bin:/sbin:/bin" \
		"XDG_RUNTIME_DIR=$run XDG_CONFIG_HOME=$RL_DIR/home/.config" \
		"XDG_DATA_HOME=$RL_DIR/home/.local/share CONTAINERS_CONF=$RL_DIR/containers.conf" $bus
}

as_user() {
	$(user_env) "$@"
}

# podman's options: the user's storage (vfs: no fuse needed) and the runtime under test.
pm_options() {
	echo "--root $RL_DIR/home/storage --runroot $RL_DIR/run/containers --storage-driver vfs" \
		"--runtime $(runtime_binary)"
}

pm() {
	as_user timeout -k 10 120 podman $(pm_options) "$@"
}

# podman on a pseudo-terminal of its own: $1 is the rest of its command line, shell-quoted.
pm_tty() {
	"$REPO/integration/pty-run" --timeout 120 sh -c "exec $(user_env) podman $(pm_options) $1"
}

pm_run() {
	pm run --network none "$@"
}

# Where the runtime keeps its state under rootless podman: $XDG_RUNTIME_DIR/<its name>, as runc.
state_dir() {
	echo "$(user_runtime_dir)/$(basename "$(runtime_binary)")"
}

# Nothing of container $1 (a name) may be left: container, conmon, runtime state.
assert_no_leaks() {
	local name=$1
	if pm container exists "$name"; then fail "container $name left"; fi
	no_process "conmon .*-n $name " "the conmon of $name"
	[ -z "$(ls -A "$(state_dir)")" ] || fail "runtime state left: $(ls -A "$(state_dir)")"
}
