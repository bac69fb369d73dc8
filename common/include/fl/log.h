// log.h - one line per event on stderr, for journald, log shippers and humans.
//
// Three line formats (fl_log_style):
//   text     "2026-11-30T10:00:00.000Z faultline-agent[probe] warning: message" (a terminal, a
//   file) journal  "<4>faultline-agent[probe] warning: message": a syslog priority prefix that
//   journald
//            turns into the entry's PRIORITY (so `journalctl -p warning` works) and no timestamp
//            of our own (journald keeps one). Chosen by fl_log_init() when stderr is the stream
//            systemd says it connected: $JOURNAL_STREAM is "DEV:INODE" of stderr (systemd.exec(5))
//   json     one object per line, {"ts","level","component","program","msg"}, valid JSON (pure
//            ASCII: every other character and every invalid byte escaped) whatever the message
//            holds; `log_format = json`. Under journald it keeps the <N> prefix.
//
// Levels are syslog numbers. fl_log() checks the level before evaluating its arguments, so a
// DEBUG line costs nothing when filtered out. Messages say "cannot ...", lower case, no final
// period. Never pass a password, a conninfo or a DSN: log host, port and database instead.
// The message is escaped as it is written (fl_text_escape): a name or a server's message with
// a newline, an escape sequence or invalid UTF-8 cannot forge or garble a line.

#ifndef FL_LOG_H
#define FL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FL_LOG_ERR    = 3,
	FL_LOG_WARN   = 4,
	FL_LOG_NOTICE = 5,
	FL_LOG_INFO   = 6,
	FL_LOG_DEBUG  = 7,
};

extern int fl_log_level; // events above this level are dropped; default FL_LOG_INFO

#define fl_log(level, component, ...)                               \
	do {                                                        \
		if ((level) <= fl_log_level) {                      \
			fl_log_emit(level, component, __VA_ARGS__); \
		}                                                   \
	} while (0)

void fl_log_emit(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct fl_log_style {
	bool journal; // <N> prefix, no timestamp
	bool json;    // one JSON object per line
} fl_log_style;

// Sets the program name printed on each line (e.g. "faultline-agent") and picks the journal
// style when $JOURNAL_STREAM names stderr (fl_log_journal_stream).
void fl_log_init(const char *program);

// Switches JSON lines on or off (the journal prefix is kept as detected).
void fl_log_set_json(bool json);

fl_log_style fl_log_get_style(void);

// True when env (a $JOURNAL_STREAM value, "DEV:INODE" in decimal; NULL when unset) names the
// file fd is open on, which is how a service knows its stderr goes to the journal rather than
// to a file or pipe it was redirected to.
bool fl_log_journal_stream(const char *env, int fd);

// Formats one line (without its newline) into out (always terminated, truncated to fit with
// a JSON line still closed): ts_us is the event's time (ignored in journal style).
void fl_log_format(char *out, size_t outlen, fl_log_style style, int level, int64_t ts_us,
    const char *program, const char *component, const char *msg);

// Parses "text|json" (the log_format key); returns 0 (and sets *json) or -1.
int fl_log_format_parse(const char *name, bool *json);

// Parses "err|warn|notice|info|debug"; returns -1 when unknown.
int fl_log_level_parse(const char *name);

#endif // FL_LOG_H
