// main.c - faultline-collector: arguments, config, signals; the work is in fl_collector_core.

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fl/log.h"
#include "fl/notify.h"
#include "fl/version.h"
#include "server.h"

static const char usage_text[] =
    "Usage: faultline-collector [-c FILE] [--check-config] [--log-level LEVEL]\n"
    "                           [--listen URL] [--survey URL] [--control URL] [--state PATH]\n"
    "       faultline-collector --help | --version\n"
    "\n"
    "Receive probe reports from faultline-agent, keep every host's latest results and a\n"
    "history of transitions in SQLite, and answer the faultline CLI.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE    config file (default " COLL_DEFAULT_CONFIG ");\n"
    "                       when the default is missing, built-in defaults are used\n"
    "      --check-config   parse the config, print errors as FILE:LINE: message, exit\n"
    "      --log-level L    err, warn, notice, info or debug (overrides log_level)\n"
    "      --listen URL     override [collector] listen  (reports, PULL)\n"
    "      --survey URL     override [collector] survey  (probe-now, SURVEYOR); \"\" disables\n"
    "      --control URL    override [collector] control (CLI queries, REP)\n"
    "      --state PATH|URI override [collector] state (SQLite file or PostgreSQL)\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the version\n"
    "\n"
    "Config ([collector] section, INI):\n"
    "  listen = tcp://127.0.0.1:7600               agents PUSH reports here\n"
    "  survey = tcp://127.0.0.1:7601               agents answer probe-now surveys here\n"
    "  control = ipc:///run/faultline/control.sock CLI queries; ipc socket is mode 0660\n"
    "  state = /var/lib/faultline/collector.db     SQLite (WAL) with hosts, latest, history;\n"
    "          or postgresql://USER@HOST/DB, or a libpq conninfo (host=... dbname=...)\n"
    "  password_file = PATH                        PostgreSQL state: its password (mode 0600)\n"
    "  log_level = info\n"
    "  history_days = 14                           history older than this is pruned\n"
    "  history_max_events = 1000000                and the oldest beyond this many events\n"
    "  forget_after = off                          forget hosts silent this long (7d, 12h)\n"
    "  recv_max = 1MiB                             largest report or survey answer accepted\n"
    "  max_connections = 1024                      open connections per agent listener\n"
    "  ingest_queue = auto                         reports received, not yet applied (auto:\n"
    "                                              2 x max_hosts, at least 4096)\n"
    "  control = tcp://... is refused unless its address is loopback (127.0.0.0/8, ::1):\n"
    "                       use tls+tcp:// or ipc:// for remote CLIs\n"
    "\n"
    "Security (see the README's Security section):\n"
    "  tls_ca = /etc/faultline/ca.crt        CA that agents' and CLIs' certificates chain to\n"
    "  tls_cert = /etc/faultline/collector.crt  certificate every tls+tcp:// listener presents\n"
    "  tls_key = /etc/faultline/collector.key   its key (0600; omit if inside tls_cert)\n"
    "                       tls+tcp:// listeners (listen, survey, control) require a client\n"
    "                       certificate signed by tls_ca; others get no connection\n"
    "  keys_dir = /etc/faultline/hosts       HOST.pub public keys: when set, every report and\n"
    "                       survey answer must be signed by its host's key, else it is\n"
    "                       dropped and counted as dropped_unauthenticated (status --json)\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop cleanly (pending state is written) within 3 s whatever\n"
    "peers do; SIGHUP re-reads the config file and applies log_level (other keys need a\n"
    "restart).\n"
    "\n"
    "Exit status: 0 clean stop, 1 runtime failure, 2 usage or config error.\n";

// A stop writes the state and closes SQLite first, then closes the sockets; nng can wait on a
// peer for long in the second step (a connection still writing a large reply, a handshake in
// progress). Past this deadline the process exits at once: with the state written that loses
// nothing (exit 0); without, it is no worse than a kill -9, which SQLite's WAL survives (exit 1).
#define STOP_DEADLINE_MS 3000

