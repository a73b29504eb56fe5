#!/usr/bin/env bats
# berth under containerd's io.containerd.runc.v2 shim, driven with `ctr --runc-binary`.

load helpers

setup_file() {
	start_containerd
}

teardown_file() {
	stop_containerd
}

@test "run --rm prints the container's output and leaves nothing" {
	run ctr_run --rm "$IMAGE" c-out sh -c 'echo hello; echo to-stderr >&2'
	[ "$status" -eq 0 ]
	[[ "$output" == *hello* ]]
	[[ "$output" == *to-stderr* ]]
	assert_no_leaks c-out
}

@test "exit codes reach the ctr user" {
	run ctr_run --rm "$IMAGE" c-exit sh -c 'exit 42'
	[ "$status" -eq 42 ]
	assert_no_leaks c-exit
}

@test "stdin is piped into the container" {
	out=$(echo piped-line | ctr_run --rm "$IMAGE" c-stdin head -n1)
	[ "$out" = "piped-line" ]
	assert_no_leaks c-stdin
}

@test "a detached task runs, takes execs, shows in ps and metrics, pauses and resumes" {
	ctr_run -d "$IMAGE" c-task sleep 1000
	run ctr task ls
	[[ "$output" =~ c-task[[:space:]]+[0-9]+[[:space:]]+RUNNING ]]
	init=$(ctr task ls | awk '$1 == "c-task" {print $2}')
	# Where the driver put it: containerd's namespace directory, or a scope systemd runs.
	grep -q "/$(task_cgroup_dir c-task)\$" "/proc/$init/cgroup"
	[ "$CGROUP_DRIVER" != systemd ] || [ "$(systemctl is-active "berth-ctr-c-task.scope")" = active ]

	run ctr task exec --exec-id e1 c-task sh -c 'echo exec-out; echo $$; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "exec-out" ]
	# The exec'd shell lives in the task's pid namespace, where sleep is pid 1.
	[ "${lines[1]}" -gt 1 ]
	[ "${lines[2]}" = "sleep 1000 " ]

	run ctr task exec --exec-id e2 c-task sh -c 'exit 7'
	[ "$status" -eq 7 ]

	run ctr task ps c-task
	[ "$status" -eq 0 ]
	[[ "$output" == *"$init"* ]]

	run ctr task metrics c-task
	[ "$status" -eq 0 ]
	[[ "$output" == *memory.usage_in_bytes* || "$output" == *memory.usage* ]]
	[[ "$output" == *pids.current* ]]

	ctr task pause c-task
	run ctr task ls
	[[ "$output" =~ c-task[[:space:]]+[0-9]+[[:space:]]+PAUSED ]]
	ctr task resume c-task
	run ctr task ls
	[[ "$output" =~ c-task[[:space:]]+[0-9]+[[:space:]]+RUNNING ]]

	# TERM is ignored by sleep as pid 1 of its namespace; KILL is not.
	ctr task kill c-task
	sleep 0.5
	run ctr task ls
	[[ "$output" =~ c-task[[:space:]]+[0-9]+[[:space:]]+RUNNING ]]
	ctr task kill -s KILL c-task
	wait_stopped c-task
	ctr task rm c-task
	ctr containers rm c-task
	assert_no_leaks c-task
}

# Runs `ctr run --rm` of a shell that runs $2 on TERM in the background, output into
# $BATS_TEST_TMPDIR/$1, and waits until the shell has set its trap; CTR_PID is ctr's pid.
run_trapping_shell() {
	local out=$BATS_TEST_TMPDIR/$1
	# fd 3 is bats's: a ctr left holding it would keep the run from ending.
	ctr_run --rm "$IMAGE" "$1" sh -c "trap '$2' TERM; echo trap set; while :; do sleep 0.1; done" \
		>"$out" 2>&1 3>&- &
	CTR_PID=$!
	wait_line "$out" "trap set"
}

