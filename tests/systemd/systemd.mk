# make systemd-check: the .deb and its units under a real systemd 252,
# booted in systemd-nspawn from a Debian 12 root (tests/systemd/, included
# by the top Makefile).  Root; needs systemd-container and mmdebstrap
# (tests/deps.sh) and Debian's package mirror the first time.
#
# The root is built once with mmdebstrap and kept as a tar in
# AO_SYSTEMD_CACHE (default build/systemd-cache; point it outside the tree
# to share it between clones); each run boots a fresh copy of it and
# removes that copy again.

.PHONY: systemd-check

AO_SYSTEMD_CACHE ?= $(CURDIR)/$(BUILD)/systemd-cache

systemd-check: deps
	$(MAKE) deb
	$(MAKE) deb VERSION='$(PREV_VERSION)' BUILD=$(BUILD)/prev
	AO_DEB=$(CURDIR)/$(DEB_FILE) AO_VERSION=$(VERSION) \
		AO_PREV_DEB=$(CURDIR)/$(PREV_DEB) AO_PREV_VERSION='$(PREV_VERSION)' \
		AO_SYSTEMD_CACHE='$(AO_SYSTEMD_CACHE)' \
		$(PYTHON) -m pytest -q -p no:cacheprovider --durations=5 tests/systemd
