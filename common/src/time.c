// time.c - see fl/time.h.

#include "fl/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
