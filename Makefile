# SPDX-License-Identifier: GPL-2.0
#
# vtap: kernel module (kmod/), BPF programs (bpf/) and vtapctl (user/).
#
#   make               build everything (module with BTF, BPF objects, vtapctl)
#   make check         the whole test suite (host, guest, packages, debug-kernel tier)
#   make demo          boot the test VM and mirror two VMs' traffic to a collector
#   make fuzz          fuzz-decode (libFuzzer on the collector's decoder, FUZZ_TIME
#                      seconds) then fuzz-netlink (FUZZ_NL_COUNT random and mutated
#                      messages to the genetlink family, in the test VM)
#                      then fuzz-packet (FUZZ_PKT_COUNT random and mutated frames
#                      through mirrored tap and veth ports, in the test VM)
#   make install       vtap.ko (+ depmod), vtapctl, man pages, completion, docs;
#                      DESTDIR=, PREFIX= (/usr/local); make uninstall
#   make dkms-install  the module's sources to /usr/src/vtap-VERSION for DKMS
#   make deb           Debian packages in build/deb: vtap-dkms_VERSION_all.deb
#                      (DKMS builds vtap.ko) and vtapctl_VERSION_ARCH.deb; lintian
#   make check-packages  (part of make check) make deb, install both with apt-get, the VM
#                      loads the DKMS-built module and mirrors, purge leaves nothing
#   make deps          install the Debian packages the build and tests need
#   make style         checkpatch.pl on the kernel sources
#   make sparse        sparse (C=2) over the module
#   make clean
#
# KVER/KDIR: the kernel to build the module for.  By default the running
# kernel when its headers are installed, else the newest Debian 6.1 kernel
# in /lib/modules (the test VM's kernel).  The module is built against a
# private copy of the headers that has vmlinux (for module BTF) and
# resolve_btfids, made by tools/kbuild/prepare; pass KDIR= to use your own.

TOP		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD		:= $(TOP)/build
V		?= 0
Q		:= $(if $(filter 1,$(V)),,@)

KVER		?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
			   else $(TOP)/tools/kbuild/kver 2>/dev/null; fi)
KDIR_AUTO	= $(shell $(TOP)/tools/kbuild/prepare $(KVER))
KMAKE		= $(MAKE) -C $(or $(KDIR),$(KDIR_AUTO)) M=$(TOP) VTAP_WERROR=y \
		  $(if $(KDIR),,RESOLVE_BTFIDS=$(KDIR_AUTO)/resolve_btfids)

CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
PKGS		:= libnl-genl-3.0 libbpf
USER_INC	:= $(foreach d,user user/cmd user/lib user/collect,-I$(TOP)/$(d))
USER_CFLAGS	:= -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE \
		   -I$(TOP)/include/uapi -I$(TOP)/include -I$(BUILD)/bpf \
		   $(USER_INC) $(EXTRA_CFLAGS)
