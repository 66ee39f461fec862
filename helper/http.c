#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "err.h"
#include "http.h"
#include "log.h"

/* "Authorization: Bearer " before the token in auth_header */
#define AUTH_PREFIX (sizeof("Authorization: Bearer ") - 1)

struct ao_http {
	CURL *curl;
	char *base_url;
	char *auth_header;     /* "Authorization: Bearer ...": wiped on free */
	char *ca_pem;
	size_t ca_pem_len;
	long timeout;
	char *user_agent;
};

struct sink {
	char *buf;
	size_t len, cap;
	int overflow;
};

struct hdrs {
	char retry_after[AO_HTTP_HEADER_MAX];
	char date[AO_HTTP_HEADER_MAX];
};

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (n > AO_HTTP_MAX_BODY || s->len + n > AO_HTTP_MAX_BODY) {
		s->overflow = 1;
		return 0; /* abort the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		char *nb;

		while (cap < s->len + n + 1)
			cap *= 2;
		if ((nb = realloc(s->buf, cap)) == NULL)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* Keep the value of header line buf (n bytes) in out when it is `name`;
 * its spaces and line end trimmed, an overlong one cut and marked. */
static void
keep_header(const char *buf, size_t n, const char *name, char *out)
{
	size_t nl = strlen(name), i, j;

	if (n <= nl || strncasecmp(buf, name, nl) != 0)
		return;
	for (i = nl; i < n && (buf[i] == ' ' || buf[i] == '\t'); i++)
		;
	while (n > i && (buf[n - 1] == '\r' || buf[n - 1] == '\n' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n - i < AO_HTTP_HEADER_MAX) {
		memcpy(out, buf + i, n - i);
		out[n - i] = '\0';
		return;
	}
	j = AO_HTTP_HEADER_MAX - 4;
	memcpy(out, buf + i, j);
	memcpy(out + j, "...", 4);
}

/* The headers the retry policy reads; a new status line (a second
 * response of the same transfer) starts afresh. */
static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct hdrs *h = userdata;
	size_t n = size * nitems;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		memset(h, 0, sizeof(*h));
	keep_header(buf, n, "retry-after:", h->retry_after);
	keep_header(buf, n, "date:", h->date);
	return n;
}

int
ao_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    AO_OK : AO_ERR_SYSTEM;
}

void
ao_http_global_cleanup(void)
{
	curl_global_cleanup();
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
ao_http_new(const struct ao_http_opts *o, struct ao_http **out)
{
	struct ao_http *h = NULL;
	size_t alen;
	int r = AO_ERR_NOMEM;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto out;
	alen = AUTH_PREFIX + strlen(o->token) + 1;
	if ((h->base_url = strdup(o->base_url)) == NULL ||
	    (h->user_agent = strdup(o->user_agent)) == NULL ||
	    (h->auth_header = malloc(alen)) == NULL)
		goto out;
	snprintf(h->auth_header, alen, "Authorization: Bearer %s", o->token);
	if (o->ca_pem != NULL) {
		if ((h->ca_pem = malloc(o->ca_pem_len + 1)) == NULL)
			goto out;
		memcpy(h->ca_pem, o->ca_pem, o->ca_pem_len);
		h->ca_pem[o->ca_pem_len] = '\0';
		h->ca_pem_len = o->ca_pem_len;
	}
	h->timeout = o->timeout;
	if ((h->curl = curl_easy_init()) == NULL) {
		r = AO_ERR_SYSTEM;
		goto out;
	}
	*out = h;
	h = NULL;
	r = AO_OK;
out:
	ao_http_free(h);
	return r;
}

void
ao_http_free(struct ao_http *h)
{
	if (h == NULL)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	wipe_free(h->auth_header);
	free(h->base_url);
	free(h->ca_pem);
	free(h->user_agent);
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
	char *e = curl_easy_escape(h->curl, s, 0), *c;

	if (e == NULL)
		return NULL;
	c = strdup(e);
	curl_free(e);
	return c;
}

/* Headers for one request; the Authorization line is wiped on the way out. */
static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i != NULL; i = i->next)
		if (i->data)
			explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static int
