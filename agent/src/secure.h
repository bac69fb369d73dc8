// secure.h - the agent's TLS and report signing settings, shared by its sockets.
//
// The report sender and the survey respondent both dial the collector and both send Reports,
// so both need the same TLS files and the same signing key. They get them from here rather
// than through every constructor: agent_secure_install() is called by agent_run() with the
// loaded config before any socket is opened (and again after a SIGHUP reload), and the two
// socket owners call agent_secure_dial() instead of nng_dial() and agent_secure_seal() on
// each report message before sending it. With nothing installed (or a config without TLS and
// sign_key) both behave exactly as plain nng_dial() and "send the bare Report".
//
// Thread safety: every function may be called from any thread; install swaps the settings
// under a lock, and a seal in progress finishes with the key it started with.

#ifndef FL_AGENT_SECURE_H
#define FL_AGENT_SECURE_H

#include <stddef.h>

#include <nng/nng.h>

#include "config.h"
#include "faultline.pb-c.h"

// Copies cfg's TLS settings and loads its sign_key (refused when group or others may read
// it). On failure the previous settings stay and err says why. 0 or -1.
int agent_secure_install(const agent_config *cfg, char *err, size_t errlen);

// Forgets the settings and frees the key (at exit).
void agent_secure_clear(void);

// Creates a dialer on s for url, applies TLS when url is tls+tcp:// and starts it without
// waiting for the collector (NNG_FLAG_NONBLOCK). *d (if not NULL) gets the dialer. 0, or -1
// with err naming the URL (or the TLS file) and the reason.
int agent_secure_dial(nng_socket s, const char *url, nng_dialer *d, char *err, size_t errlen);

// When a sign_key is installed, replaces *msg (whose body is a packed Report of host) by a
// new message holding the signed Envelope and frees the old one; otherwise leaves it alone.
// Returns 0, or an NNG_E* code with *msg untouched (still the caller's).
int agent_secure_seal(const char *host, nng_msg **msg);

// For survey replies: when a sign_key is installed, sets *env to a malloc'd packed Envelope
// of r signed as host (*len its size; the caller frees it), else *env = NULL. 0 or NNG_E*.
int agent_secure_sign_report(const char *host, const Fl__Report *r, uint8_t **env, size_t *len);

#endif // FL_AGENT_SECURE_H
