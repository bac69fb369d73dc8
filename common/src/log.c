// log.c - see fl/log.h.

#include "fl/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fl/text.h"
#include "fl/time.h"

int fl_log_level = FL_LOG_INFO;

static const char  *program = "faultline";
static fl_log_style cur_style;

void
fl_log_init(const char *name)
{
	program           = name;
	cur_style.journal = fl_log_journal_stream(getenv("JOURNAL_STREAM"), STDERR_FILENO);
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

// Appends to a bounded buffer; further text is dropped once it is full.
typedef struct outbuf {
	char  *p;
	size_t len, cap; // cap: bytes usable for text (the NUL is extra)
} outbuf;

static void
out_put(outbuf *o, const char *s, size_t n)
{
	if (n > o->cap - o->len) {
		n = o->cap - o->len;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_puts(outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

// Writes s as a JSON string in pure ASCII: printable ASCII as is (" and \ escaped), every
// other character as \uXXXX (a surrogate pair above U+FFFF), and invalid UTF-8 as \ufffd, one
// per maximal invalid sequence as fl/text.h decodes it. A string cut by the buffer's end is
// still closed: room for the closing quote is kept.
static void
out_json_str(outbuf *o, const char *s, size_t keep)
{
	size_t len = strlen(s);
	char   esc[16];

	out_puts(o, "\"");
	for (size_t i = 0; i < len;) {
		int32_t  dec;
		size_t   n  = fl_utf8_next(s + i, len - i, &dec);
		uint32_t cp = dec < 0 ? 0xfffd : (uint32_t) dec;
		if (cp == '"' || cp == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", (char) cp);
		} else if (cp >= 0x20 && cp < 0x7f) {
			snprintf(esc, sizeof(esc), "%c", (char) cp);
		} else if (cp < 0x10000) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) cp);
		} else {
			cp -= 0x10000;
			snprintf(esc, sizeof(esc), "\\u%04x\\u%04x",
			    (unsigned) (0xd800 + (cp >> 10)), (unsigned) (0xdc00 + (cp & 0x3ff)));
		}
		if (o->len + strlen(esc) + keep > o->cap) {
			break; // cut between characters, never inside an escape
		}
		out_puts(o, esc);
		i += n;
	}
	out_puts(o, "\"");
}

bool
fl_log_journal_stream(const char *env, int fd)
{
	struct stat        st;
	unsigned long long dev, ino;
	int                used = 0;

	if (env == NULL || sscanf(env, "%llu:%llu%n", &dev, &ino, &used) != 2 ||
	    env[used] != '\0' || fstat(fd, &st) != 0) {
		return false;
	}
	return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void
fl_log_format(char *out, size_t outlen, fl_log_style style, int level, int64_t ts_us,
    const char *program_name, const char *component, const char *msg)
{
	outbuf o = { out, 0, outlen - 1 };
	char   b[64];

	out[0] = '\0';
	if (style.journal) {
		snprintf(b, sizeof(b), "<%d>", level);
		out_puts(&o, b);
	}
	if (style.json) {
		// 2: the closing brace, after a cut message's closing quote.
		out_puts(&o, "{\"ts\":\"");
		out_puts(&o, fl_time_format(ts_us, b, sizeof(b)));
		out_puts(&o, "\",\"level\":\"");
		out_puts(&o, level_name(level));
		out_puts(&o, "\",\"component\":");
		out_json_str(&o, component, 64);
		out_puts(&o, ",\"program\":");
		out_json_str(&o, program_name, 64);
		out_puts(&o, ",\"msg\":");
		out_json_str(&o, msg, 2);
		out_puts(&o, "}");
		return;
	}
	if (!style.journal) {
		out_puts(&o, fl_time_format(ts_us, b, sizeof(b)));
		out_puts(&o, " ");
	}
	out_puts(&o, program_name);
	out_puts(&o, "[");
	out_puts(&o, component);
	out_puts(&o, "] ");
	out_puts(&o, level_name(level));
	out_puts(&o, ": ");
	out_puts(&o, msg);
}

int
fl_log_format_parse(const char *name, bool *json)
{
	if (strcmp(name, "text") == 0 || strcmp(name, "json") == 0) {
		*json = strcmp(name, "json") == 0;
		return 0;
	}
	return -1;
}

void
fl_log_set_json(bool json)
{
	cur_style.json = json;
}

fl_log_style
fl_log_get_style(void)
{
	return cur_style;
}

void
fl_log_emit(int level, const char *component, const char *fmt, ...)
{
	char    line[1024], msg[1024], shown[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	// Messages quote names, targets and servers: one line of text whatever they hold
	// (control and bidi characters escaped, invalid UTF-8 as U+FFFD; fl/text.h). A JSON line
	// escapes the raw message itself (every non-ASCII byte, as valid JSON).
	const char *m = cur_style.json ? msg : fl_text_escape(shown, sizeof(shown), msg);
	fl_log_format(line, sizeof(line), cur_style, level, fl_now_us(), program, component, m);
	// One write per line so lines from threads do not interleave.
	fprintf(stderr, "%s\n", line);
}
