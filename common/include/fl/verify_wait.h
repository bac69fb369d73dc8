// verify_wait.h - the first phase of a verification: have the expected hosts reported the
// release yet? Shared by `faultline verify` (which polls status once a second) and the
// collector's /api/v1/verify (which does the same on its own status), so both wait for the
// same hosts and give the same reason when they time out.

#ifndef FL_VERIFY_WAIT_H
#define FL_VERIFY_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"

// What to wait for: release on the hosts named (n_hosts > 0), or on at least min_hosts hosts
// (min_hosts > 0), or else on every reporting (non-stale) host, and on at least one.
typedef struct fl_verify_wait {
	const char  *release;
	char *const *hosts;
	size_t       n_hosts;
	uint32_t     min_hosts;
} fl_verify_wait;

// Where a status reply s stands: *on of *expected hosts report the release; the hosts on it
// are strdup'd into found[0..*n_found) (at most max_found; the caller frees them; a failed
// strdup leaves a host out), and, for a timeout's reason, the others ("app2 (on 1.0)",
// "app3 (unknown host)", "app1 (on it but stale)") are listed in missing. Ready when
// *on >= *expected and *on > 0.
void fl_verify_wait_count(const Fl__StatusReply *s, const fl_verify_wait *w, size_t *on,
    size_t *expected, char *missing, size_t mlen, char **found, size_t *n_found, size_t max_found);

// The reason a verification could not start: "after 30s, 1 of 2 hosts report 1.1; not ready:
// app2 (on 1.0)". Writes into buf; returns buf.
char *fl_verify_wait_reason(char *buf, size_t len, double elapsed_s, size_t on, size_t expected,
    const char *release, const char *missing);

#endif // FL_VERIFY_WAIT_H
