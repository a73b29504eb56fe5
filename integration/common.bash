# What both client suites share; each suite's helpers.bash sets REPO and sources this.

# The runtime under test: the berth built by `make build` (in CARGO_TARGET_DIR when set, taken
# from the checkout when relative, as make and cargo do), or RUNTIME (RUNTIME=runc checks the
# suites themselves against runc).
runtime_binary() {
	local target=${CARGO_TARGET_DIR:-target}
	[[ $target == /* ]] || target=$REPO/$target
	case "${RUNTIME:-berth}" in
	berth) echo "$target/release/berth" ;;
	*) command -v "$RUNTIME" ;;
	esac
}

# The cgroup driver the clients are set up with: cgroupfs (default) or systemd, on a host that
# boots systemd (make test-systemd sets it): the engine then passes --systemd-cgroup and
# slice:prefix:name paths to the runtime, and containers live in systemd's scopes.
CGROUP_DRIVER=${CGROUP_DRIVER:-cgroupfs}
case $CGROUP_DRIVER in
cgroupfs | systemd) ;;
*) echo "CGROUP_DRIVER must be cgroupfs or systemd, not $CGROUP_DRIVER" >&2 && exit 1 ;;
esac

# $1 (a slice or a plain directory under each hierarchy) goes when a run ends: a slice is
# systemd's to stop, which also removes what is left in it.
remove_cgroup_parent() {
	[ "$CGROUP_DRIVER" != systemd ] || systemctl stop "$1" 2>/dev/null || true
	local m
	for m in $(cgroup_mounts); do
		[ ! -d "$m/$1" ] || find "$m/$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# Every cgroup hierarchy's mount point.
cgroup_mounts() {
	awk '$9 ~ /^cgroup2?$/ {print $5}' /proc/self/mountinfo
}

# Starts "$@" in the background in a session of its own, its output into the file $1, holding
# none of bats's descriptors: a daemon with bats's output pipe would keep the run from ending.
daemon() {
	local log=$1
	shift
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -le 2 ] || eval "exec $fd>&-"
		done
		exec setsid "$@" >"$log" 2>&1 </dev/null
	) &
}

fail() {
	echo "$*" >&2
	return 1
}

# Fails, naming them, when processes whose command line matches the pgrep pattern $1 are still
# alive after 5 s (a conmon or shim on its way out may take a moment on a loaded machine); $2 says
# what they would be. (A bare `! pgrep …` never fails a test: errexit ignores a `!`.)
no_process() {
	local found
	for _ in $(seq 50); do
		found=$(pgrep -af "$1") || return 0
		sleep 0.1
	done
	fail "$2 left: $found"
}

# Waits (up to 5 s) until file $1 has the line $2, then checks that it has.
wait_line() {
	for _ in $(seq 50); do
		grep -qx -- "$2" "$1" && return 0
		sleep 0.1
	done
	fail "no line \"$2\" in $1: $(cat "$1")"
}

# bats's skip, which under CI is taken only for a key tests/skips-allowed.txt lists (as
# tests/common/skip.rs does for the Rust suites): $1 the key, $2 why.
allowed_skip() {
	local reason
	reason=$(awk -v k="$1" '$1 == k {$1 = ""; sub(/^ +/, ""); print}' "$REPO/tests/skips-allowed.txt")
	case "${CI:-}" in "" | false | 0) ;; *)
		[ -n "$reason" ] || fail "SKIP $1: $2 (under CI a skip is a failure unless tests/skips-allowed.txt lists $1)" ;;
	esac
	skip "$1: $2${reason:+ (allowed: $reason)}"
}

# Checkpoint tests need a CRIU that works on this kernel (Debian's criu does not know this host's
# 6.18): they skip here and run in the systemd VM, where BERTH_CRIU_EXPECTED makes a failing
# `criu check` a failure.
need_criu() {
	local out
	out=$(criu check 2>&1) && return 0
	[ -z "${BERTH_CRIU_EXPECTED:-}" ] || fail "criu check failed where CRIU must work: $out"
	allowed_skip checkpoint/criu-unusable "criu check: $(echo "$out" | tail -1)"
}

# Waits (up to 10 s) until `$1 $2` (a command that prints a count) prints more than $3.
count_above() {
	local count=$1 id=$2 floor=$3
	for _ in $(seq 100); do
		[ "$("$count" "$id")" -gt "$floor" ] && return 0
		sleep 0.1
	done
	fail "the count of $id stayed at $("$count" "$id") (not above $floor)"
}
