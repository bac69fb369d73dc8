// text.c - see fl/text.h.

#include "fl/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t
fl_utf8_next(const char *str, size_t n, int32_t *cp)
{
	const unsigned char *s  = (const unsigned char *) str;
	unsigned             c  = s[0];
	unsigned             lo = 0x80, hi = 0xBF; // allowed range of the next byte
	size_t               need;
	uint32_t             v;

	if (c < 0x80) {
		*cp = (int32_t) c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v    = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v    = c & 0x0F;
		lo   = c == 0xE0 ? 0xA0 : 0x80; // no overlong forms
		hi   = c == 0xED ? 0x9F : 0xBF; // no surrogates
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v    = c & 0x07;
		lo   = c == 0xF0 ? 0x90 : 0x80; // no overlong forms
		hi   = c == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
	} else {
		*cp = -1; // a continuation byte, C0/C1 (overlong) or F5-FF
		return 1;
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*cp = -1;
			return i; // the maximal invalid part: what could still have been valid
		}
		lo = 0x80;
		hi = 0xBF;
		v  = (v << 6) | (s[i] & 0x3F);
	}
	*cp = (int32_t) v;
	return need + 1;
}

bool
fl_utf8_valid(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		int32_t cp;
		i += fl_utf8_next(s + i, n - i, &cp);
		if (cp < 0) {
			return false;
		}
	}
	return true;
}

size_t
fl_utf8_repair(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s), out = 0, bad = 0;

	for (size_t i = 0; i < n;) {
		int32_t     cp;
		size_t      k     = fl_utf8_next(s + i, n - i, &cp);
		const char *piece = cp < 0 ? FL_UTF8_REPLACEMENT : s + i;
		size_t      plen  = cp < 0 ? 3 : k;
		if (out + plen >= dstlen) {
			break;
		}
		memcpy(dst + out, piece, plen);
		out += plen;
		bad += cp < 0;
		i += k;
	}
	dst[out] = '\0';
	return bad;
}

char *
fl_utf8_repair_dup(const char *s)
{
	size_t len = strlen(s) * 3 + 1; // each invalid byte may become 3
	char  *d   = malloc(len);
	if (d != NULL) {
		fl_utf8_repair(d, len, s);
	}
	return d;
}

bool
fl_text_unsafe(int32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
	    cp == 0x200F || cp == 0x061C || cp == 0x2028 || cp == 0x2029;
}

typedef struct range {
	int32_t lo, hi;
} range;

// Combining marks and zero-width characters (the common blocks).
static const range zero_width[] = {
	{ 0x0300, 0x036F },
	{ 0x0483, 0x0489 },
	{ 0x0591, 0x05BD },
	{ 0x05BF, 0x05BF },
	{ 0x05C1, 0x05C2 },
	{ 0x05C4, 0x05C5 },
	{ 0x05C7, 0x05C7 },
	{ 0x0610, 0x061A },
	{ 0x064B, 0x065F },
	{ 0x0670, 0x0670 },
	{ 0x06D6, 0x06DC },
	{ 0x06DF, 0x06E4 },
	{ 0x0900, 0x0902 },
	{ 0x093C, 0x093C },
	{ 0x0941, 0x0948 },
	{ 0x094D, 0x094D },
	{ 0x0E31, 0x0E31 },
	{ 0x0E34, 0x0E3A },
	{ 0x0E47, 0x0E4E },
	{ 0x1AB0, 0x1AFF },
	{ 0x1DC0, 0x1DFF },
	{ 0x200B, 0x200D },
	{ 0x20D0, 0x20FF },
	{ 0xFE00, 0xFE0F },
	{ 0xFE20, 0xFE2F },
	{ 0xFEFF, 0xFEFF },
	{ 0xE0100, 0xE01EF },
};

