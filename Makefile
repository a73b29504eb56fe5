# berth: build, fixture, run and test. Everything here runs as root on Debian.

CARGO      ?= cargo
BUILD_DIR  := build
ROOTFS     := $(BUILD_DIR)/busybox/rootfs
DEMO       := $(BUILD_DIR)/demo
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
BERTH      := $(TARGET_DIR)/release/berth
BUSYBOX    := /bin/busybox
BENCH_ARGS ?=

.PHONY: all build fixture run test test-image test-integration test-cri test-cgroupv2 test-systemd test-systemd-v1 lint clean bench bench-cri bench-image bench-seccomp hot-symbols fuzz

all: build

# Each target installs the Debian packages it needs (a fresh Debian machine has none of the test
# tools): $(call apt_install,PACKAGE...) installs those not installed yet, with one apt-get.
apt_install = missing=; for p in $(1); do \
		dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || missing="$$missing $$p"; \
	done; [ -z "$$missing" ] || { echo "apt-get install$$missing"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }

# gcc libc6-dev: tests/seccomp.rs's static helpers; golang-github-containers-common: podman's
# seccomp profile (tests/seccomp.rs); iproute2: tests/net_devices.rs's veth pairs; util-linux:
# losetup (the blkio throttle test's loop device) and setpriv; protobuf-compiler: the CRI client
# of integration/cri is generated from its .proto when the workspace builds; criu: tests/checkpoint.rs
# (its CRIU cases skip where the kernel is newer than criu knows, and run in the VMs).
TEST_PACKAGES        := gcc libc6-dev golang-github-containers-common iproute2 util-linux protobuf-compiler criu
IMAGE_TEST_PACKAGES  := docker-registry apache2-utils openssl
# uidmap: newuidmap/newgidmap, which rootless podman maps its user's subordinate ids with.
INTEGRATION_PACKAGES := bats containerd podman docker.io golang-github-containers-common python3 util-linux \
	uidmap
# integration/cri: containerd's CRI plugin with CNI's bridge (iptables, iproute2's ip and nsenter
# look at the pods' network), runc as the reference handler, crun as bench-cri's third.
CRI_PACKAGES         := containerd containernetworking-plugins iptables iproute2 util-linux runc crun \
	python3 protobuf-compiler
# The cgroup v2 VM (integration/cgroupv2/build-vm lists what each is for); apparmor: its AppArmor
# test loads a profile with apparmor_parser; bpftool: tests/cgroups.rs lists the device program;
# criu: tests/checkpoint.rs (Debian's criu works on the guest's 6.1 kernel).
VM_PACKAGES          := qemu-system-x86 linux-image-amd64 cpio kmod python3 busybox-static e2fsprogs apparmor bpftool \
	criu
# The systemd VM's PID 1 and system bus.
SYSTEMD_VM_PACKAGES  := systemd dbus

# The shipped binary: glibc linked statically (no loader, no shared-library pages), relative
# relocations packed (RELR), and the functions common commands run placed first and together
# (layout/hot-symbols.txt, see layout/record). `cargo build --release` gives a plain build.
RELEASE_FLAGS := -C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs \
	-C link-arg=-Wl,--symbol-ordering-file=$(CURDIR)/layout/hot-symbols.txt \
	-C link-arg=-Wl,--no-warn-symbol-ordering
EXTRA_RUSTC_FLAGS ?=

build:
	$(CARGO) rustc --release -p berth --bin berth -- $(RELEASE_FLAGS) $(EXTRA_RUSTC_FLAGS)

# The busybox bundle every test and `make run` use; made from Debian's busybox-static, no downloads.
fixture: $(ROOTFS)/bin/busybox

$(BUSYBOX):
	@$(call apt_install,busybox-static)

$(ROOTFS)/bin/busybox: $(BUSYBOX) fixtures/busybox/make-rootfs
	fixtures/busybox/make-rootfs $(BUSYBOX) $(ROOTFS)

