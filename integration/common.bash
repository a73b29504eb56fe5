# What both client suites share; each suite's helpers.bash sets REPO and sources this.

# The runtime under test: the berth built by `make build`, or RUNTIME (RUNTIME=runc checks the
# suites themselves against runc).
runtime_binary() {
	case "${RUNTIME:-berth}" in
	berth) echo "$REPO/target/release/berth" ;;
	*) command -v "$RUNTIME" ;;
	esac
}

# Every cgroup hierarchy's mount point.
cgroup_mounts() {
	awk '$9 ~ /^cgroup2?$/ {print $5}' /proc/self/mountinfo
}

fail() {
	echo "$*" >&2
	return 1
}