// East Asian Wide and Fullwidth (the common blocks), and emoji presented wide.
static const range wide[] = {
	{ 0x1100, 0x115F },
	{ 0x231A, 0x231B },
	{ 0x2329, 0x232A },
	{ 0x23E9, 0x23EC },
	{ 0x23F0, 0x23F0 },
	{ 0x23F3, 0x23F3 },
	{ 0x25FD, 0x25FE },
	{ 0x2614, 0x2615 },
	{ 0x2648, 0x2653 },
	{ 0x267F, 0x267F },
	{ 0x2693, 0x2693 },
	{ 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB },
	{ 0x26BD, 0x26BE },
	{ 0x26C4, 0x26C5 },
	{ 0x26CE, 0x26CE },
	{ 0x26D4, 0x26D4 },
	{ 0x26EA, 0x26EA },
	{ 0x26F2, 0x26F3 },
	{ 0x26F5, 0x26F5 },
	{ 0x26FA, 0x26FA },
	{ 0x26FD, 0x26FD },
	{ 0x2705, 0x2705 },
	{ 0x270A, 0x270B },
	{ 0x2728, 0x2728 },
	{ 0x274C, 0x274C },
	{ 0x274E, 0x274E },
	{ 0x2753, 0x2755 },
	{ 0x2757, 0x2757 },
	{ 0x2795, 0x2797 },
	{ 0x27B0, 0x27B0 },
	{ 0x27BF, 0x27BF },
	{ 0x2B1B, 0x2B1C },
	{ 0x2B50, 0x2B50 },
	{ 0x2B55, 0x2B55 },
	{ 0x2E80, 0x303E },
	{ 0x3041, 0x33FF },
	{ 0x3400, 0x4DBF },
	{ 0x4E00, 0x9FFF },
	{ 0xA000, 0xA4CF },
	{ 0xA960, 0xA97F },
	{ 0xAC00, 0xD7A3 },
	{ 0xF900, 0xFAFF },
	{ 0xFE10, 0xFE19 },
	{ 0xFE30, 0xFE6F },
	{ 0xFF00, 0xFF60 },
	{ 0xFFE0, 0xFFE6 },
	{ 0x16FE0, 0x18CFF },
	{ 0x1B000, 0x1B2FF },
	{ 0x1F004, 0x1F004 },
	{ 0x1F0CF, 0x1F0CF },
	{ 0x1F18E, 0x1F18E },
	{ 0x1F191, 0x1F19A },
	{ 0x1F200, 0x1F251 },
	{ 0x1F300, 0x1F320 },
	{ 0x1F32D, 0x1F335 },
	{ 0x1F337, 0x1F37C },
	{ 0x1F37E, 0x1F393 },
	{ 0x1F3A0, 0x1F3CA },
	{ 0x1F3CF, 0x1F3D3 },
	{ 0x1F3E0, 0x1F3F0 },
	{ 0x1F3F4, 0x1F3F4 },
	{ 0x1F3F8, 0x1F43E },
	{ 0x1F440, 0x1F440 },
	{ 0x1F442, 0x1F4FC },
	{ 0x1F4FF, 0x1F53D },
	{ 0x1F54B, 0x1F54E },
	{ 0x1F550, 0x1F567 },
	{ 0x1F57A, 0x1F57A },
	{ 0x1F595, 0x1F596 },
	{ 0x1F5A4, 0x1F5A4 },
	{ 0x1F5FB, 0x1F64F },
	{ 0x1F680, 0x1F6C5 },
	{ 0x1F6CC, 0x1F6CC },
	{ 0x1F6D0, 0x1F6D2 },
	{ 0x1F6D5, 0x1F6D7 },
	{ 0x1F6EB, 0x1F6EC },
	{ 0x1F6F4, 0x1F6FC },
	{ 0x1F7E0, 0x1F7EB },
	{ 0x1F90C, 0x1F93A },
	{ 0x1F93C, 0x1F945 },
	{ 0x1F947, 0x1F9FF },
	{ 0x1FA70, 0x1FAFF },
	{ 0x20000, 0x2FFFD },
	{ 0x30000, 0x3FFFD },
};

