#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "secfile.h"
#include "text.h"

static const char *
kind_name(enum ao_file_kind kind)
{
	switch (kind) {
	case AO_FILE_CONFIG: return "config file";
	case AO_FILE_TOKEN:  return "token file";
	case AO_FILE_CA:     return "CA file";
	case AO_FILE_SYSTEM: return "system file";
	case AO_FILE_KEY:    return "private key";
	}
	return "file";
}

/* A group's name for a command line (its number when it has none). */
static const char *
group_name(gid_t gid, char *buf, size_t n)
{
	struct group gr, *res = NULL;
	char tmp[4096];

	if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res != NULL &&
	    strlen(gr.gr_name) < n && strpbrk(gr.gr_name, " \t\n;&|$`'\"\\") ==
	    NULL)
		snprintf(buf, n, "%s", gr.gr_name);
	else
		snprintf(buf, n, "%lu", (unsigned long)gid);
	return buf;
}

/* Owner, mode and type checks on an open file; logs the fix on refusal. */
static int
check_stat(const char *path, const struct stat *st, enum ao_file_kind kind,
    gid_t service_gid)
{
	const char *what = kind_name(kind);
	unsigned mode = (unsigned)(st->st_mode & 07777);
	char fix[2 * 4096 + 128], grp[64];

	if (!S_ISREG(st->st_mode)) {
		ao_err("%s %s is not a regular file", what, path);
		return AO_ERR_PERM;
	}
	if (kind != AO_FILE_CA && st->st_uid != 0 &&
	    (kind == AO_FILE_SYSTEM || st->st_uid != geteuid())) {
		ao_err("%s %s is owned by uid %lu, not root; fix: chown root %s",
		    what, path, (unsigned long)st->st_uid, path);
		return AO_ERR_PERM;
	}
	if (mode & (S_IWGRP | S_IWOTH)) {
		ao_err("%s %s is writable by group or others (mode %04o); "
		    "fix: chmod go-w %s", what, path, mode, path);
		return AO_ERR_PERM;
	}
	if (kind != AO_FILE_TOKEN && kind != AO_FILE_KEY)
		return AO_OK;
	if (!(mode & S_IROTH) && (!(mode & S_IRGRP) ||
	    (service_gid != (gid_t)-1 && st->st_gid == service_gid)))
		return AO_OK;
	/* one fix with every command it needs */
	if (service_gid == (gid_t)-1)
		snprintf(fix, sizeof(fix), "chmod 0600 %s", path);
	else if (st->st_gid == service_gid)
		snprintf(fix, sizeof(fix), "chmod 0640 %s", path);
	else
		snprintf(fix, sizeof(fix), "chgrp %s %s && chmod 0640 %s",
		    group_name(service_gid, grp, sizeof(grp)), path, path);
	if (mode & S_IROTH)
		ao_err("%s %s is readable by everyone (mode %04o); fix: %s",
		    what, path, mode, fix);
	else
		ao_err("%s %s is readable by group %lu, which is not the "
		    "service user's group; fix: %s", what, path,
		    (unsigned long)st->st_gid, fix);
	return AO_ERR_PERM;
}

int
ao_file_open_checked(const char *path, enum ao_file_kind kind,
    gid_t service_gid, int *fdp)
{
	struct stat st;
	int fd, r;

	*fdp = -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK); /* a FIFO must not block us: refused below */
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP)
			ao_err("%s %s is a symbolic link; name the real file "
			    "instead", kind_name(kind), path);
		else
			ao_err("cannot open %s %s: %s", kind_name(kind), path,
			    strerror(e));
		return e == ENOENT ? AO_ERR_CONFIG :
		    (e == EACCES || e == ELOOP) ? AO_ERR_PERM : AO_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0) {
		ao_err("cannot stat %s: %s", path, strerror(errno));
		close(fd);
		return AO_ERR_SYSTEM;
	}
	r = check_stat(path, &st, kind, service_gid);
	if (r != AO_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return AO_OK;
}

int
ao_file_read_fd(int fd, size_t max, char **out, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 4096;
	int r = AO_ERR_NOMEM;

	*out = NULL;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (len > max) {
				r = AO_ERR_DATA;
				goto out;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL)
				goto out;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = AO_ERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		r = AO_ERR_DATA;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (lenp)
		*lenp = len;
	r = AO_OK;
out:
	free(buf);
	return r;
}

int
ao_file_read_checked(const char *path, enum ao_file_kind kind, size_t max,
    char **out, size_t *lenp)
{
	int fd = -1, r;

	*out = NULL;
	if ((r = ao_file_open_checked(path, kind, (gid_t)-1, &fd)) != AO_OK)
		return r;
	r = ao_file_read_fd(fd, max, out, lenp);
	if (r == AO_ERR_DATA)
		ao_err("%s %s is larger than %zu bytes", kind_name(kind), path,
		    max);
	else if (r != AO_OK)
		ao_err("cannot read %s: %s", path, ao_strerror(r));
	close(fd);
	return r;
}

int
ao_token_read(const char *path, gid_t service_gid, struct ao_secret *tok)
{
	int fd = -1, r;
	size_t len = 0, i;

	explicit_bzero(tok, sizeof(*tok));
	(void)mlock(tok, sizeof(*tok)); /* best effort: keep it out of swap */
	if ((r = ao_file_open_checked(path, AO_FILE_TOKEN, service_gid, &fd))
	    != AO_OK)
		return r;
	for (;;) {
		ssize_t n = read(fd, tok->buf + len, sizeof(tok->buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ao_err("cannot read token file %s: %s", path,
			    strerror(errno));
			r = AO_ERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= sizeof(tok->buf) - 1) {
			ao_err("token file %s has %d bytes or more; it must "
			    "hold the API token alone", path, AO_SECRET_MAX - 1);
			r = AO_ERR_CONFIG;
			goto out;
		}
	}
	while (len > 0 && (tok->buf[len - 1] == '\n' ||
	    tok->buf[len - 1] == '\r' || tok->buf[len - 1] == ' ' ||
	    tok->buf[len - 1] == '\t'))
		len--;
	if (len == 0) {
		ao_err("token file %s is empty; put the AccessOwl API token in "
		    "it", path);
		r = AO_ERR_CONFIG;
		goto out;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok->buf[i];

		if (c <= 0x20 || c >= 0x7f) {
			ao_err("token file %s holds a character that cannot be "
			    "part of an API token (byte %zu); it must hold the "
			    "token alone, on one line", path, i + 1);
			r = AO_ERR_CONFIG;
			goto out;
		}
	}
	tok->buf[len] = '\0';
	tok->len = len;
	r = AO_OK;
out:
	close(fd);
	if (r != AO_OK)
		ao_secret_wipe(tok);
	return r;
}

void
ao_secret_wipe(struct ao_secret *tok)
{
	if (tok == NULL)
		return;
	explicit_bzero(tok, sizeof(*tok));
	(void)munlock(tok, sizeof(*tok));
}
