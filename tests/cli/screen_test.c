// screen_test.c - the live view's drawing: clipping lines with colour codes and UTF-8 to the
// terminal's width, and drawing text onto a fixed number of rows without scrolling.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen.h"

static char *
clip(const char *line, size_t cols)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f   = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_screen_clip(line, strlen(line), cols, f);
	fclose(f);
	return buf;
}

static void
check_clip(const char *line, size_t cols, const char *want)
{
	char *got = clip(line, cols);
	assert_string_equal(got, want);
	free(got);
}

static void
test_clip(void **state)
{
	(void) state;
	check_clip("abcdef", 10, "abcdef");
	check_clip("abcdef", 3, "abc");
	check_clip("abcdef", 0, "");
	// "→" is three bytes and one column.
	check_clip("a → b", 3, "a →");
	// Escapes take no room; a clipped coloured line ends with a reset.
	check_clip("\033[31mfail\033[0m ok", 4, "\033[31mfail\033[0m\033[0m");
	check_clip("\033[31mfail\033[0m", 9, "\033[31mfail\033[0m");
	check_clip("\033[1;32mHEALTHY\033[0m: 1 host", 3, "\033[1;32mHEA\033[0m");
}

static void
test_draw(void **state)
{
	(void) state;
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f   = open_memstream(&buf, &len);
	assert_non_null(f);

	cli_screen_draw(f, "one\ntwo two\nthree\nfour\n", 3, 5);
	fclose(f);
	// Each line placed, clipped to 5 columns and its rest cleared; row 4 never drawn; no
	// newline anywhere (the screen must not scroll); nothing left to clear below row 3.
	assert_string_equal(buf, "\033[1;1Hone\033[K\033[2;1Htwo t\033[K\033[3;1Hthree\033[K");
	assert_null(strchr(buf, '\n'));
	free(buf);

	buf = NULL;
	f   = open_memstream(&buf, &len);
	cli_screen_draw(f, "only\n", 4, 80);
	fclose(f);
	// Fewer lines than rows: the screen below is cleared.
	assert_string_equal(buf, "\033[1;1Honly\033[K\033[2;1H\033[J");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_draw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
