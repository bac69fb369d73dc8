// text_test.c - UTF-8 validation and repair, terminal escaping, display width and the name
// check, each as a table of cases.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fl/text.h"

typedef struct repair_case {
	const char *in;
	bool        valid;
	const char *repaired;
	size_t      replaced;
} repair_case;

#define R FL_UTF8_REPLACEMENT

static const repair_case repair_cases[] = {
	{ "", true, "", 0 }, { "plain ascii", true, "plain ascii", 0 },
	{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", true,
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 0 },
	{ "caf\xe9", false, "caf" R, 1 }, // Latin-1 e-acute
	{ "a\x9b"
	  "b",
	    false, "a" R "b", 1 },                 // a raw 8-bit CSI
	{ "\xc0\xaf", false, R R, 2 },             // overlong '/'
	{ "\xe0\x80\xaf", false, R R R, 3 },       // overlong, 3 bytes
	{ "\xed\xa0\x80", false, R R R, 3 },       // a surrogate
	{ "\xf4\x90\x80\x80", false, R R R R, 4 }, // above U+10FFFF
	{ "\xe6\x97", false, R, 1 },               // truncated: one maximal part
	{ "\xe6\x97x", false, R "x", 1 }, { "\x80\xbf", false, R R, 2 }, // stray continuation bytes
	{ "\xf5\xff", false, R R, 2 },
	{ "\xc2\x9b", true, "\xc2\x9b", 0 }, // U+009B is valid UTF-8 (but unsafe)
};

static void
test_validate_and_repair(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(repair_cases) / sizeof(repair_cases[0]); i++) {
		const repair_case *c = &repair_cases[i];
		char               out[64];
		if (fl_utf8_valid(c->in) != c->valid) {
			fail_msg("case %zu: valid should be %d", i, c->valid);
		}
		assert_int_equal(fl_utf8_repair(out, sizeof(out), c->in), c->replaced);
		if (strcmp(out, c->repaired) != 0) {
			fail_msg("case %zu: repaired to \"%s\"", i, out);
		}
		assert_true(fl_utf8_valid(out));
		char *d = fl_utf8_repair_dup(c->in);
		assert_string_equal(d, c->repaired);
		free(d);
	}
	// Truncation never cuts a character in two.
	char small[5];
	fl_utf8_repair(small, sizeof(small), "ab\xe6\x97\xa5");
	assert_string_equal(small, "ab");
	fl_utf8_repair(small, sizeof(small), "a\xe6\x97\xa5");
	assert_string_equal(small, "a\xe6\x97\xa5");
}

typedef struct escape_case {
	const char *in;
	const char *shown;
	size_t      width;
} escape_case;

static const escape_case escape_cases[] = {
	{ "app", "app", 3 }, { "a\tb", "a\\tb", 4 }, { "x\x1b[31my", "x\\x1b[31my", 10 }, // ESC
	{ "del\x7f", "del\\x7f", 7 },
	{ "csi\xc2\x9b"
	  "1m",
	    "csi\\x9b1m", 9 }, // C1 CSI, encoded
	{ "csi\x9b"
	  "1m",
	    "csi" R "1m", 6 }, // C1 CSI, raw byte: invalid UTF-8
	{ "evil\xe2\x80\xae"
	  "gpj.exe",
	    "evil\\u202egpj.exe", 17 },                                // RIGHT-TO-LEFT OVERRIDE
	{ "iso\xe2\x81\xa6x", "iso\\u2066x", 10 },                     // LEFT-TO-RIGHT ISOLATE
	{ "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac", 4 }, // two wide characters
	{ "\xef\xbc\xa1", "\xef\xbc\xa1", 2 },                         // FULLWIDTH A
	{ "e\xcc\x81", "e\xcc\x81", 1 },                               // e + combining acute
	{ "\xed\x95\x9c", "\xed\x95\x9c", 2 },                         // Hangul syllable
	{ "caf\xc3\xa9", "caf\xc3\xa9", 4 }, { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 2 }, // emoji
};

static void
test_escape_and_width(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		const escape_case *c = &escape_cases[i];
		char               out[64];
		fl_text_escape(out, sizeof(out), c->in);
		if (strcmp(out, c->shown) != 0) {
			fail_msg("case %zu: shown as \"%s\"", i, out);
		}
		if (fl_text_width(c->in) != c->width) {
			fail_msg(
			    "case %zu: width %zu, want %zu", i, fl_text_width(c->in), c->width);
		}
		char *d = fl_text_escape_dup(c->in);
		assert_string_equal(d, c->shown);
		free(d);
	}
	// Truncation happens between whole escapes.
	char small[6];
	fl_text_escape(small, sizeof(small),
	    "ab\x1b"
	    "cd");
	assert_string_equal(small, "ab");
}

typedef struct problem_case {
	const char *in;
	const char *problem; // NULL: fine
} problem_case;

static const problem_case problem_cases[] = {
	{ "web01", NULL },
	{ "caf\xc3\xa9-\xe6\x97\xa5", NULL },
	{ "web\t01", "a tab (0x09) at byte 4" },
	{ "\x1b[2Jweb", "a control character (0x1b) at byte 1" },
	{ "web\x7f", "a control character (0x7f) at byte 4" },
	{ "caf\xe9", "invalid UTF-8 (0xe9) at byte 4" },
	{ "a\xc2\x9b", "a C1 control character (U+009B) at byte 2" },
	{ "ab\xe2\x80\xae", "a bidi or line control (U+202E) at byte 3" },
};

static void
test_name_problems(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(problem_cases) / sizeof(problem_cases[0]); i++) {
		const problem_case *c = &problem_cases[i];
		char                buf[128];
		const char         *p = fl_text_problem(c->in, buf, sizeof(buf));
		if (c->problem == NULL) {
			if (p != NULL) {
				fail_msg("case %zu: unexpected problem \"%s\"", i, p);
			}
		} else if (p == NULL || strcmp(p, c->problem) != 0) {
			fail_msg("case %zu: problem \"%s\", want \"%s\"", i, p ? p : "(none)",
			    c->problem);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_and_repair),
		cmocka_unit_test(test_escape_and_width),
		cmocka_unit_test(test_name_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
