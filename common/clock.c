/* Time that a clock step cannot fool: see clock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

/* The boot id's 32 hex digits, without its dashes; "" if unreadable. */
static void
boot_id(char *out)
{
	char buf[64];
	ssize_t n;
	size_t i, j = 0;
	int fd;

	out[0] = '\0';
	fd = open(BOOT_ID_FILE, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	for (i = 0; n > 0 && i < (size_t)n && buf[i] != '\n'; i++) {
		char c = buf[i];

		if (c == '-')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (j == AO_BOOT_ID_LEN || !((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'f')))
			return;
		out[j++] = c;
	}
	out[j == AO_BOOT_ID_LEN ? j : 0] = '\0';
}

static long long
ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ao_stamp_now(struct ao_stamp *s)
{
	memset(s, 0, sizeof(*s));
	if ((s->wall_ms = ms(CLOCK_REALTIME)) < 0)
		s->wall_ms = 0;
	if ((s->boot_ms = ms(CLOCK_BOOTTIME)) >= 0)
		boot_id(s->boot);
	else
		s->boot_ms = 0;
}

void
ao_stamp_format(const struct ao_stamp *s, char *out, size_t n)
{
	if (s->boot[0] != '\0')
		snprintf(out, n, "%lld:%lld:%s", s->wall_ms, s->boot_ms, s->boot);
	else
		snprintf(out, n, "%lld", s->wall_ms);
}

/* A number >= 0 at *p, ending at one of the bytes in ends. */
static int
number(const char **p, const char *ends, long long *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return AO_ERR_DATA;
	errno = 0;
	*out = strtoll(*p, &end, 10);
	if (errno != 0 || strchr(ends, *end) == NULL)
		return AO_ERR_DATA;
	*p = end;
	return AO_OK;
}

int
ao_stamp_parse(const char *text, struct ao_stamp *s)
{
	const char *p = text;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (number(&p, ":", &s->wall_ms) != AO_OK)
		goto bad;
	if (*p == '\0')
		return AO_OK;
	p++;
	if (number(&p, ":", &s->boot_ms) != AO_OK || *p++ != ':')
		goto bad;
	for (i = 0; i < AO_BOOT_ID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			goto bad;
	if (p[i] != '\0')
		goto bad;
	memcpy(s->boot, p, AO_BOOT_ID_LEN + 1);
	return AO_OK;
bad:
	memset(s, 0, sizeof(*s));
	return AO_ERR_DATA;
}

bool
ao_stamp_after(const struct ao_stamp *a, const struct ao_stamp *b,
    const struct ao_stamp *now)
{
	bool a_now, b_now;

	if (a->boot[0] != '\0' && b->boot[0] != '\0') {
		if (strcmp(a->boot, b->boot) == 0)
			return a->boot_ms > b->boot_ms;
		a_now = strcmp(a->boot, now->boot) == 0;
		b_now = strcmp(b->boot, now->boot) == 0;
		/* the current boot came after every other */
		if (a_now != b_now)
			return a_now;
	}
	return a->wall_ms > 0 && a->wall_ms > b->wall_ms;
}

long long
ao_deadline(long long until, long long set_at, long long cap, long long now)
{
	if (until <= 0)
		return until;
	if (set_at > 0 && until >= set_at && until - set_at < cap)
		cap = until - set_at;
	return until - now > cap ? now + cap : until;
}