# Builds berth and the fixture, then runs one container that prints a greeting.
run: build fixture
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	cp fixtures/busybox/config.json $(DEMO)/config.json
	ln -s ../busybox/rootfs $(DEMO)/rootfs
	$(BERTH) run --bundle $(DEMO) berth-demo-$$$$

# The unit tests of every workspace crate (berth, berth-image, berth-bench), then berth's root-only
# container tests in tests/ (real containers, one at a time per core). berth-image's own suites
# need a registry server and run in test-image. Under CI=true a skipped check fails unless
# tests/skips-allowed.txt lists it (tests/common/skip.rs).
test: fixture
	@$(call apt_install,$(TEST_PACKAGES))
	$(CARGO) test --workspace --lib --bins
	$(CARGO) test -p berth --test '*'

# berth-image against docker-registry on 127.0.0.1 (htpasswd from apache2-utils, tokens signed
# by openssl): registry round trips, crafted layers, and a bundle run under berth.
test-image: fixture
	@$(call apt_install,$(IMAGE_TEST_PACKAGES))
	$(CARGO) build -p berth
	$(CARGO) test -p berth-image

# pull+unpack of a multi-layer image from a local registry: berth-image vs skopeo+umoci vs tar -x.
bench-image:
	@$(call apt_install,docker-registry skopeo umoci hyperfine python3)
	bench/image/run

# Real clients drive the release build: containerd's runc v2 shim (ctr), podman with conmon (as
# root, and rootless as a user the suite makes), and a private dockerd (Debian's docker.io) —
# RUNTIME=runc checks the suites themselves against runc; the rootless suite runs against runc
# every time too (a minute): what it expects is runc's words and layout.
# Their input is /dev/null whatever the caller's is: with fd 0 closed, ctr takes the first FIFO it
# opens for its stdin and eats the container's output. Each test has 5 minutes (bats names one
# that runs out), the whole run 20.
test-integration: build fixture
	@$(call apt_install,$(INTEGRATION_PACKAGES) runc)
	BATS_TEST_TIMEOUT=300 timeout -k 30 1200 bats integration/containerd integration/podman \
		integration/podman-rootless integration/docker </dev/null
	RUNTIME=runc BATS_TEST_TIMEOUT=300 timeout -k 30 600 bats integration/podman-rootless </dev/null

# berth under containerd's CRI plugin as kubelet drives it (integration/cri): a private containerd
# with CNI, and every test of the Rust CRI client suite on the runc handler (the reference) and
# on berth — RUNTIME=runc puts runc behind the berth handler, which checks the suite itself.
# CRI_CGROUP_DRIVER=systemd runs it with SystemdCgroup = true. Built before containerd starts;
# the whole run is bounded, and anything a run leaves behind fails it.
CRI := integration/cri/with-containerd

test-cri: build fixture
	@$(call apt_install,$(CRI_PACKAGES))
	$(CARGO) test -p berth-cri-tests --no-run
	timeout -k 30 1200 $(CRI) $(CARGO) test -p berth-cri-tests -- --test-threads=4 </dev/null

# Pods through one containerd: berth against runc and crun as runtime handlers, interleaved
# (bench/cri). crun takes no hybrid host with cgroup2 controllers: the run sees cgroup v1 only.
bench-cri: build fixture
	@$(call apt_install,$(CRI_PACKAGES))
	$(CARGO) build --release -p berth-cri-bench
	CRI_V1_ONLY=1 timeout -k 30 1200 $(CRI) $(TARGET_DIR)/release/berth-cri-bench $(BENCH_ARGS) </dev/null

