# loom - plain Makefile. `make test` goes from a fresh Debian 12 machine to a passing suite.
#
#   make                 libloom.a and libloom.so in $(BUILD)
#   make test            install missing dependencies, build, run every suite on every
#                        SIMD target this CPU runs, check exports, C++ link tests
#   make test SAN=1      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test ARCH=aarch64   cross-build, run the suite under qemu-user (NEON, SVE, SVE2)
#   make perf            kernel benchmarks, JSON into $(BUILD)/perf/
#   make install PREFIX=/usr/local DESTDIR=
#   make deps            install (as root) or name the missing Debian packages

ARCH ?= $(shell uname -m)
HOST_ARCH := $(shell uname -m)
SAN ?= 0
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(ARCH),$(HOST_ARCH))
  CROSS :=
  BUILD ?= build$(if $(filter 1,$(SAN)),-san)
else ifeq ($(ARCH),aarch64)
  CROSS := aarch64-linux-gnu-
  BUILD ?= build-aarch64$(if $(filter 1,$(SAN)),-san)
  SYSROOT := $(BUILD)/sysroot
  ARM_LIB := $(SYSROOT)/usr/lib/aarch64-linux-gnu
else
  $(error ARCH=$(ARCH): only the host architecture and aarch64 are supported)
endif

CC := $(CROSS)gcc
CXX := $(CROSS)g++
AR := $(CROSS)ar
NM := $(CROSS)nm

OPT ?= -O2
WARN := -Wall -Wextra
comma := ,
SANFLAGS := $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
# ASan's stack instrumentation of the unrolled GEMM tiles (hundreds of instances over
# the SIMD targets) takes minutes to compile; the kernels keep no buffers on the stack
# (edge tiles live in heap scratch, which ASan still checks), so drop it for C++.
SAN_CXX := $(if $(filter 1,$(SAN)),--param asan-stack=0)
CPPFLAGS := -Iinclude -I.
CFLAGS := -std=c11 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden -fopenmp $(SANFLAGS)
CXXFLAGS := -std=c++17 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden -fvisibility-inlines-hidden \
            -fopenmp -fno-exceptions -fno-rtti $(SANFLAGS) $(SAN_CXX)
LIBS := -lhwy -lcjson -lstdc++ -lm
LDFLAGS := -fopenmp $(SANFLAGS)

SIMD_C := $(wildcard simd/*.c)
SIMD_CC := $(wildcard simd/*.cc)
OPS_C := $(wildcard ops/*.c)
LIB_C := $(wildcard lib/*/*.c)
# The kernels' scalar references are test code: their own archive, linked by the test
# suites and benchmarks, never part of libloom.
REF_C := $(wildcard simd/ref/*.c)
REF_LIB := $(BUILD)/libloom_ref.a
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SIMD_C) $(OPS_C) $(LIB_C)) \
           $(patsubst %.cc,$(BUILD)/obj/%.o,$(SIMD_CC))
HEADERS := include/loom.h $(wildcard simd/*.h ops/*.h lib/*/*.h)

.PHONY: FORCE all lib clean deps fuzz fuzz-run model-fixtures perf-xception test check install install-check perf perf-deps perf-run perf-models perf-check perf-check-smoke demo demo-run
all: lib
lib: $(BUILD)/libloom.a $(BUILD)/libloom.so

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cc $(HEADERS)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(BUILD)/libloom.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
$(REF_LIB): $(patsubst %.c,$(BUILD)/obj/%.o,$(REF_C))
	@rm -f $@
	$(AR) rcs $@ $^

# Only loom_* is exported: hidden visibility by default plus a version script that
# keeps libstdc++ template instances out of the dynamic symbol table.
$(BUILD)/libloom.so.0: $(LIB_OBJ) mk/exports.map
	$(CXX) -shared -o $@ $(LIB_OBJ) $(LDFLAGS) -Wl,--version-script=mk/exports.map \
	  -Wl,--no-undefined -Wl,-soname,libloom.so.0 $(LIBS)
$(BUILD)/libloom.so: $(BUILD)/libloom.so.0
	ln -sf libloom.so.0 $@

