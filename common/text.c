#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "text.h"

/* Length of the UTF-8 sequence led by byte c; 0 for a continuation byte. */
static size_t
utf8_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 0;
}

size_t
ao_utf8_cut(const char *s, size_t len, size_t max)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seqlen((unsigned char)s[i]);

		if (n == 0)
			n = 1; /* stray continuation byte: count it alone */
		if (i + n > len || i + n > max)
			break;
		i += n;
	}
	return i;
}

char *
ao_sanitize(char *dst, size_t dstsz, const char *src)
{
	return ao_sanitize_keep(dst, dstsz, src, "");
}

/*
 * The code point of the strict UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), its length in
 * *n; -1 (and *n = 1) when s does not start one.
 */
static long
utf8_decode(const unsigned char *s, size_t *n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len = utf8_seqlen(s[0]), k;
	long cp;

	*n = 1;
	if (len == 1)
		return s[0];
	switch (s[0]) {
	case 0xe0: lo = 0xa0; break;            /* no overlong 3-byte form */
	case 0xed: hi = 0x9f; break;            /* no surrogates */
	case 0xf0: lo = 0x90; break;            /* no overlong 4-byte form */
	case 0xf4: hi = 0x8f; break;            /* nothing past U+10FFFF */
	default: break;
	}
	if (len == 0 || s[0] < 0xc2 || s[0] > 0xf4 || s[1] < lo || s[1] > hi)
		return -1;
	cp = s[0] & (0x7f >> len);
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	*n = len;
	return cp;
}

/* A code point that must not reach a terminal or a log: C0, DEL, C1,
 * and the controls that reorder text (bidi overrides, marks, isolates). */
static bool
control_cp(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x61c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

char *
ao_sanitize_keep(char *dst, size_t dstsz, const char *src, const char *keep)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0, n;
	long cp;

	if (dstsz == 0)
		return dst;
	while (*s) {
		cp = utf8_decode(s, &n);
		if (cp < 0 || (control_cp(cp) &&
		    (cp >= 0x20 || strchr(keep, (int)cp) == NULL))) {
			s += n;     /* invalid, or a control: one '?' */
			if (o + 1 >= dstsz)
				break;
			dst[o++] = '?';
			continue;
		}
		if (o + n >= dstsz)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
	return dst;
}

int
ao_streq_ci(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	for (; *a && *b; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

long
ao_random_below(long n)
{
	unsigned long long r = 0;

	if (n <= 0)
		return 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned long long)getpid() * 2654435761ULL ^
		    (unsigned long long)time(NULL);
	return (long)(r % (unsigned long long)n);
}

long
ao_backoff(long base, long cap, unsigned n)
{
	long d = base;

	while (n > 1 && d < cap) {
		d *= 2;
		n--;
	}
	if (d > cap)
		d = cap;
	return d / 2 + ao_random_below(d - d / 2);
}

int
ao_random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];
	size_t got = 0, i;

	if (n > sizeof(buf))
		return AO_ERR_USAGE;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return AO_ERR_SYSTEM;
		}
		got += (size_t)r;
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 0xf];
	}
	out[2 * n] = '\0';
	return AO_OK;
}