static bool
in_ranges(const range *r, size_t n, int32_t cp)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { // binary search: the tables are sorted and disjoint
		size_t mid = (lo + hi) / 2;
		if (cp < r[mid].lo) {
			hi = mid;
		} else if (cp > r[mid].hi) {
			lo = mid + 1;
		} else {
			return true;
		}
	}
	return false;
}

int
fl_text_cp_width(int32_t cp)
{
	if (cp >= 0x300 && in_ranges(zero_width, sizeof(zero_width) / sizeof(zero_width[0]), cp)) {
		return 0;
	}
	if (cp >= 0x1100 && in_ranges(wide, sizeof(wide) / sizeof(wide[0]), cp)) {
		return 2;
	}
	return 1;
}

// The escaped form of an unsafe character (ASCII only: as many columns as bytes).
static size_t
escape_form(int32_t cp, char *buf, size_t len)
{
	switch (cp) {
	case '\t':
		return (size_t) snprintf(buf, len, "\\t");
	case '\n':
		return (size_t) snprintf(buf, len, "\\n");
	case '\r':
		return (size_t) snprintf(buf, len, "\\r");
	default:
		if (cp < 0x100) {
			return (size_t) snprintf(buf, len, "\\x%02x", (unsigned) cp);
		}
		return (size_t) snprintf(buf, len, "\\u%04x", (unsigned) cp);
	}
}

char *
fl_text_escape(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s), out = 0;
	char   esc[16];

	for (size_t i = 0; i < n;) {
		int32_t     cp;
		size_t      k     = fl_utf8_next(s + i, n - i, &cp);
		const char *piece = s + i;
		size_t      plen  = k;
		if (cp < 0) {
			piece = FL_UTF8_REPLACEMENT;
			plen  = 3;
		} else if (fl_text_unsafe(cp)) {
			plen  = escape_form(cp, esc, sizeof(esc));
			piece = esc;
		}
		if (out + plen >= dstlen) {
			break;
		}
		memcpy(dst + out, piece, plen);
		out += plen;
		i += k;
	}
	dst[out] = '\0';
	return dst;
}

char *
fl_text_escape_dup(const char *s)
{
	size_t len = strlen(s) * 6 + 1; // the widest escape, \uNNNN, replaces 2 or 3 bytes
	char  *d   = malloc(len);
	return d != NULL ? fl_text_escape(d, len, s) : NULL;
}

size_t
fl_text_width(const char *s)
{
	size_t n = strlen(s), w = 0;
	char   esc[16];

	for (size_t i = 0; i < n;) {
		int32_t cp;
		i += fl_utf8_next(s + i, n - i, &cp);
		if (cp < 0) {
			w += 1; // U+FFFD
		} else if (fl_text_unsafe(cp)) {
			w += escape_form(cp, esc, sizeof(esc));
		} else {
			w += (size_t) fl_text_cp_width(cp);
		}
	}
	return w;
}

const char *
fl_text_problem(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		int32_t cp;
		size_t  k = fl_utf8_next(s + i, n - i, &cp);
		if (cp < 0) {
			snprintf(buf, len, "invalid UTF-8 (0x%02x) at byte %zu",
			    (unsigned) (unsigned char) s[i], i + 1);
			return buf;
		}
		if (cp == '\t') {
			snprintf(buf, len, "a tab (0x09) at byte %zu", i + 1);
			return buf;
		}
		if (cp < 0x20 || cp == 0x7F) {
			snprintf(buf, len, "a control character (0x%02x) at byte %zu",
			    (unsigned) cp, i + 1);
			return buf;
		}
		if (cp >= 0x80 && cp <= 0x9F) {
			snprintf(buf, len, "a C1 control character (U+%04X) at byte %zu",
			    (unsigned) cp, i + 1);
			return buf;
		}
		if (fl_text_unsafe(cp)) {
			snprintf(buf, len, "a bidi or line control (U+%04X) at byte %zu",
			    (unsigned) cp, i + 1);
			return buf;
		}
		i += k;
	}
	return NULL;
}
