# Distro packages (included by the top-level Makefile).
#
#   make deb            build/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb
#   make rpm            build/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm and
#                       build/pam_accessowl-selinux-$(VERSION)-1.noarch.rpm
#                       (the policy module: needs selinux-policy-dev)
#   make lintian        lintian on the .deb: fails on any error
#   make rpmlint        rpmlint on the .rpm: fails on any error not filtered
#                       (with its reason) in packaging/rpm/pam_accessowl.rpmlintrc
#   make package-check  all of the above, then packaging/tests (pytest):
#                       contents, owners and modes of both packages; the
#                       .deb installed, removed and purged in a throwaway
#                       root; both upgraded from the same tree built with a
#                       lower version, downgraded, erased
#
# Both packages are built from the files git knows about (tracked, plus new
# files not ignored) as they are in the working tree, and both take their
# version from VERSION, as accessowl-helper --version does.

.PHONY: deb rpm lintian rpmlint package-check

PKG_TREE_FILES = git ls-files -z --cached --others --exclude-standard
DEB_ARCH := $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/libpam-accessowl-$(VERSION)
DEB_FILE := $(BUILD)/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb
RPM_TOP := $(CURDIR)/$(BUILD)/rpm
RPM_ARCH := $(shell rpm --eval '%{_arch}' 2>/dev/null)
RPM_FILE := $(BUILD)/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm
RPM_SELINUX_FILE := $(BUILD)/pam_accessowl-selinux-$(VERSION)-1.noarch.rpm
# the changelog's date: the last commit's, so that builds are reproducible
PKG_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# Who builds the packages, set at build time by the Debian and RPM
# conventions: DEBFULLNAME and DEBEMAIL (the .deb's Maintainer and
# changelog), %packager (the .rpm's Packager: rpm's macros, else the same
# name).  The defaults say plainly that nobody set them.
DEBFULLNAME ?= Unnamed pam_accessowl Packager
DEBEMAIL ?= unnamed-packager@pam-accessowl.invalid
PKG_MAINTAINER = $(DEBFULLNAME) <$(DEBEMAIL)>
RPM_PACKAGER ?= $(or $(shell rpm --eval '%{?packager}' 2>/dev/null),$(PKG_MAINTAINER))

deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	$(PKG_TREE_FILES) | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
		| tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	rm -rf $(DEB_SRC)/debian
	echo '$(VERSION)' > $(DEB_SRC)/VERSION
	cp -a packaging/debian $(DEB_SRC)/debian
	sed -i 's|@MAINTAINER@|$(PKG_MAINTAINER)|' $(DEB_SRC)/debian/control
	sh packaging/debian-changelog.sh $(VERSION) $(PKG_EPOCH) \
		'$(PKG_MAINTAINER)' > $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && SOURCE_DATE_EPOCH=$(PKG_EPOCH) dpkg-buildpackage -us -uc -b
	cp $(DEB_DIR)/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb $(DEB_FILE)
	@echo "built $(DEB_FILE)"

lintian: deb
	lintian --fail-on error,warning --display-info --info $(DEB_FILE)

# rpmbuild --nodeps: BuildRequires name RPM packages (pkgconfig(libcurl),
# systemd-rpm-macros, ...) that Debian's rpm database does not know; the
# Debian packages that provide them are installed (tests/deps.sh).
rpm:
	rm -rf $(RPM_TOP)
	mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/SPECS
	$(PKG_TREE_FILES) | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
		| tar --null -T - --transform 's,^,pam_accessowl-$(VERSION)/,' \
		  --sort=name --mtime=@$(PKG_EPOCH) --owner=0 --group=0 --numeric-owner \
		  -czf $(RPM_TOP)/SOURCES/pam_accessowl-$(VERSION).tar.gz
	cp packaging/rpm/pam_accessowl.spec $(RPM_TOP)/SPECS/
	sh packaging/rpm-changelog.sh $(VERSION) $(PKG_EPOCH) '$(RPM_PACKAGER)' \
		>> $(RPM_TOP)/SPECS/pam_accessowl.spec
	SOURCE_DATE_EPOCH=$(PKG_EPOCH) rpmbuild -bb --nodeps \
		--define "_topdir $(RPM_TOP)" --define "ao_version $(VERSION)" \
		--define "packager $(RPM_PACKAGER)" \
		$(RPM_TOP)/SPECS/pam_accessowl.spec
	cp $(RPM_TOP)/RPMS/$(RPM_ARCH)/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm $(RPM_FILE)
	cp $(RPM_TOP)/RPMS/noarch/pam_accessowl-selinux-$(VERSION)-1.noarch.rpm $(RPM_SELINUX_FILE)
	@echo "built $(RPM_FILE) $(RPM_SELINUX_FILE)"

# rpmlint on the .rpm: fails on any error but those the rpmlintrc filters,
# each with its reason
rpmlint: rpm
	rpmlint -r packaging/rpm/pam_accessowl.rpmlintrc $(RPM_FILE) $(RPM_SELINUX_FILE)

# The previous release, for the upgrade tests: the same tree with a lower
# version ("~" sorts before anything in both dpkg and rpm).
PREV_VERSION := $(VERSION)~prev
PREV_DEB = $(BUILD)/prev/libpam-accessowl_$(PREV_VERSION)_$(DEB_ARCH).deb
PREV_RPM = $(BUILD)/prev/pam_accessowl-$(PREV_VERSION)-1.$(RPM_ARCH).rpm

package-check: deps
	$(MAKE) deb
	$(MAKE) lintian
	$(MAKE) rpmlint
	$(MAKE) deb rpm VERSION='$(PREV_VERSION)' BUILD=$(BUILD)/prev
	AO_DEB=$(CURDIR)/$(DEB_FILE) AO_RPM=$(CURDIR)/$(RPM_FILE) AO_VERSION=$(VERSION) \
		AO_RPM_SELINUX=$(CURDIR)/$(RPM_SELINUX_FILE) \
		AO_PREV_DEB=$(CURDIR)/$(PREV_DEB) AO_PREV_RPM=$(CURDIR)/$(PREV_RPM) \
		AO_PREV_VERSION='$(PREV_VERSION)' \
		AO_MAINTAINER='$(PKG_MAINTAINER)' AO_PACKAGER='$(RPM_PACKAGER)' \
		$(PYTHON) -m pytest -q -p no:cacheprovider packaging/tests
