#!/usr/bin/env bats
# berth under rootless podman: an unprivileged user with subordinate ids runs podman, which runs
# conmon and the runtime as uid 0 in its user namespace, with no --root — the runtime keeps its
# state in $XDG_RUNTIME_DIR/<name>, as runc does. --network none: no slirp4netns needed. With
# CGROUP_DRIVER=systemd (the systemd VM), podman's systemd cgroup manager and the user's manager.

load helpers

setup_file() {
	setup_rootless
}

teardown_file() {
	teardown_rootless
	if id "$RL_USER" >/dev/null 2>&1; then fail "the test user $RL_USER is left"; fi
	if grep -q "^$RL_USER:" /etc/subuid /etc/subgid; then fail "subordinate ids of $RL_USER left"; fi
}

@test "run --rm prints the output; exit codes come back; state is under XDG_RUNTIME_DIR" {
	run pm_run --rm "$IMAGE" sh -c 'echo hello from rootless podman; id -u; cat /proc/self/uid_map'
	echo "exit $status: $output" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from rootless podman" ]
	[ "${lines[1]}" = "0" ]
	# The container's root is the user: podman's namespace maps it, and the subordinate ids.
	[[ "${lines[2]}" =~ ^\ +0\ +$(id -u "$RL_USER")\ +1$ ]]
	run pm_run --rm --name rl-exit "$IMAGE" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	# runc's place: private and sticky, owned by the user.
	[ "$(stat -c '%a %U' "$(state_dir)")" = "1700 $RL_USER" ]
	assert_no_leaks rl-exit
}

@test "run -i passes stdin" {
	out=$(printf 'line one\nline two\n' | pm_run --rm -i --name rl-stdin "$IMAGE" wc -l)
	[ "$out" = "2" ]
	assert_no_leaks rl-stdin
}

@test "run -it gets a terminal" {
	# A program that exits at once can lose its output to podman's attach (runc too): it lingers.
	run pm_tty "run --rm -it --network none --name rl-tty $IMAGE sh -c 'tty; [ -t 0 ] && echo is-a-tty; sleep 0.5'"
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/0* ]]
	[[ "$output" == *is-a-tty* ]]
	assert_no_leaks rl-tty
}

@test "a detached container takes execs, stops with KILL after an ignored TERM, and goes" {
	pm_run -d --name rl-life "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	run pm exec rl-life sh -c 'echo exec-out; id -u'
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "exec-out" ]
	[ "${lines[1]}" = "0" ]
	run pm exec rl-life sh -c 'exit 5'
	[ "$status" -eq 5 ]
	run pm exec --user 1000:1000 rl-life id -u
	[ "$output" = "1000" ]

	pm stop -t 1 rl-life
	run pm inspect -f '{{.State.ExitCode}}' rl-life
	[ "$output" = "137" ]
	pm rm rl-life
	assert_no_leaks rl-life
}

@test "--user, --read-only and podman's default seccomp profile reach the container" {
	run pm_run --rm --user 1000:1000 --read-only --name rl-opts "$IMAGE" sh -c '
		id -u; id -g
		grep -E "^Seccomp(_filters)?:" /proc/self/status
		touch /x 2>&1 || true'
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000" ]
	[ "${lines[1]}" = "1000" ]
	[[ "${lines[2]}" =~ ^Seccomp:[[:space:]]+2$ ]]
	[[ "${lines[3]}" =~ ^Seccomp_filters:[[:space:]]+[1-9] ]]
	[[ "${lines[4]}" == *"Read-only file system"* ]]
	assert_no_leaks rl-opts
}

@test "--memory and --pids-limit: podman drops them on cgroup v1; on v2 they need a cgroup" {
	if [ "$CGROUP_DRIVER" = systemd ]; then
		# The user's manager delegates memory, pids and cpu to it: the container's scope, which
		# the runtime asks that manager for, holds the limits as unit properties and in its files.
		local uid pid cg
		uid=$(id -u "$RL_USER")
		pm_run -d --memory 64m --pids-limit 50 --cpus 0.5 --name rl-limits "$IMAGE" sleep 300
		pid=$(pm inspect -f '{{.State.Pid}}' rl-limits)
		cg=$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")
		echo "cgroup of $pid: $cg"
		[[ "$cg" == "/user.slice/user-$uid.slice/user@$uid.service/"*"/libpod-"*".scope" ]]
		[ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
		[ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 50 ]
		[ "$(cat "/sys/fs/cgroup$cg/cpu.max")" = "50000 100000" ]
		run as_user systemctl --user show -p MemoryMax -p TasksMax "$(basename "$cg")"
		echo "$output"
		[[ "$output" == *"MemoryMax=67108864"* ]]
		[[ "$output" == *"TasksMax=50"* ]]
		# Inside, its own cgroup namespace: the scope's files at the root.
		run pm exec rl-limits cat /sys/fs/cgroup/memory.max
		[ "$output" = 67108864 ]
		pm stop -t 0 rl-limits >/dev/null
		pm rm rl-limits >/dev/null
		[ ! -d "/sys/fs/cgroup$cg" ]
		assert_no_leaks rl-limits
		return
	fi
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		# podman passes them on; with no cgroup the user may write (cgroupfs, nothing delegated)
		# the runtime refuses them in runc's fs2 words, and nothing is made.
		run pm_run --rm --memory 64m --pids-limit 50 --name rl-limits "$IMAGE" true
		echo "exit $status: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"rootless needs no limits + no cgrouppath when no permission is granted for cgroups"* ]]
		pm rm -f rl-limits >/dev/null 2>&1 || true
		assert_no_leaks rl-limits
		return
	fi
	# podman drops the limits before the runtime sees them (runc and berth both get none): the
	# container runs in the user's own cgroups, with podman's warning on stderr.
	run pm_run --rm --memory 64m --pids-limit 50 --name rl-limits "$IMAGE" sh -c '
		cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo no-pids-limit'
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Resource limits are not supported and ignored on cgroups V1 rootless systems"* ]]
	[[ "$output" != *"50"* ]]
	assert_no_leaks rl-limits
}

@test "nothing is left: no containers, conmons, runtime state or mounts" {
	run pm ps -aq
	[ -z "$output" ]
	no_process "conmon .*$RL_DIR" "a conmon"
	[ -z "$(ls -A "$(state_dir)")" ]
	# podman's mounts live in its user's mount namespace: none reaches the host's.
	[ -z "$(awk -v d="$RL_DIR" '$5 ~ "^"d' /proc/self/mountinfo)" ]
	# Only podman's pause process, which holds the user's namespace, may run (teardown ends it),
	# with the conmons that exited as its unreaped children — with runc as with berth — and the
	# user's systemd manager with its session bus.
	run pgrep -u "$RL_USER" -a
	echo "$output"
	[ -z "$(echo "$output" | grep -Ev ' (podman|\[conmon\] <defunct>|/lib/systemd/systemd --user|\(sd-pam\)|/usr/bin/dbus-daemon .*--session.*)$' || true)" ]
}
