##@ Use

# lighttpd and h2o: make test-integration runs the contract through them as well.
APT_PACKAGES += lighttpd h2o

CC ?= cc
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DIR ?= build
PORT ?= 8080

# The process shell: libfcgi, forks, signals, sockets. Every other source is the pure core, which
# the unit tests and fuzz targets link alone: a core module that reaches into the shell (or
# libfcgi) fails their link.
# (wildcard: tests/bench/features.sh builds older trees, before runtime.c, with this file)
SHELL_SRC := $(wildcard $(addprefix fcgi-app/src/,main.c master.c runtime.c worker.c healthcheck.c))
CORE_SRC := $(filter-out $(SHELL_SRC),$(wildcard fcgi-app/src/*.c))
APP_HDR := $(wildcard fcgi-app/src/*.h fcgi-app/tests/*.h)
UNIT_TESTS := $(patsubst fcgi-app/tests/%.c,%,$(wildcard fcgi-app/tests/check_*.c))

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
APP_CFLAGS := $(WARN) -O2 -g -D_GNU_SOURCE -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE \
              -DHELLO_VERSION='"$(VERSION)"' -DHELLO_COMMIT='"$(COMMIT)"'
APP_LDFLAGS := -pie -Wl,-z,relro,-z,now
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

CORE_OBJ := $(patsubst fcgi-app/src/%.c,obj/%.o,$(CORE_SRC))
SHELL_OBJ := $(patsubst fcgi-app/src/%.c,obj/%.o,$(SHELL_SRC))

# $(call build_variant,dir,cflags,ldflags): each source compiled once per variant, then
# linked into the responder and (the core only) every unit test (the arm64 image builds them all
# under emulation, where each compile costs seconds).
define build_variant
$(1)/obj/%.o: fcgi-app/src/%.c $(APP_HDR) | $(1)/obj/
	$$(CC) $(2) -c $$< -o $$@
$(1)/hello: $(addprefix $(1)/,$(SHELL_OBJ) $(CORE_OBJ)) | $(1)/
	$$(CC) $(2) $$^ -o $$@ $(3) -lfcgi
$(1)/check_%: fcgi-app/tests/check_%.c $(addprefix $(1)/,$(CORE_OBJ)) $(APP_HDR) | $(1)/
	$$(CC) $(2) -Ifcgi-app/src $$< $(addprefix $(1)/,$(CORE_OBJ)) -o $$@ $(3) $$(CHECK_LIBS)
endef
$(eval $(call build_variant,$(BUILD_DIR),$(APP_CFLAGS),$(APP_LDFLAGS)))
$(eval $(call build_variant,$(BUILD_DIR)/san,$(WARN) -D_GNU_SOURCE $(SAN_FLAGS),-fsanitize=address,undefined))

%/:
	@mkdir -p $@
# Directories made by the rule above are never intermediate files to delete.
.PRECIOUS: %/

.PHONY: build
build: $(BUILD_DIR)/hello ## Build the responder (build/hello)

.PHONY: run
run: build ## Run nginx + responder in the foreground on http://127.0.0.1:$(PORT) (no Docker, no root)
	PORT=$(PORT) LISTEN_ADDRESS=$${LISTEN_ADDRESS:-127.0.0.1} NGINX_TEMPLATE=$(CURDIR)/nginx/nginx.conf.template \
	  exec $(BUILD_DIR)/hello

.PHONY: test-unit
test-unit: $(addprefix $(BUILD_DIR)/,$(UNIT_TESTS)) ## Check unit tests of the pure modules
	@for t in $^; do echo "== $$t"; CK_FORK=no $$t; done

.PHONY: test-integration
test-integration: build ## HTTP contract tests against real nginx + responder on free loopback ports, through lighttpd and h2o too; worker counts under a CPU quota
	python3 tests/integration/contract.py --binary $(BUILD_DIR)/hello
	python3 tests/integration/cgroup_workers.py --binary $(BUILD_DIR)/hello
	python3 tests/integration/other_servers.py --binary $(BUILD_DIR)/hello
	python3 fcgi-app/tests/usage_matches_readme.py --binary $(BUILD_DIR)/hello --readme README.md

.PHONY: test-fault
test-fault: build ## Fault tests: worker kill -9 under load, SIGTERM drain, nginx death, hostile FastCGI peers
	python3 tests/integration/faults.py --binary $(BUILD_DIR)/hello
	python3 tests/integration/fastcgi_peers.py --binary $(BUILD_DIR)/hello

.PHONY: test-sanitize
test-sanitize: $(BUILD_DIR)/san/hello $(addprefix $(BUILD_DIR)/san/,$(UNIT_TESTS)) ## Unit + integration tests under ASan and UBSan
	@for t in $(addprefix $(BUILD_DIR)/san/,$(UNIT_TESTS)); do echo "== $$t"; CK_FORK=no $$t; done
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  python3 tests/integration/contract.py --binary $(BUILD_DIR)/san/hello --sanitized

.PHONY: test-valgrind
test-valgrind: $(addprefix $(BUILD_DIR)/,$(UNIT_TESTS)) ## Unit tests under valgrind: no leaks, no errors
	@for t in $^; do echo "== valgrind $$t"; CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
	  --errors-for-leak-kinds=all --show-leak-kinds=all $$t; done

# $(call fuzz_target,name,seed directory): builds and runs fcgi-app/fuzz/fuzz_<name>.c.
define fuzz_target
	@mkdir -p $(BUILD_DIR)/fuzz-corpus-$(1)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Ifcgi-app/src \
	  fcgi-app/fuzz/fuzz_$(1).c $(CORE_SRC) \
	  -o $(BUILD_DIR)/fuzz_$(1)
	$(BUILD_DIR)/fuzz_$(1) -max_total_time=$${FUZZ_SECONDS:-600} -print_final_stats=1 \
	  -artifact_prefix=$(BUILD_DIR)/fuzz-$(1)- $(BUILD_DIR)/fuzz-corpus-$(1) $(2)
endef

.PHONY: fuzz
fuzz: ## libFuzzer over the request handler, then the FastCGI pre-parser (FUZZ_SECONDS ?= 600 each; needs clang and its fuzzer runtime)
	@$(call require_tool,clang,apt-get install clang libclang-rt-14-dev)
	@mkdir -p $(BUILD_DIR)
	$(call fuzz_target,handler,fcgi-app/fuzz/seeds)
	$(call fuzz_target,fcgiscan,fcgi-app/fuzz/seeds-fcgiscan)

# clang-format: the layout in .clang-format (written for Debian 12's clang-format 14).
APT_PACKAGES += clang-format

.PHONY: lint-c
lint-c: ## Static checks of the C sources: clang-format drift, cppcheck, and the -Werror build
	$(MAKE) --no-print-directory build
	@$(call require_tool,clang-format,apt-get install clang-format (make deps))
	@files=$$(git ls-files --cached --others --exclude-standard '*.c' '*.h'); test -n "$$files" || { echo "lint-c: no C files found" >&2; exit 1; }; \
	  clang-format --dry-run -Werror $$files || { echo "lint-c: run clang-format -i on the files above" >&2; exit 1; }; \
	  echo "lint-c: clang-format clean ($$(echo $$files | wc -w) files)"
	@if command -v cppcheck >/dev/null; then cppcheck --quiet --error-exitcode=1 --std=c11 \
	  --enable=warning,portability --inline-suppr fcgi-app/src && echo "lint-c: cppcheck clean"; else echo "lint-c: cppcheck not installed (apt-get install cppcheck)" >&2; exit 1; fi

.PHONY: bench-stack
bench-stack: build ## wrk: nginx return vs full stack vs node:http vs Express+helmet; RSS/PSS
	tests/bench/bench.sh $(BUILD_DIR)/hello

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BUILD_DIR)

BENCH_TARGETS += bench-features
.PHONY: bench-features
bench-features: build ## wrk, side by side: what request ids, the access log and the security headers cost
	tests/bench/features.sh $(BUILD_DIR)/hello

BENCH_TARGETS += bench-sched
.PHONY: bench-sched
bench-sched: build ## wrk: WORKER_SCHED_POLICY other vs batch, on a dedicated core and on a busy one
	tests/bench/sched.sh $(BUILD_DIR)/hello
