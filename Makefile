# k8s_events: the PostgreSQL extension (PGXS) and the k8s-events program.
#
#   make                 build the extension library and the program
#   make install         install both (extension into PostgreSQL's dirs, program into $(bindir))
#   make installcheck    pg_regress suite against a running server (see tests/run for the full suite)

EXTENSION   = k8s_events
MODULE_big  = k8s_events
EXT_VERSION = 1.1

# One C file per responsibility. core/ is plain C shared with the k8s-events program.
CORE_SRCS = $(sort $(wildcard core/*.c))
EXT_SRCS  = $(sort $(wildcard extension/*.c))
OBJS      = $(CORE_SRCS:.c=.o) $(EXT_SRCS:.c=.o)

# The install script is assembled from one piece per area, in file-name order. Released
# versions' scripts are kept as they were (extension/versions/), so that a database made
# with one can be updated; an update script is its own head and tail around the parts of
# the install script it adds or replaces.
SQL_PARTS  = $(sort $(wildcard extension/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXT_VERSION).sql $(EXTENSION)--1.0--1.1.sql
DATA       = $(wildcard extension/versions/$(EXTENSION)--*.sql)
EXTRA_CLEAN = loader/k8s-events loader/k8s-events-asan build

REGRESS      = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=.
ISOLATION    = $(basename $(notdir $(sort $(wildcard specs/*.spec))))
ISOLATION_OPTS = --inputdir=.

# PostgreSQL loads the library with RTLD_GLOBAL: export only what it looks up by name
# (_PG_init, Pg_magic_func, the SQL functions and the workers' entry points, all marked
# PGDLLEXPORT), so that no internal name can clash with the server's or another library's.
PG_CPPFLAGS = -I. '-DPGDLLEXPORT=__attribute__((visibility("default")))'
PG_CFLAGS   = -fvisibility=hidden -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers
SHLIB_LINK  = -ljansson -lcurl -lyaml

# No LLVM bitcode: the JIT gains nothing on these functions and clang need not be installed.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies here: a changed header rebuilds every object.
$(OBJS): $(wildcard core/*.h extension/*.h)

$(EXTENSION)--$(EXT_VERSION).sql: $(SQL_PARTS)
	cat $^ > $@

$(EXTENSION)--1.0--1.1.sql: extension/upgrade/$(EXTENSION)--1.0--1.1.head.sql \
		extension/sql/01_internal_schemas.sql extension/upgrade/$(EXTENSION)--1.0--1.1.moves.sql \
		extension/sql/18_checkpoint_functions.sql extension/sql/41_message_parts.sql \
		extension/sql/45_summaries.sql \
		extension/sql/46_rollouts.sql extension/sql/47_verify_summaries.sql extension/sql/60_histogram.sql \
		extension/sql/61_object_events.sql extension/upgrade/$(EXTENSION)--1.0--1.1.tail.sql
	cat $^ > $@

# The k8s-events program (loader/): plain C over core/, one folder per command.
# Includes name where a header comes from: "core/list_watch.h", "model/cluster.h".
LOADER_SRCS = $(sort $(wildcard loader/*.c loader/*/*.c))
# The dashboard's built page is installed beside PostgreSQL's share files, where
# `k8s-events serve` looks for it (or --dashboard DIR; from the build tree, dashboard/dist).
DASHBOARD_DIR = $(datadir)/k8s_events_dashboard
LOADER_CFLAGS = -O2 -g -std=gnu11 -Wall -Wextra -Werror -I. -Iloader \
	-I$(shell $(PG_CONFIG) --includedir) '-DK8S_EVENTS_DASHBOARD_DIR="$(DASHBOARD_DIR)"'
LOADER_LIBS = -lpq -ljansson -lmicrohttpd -lcurl -lyaml -lz -lpthread

ifneq ($(LOADER_SRCS),)
all: loader/k8s-events
install: install-loader
endif

loader/k8s-events: $(LOADER_SRCS) $(CORE_SRCS) $(wildcard core/*.h loader/*.h loader/*/*.h)
	$(CC) $(LOADER_CFLAGS) -o $@ $(LOADER_SRCS) $(CORE_SRCS) $(LOADER_LIBS) -lm

# The same program built with AddressSanitizer and UBSan (tests/test_sanitizers.sh runs the
# program's integration tests with it: K8S_EVENTS=loader/k8s-events-asan). Objects of its
# own under build/asan, so that `make -j` compiles them in parallel and a normal build's
# objects are not mixed in.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJS  = $(patsubst %.c,build/asan/%.o,$(LOADER_SRCS) $(CORE_SRCS))

asan: loader/k8s-events-asan

build/asan/%.o: %.c $(wildcard core/*.h loader/*.h loader/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(LOADER_CFLAGS)) $(ASAN_FLAGS) -c -o $@ $<

loader/k8s-events-asan: $(ASAN_OBJS)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LOADER_LIBS) -lm

# The program's tests under ASan (tests/test_sanitizers.sh) and memcheck of the program and
# of the server with the extension (tests/test_valgrind.sh), on a throwaway server like
# tests/run's, after `make install`: what CI runs (12 minutes, one after the other).
# SANITIZER_TESTS="test_serve" and VALGRIND_REGRESS="ingest" run a part.
check-memory: all
	@d=$$(mktemp -d /tmp/k8s_events_check.XXXXXX) && chmod 755 $$d && \
	eval "$$(K8S_EVENTS_PGDIR=$$d tests/pg_server.sh start $$d)" && export PGHOST PGPORT PGUSER && \
	bash tests/test_sanitizers.sh; a=$$?; bash tests/test_valgrind.sh; b=$$?; \
	tests/pg_server.sh stop $$d; rm -rf $$d; [ $$a = 0 ] && [ $$b = 0 ]

.PHONY: asan check-memory

install-loader: loader/k8s-events
	$(INSTALL_PROGRAM) loader/k8s-events '$(DESTDIR)$(bindir)/k8s-events'

.PHONY: install-loader

# The dashboard's page (dashboard/: npm, Vite, uPlot), built into dashboard/dist from the
# lockfile; `make install` installs it where `k8s-events serve` looks. Not part of `all`:
# the extension and the program build without node (scripts/setup builds both).
DASHBOARD_SRCS = $(wildcard dashboard/index.html dashboard/vite.config.js dashboard/src/* dashboard/public/*)

dashboard: dashboard/dist/index.html

dashboard/node_modules/.package-lock.json: dashboard/package.json dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund --loglevel=error

dashboard/dist/index.html: dashboard/node_modules/.package-lock.json $(DASHBOARD_SRCS)
	cd dashboard && npx vite build --logLevel warn

install: install-dashboard
install-dashboard:
	if [ -f dashboard/dist/index.html ]; then \
		rm -rf '$(DESTDIR)$(DASHBOARD_DIR)' && $(MKDIR_P) '$(DESTDIR)$(DASHBOARD_DIR)' && \
		cp -R dashboard/dist/. '$(DESTDIR)$(DASHBOARD_DIR)/'; fi

.PHONY: dashboard install-dashboard

# Every speed target against its baseline, measured in one run: BENCHMARKS.md.
# SCALE=1M events by default (SCALE=10M for the large run), ROUNDS=3, OUT=BENCHMARKS.md.
bench: all
	SCALE=$(or $(SCALE),1M) ROUNDS=$(or $(ROUNDS),3) OUT=$(or $(OUT),BENCHMARKS.md) python3 tests/bench/bench.py

.PHONY: bench

# libFuzzer targets of every parser of outside input (fuzz/run.sh): FUZZ_SECONDS each.
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) fuzz/run.sh

.PHONY: fuzz
