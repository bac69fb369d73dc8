// table_test.c - aligned tables: widths, UTF-8, colour that does not move columns, free lines.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

// Prints t into a string the test frees.
static char *
render(cli_table *t, bool colour)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f   = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cli_table_print(t, f, colour), 0);
	fclose(f);
	return buf;
}

static void
test_columns_padded_to_widest_cell(void **state)
{
	(void) state;
	cli_table *t = cli_table_new();
	cli_table_cell(t, CLI_PLAIN, "HOST");
	cli_table_cell(t, CLI_PLAIN, "STATUS");
	cli_table_cell(t, CLI_PLAIN, "DETAIL");
	cli_table_row_end(t);
	cli_table_cell(t, CLI_PLAIN, "app-server-1");
	cli_table_cell(t, CLI_PLAIN, "ok");
	cli_table_cell(t, CLI_PLAIN, "HTTP %d", 200);
	cli_table_row_end(t);
	char *out = render(t, false);
	assert_string_equal(out,
	    "HOST          STATUS  DETAIL\n"
	    "app-server-1  ok      HTTP 200\n");
	free(out);
	cli_table_free(t);
}

static void
test_last_cell_not_padded(void **state)
{
	(void) state;
	cli_table *t = cli_table_new();
	cli_table_cell(t, CLI_PLAIN, "a");
	cli_table_cell(t, CLI_PLAIN, "a long last cell");
	cli_table_row_end(t);
	cli_table_cell(t, CLI_PLAIN, "b");
	cli_table_cell(t, CLI_PLAIN, "x");
	cli_table_row_end(t);
	char *out = render(t, false);
	assert_string_equal(out, "a  a long last cell\nb  x\n");
	assert_null(strstr(out, " \n")); // no trailing blanks
	free(out);
	cli_table_free(t);
}

static void
test_utf8_counts_characters_not_bytes(void **state)
{
	(void) state;
	assert_int_equal(cli_text_width("ok → fail"), 9);
	assert_int_equal(cli_text_width("é"), 1);
	assert_int_equal(cli_text_width(""), 0);
	cli_table *t = cli_table_new();
	cli_table_cell(t, CLI_PLAIN, "ok → fail");
	cli_table_cell(t, CLI_PLAIN, "x");
	cli_table_row_end(t);
	cli_table_cell(t, CLI_PLAIN, "abcdefghi");
	cli_table_cell(t, CLI_PLAIN, "y");
	cli_table_row_end(t);
	char *out = render(t, false);
	assert_string_equal(out, "ok → fail  x\nabcdefghi  y\n");
	free(out);
	cli_table_free(t);
}

static void
test_colour_wraps_text_not_padding(void **state)
{
	(void) state;
	cli_table *t = cli_table_new();
	cli_table_cell(t, CLI_RED, "fail");
	cli_table_cell(t, CLI_PLAIN, "1");
	cli_table_row_end(t);
	cli_table_cell(t, CLI_GREEN, "ok");
	cli_table_cell(t, CLI_PLAIN, "2");
	cli_table_row_end(t);
	char *plain = render(t, false);
	char *col   = render(t, true);
	assert_string_equal(plain, "fail  1\nok    2\n");
	assert_string_equal(col, "\033[31mfail\033[0m  1\n\033[32mok\033[0m    2\n");
	free(plain);
	free(col);
	cli_table_free(t);
}

static void
test_lines_indent_to_column_and_do_not_widen(void **state)
{
	(void) state;
	cli_table *t = cli_table_new();
	cli_table_cell(t, CLI_PLAIN, "app1");
	cli_table_cell(t, CLI_PLAIN, "orders");
	cli_table_cell(t, CLI_PLAIN, "fail");
	cli_table_row_end(t);
	cli_table_line(t, 1, CLI_PLAIN, "  missing: SELECT on public.orders for role app");
	cli_table_cell(t, CLI_PLAIN, "app2");
	cli_table_cell(t, CLI_PLAIN, "web");
	cli_table_cell(t, CLI_PLAIN, "ok");
	// no row_end: a line also ends a row, and so does printing
	cli_table_line(t, 0, CLI_PLAIN, "end");
	char *out = render(t, false);
	assert_string_equal(out,
	    "app1  orders  fail\n"
	    "        missing: SELECT on public.orders for role app\n"
	    "app2  web     ok\n"
	    "end\n");
	free(out);
	cli_table_free(t);
}

static void
test_ragged_rows_and_empty_table(void **state)
{
	(void) state;
	cli_table *t   = cli_table_new();
	char      *out = render(t, false);
	assert_string_equal(out, "");
	free(out);
	cli_table_cell(t, CLI_PLAIN, "one");
	cli_table_row_end(t);
	cli_table_cell(t, CLI_PLAIN, "a");
	cli_table_cell(t, CLI_PLAIN, "b");
	cli_table_row_end(t);
	out = render(t, false);
	assert_string_equal(out, "one\na    b\n");
	free(out);
	cli_table_free(t);
	cli_table_free(NULL);
}

static void
test_colour_only_on_terminal_without_no_color(void **state)
{
	(void) state;
	FILE *f = tmpfile();
	assert_non_null(f);
	unsetenv("NO_COLOR");
	assert_false(cli_colour_wanted(f)); // a file is not a terminal
	fclose(f);
	FILE *tty = fopen("/dev/tty", "w");
	if (tty != NULL) { // only when the test runs in a terminal (ctest runs detached)
		assert_true(cli_colour_wanted(tty));
		setenv("NO_COLOR", "1", 1);
		assert_false(cli_colour_wanted(tty));
		unsetenv("NO_COLOR");
		fclose(tty);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_padded_to_widest_cell),
		cmocka_unit_test(test_last_cell_not_padded),
		cmocka_unit_test(test_utf8_counts_characters_not_bytes),
		cmocka_unit_test(test_colour_wraps_text_not_padding),
		cmocka_unit_test(test_lines_indent_to_column_and_do_not_widen),
		cmocka_unit_test(test_ragged_rows_and_empty_table),
		cmocka_unit_test(test_colour_only_on_terminal_without_no_color),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
