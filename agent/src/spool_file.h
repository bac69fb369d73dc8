// spool_file.h - the agent's spool on disk (state_dir/spool): rounds not known to be delivered
// survive an agent restart.
//
// The sender's memory spool (sender.h) holds the reports waiting to be sent and the last ones
// handed to a connection (which a connection that dies may have swallowed). This file mirrors
// both, so an agent stopped, killed or upgraded while no collector listens, or right after a
// connection died under it, sends them after it starts again, oldest first, each with its own
// boot_id and seq (the collector drops those it already has as duplicates).
//
// Layout (integers little-endian): a 24-byte header, "FLSPOOL1", the boot_id of the agent
// start that wrote it, and the last seq that start had used then; then records, each a 16-byte
// head (payload length, 0, FNV-1a 64 of the payload) and the payload, a packed Report. A new
// round is appended; the file is rewritten with only the live reports (compacted) at open, at a
// clean stop, when it would pass its byte bound, and when dead reports (delivered long ago)
// outweigh live ones, so appends stay amortised O(1) per round.
//
// Bounds: at most max_bytes on disk. A rewrite keeps the newest live reports that fit in half of
// it (the other half is room for appends before the next rewrite), so when the memory spool
// holds more than that, its oldest reports are not on disk and a restart loses them (counted as
// spool_dropped); the memory spool's own bound (spool_size rounds) applies to the file too.
//
// Durability (fsync policy): an append is a write(2) without fsync. What the file protects
// against is the agent process ending (stop, crash, kill -9, an upgrade): data written with
// write(2) is in the kernel's page cache whatever happens to the process, so an fsync per
// round would buy nothing there and cost a disk flush every interval on an application host.
// Only a crash of the whole machine loses the appends not yet written back (typically under
// 30 s), and that host's rounds stop at that moment anyway. A rewrite goes to spool.tmp,
// fsync'd, then renamed over spool and the directory fsync'd: a crash mid-rewrite leaves the
// old file or the new one, never a mix. A torn append leaves a bad tail record, which the next
// open counts and skips.
//
// Reading trusts nothing: a wrong magic or a short header skips the whole file; a record whose
// length is over FL_WIRE_MAX_MSG or past the end of the file, or whose checksum does not match,
// ends the read there; a payload that is not a Report of this host is skipped. Each is counted
// (agent_spool_loaded.corrupt) and logged by the caller, never fatal.
//
// One agent per file: open takes an exclusive flock(2), so a second agent started on the same
// state_dir gets an error (and runs with a memory spool only). The file is created 0600 (it
// holds the host's reports) and set to 0600 if it was not.
//
// One thread uses a spool file.

#ifndef FL_AGENT_SPOOL_FILE_H
#define FL_AGENT_SPOOL_FILE_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_SPOOL_FILE_NAME "spool"
#define AGENT_SPOOL_FILE_MIN  (64u * 1024) // smallest spool_file_max (besides 0: off)

typedef struct agent_spool_file agent_spool_file;

// What open found in the file: its reports, oldest first, and whose they were.
typedef struct agent_spool_loaded {
	uint8_t **bufs;         // n packed Reports (each malloc'd): the caller takes them
	size_t   *lens;         // their sizes
	size_t    n;            // reports read
	uint64_t  prev_boot_id; // boot_id of the start that wrote the file; 0 when none (new file)
	uint64_t  last_seq;     // the highest seq in the header or any report read
	uint64_t  corrupt;      // records skipped: torn, bad checksum, not a Report of this host
} agent_spool_loaded;

// Opens (creating it) dir/spool, locks it and reads it into *ld (zeroed first). host: the
// reports of another host are skipped. max_bytes >= AGENT_SPOOL_FILE_MIN. 0, or -1 with err
// (no such directory, locked by another agent, cannot read) and nothing to free.
int agent_spool_file_open(const char *dir, const char *host, uint64_t max_bytes,
    agent_spool_file **out, agent_spool_loaded *ld, char *err, size_t errlen);

// Frees what agent_spool_file_open() put in *ld and the caller did not take (NULL bufs are
// skipped). Accepts a zeroed *ld.
void agent_spool_loaded_fini(agent_spool_loaded *ld);

// Rewrites the file with a header (boot_id, seq) and the n reports, oldest first, keeping only
// the newest that fit in half of max_bytes. 0, or -1 (logged once per failure spell); on
// failure the old file stays as it was.
int agent_spool_file_rewrite(agent_spool_file *f, uint64_t boot_id, uint64_t seq,
    uint8_t *const *bufs, const size_t *lens, size_t n);

// Appends one report. 0, or -1 when it would pass max_bytes (rewrite first) or cannot be
// written (logged once per failure spell).
int agent_spool_file_append(agent_spool_file *f, const uint8_t *buf, size_t len);

// The file's size in bytes now.
uint64_t agent_spool_file_bytes(const agent_spool_file *f);

// The bound it was opened with.
uint64_t agent_spool_file_max(const agent_spool_file *f);

// Closes the file (its lock goes with it). Accepts NULL.
void agent_spool_file_close(agent_spool_file *f);

#endif // FL_AGENT_SPOOL_FILE_H
