# SPDX-License-Identifier: GPL-2.0-only
#
# satpd: one Makefile for the BPF objects, their skeletons, the userspace
# library, the binaries, the tests and the benchmarks.
#
#   make              build build/satpd and build/satp
#   make test         install what the suite needs, then run every layer
#   make test SAN=1   the same with ASan+UBSan userspace (output in build/san)
#   make demo         install, build, run a tunnel against a real uanytun
#   make bench-crypto per-packet seal/open cost against the OpenSSL floor
#   make bench-xdp    per-packet XDP cost and the veth drop rate
#   make bench-windows per-packet replay-window commit, with and without the record
#   make V=1          show the commands

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

ifeq ($(SAN),1)
BUILD   ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS =
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
           -Iinclude -Iuser/lib -I$(BUILD)
LDFLAGS += $(SANFLAGS)
LDLIBS   = -lxdp -lbpf -lelf -lz -lmnl -lpcap -lcrypto -lpthread

BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
             -Iinclude -I$(BUILD)

# Sources are found by wildcard so that adding a file needs no Makefile edit.
LIB_SRCS    := $(wildcard user/lib/*.c)
SATP_SRCS   := $(wildcard user/satp/*.c)
SATPD_SRCS  := $(wildcard user/satpd/*.c)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
BPFT_SRCS   := $(wildcard tests/bpf/test_*.c)
BENCH_SRCS  := $(wildcard tests/bench/bench_*.c)
TOOL_SRCS   := $(wildcard tests/tools/*.c)

LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
SATP_OBJS   := $(SATP_SRCS:%.c=$(BUILD)/%.o)
# The daemon is main.o over libsatpd.a (every other daemon object), so that
# tests and tools link the daemon's modules instead of compiling them in.
SATPD_MAIN  := $(BUILD)/user/satpd/main.o
SATPD_OBJS  := $(filter-out $(SATPD_MAIN),$(SATPD_SRCS:%.c=$(BUILD)/%.o))
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS       := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
BPFT_BINS   := $(BPFT_SRCS:tests/bpf/%.c=$(BUILD)/tests/bpf/%)
BENCH_BINS  := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
LIBSATP     := $(BUILD)/libsatp.a
LIBSATPD    := $(BUILD)/libsatpd.a
VMLINUX_H   := $(BUILD)/vmlinux.h

BINS := $(BUILD)/satpd $(BUILD)/satp

.PHONY: all deps test test-only unit bpf-test integration demo bench bench-crypto bench-hs \
        bench-xdp bench-windows install clean check tests fresh-check

all: $(BINS)

tests: $(UNIT_BINS) $(BPFT_BINS) $(BENCH_BINS) $(TOOL_BINS) $(BINS)

# ---------------------------------------------------------------- BPF
$(VMLINUX_H):
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) $(wildcard include/*.h bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKELS): $(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# ---------------------------------------------------------------- userspace
# Every userspace object may include a skeleton; generate them first.
$(BUILD)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Tests, tools and benches reach the daemon's headers; the library does not.
$(BUILD)/tests/%.o: CFLAGS += -Iuser/satpd

$(LIBSATP): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(LIBSATPD): $(SATPD_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# libsatpd.a before libsatp.a: the daemon's modules use the library, never the reverse.
$(BUILD)/satpd: $(SATPD_MAIN) $(LIBSATPD) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/satp: $(SATP_OBJS) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---------------------------------------------------------------- tests
$(UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIBSATPD) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BPFT_BINS): $(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(LIBSATPD) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Helpers the integration tests and benchmarks drive (AF_XDP receivers, generators).
# satp_ctl_host hosts the daemon's control socket and metrics modules with fake callbacks.
$(TOOL_BINS): $(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBSATPD) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(LIBSATPD) $(LIBSATP)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	$(Q)scripts/deps.sh

# `make test` is the README's command for a fresh machine: dependencies first,
# then a fresh make so that tools installed just now are found.
test: deps
	$(Q)$(MAKE) --no-print-directory test-only

test-only: tests
	$(Q)BUILD=$(BUILD) SAN=$(SAN) tests/run.sh all

unit: tests
	$(Q)BUILD=$(BUILD) tests/run.sh unit

bpf-test: tests
	$(Q)BUILD=$(BUILD) tests/run.sh bpf

integration: tests
	$(Q)BUILD=$(BUILD) tests/run.sh integration

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

# README's quick start in a fresh Debian 12 root (debootstrap minbase + git and
# make): FRESH_TARGETS="demo test" by default; CI runs it with "demo unit".
FRESH_TARGETS ?= demo test
fresh-check:
	$(Q)scripts/fresh-check.sh $(FRESH_TARGETS)

bench-crypto: $(BUILD)/bench/bench_crypto
	$(Q)$(BUILD)/bench/bench_crypto

bench-windows: $(BUILD)/bench/bench_windows
	$(Q)$(BUILD)/bench/bench_windows

bench-xdp: tests
	$(Q)BUILD=$(BUILD) scripts/bench-xdp.sh

bench-hs: tests
	$(Q)BUILD=$(BUILD) scripts/bench-hs.sh

.PHONY: bench-rail
bench-rail: tests
	$(Q)BUILD=$(BUILD) scripts/bench-rail.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) scripts/bench.sh

# clang-tidy's checks are chosen in .clang-tidy; two files per process, two at a time.
CLANG_TIDY ?= clang-tidy
TIDY_SRCS  := $(LIB_SRCS) $(SATP_SRCS) $(SATPD_SRCS) $(wildcard tests/fuzz/*.c) \
              tests/tools/satp_forge.c
check: $(SKELS) check-cycles check-format
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -Iinclude -Iuser/lib -Iuser/satpd user/ tests/unit
	$(call msg,TIDY,$(words $(TIDY_SRCS)) files)
	$(Q)printf '%s\n' $(TIDY_SRCS) | xargs -P2 -n2 bash -c '$(CLANG_TIDY) --quiet "$$@" -- \
		-std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/satp -Iuser/satpd -I$(BUILD) 2>&1 | \
		grep -vE "^[0-9]+ warnings? generated|^Suppressed|^Use -header-filter"; \
		exit $${PIPESTATUS[0]}' _

# No include or call cycle between the modules of user/ (known debts, each with
# its reason, in scripts/check-cycles.allow); the script's own cases first.
.PHONY: check-cycles
check-cycles: $(LIB_OBJS) $(SATP_OBJS) $(SATPD_OBJS)
	$(call msg,CYCLES,user/)
	$(Q)out=$$(tests/tools/test_check_cycles.py 2>&1) || { printf '%s\n' "$$out"; exit 1; }
	$(Q)scripts/check-cycles --build $(BUILD)

# clang-format (.clang-format) over every C source: `make check` fails on a
# difference, `make format` makes it. Hand-laid tables sit between
# clang-format off/on comments.
CLANG_FORMAT ?= clang-format
FORMAT_SRCS   = $(shell find user include bpf tests -name '*.[ch]' | sort)
.PHONY: check-format format
check-format:
	$(call msg,FORMAT,$(words $(FORMAT_SRCS)) files)
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRCS)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)

# ---------------------------------------------------------------- fuzzing
# libFuzzer harnesses (tests/fuzz/fuzz_*.c) with ASan+UBSan, in build/fuzz
# whatever SAN says: the core and satp decode's parsers compiled again by
# clang with coverage. `make fuzz` runs each for FUZZ_SECONDS and the XDP
# program for XDP_FUZZ_INPUTS frames; `make fuzz-smoke` is the short run the
# suite does (tests/integration/test_fuzz_smoke.sh).
FUZZ_BUILD         := build/fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
XDP_FUZZ_INPUTS    ?= 200000
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -Wall -Wextra -Wno-unused-parameter \
               -std=gnu11 -D_GNU_SOURCE -MMD -MP -Iinclude -Iuser/lib -Iuser/satp -Iuser/satpd
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
# The parsers under test, in an archive so a harness links only what it
# calls; not the XDP query and views (the BPF test fuzzes the program).
# The daemon's own parsers: the option table, the handshake, anytun's sync.
FUZZ_DEPS   := $(filter-out user/lib/xdp%.c,$(LIB_SRCS)) \
               $(addprefix user/satp/,outer.c inner.c pkt.c decode.c) \
               $(addprefix user/satpd/,satpd_options.c hs.c sync_proto.c)
FUZZ_LIB    := $(FUZZ_BUILD)/libsatp-fuzz.a

$(FUZZ_BUILD)/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_DEPS:%.c=$(FUZZ_BUILD)/obj/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	$(call msg,FUZZLD,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS) $(BUILD)/tests/bpf/test_xdp_fuzz
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD)/corpus
	$(Q)SATP_XDP_FUZZ_INPUTS=$(XDP_FUZZ_INPUTS) $(BUILD)/tests/bpf/test_xdp_fuzz

fuzz-smoke: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/satpd $(DESTDIR)$(SBINDIR)/satpd
	install -m 0755 $(BUILD)/satp $(DESTDIR)$(BINDIR)/satp
	install -m 0644 user/satpd/satpd.8 user/satp/satp.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/systemd/satpd@.service > $(DESTDIR)$(UNITDIR)/satpd@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/satpd@.service
	install -m 0644 dist/completion/satp.bash $(DESTDIR)$(BASHCOMPDIR)/satp

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
