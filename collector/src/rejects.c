// rejects.c - see rejects.h.

#include "rejects.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/text.h"
#include "fl/time.h"

typedef struct sender {
	char     host[128];
	char     kind[32];
	char     why[256];
	uint64_t count;
	int64_t  last_at_us;
	int64_t  logged_at_us; // 0: never
} sender;

struct coll_rejects {
	pthread_mutex_t mu;
	sender          s[COLL_REJECTS_MAX];
	size_t          n;
	uint64_t        forgotten;    // senders evicted to make room
	int64_t         window_start; // global log budget window
	unsigned        window_lines; // lines written in it
	uint64_t        not_logged;   // refusals not logged since the last line
};

coll_rejects *
coll_rejects_new(void)
{
	coll_rejects *t = calloc(1, sizeof(*t));
	if (t != NULL) {
		pthread_mutex_init(&t->mu, NULL);
	}
	return t;
}

void
coll_rejects_free(coll_rejects *t)
{
	if (t == NULL) {
		return;
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

// The entry for host: found, or made (evicting the one refused longest ago when full).
static sender *
entry_for(coll_rejects *t, const char *host)
{
	size_t oldest = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (strncmp(t->s[i].host, host, sizeof(t->s[i].host) - 1) == 0) {
			return &t->s[i];
		}
		if (t->s[i].last_at_us < t->s[oldest].last_at_us) {
			oldest = i;
		}
	}
	sender *e;
	if (t->n < COLL_REJECTS_MAX) {
		e = &t->s[t->n++];
	} else {
		e = &t->s[oldest];
		t->forgotten++;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->host, sizeof(e->host), "%s", host);
	return e;
}

bool
coll_rejects_note(coll_rejects *t, const char *host, const char *kind, const char *why,
    int64_t now_us, coll_reject_note *note)
{
	bool due;

	if (t == NULL) {
		return false;
	}
	pthread_mutex_lock(&t->mu);
	sender *e = entry_for(t, host);
	e->count++;
	e->last_at_us = now_us;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->why, sizeof(e->why), "%s", why);
	if (now_us - t->window_start >= COLL_REJECT_LOG_US) {
		t->window_start = now_us;
		t->window_lines = 0;
	}
	due = (e->logged_at_us == 0 || now_us - e->logged_at_us >= COLL_REJECT_LOG_US) &&
	    t->window_lines < COLL_REJECT_LOG_BURST;
	if (due) {
		e->logged_at_us = now_us;
		t->window_lines++;
		note->count      = e->count;
		note->not_logged = t->not_logged;
		t->not_logged    = 0;
	} else {
		t->not_logged++;
	}
	pthread_mutex_unlock(&t->mu);
	return due;
}

void
coll_rejects_refused(
    coll_rejects *t, const char *area, const char *host, const char *kind, const char *why)
{
	coll_reject_note note;
	char             shown[256], more[64] = "";

	if (!coll_rejects_note(t, host, kind, why, fl_now_us(), &note)) {
		return;
	}
	if (note.not_logged > 0) {
		snprintf(more, sizeof(more), "; %llu refused since the last line not logged",
		    (unsigned long long) note.not_logged);
	}
	fl_log(FL_LOG_WARN, area, "cannot accept report (%s, %llu so far from %s%s): %s", kind,
	    (unsigned long long) note.count, host[0] != '\0' ? host : "an unnamed sender", more,
	    fl_text_escape(shown, sizeof(shown), why));
}

static int
newest_first(const void *a, const void *b)
{
	const sender *x = a, *y = b;
	return (x->last_at_us < y->last_at_us) - (x->last_at_us > y->last_at_us);
}

void
coll_rejects_status_add(coll_rejects *t, Fl__StatusReply *reply)
{
	sender copy[COLL_REJECTS_MAX];
	size_t n;

	if (t == NULL) {
		return;
	}
	pthread_mutex_lock(&t->mu);
	n = t->n;
	memcpy(copy, t->s, n * sizeof(copy[0]));
	pthread_mutex_unlock(&t->mu);
	if (n == 0 || (reply->rejected_senders = calloc(n, sizeof(void *))) == NULL) {
		return;
	}
	qsort(copy, n, sizeof(copy[0]), newest_first);
	for (size_t i = 0; i < n; i++) {
		Fl__RejectedSender *r = calloc(1, sizeof(*r));
		if (r == NULL) {
			break;
		}
		fl__rejected_sender__init(r);
		r->host        = strdup(copy[i].host);
		r->last_kind   = strdup(copy[i].kind);
		r->last_reason = strdup(copy[i].why);
		r->count       = copy[i].count;
		r->last_at_us  = copy[i].last_at_us;
		if (r->host == NULL || r->last_kind == NULL || r->last_reason == NULL) {
			free(r->host);
			free(r->last_kind);
			free(r->last_reason);
			free(r);
			break;
		}
		reply->rejected_senders[reply->n_rejected_senders++] = r;
	}
}

void
coll_rejects_status_fini(Fl__StatusReply *reply)
{
	for (size_t i = 0; i < reply->n_rejected_senders; i++) {
		Fl__RejectedSender *r = reply->rejected_senders[i];
		free(r->host);
		free(r->last_kind);
		free(r->last_reason);
		free(r);
	}
	free(reply->rejected_senders);
	reply->rejected_senders   = NULL;
	reply->n_rejected_senders = 0;
}
