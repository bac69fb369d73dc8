// notify.h - systemd's readiness protocol (sd_notify(3)) without libsystemd.
//
// A Type=notify service tells systemd it is ready by sending a datagram "READY=1" to the
// AF_UNIX socket named in $NOTIFY_SOCKET (a path, or an abstract name written with a leading
// '@'). The protocol is that one datagram of newline-separated VAR=VALUE lines; linking
// libsystemd (and its dependencies) into both daemons for it is not worth it. Outside systemd
// ($NOTIFY_SOCKET unset) every call does nothing.

#ifndef FL_NOTIFY_H
#define FL_NOTIFY_H

// Sends state (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET. Returns 1 when sent, 0
// when $NOTIFY_SOCKET is unset, -1 on error (an unusable address, or the send failed; errno
// set). Safe from any thread; never blocks for long (the socket is non-blocking).
int fl_notify(const char *state);

#endif // FL_NOTIFY_H
