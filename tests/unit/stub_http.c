#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "stub_http.h"

#define MAX_SCRIPT 64
#define MAX_LOG 4096

struct ao_http {
	int unused;
};

static struct stub_reply script[MAX_SCRIPT];
static size_t nscript, next;
static struct stub_request log_[MAX_LOG];
static size_t nlog;
static stub_handler handler;
static char hbuf[1 << 20];
static char date[AO_HTTP_HEADER_MAX];

void
stub_http_script(const struct stub_reply *r, size_t n)
{
	if (n > MAX_SCRIPT)
		abort();
	memcpy(script, r, n * sizeof(*r));
	nscript = n;
	next = 0;
}

void
stub_http_date(const char *d)
{
	snprintf(date, sizeof(date), "%s", d ? d : "");
}

void
stub_http_handler(stub_handler h)
{
	handler = h;
}

size_t
stub_http_count(void)
{
	return nlog;
}

const struct stub_request *
stub_http_request(size_t i)
{
	return i < nlog ? &log_[i] : NULL;
}

void
stub_http_reset(void)
{
	nscript = next = nlog = 0;
	handler = NULL;
	date[0] = '\0';
}

int
ao_http_global_init(void)
{
	return AO_OK;
}

void
ao_http_global_cleanup(void)
{
}

int
ao_http_new(const struct ao_http_opts *o, struct ao_http **out)
{
	(void)o;
	*out = calloc(1, sizeof(**out));
	return *out ? AO_OK : AO_ERR_NOMEM;
}

void
ao_http_free(struct ao_http *h)
{
	free(h);
}

void
ao_http_resp_free(struct ao_http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

char *
ao_http_escape(struct ao_http *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	(void)h;
	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

int
ao_http_request(struct ao_http *h, const char *method, const char *path_query,
    const char *json_body, const char *idem_key, struct ao_http_resp *resp)
{
	struct stub_request *q;
	struct stub_reply r;

	(void)h;
	memset(resp, 0, sizeof(*resp));
	if (nlog == MAX_LOG)
		abort();
	q = &log_[nlog++];
	snprintf(q->method, sizeof(q->method), "%s", method);
	snprintf(q->path, sizeof(q->path), "%s", path_query);
	snprintf(q->body, sizeof(q->body), "%s", json_body ? json_body : "");
	snprintf(q->key, sizeof(q->key), "%s", idem_key ? idem_key : "");
	if (handler != NULL)
		r = handler(q, nlog - 1, hbuf, sizeof(hbuf));
	else if (next < nscript)
		r = script[next++];
	else
		abort(); /* the test did not expect this request */
	if (r.status == 0) {
		snprintf(resp->error, sizeof(resp->error), "stub: no answer");
		return r.err ? r.err : AO_ERR_TEMP;
	}
	resp->status = r.status;
	if (r.retry_after != NULL)
		snprintf(resp->retry_after, sizeof(resp->retry_after), "%s",
		    r.retry_after);
	if (date[0] != '\0')
		snprintf(resp->date, sizeof(resp->date), "%s", date);
	if (r.body != NULL) {
		resp->len = strlen(r.body);
		if ((resp->body = malloc(resp->len + 1)) == NULL)
			return AO_ERR_NOMEM;
		memcpy(resp->body, r.body, resp->len + 1);
	}
	return AO_OK;
}
