// arith.h - saturating int64 arithmetic for values a peer can choose.
//
// Timestamps and durations from reports are validated (fl/wire.h), but the collector also
// combines them with values restored from SQLite and with its own clock. Where an overflow
// would be undefined behaviour, these clamp to INT64_MIN / INT64_MAX instead, so a crafted or
// corrupt value gives a wrong-but-bounded number, never UB.

#ifndef FL_ARITH_H
#define FL_ARITH_H

#include <stdint.h>

// a + b, clamped to [INT64_MIN, INT64_MAX].
static inline int64_t
fl_add_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r)) {
		return b > 0 ? INT64_MAX : INT64_MIN;
	}
	return r;
}

// a - b, clamped to [INT64_MIN, INT64_MAX].
static inline int64_t
fl_sub_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r)) {
		return b < 0 ? INT64_MAX : INT64_MIN;
	}
	return r;
}

// a * b, clamped to [INT64_MIN, INT64_MAX].
static inline int64_t
fl_mul_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r)) {
		return (a < 0) == (b < 0) ? INT64_MAX : INT64_MIN;
	}
	return r;
}

#endif // FL_ARITH_H
