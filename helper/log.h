/*
 * Logging for accessowl-helper: syslog(LOG_AUTHPRIV), ident
 * "accessowl-helper".  Warnings and errors (everything, with debug) also go
 * to stderr, unless stderr is systemd's journal stream: then syslog alone
 * reaches the journal, once.
 *
 * Format arguments may carry untrusted text: every line is passed through
 * ao_sanitize() before it is written (callers need not, but a field that
 * must keep its shape is best sanitised on its own).  The API token is
 * never passed to these functions.
 */
#ifndef AO_LOG_H
#define AO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

void ao_log_open(bool debug);

/*
 * `check` prints every problem on a line of its own: while buf is set,
 * errors go to syslog only (not stderr), and the last one (sanitised) is
 * kept in buf for the caller to print.  NULL ends it.
 */
void ao_log_capture(char *buf, size_t n);
void ao_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ao_err(...)   ao_log(LOG_ERR, __VA_ARGS__)
#define ao_warn(...)  ao_log(LOG_WARNING, __VA_ARGS__)
#define ao_info(...)  ao_log(LOG_INFO, __VA_ARGS__)
#define ao_debug(...) ao_log(LOG_DEBUG, __VA_ARGS__)

#endif
