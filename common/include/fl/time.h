// time.h - clocks, durations and timestamps.
//
// Wall-clock times on the wire and in storage are int64 microseconds since the Unix epoch.
// Deadlines and measured durations use the monotonic clock, never the wall clock.

#ifndef FL_TIME_H
#define FL_TIME_H

#include <stddef.h>
#include <stdint.h>

int64_t fl_now_us(void);  // CLOCK_REALTIME, Unix microseconds
int64_t fl_mono_us(void); // CLOCK_MONOTONIC microseconds

// Parses "500ms", "5s", "1m", "2h", "1.5s" or a bare number of seconds into milliseconds.
// Returns 0 on success; -1 on bad syntax, zero-free overflow or a value above one day.
int fl_duration_parse(const char *text, uint32_t *ms_out);

// Writes an RFC 3339 UTC time with milliseconds ("2026-11-25T14:07:20.123Z") into buf.
// Returns buf. len should be at least 32.
char *fl_time_format(int64_t unix_us, char *buf, size_t len);

// Writes a short human duration ("850us", "12.3ms", "4.2s", "3m10s", "2h05m") into buf.
char *fl_duration_format(int64_t us, char *buf, size_t len);

// Parses an RFC 3339 time ("2026-11-25T14:07:20Z", "...20.123+02:00"; 't' or ' ' also accepted
// between date and time) into Unix microseconds. Returns 0, or -1 on bad syntax.
int fl_time_parse_rfc3339(const char *text, int64_t *us_out);

// Parses a "since": an RFC 3339 time, or a duration back from now_us ("90s", "1h", "2d", at
// most 3650 days). Returns 0, or -1 on bad syntax. (`faultline history --since` and the
// API's /api/v1/history?since=.)
int fl_since_parse(const char *text, int64_t now_us, int64_t *us_out);

// Sleeps up to ms, returning early (with nonzero) when *stop becomes nonzero.
int fl_sleep_ms_unless(uint32_t ms, volatile int *stop);

#endif // FL_TIME_H
