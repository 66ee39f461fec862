/*
 * Text helpers shared by the module and the helper.
 *
 * Anything a user, GECOS field or server wrote is untrusted: it passes
 * through ao_sanitize() before it reaches a log line or the terminal.
 */
#ifndef AO_TEXT_H
#define AO_TEXT_H

#include <stddef.h>

/*
 * Copy src into dst (size dstsz > 0), replacing every control byte
 * (C0, DEL, and the C1 range encoded as UTF-8) with '?', and cutting on a
 * UTF-8 boundary if src does not fit.  Always NUL-terminates.  Returns dst.
 */
char *ao_sanitize(char *dst, size_t dstsz, const char *src);

/* As ao_sanitize(), but the control bytes in keep (e.g. "\t\n") pass. */
char *ao_sanitize_keep(char *dst, size_t dstsz, const char *src,
    const char *keep);

/*
 * Length of the longest prefix of s (length len) that is at most max bytes
 * and does not end inside a UTF-8 sequence.
 */
size_t ao_utf8_cut(const char *s, size_t len, size_t max);

/* Case-insensitive ASCII string equality; NULLs are never equal. */
int ao_streq_ci(const char *a, const char *b);

/* A random number in [0, n) (0 when n <= 0), for jitter: not for keys. */
long ao_random_below(long n);

/*
 * The one backoff: before attempt n (1-based) after n failures, base *
 * 2^(n-1) capped at cap, then scaled at random into [half, whole), so
 * that hosts failing together do not retry together.
 */
long ao_backoff(long base, long cap, unsigned n);

/* Lower-case hex of n random bytes into out (2n+1 bytes).  AO_OK or error. */
int ao_random_hex(char *out, size_t n);

#endif