# ---------------------------------------------------------------- tests
ifeq ($(ARCH),aarch64)
  # Criterion for arm64 lives unpacked in the sysroot (see mk/deps.sh).
  CRIT_CFLAGS := -isystem $(SYSROOT)/usr/include
  CRIT_LIBS := $(ARM_LIB)/libcriterion.so.3 -Wl,-rpath-link,$(ARM_LIB) -Wl,--disable-new-dtags,-rpath,$(abspath $(ARM_LIB))
else
  CRIT_CFLAGS :=
  CRIT_LIBS := -lcriterion
endif
TEST_CFLAGS := -std=c11 -O1 -g $(WARN) -fopenmp $(SANFLAGS) -Itests $(CRIT_CFLAGS)
TEST_COMMON := $(wildcard tests/common/*.c tests/common/*.h)
TEST_BINS := $(BUILD)/tests/test_simd $(BUILD)/tests/test_ops $(BUILD)/tests/test_lib $(BUILD)/tests/test_perf
TEST_EXTRA_perf := perf/bench.c perf/stats.c
TEST_EXTRA_lib := $(wildcard examples/*.c examples/*.h)  # the tests build the examples' models
LINK_BINS := $(BUILD)/tests/link_static $(BUILD)/tests/link_shared $(BUILD)/tests/hwy_isolation
RUN_ENV := $(if $(filter 1,$(SAN)),ASAN_OPTIONS=allocator_may_return_null=1)

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $$(wildcard tests/$$*/*.c) $$(TEST_EXTRA_$$*) $(TEST_COMMON) $(BUILD)/libloom.a $(REF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(filter-out examples/%,$(filter %.c,$^)) $(REF_LIB) $(BUILD)/libloom.a $(CRIT_LIBS) \
	  $(LDFLAGS) $(LIBS) -o $@

$(BUILD)/tests/link_static: tests/link/link_test.cpp $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) -std=c++17 -O2 $(WARN) $(SANFLAGS) $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@
$(BUILD)/tests/link_shared: tests/link/link_test.cpp $(BUILD)/libloom.so
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) -std=c++17 -O2 $(WARN) $(SANFLAGS) $< -L$(BUILD) -lloom \
	  -Wl,-rpath,'$$ORIGIN/..' -o $@
