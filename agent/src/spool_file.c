// spool_file.c - see spool_file.h.

#include "spool_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultline.pb-c.h"
#include "fl/limits.h"
#include "fl/log.h"
#include "fl/str.h"

#define MAGIC      "FLSPOOL1"
#define HEADER_LEN 24
#define REC_HEAD   16

struct agent_spool_file {
	int      fd;
	int      lock_fd; // spool.lock, flock'd for as long as the file is open
	char     path[PATH_MAX];
	char     tmp[PATH_MAX];
	char     dir[PATH_MAX];
	uint64_t max_bytes;
	uint64_t bytes;   // size of the file now
	bool     failing; // the last write failed: its message is logged once per spell
};

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t) (v >> (8 * i));
	}
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

// Writes all of len bytes at fd's offset. 0 or -1 (errno set).
static int
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			if (w == 0) {
				errno = EIO;
			}
			return -1;
		}
		p += w;
		len -= (size_t) w;
	}
	return 0;
}

static int
write_record(int fd, const uint8_t *buf, size_t len)
{
	uint8_t head[REC_HEAD];
	put_u32(head, (uint32_t) len);
	put_u32(head + 4, 0);
	put_u64(head + 8, fl_fnv1a_bytes(FL_FNV1A_OFFSET, buf, len));
	if (write_all(fd, head, sizeof(head)) != 0) {
		return -1;
	}
	return write_all(fd, buf, len);
}

static void
write_failed(agent_spool_file *f, const char *what)
{
	if (!f->failing) {
		fl_log(FL_LOG_WARN, "spool",
		    "cannot %s %s: %s; rounds waiting now may not survive "
		    "an agent restart",
		    what, f->path, strerror(errno));
	}
	f->failing = true;
}

static void
write_recovered(agent_spool_file *f)
{
	if (f->failing) {
		fl_log(FL_LOG_NOTICE, "spool", "writing %s again", f->path);
	}
	f->failing = false;
}

// Reads the whole file (at most max_bytes) into a malloc'd buffer. 0 or -1 (errno).
static int
read_file(int fd, uint64_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		return -1;
	}
	size_t   want = (uint64_t) st.st_size > max ? (size_t) max : (size_t) st.st_size;
	uint8_t *b    = malloc(want > 0 ? want : 1);
	size_t   got  = 0;
	if (b == NULL) {
		errno = ENOMEM;
		return -1;
	}
	while (got < want) {
		ssize_t r = pread(fd, b + got, want - got, (off_t) got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break; // shorter than fstat said: read what is there
		}
		got += (size_t) r;
	}
	*out = b;
	*len = got;
	return 0;
}

// Adds one payload to ld when it is a Report of host; else counts it corrupt.
static void
take_record(agent_spool_loaded *ld, const char *host, const uint8_t *p, size_t len, size_t cap)
{
	Fl__Report *r = fl__report__unpack(NULL, len, p);
	if (r == NULL || r->host == NULL || strcmp(r->host, host) != 0 || ld->n == cap) {
		ld->corrupt++;
	} else {
		uint8_t *copy = malloc(len > 0 ? len : 1);
		if (copy == NULL) {
			ld->corrupt++;
		} else {
			memcpy(copy, p, len);
			ld->bufs[ld->n]   = copy;
			ld->lens[ld->n++] = len;
			// Seqs continue from one start to the next (sender.h), so the highest of
			// every report is a safe base even when the header is older than some.
			if (r->seq > ld->last_seq) {
				ld->last_seq = r->seq;
			}
		}
	}
	if (r != NULL) {
		fl__report__free_unpacked(r, NULL);
	}
}

// Parses the file's bytes into ld. Stops at the first torn or corrupt record.
static void
parse(const uint8_t *b, size_t len, const char *host, agent_spool_loaded *ld)
{
	if (len == 0) {
		return; // a new file
	}
	if (len < HEADER_LEN || memcmp(b, MAGIC, 8) != 0) {
		ld->corrupt++;
		return;
	}
	ld->prev_boot_id = get_u64(b + 8);
	ld->last_seq     = get_u64(b + 16);
	// Every record is at least REC_HEAD bytes: that bounds how many there can be.
	size_t cap = (len - HEADER_LEN) / REC_HEAD;
	if (cap == 0) {
		return;
	}
	if ((ld->bufs = calloc(cap, sizeof(*ld->bufs))) == NULL ||
	    (ld->lens = calloc(cap, sizeof(*ld->lens))) == NULL) {
		ld->corrupt++;
		return;
	}
	size_t off = HEADER_LEN;
	while (off < len) {
		if (len - off < REC_HEAD) {
			ld->corrupt++; // a torn head
			return;
		}
		uint32_t n   = get_u32(b + off);
		uint64_t sum = get_u64(b + off + 8);
		if (n > FL_WIRE_MAX_MSG || n > len - off - REC_HEAD ||
		    fl_fnv1a_bytes(FL_FNV1A_OFFSET, b + off + REC_HEAD, n) != sum) {
			ld->corrupt++; // torn or damaged: nothing after it can be trusted
			return;
		}
		take_record(ld, host, b + off + REC_HEAD, n, cap);
		off += REC_HEAD + n;
	}
}

