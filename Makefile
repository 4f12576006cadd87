# The one entry point of the course: build, tour, grade and test.
#
#   make              build everything into build/
#   make demo         every chapter's demos, in order, against the embedded fixture server
#   make run CH=06    one chapter's demos (ARGS="--url https://example.org" for a real site)
#   make grade        grade your exercises (make grade CH=06 for one chapter)
#   make test         everything CI checks
#   make docs         the browsable documentation (Doxygen)
#   make bench        the benchmarks
#   make clean        remove build/
#   V=1               show the whole compiler commands
#
# Chapters are found by wildcard (chapters/NN_topic/), so a new chapter needs no edit here.
# CC=clang works; the build is safe with -j.

BUILD    ?= build
CC       ?= cc
AR       ?= ar
CFLAGS   ?= -g -O2
SANITIZE ?=
PKGS     := libuv libcurl check

CSTD     := -std=c11 -D_GNU_SOURCE
# valgrind 3.19 cannot read the DWARF 5 debug information clang writes by default.
DWARF    := -gdwarf-4
WARNINGS := -Wall -Wextra -Werror
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(CSTD) $(WARNINGS) $(CFLAGS) $(DWARF) $(SANITIZE) -Icommon/include $(INC) $(PKG_CFLAGS) -MMD -MP
LDFLAGS    ?=
LDLIBS     := $(PKG_LIBS) -lhttp_parser -lpthread