setup(struct ao_http *h, const char *url, struct sink *sink, struct hdrs *hd,
    char *errbuf)
{
	CURL *c = h->curl;
	CURLcode rc = CURLE_OK;

	curl_easy_reset(c);
#define S(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
	S(CURLOPT_URL, url);
	S(CURLOPT_PROTOCOLS_STR, "https");
	S(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	S(CURLOPT_FOLLOWLOCATION, 0L);
	S(CURLOPT_SSL_VERIFYPEER, 1L);
	S(CURLOPT_SSL_VERIFYHOST, 2L);
	S(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	S(CURLOPT_NOSIGNAL, 1L);
	S(CURLOPT_NOPROXY, "*");          /* no proxy from the environment */
	S(CURLOPT_PROXY, "");
	S(CURLOPT_CONNECTTIMEOUT, h->timeout < 10 ? h->timeout : 10L);
	S(CURLOPT_TIMEOUT, h->timeout);
	S(CURLOPT_ERRORBUFFER, errbuf);
	S(CURLOPT_WRITEFUNCTION, write_cb);
	S(CURLOPT_WRITEDATA, sink);
	S(CURLOPT_HEADERFUNCTION, header_cb);
	S(CURLOPT_HEADERDATA, hd);
	S(CURLOPT_USERAGENT, h->user_agent);
	S(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)AO_HTTP_MAX_BODY);
	S(CURLOPT_ACCEPT_ENCODING, NULL); /* no decompression bombs */
	if (h->ca_pem != NULL) {
		struct curl_blob blob = { h->ca_pem, h->ca_pem_len,
		    CURL_BLOB_NOCOPY };

		S(CURLOPT_CAINFO_BLOB, &blob);
		S(CURLOPT_CAPATH, NULL);
	}
#undef S
	if (rc != CURLE_OK) {
		ao_err("libcurl refused an option: %s", curl_easy_strerror(rc));
		return AO_ERR_SYSTEM;
	}
	return AO_OK;
}

int
ao_http_request(struct ao_http *h, const char *method, const char *path_query,
    const char *json_body, const char *idem_key, struct ao_http_resp *resp)
{
	struct curl_slist *hl = NULL, *t;
	struct sink sink = { NULL, 0, 0, 0 };
	struct hdrs hd;
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL, keyhdr[300];
	size_t ulen;
	CURLcode rc;
	int r = AO_ERR_NOMEM;

	memset(resp, 0, sizeof(*resp));
	memset(&hd, 0, sizeof(hd));
	ulen = strlen(h->base_url) + strlen(path_query) + 1;
	if ((url = malloc(ulen)) == NULL)
		goto out;
	snprintf(url, ulen, "%s%s", h->base_url, path_query);
	if ((r = setup(h, url, &sink, &hd, errbuf)) != AO_OK)
		goto out;
	r = AO_ERR_NOMEM;
#define H(line) do { if ((t = curl_slist_append(hl, line)) == NULL) goto out; hl = t; } while (0)
	H(h->auth_header);
	H("Accept: application/json");
	H("Expect:");
	if (idem_key != NULL) {
		snprintf(keyhdr, sizeof(keyhdr), "Idempotency-Key: %s", idem_key);
		H(keyhdr);
	}
	if (strcmp(method, "POST") == 0) {
		H("Content-Type: application/json");
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
		    json_body ? json_body : "");
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
#undef H
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(h->curl);
	/* the handle keeps a pointer to the list: drop it before wiping */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->body = sink.buf;
		resp->len = sink.len;
		sink.buf = NULL;
		resp->echoes_token = resp->body != NULL &&
		    memmem(resp->body, resp->len, h->auth_header + AUTH_PREFIX,
		    strlen(h->auth_header + AUTH_PREFIX)) != NULL;
		memcpy(resp->retry_after, hd.retry_after,
		    sizeof(resp->retry_after));
		memcpy(resp->date, hd.date, sizeof(resp->date));
		r = AO_OK;
		goto out;
	}
	snprintf(resp->error, sizeof(resp->error), "%s",
	    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(resp->error, sizeof(resp->error),
		    "response larger than %u bytes", AO_HTTP_MAX_BODY);
		r = AO_ERR_DATA;
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
	    rc == CURLE_SSL_ISSUER_ERROR ||
	    rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		r = AO_ERR_TLS;
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
		r = AO_ERR_CONFIG;
	} else {
		r = AO_ERR_TEMP;
	}
out:
	slist_wipe_free(hl);
	free(sink.buf);
	free(url);
	return r;
}
