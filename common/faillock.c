#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "faillock.h"

#define CONF_MAX 65536
#define TALLY_MAX (1024 * AO_FAILLOCK_RECORD)

void
ao_faillock_defaults(struct ao_faillock_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/var/run/faillock");
	c->deny = 3;
	c->fail_interval = 900;
	c->unlock_time = 600;
}

static bool
parse_long(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* One "key [= value]" line, comments and blanks already removed. */
static void
parse_line(char *line, struct ao_faillock_conf *c)
{
	char *key = line, *val = NULL, *eq = strchr(line, '=');
	size_t n;

	if (eq != NULL) {
		*eq = '\0';
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		n = strlen(val);
		while (n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t'))
			val[--n] = '\0';
	}
	n = strlen(key);
	while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t'))
		key[--n] = '\0';
	if (strcmp(key, "even_deny_root") == 0 && val == NULL)
		c->even_deny_root = true;
	else if (val == NULL)
		return;
	else if (strcmp(key, "deny") == 0)
		(void)parse_long(val, 1000000, &c->deny);
	else if (strcmp(key, "fail_interval") == 0)
		(void)parse_long(val, 604800L * 52, &c->fail_interval);
	else if (strcmp(key, "unlock_time") == 0) {
		if (strcmp(val, "never") == 0)
			c->unlock_time = 0;
		else
			(void)parse_long(val, 604800L * 52, &c->unlock_time);
	} else if (strcmp(key, "dir") == 0 && val[0] == '/' &&
	    strlen(val) < sizeof(c->dir))
		memcpy(c->dir, val, strlen(val) + 1);
}

void
ao_faillock_parse(const char *text, struct ao_faillock_conf *c)
{
	char line[512];

	while (*text) {
		size_t n = strcspn(text, "\n"), k;
		char *p;

		k = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, text, k);
		line[k] = '\0';
		text += n + (text[n] == '\n');
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p != '\0')
			parse_line(p, c);
	}
}

/*
 * Read a small regular file whole; NULL if absent, not a regular file,
 * owned by someone other than root or owner (owner -1: root only), or
 * unreadable.  Never blocks (O_NONBLOCK: a FIFO gives nothing).
 */
static unsigned char *
slurp(int dirfd, const char *path, long owner, size_t max, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && (owner < 0 || st.st_uid != (uid_t)owner)))
		goto out;
	if ((buf = malloc(max + 1)) == NULL)
		goto out;
	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

void
ao_faillock_load(const char *path, struct ao_faillock_conf *c)
{
	unsigned char *text;
	size_t len = 0;

	ao_faillock_defaults(c);
	if ((text = slurp(AT_FDCWD, path, -1, CONF_MAX, &len)) == NULL)
		return;
	ao_faillock_parse((const char *)text, c);
	free(text);
}

/* Record i's status and time (host byte order, as pam_faillock writes). */
static void
record_at(const unsigned char *recs, size_t i, uint16_t *status, uint64_t *t)
{
	const unsigned char *r = recs + i * AO_FAILLOCK_RECORD;

	memcpy(status, r + 54, sizeof(*status));
	memcpy(t, r + 56, sizeof(*t));
}

bool
ao_faillock_locked(const struct ao_faillock_conf *c,
    const unsigned char *recs, size_t len, time_t now)
{
	size_t i, n = len / AO_FAILLOCK_RECORD;
	uint64_t latest = 0, t;
	uint16_t status;
	long failures = 0;

	if (c->deny <= 0)
		return false;
	for (i = 0; i < n; i++) {
		record_at(recs, i, &status, &t);
		if ((status & AO_FAILLOCK_VALID) && t > latest)
			latest = t;
	}
	for (i = 0; i < n; i++) {
		record_at(recs, i, &status, &t);
		if ((status & AO_FAILLOCK_VALID) && t <= latest &&
		    latest - t < (uint64_t)c->fail_interval)
			failures++;
	}
	if (failures < c->deny)
		return false;
	/* unlocked by the passing of time, unless unlock_time is "never" */
	return !(c->unlock_time > 0 &&
	    latest + (uint64_t)c->unlock_time < (uint64_t)now);
}

bool
ao_faillock_check(const struct ao_faillock_conf *c, const char *user,
    long uid, time_t now)
{
	unsigned char *recs;
	struct stat st;
	size_t len = 0;
	bool locked;
	int dfd;

	if (uid == 0 && !c->even_deny_root)
		return false;
	if (!ao_username_ok(user))
		return false;
	if ((dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	/* in a directory others may write, anyone could plant a tally */
	if (fstat(dfd, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(dfd);
		return false;
	}
	recs = slurp(dfd, user, uid, TALLY_MAX, &len);
	close(dfd);
	if (recs == NULL)
		return false;
	locked = ao_faillock_locked(c, recs, len, now);
	free(recs);
	return locked;
}
