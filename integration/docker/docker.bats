#!/usr/bin/env bats
# berth under Docker: Debian's docker.io (dockerd 20.10, the containerd it starts for itself and
# containerd's runc v2 shim), berth registered with the daemon as a runtime and made its default.
# The daemon is private to the run (helpers.bash) and changes nothing on the host's network;
# CGROUP_DRIVER (common.bash) picks cgroupfs (default) or systemd. Each test removes its containers and
# checks that nothing of them is left; the last one checks the whole run.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_docker
}

teardown_file() {
	stop_docker
}

@test "run --rm prints the output; exit codes and docker's default ulimit come back" {
	run --separate-stderr docker_run --rm --cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" \
		sh -c 'echo hello from docker; echo to-stderr >&2; ulimit -n'
	echo "exit $status: $output; stderr: $stderr" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from docker" ]
	[ "${lines[1]}" = "$NOFILE" ]
	[ "$stderr" = "to-stderr" ]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid")"

	run docker_run --rm --cidfile "$BATS_TEST_TMPDIR/cid2" "$IMAGE" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid2")"
}

@test "a missing or unrunnable program: 127 or 126, with the runtime's error text" {
	# docker's client maps the runtime's words to the shell's codes: "no such file or directory"
	# is 127, "permission denied" 126 — the runtime's message must say what went wrong.
	run -127 docker_run --rm --cidfile "$BATS_TEST_TMPDIR/cid" --entrypoint /no/such/program "$IMAGE"
	echo "exit $status: $output"
	[[ "$output" == *"OCI runtime create failed"*"/no/such/program"*"no such file or directory"* ]]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid")"

	run -126 docker_run --rm --cidfile "$BATS_TEST_TMPDIR/cid2" --entrypoint /etc/passwd "$IMAGE"
	echo "exit $status: $output"
	[[ "$output" == *"OCI runtime create failed"*"/etc/passwd"*"permission denied"* ]]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid2")"
}

@test "a runtime call that fails: the runtime's error reaches the docker user" {
	# docker lets any net.* sysctl through for a container with a network namespace of its own;
	# the runtime finds no such file under /proc/sys (so docker's client exits 127, as above).
	run -127 docker_run --rm --cidfile "$BATS_TEST_TMPDIR/cid" --sysctl net.ipv4.berth_no_such_sysctl=1 \
		"$IMAGE" true
	echo "exit $status: $output"
	[[ "$output" == *"OCI runtime create failed"*"net"?"ipv4"?"berth_no_such_sysctl"* ]]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid")"
}

