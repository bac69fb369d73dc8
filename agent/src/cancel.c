// cancel.c - see cancel.h.

#include "cancel.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static _Thread_local const agent_cancel *current;

int
agent_cancel_init(agent_cancel *c)
{
	atomic_init(&c->fired, false);
	c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->fd < 0 ? -1 : 0;
}

void
agent_cancel_fini(agent_cancel *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

void
agent_cancel_fire(agent_cancel *c)
{
	uint64_t one = 1;

	if (atomic_exchange(&c->fired, true)) {
		return;
	}
	if (c->fd >= 0) {
		(void) !write(c->fd, &one, sizeof(one)); // never read back: stays readable
	}
}

void
agent_cancel_set_current(const agent_cancel *c)
{
	current = c;
}

bool
agent_cancelled(void)
{
	return current != NULL && atomic_load(&current->fired);
}

int
agent_cancel_fd(void)
{
	return current != NULL ? current->fd : -1;
}

int
agent_poll(struct pollfd *pfd, int timeout_ms)
{
	struct pollfd set[2];
	int           cfd = agent_cancel_fd();
	int           rv;

	for (;;) {
		int slice = timeout_ms;
		if (agent_cancelled()) {
			errno = ECANCELED;
			return -1;
		}
		if (current != NULL && cfd < 0 && (slice < 0 || slice > AGENT_CANCEL_SLICE_MS)) {
			slice = AGENT_CANCEL_SLICE_MS; // no descriptor: look at the flag this often
		}
		set[0]         = *pfd;
		set[0].revents = 0;
		set[1]         = (struct pollfd) { .fd = cfd, .events = POLLIN };
		rv             = poll(set, cfd >= 0 ? 2 : 1, slice);
		if (rv < 0 && errno == EINTR) {
			continue;
		}
		if (rv < 0) {
			return rv;
		}
		if (agent_cancelled()) {
			errno = ECANCELED;
			return -1;
		}
		pfd->revents = set[0].revents;
		if (rv > 0 || slice == timeout_ms) {
			return pfd->revents != 0 ? 1 : 0;
		}
		if (timeout_ms > 0) {
			timeout_ms = timeout_ms > slice ? timeout_ms - slice : 0;
		}
	}
}