# tests/ suites in a QEMU VM whose kernel mounts pure cgroup v2 (the host is hybrid v1): the test
# binaries are built here and taken from cargo's own list (stale ones left in deps/ by older
# builds are not run), then integration/cgroupv2/run-tests runs, in the guest, its smoke and
# AppArmor checks (the guest kernel has AppArmor on; apparmor_parser comes from the host's apparmor
# package) and each binary — against the release berth (`make build`, what ships; 3x faster than
# the debug build under emulation), shown in the guest where the suites expect the debug one.
# CI reaches the guest, so its skips fail there too unless allow-listed; BERTH_CRIU_EXPECTED makes
# tests/checkpoint.rs fail instead of skip when criu does not work there.
# $(1) is the VM profile: cgroupv2 (no manager), systemd or systemd-v1 (PID 1); $(2) the suites
# to run, by their names in tests/ (all when empty); $(3) the client suites of integration/ to
# run after them (bats, against the release berth: CARGO_TARGET_DIR reaches the guest).
# VM_SUITES and VM_CLIENTS pick others; VM_TESTS_TIMEOUT bounds the VM.
VM         := integration/cgroupv2
VM_TESTS_TIMEOUT ?= 3000
# $(1)'s value, or $(2) when $(1) is not set at all (set empty, it stays empty).
or_default = $(if $(filter undefined,$(origin $(1))),$(2),$($(1)))
# The executables of cargo's JSON messages in file $(1) whose target kind is test.
test_executables = sed -n '/"kind":\["test"\]/s/.*"executable":"\([^"]*\)".*/\1/p' $(1)
run_vm_tests = mkdir -p $(TARGET_DIR) && \
	$(CARGO) test -p berth --no-run --test '*' --message-format=json-render-diagnostics > $(TARGET_DIR)/vm-tests.json && \
	$(if $(filter cri,$(3)),$(CARGO) test -p berth-cri-tests --no-run --message-format=json-render-diagnostics \
		> $(TARGET_DIR)/vm-cri-tests.json && \
		export CRI_TESTS=$$($(call test_executables,$(TARGET_DIR)/vm-cri-tests.json)) &&) \
	$(VM)/build-vm && \
	tests=$$($(call test_executables,$(TARGET_DIR)/vm-tests.json)) && \
	if [ -n "$(2)" ]; then tests=$$(for t in $$tests; do n=$$(basename "$$t"); \
		case " $(2) " in *" $${n%-*} "*) echo "$$t" ;; esac; done); fi && \
	VM_PROFILE=$(1) VM_TIMEOUT=$(VM_TESTS_TIMEOUT) BERTH=$(BERTH) TESTS_BERTH=$(TARGET_DIR)/debug/berth \
	VM_TESTS="$$tests" VM_CLIENTS="$(3)" VM_BIND="$(TARGET_DIR)" BERTH_CRIU_EXPECTED=1 \
	VM_ENV="BERTH TESTS_BERTH VM_TESTS VM_CLIENTS CGROUP_DRIVER CRI_TESTS CI RUST_BACKTRACE BERTH_CRIU_EXPECTED CARGO_TARGET_DIR $$VM_ENV" \
	$(VM)/run-in-vm $(VM)/run-tests

# Pure cgroup v2 without a manager: the cgroup suite, or those VM_SUITES names (VM_SUITES= for
# all). The checkpoint suite (CRIU works on the guest's kernel, not on every host's) runs in both
# systemd VMs.
test-cgroupv2: build fixture
	@$(call apt_install,$(VM_PACKAGES))
	$(call run_vm_tests,cgroupv2,$(call or_default,VM_SUITES,cgroups))

# Every suite in a VM that boots the host's systemd as PID 1 (its system bus up): the job runs in
# a unit whose cgroup systemd delegates, and the tests make their cgroups there. Then the real
# clients, as on a systemd host: with their systemd cgroup drivers (rootless podman under the
# user's own systemd manager); `cri` is integration/cri's suite on the berth handler, its pods
# in slices as kubelet's systemd driver makes them (SystemdCgroup = true).
test-systemd: export CGROUP_DRIVER ?= systemd
test-systemd: build fixture
	@$(call apt_install,$(VM_PACKAGES) $(SYSTEMD_VM_PACKAGES) $(INTEGRATION_PACKAGES) $(CRI_PACKAGES))
	$(call run_vm_tests,systemd,$(VM_SUITES),$(call or_default,VM_CLIENTS,containerd podman podman-rootless docker cri))

