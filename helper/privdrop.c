#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privdrop.h"

void
ao_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	umask(077);
}

int
ao_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL, *nb;
	size_t size = 4096;
	int e, r = AO_ERR_TEMP;

	for (;;) {
		if ((nb = realloc(buf, size)) == NULL) {
			e = ENOMEM;
			break;
		}
		buf = nb;
		/* 0 with no entry, or ENOENT: "no such user"; anything else
		 * is NSS failing to answer */
		e = getpwnam_r(name, &pw, buf, size, &res);
		if (e != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	if (e == 0 && res != NULL) {
		*uid = res->pw_uid;
		*gid = res->pw_gid;
		r = AO_OK;
	} else if (e == 0 || e == ENOENT) {
		r = AO_ERR_NOTFOUND;
	} else {
		ao_err("cannot look up user '%s' now: %s; nothing was decided: "
		    "try again", name, strerror(e));
	}
	free(buf);
	return r;
}

int
ao_service_user(const char *name, uid_t *uid, gid_t *gid)
{
	uid_t u;
	gid_t g;
	int r;

	if ((r = ao_user_lookup(name, &u, &g)) == AO_ERR_NOTFOUND) {
		ao_err("service user '%s' does not exist; create it "
		    "(useradd --system --no-create-home --shell /usr/sbin/nologin "
		    "%s) or set `user` in the config", name, name);
		return AO_ERR_CONFIG;
	}
	if (r != AO_OK)
		return r;
	if (u == 0) {
		ao_err("service user '%s' has uid 0; it must be an "
		    "unprivileged account", name);
		return AO_ERR_CONFIG;
	}
	*uid = u;
	*gid = g;
	return AO_OK;
}

/*
 * Started as the service user with a capability (the scan unit grants
 * CAP_DAC_READ_SEARCH to read shadow): give every capability up, ambient
 * ones included, and check that none is left.
 */
static int
drop_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return AO_OK; /* no capability support: nothing held */
	if ((data[0].effective | data[0].permitted | data[0].inheritable |
	    data[1].effective | data[1].permitted | data[1].inheritable) == 0)
		return AO_OK;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0 ||
	    syscall(SYS_capget, &hdr, data) != 0 ||
	    (data[0].effective | data[0].permitted | data[1].effective |
	    data[1].permitted) != 0) {
		ao_err("cannot give up capabilities: %s", strerror(errno));
		return AO_ERR_PERM;
	}
	ao_debug("gave up all capabilities");
	return AO_OK;
}

int
ao_privdrop(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0) {
		ao_debug("not running as root: keeping uid %lu",
		    (unsigned long)geteuid());
		return drop_caps();
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		ao_err("cannot drop privileges to uid %lu: %s",
		    (unsigned long)uid, strerror(errno));
		return AO_ERR_PERM;
	}
	/* prove it: every id is the target and root cannot come back */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid ||
	    setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		ao_err("privilege drop to uid %lu could be undone; refusing "
		    "to go on", (unsigned long)uid);
		return AO_ERR_PERM;
	}
	/* the uid change reset "dumpable" to fs.suid_dumpable: with it at 1,
	 * the service user could ptrace us and read the token */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		ao_err("cannot make the process undumpable after the privilege "
		    "drop: %s", strerror(errno));
		return AO_ERR_PERM;
	}
	ao_debug("dropped privileges to uid %lu gid %lu", (unsigned long)uid,
	    (unsigned long)gid);
	return AO_OK;
}
