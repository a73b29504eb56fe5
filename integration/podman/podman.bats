#!/usr/bin/env bats
# berth under podman and conmon (`podman --runtime <berth>`), with podman's own config.json —
# default seccomp profile included.

load helpers

setup_file() {
	setup_podman
}

teardown_file() {
	teardown_podman
}

@test "run --rm prints the output; exit codes come back" {
	run pm_run --rm "$IMAGE" sh -c 'echo hello from podman'
	[ "$status" -eq 0 ]
	[ "$output" = "hello from podman" ]
	run pm_run --rm --name p-exit "$IMAGE" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	assert_no_leaks p-exit
}

@test "run -i passes stdin" {
	out=$(printf 'line one\nline two\n' | pm_run --rm -i --name p-stdin "$IMAGE" wc -l)
	[ "$out" = "2" ]
	assert_no_leaks p-stdin
}

@test "podman's default seccomp profile is in force" {
	run pm_run --rm "$IMAGE" sh -c 'grep -E "^Seccomp(_filters)?:" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^Seccomp:[[:space:]]+2$ ]]
	[[ "${lines[1]}" =~ ^Seccomp_filters:[[:space:]]+[1-9] ]]
}

@test "a detached container takes execs, pauses, stops with KILL after an ignored TERM, starts again" {
	pm_run -d --name p-life "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	run pm exec p-life sh -c 'echo exec-out $$'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^exec-out\ [0-9]+$ ]]
	run pm exec p-life sh -c 'exit 5'
	[ "$status" -eq 5 ]

	pm pause p-life
	run pm inspect -f '{{.State.Status}}' p-life
	[ "$output" = "paused" ]
	pm unpause p-life
	run pm inspect -f '{{.State.Status}}' p-life
	[ "$output" = "running" ]

	pm stop -t 1 p-life
	run pm inspect -f '{{.State.ExitCode}}' p-life
	[ "$output" = "137" ]

	pm start p-life
	run pm inspect -f '{{.State.Status}}' p-life
	[ "$output" = "running" ]
	pm kill p-life
	pm rm -f p-life
	assert_no_leaks p-life
}

@test "run -it and exec -it get a terminal" {
	# A program that exits at once can lose its output to podman's attach (runc too): it lingers.
	run pm_tty "run --rm -it --cgroup-parent $CGROUP_PARENT --name p-tty $IMAGE sh -c 'tty; [ -t 0 ] && echo is-a-tty; sleep 0.5'"
	echo "exit $status: $output" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/0* ]]
	[[ "$output" == *is-a-tty* ]]

	pm_run -d --name p-etty "$IMAGE" sleep 1000
	run pm_tty "exec -it p-etty sh -c 'tty; [ -t 1 ] && echo exec-tty; sleep 0.5'"
	echo "exit $status: $output" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/* ]]
	[[ "$output" == *exec-tty* ]]
	pm rm -f -t 0 p-etty
	assert_no_leaks p-tty
	assert_no_leaks p-etty
}

@test "--memory, --pids-limit, --read-only, --user and --cap-drop reach the container" {
	run pm_run --rm --memory 64m --pids-limit 50 --read-only --user 1000:1000 --cap-drop all \
		--name p-limits "$IMAGE" sh -c '
			cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
			cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
			id -u; id -g
			grep CapEff /proc/self/status
			touch /x 2>&1 || true'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "67108864" ]
	[ "${lines[1]}" = "50" ]
	[ "${lines[2]}" = "1000" ]
	[ "${lines[3]}" = "1000" ]
	[[ "${lines[4]}" == *"0000000000000000" ]]
	[[ "${lines[5]}" == *"Read-only file system"* ]]
	assert_no_leaks p-limits
}

# The count container $1's loop last wrote into its /tmp/count (0 before it has).
pm_count() {
	pm exec "$1" cat /tmp/count 2>/dev/null || echo 0
}

@test "podman container checkpoint and restore: the count goes on" {
	need_criu
	pm_run -d --name p-ckpt "$IMAGE" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	count_above pm_count p-ckpt 2
	local before first
	before=$(pm_count p-ckpt)
	pm container checkpoint p-ckpt
	run pm inspect -f '{{.State.Status}}' p-ckpt
	[ "$output" = "exited" ] || fail "after the checkpoint: $output"
	pm container restore p-ckpt
	run pm inspect -f '{{.State.Status}}' p-ckpt
	[ "$output" = "running" ] || fail "after the restore: $output"
	first=$(pm_count p-ckpt)
	[ "$first" -ge "$before" ] || fail "restored count $first is below the checkpoint's $before"
	count_above pm_count p-ckpt "$first"
	pm rm -f -t 0 p-ckpt
	assert_no_leaks p-ckpt
}

@test "nothing is left: no containers, conmon processes, cgroups or runtime state" {
	run pm ps -aq
	[ -z "$output" ]
	no_process "conmon .*$PODMAN_DIR" "a conmon"
	no_cgroups_left
}