static int stop_status; // exit status of a stop whose state was written (1: nng wedged)

// STOP_DEADLINE_MS, or FL_TEST_STOP_DEADLINE_MS when set: a test on a saturated machine tells a
// stop that is slow (it ends within the longer deadline) from one nng wedged (it never ends).
static int
stop_deadline_ms(void)
{
	const char *v  = getenv("FL_TEST_STOP_DEADLINE_MS");
	int         ms = v != NULL ? atoi(v) : 0;
	return ms > 0 ? ms : STOP_DEADLINE_MS;
}

static void *
stop_deadline_main(void *arg)
{
	int             ms   = stop_deadline_ms();
	struct timespec left = { ms / 1000, (ms % 1000) * 1000000L };
	(void) arg;
	while (nanosleep(&left, &left) != 0) {
	}
	bool written = coll_server_state_written();
	fl_log(FL_LOG_WARN, "main", "stop did not finish within %d ms (%s); exiting now", ms,
	    written ? "state written, sockets still closing" : "state not fully written");
	_exit(written ? stop_status : 1);
}

static void
start_stop_deadline(int status)
{
	pthread_t      t;
	pthread_attr_t a;
	stop_status = status;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, stop_deadline_main, NULL) != 0) {
		fl_log(FL_LOG_WARN, "main", "cannot bound the stop: no thread");
	}
	pthread_attr_destroy(&a);
}

enum { OPT_CHECK = 256, OPT_LOGLEVEL, OPT_LISTEN, OPT_SURVEY, OPT_CONTROL, OPT_STATE };

typedef struct overrides {
	const char *log_level, *listen, *survey, *control, *state;
} overrides;

