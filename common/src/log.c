// log.c - see fl/log.h.

#include "fl/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fl/text.h"
#include "fl/time.h"

int fl_log_level = FL_LOG_INFO;

static const char *program = "faultline";

void
fl_log_init(const char *name)
{
	program = name;
}

static const char *
level_name(int level)
{
	switch (level) {
	case FL_LOG_ERR:
		return "error";
	case FL_LOG_WARN:
		return "warning";
	case FL_LOG_NOTICE:
		return "notice";
	case FL_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

int
fl_log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int         level;
	} levels[] = {
		{ "err", FL_LOG_ERR },
		{ "error", FL_LOG_ERR },
		{ "warn", FL_LOG_WARN },
		{ "warning", FL_LOG_WARN },
		{ "notice", FL_LOG_NOTICE },
		{ "info", FL_LOG_INFO },
		{ "debug", FL_LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			return levels[i].level;
		}
	}
	return -1;
}

void
fl_log_emit(int level, const char *component, const char *fmt, ...)
{
	char    line[1024], msg[1024];
	char    stamp[40];
	va_list ap;
	int     n;

	fl_time_format(fl_now_us(), stamp, sizeof(stamp));
	n = snprintf(
	    line, sizeof(line), "%s %s[%s] %s: ", stamp, program, component, level_name(level));
	if (n < 0 || (size_t) n >= sizeof(line)) {
		n = 0;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	// Messages quote names, targets and servers: one line of text whatever they hold
	// (control and bidi characters escaped, invalid UTF-8 as U+FFFD; fl/text.h).
	fl_text_escape(line + n, sizeof(line) - (size_t) n, msg);
	// One write per line so lines from threads do not interleave.
	fprintf(stderr, "%s\n", line);
}
