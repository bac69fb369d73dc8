// verify_wait.c - see fl/verify_wait.h.

#include "fl/verify_wait.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
add_found(char **found, size_t *n_found, size_t max_found, const char *host)
{
	if (*n_found < max_found && (found[*n_found] = strdup(host)) != NULL) {
		(*n_found)++;
	}
}

// The hosts named: each must report the release and not be stale.
static void
count_named(const Fl__StatusReply *s, const fl_verify_wait *w, size_t *on, size_t *expected,
    char *missing, size_t mlen, char **found, size_t *n_found, size_t max_found)
{
	size_t off = 0;

	*expected = w->n_hosts;
	for (size_t i = 0; i < w->n_hosts; i++) {
		const Fl__HostState *h = NULL;
		for (size_t k = 0; s != NULL && k < s->n_hosts; k++) {
			if (strcmp(s->hosts[k]->host, w->hosts[i]) == 0) {
				h = s->hosts[k];
			}
		}
		if (h != NULL && !h->stale && strcmp(h->release, w->release) == 0) {
			(*on)++;
			add_found(found, n_found, max_found, h->host);
		} else if (off < mlen) {
			// A stale host may well be on R: say so, and that silence is why.
			bool on_r = h != NULL && strcmp(h->release, w->release) == 0;
			int  n    = snprintf(missing + off, mlen - off, "%s%s (%s%s%s)",
                            off ? ", " : "", w->hosts[i],
                            h == NULL ? "unknown host" : (on_r ? "on it but stale" : "on "),
                            h != NULL && !on_r ? h->release : "",
                            h != NULL && !on_r && h->stale ? ", stale" : "");
			off += n > 0 ? (size_t) n : 0;
		}
	}
}

// Every reporting host counts (or at least min_hosts of them).
static void
count_reporting(const Fl__StatusReply *s, const fl_verify_wait *w, size_t *on, size_t *expected,
    char *missing, size_t mlen, char **found, size_t *n_found, size_t max_found)
{
	size_t off = 0;

	for (size_t k = 0; s != NULL && k < s->n_hosts; k++) {
		const Fl__HostState *h = s->hosts[k];
		if (h->stale) {
			continue;
		}
		if (w->min_hosts == 0) {
			(*expected)++;
		}
		if (strcmp(h->release, w->release) == 0) {
			(*on)++;
			add_found(found, n_found, max_found, h->host);
		} else if (off < mlen) {
			int n = snprintf(missing + off, mlen - off, "%s%s (on %s)", off ? ", " : "",
			    h->host, h->release);
			off += n > 0 ? (size_t) n : 0;
		}
	}
	if (w->min_hosts > 0) {
		*expected = w->min_hosts;
	} else if (*expected == 0) {
		*expected = 1; // nobody reports yet: wait for at least one host
	}
}

void
fl_verify_wait_count(const Fl__StatusReply *s, const fl_verify_wait *w, size_t *on,
    size_t *expected, char *missing, size_t mlen, char **found, size_t *n_found, size_t max_found)
{
	*on = *expected = 0;
	*n_found        = 0;
	if (mlen > 0) {
		missing[0] = '\0';
	}
	if (w->n_hosts > 0) {
		count_named(s, w, on, expected, missing, mlen, found, n_found, max_found);
	} else {
		count_reporting(s, w, on, expected, missing, mlen, found, n_found, max_found);
	}
}

char *
fl_verify_wait_reason(char *buf, size_t len, double elapsed_s, size_t on, size_t expected,
    const char *release, const char *missing)
{
	snprintf(buf, len, "after %.0fs, %zu of %zu hosts report %s; not ready: %s", elapsed_s, on,
	    expected, release, missing[0] ? missing : "(too few hosts)");
	return buf;
}
