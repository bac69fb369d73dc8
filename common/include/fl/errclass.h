// errclass.h - the one mapping from an OS errno of a failed connection to a failure class.
//
// Every probe kind (tcp, http, postgres, mysql) that sees a socket-level error gets its errno
// from a different place (connect(2), CURLINFO_OS_ERRNO, libpq's strerror() text, Connector/C's
// "(N)"), but classifies it here, so the same network fault gives the same class, and so the
// same verdict, whichever probe saw it.

#ifndef FL_ERRCLASS_H
#define FL_ERRCLASS_H

#include "faultline.pb-c.h"

// The failure class of a connection that failed with errno e (0 = the errno is not known).
//   refused      ECONNREFUSED; ENOENT (no Unix socket file: nothing listens)
//   timeout      ETIMEDOUT
//   unreachable  ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN, EADDRNOTAVAIL, EACCES and EPERM
//                (a local firewall rule), and any errno not listed here: the connection could
//                not be made for a reason of the path
//   reset        ECONNRESET, ECONNABORTED, EPIPE
//   internal     EMFILE, ENFILE, ENOBUFS, ENOMEM: the agent's host is out of resources
Fl__FailureClass fl_failure_of_errno(int e);

#endif // FL_ERRCLASS_H