# What there is to build, found by wildcard.
LIB_SRC      := $(wildcard common/src/*.c) $(filter-out common/server/fixture_main.c,$(wildcard common/server/*.c))
LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB          := $(BUILD)/lib/libcw.a
FIXTURE_BIN  := $(if $(wildcard common/server/fixture_main.c),$(BUILD)/bin/fixture_server)
CHAPTERS     := $(sort $(patsubst chapters/%/,%,$(wildcard chapters/*/)))
DEMO_SRC     := $(sort $(wildcard chapters/*/demo*.c))
DEMOS        := $(DEMO_SRC:%.c=$(BUILD)/%)
LIBTEST_SRC  := $(sort $(wildcard tests/lib/test_*.c))
LIBTESTS     := $(LIBTEST_SRC:%.c=$(BUILD)/%)
GRADED       := $(foreach ch,$(CHAPTERS),$(if $(wildcard tests/$(ch).c),$(ch)))
SOLVED       := $(foreach ch,$(GRADED),$(if $(wildcard solutions/$(ch)/exercise.c),$(ch)))
SOLUTIONS    := $(SOLVED:%=$(BUILD)/solutions/%)
GRADE_OBJ    := $(BUILD)/obj/tests/grade.o

# Short lines while building; V=1 shows the whole commands, make -s nothing.
ifeq ($(V),1)
Q :=
say = @true
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
say = @true
else
Q := @
say = @printf '  %-5s %s\n' $(1) $(2)
endif

# CH=06 or CH=06_gather picks a chapter.
CH_DIR   = $(firstword $(filter $(CH)%,$(CHAPTERS)))

.DEFAULT_GOAL := all
# The targets a person types run one after another (each builds in a sub-make, in parallel with -j);
# two of them at once would build the same files twice.
ifeq ($(MAKELEVEL),0)
.NOTPARALLEL:
endif
.PHONY: all demo run grade test bench docs clean deps build-all build-demos build-chapter build-lib-tests build-bench help

## Targets a person types. Each checks the system packages first, then builds in a fresh make
## (so pkg-config is asked again after an install).

all: deps
	+@$(MAKE) --no-print-directory build-all

demo: deps
	+@$(MAKE) --no-print-directory build-demos
	@tools/run_demos $(BUILD) $(CHAPTERS)

run: deps
	@test -n "$(CH)" || { echo "usage: make run CH=NN   (chapters: $(CHAPTERS))"; exit 2; }
	@test -n "$(CH_DIR)" || { echo "no chapter $(CH); the chapters are: $(CHAPTERS)"; exit 2; }
	+@$(MAKE) --no-print-directory build-chapter CH=$(CH)
	@tools/run_demos $(BUILD) $(CH_DIR) -- $(ARGS)

grade: deps
	@test -z "$(CH)" -o -n "$(CH_DIR)" || { echo "no chapter $(CH); the chapters are: $(CHAPTERS)"; exit 2; }
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" tools/grade $(if $(CH),$(CH_DIR),$(GRADED))

test: deps
	@tools/check_deps valgrind
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" CC="$(CC)" tools/test

bench: all
	@if [ -x tools/bench ]; then tools/bench; \
	elif [ -n "$(wildcard bench/*.c)" ]; then \
	  $(MAKE) --no-print-directory build-bench && \
	  for b in $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard bench/*.c))); do echo "==> $$b"; $$b || exit 1; done; \
	else echo "No benchmarks yet: add bench/NAME.c (built against libcw.a and run here) or an executable tools/bench."; fi

docs:
	@test -f docs/Doxyfile || { echo "docs/Doxyfile is missing: there is no documentation to build."; exit 1; }
	@tools/check_deps doxygen dot
	doxygen docs/Doxyfile

clean:
	rm -rf $(BUILD)

deps:
	@tools/check_deps

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'

## What gets built.

# (The empty recipes keep make from saying "Nothing to be done".)
build-all: $(LIB) $(FIXTURE_BIN) $(DEMOS) $(LIBTESTS) $(SOLUTIONS)
	@:
build-demos: $(LIB) $(DEMOS)
	@:
build-chapter: $(LIB) $(filter $(BUILD)/chapters/$(CH_DIR)/%,$(DEMOS))
	@:
build-lib-tests: $(LIB) $(LIBTESTS)
	@:
build-bench: $(LIB) $(patsubst %.c,$(BUILD)/%,$(wildcard bench/*.c))
	@:

# Every object, the stubs copied out of git included (build/obj/build/stubs/src/...).
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/bin/fixture_server: $(BUILD)/obj/common/server/fixture_main.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Demos, library tests and benchmarks: one .c each, linked alone with the library.
$(BUILD)/chapters/%: $(BUILD)/obj/chapters/%.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/lib/%: $(BUILD)/obj/tests/lib/%.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Graded tests: tests/NN_topic.c + the grader + one exercise.c. Three versions of exercise.c:
# the learner's (build/grade), the reference solution (build/solutions) and the committed stub
# (build/stubs, its source copied out of git by tools/test).
define GRADED_RULES
$(BUILD)/obj/tests/$(1).o: INC = -Itests -Ichapters/$(1)
$(BUILD)/obj/solutions/$(1)/exercise.o: INC = -Ichapters/$(1)
$(BUILD)/obj/$(BUILD)/stubs/src/$(1)/exercise.o: INC = -Ichapters/$(1)
$(BUILD)/obj/chapters/$(1)/exercise.o: WARNINGS = -Wall -Wextra

$(BUILD)/grade/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/chapters/$(1)/exercise.o $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(SANITIZE) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@

$(BUILD)/solutions/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/solutions/$(1)/exercise.o $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(SANITIZE) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@

$(BUILD)/stubs/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/$(BUILD)/stubs/src/$(1)/exercise.o $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(SANITIZE) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@

# The tests without any exercise, only to list them (and their points) when an exercise does not compile.
$(BUILD)/grade/$(1).list: $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(LIB)
	@mkdir -p $$(@D)
	$$(call say,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(LDFLAGS) -no-pie -Wl,--unresolved-symbols=ignore-all $$^ $$(LDLIBS) -o $$@
endef
$(foreach ch,$(GRADED),$(eval $(call GRADED_RULES,$(ch))))

# Keep the objects make builds on the way to a program.
.SECONDARY:

# Header dependencies written by -MMD -MP.
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
