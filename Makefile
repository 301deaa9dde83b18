# tollgate: `make run` serves, `make check` tests; both install what they
# need first (scripts/deps.sh).

CC      ?= cc
PGINC   := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O2 -g
BASEFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -I. -I$(PGINC)
# (TOLLGATE_CHECK_HASH: each usage event's hash text is checked against
# jansson's, see server/ingest.c.)
SANFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	-DTOLLGATE_CHECK_HASH
LIBS    := -lpq -levent -ljansson -lcrypto
TESTLIBS := -lcmocka

LEDGER_SRC := $(wildcard ledger/*.c)
PRICING_SRC := $(wildcard pricing/*.c)
REPORTS_SRC := $(wildcard reports/*.c)
SERVER_SRC := $(wildcard server/*.c)
APP_SRC    := $(SERVER_SRC) $(LEDGER_SRC) $(PRICING_SRC) $(REPORTS_SRC) \
	build/sql_embed.c
HEADERS    := $(wildcard */*.h)
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
ITEST_SRC  := tests/integration/itest.c tests/integration/test_server.c \
	tests/integration/test_ledger_api.c tests/integration/test_prices_api.c \
	tests/integration/test_usage_api.c tests/integration/test_reprice.c \
	tests/integration/test_spool.c tests/integration/test_budgets.c \
	tests/integration/test_nginx.c tests/integration/test_reports.c \
	tests/integration/test_crash.c tests/integration/test_allocations.c \
	tests/integration/test_root.c

.PHONY: all build-all run check check-valgrind bench clean deps

all: bin/tollgate

deps:
	@scripts/deps.sh

build/sql_embed.c: scripts/embed-sql.sh $(wildcard sql/*.sql sql/queries/*.sql)
	@mkdir -p build
	scripts/embed-sql.sh > $@.tmp && mv $@.tmp $@

bin/tollgate: $(APP_SRC) $(HEADERS)
	@mkdir -p bin
	$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $(APP_SRC) $(LIBS)

# The server with AddressSanitizer and UndefinedBehaviorSanitizer, for the
# integration tests.
bin/tollgate-asan: $(APP_SRC) $(HEADERS)
	@mkdir -p bin
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $(APP_SRC) $(LIBS)

# Unit tests link only the pure modules they test, once plainly and once
# under the sanitizers.
# (server/config.c is pure too: the environment and a file, nothing else.)
UNIT_SRC := $(LEDGER_SRC) $(PRICING_SRC) $(REPORTS_SRC) server/config.c \
	server/tz.c server/pgarr.c

build/unit/%: tests/unit/%.c $(UNIT_SRC) $(HEADERS)
	@mkdir -p build/unit
	$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $< $(UNIT_SRC) $(TESTLIBS)

build/unit-asan/%: tests/unit/%.c $(UNIT_SRC) $(HEADERS)
	@mkdir -p build/unit-asan
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $< $(UNIT_SRC) $(TESTLIBS)

build/itest: $(ITEST_SRC) $(wildcard tests/integration/*.h) $(LEDGER_SRC) ledger/ledger.h
	@mkdir -p build
	$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $(ITEST_SRC) $(LEDGER_SRC) -lcurl -ljansson -lpq

build/test_migrate: tests/integration/test_migrate.c server/migrate.c server/keys.c build/sql_embed.c $(HEADERS)
	@mkdir -p build
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $< server/migrate.c server/keys.c build/sql_embed.c -lpq -lcrypto $(TESTLIBS)

bench/refserver: bench/refserver.c
	$(CC) $(BASEFLAGS) -O2 -o $@ $< -levent

bench/bench_pricing: bench/bench_pricing.c $(PRICING_SRC) $(LEDGER_SRC) $(HEADERS)
	$(CC) $(BASEFLAGS) -O2 -o $@ $< $(PRICING_SRC) $(LEDGER_SRC)

build-all: bin/tollgate bin/tollgate-asan build/itest build/test_migrate \
	$(addprefix build/unit/,$(UNIT_TESTS)) $(addprefix build/unit-asan/,$(UNIT_TESTS))

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory bin/tollgate
	@scripts/run.sh

check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory build-all
	@scripts/check.sh

check-valgrind:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory bin/tollgate build/itest
	@TOLLGATE_TEST_VALGRIND=1 scripts/check.sh integration

bench:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory bin/tollgate bench/refserver bench/bench_pricing
	@bench/run.sh

clean:
	rm -rf build bin bench/refserver bench/bench_pricing