USER_LIBS	= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
USER_PKGCFLAGS	= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BPF_CFLAGS	:= -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 \
		   -I$(TOP)/include/uapi -I$(TOP)/include \
		   -I/usr/include/$(shell gcc -dumpmachine 2>/dev/null)

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
# Each program also has a "-rec" variant that records its decisions instead of
# calling the module's kfunc (see include/vtap_bpf.h), for host-side tests.
BPF_NAMES	:= $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
BPF_OBJS	:= $(foreach n,$(BPF_NAMES),$(BUILD)/bpf/$(n).bpf.o $(BUILD)/bpf/$(n)-rec.bpf.o)
BPF_SKELS	:= $(patsubst %.bpf.o,%.skel.h,$(BPF_OBJS))
# user/: vtapctl.c (main, the object table); cmd/: one file per object's
# commands; lib/: what they share (arguments and output, netlink, BPF maps,
# the rule compiler, the configuration file, IPFIX); collect/: the collector.
USER_DIRS	:= user user/cmd user/lib user/collect
USER_SRCS	:= $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c))
USER_HDRS	:= $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.h)) \
		   $(wildcard include/*.h include/uapi/linux/*.h)
VTAPCTL		:= $(BUILD)/vtapctl

.PHONY: all module bpf user deps check check-host check-guest demo style \
	sparse clean help
.DEFAULT_GOAL := all

all: module bpf user selftests

help:
	$(Q)sed -n '3,30p' $(TOP)/Makefile | sed 's/^# \{0,1\}//'

deps:
	$(Q)$(TOP)/tools/deps

module:
	$(Q)test -n "$(KVER)$(KDIR)" || { echo "no kernel headers found: run 'make deps' or set KDIR=" >&2; exit 1; }
	$(Q)$(KMAKE) modules

bpf: $(BPF_OBJS) $(BPF_SKELS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(USER_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%-rec.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(USER_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DVTAP_RECORD -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

user: $(VTAPCTL)

$(VTAPCTL): $(USER_SRCS) $(USER_HDRS) $(BPF_SKELS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(USER_PKGCFLAGS) $(LDFLAGS) -o $@ $(USER_SRCS) $(USER_LIBS)

# vtapctl built with ASan and UBSan, for the tests.
ASAN_VTAPCTL	:= $(BUILD)/asan/vtapctl
$(ASAN_VTAPCTL): $(USER_SRCS) $(USER_HDRS) $(BPF_SKELS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=undefined $(USER_PKGCFLAGS) -o $@ $(USER_SRCS) $(USER_LIBS)

# The test suite: host tier (unit tests, BPF_PROG_TEST_RUN, netns without the
# module), then guest tier (tools/vm/run with the freshly built module).
check:
	$(Q)$(TOP)/tools/deps --quiet
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)$(TOP)/selftests/run $(if $(TIERS),--tiers "$(TIERS)")

check-host:
	$(Q)$(MAKE) --no-print-directory -C $(TOP) check TIERS=host

check-guest:
	$(Q)$(MAKE) --no-print-directory -C $(TOP) check TIERS=guest

# The debug tier alone: every guest test on a debug kernel (KASAN, lockdep,
# kmemleak, UBSAN...; built once and cached, see tools/vm/debug/kernel) with a
# vtap.ko built for it in build/debug, then the planted-bug self-test.
# `make check` runs it too, with the guest tests that drive vtap.ko's own
# code (selftests/run: VTAP_DEBUG_TESTS), unless VTAP_SKIP_DEBUG=1.
.PHONY: check-debug
check-debug:
	$(Q)VTAP_DEBUG_TESTS=$${VTAP_DEBUG_TESTS:-all} $(MAKE) --no-print-directory -C $(TOP) check TIERS=debug

demo:
	$(Q)$(TOP)/tools/deps --quiet
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)VTAP_VM_OUT=$(BUILD)/demo $(TOP)/tools/vm/run $(TOP)/tools/demo/demo.sh
	$(Q)echo "demo: the collector's capture is $(BUILD)/demo/collector.pcap"

# BIT_MACRO: the UAPI and shared headers are also compiled by userspace and
# BPF programs, where BIT() does not exist.
# Benchmarks (see Documentation/performance.md): BPF_PROG_TEST_RUN on the host.
BPF_BENCH	:= $(BUILD)/bpf_bench
$(BPF_BENCH): tools/bench/bpf_bench.c user/lib/rules.c user/lib/rules.h user/lib/util.c \
		$(BUILD)/bpf/vtap-rec.skel.h include/vtap_bpf.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(USER_PKGCFLAGS) -o $@ $< user/lib/rules.c user/lib/util.c $(USER_LIBS)

# A tap VM's vNIC for the tap cases of guest_bench.sh.
$(BUILD)/tapwrite: tools/bench/tapwrite.c
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

.PHONY: bench
bench:
	$(Q)$(TOP)/tools/deps --quiet
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all $(BPF_BENCH) $(BUILD)/tapwrite
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)echo "== BPF_PROG_TEST_RUN on the host ($$(uname -r), $$(nproc) CPUs)"
	$(Q)$(BPF_BENCH) -j > $(BUILD)/bench/host.json
	$(Q)echo "== in the test VM: throughput, mirrored pps, memory, one boot"
	$(Q)rm -f $(BUILD)/bench/vm/guest.json
	$(Q)VTAP_VM_OUT=$(BUILD)/bench/vm VTAP_VM_KEEP=1 \
		$(TOP)/tools/vm/run -t 2400 $(TOP)/tools/bench/guest_bench.sh
	$(Q)$(MAKE) --no-print-directory -C $(TOP) bench-icount-run
	$(Q)echo "== vtap benchmarks ($$(uname -r) host, $$(nproc) CPUs; guest: tools/vm/run)"
	$(Q)python3 $(TOP)/tools/bench/table.py $(BUILD)/bench/host.json $(BUILD)/bench/vm/guest.json \
		$(BUILD)/bench/icount/guest.json

# vtapctl collect to DEV, raw sockets against XDP, in the test VM (no module).
.PHONY: bench-collect
bench-collect:
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)VTAP_VM_OUT=$(BUILD)/bench/collect $(TOP)/tools/vm/run -n -t 1200 \
		$(TOP)/tools/bench/collect_bench.sh

# The cost model: the same cases in a guest whose clock counts instructions
# (QEMU -icount, one vCPU), so that a ratio does not move with the host's
# load; the remote cases need a second CPU and are left out.
ICOUNT_CASES	:= off nomatch inline vxlan dedup deferred mirred inline-nic mirred-nic off-ct inline-ct mirred-ct
.PHONY: bench-icount bench-icount-run
bench-icount-run:
	$(Q)echo "== in the cost-model VM (QEMU -icount, one vCPU): throughput, mirrored pps"
	$(Q)rm -f $(BUILD)/bench/icount/guest.json
	$(Q)VTAP_VM_OUT=$(BUILD)/bench/icount VTAP_VM_KEEP=1 VTAP_VM_ICOUNT=2 \
		VTAP_BENCH_PARTS="pps tcp" VTAP_BENCH_ROUNDS=5 VTAP_BENCH_COUNT=50000 \
		VTAP_BENCH_TCP_SECS=3 VTAP_BENCH_PPS_CASES="$(ICOUNT_CASES)" \
		VTAP_BENCH_TCP_CASES="$(ICOUNT_CASES) slice" \
		$(TOP)/tools/vm/run -t 1800 $(TOP)/tools/bench/guest_bench.sh
bench-icount:
	$(Q)$(TOP)/tools/deps --quiet
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all bench-icount-run
	$(Q)python3 $(TOP)/tools/bench/table.py /dev/null /dev/null $(BUILD)/bench/icount/guest.json

CHECKPATCH	?= $(TOP)/tools/kbuild/checkpatch
style:
	$(Q)$(CHECKPATCH) --no-tree --strict --terse --show-types \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,BIT_MACRO \
		-f $(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h include/uapi/linux/vtap.h \
		include/vtap_bpf.h

sparse:
	$(Q)touch kmod/*.c && $(KMAKE) C=2 CF="-D__CHECK_ENDIAN__" modules 2>&1 | \
		tee $(BUILD)/sparse.log | grep -E 'warning|error' && exit 1 || true

clean:
	$(Q)if [ -n "$(KDIR)" ] || [ -d "$${VTAP_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/vtap}/kbuild-$(KVER)" ]; then \
		$(KMAKE) clean >/dev/null; fi
	$(Q)rm -rf $(BUILD) kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order modules.order Module.symvers .*.cmd

# ---- selftests ------------------------------------------------------------
KSFT_DIR	= $(shell $(TOP)/tools/kbuild/ksft-headers)
ST_HOST		:= $(BUILD)/selftests/host
ST_CFLAGS	= $(USER_CFLAGS) -Wno-missing-prototypes -Wno-shadow -Wno-sign-compare \
		  -Wno-unused-parameter -isystem $(KSFT_DIR)

.PHONY: selftests
ST_GUEST	:= $(BUILD)/selftests/guest
selftests: $(ASAN_VTAPCTL) $(ST_HOST)/unit_util $(ST_HOST)/bpf_classify $(ST_HOST)/bpf_rules $(ST_GUEST)/genl_policy

$(ST_GUEST)/genl_policy: selftests/guest/genl_policy.c include/uapi/linux/vtap.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) -o $@ $<

# The netlink fuzzer that selftests/guest/fuzz_netlink.sh runs in the test VM.
# Not in $(ST_GUEST): selftests/run runs every program there as a guest test.
GENL_FUZZ	:= $(BUILD)/fuzz/genl_fuzz
selftests: $(GENL_FUZZ)

$(GENL_FUZZ): selftests/fuzz/genl_fuzz.c include/uapi/linux/vtap.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

$(ST_HOST)/unit_util: selftests/host/unit_util.c user/lib/util.c user/lib/util.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) -o $@ selftests/host/unit_util.c user/lib/util.c

# vtapctl session and info: the attributes built, the text and JSON printed.
selftests: $(ST_HOST)/unit_session
$(ST_HOST)/unit_session: selftests/host/unit_session.c user/cmd/session.c user/cmd/session_opts.c \
		user/cmd/info.c user/lib/nl.c user/lib/util.c $(USER_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(USER_PKGCFLAGS) -o $@ $< user/cmd/session_opts.c user/lib/nl.c \
		user/lib/util.c $(USER_LIBS)

$(ST_HOST)/bpf_rules: selftests/host/bpf_rules.c user/lib/rules.c user/lib/rules.h user/lib/util.c \
		$(BUILD)/bpf/vtap-rec.skel.h include/vtap_bpf.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(USER_PKGCFLAGS) -o $@ $< user/lib/rules.c user/lib/util.c $(USER_LIBS)

$(ST_HOST)/bpf_classify: selftests/host/bpf_classify.c $(BUILD)/bpf/vtap-rec.skel.h include/vtap_bpf.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(USER_PKGCFLAGS) -o $@ $< $(USER_LIBS)

# vtapctl collect's XDP program under BPF_PROG_TEST_RUN, decode.c the reference.
selftests: $(ST_HOST)/bpf_collect
$(ST_HOST)/bpf_collect: selftests/host/bpf_collect.c $(BUILD)/bpf/collect.skel.h \
		include/vtap_collect_bpf.h user/collect/decode.c user/collect/decode.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(USER_PKGCFLAGS) -o $@ $< user/collect/decode.c $(USER_LIBS)

# vtapctl collect: unit tests of the decoder and the pcapng writer, and the
# fuzzer's seeds and regression inputs replayed; with ASan/UBSan, so that a
# read out of bounds fails the test.
ST_SAN		:= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all
DECODE_SRCS	:= user/collect/decode.c user/collect/decode.h
PCAPNG_SRCS	:= user/collect/pcapng.c user/collect/pcapng.h
selftests: $(ST_HOST)/unit_decode $(ST_HOST)/unit_pcapng $(ST_HOST)/fuzz_decode_replay

# vtapctl stats format prometheus: the text format, label escaping, families.
selftests: $(ST_HOST)/unit_prom
$(ST_HOST)/unit_prom: selftests/host/unit_prom.c user/lib/prom.c user/lib/prom.h user/lib/util.c \
		user/lib/util.h user/vtapctl.h include/vtap_bpf.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(ST_SAN) -o $@ $< user/lib/prom.c user/lib/util.c

# vtapctl flows export: the IPFIX encoder.
selftests: $(ST_HOST)/unit_ipfix
$(ST_HOST)/unit_ipfix: selftests/host/unit_ipfix.c user/lib/ipfix.c user/lib/ipfix.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(ST_SAN) -o $@ $< user/lib/ipfix.c

$(ST_HOST)/unit_decode: selftests/host/unit_decode.c $(DECODE_SRCS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(ST_SAN) -o $@ $< user/collect/decode.c

$(ST_HOST)/unit_pcapng: selftests/host/unit_pcapng.c $(PCAPNG_SRCS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(ST_SAN) -o $@ $< user/collect/pcapng.c

$(ST_HOST)/fuzz_decode_replay: selftests/fuzz/fuzz_decode.c selftests/fuzz/replay.c \
			       $(DECODE_SRCS) $(PCAPNG_SRCS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ST_CFLAGS) $(ST_SAN) -DFUZZ_DIR='"$(TOP)/selftests/fuzz"' -o $@ \
		selftests/fuzz/fuzz_decode.c selftests/fuzz/replay.c user/collect/decode.c user/collect/pcapng.c

# make fuzz: fuzz-decode, then fuzz-netlink, then fuzz-packet.
# make fuzz-decode: libFuzzer (clang) on the decoder for FUZZ_TIME seconds, from
# the seeds in selftests/fuzz/corpus/ (made by `collect_pkt.py seeds`); new
# inputs go to build/fuzz/corpus/, a crash to build/fuzz/crash-*: copy it to
# selftests/fuzz/regress/ once fixed, the host tier replays it from then on.
# make fuzz-netlink: build/fuzz/genl_fuzz in the test VM
# (selftests/guest/fuzz_netlink.sh): FUZZ_NL_COUNT random and mutated
# messages to vtap's genetlink family, unprivileged then privileged; a kernel
# WARN/oops/KASAN, a hang, a malformed reply or a change that should not have
# happened fails it, and the seed and the message in hex are printed
# (VTAP_FUZZ_NL_SEED=N repeats a run).
# make fuzz-packet: selftests/guest/fuzz_packet.sh in the test VM: twice
# FUZZ_PKT_COUNT random and mutated frames (selftests/lib/pktfuzz.py), from a
# tap with virtio_net_hdr metadata and from a veth, through ports that seven
# sessions mirror while the VMs ping each other; a kernel WARN/oops/KASAN, a
# hang, a lost ping, a changed frame or counters that do not add up fail it
# (VTAP_FUZZ_PKT_SEED=N repeats a run, `pktfuzz.py show` prints a frame).
FUZZ_TIME	?= 60
FUZZ_NL_COUNT	?= 10000
FUZZ_PKT_COUNT	?= 20000
FUZZ_BIN	:= $(BUILD)/fuzz/fuzz_decode
.PHONY: fuzz fuzz-decode fuzz-netlink fuzz-packet
fuzz:		# one after the other, also under make -j
	$(Q)$(MAKE) --no-print-directory -C $(TOP) fuzz-decode
	$(Q)$(MAKE) --no-print-directory -C $(TOP) fuzz-netlink
	$(Q)$(MAKE) --no-print-directory -C $(TOP) fuzz-packet

fuzz-netlink:
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)VTAP_FUZZ_NL_COUNT=$(FUZZ_NL_COUNT) \
		VTAP_FUZZ_NL_SEED=$${VTAP_FUZZ_NL_SEED:-$$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')} \
		$(TOP)/tools/vm/run -t 1200 \
		$(TOP)/selftests/guest/fuzz_netlink.sh

fuzz-packet:
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)VTAP_FUZZ_PKT_COUNT=$(FUZZ_PKT_COUNT) \
		VTAP_FUZZ_PKT_SEED=$${VTAP_FUZZ_PKT_SEED:-$$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')} \
		$(TOP)/tools/vm/run -t 1500 \
		$(TOP)/selftests/guest/fuzz_packet.sh

fuzz-decode: $(FUZZ_BIN)
	$(Q)mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus $(TOP)/selftests/fuzz/corpus

$(FUZZ_BIN): selftests/fuzz/fuzz_decode.c $(DECODE_SRCS) $(PCAPNG_SRCS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ \
		selftests/fuzz/fuzz_decode.c user/collect/decode.c user/collect/pcapng.c

# ---- test tools -----------------------------------------------------------
# tapvm: a "VM NIC" for tap-based VMs in tests and the demo (tools/tapvm/).
TEST_TOOLS	:= $(BUILD)/tapvm
all: $(TEST_TOOLS)

$(BUILD)/tapvm: tools/tapvm/tapvm.c
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

# ---- install --------------------------------------------------------------
# make install [DESTDIR=] [PREFIX=/usr/local]: vtap.ko into
# /lib/modules/KVER/extra (KVER: the kernel kmod/vtap.ko was built for) and
# depmod, vtapctl (the BPF programs are inside it, as skeletons), the man
# pages, bash completion, the systemd units (vtap.service: vtapctl daemon;
# vtap-collect@.service: vtapctl collect, one instance per collector)
# and the documentation.  With DESTDIR (packaging)
# depmod is left to the package's scripts.  make uninstall removes them.
# make dkms-install: the module's sources to /usr/src/vtap-VERSION for DKMS.
VERSION		:= $(shell sed -n 's/^\#define VTAP_VERSION "\(.*\)"/\1/p' $(TOP)/include/vtap_version.h)
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/vtap
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
SYSTEMDDIR	?= $(PREFIX)/lib/systemd/system
INSTALL_MOD_DIR	?= extra
DKMSDIR		?= /usr/src/vtap-$(VERSION)
DEPMOD		?= depmod
INSTALL		?= install
MOD_KVER	= $(or $(shell modinfo -F vermagic $(TOP)/kmod/vtap.ko 2>/dev/null | cut -d' ' -f1),$(KVER))
DOCS		:= README.md $(wildcard Documentation/*.md) Documentation/netlink/specs/vtap.yaml
DKMS_FILES	:= dkms.conf Kbuild kmod/Kbuild $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
		   include/uapi/linux/vtap.h include/vtap_bpf.h include/vtap_version.h \
		   tools/kbuild/dkms-make

.PHONY: install install-module install-user uninstall dkms-install
install: install-module install-user

install-module:
	$(Q)test -f $(TOP)/kmod/vtap.ko || { echo "kmod/vtap.ko is not built: run 'make' first" >&2; exit 1; }
	$(Q)$(INSTALL) -D -m 644 $(TOP)/kmod/vtap.ko $(DESTDIR)/lib/modules/$(MOD_KVER)/$(INSTALL_MOD_DIR)/vtap.ko
	$(Q)if [ -z "$(DESTDIR)" ]; then $(DEPMOD) -a $(MOD_KVER); \
	else echo "install: DESTDIR is set, not running depmod (run 'depmod -a $(MOD_KVER)' on the target)"; fi

install-user: $(VTAPCTL)
	$(Q)$(INSTALL) -D -m 755 $(VTAPCTL) $(DESTDIR)$(SBINDIR)/vtapctl
	$(Q)$(INSTALL) -D -m 644 $(TOP)/Documentation/vtapctl.8 $(DESTDIR)$(MANDIR)/man8/vtapctl.8
	$(Q)$(INSTALL) -D -m 644 $(TOP)/Documentation/vtap.7 $(DESTDIR)$(MANDIR)/man7/vtap.7
	$(Q)$(INSTALL) -D -m 644 $(TOP)/Documentation/vtap.conf.5 $(DESTDIR)$(MANDIR)/man5/vtap.conf.5
	$(Q)$(INSTALL) -D -m 644 $(TOP)/tools/completion/vtapctl $(DESTDIR)$(BASHCOMPDIR)/vtapctl
	$(Q)$(INSTALL) -d $(DESTDIR)$(SYSTEMDDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $(TOP)/tools/systemd/vtap.service.in \
		>$(DESTDIR)$(SYSTEMDDIR)/vtap.service && chmod 644 $(DESTDIR)$(SYSTEMDDIR)/vtap.service
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $(TOP)/tools/systemd/vtap-collect@.service.in \
		>$(DESTDIR)$(SYSTEMDDIR)/vtap-collect@.service && \
		chmod 644 $(DESTDIR)$(SYSTEMDDIR)/vtap-collect@.service
	$(Q)$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(Q)cd $(TOP) && $(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	$(Q)rm -f $(DESTDIR)/lib/modules/$(MOD_KVER)/$(INSTALL_MOD_DIR)/vtap.ko \
		$(DESTDIR)$(SBINDIR)/vtapctl $(DESTDIR)$(MANDIR)/man8/vtapctl.8 \
		$(DESTDIR)$(MANDIR)/man7/vtap.7 $(DESTDIR)$(BASHCOMPDIR)/vtapctl \
		$(DESTDIR)$(MANDIR)/man5/vtap.conf.5 $(DESTDIR)$(SYSTEMDDIR)/vtap.service \
		$(DESTDIR)$(SYSTEMDDIR)/vtap-collect@.service
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)
	$(Q)rmdir $(DESTDIR)/lib/modules/$(MOD_KVER)/$(INSTALL_MOD_DIR) 2>/dev/null || true
	$(Q)if [ -z "$(DESTDIR)" ]; then $(DEPMOD) -a $(MOD_KVER); fi

dkms-install:
	$(Q)cd $(TOP) && for f in $(DKMS_FILES); do \
		$(INSTALL) -D -m $$(if [ -x $$f ]; then echo 755; else echo 644; fi) $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; \
	done
	$(Q)if [ -z "$(DESTDIR)" ]; then echo "now: dkms add vtap/$(VERSION) && dkms install vtap/$(VERSION)"; fi

# ---- Debian packages ------------------------------------------------------
# make deb: tools/deb/build (dpkg-buildpackage, debhelper, dh-dkms on a copy
# of the tree in build/deb/src, then lintian) leaves build/deb/
# vtap-dkms_$(VERSION)_all.deb and vtapctl_$(VERSION)_ARCH.deb;
# `sudo apt-get install ./build/deb/*.deb` installs them.  debian/changelog's
# version must be $(VERSION) (include/vtap_version.h); `make version` prints it.
# make check-packages: selftests/packages/packages.sh (make deb, apt-get install,
# DKMS's build, the test VM loading that module with modprobe and mirroring,
# apt-get remove and purge leaving nothing behind).
.PHONY: version deb check-packages
version:
	@echo $(VERSION)

deb:
	$(Q)$(TOP)/tools/deb/build $(BUILD)/deb

check-packages:
	$(Q)$(TOP)/tools/deps --quiet
	$(Q)$(TOP)/selftests/run --tiers packages