@test "TERM reaches a trapping shell: it exits 3 through its trap, or lives on until KILL" {
	run_trapping_shell c-term 'echo caught TERM; exit 3'
	ctr task kill c-term
	wait_line "$BATS_TEST_TMPDIR/c-term" "caught TERM"
	status=0
	wait "$CTR_PID" || status=$?
	[ "$status" -eq 3 ] || fail "ctr run exited $status, not 3: $(cat "$BATS_TEST_TMPDIR/c-term")"
	assert_no_leaks c-term

	run_trapping_shell c-term2 'echo caught TERM'
	ctr task kill c-term2
	wait_line "$BATS_TEST_TMPDIR/c-term2" "caught TERM"
	run ctr task ls
	[[ "$output" =~ c-term2[[:space:]]+[0-9]+[[:space:]]+RUNNING ]] || fail "not running after TERM: $output"
	ctr task kill -s KILL c-term2
	status=0
	wait "$CTR_PID" || status=$?
	[ "$status" -eq 137 ] || fail "ctr run exited $status after KILL, not 137"
	assert_no_leaks c-term2
}

@test "run -t and exec -t get a terminal" {
	run ctr_tty "run --rm -t $(ctr_runtime_options c-tty) $IMAGE c-tty sh -c 'tty; [ -t 0 ] && echo is-a-tty'"
	echo "exit $status: $output" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/0* ]]
	[[ "$output" == *is-a-tty* ]]
	assert_no_leaks c-tty

	ctr_run -d "$IMAGE" c-etty sleep 1000
	run ctr_tty "task exec -t --exec-id t1 c-etty sh -c 'tty; [ -t 1 ] && echo exec-tty'"
	echo "exit $status: $output" # bats shows it if the test fails
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/* ]]
	[[ "$output" == *exec-tty* ]]
	ctr task kill -s KILL c-etty
	wait_stopped c-etty
	ctr task rm c-etty
	ctr containers rm c-etty
	assert_no_leaks c-etty
}

@test "the runtime's error reaches the ctr user from log.json" {
	run ctr_run --rm "$BROKEN" c-broken
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/program"* ]]
	ctr containers rm c-broken >/dev/null 2>&1 || true
	assert_no_leaks c-broken
}

# The count a task's loop last wrote into its /tmp/count (0 before it has).
task_count() {
	local pid
	pid=$(ctr task ls | awk -v id="$1" '$1 == id {print $2}')
	cat "/proc/$pid/root/tmp/count" 2>/dev/null || echo 0
}

@test "ctr checkpoints a task into an image and restores it live: the count goes on" {
	need_criu
	ctr_run -d "$IMAGE" c-ckpt sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	count_above task_count c-ckpt 2
	# ctr leaves the task running (berth gets --leave-running): the count read before the
	# checkpoint is what the restored loop must be at or above.
	local before first
	before=$(task_count c-ckpt)
	ctr containers checkpoint --task c-ckpt berth-ckpt:1
	ctr task kill -s KILL c-ckpt
	wait_stopped c-ckpt
	ctr task rm c-ckpt
	ctr containers rm c-ckpt
	ctr containers restore --live c-ckpt berth-ckpt:1
	run ctr task ls
	[[ "$output" =~ c-ckpt[[:space:]]+[0-9]+[[:space:]]+RUNNING ]] || fail "not running: $output"
	first=$(task_count c-ckpt)
	[ "$first" -ge "$before" ] || fail "restored count $first is below the checkpoint's $before"
	count_above task_count c-ckpt "$first"
	ctr task kill -s KILL c-ckpt
	wait_stopped c-ckpt
	ctr task rm c-ckpt
	ctr containers rm c-ckpt
	ctr images rm berth-ckpt:1
	assert_no_leaks c-ckpt
}

@test "nothing is left: no shims, cgroups or runtime state" {
	run ctr task ls -q
	[ -z "$output" ]
	no_process "containerd-shim-runc-v2 .*-address $CTRD_DIR" "a shim"
	local parent m
	parent=$(dirname "$(task_cgroup_dir any)")
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$parent" ] || [ -z "$(find "$m/$parent" -mindepth 1 -maxdepth 1 -type d)" ]
	done
}
