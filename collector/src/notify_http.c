// notify_http.c - see notify_http.h.

#include "notify_http.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

typedef struct sink {
	size_t got;
} sink;

// Reads and discards the answer, up to NOTIFY_HTTP_MAX_RESPONSE bytes; beyond that the
// transfer is aborted (curl then reports a write error, and the status line decides).
static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	sink  *s = arg;
	size_t n = size * nmemb;
	(void) ptr;
	if (s->got + n > NOTIFY_HTTP_MAX_RESPONSE) {
		return 0;
	}
	s->got += n;
	return n;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	atomic_int *stop = arg;
	(void) dltotal;
	(void) dlnow;
	(void) ultotal;
	(void) ulnow;
	return stop != NULL && atomic_load(stop) ? 1 : 0;
}

int
notify_http_post(const notify_http_req *req, char *err, size_t errlen)
{
	CURL              *c                     = curl_easy_init();
	struct curl_slist *h                     = NULL, *t;
	char               cerr[CURL_ERROR_SIZE] = "";
	sink               s                     = { 0 };
	long               code                  = 0;
	CURLcode           rc;
	bool               oom = false;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((t = curl_slist_append(h, "Content-Type: application/json")) == NULL) {
		oom = true;
	}
	h = t;
	for (size_t i = 0; i < req->n_headers && !oom; i++) {
		if ((t = curl_slist_append(h, req->headers[i])) == NULL) {
			oom = true;
		} else {
			h = t;
		}
	}
	if (oom) {
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) req->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) req->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, req->stop);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "faultline-collector");

	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);

	// A 2xx status line means the receiver took the body: an answer then cut off for its
	// size or its slowness does not make the notification undelivered.
	if (code >= 200 && code <= 299) {
		return 0;
	}
	if (code != 0 && (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)) {
		snprintf(err, errlen, "HTTP %ld", code);
	} else {
		snprintf(err, errlen, "%s", cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
	}
	return -1;
}
