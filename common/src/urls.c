// urls.c - see fl/urls.h.

#include "fl/urls.h"

#include <stdio.h>
#include <string.h>

#include "fl/tls.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

// Checks one trimmed entry of len bytes at s and appends it to out (single: the text is one
// entry, no comma). 0 or -1 with why.
static int
add_entry(fl_urls *out, const char *s, size_t len, bool single, char *why, size_t whylen)
{
	char entry[FL_URL_LEN];

	if (len == 0) {
		snprintf(why, whylen, "empty entry in the list (write URL1, URL2)");
		return -1;
	}
	if (len >= sizeof(entry)) {
		snprintf(
		    why, whylen, "URL \"%.40s...\" is longer than %d bytes", s, FL_URL_LEN - 1);
		return -1;
	}
	memcpy(entry, s, len);
	entry[len]      = '\0';
	const char *sep = strstr(entry, "://");
	if (sep == NULL || sep == entry) {
		if (single) { // the message of the days before lists
			snprintf(why, whylen,
			    "must be an nng URL such as tcp://HOST:PORT or ipc:///PATH");
		} else {
			snprintf(why, whylen,
			    "\"%s\" must be an nng URL such as tcp://HOST:PORT or ipc:///PATH",
			    entry);
		}
		return -1;
	}
	if (out->n == FL_URLS_MAX) {
		snprintf(why, whylen, "more than %d URLs in the list", FL_URLS_MAX);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->v[i], entry) == 0) {
			snprintf(why, whylen, "\"%s\" is in the list twice", entry);
			return -1;
		}
	}
	memcpy(out->v[out->n++], entry, len + 1);
	return 0;
}

int
fl_urls_parse(const char *text, bool allow_empty, fl_urls *out, char *why, size_t whylen)
{
	const char *p      = text;
	bool        single = strchr(text, ',') == NULL;

	out->n = 0;
	while (is_blank(*p)) {
		p++;
	}
	if (*p == '\0') {
		if (allow_empty) {
			return 0;
		}
		snprintf(why, whylen, "must be an nng URL such as tcp://HOST:PORT or ipc:///PATH");
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t      len = end != NULL ? (size_t) (end - p) : strlen(p);
		while (len > 0 && is_blank(*p)) {
			p++;
			len--;
		}
		while (len > 0 && is_blank(p[len - 1])) {
			len--;
		}
		if (add_entry(out, p, len, single, why, whylen) != 0) {
			return -1;
		}
		if (end == NULL) {
			return 0;
		}
		p = end + 1;
	}
}

bool
fl_urls_any_tls(const char *text)
{
	const char *p = text;
	for (;;) {
		while (is_blank(*p)) {
			p++;
		}
		if (fl_tls_url(p)) {
			return true;
		}
		if ((p = strchr(p, ',')) == NULL) {
			return false;
		}
		p++;
	}
}
