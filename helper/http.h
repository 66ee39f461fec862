/*
 * HTTPS transport to the AccessOwl API.  The only file that includes curl is
 * http.c.
 *
 * Invariants: https only, no redirects, peer and host verification on (a
 * custom CA from api.ca_file, loaded into memory before the privilege
 * drop), connect and total timeouts, CURLOPT_NOSIGNAL, no proxy taken from
 * the environment, response bodies capped at AO_HTTP_MAX_BODY.  The bearer
 * header is built here from the token and wiped in ao_http_free(); the
 * caller wipes its own copy of the token.  One curl handle serves every
 * request of a run (connection reuse).
 */
#ifndef AO_HTTP_H
#define AO_HTTP_H

#include <stddef.h>

#define AO_HTTP_MAX_BODY (8u * 1024 * 1024)
#define AO_HTTP_HEADER_MAX 64

struct ao_http;

struct ao_http_opts {
	const char *base_url;  /* https://host[:port] */
	const char *ca_pem;    /* CA bundle text, or NULL for the system store */
	size_t ca_pem_len;
	long timeout;          /* seconds for a whole request */
	const char *token;     /* copied into the Authorization header */
	const char *user_agent;
};

struct ao_http_resp {
	long status;          /* HTTP status, 0 if no response */
	char *body;           /* NUL-terminated, owned; NULL if none */
	size_t len;
	/* Retry-After and Date as the server sent them ("" when absent; a
	 * value too long to keep ends in "...", which no parser takes):
	 * read by ao_retry_after() (retry_after.h) */
	char retry_after[AO_HTTP_HEADER_MAX];
	char date[AO_HTTP_HEADER_MAX];
	char error[256];      /* transport error text when status is 0 */
	int echoes_token;     /* the body holds the token (a proxy, or a
	                       * wrong api.url, mirroring our headers):
	                       * never log it */
};

/* New client; *out set on success.  AO_OK, AO_ERR_NOMEM or AO_ERR_SYSTEM. */
int ao_http_new(const struct ao_http_opts *o, struct ao_http **out);

/*
 * One request: method "GET" or "POST"; path_query starts with "/";
 * json_body for POST (sent as application/json); idem_key adds an
 * Idempotency-Key header.  resp is cleared on entry.
 *
 * Returns AO_OK when an HTTP response arrived (any status: the caller
 * decides), AO_ERR_TEMP for connection failures and timeouts, AO_ERR_TLS for
 * certificate failures, AO_ERR_DATA when the body exceeds the cap.
 */
int ao_http_request(struct ao_http *h, const char *method,
    const char *path_query, const char *json_body, const char *idem_key,
    struct ao_http_resp *resp);

/* Free the body of a response.  Accepts NULL. */
void ao_http_resp_free(struct ao_http_resp *resp);

/* URL-encode s; caller frees.  NULL on out of memory. */
char *ao_http_escape(struct ao_http *h, const char *s);

/* Wipe the credentials and free the client.  Accepts NULL. */
void ao_http_free(struct ao_http *h);

/* Once per process, before any client (and before the privilege drop). */
int ao_http_global_init(void);
void ao_http_global_cleanup(void);

#endif
