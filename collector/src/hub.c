// hub.c - see hub.h.

#include "hub.h"

#include "pipes.h"

void
coll_server_socket_stats(coll_server *srv, coll_stats *st)
{
	st->control_clients_cut = atomic_load(&srv->control_cut);
	st->control_busy        = atomic_load(&srv->control_busy);
	st->slow_abandoned      = atomic_load(&srv->slow_abandoned);
	st->fd_exhausted        = atomic_load(&srv->fd_exhausted);
	st->connections_refused = (srv->report_pipes ? coll_pipes_refused(srv->report_pipes) : 0) +
	    (srv->control_pipes ? coll_pipes_refused(srv->control_pipes) : 0) +
	    (srv->survey_pipes ? coll_pipes_refused(srv->survey_pipes) : 0);
}
