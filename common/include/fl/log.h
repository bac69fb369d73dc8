// log.h - one line per event on stderr, for journald and humans.
//
// Levels are syslog numbers. fl_log() checks the level before evaluating its arguments, so a
// DEBUG line costs nothing when filtered out. Messages say "cannot ...", lower case, no final
// period. Never pass a password, a conninfo or a DSN: log host, port and database instead.
// The message is escaped as it is written (fl_text_escape): a name or a server's message with
// a newline, an escape sequence or invalid UTF-8 cannot forge or garble a line.

#ifndef FL_LOG_H
#define FL_LOG_H

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

// Sets the program name printed on each line (e.g. "faultline-agent").
void fl_log_init(const char *program);

// Parses "err|warn|notice|info|debug"; returns -1 when unknown.
int fl_log_level_parse(const char *name);

#endif // FL_LOG_H
