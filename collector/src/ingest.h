// ingest.h - the ingest thread: reports in batches, the state's timers and every store write
// (server.h explains the threads).

#ifndef FL_COLLECTOR_INGEST_H
#define FL_COLLECTOR_INGEST_H

// The thread body; arg is the coll_server (hub.h), whose sockets and store are open.
void *coll_ingest_main(void *arg);

#endif // FL_COLLECTOR_INGEST_H
