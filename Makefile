# The one entry point of the course: build, tour, grade and test.
#
#   make              build everything into build/
#   make demo         every chapter's demos, in order, against the embedded fixture server
#   make run CH=06    one chapter's demos (ARGS="--url https://example.org/" for a real site)
#   make grade        grade your exercises (make grade CH=06 for one chapter; ASAN=1 with AddressSanitizer)
#   make next         what to do next: the first failing test, and one more hint
#   make watch        grade the current chapter again each time its exercise.c is saved (CH=06 picks one)
#   make reset CH=06  bring back a chapter's stub (your version is saved in .progress/backup/)
#   make grade-batch DIR=submissions/   grade a class: one folder or archive per learner -> build/batch/
#                     (JOBS=N learners at a time; default: the number of CPUs)
#   make gradescope   the Gradescope autograder: build/gradescope/autograder.zip
#   make test         everything CI checks
#   make lesson-outputs  run every Python cell and demo of the lessons, and rewrite the output blocks that changed
#   make docs         the browsable documentation (Doxygen)
#   make bench        the benchmarks (bench/*.c, the 200,000-request soak included)
#   make load         10,000 requests in flight at once against the fixture server
#   make difftest N=10000 SEED=7   the differential tester: N random scenarios on asyncio and on the library
#   make fuzz         fuzz the fixture server's request parsing for FUZZ_SECONDS (default 180; needs clang)
#   make stress       the library tests and graded solutions STRESS_N times (default 20) beside two
#                     CPU burners, then once under valgrind: every failed run, with its seed
#   make compile_commands.json   the compile commands of every source, for clangd and other editors
#   make clean        remove build/
#   V=1               show the whole compiler commands
#   WERROR=1          warnings are errors (make test and CI set it; a newer compiler's new warning
#                     should not stop a learner's build)
#   NO_DEPS=1         do not check or install the system packages first
#
# Chapters are found by wildcard (chapters/NN_topic/), so a new chapter needs no edit here.
# CC=clang works; the build is safe with -j. Changing CC, CFLAGS or SANITIZE rebuilds what they change.

BUILD    ?= build
CC       ?= cc
AR       ?= ar
CFLAGS   ?= -g -O2
SANITIZE ?=
PKGS     := libuv libcurl check

CSTD     := -std=c11 -D_GNU_SOURCE
# valgrind 3.19 cannot read the DWARF 5 debug information clang writes by default.
DWARF    := -gdwarf-4
WARNINGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
# Probe every page of a large stack frame, so that a task overflowing its stack always lands in
# the guard region under it (a fault) and never skips over it into a neighbour's stack.
HARDEN   := -fstack-clash-protection
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(CSTD) $(WARNINGS) $(HARDEN) $(CFLAGS) $(DWARF) $(SANITIZE) -Icommon/include $(INC) $(PKG_CFLAGS) -MMD -MP
LDFLAGS    ?=
LDLIBS     := $(PKG_LIBS) -lhttp_parser -lpthread

