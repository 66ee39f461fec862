# libFuzzer harnesses for the parsers (tests/fuzz/fuzz_*.c), included by
# the top Makefile.  Needs clang and libclang-rt-14-dev (Debian).
#
#   make fuzz-build            build build-fuzz/fuzz_<name> for every target
#   make fuzz FUZZ_SECONDS=60  build, then run each target for N seconds
#   make fuzz-clean            remove build-fuzz/
#
# Each target runs over build-fuzz/corpus-work/<name> (a copy of the
# committed seeds, growing from run to run) with tests/fuzz/corpus/<name>
# as a read-only second corpus directory: new inputs never land in the
# repository.  A crash fails `make fuzz`; its input is kept as
# build-fuzz/artifacts/<name>/crash-* and its log as build-fuzz/logs/<name>.log.
# Reproduce with: build-fuzz/fuzz_<name> build-fuzz/artifacts/<name>/crash-...
# (for a leak-* artifact, set LSAN_OPTIONS as the recipe below does: known
# third-party leaks are suppressed in tests/fuzz/lsan.supp).

FUZZ_TARGETS := users_page states_page revocation config event \
	faillock_tally faillock_conf gecos_email gecos_trusted login_defs scanstate \
	revocations_page wire pamstack sanitize retry_after stamp
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_RSS_MB ?= 1024
FUZZ_BUILD := build-fuzz
FUZZ_DIR := tests/fuzz

# UBSan findings must stop the run like ASan ones do, not just print.
FUZZ_SAN := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=gnu11 $(WARN) $(DEFS) -Icommon -Ihelper $(HELPER_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined $(FUZZ_SAN) $(FUZZ_EXTRA_CFLAGS)
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined $(FUZZ_SAN)

# The project objects the unit tests link, instrumented, as an archive:
# each harness pulls in only the members its parser needs.
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC) $(HELPER_LIB_SRC))
FUZZ_LIB := $(FUZZ_BUILD)/obj/libaccessowl-fuzz.a
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))
FUZZ_MAIN_OBJ := $(patsubst %,$(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.o,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-clean
.SECONDARY: $(FUZZ_MAIN_OBJ)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(HELPER_LIBS)

fuzz: fuzz-build
	@failed=; for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_BUILD)/corpus-work/$$t; art=$(FUZZ_BUILD)/artifacts/$$t; \
		log=$(FUZZ_BUILD)/logs/$$t.log; \
		mkdir -p $$work $$art $(FUZZ_BUILD)/logs; \
		cp -R $(FUZZ_DIR)/corpus/$$t/. $$work/; \
		printf '== fuzz_%s (%ss) ' $$t $(FUZZ_SECONDS); \
		if LSAN_OPTIONS=suppressions=$(CURDIR)/$(FUZZ_DIR)/lsan.supp:print_suppressions=0 \
		    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		    -rss_limit_mb=$(FUZZ_RSS_MB) -artifact_prefix=$$art/ \
		    $$work $(FUZZ_DIR)/corpus/$$t >$$log 2>&1; then \
			res=$$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE[[:space:]]*\(cov: [0-9]*\).*\(corp: [^ ]*\).*/\1 runs, \2, \3/p' \
			    $$log | tail -n 1); echo "ok: $$res"; \
		else \
			echo "FAILED: see $$log"; tail -n 40 $$log; failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed"; exit 1; fi

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