int
agent_spool_file_open(const char *dir, const char *host, uint64_t max_bytes, agent_spool_file **out,
    agent_spool_loaded *ld, char *err, size_t errlen)
{
	agent_spool_file *f;
	uint8_t          *b;
	size_t            len;

	memset(ld, 0, sizeof(*ld));
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "cannot open the spool file: out of memory");
		return -1;
	}
	f->max_bytes = max_bytes;
	if (snprintf(f->path, sizeof(f->path), "%s/%s", dir, AGENT_SPOOL_FILE_NAME) >=
	        (int) sizeof(f->path) ||
	    snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path) >= (int) sizeof(f->tmp) ||
	    fl_strlcpy_checked(f->dir, dir, sizeof(f->dir)) != 0) {
		snprintf(err, errlen, "cannot open the spool file in %s: path too long", dir);
		free(f);
		return -1;
	}
	// The lock is on a file of its own: the spool file is replaced by each rewrite, its lock
	// would go with the old one.
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	if ((f->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", lock, strerror(errno));
		free(f);
		return -1;
	}
	if (flock(f->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "cannot lock %s: %s (is another agent using state_dir %s?)",
		    lock, errno == EWOULDBLOCK ? "locked" : strerror(errno), dir);
		close(f->lock_fd);
		free(f);
		return -1;
	}
	if ((f->fd = open(f->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", f->path, strerror(errno));
		close(f->lock_fd);
		free(f);
		return -1;
	}
	(void) fchmod(f->fd, 0600); // one made by hand, or by an older umask
	// Read at most what a valid file can hold (a rewrite plus appends stay within max_bytes;
	// twice that tolerates a bound lowered since the file was written).
	if (read_file(f->fd, 2 * max_bytes, &b, &len) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", f->path, strerror(errno));
		close(f->fd);
		close(f->lock_fd);
		free(f);
		return -1;
	}
	parse(b, len, host, ld);
	free(b);
	struct stat st;
	f->bytes = fstat(f->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
	*out     = f;
	return 0;
}

void
agent_spool_loaded_fini(agent_spool_loaded *ld)
{
	for (size_t i = 0; i < ld->n; i++) {
		free(ld->bufs[i]);
	}
	free(ld->bufs);
	free(ld->lens);
	memset(ld, 0, sizeof(*ld));
}

// fsyncs the directory, so a rename in it survives a crash of the machine.
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void) fsync(fd);
		close(fd);
	}
}

int
agent_spool_file_rewrite(agent_spool_file *f, uint64_t boot_id, uint64_t seq, uint8_t *const *bufs,
    const size_t *lens, size_t n)
{
	uint8_t  head[HEADER_LEN];
	uint64_t room = f->max_bytes / 2, used = HEADER_LEN;
	size_t   first = n; // the oldest report kept

	while (first > 0 && used + REC_HEAD + lens[first - 1] <= room) {
		used += REC_HEAD + lens[--first];
	}
	memcpy(head, MAGIC, 8);
	put_u64(head + 8, boot_id);
	put_u64(head + 16, seq);
	int fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		write_failed(f, "rewrite");
		return -1;
	}
	int rv = write_all(fd, head, sizeof(head));
	for (size_t i = first; i < n && rv == 0; i++) {
		rv = write_record(fd, bufs[i], lens[i]);
	}
	if (rv == 0) {
		rv = fsync(fd);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	if (rv != 0 || rename(f->tmp, f->path) != 0) {
		write_failed(f, "rewrite");
		(void) unlink(f->tmp);
		return -1;
	}
	sync_dir(f->dir);
	int nfd = open(f->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (nfd < 0) {
		write_failed(f, "reopen");
		return -1;
	}
	close(f->fd);
	f->fd    = nfd;
	f->bytes = used;
	write_recovered(f);
	return 0;
}

int
agent_spool_file_append(agent_spool_file *f, const uint8_t *buf, size_t len)
{
	if (f->bytes + REC_HEAD + len > f->max_bytes) {
		return -1;
	}
	if (write_record(f->fd, buf, len) != 0) { // O_APPEND: at the end
		write_failed(f, "append to");
		// A partial record would end every later read: cut the file back to where it was.
		if (ftruncate(f->fd, (off_t) f->bytes) != 0) {
			fl_log(FL_LOG_WARN, "spool", "cannot cut %s back: %s", f->path,
			    strerror(errno));
		}
		return -1;
	}
	f->bytes += REC_HEAD + len;
	write_recovered(f);
	return 0;
}

uint64_t
agent_spool_file_bytes(const agent_spool_file *f)
{
	return f->bytes;
}

uint64_t
agent_spool_file_max(const agent_spool_file *f)
{
	return f->max_bytes;
}

void
agent_spool_file_close(agent_spool_file *f)
{
	if (f == NULL) {
		return;
	}
	close(f->fd);
	close(f->lock_fd);
	free(f);
}
