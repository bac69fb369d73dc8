// cmd_watch.c - `faultline watch`: the verdict, the hosts × probes grid and the last events,
// refreshed in place on the terminal until q.
//
// Each refresh asks the same three questions as `diagnose`, `status` and `history`, and renders
// the answers with their renderers into text; the screen is then drawn from that text, so a
// resize redraws at once without asking the collector again. A failed refresh keeps the last
// answer on screen under a "reconnecting" line and the next tick tries again: the collector
// may restart under the view.

#define _GNU_SOURCE // open_memstream

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl/cfg.h"
#include "fl/str.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "screen.h"

#define WATCH_DEFAULT_MS 1000
#define WATCH_MIN_MS     100
#define WATCH_MAX_MS     3600000
#define WATCH_EVENTS     50 // events asked for: more than any screen shows

const char cli_help_watch[] =
    "NAME\n"
    "    faultline watch - a live view: verdict, hosts × probes, last events\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] watch [--interval D] [--host H]\n"
    "        [--label KEY=VALUE]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Takes over the terminal (its alternate screen) and redraws, every interval: the\n"
    "    diagnosis's verdict line (as `faultline diagnose` prints it first), a grid with one\n"
    "    row per host and one column per probe (ok, warn/slow, fail/refused, ...; `-` where\n"
    "    the host has no such probe) and the latest history events that fit. It follows\n"
    "    the terminal's size. When the collector cannot be reached the view says\n"
    "    \"reconnecting\", keeps the last answer on screen and tries again every interval.\n"
    "    q quits (any other key refreshes now); so do Ctrl-C, SIGTERM and SIGHUP; the\n"
    "    terminal is restored in every case. stdin and stdout must be a terminal: in\n"
    "    scripts use status, diagnose and history (with --json).\n"
    "\n"
    "OPTIONS\n"
    "    --interval D  time between refreshes (100ms to 1h; default 1s)\n"
    "    --host H      only host H (its grid row, its events, the findings about it)\n"
    "    --label KEY=VALUE\n"
    "                  only the hosts carrying this label (repeatable: every one must\n"
    "                  match), as with status, diagnose and history\n"
    "    -C URL        the collector's control URL (also a global option)\n"
    "    -h, --help    this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the view ended (q, Ctrl-C, SIGTERM, SIGHUP)\n"
    "    2  usage error, or stdin or stdout is not a terminal\n"
    "\n"
    "EXAMPLES\n"
    "    faultline watch\n"
    "    faultline watch --interval 5s --label env=prod\n";

typedef struct watch_opts {
	uint32_t    interval_ms;
	const char *host; // NULL: every host
	cli_labels  labels;
} watch_opts;

// What is on screen: the texts of the last answer, and why the last refresh failed.
typedef struct watch_view {
	char   *headline; // the diagnosis's first line
	char   *grid;     // the hosts × probes grid, or why there is none
	char   *events;   // the history table (header first), or "no events"
	char   *error;    // the last refresh's failure, NULL when it worked
	int64_t at_us;    // when the texts were fetched; 0: never
} watch_view;

static void
view_free(watch_view *v)
{
	free(v->headline);
	free(v->grid);
	free(v->events);
	free(v->error);
	memset(v, 0, sizeof(*v));
}

