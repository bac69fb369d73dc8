// notify.c - see fl/notify.h.

#include "fl/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
fl_notify(const char *state)
{
	const char        *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t             n;
	int                fd, rv = -1;

	if (path == NULL || path[0] == '\0') {
		return 0;
	}
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 || n > sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@') {
		sa.sun_path[0] = '\0'; // an abstract name: its length, not a NUL, ends it
	} else if (n == sizeof(sa.sun_path)) {
		errno = EINVAL; // a path needs its terminating NUL
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		return -1;
	}
	socklen_t len =
	    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa, len) >= 0) {
		rv = 1;
	}
	int e = errno;
	close(fd);
	errno = e;
	return rv;
}
