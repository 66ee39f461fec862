# make selinux-check: the SELinux policy module (packaging/selinux/),
# compiled against Debian's reference policy headers (selinux-policy-dev),
# installed by the .rpm's own %post into the policy store of a throwaway
# root and queried with setools (tests/selinux/, included by the top
# Makefile).  Root; needs mmdebstrap, selinux-policy-dev and setools
# (tests/deps.sh) and Debian's package mirror the first time.  No policy
# is loaded anywhere: the host's SELinux state does not change.
#
# The root is built once with mmdebstrap and kept as a tar in
# AO_SELINUX_CACHE (default build/selinux-cache; point it outside the tree
# to share it between clones); each run unpacks a fresh copy of it and
# removes that copy again.
#
#   make selinux        build/selinux/accessowl.pp, the module alone
#   make selinux-check AO_FEDORA_POLICY=DIR
#                       the same checks on Fedora's policy as well, DIR made
#                       from its source by tests/selinux/fedora-policy.sh

.PHONY: selinux selinux-check

AO_SELINUX_CACHE ?= $(CURDIR)/$(BUILD)/selinux-cache
SELINUX_SRC := packaging/selinux/accessowl.te packaging/selinux/accessowl.if \
	packaging/selinux/accessowl.fc

selinux: $(SELINUX_SRC)
	rm -rf $(BUILD)/selinux
	mkdir -p $(BUILD)/selinux
	cp $(SELINUX_SRC) $(BUILD)/selinux/
	$(MAKE) -C $(BUILD)/selinux -f /usr/share/selinux/devel/Makefile accessowl.pp

selinux-check: deps
	$(MAKE) rpm
	AO_RPM=$(CURDIR)/$(RPM_FILE) AO_RPM_SELINUX=$(CURDIR)/$(RPM_SELINUX_FILE) \
		AO_SELINUX_CACHE='$(AO_SELINUX_CACHE)' AO_FEDORA_POLICY='$(AO_FEDORA_POLICY)' \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/selinux
