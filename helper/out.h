/*
 * What the helper prints on stdout for the person at the terminal.
 *
 * Anything printed may carry text from a file, a user, a GECOS field or a
 * server: the whole line goes through the same sanitiser as the logs
 * (ao_sanitize: control bytes, C1 included, become '?'; only tab and
 * newline pass, the layout's own).  No command writes to stdout any other
 * way; untrusted fields are best sanitised on their own as well, so that
 * they cannot bring a tab or newline of their own.
 */
#ifndef AO_OUT_H
#define AO_OUT_H

void ao_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
