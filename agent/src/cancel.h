// cancel.h - stopping probes that are waiting on a hung target.
//
// A probe waits on sockets (poll), on the resolver, on libcurl or on a database client library.
// When the agent stops (SIGTERM) or reloads, probes still waiting must give up within a few
// milliseconds instead of running out their timeouts, so the process can exit well inside
// systemd's TimeoutStopSec. The round runner owns one agent_cancel and installs it as the
// current thread's token on each of its worker threads (agent_cancel_set_current); probe code
// then waits through agent_poll(), or adds agent_cancel_fd() to its own poll set, or checks
// agent_cancelled() between short waits. A thread with no token is never cancelled.
//
// A fired token stays fired: its descriptor stays readable, so every later wait returns at once.

#ifndef FL_AGENT_CANCEL_H
#define FL_AGENT_CANCEL_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct agent_cancel {
	int         fd; // eventfd, readable once fired; -1 when it could not be created
	atomic_bool fired;
} agent_cancel;

// Creates the token. 0, or -1 (errno) when no eventfd could be made; the token then still
// works through agent_cancelled(), and waits notice it within AGENT_CANCEL_SLICE_MS.
int agent_cancel_init(agent_cancel *c);

void agent_cancel_fini(agent_cancel *c); // accepts a token whose init failed

// Fires the token; safe from any thread, any number of times.
void agent_cancel_fire(agent_cancel *c);

// The calling thread's token (NULL: none). Set by the round runner on its workers.
void agent_cancel_set_current(const agent_cancel *c);

// True once the calling thread's token has fired.
bool agent_cancelled(void);

// The calling thread's token descriptor for a poll set (POLLIN once fired), or -1.
int agent_cancel_fd(void);

// The longest any wait lasts before it looks at the token again when no descriptor is
// available (resolver waits, a token whose eventfd failed).
#define AGENT_CANCEL_SLICE_MS 50

// poll() on one descriptor that also returns when the calling thread's token fires: the
// result of poll() (EINTR retried, timeout_ms as in poll), or -1 with errno ECANCELED.
int agent_poll(struct pollfd *pfd, int timeout_ms);

#endif // FL_AGENT_CANCEL_H
