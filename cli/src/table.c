// table.c - see table.h.

#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl/str.h"
#include "fl/text.h"

typedef struct cell {
	char     *text;
	cli_color colour;
} cell;

// An entry is a row of cells or, when line is set, one free line.
typedef struct entry {
	cell  *cells;
	size_t n_cells;
	bool   line;
	size_t line_col; // free line: the column whose start it is indented to
} entry;

struct cli_table {
	entry *entries;
	size_t n_entries;
	size_t cap_entries;
	bool   open; // the last entry is a row still being built
	bool   failed;
};

cli_table *
cli_table_new(void)
{
	return calloc(1, sizeof(cli_table));
}

void
cli_table_free(cli_table *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n_entries; i++) {
		for (size_t k = 0; k < t->entries[i].n_cells; k++) {
			free(t->entries[i].cells[k].text);
		}
		free(t->entries[i].cells);
	}
	free(t->entries);
	free(t);
}

static entry *
new_entry(cli_table *t)
{
	if (t->n_entries == t->cap_entries) {
		size_t cap = t->cap_entries ? t->cap_entries * 2 : 16;
		entry *e   = realloc(t->entries, cap * sizeof(*e));
		if (e == NULL) {
			t->failed = true;
			return NULL;
		}
		t->entries     = e;
		t->cap_entries = cap;
	}
	entry *e = &t->entries[t->n_entries++];
	memset(e, 0, sizeof(*e));
	return e;
}

static char *
vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		return NULL;
	}
	char *s = malloc((size_t) n + 1);
	if (s != NULL) {
		vsnprintf(s, (size_t) n + 1, fmt, ap);
	}
	return s;
}

// Appends text (owned; freed here) as a cell of e, escaped for the terminal: a cell quotes
// names and messages from agents and servers.
static void
add_cell(cli_table *t, entry *e, cli_color c, char *raw)
{
	cell *cells;
	char *text = raw != NULL ? fl_text_escape_dup(raw) : NULL;
	free(raw);
	if (text == NULL ||
	    (cells = realloc(e->cells, (e->n_cells + 1) * sizeof(*cells))) == NULL) {
		free(text);
		t->failed = true;
		return;
	}
	e->cells                    = cells;
	e->cells[e->n_cells].text   = text;
	e->cells[e->n_cells].colour = c;
	e->n_cells++;
}

void
cli_table_cell(cli_table *t, cli_color c, const char *fmt, ...)
{
	va_list ap;
	entry  *e;

	if (t->failed) {
		return;
	}
	if (!t->open) {
		if ((e = new_entry(t)) == NULL) {
			return;
		}
		t->open = true;
	} else {
		e = &t->entries[t->n_entries - 1];
	}
	va_start(ap, fmt);
	char *text = vformat(fmt, ap);
	va_end(ap);
	add_cell(t, e, c, text);
}

void
cli_table_row_end(cli_table *t)
{
	t->open = false;
}

void
cli_table_line(cli_table *t, size_t col, cli_color c, const char *fmt, ...)
{
	va_list ap;
	entry  *e;

	t->open = false;
	if (t->failed || (e = new_entry(t)) == NULL) {
		return;
	}
	e->line     = true;
	e->line_col = col;
	va_start(ap, fmt);
	char *text = vformat(fmt, ap);
	va_end(ap);
	add_cell(t, e, c, text);
}

size_t
cli_text_width(const char *s)
{
	return fl_text_width(s);
}

const char *
cli_esc(const char *s)
{
	static char ring[8][2048];
	static int  next;
	char       *b = ring[next];
	next          = (next + 1) % 8;
	return fl_text_escape(b, sizeof(ring[0]), fl_str_or_empty(s));
}

char *
cli_text_dup(const char *s)
{
	return fl_text_escape_dup(s);
}

static const char *
colour_code(cli_color c)
{
	switch (c) {
	case CLI_RED:
		return "\033[31m";
	case CLI_YELLOW:
		return "\033[33m";
	case CLI_GREEN:
		return "\033[32m";
	case CLI_BOLD:
		return "\033[1m";
	case CLI_PLAIN:
		break;
	}
	return NULL;
}

static void
put_text(FILE *out, const cell *c, bool colour)
{
	const char *code = colour ? colour_code(c->colour) : NULL;
	if (code != NULL) {
		fprintf(out, "%s%s\033[0m", code, c->text);
	} else {
		fputs(c->text, out);
	}
}

static void
pad(FILE *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputc(' ', out);
	}
}

int
cli_table_print(cli_table *t, FILE *out, bool colour)
{
	size_t  ncols = 0;
	size_t *width;

	if (t->failed) {
		return -1;
	}
	for (size_t i = 0; i < t->n_entries; i++) {
		if (!t->entries[i].line && t->entries[i].n_cells > ncols) {
			ncols = t->entries[i].n_cells;
		}
	}
	if ((width = calloc(ncols + 1, sizeof(*width))) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < t->n_entries; i++) {
		const entry *e = &t->entries[i];
		for (size_t k = 0; !e->line && k < e->n_cells; k++) {
			size_t w = cli_text_width(e->cells[k].text);
			if (w > width[k]) {
				width[k] = w;
			}
		}
	}
	for (size_t i = 0; i < t->n_entries; i++) {
		const entry *e = &t->entries[i];
		if (e->line) {
			size_t indent = 0;
			for (size_t k = 0; k < e->line_col && k < ncols; k++) {
				indent += width[k] + 2;
			}
			pad(out, indent);
			put_text(out, &e->cells[0], colour);
			fputc('\n', out);
			continue;
		}
		// Trailing empty cells print nothing, so the last visible one is not padded.
		size_t n = e->n_cells;
		while (n > 0 && e->cells[n - 1].text[0] == '\0') {
			n--;
		}
		for (size_t k = 0; k < n; k++) {
			put_text(out, &e->cells[k], colour);
			if (k + 1 < n) {
				pad(out, width[k] - cli_text_width(e->cells[k].text) + 2);
			}
		}
		fputc('\n', out);
	}
	free(width);
	return ferror(out) ? -1 : 0;
}

bool
cli_colour_wanted(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc != NULL && nc[0] != '\0') {
		return false;
	}
	return isatty(fileno(f)) == 1;
}