# What there is to build, found by wildcard. Two archives: the runtime (libcw.a: libuv, and libcurl
# for the programs that make requests) and the fixture server (libcwfixture.a: http-parser).
LIB_SRC      := $(wildcard common/src/*.c)
LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB          := $(BUILD)/lib/libcw.a
FIXTURE_SRC  := $(filter-out common/server/fixture_main.c,$(wildcard common/server/*.c))
FIXTURE_OBJ  := $(FIXTURE_SRC:%.c=$(BUILD)/obj/%.o)
FIXTURE_LIB  := $(BUILD)/lib/libcwfixture.a
# What a program links with: the fixture server's archive first, since it calls the runtime.
LIBS         := $(FIXTURE_LIB) $(LIB)
FIXTURE_BIN  := $(if $(wildcard common/server/fixture_main.c),$(BUILD)/bin/fixture_server)
CHAPTERS     := $(sort $(patsubst chapters/%/,%,$(wildcard chapters/*/)))
DEMO_SRC     := $(sort $(wildcard chapters/*/demo*.c))
DEMOS        := $(DEMO_SRC:%.c=$(BUILD)/%)
LIBTEST_SRC  := $(sort $(wildcard tests/lib/test_*.c))
LIBTESTS     := $(LIBTEST_SRC:%.c=$(BUILD)/%)
GRADED       := $(foreach ch,$(CHAPTERS),$(if $(wildcard tests/$(ch).c),$(ch)))
SOLVED       := $(foreach ch,$(GRADED),$(if $(wildcard solutions/$(ch)/exercise.c),$(ch)))
SOLUTIONS    := $(SOLVED:%=$(BUILD)/solutions/%)
GRADE_OBJ    := $(BUILD)/obj/tests/grade.o $(BUILD)/obj/tests/grade_supervise.o
SUPERVISOR   := $(BUILD)/tools/grade_supervisor
DIFF_INTERP  := $(if $(wildcard tests/diff/interp.c),$(BUILD)/tests/diff/interp)
LINKCHECK    := $(if $(wildcard bin/linkcheck.c),$(BUILD)/bin/linkcheck)
BENCHES      := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard bench/*.c bench/clients/*.c)))
# Programs made of one .c file linked with the libraries.
ONE_FILE_PROGRAMS := $(DEMOS) $(LIBTESTS) $(DIFF_INTERP) $(BENCHES)

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
.PHONY: compile_commands.json all demo run grade next watch reset grade-batch gradescope test stress lesson-outputs bench load fuzz difftest docs clean deps build-all build-demos build-chapter build-lib-tests build-bench help

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

# ASAN=1: the grader built with AddressSanitizer and UndefinedBehaviorSanitizer, in its own build directory.
ifeq ($(ASAN),1)
BUILD    := build/asan
CFLAGS   := -g -O1
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
endif
# STRICT=1: make grade fails unless every chapter has full marks; AUTOLAB=1 prints Autolab's scores line last.
GRADE_FLAGS = $(if $(filter 1,$(STRICT)),--strict) $(if $(filter 1,$(AUTOLAB)),--autolab)

grade: deps
	@test -z "$(CH)" -o -n "$(CH_DIR)" || { echo "no chapter $(CH); the chapters are: $(CHAPTERS)"; exit 2; }
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" CFLAGS="$(CFLAGS)" SANITIZE="$(SANITIZE)" \
	  $(if $(filter 1,$(ASAN)),ASAN_OPTIONS="$${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}") \
	  tools/grade $(GRADE_FLAGS) $(if $(CH),$(CH_DIR),$(GRADED))

next: deps
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" tools/next $(GRADED)

watch: deps
	@test -z "$(CH)" -o -n "$(CH_DIR)" || { echo "no chapter $(CH); the chapters are: $(CHAPTERS)"; exit 2; }
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" tools/watch $(if $(CH),$(CH_DIR),$(GRADED))

reset:
	@test -n "$(CH_DIR)" || { echo "usage: make reset CH=NN   (chapters: $(CHAPTERS))"; exit 2; }
	@tools/reset $(CH_DIR)

grade-batch: deps
	@test -n "$(DIR)" || { echo "usage: make grade-batch DIR=submissions/   (one folder or archive per learner)"; exit 2; }
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" tools/grade_batch $(if $(JOBS),--jobs $(JOBS)) "$(DIR)"

gradescope:
	@BUILD="$(BUILD)" tools/gradescope

test: deps
	$(CHECK_DEPS) valgrind bwrap py:aiohttp py:requests
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" CC="$(CC)" tools/test

stress: deps
	$(CHECK_DEPS) valgrind
	+@MAKE="$(MAKE)" BUILD="$(BUILD)" STRESS_N="$(STRESS_N)" tools/stress

# A lesson's output blocks are what its cells print (tools/check_notebook; make test compares them).
lesson-outputs: deps
	$(CHECK_DEPS) py:aiohttp py:requests
	+@$(MAKE) --no-print-directory build-demos $(FIXTURE_BIN)
	@tools/check_notebook --write

# bench/bench.c (the figures) and bench/soak.c (memory over 200,000 requests).
bench: deps
	+@$(MAKE) --no-print-directory build-bench
	@for b in $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard bench/*.c))); do echo "==> $$b"; $$b || exit 1; done

load: deps
	+@$(MAKE) --no-print-directory $(BUILD)/tests/lib/test_load
	CW_LOAD_REQUESTS=10000 $(BUILD)/tests/lib/test_load

# tests/diff: the same random scenarios on asyncio (/usr/bin/python3) and on the library; see tests/diff/README.md.
N    ?= 1000
SEED ?= $(shell date +%s)
difftest: deps
	+@$(MAKE) --no-print-directory $(BUILD)/tests/diff/interp
	@tests/diff/run --build $(BUILD) --count $(N) --seed $(SEED)

# libFuzzer comes with clang (Debian: libclang-rt-14-dev); see fuzz/README.md. New inputs go to
# build/fuzz/corpus, crashes to build/fuzz/crashes; fuzz/corpus holds the seeds.
FUZZ_SECONDS ?= 180
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/crashes
	clang $(CSTD) $(WARNINGS) -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -Icommon/include \
	    fuzz/fixture_fuzz.c $(FIXTURE_SRC) $(LIB_SRC) $(PKG_CFLAGS) $(LDLIBS) -o $(BUILD)/fuzz/fixture_fuzz
	$(BUILD)/fuzz/fixture_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=30 -dict=fuzz/http.dict \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/crashes/ $(BUILD)/fuzz/corpus fuzz/corpus

docs:
	@test -f docs/Doxyfile || { echo "docs/Doxyfile is missing: there is no documentation to build."; exit 1; }
	$(CHECK_DEPS) doxygen dot
	@mkdir -p build
	doxygen docs/Doxyfile

clean:
	rm -rf $(BUILD)

# The system packages: tools/check_deps says what is missing and installs it (apt-get; sudo only when
# not root). NO_DEPS=1 skips the check, for systems set up by other means.
CHECK_DEPS = $(if $(filter 1,$(NO_DEPS)),@true,@tools/check_deps)
deps:
	$(CHECK_DEPS)

# Every compile command (make -B in a separate build directory, watched by Debian's bear), so clangd
# knows the flags of each demo, exercise, solution, test and library file.
compile_commands.json: deps
	$(CHECK_DEPS) bear
	+bear --output $@ -- $(MAKE) --no-print-directory -k -B BUILD=build/compile-commands build-all build-bench \
	    $(GRADED:%=build/compile-commands/obj/chapters/%/exercise.o)

help:
	@sed -n '3,/^#$$/p' Makefile | sed 's/^# \{0,1\}//'

## What gets built.

# (The empty recipes keep make from saying "Nothing to be done".)
build-all: $(LIBS) $(FIXTURE_BIN) $(SUPERVISOR) $(DEMOS) $(LIBTESTS) $(SOLUTIONS) $(DIFF_INTERP) $(LINKCHECK)
	@:
build-demos: $(LIBS) $(DEMOS)
	@:
build-chapter: $(LIBS) $(filter $(BUILD)/chapters/$(CH_DIR)/%,$(DEMOS))
	@:
build-lib-tests: $(LIBS) $(LIBTESTS)
	@:
build-bench: $(LIBS) $(BENCHES)
	@:

# The compiler and its flags as last used in $(BUILD): every object depends on this file, which is
# rewritten only when they change (CC=clang, CFLAGS=-O0, SANITIZE=...), so a change rebuilds everything.
# Warnings are left out: WERROR=1 changes no object. It lives with the objects, so that the grading
# sandbox, which sees build/obj read-only and nothing else of build/, reads the same file.
FLAGS_STAMP := $(BUILD)/obj/flags
FLAGS_NOW   := $(CC) $(CSTD) $(HARDEN) $(CFLAGS) $(DWARF) $(SANITIZE) $(PKG_CFLAGS) | $(LDFLAGS) $(LDLIBS)
ifeq ($(filter clean help deps docs compile_commands.json,$(MAKECMDGOALS)),)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_NOW))
$(shell mkdir -p $(BUILD)/obj 2>/dev/null && printf '%s\n' '$(FLAGS_NOW)' >$(FLAGS_STAMP) 2>/dev/null)
endif
endif

# Every object, the stubs copied out of git included (build/obj/build/stubs/src/...).
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

define archive
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^
endef
$(LIB): $(LIB_OBJ)
	$(archive)
$(FIXTURE_LIB): $(FIXTURE_OBJ)
	$(archive)

# The one way a program is linked: its objects and archives ($^), then the system libraries.
define link
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $(LINK_EXTRA) $^ $(LDLIBS) -o $@
endef

$(BUILD)/bin/fixture_server: $(BUILD)/obj/common/server/fixture_main.o $(LIBS)
	$(link)

# build/bin/linkcheck: chapter 10's reference crawl() behind a command line.
$(BUILD)/obj/bin/linkcheck.o: INC = -Ichapters/10_link_checker
$(BUILD)/bin/linkcheck: $(BUILD)/obj/bin/linkcheck.o $(BUILD)/obj/solutions/10_link_checker/exercise.o $(LIBS)
	$(link)

# Demos, library tests, benchmarks and the differential tester's interpreter: one .c each.
$(ONE_FILE_PROGRAMS): $(BUILD)/%: $(BUILD)/obj/%.o $(LIBS)
	$(link)

# test_oom makes the library's own allocations fail (tests/lib/test_oom.c): --wrap reroutes the calls
# in the objects linked here, not those inside libcurl or libuv.
$(BUILD)/tests/lib/test_oom: LINK_EXTRA = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=vasprintf

# The differential tester's interpreter, with the optional parts of the API the library has.
$(BUILD)/obj/tests/diff/interp.o: INC = $(if $(shell grep -s cw_future_cancel_msg common/include/cw_future.h),-DHAVE_CANCEL_MSG) \
    $(if $(shell grep -s cw_task_uncancel common/include/cw_task.h),-DHAVE_UNCANCEL) \
    $(if $(shell grep -s cw_gather_failed_child common/include/cw_combine.h),-DHAVE_FAILED_CHILD)

# Graded tests: tests/NN_topic.c + the grader + one exercise.c. Three versions of exercise.c:
# the learner's (build/grade), the reference solution (build/solutions) and the committed stub
# (build/stubs, its source copied out of git by tools/test).
define GRADED_RULES
$(BUILD)/obj/tests/$(1).o: INC = -Itests -Ichapters/$(1)
$(BUILD)/obj/solutions/$(1)/exercise.o: INC = -Ichapters/$(1)
$(BUILD)/obj/$(BUILD)/stubs/src/$(1)/exercise.o: INC = -Ichapters/$(1)
$(BUILD)/obj/chapters/$(1)/exercise.o: WARNINGS = -Wall -Wextra

$(BUILD)/grade/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/chapters/$(1)/exercise.sealed.o $(LIBS)
	$$(link)

$(BUILD)/solutions/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/solutions/$(1)/exercise.sealed.o $(LIBS)
	$$(link)

$(BUILD)/stubs/$(1): $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(BUILD)/obj/$(BUILD)/stubs/src/$(1)/exercise.sealed.o $(LIBS)
	$$(link)

# An exercise object sealed for linking with its tests (tools/seal_exercise): no constructors, and no
# global symbol but those the tests call.
$(BUILD)/obj/chapters/$(1)/exercise.sealed.o $(BUILD)/obj/solutions/$(1)/exercise.sealed.o \
$(BUILD)/obj/$(BUILD)/stubs/src/$(1)/exercise.sealed.o: %.sealed.o: %.o chapters/$(1)/exercise.h $(BUILD)/obj/tests/$(1).o tools/seal_exercise
	$$(Q)CW_SANITIZE="$$(SANITIZE)" tools/seal_exercise $$< chapters/$(1)/exercise.h $(BUILD)/obj/tests/$(1).o $$@

# The tests without any exercise, only to list them (and their points) when an exercise does not compile.
$(BUILD)/grade/$(1).list: LINK_EXTRA = -no-pie -Wl,--unresolved-symbols=ignore-all
$(BUILD)/grade/$(1).list: $(BUILD)/obj/tests/$(1).o $(GRADE_OBJ) $(LIBS)
	$$(link)
endef
$(foreach ch,$(GRADED),$(eval $(call GRADED_RULES,$(ch))))

# The program make grade trusts with the verdicts: built from the course alone, never linked with an exercise.
$(SUPERVISOR): LDLIBS =
$(SUPERVISOR): $(BUILD)/obj/tests/grade_supervisor.o $(BUILD)/obj/tests/grade_supervise.o
	$(link)

# Keep the objects make builds on the way to a program.
.SECONDARY:

# Header dependencies written by -MMD -MP.
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