$(BUILD)/tests/hwy_isolation: tests/link/hwy_isolation.cpp $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) -std=c++17 -O2 $(WARN) $(SANFLAGS) $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@
$(BUILD)/tests/targets: tests/tools/targets.c $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# Examples build as a user's program would: loom.h and the library, nothing internal.
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c)) \
            $(patsubst examples/cpp/%.cpp,$(BUILD)/examples/%_cpp,$(wildcard examples/cpp/*.cpp))
$(BUILD)/examples/%: examples/%.c examples/example.h include/loom.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 $(WARN) $(SANFLAGS) -Iinclude $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# The C++ examples: C++20 for the designated initialisers of the option macros.
$(BUILD)/examples/%_cpp: examples/cpp/%.cpp examples/cpp/example.hpp include/loom.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CXX) -std=c++20 -O2 $(WARN) $(SANFLAGS) -Iinclude $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# The `loom` command (summary, predict) for boards: cli/loom.c.
$(BUILD)/loom: cli/loom.c include/loom.h $(BUILD)/libloom.a
	$(CC) -Iinclude -std=c11 -O2 $(WARN) $(SANFLAGS) $< $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

deps:
	@mk/deps.sh $(ARCH) $(SYSROOT)

# Saved-model fixtures (written here on x86, committed): `make model-fixtures`, then
# /usr/bin/python3 tests/fixtures/torch_load.py for PyTorch's predictions on them.
model-fixtures: $(BUILD)/libloom.a
	$(CC) $(CPPFLAGS) -std=c11 -O2 $(WARN) tests/fixtures/make_model_fixtures.c $(BUILD)/libloom.a \
	  $(LDFLAGS) $(LIBS) -o $(BUILD)/make_model_fixtures
	$(BUILD)/make_model_fixtures

# The model loader under libFuzzer (clang; ASan + UBSan), from the seeds in
# fuzz/corpus: `make fuzz FUZZ_SECONDS=600`. New inputs go to build-fuzz/corpus; a crash
# stops the run, leaves crash-* in build-fuzz/ and fails.
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz:
	@mk/deps.sh $(ARCH) "$(SYSROOT)" fuzz
	@$(MAKE) --no-print-directory fuzz-run CC=clang CXX=clang++ BUILD=build-fuzz \
	  SANFLAGS="$(FUZZ_SAN)" SAN_CXX=
fuzz-run: $(BUILD)/fuzz_load
	@mkdir -p $(BUILD)/corpus
	cd $(BUILD) && ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 ./fuzz_load corpus \
	  ../fuzz/corpus -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	  -timeout=10 -print_final_stats=1 2>&1 | tail -15
	@ls $(BUILD)/crash-* $(BUILD)/leak-* $(BUILD)/timeout-* $(BUILD)/oom-* 2>/dev/null | head -1 | \
	  { read f && { echo "FAIL fuzz: $$f"; exit 1; } || echo "ok   fuzz: no crash in $(FUZZ_SECONDS) s"; }
$(BUILD)/fuzz_load: fuzz/fuzz_load.c $(BUILD)/libloom.a
	$(CC) -Iinclude -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -c $< -o $@.o
	$(CXX) -fsanitize=fuzzer,address,undefined $@.o $(BUILD)/libloom.a -fopenmp $(LIBS) -o $@

demo: deps
	@$(MAKE) --no-print-directory demo-run
demo-run: $(EXAMPLES)
	@echo "== The notebook's two-input QA model (examples/qa_model.c): summary, then fit"
	$(BUILD)/examples/qa_model

# `make test` = dependencies, then the checks (a sub-make, so deps come first even with -j).
test: deps
	@$(MAKE) --no-print-directory check

check: lib $(TEST_BINS) $(LINK_BINS) $(BUILD)/tests/targets $(EXAMPLES) $(BUILD)/loom
	@echo "== exported symbols"
	@mk/check-exports.sh $(NM) $(BUILD)/libloom.so.0
ifeq ($(ARCH),aarch64)
	@echo "== Criterion suites under qemu-user: NEON-only CPU, then SVE-capable CPU"
	@QEMU_CPU=cortex-a72 $(RUN_ENV) mk/run-tests.sh $(BUILD) neon
	@# the model suite exercises the kernels the other suites test on every target, through
	@# whole models: once on NEON is enough under qemu (minutes per run)
	@QEMU_CPU=max SKIP_TESTS=test_lib $(RUN_ENV) mk/run-tests.sh $(BUILD) sve2 sve
	@# whole programs run on the NEON CPU: qemu's SVE emulation is 10-16x slower on some
	@# hosts (qa_model --quick: 379 s on max, 23 s on cortex-a72); the kernel and op suites
	@# above keep SVE and SVE2 covered
	@echo "== C++ link tests (qemu, NEON)"
	@QEMU_CPU=cortex-a72 $(RUN_ENV) $(BUILD)/tests/link_static && QEMU_CPU=cortex-a72 $(RUN_ENV) $(BUILD)/tests/link_shared
	@QEMU_CPU=max $(RUN_ENV) $(BUILD)/tests/hwy_isolation
	@echo "== the loom command (qemu, NEON)"
	@QEMU_CPU=cortex-a72 $(RUN_ENV) mk/cli-test.sh $(BUILD)/loom
	@echo "== examples (qemu, NEON; the C++ twins of the C examples run natively on x86)"
	@for e in $(filter-out %_cpp,$(EXAMPLES)); do s=$$(date +%s); QEMU_CPU=cortex-a72 $(RUN_ENV) $$e --quick >/dev/null && echo "ok   $$e --quick ($$(($$(date +%s) - s)) s)" || { echo "FAIL $$e --quick"; exit 1; }; done
else
ifeq ($(SAN),1)
	@# under the sanitizers the model suite (minutes each) runs on the best target only:
	@# it reaches the kernels through whole models, and the plain run covers every target
	@echo "== Criterion suites on every SIMD target this CPU runs (test_lib on the first): $$($(BUILD)/tests/targets)"
	@set -- $$($(BUILD)/tests/targets); first=$$1; shift; \
	  $(RUN_ENV) mk/run-tests.sh $(BUILD) $$first && SKIP_TESTS=test_lib $(RUN_ENV) mk/run-tests.sh $(BUILD) "$$@"
else
	@echo "== Criterion suites on every SIMD target this CPU runs: $$($(BUILD)/tests/targets)"
	@$(RUN_ENV) mk/run-tests.sh $(BUILD) $$($(BUILD)/tests/targets)
endif
	@echo "== C++ link tests"
	@$(RUN_ENV) $(BUILD)/tests/link_static && $(RUN_ENV) $(BUILD)/tests/link_shared
	@$(RUN_ENV) $(BUILD)/tests/hwy_isolation
	@echo "== the loom command"
	@$(RUN_ENV) mk/cli-test.sh $(BUILD)/loom
	@echo "== examples"
	@for e in $(EXAMPLES); do $(RUN_ENV) $$e --quick >/dev/null && echo "ok   $$e --quick" || { echo "FAIL $$e --quick"; exit 1; }; done
ifneq ($(SAN),1)
	@echo "== install"
	@$(MAKE) --no-print-directory install-check
endif
endif
	@echo "== all tests passed ($(ARCH)$(if $(filter 1,$(SAN)), ASan+UBSan))"

# ---------------------------------------------------------------- install
VERSION := $(shell sed -n 's/^\#define LOOM_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' include/loom.h | paste -sd.)
LIBDIR := $(PREFIX)/lib
install: lib $(BUILD)/loom
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/loom $(DESTDIR)$(PREFIX)/bin/loom
	install -m 644 include/loom.h $(DESTDIR)$(PREFIX)/include/loom.h
	install -m 644 $(BUILD)/libloom.a $(DESTDIR)$(LIBDIR)/libloom.a
	install -m 755 $(BUILD)/libloom.so.0 $(DESTDIR)$(LIBDIR)/libloom.so.0
	ln -sf libloom.so.0 $(DESTDIR)$(LIBDIR)/libloom.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	  mk/loom.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/loom.pc

# Installs into a staging prefix and builds the C++ link test from pkg-config alone.
install-check: lib
	@mk/install-check.sh $(abspath $(BUILD))/stage "$(CXX)"

# ---------------------------------------------------------------- perf
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
PERF_CFLAGS := -std=c11 -O2 -g $(WARN) -fopenmp -DLOOM_GIT_REV='"$(GIT_REV)"'
$(BUILD)/perf/kernels: perf/kernels.c perf/bench.c perf/bench.h $(BUILD)/libloom.a $(REF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/kernels.c perf/bench.c $(REF_LIB) $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# SGEMM against OpenBLAS/BLIS/oneDNN, loaded at run time (dlopen) by the benchmark only.
$(BUILD)/perf/gemm: perf/gemm.c perf/peak.c perf/peak.h perf/bench.c perf/bench.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/gemm.c perf/peak.c perf/bench.c $(BUILD)/libloom.a \
	  $(LDFLAGS) $(LIBS) -ldl -o $@

$(BUILD)/perf/layers: perf/layers.c perf/layer_cases.c perf/layer_cases.h perf/bench.c perf/bench.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/layers.c perf/layer_cases.c perf/bench.c $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# The notebook's models (the examples' builders) against the same models in PyTorch.
$(BUILD)/perf/models: perf/models.c perf/model_cases.c perf/model_cases.h perf/bench.c perf/bench.h $(wildcard examples/*.c examples/*.h) $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/models.c perf/model_cases.c perf/bench.c $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

$(BUILD)/perf/xception: perf/xception.c perf/bench.c perf/bench.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/xception.c perf/bench.c $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@

# perf-check: the benchmarks of check_suite.c, served to perf/check.c, which runs two
# builds of them interleaved (perf/README.md).
CHECK_BENCH_SRCS := perf/check_bench.c perf/check_suite.c perf/layer_cases.c perf/model_cases.c perf/bench.c
# The revision the programs report: rewritten only when it changes, so that a commit
# (or a first edit after one) rebuilds check-bench with the right one.
$(BUILD)/perf/git-rev: FORCE
	@mkdir -p $(dir $@); echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
FORCE:
$(BUILD)/perf/check-bench: $(CHECK_BENCH_SRCS) $(wildcard perf/*.h examples/*.c examples/*.h) $(BUILD)/libloom.a \
                           $(BUILD)/perf/git-rev
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) $(CHECK_BENCH_SRCS) $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -o $@
$(BUILD)/perf/perf-check: perf/check.c perf/stats.c perf/stats.h perf/bench.c perf/bench.h $(BUILD)/libloom.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PERF_CFLAGS) perf/check.c perf/stats.c perf/bench.c $(BUILD)/libloom.a $(LDFLAGS) $(LIBS) -lm -o $@

# make perf-check [BASE=rev] (default: the last tag, else HEAD~1); PERF_CHECK_ONLY,
# PERF_CHECK_SLOW and PERF_CHECK_ARGS as mk/perf-check.sh says. Exit 1 on a regression.
perf-check: $(BUILD)/perf/check-bench $(BUILD)/perf/perf-check
	@CC="$(CC)" LIBS="$(LIBS)" mk/perf-check.sh $(BUILD) "$(BASE)"

# CI's smoke run: two tiny benchmarks against HEAD built in a worktree; must pass, and
# must fail naming the benchmark when one is slowed by 25% (mk/perf-check-smoke.sh).
perf-check-smoke: $(BUILD)/perf/check-bench $(BUILD)/perf/perf-check
	@CC="$(CC)" LIBS="$(LIBS)" mk/perf-check-smoke.sh $(BUILD)

# Absolute figures and ratios. PERF_ARGS go to every benchmark (--reps N); KERNELS_ARGS
# to the kernel one (--filter TEXT, --all-targets), GEMM_ARGS to the SGEMM one
# (--threads 1,2, --libs, --trans TN, --filter TEXT, --quick), LAYERS_ARGS to the layer
# one (--threads N, --filter TEXT).
perf: perf-deps
	@$(MAKE) --no-print-directory perf-run
perf-deps:
	@mk/deps.sh $(ARCH) "$(SYSROOT)" perf
PERF_MODELS := mlp qa siamese multi_output residual
perf-run: $(BUILD)/perf/kernels $(BUILD)/perf/gemm $(BUILD)/perf/layers $(BUILD)/perf/models
	$(BUILD)/perf/kernels --json $(BUILD)/perf/kernels.json $(PERF_ARGS) $(KERNELS_ARGS)
	$(BUILD)/perf/gemm --json $(BUILD)/perf/gemm.json $(PERF_ARGS) $(GEMM_ARGS)
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  echo "perf/torch_layers.py (PyTorch, $(or $(TORCH_THREADS),1) thread(s))"; \
	  /usr/bin/python3 perf/torch_layers.py $(or $(TORCH_THREADS),1) > $(BUILD)/perf/torch_layers.txt; \
	else echo "PyTorch not installed (apt-get install python3-torch): layers without it"; \
	  rm -f $(BUILD)/perf/torch_layers.txt; fi
	$(BUILD)/perf/layers --json $(BUILD)/perf/layers.json --torch $(BUILD)/perf/torch_layers.txt \
	  $(PERF_ARGS) $(or $(LAYERS_ARGS),--threads 1)
	@$(MAKE) --no-print-directory perf-models
	@if [ "$(PERF_XCEPTION)" != 0 ]; then $(MAKE) --no-print-directory perf-xception; fi

# Xception against PyTorch (minutes): XCEPTION_THREADS (1) for both; PyTorch channels-last.
perf-xception: $(BUILD)/perf/xception
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  echo "perf/torch_xception.py (PyTorch, $(or $(XCEPTION_THREADS),1) thread(s), channels-last)"; \
	  /usr/bin/python3 perf/torch_xception.py $(or $(XCEPTION_THREADS),1) 5 --channels-last > $(BUILD)/perf/torch_xception.txt; \
	else rm -f $(BUILD)/perf/torch_xception.txt; fi
	$(BUILD)/perf/xception --threads $(or $(XCEPTION_THREADS),1) --json $(BUILD)/perf/xception.json \
	  --torch $(BUILD)/perf/torch_xception.txt $(PERF_ARGS)

# MODELS_THREADS (1) threads for loom and PyTorch; PERF_MODELS picks the models.
perf-models: $(BUILD)/perf/models
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  echo "perf/torch_models.py (PyTorch, $(or $(MODELS_THREADS),1) thread(s))"; \
	  /usr/bin/python3 perf/torch_models.py $(or $(MODELS_THREADS),1) 7 $(PERF_MODELS) > $(BUILD)/perf/torch_models.txt; \
	else echo "PyTorch not installed (apt-get install python3-torch): models without it"; \
	  rm -f $(BUILD)/perf/torch_models.txt; fi
	@for m in $(PERF_MODELS); do \
	  $(BUILD)/perf/models --model $$m --threads $(or $(MODELS_THREADS),1) --json $(BUILD)/perf/models-$$m.json \
	    --torch $(BUILD)/perf/torch_models.txt $(PERF_ARGS) || exit 1; done