@test "run -i passes stdin" {
	out=$(printf 'line one\nline two\n' | docker_run --rm -i --cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" wc -l)
	[ "$out" = "2" ]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid")"
}

@test "run -it and exec -it get a terminal" {
	run docker_tty "run --rm -it --network none --cidfile $BATS_TEST_TMPDIR/cid $IMAGE sh -c 'tty; [ -t 0 ] && echo is-a-tty'"
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/0* ]]
	[[ "$output" == *is-a-tty* ]]
	assert_no_leaks "$(cat "$BATS_TEST_TMPDIR/cid")"

	docker_run -d --name d-etty "$IMAGE" sleep 1000
	id=$(container_id d-etty)
	run docker_tty "exec -it d-etty sh -c 'tty; [ -t 1 ] && echo exec-tty; exit 3'"
	echo "exit $status: $output"
	[ "$status" -eq 3 ]
	[[ "$output" == */dev/pts/* ]]
	[[ "$output" == *exec-tty* ]]
	docker rm -f d-etty
	assert_no_leaks "$id"
}

@test "a detached container takes execs, shows in top and stats, pauses, takes a memory limit, goes with rm -f" {
	docker_run -d --name d-life "$IMAGE" sleep 1000
	id=$(container_id d-life)
	pid=$(docker inspect -f '{{.State.Pid}}' d-life)
	# The runtime under test runs it; what the leak checks look for is there while it runs.
	[ "$(docker inspect -f '{{.HostConfig.Runtime}}' d-life)" = "$(runtime_name)" ]
	[ -e "$(runtime_root)/$id/state.json" ] || fail "no state.json in $(runtime_root)/$id"
	pgrep -f "containerd-shim-runc-v2 .*-id $id( |$)" >/dev/null || fail "no shim for $id"
	[ -n "$(container_mounts)" ] || fail "no mounts for $id"

	run docker exec d-life sh -c 'echo exec-out; echo $$; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "exec-out" ]
	# The exec'd shell lives in the container's pid namespace, where sleep is pid 1.
	[ "${lines[1]}" -gt 1 ]
	[ "${lines[2]}" = "sleep 1000 " ]
	run docker exec d-life sh -c 'exit 7'
	[ "$status" -eq 7 ]
	# A program that is not there: docker's 126 for a failed exec, and the runtime's words.
	run -126 docker exec d-life /no/such/program
	echo "exit $status: $output"
	[[ "$output" == *"/no/such/program"*"no such file or directory"* ]]

	# top asks the runtime for the container's pids (`ps --format json`), then runs ps on them.
	run docker top d-life
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ $'\n'root[[:space:]]+$pid[[:space:]].*sleep\ 1000 ]]

	# stats reads the container's cgroup through the shim.
	run docker stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' d-life
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^d-life\ 1\ [0-9.]+[KMG]iB\ / ]]

	docker pause d-life
	run docker inspect -f '{{.State.Status}}' d-life
	[ "$output" = "paused" ]
	[[ "$(cat "$(cgroup_file "$id" freezer freezer.state cgroup.freeze)")" =~ ^(FROZEN|1)$ ]]
	docker unpause d-life
	run docker inspect -f '{{.State.Status}}' d-life
	[ "$output" = "running" ]
	[[ "$(cat "$(cgroup_file "$id" freezer freezer.state cgroup.freeze)")" =~ ^(THAWED|0)$ ]]

	docker update --memory 64m --memory-swap 128m d-life
	[ "$(cat "$(cgroup_file "$id" memory memory.limit_in_bytes memory.max)")" = 67108864 ]
	if [ "$CGROUP_DRIVER" = systemd ]; then
		# The runtime gave systemd the limit too: the scope's property, as runc sets it.
		[ "$(systemctl show -p MemoryMax --value "docker-$id.scope")" = 67108864 ]
	fi
	run docker exec d-life sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	[ "$output" = 67108864 ]

	docker rm -f d-life
	assert_no_leaks "$id"
}

@test "stop: a TERM-ignoring process gets KILL after the timeout (137), a trapping one exits by its trap" {
	docker_run -d --name d-stop "$IMAGE" sh -c 'trap "" TERM; echo trap set; while :; do sleep 0.1; done'
	id=$(container_id d-stop)
	wait_logs d-stop "trap set"
	start=$(date +%s)
	docker stop -t 2 d-stop
	[ $(($(date +%s) - start)) -ge 2 ] || fail "stopped before the 2 s timeout"
	run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' d-stop
	[ "$output" = "exited 137" ]

	# The same container starts again (same id: the runtime's state of the first run is gone).
	docker start d-stop
	run docker inspect -f '{{.State.Status}}' d-stop
	[ "$output" = "running" ]
	docker rm -f d-stop
	assert_no_leaks "$id"

	docker_run -d --name d-trap "$IMAGE" sh -c 'trap "exit 3" TERM; echo trap set; while :; do sleep 0.1; done'
	id=$(container_id d-trap)
	wait_logs d-trap "trap set"
	docker stop -t 30 d-trap
	run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' d-trap
	[ "$output" = "exited 3" ]
	docker rm d-trap
	assert_no_leaks "$id"
}

@test "nothing is left: no containers, shims, runtime state, cgroups or mounts" {
	run docker ps -aq
	[ -z "$output" ]
	no_process "containerd-shim-runc-v2 .*-address $DOCKER_DIR/" "shims"
	found=$(find "$(runtime_root)" -mindepth 1 2>/dev/null) || true
	[ -z "$found" ] || fail "runtime state left: $found"
	for m in $(cgroup_mounts); do
		found=$(find "$m/$CGROUP_PARENT_DIR" -mindepth 1 -type d 2>/dev/null)
		[ -z "$found" ] || fail "cgroups left: $found"
	done
	found=$(container_mounts) || true
	[ -z "$found" ] || fail "mounts left: $found"
}