// A memstream's text, or NULL; the stream is closed.
static char *
stream_text(FILE *f, char **buf)
{
	if (f == NULL) {
		return NULL;
	}
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

static int
ask_diagnose(const cli_ctx *c, const watch_opts *o, Fl__Response **resp)
{
	Fl__Request       req   = FL__REQUEST__INIT;
	Fl__DiagnoseQuery query = FL__DIAGNOSE_QUERY__INIT;
	query.host              = (char *) fl_str_or_empty(o->host);
	query.n_labels          = o->labels.n;
	query.labels            = (char **) o->labels.v;
	req.query_case          = FL__REQUEST__QUERY_DIAGNOSE;
	req.diagnose            = &query;
	return cli_call(c, &req, FL__RESPONSE__REPLY_DIAGNOSE, resp);
}

static int
ask_status(const cli_ctx *c, const watch_opts *o, Fl__Response **resp)
{
	Fl__Request     req   = FL__REQUEST__INIT;
	Fl__StatusQuery query = FL__STATUS_QUERY__INIT;
	query.host            = (char *) fl_str_or_empty(o->host);
	query.n_labels        = o->labels.n;
	query.labels          = (char **) o->labels.v;
	req.query_case        = FL__REQUEST__QUERY_STATUS;
	req.status            = &query;
	return cli_call_status(c, &req, FL__RESPONSE__REPLY_STATUS, resp);
}

static int
ask_history(const cli_ctx *c, const watch_opts *o, Fl__Response **resp)
{
	Fl__Request      req   = FL__REQUEST__INIT;
	Fl__HistoryQuery query = FL__HISTORY_QUERY__INIT;
	query.host             = (char *) fl_str_or_empty(o->host);
	query.n_labels         = o->labels.n;
	query.labels           = (char **) o->labels.v;
	query.limit            = WATCH_EVENTS;
	req.query_case         = FL__REQUEST__QUERY_HISTORY;
	req.history            = &query;
	return cli_call(c, &req, FL__RESPONSE__REPLY_HISTORY, resp);
}

// Renders the three answers into fresh texts. Returns 0, or -1 when out of memory.
static int
render(const Fl__Response *d, const Fl__Response *s, const Fl__Response *h, const watch_opts *o,
    bool colour, watch_view *next)
{
	char  *buf[3] = { NULL, NULL, NULL };
	size_t len[3];
	FILE  *f[3];

	for (int i = 0; i < 3; i++) {
		f[i] = open_memstream(&buf[i], &len[i]);
	}
	if (f[0] != NULL && d->diagnose != NULL) {
		cli_diagnose_headline(d->diagnose, f[0], colour);
	}
	if (f[1] != NULL && s->status != NULL) {
		if (s->status->n_hosts > 0) {
			cli_status_grid_print(s->status, f[1], colour);
		} else if (o->host != NULL) {
			fprintf(f[1], "the collector knows no host named '%s'%s\n", o->host,
			    o->labels.n > 0 ? " with those labels" : "");
		} else if (o->labels.n > 0) {
			fprintf(f[1], "no host carries the label%s asked for\n",
			    o->labels.n > 1 ? "s" : "");
		} else {
			fprintf(f[1], "no host has reported to this collector yet\n");
		}
	}
	if (f[2] != NULL && h->history != NULL) {
		cli_history_print(h->history, f[2], colour);
	}
	next->headline = stream_text(f[0], &buf[0]);
	next->grid     = stream_text(f[1], &buf[1]);
	next->events   = stream_text(f[2], &buf[2]);
	return next->headline != NULL && next->grid != NULL && next->events != NULL ? 0 : -1;
}

// The first line of a failure message, without its "faultline: " prefix.
static char *
first_line(char *msg)
{
	const char *prefix = "faultline: ";
	char       *nl;
	if (msg == NULL) {
		return NULL;
	}
	if ((nl = strchr(msg, '\n')) != NULL) {
		*nl = '\0';
	}
	if (strncmp(msg, prefix, strlen(prefix)) == 0) {
		memmove(msg, msg + strlen(prefix), strlen(msg + strlen(prefix)) + 1);
	}
	return msg;
}

// Asks the collector; on success replaces the view's texts, otherwise keeps them and records
// why in v->error.
static void
refresh(const cli_ctx *ctx, const watch_opts *o, watch_view *v)
{
	Fl__Response *d = NULL, *s = NULL, *h = NULL;
	char         *errbuf = NULL;
	size_t        errlen = 0;
	cli_ctx       c      = *ctx;
	int           rc;

	c.err = open_memstream(&errbuf, &errlen);
	if (c.err == NULL) {
		return; // out of memory: try again at the next tick
	}
	rc = ask_diagnose(&c, o, &d);
	if (rc == CLI_EXIT_OK) {
		rc = ask_status(&c, o, &s);
	}
	if (rc == CLI_EXIT_OK) {
		rc = ask_history(&c, o, &h);
	}
	if (rc == CLI_EXIT_OK) {
		watch_view next = { .at_us = fl_now_us() };
		if (render(d, s, h, o, ctx->colour, &next) == 0) {
			view_free(v);
			*v = next;
		} else {
			view_free(&next);
			fprintf(c.err, "faultline: out of memory while drawing the view\n");
			rc = CLI_EXIT_ERROR;
		}
	}
	if (rc != CLI_EXIT_OK) {
		fprintf(c.err, "faultline: the collector did not answer\n"); // a fallback line
	}
	fclose(c.err);
	free(v->error);
	v->error = rc != CLI_EXIT_OK ? first_line(errbuf) : NULL;
	if (rc == CLI_EXIT_OK) {
		free(errbuf);
	}
	for (Fl__Response **r = (Fl__Response *[]) { d, s, h }, **end = r + 3; r < end; r++) {
		if (*r != NULL) {
			fl__response__free_unpacked(*r, NULL);
		}
	}
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;
	for (; s != NULL && *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

// Appends lines [from, to) of text (0-based) to out.
static void
put_lines(FILE *out, const char *text, size_t from, size_t to)
{
	size_t line = 0;
	for (const char *p = text; p != NULL && *p != '\0' && line < to;) {
		const char *nl  = strchr(p, '\n');
		size_t      len = nl != NULL ? (size_t) (nl - p) + 1 : strlen(p);
		if (line >= from) {
			fwrite(p, 1, len, out);
		}
		line++;
		p += len;
	}
}

// The view as text for a screen of `rows` lines: two header lines, the grid (cut short with a
// note when it does not fit) and, in the rows left, the history's header and its latest events.
static void
compose(FILE *out, const cli_ctx *ctx, const watch_opts *o, const watch_view *v, unsigned rows)
{
	char   now[40], at[40], every[32];
	size_t used = 2, grid = count_lines(v->grid), events = count_lines(v->events);
	bool   colour = ctx->colour;

	if (o->interval_ms % 1000 == 0) {
		snprintf(every, sizeof(every), "%us", (unsigned) (o->interval_ms / 1000));
	} else {
		snprintf(every, sizeof(every), "%ums", (unsigned) o->interval_ms);
	}
	fprintf(out, "%sfaultline watch%s  %s  every %s  %s  (q quits)\n", colour ? "\033[1m" : "",
	    colour ? "\033[0m" : "", ctx->url, every,
	    fl_time_format(fl_now_us(), now, sizeof(now)));
	if (v->error != NULL) {
		fprintf(out, "%sRECONNECTING%s: %s\n", colour ? "\033[1;33m" : "",
		    colour ? "\033[0m" : "", v->error);
		if (v->at_us != 0) {
			fprintf(out, "(the last answer, from %s)\n",
			    fl_time_format(v->at_us, at, sizeof(at)));
			used++;
		}
	} else if (v->headline != NULL) {
		fputs(v->headline, out);
	}
	if (v->at_us == 0) {
		return;
	}
	fputc('\n', out);
	used++;
	if (used + grid > rows) {
		size_t fit = rows > used + 1 ? rows - used - 1 : 0;
		put_lines(out, v->grid, 0, fit);
		fprintf(out, "… %zu more line%s: enlarge the terminal, or use --host or --label\n",
		    grid - fit, grid - fit == 1 ? "" : "s");
		return;
	}
	put_lines(out, v->grid, 0, grid);
	used += grid;
	if (used + 3 > rows || events == 0) {
		return; // no room for a header and one event
	}
	fputc('\n', out);
	used++;
	size_t room = rows - used; // >= 2: the header and at least one event
	if (events <= room) {
		put_lines(out, v->events, 0, events);
	} else {
		put_lines(out, v->events, 0, 1);
		put_lines(out, v->events, events - (room - 1), events);
	}
}

static void
draw(const cli_ctx *ctx, const watch_opts *o, const watch_view *v)
{
	unsigned rows, cols;
	char    *text = NULL;
	size_t   len  = 0;
	FILE    *f    = open_memstream(&text, &len);

	if (f == NULL) {
		return;
	}
	cli_term_size(&rows, &cols);
	compose(f, ctx, o, v, rows);
	if (fclose(f) == 0) {
		cli_screen_draw(stdout, text, rows, cols);
	}
	free(text);
}

static int
parse(int argc, char **argv, watch_opts *o, cli_ctx *c)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "label", required_argument, NULL, 'L' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int  opt;

	cli_opt_start();
	while ((opt = cli_opt_next(argc, argv, "C:h", longopts, err, sizeof(err))) != -1) {
		switch (opt) {
		case 'i':
			if (fl_duration_parse(optarg, &o->interval_ms) != 0 ||
			    o->interval_ms < WATCH_MIN_MS || o->interval_ms > WATCH_MAX_MS) {
				return cli_usage_error(argv[0],
				    "--interval wants a duration from 100ms to 1h, like 1s or 5s, "
				    "not '%s'",
				    optarg);
			}
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'L':
			if (cli_labels_add(&o->labels, optarg, err, sizeof(err)) != 0) {
				return cli_usage_error(argv[0], "%s", err);
			}
			break;
		case 'C':
			c->url = optarg;
			break;
		case 'h':
			fputs(cli_help_watch, stdout);
			return -1;
		default:
			return cli_usage_error(argv[0], "%s", err);
		}
	}
	if (optind < argc) {
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	}
	return CLI_EXIT_OK;
}

int
cli_cmd_watch(const cli_ctx *ctx, int argc, char **argv)
{
	watch_opts     o = { .interval_ms = WATCH_DEFAULT_MS, .labels = { .n = 0 } };
	watch_view     v = { 0 };
	cli_ctx        c = *ctx;
	char           err[256];
	int            rc;
	cli_term_event ev = CLI_TERM_TICK;

	if ((rc = parse(argc, argv, &o, &c)) != CLI_EXIT_OK) {
		return rc < 0 ? CLI_EXIT_OK : rc; // -1: --help was printed
	}
	if (cli_term_open(err, sizeof(err)) != 0) {
		return cli_usage_error(argv[0],
		    "%s: watch draws a full-screen view; in scripts use status, diagnose or "
		    "history (with --json)",
		    err);
	}
	while (ev != CLI_TERM_QUIT) {
		if (ev == CLI_TERM_TICK) {
			cli_term_busy(true);
			refresh(&c, &o, &v);
			cli_term_busy(false);
		}
		draw(&c, &o, &v);
		ev = cli_term_wait((int) o.interval_ms);
	}
	cli_term_close();
	view_free(&v);
	return CLI_EXIT_OK;
}
