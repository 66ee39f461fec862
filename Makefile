# pam_accessowl — see README.md.  Plain GNU make; libraries via pkg-config.

VERSION := $(shell cat VERSION)
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
BUILD ?= build

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla \
	-Wcast-qual -Wwrite-strings
HARDEN := -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2
LDHARDEN := -Wl,-z,relro,-z,now -Wl,--as-needed
DEFS := -D_GNU_SOURCE -DAO_VERSION='"$(VERSION)"'

SYSTEMDUNITDIR ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
UNITS := $(wildcard conf/systemd/accessowl-*.service conf/systemd/accessowl-*.path \
	conf/systemd/accessowl-*.timer)
# Debian's pam.pc has no modulesdir: fall back to the multiarch directory
PAMDIR_PC := $(shell $(PKG_CONFIG) --variable=modulesdir pam 2>/dev/null)
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR ?= $(or $(PAMDIR_PC),$(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib/security))
HELPER_PATH := $(SBINDIR)/accessowl-helper

HELPER_PKGS := libcurl json-c libconfig relp
HELPER_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(HELPER_PKGS) 2>/dev/null)
HELPER_LIBS := $(shell $(PKG_CONFIG) --libs $(HELPER_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(DEFS) -Icommon -Ihelper \
	$(HELPER_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)

COMMON_SRC := common/err.c common/text.c common/event.c common/account.c \
	common/faillock.c common/spawn.c common/modargs.c common/clock.c
HELPER_LIB_SRC := helper/log.c helper/secfile.c helper/config.c \
	helper/privdrop.c helper/http.c helper/api_json.c helper/spool_json.c \
	helper/identity.c \
	helper/reason.c helper/api.c helper/session.c helper/record.c helper/person.c \
	helper/out.c helper/scanstate.c helper/accounts.c helper/scan.c \
	helper/spool.c helper/deliver.c helper/queue.c helper/wire.c helper/relay.c \
	helper/forward.c helper/kick.c helper/follow.c helper/counters.c helper/metrics.c \
	helper/budget.c helper/pamstack.c helper/retry_after.c
HELPER_CMD_SRC := helper/cmd_revoke.c helper/cmd_check.c helper/cmd_deliver.c \
	helper/cmd_enqueue.c helper/cmd_status.c helper/cmd_scan.c helper/cmd_ingest.c \
	helper/main.c

# The module links libpam and libc only: no helper code, no libraries.
MODULE_SRC := pam_module/pam_accessowl.c common/text.c common/event.c \
	common/account.c common/faillock.c common/spawn.c common/modargs.c \
	common/clock.c
MODULE_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(DEFS) -Icommon \
	-DAO_HELPER_PATH='"$(HELPER_PATH)"' \
	-DAO_CONFIG_PATH='"$(SYSCONFDIR)/accessowl/accessowl.conf"' \
	$(CFLAGS) $(EXTRA_CFLAGS)

# helper objects are position-independent (PIE executable)
OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
HELPER_LIB_OBJ := $(call OBJ,$(COMMON_SRC) $(HELPER_LIB_SRC))
HELPER_OBJ := $(HELPER_LIB_OBJ) $(call OBJ,$(HELPER_CMD_SRC))

UNIT_TESTS := test_text test_config test_identity test_reason test_json test_account test_faillock \
	test_scan test_modargs test_api test_deliver test_queue test_privdrop \
	test_spool test_secfile test_wire test_budget test_pamstack \
	test_retry_after test_clock
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
SHIM := $(BUILD)/tests/libspshim.so
PAMHOST := $(BUILD)/tests/pamhost
RELPSEND := $(BUILD)/tests/relpsend

.PHONY: all helper module deps demo bench check unit integration man-check install clean asan valgrind

MAN8 := helper/accessowl-helper.8 pam_module/pam_accessowl.8
MAN5 := conf/accessowl.conf.5

all: helper module

helper: $(BUILD)/accessowl-helper
module: $(BUILD)/pam_accessowl.so

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MODULE_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

$(BUILD)/pam_accessowl.so: $(patsubst %.c,$(BUILD)/pic/%.o,$(MODULE_SRC)) pam_module/pam_accessowl.map
	$(CC) $(MODULE_CFLAGS) -shared -fPIC $(LDHARDEN) -Wl,-z,defs \
		-Wl,--version-script=pam_module/pam_accessowl.map $(LDFLAGS) \
		-o $@ $(filter %.o,$^) -lpam

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -MMD -MP -c -o $@ $<

$(BUILD)/accessowl-helper: $(HELPER_OBJ)
	$(CC) $(ALL_CFLAGS) -pie $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(HELPER_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(HELPER_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie $(LDFLAGS) -o $@ $^ $(HELPER_LIBS) $(CMOCKA_LIBS)

# The engine tests answer requests from a script (tests/unit/stub_http.c)
# instead of http.c: the API client and the delivery engine, driven
# directly.
STUB_TESTS := test_api test_deliver
$(addprefix $(BUILD)/tests/,$(STUB_TESTS)): $(BUILD)/tests/%: tests/unit/%.c \
    tests/unit/stub_http.c $(filter-out $(BUILD)/obj/helper/http.o,$(HELPER_LIB_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -fPIE -pie $(LDFLAGS) -o $@ $^ \
		$(HELPER_LIBS) $(CMOCKA_LIBS)

# Installs what `make check` needs from Debian's packages (root), or says
# what to install (non-root).  Does nothing when all is present.
deps:
	@sh tests/deps.sh

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# test-only preload for the no-root PAM tests (see the file)
$(SHIM): tests/shim/spshim.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

# test-only PAM application reporting what the module left behind
$(PAMHOST): tests/host/pamhost.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -o $@ $< -lpam

# test-only RELP client: what a compromised relay host could send
$(RELPSEND): tests/host/relpsend.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -o $@ $< -lrelp

integration: helper module $(SHIM) $(PAMHOST) $(RELPSEND)
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/test_fake_accessowl.py tests/integration

# The whole story on an embedded fake AccessOwl (see tests/demo.py).
demo: deps
	$(MAKE) all $(SHIM) $(PAMHOST)
	$(PYTHON) tests/demo.py

# Speed targets live here, never in tests (see tests/bench.py).
bench: all $(SHIM) $(PAMHOST)
	$(PYTHON) tests/bench.py

# Man pages must render without a single groff warning.
man-check:
	@set -e; for m in $(MAN8) $(MAN5); do \
		out=$$(LC_ALL=C.UTF-8 groff -ww -z -man $$m 2>&1); \
		if [ -n "$$out" ]; then echo "$$m: $$out"; exit 1; fi; done; \
		echo "man pages: no groff warnings"

check: deps
	$(MAKE) all
	$(MAKE) man-check
	$(MAKE) unit
	$(MAKE) valgrind
	$(MAKE) integration
	$(MAKE) asan

# ASan+UBSan build of the helper and the unit tests, then the whole
# integration suite with the sanitized helper (the module under test is the
# normal build: it runs inside pamtester, which is not sanitized).
ASAN_FLAGS := EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
asan: all $(SHIM) $(PAMHOST) $(RELPSEND)
	$(MAKE) BUILD=build-asan $(ASAN_FLAGS) unit helper
	AO_HELPER=$(CURDIR)/build-asan/accessowl-helper \
		ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/integration/lsan.supp:print_suppressions=0 \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite $$t; done

install: all
	install -D -m 0755 $(BUILD)/accessowl-helper $(DESTDIR)$(SBINDIR)/accessowl-helper
	install -D -m 0644 $(BUILD)/pam_accessowl.so $(DESTDIR)$(PAMDIR)/pam_accessowl.so
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/accessowl
	install -m 0640 conf/accessowl.conf $(DESTDIR)$(SYSCONFDIR)/accessowl/accessowl.conf
	install -d -m 0755 $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -D -m 0644 conf/cron/accessowl $(DESTDIR)$(SYSCONFDIR)/cron.d/accessowl
	install -D -m 0644 conf/tmpfiles.d/accessowl.conf $(DESTDIR)$(TMPFILESDIR)/accessowl.conf
	install -D -m 0644 conf/sysusers.d/accessowl.conf $(DESTDIR)$(SYSUSERSDIR)/accessowl.conf
	install -D -m 0644 conf/rsyslog/accessowl-collector.conf \
		$(DESTDIR)$(PREFIX)/share/accessowl/rsyslog/accessowl-collector.conf
	install -D -m 0644 helper/accessowl-helper.8 $(DESTDIR)$(MANDIR)/man8/accessowl-helper.8
	install -D -m 0644 pam_module/pam_accessowl.8 $(DESTDIR)$(MANDIR)/man8/pam_accessowl.8
	install -D -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/accessowl.conf.5

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' 2>/dev/null)

# Distro packages: make deb, make rpm, make package-check (packaging/).
-include packaging/packaging.mk

# libFuzzer harnesses: make fuzz, make fuzz-build (tests/fuzz/).
-include tests/fuzz/fuzz.mk

# The .deb and its units under a real systemd: make systemd-check
# (tests/systemd/).
-include tests/systemd/systemd.mk

# The SELinux policy module: make selinux, make selinux-check (tests/selinux/).
-include tests/selinux/selinux.mk