# The same VM on systemd's hybrid cgroup v1 layout (systemd.unified_cgroup_hierarchy=0, what
# hosts of older distributions boot): the driver's suite with v1's property names and files,
# the checkpoint suite (CRIU freezes through the v1 freezer), and containerd with its systemd
# cgroup driver.
test-systemd-v1: export CGROUP_DRIVER ?= systemd
test-systemd-v1: build fixture
	@$(call apt_install,$(VM_PACKAGES) $(SYSTEMD_VM_PACKAGES) $(INTEGRATION_PACKAGES))
	$(call run_vm_tests,systemd-v1,$(call or_default,VM_SUITES,systemd_cgroup checkpoint),$(call or_default,VM_CLIENTS,containerd))

# What seccomp costs: compiling and installing berth's default profile, and a filtered syscall.
bench-seccomp:
	$(CARGO) test --release --lib seccomp::bench -- --ignored --nocapture --test-threads=1

# berth, crun and runc on one bundle, interleaved, with a kernel-only floor: a Markdown table
# (see bench/README.md). Extra flags through BENCH_ARGS, e.g. BENCH_ARGS="--samples 3".
bench: build fixture
	@$(call apt_install,runc crun strace)
	$(CARGO) build --release -p berth-bench
	$(TARGET_DIR)/release/berth-bench --berth $(BERTH) --rootfs $(ROOTFS) $(BENCH_ARGS)

# Each fuzz target (fuzz/README.md) for FUZZ_SECONDS, from the committed seeds and the corpus it
# grew before; stops at the first target that breaks its property. libFuzzer through cargo fuzz,
# without a sanitizer on the stable toolchain (FUZZ_SANITIZER=address builds one in through
# RUSTC_BOOTSTRAP). The unpack target needs root.
FUZZ_TARGETS   ?= config seccomp go_flags unpack manifest
FUZZ_SECONDS   ?= 300
FUZZ_SANITIZER ?= none
CARGO_FUZZ     := 0.13.2
FUZZ_BUILD     := --sanitizer $(FUZZ_SANITIZER) --target-dir $(TARGET_DIR)/fuzz-$(FUZZ_SANITIZER)
# FUZZ_RUNS=N (with FUZZ_SEED) makes a run repeatable, as CI needs: N inputs per target, the
# same ones every time for one commit. FUZZ_SECONDS explores for that long instead.
FUZZ_SEED      ?= 1
FUZZ_LIMIT     = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS) -seed=$(FUZZ_SEED),-max_total_time=$(FUZZ_SECONDS))
FUZZ_ENV       := $(if $(filter none,$(FUZZ_SANITIZER)),,RUSTC_BOOTSTRAP=1)

fuzz:
	@$(CARGO) fuzz --version 2>/dev/null | grep -qF ' $(CARGO_FUZZ)' || \
		$(CARGO) install --locked cargo-fuzz --version $(CARGO_FUZZ)
	$(FUZZ_ENV) $(CARGO) fuzz build $(FUZZ_BUILD)
	for t in $(FUZZ_TARGETS); do mkdir -p fuzz/corpus/$$t && \
		$(FUZZ_ENV) $(CARGO) fuzz run $(FUZZ_BUILD) $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
		$(FUZZ_LIMIT) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

# Records which functions berth's common commands call (as root): layout/hot-symbols.txt.
hot-symbols:
	@$(call apt_install,gcc libc6-dev)
	layout/record

lint:
	@$(call apt_install,protobuf-compiler)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --workspace -- -D warnings

clean:
	rm -rf $(BUILD_DIR)
	$(CARGO) clean
