# Distro packages (included by the top-level Makefile).
#
#   make deb            build/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb
#   make rpm            build/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm
#   make lintian        lintian on the .deb: fails on any error
#   make package-check  all of the above, then packaging/tests (pytest):
#                       contents, owners and modes of both packages, and the
#                       .deb installed, removed and purged in a throwaway root
#
# Both packages are built from the files git knows about (tracked, plus new
# files not ignored) as they are in the working tree, and both take their
# version from VERSION, as accessowl-helper --version does.

.PHONY: deb rpm lintian package-check

PKG_TREE_FILES = git ls-files -z --cached --others --exclude-standard
DEB_ARCH := $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/libpam-accessowl-$(VERSION)
DEB_FILE := $(BUILD)/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb
RPM_TOP := $(CURDIR)/$(BUILD)/rpm
RPM_ARCH := $(shell rpm --eval '%{_arch}' 2>/dev/null)
RPM_FILE := $(BUILD)/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm
# the changelog's date: the last commit's, so that builds are reproducible
PKG_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	$(PKG_TREE_FILES) | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
		| tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	rm -rf $(DEB_SRC)/debian
	cp -a packaging/debian $(DEB_SRC)/debian
	sh packaging/debian-changelog.sh $(VERSION) $(PKG_EPOCH) > $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && SOURCE_DATE_EPOCH=$(PKG_EPOCH) dpkg-buildpackage -us -uc -b
	cp $(DEB_DIR)/libpam-accessowl_$(VERSION)_$(DEB_ARCH).deb $(DEB_FILE)
	@echo "built $(DEB_FILE)"

lintian: deb
	lintian --fail-on error --display-info --info $(DEB_FILE)

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
	SOURCE_DATE_EPOCH=$(PKG_EPOCH) rpmbuild -bb --nodeps \
		--define "_topdir $(RPM_TOP)" --define "ao_version $(VERSION)" \
		$(RPM_TOP)/SPECS/pam_accessowl.spec
	cp $(RPM_TOP)/RPMS/$(RPM_ARCH)/pam_accessowl-$(VERSION)-1.$(RPM_ARCH).rpm $(RPM_FILE)
	@echo "built $(RPM_FILE)"

package-check: deps
	$(MAKE) deb
	$(MAKE) lintian
	$(MAKE) rpm
	AO_DEB=$(CURDIR)/$(DEB_FILE) AO_RPM=$(CURDIR)/$(RPM_FILE) AO_VERSION=$(VERSION) \
		$(PYTHON) -m pytest -q -p no:cacheprovider packaging/tests
