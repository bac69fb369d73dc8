// sender.h - turns rounds into Reports and delivers them to the collector over nng PUSH.
//
// The PUSH socket dials the collector without waiting (NNG_FLAG_NONBLOCK), so the agent starts
// and probes with the collector down; nng redials by itself (100ms growing to 2s) and a
// collector restart needs nothing from the agent.
//
// Several collectors (`collector = tcp://c1:7600, tcp://c2:7600`, fl/urls.h): one dialer per
// address on the same PUSH socket. PUSH sends only on connections that are up, and only the
// active collector of an active/standby pair listens (a standby does not, and one that loses
// the lease closes its listener), so reports go to whichever collector is active; while none
// is, they wait in the spool, and when the active one goes away its connection's end puts the
// reports it may have swallowed back in front of the spool (below), for the next one.
//
// Each round's Report is packed once and queued in a bounded in-memory spool (a ring of
// spool_size packed reports). Sending is only tried while a connection to the collector is up,
// and then waits at most 250ms for the connection to take a report: what the collector does
// not take (no connection, NNG_ETIMEDOUT) stays queued and is replayed, oldest first, with replayed
// = true and its original round times. When the spool is full the oldest report is dropped and
// counted (Report.spool_dropped, cumulative since start). spool_size 0 keeps nothing: a report the
// collector cannot take at once is dropped and counted.
//
// "Sent" is not "delivered": PUSH/PULL has no acknowledgement, and nng_sendmsg succeeds once
// the report is handed to the connection (on its way to a kernel buffer). So the sender keeps
// the last min(spool_size, 64) reports it handed over, and whenever a connection ends it puts
// them back in front of the spool as replays; the collector drops the copies it already has
// by (boot_id, seq) and counts them in dropped_duplicate. A connection is made to end when the
// collector cannot be reached in time: TCP_USER_TIMEOUT (max(10 s, 3 intervals)) and short
// keepalives on the connection's socket end a silent cut (packets dropped, nothing torn down),
// and a connection that refuses every report for max(5 s, 3 intervals) (collector stopped
// reading) is closed and dialed again. docs/reliability.md states the resulting guarantee.
//
// With a spool file (spool_dir and spool_file_max: spool_file.h) the spool also survives the
// agent's own restart: the queued and retained reports are mirrored to state_dir/spool, and a
// new start sends what an earlier one left there first, oldest first, each with its original
// boot_id and seq. A new start still gets a new boot_id, but its seqs begin above the highest
// the file holds and above the wall clock in microseconds, and its reports say so
// (Report.seq_spans_starts): the collector orders the host's rounds by seq alone across
// starts, so a round of an earlier start re-sent after the new start's is a duplicate, not a
// "new boot" applied again. Without a file seqs start at 1 with each boot_id, as before.
//
// Fields set at send time (sent_us, replayed, spool_dropped) are appended to the packed
// report as a second encoding of those fields: protobuf's "last value wins" merges them, so a
// spooled report is never re-packed.
//
// One thread uses a sender.

#ifndef FL_AGENT_SENDER_H
#define FL_AGENT_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "round.h"

typedef struct agent_sender agent_sender;

typedef struct agent_sender_stats {
	uint64_t sent;         // reports the collector took
	uint64_t replayed;     // of which had waited in the spool
	uint64_t dropped;      // reports dropped from a full spool
	size_t   queued;       // reports waiting now
	uint64_t loaded;       // reports of an earlier start taken from the spool file
	uint64_t file_skipped; // spool file records skipped at start: damaged, foreign, over bound
} agent_sender_stats;

// Opens the socket and starts dialing every URL of url (one, or a comma-separated list:
// fl/urls.h). host and interval_ms go into every report. 0, or -1 with err (bad URL, out of
// memory).
// spool_dir (NULL or "": none) and spool_file_max (0: none) keep the spool in
// spool_dir/spool too (spool_file.h); a file that cannot be used is logged and the spool stays
// in memory only.
int agent_sender_new(const char *url, const char *host, uint32_t interval_ms, uint32_t spool_size,
    const char *spool_dir, uint64_t spool_file_max, agent_sender **out, char *err, size_t errlen);

// Packs a Report of the round (next seq), queues it and sends what the collector will take.
// Returns 0, or -1 when the report could not be packed (out of memory; logged).
int agent_sender_submit(agent_sender *s, const agent_round_out *round);

// Sends queued reports until the collector stops taking them. Returns how many were sent.
size_t agent_sender_flush(agent_sender *s);

void agent_sender_stats_get(const agent_sender *s, agent_sender_stats *st);

// Packs the Report for a round without queueing it (for tests and survey replies): *buf is
// malloc'd, the caller frees it. 0 or -1 (out of memory).
int agent_report_pack(const char *host, uint32_t interval_ms, uint64_t seq, uint64_t boot_id,
    bool seq_spans_starts, uint64_t spool_dropped, const agent_round_out *round, uint8_t **buf,
    size_t *len);

// Closes the socket. Reports still queued are lost (logged with their count), unless a spool
// file keeps them for the next start. Accepts NULL.
void agent_sender_free(agent_sender *s);

#endif // FL_AGENT_SENDER_H