// Defaults, then the file, then flags (house style). explicit_path: -c was given, so a missing
// file is an error; the default path may be absent (defaults are used).
static int
build_config(const char *path, bool explicit_path, const overrides *ov, coll_config *cfg)
{
	char err[4096];
	coll_config_defaults(cfg);
	if (explicit_path || access(path, F_OK) == 0) {
		if (coll_config_load(path, cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	const struct {
		const char *key, *val;
	} flags[] = { { "log_level", ov->log_level }, { "listen", ov->listen },
		{ "survey", ov->survey }, { "control", ov->control }, { "state", ov->state } };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (flags[i].val != NULL &&
		    coll_config_set(cfg, flags[i].key, flags[i].val, err, sizeof(err)) != 0) {
			fprintf(stderr, "faultline-collector: --%s\n", err);
			return -1;
		}
	}
	if (coll_config_check(cfg, explicit_path || access(path, F_OK) == 0 ? path : "(defaults)",
	        err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

// The command line: -c, the flags that override config keys, --check-config.
typedef struct options {
	const char *path;          // config file
	bool        explicit_path; // -c given: a missing file is an error
	bool        check;         // --check-config
	overrides   ov;
} options;

// Parses argv into o. -1 to go on; otherwise the exit status (after --help, --version or a
// usage error).
static int
parse_args(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "survey", required_argument, NULL, OPT_SURVEY },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (options) { .path = COLL_DEFAULT_CONFIG };
	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->path          = optarg;
			o->explicit_path = true;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case OPT_LOGLEVEL:
			o->ov.log_level = optarg;
			break;
		case OPT_LISTEN:
			o->ov.listen = optarg;
			break;
		case OPT_SURVEY:
			o->ov.survey = optarg;
			break;
		case OPT_CONTROL:
			o->ov.control = optarg;
			break;
		case OPT_STATE:
			o->ov.state = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("faultline-collector %s\n", FL_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "faultline-collector: unexpected argument '%s'\n", argv[optind]);
		fputs(usage_text, stderr);
		return 2;
	}
	return -1;
}

// SIGHUP: re-reads the config and applies what is safe to change live (log level and format;
// addresses and the database path belong to open sockets and connections).
static void
reload(const options *o)
{
	coll_config fresh;
	if (build_config(o->path, o->explicit_path, &o->ov, &fresh) != 0) {
		fl_log(
		    FL_LOG_WARN, "main", "cannot reload %s, keeping the running config", o->path);
		return;
	}
	fl_log_level = fresh.log_level;
	fl_log_set_json(fresh.log_json);
	fl_log(FL_LOG_NOTICE, "main",
	    "reloaded %s (log level and format applied; other keys need a restart)", o->path);
}

// Waits for a stop signal (SIGHUP reloads) or for nng to wedge. Returns true when wedged.
static bool
wait_for_stop(coll_server *srv, const sigset_t *sigs, const options *o)
{
	for (;;) {
		struct timespec one = { 1, 0 };
		int             sig = sigtimedwait(sigs, NULL, &one);
		if (sig < 0) {
			if (coll_server_wedged(srv)) {
				fl_log(FL_LOG_ERR, "main",
				    "nng is wedged (a connection close has not returned for %lld "
				    "s: "
				    "nng 1.5.2 defect); stopping so that the service restarts",
				    COLL_WEDGED_US / 1000000);
				return true;
			}
			continue;
		}
		if (sig == SIGHUP) {
			reload(o);
			continue;
		}
		fl_log(FL_LOG_NOTICE, "main", "stopping on signal %d", sig);
		(void) fl_notify("STOPPING=1");
		return false;
	}
}

// Why a fixed trim threshold (docs/benchmarks/scale.md, section 2, "Where the live RSS ..."):
// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB) and its
// trim threshold to twice that, so later large blocks come from the heaps, which then keep
// their pages; setting M_TRIM_THRESHOLD turns that adjustment off (blocks over 128 KiB stay
// mmapped, returned when freed). Measured with 10,000 agents: 9.8 KiB RSS per host instead of
// 10.5, at the same CPU.
// 4 MiB, not glibc's 128 KiB: at 128 KiB every report coming and going gave heap tops back and
// faulted them in again, +11 % CPU. An operator's MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES
// wins.
static void
tune_malloc(void)
{
	const char *t = getenv("GLIBC_TUNABLES");
	if (getenv("MALLOC_TRIM_THRESHOLD_") == NULL &&
	    (t == NULL || strstr(t, "malloc.trim_threshold") == NULL)) {
		mallopt(M_TRIM_THRESHOLD, 4 << 20);
	}
}

int
main(int argc, char **argv)
{
	options      o;
	coll_config  cfg;
	coll_server *srv;
	char         err[4096];
	sigset_t     sigs;
	int          rc;
	bool         wedged;

	tune_malloc();
	fl_log_init("faultline-collector");
	if ((rc = parse_args(argc, argv, &o)) >= 0) {
		return rc;
	}
	if (build_config(o.path, o.explicit_path, &o.ov, &cfg) != 0) {
		return 2;
	}
	if (o.check) {
		printf("%s: ok\n",
		    o.explicit_path || access(o.path, F_OK) == 0 ? o.path : "(defaults)");
		return 0;
	}
	fl_log_level = cfg.log_level;
	fl_log_set_json(cfg.log_json);

	// Block the signals before any thread starts so every thread inherits the mask and only
	// sigwait() below sees them: no async-signal-safety concerns anywhere else.
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (coll_server_start(&cfg, &srv, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERR, "main", "cannot start: %s", err);
		return 1;
	}
	fl_log(FL_LOG_NOTICE, "main", "faultline-collector %s started", FL_VERSION);
	// Every listener is bound (coll_server_start returned): agents and the CLI can connect.
	if (fl_notify("READY=1\nSTATUS=listening") < 0) {
		fl_log(FL_LOG_WARN, "main", "cannot notify systemd (NOTIFY_SOCKET): %s",
		    strerror(errno));
	}
	wedged = wait_for_stop(srv, &sigs, &o);
	start_stop_deadline(wedged ? 1 : 0);
	coll_server_stop(srv);
	fl_log(FL_LOG_NOTICE, "main", "stopped");
	return wedged ? 1 : 0;
}
