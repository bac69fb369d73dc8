// time.c - see fl/time.h.

#include "fl/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/cfg.h"

int64_t
fl_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
fl_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
fl_duration_parse(const char *text, uint32_t *ms_out)
{
	static const struct {
		const char *suffix;
		double      ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "", 1000 }, // a bare number means seconds
	};
	char  *end;
	double v;

	if (text == NULL || *text == '\0' || *text == '-' || *text == '+' || *text == ' ') {
		return -1;
	}
	errno = 0;
	v     = strtod(text, &end);
	if (errno != 0 || end == text || v != v) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ms = v * units[i].ms;
			if (ms < 0 || ms > 86400000.0) {
				return -1;
			}
			*ms_out = (uint32_t) (ms + 0.5);
			return 0;
		}
	}
	return -1;
}

char *
fl_time_format(int64_t unix_us, char *buf, size_t len)
{
	time_t    secs = (time_t) (unix_us / 1000000);
	struct tm tm;
	char      base[24];

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "invalid-time");
		return buf;
	}
	snprintf(buf, len, "%s.%03dZ", base, (int) ((unix_us % 1000000) / 1000));
	return buf;
}

char *
fl_duration_format(int64_t us, char *buf, size_t len)
{
	const char *sign = "";
	if (us < 0) {
		sign = "-";
		us   = us == INT64_MIN ? INT64_MAX : -us; // -INT64_MIN does not exist
	}
	if (us < 1000) {
		snprintf(buf, len, "%s%dus", sign, (int) us);
	} else if (us < 1000000) {
		snprintf(buf, len, "%s%.1fms", sign, (double) us / 1000.0);
	} else if (us < 60000000) {
		snprintf(buf, len, "%s%.1fs", sign, (double) us / 1e6);
	} else if (us < 3600000000LL) {
		snprintf(buf, len, "%s%dm%02ds", sign, (int) (us / 60000000),
		    (int) ((us / 1000000) % 60));
	} else {
		snprintf(buf, len, "%s%lldh%02dm", sign, (long long) (us / 3600000000LL),
		    (int) ((us / 60000000) % 60));
	}
	return buf;
}

int
fl_sleep_ms_unless(uint32_t ms, volatile int *stop)
{
	int64_t end = fl_mono_us() + (int64_t) ms * 1000;
	while (!*stop) {
		int64_t left = end - fl_mono_us();
		if (left <= 0) {
			return 0;
		}
		if (left > 50000) {
			left = 50000; // wake up often enough to honour *stop promptly
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) left * 1000 };
		nanosleep(&ts, NULL);
	}
	return 1;
}

// Reads exactly n digits at *p into *out and advances *p.
static int
digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9') {
			return -1;
		}
		v = v * 10 + (ch - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
expect(const char **p, char ch)
{
	if (**p != ch) {
		return -1;
	}
	(*p)++;
	return 0;
}

int
fl_time_parse_rfc3339(const char *text, int64_t *us_out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char      *p       = text;
	int              year, mon, day, hour, min, sec, off = 0;
	int64_t          frac_us = 0;
	struct tm        tm;

	if (digits(&p, 4, &year) || expect(&p, '-') || digits(&p, 2, &mon) || expect(&p, '-') ||
	    digits(&p, 2, &day)) {
		return -1;
	}
	if (*p != 'T' && *p != 't' && *p != ' ') {
		return -1;
	}
	p++;
	if (digits(&p, 2, &hour) || expect(&p, ':') || digits(&p, 2, &min) || expect(&p, ':') ||
	    digits(&p, 2, &sec)) {
		return -1;
	}
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59 ||
	    sec > 60) {
		return -1;
	}
	if (*p == '.') {
		int64_t scale = 100000;
		p++;
		if (*p < '0' || *p > '9') {
			return -1;
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			frac_us += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om) || oh > 23 ||
		    om > 59) {
			return -1;
		}
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0') {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon  = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min  = min;
	tm.tm_sec  = sec;
	time_t t   = timegm(&tm);
	if (tm.tm_mday != day) {
		return -1; // 29 February of a non-leap year was normalised into March
	}
	*us_out = ((int64_t) t - off) * 1000000 + frac_us;
	return 0;
}

int
fl_since_parse(const char *text, int64_t now_us, int64_t *us_out)
{
	uint32_t ms;
	size_t   n = strlen(text);

	if (fl_time_parse_rfc3339(text, us_out) == 0) {
		return 0;
	}
	// fl_duration_parse stops at one day; history often wants more, so days are handled here.
	if (n >= 2 && text[n - 1] == 'd') {
		char     num[16];
		uint32_t days;
		if (n - 1 >= sizeof(num)) {
			return -1;
		}
		memcpy(num, text, n - 1);
		num[n - 1] = '\0';
		if (fl_cfg_uint(num, 0, 3650, &days) != 0) {
			return -1;
		}
		*us_out = now_us - (int64_t) days * 86400 * 1000000;
		return 0;
	}
	if (fl_duration_parse(text, &ms) != 0) {
		return -1;
	}
	*us_out = now_us - (int64_t) ms * 1000;
	return 0;
}
