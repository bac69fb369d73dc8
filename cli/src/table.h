// table.h - aligned text tables for the CLI's human output, with optional ANSI colour.
//
// A table is built row by row, then printed once: every column is padded to its widest cell
// (in terminal columns: East Asian wide characters count 2, combining marks 0; fl/text.h) and
// columns are separated by two spaces. Cell text is escaped as it is added: control
// characters (C0, C1, DEL), bidi controls and invalid UTF-8 never reach the terminal raw. The last
// cell of a row is never padded, so lines carry no trailing blanks. Between rows a caller may
// add free "lines" (e.g. "missing: SELECT on public.orders") that are not aligned and do not
// widen any column; a line can be indented to start under a given column.
//
// Colour codes surround the cell text only (never the padding), so alignment is the same with
// or without colour. Allocation failures are sticky: cli_table_print() then returns -1.

#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum cli_color {
	CLI_PLAIN = 0,
	CLI_RED,
	CLI_YELLOW,
	CLI_GREEN,
	CLI_BOLD,
} cli_color;

typedef struct cli_table cli_table;

// Returns a new empty table, or NULL when out of memory.
cli_table *cli_table_new(void);

void cli_table_free(cli_table *t); // accepts NULL

// Appends one cell (printf-style; the text is copied) to the row being built.
void cli_table_cell(cli_table *t, cli_color c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Ends the row being built (a row with no cells is ignored).
void cli_table_row_end(cli_table *t);

// Adds a free line after the rows added so far, indented to where column `col` starts (0: at the
// left margin). Ends the row being built, if any.
void cli_table_line(cli_table *t, size_t col, cli_color c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Writes the table to out. colour: emit ANSI colour codes. Returns 0, or -1 when an earlier
// allocation failed (nothing is written then) or the write failed.
int cli_table_print(cli_table *t, FILE *out, bool colour);

// Display width of s in terminal columns, as printed escaped (fl_text_width).
size_t cli_text_width(const char *s);

// A malloc'd copy of s escaped for the terminal (fl_text_escape_dup), for text printed outside
// a table; NULL when out of memory.
char *cli_text_dup(const char *s);

// s escaped for the terminal (fl_text_escape) in one of 8 rotating buffers of 2 KiB (longer
// text is cut): valid until the 8th call after this one. For text from the collector printed
// outside a table; the CLI is single-threaded.
const char *cli_esc(const char *s);

// Whether output to f should be coloured: f is a terminal and NO_COLOR is unset or empty
// (https://no-color.org).
bool cli_colour_wanted(FILE *f);

#endif // CLI_TABLE_H
