/*
 * A scripted transport in place of helper/http.c, for the tests that
 * drive the API client and the delivery engine directly: each request is
 * recorded and answered by the next scripted reply (or by a handler).
 * Test-only; never linked into the helper.
 */
#ifndef STUB_HTTP_H
#define STUB_HTTP_H

#include <stddef.h>

struct stub_reply {
	long status;            /* 0: no answer, err instead */
	const char *body;       /* NULL: empty */
	const char *retry_after; /* the Retry-After header as sent; NULL:
	                          * none */
	int err;                /* AO_ERR_TEMP etc. when status is 0 */
};

/* The Date header of every reply from now on (NULL: none; reset clears
 * it): the server's clock. */
void stub_http_date(const char *date);

struct stub_request {
	char method[8];
	char path[1024];
	char body[1024];
	char key[300];          /* Idempotency-Key, "" when none */
};

/* The replies for the next requests, in order (copied). */
void stub_http_script(const struct stub_reply *r, size_t n);

/* Or a function answering every request (set NULL to go back). */
typedef struct stub_reply (*stub_handler)(const struct stub_request *req,
    size_t n, char *buf, size_t bufsz);
void stub_http_handler(stub_handler h);

/* What was asked so far; reset clears it and the script. */
size_t stub_http_count(void);
const struct stub_request *stub_http_request(size_t i);
void stub_http_reset(void);

#endif
