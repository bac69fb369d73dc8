// main.c - faultline-agent: command line parsing; everything else is in fl_agent_core.

#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "expect.h"
#include "fl/log.h"
#include "fl/version.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: faultline-agent [-c FILE] [--once [--json]] [--check-config] [--log-level L]\n"
	    "       faultline-agent [-c FILE] --capture-expectations PROBE [--schema S]...\n"
	    "\n"
	    "Probes this host's application (HTTP, TCP), DNS and databases every interval and\n"
	    "pushes each round's results to the Faultline collector.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE   config file (default " AGENT_DEFAULT_CONFIG ")\n"
	    "      --once          run one round, print it and exit; needs no collector\n"
	    "      --json          with --once: print the round as one JSON object\n"
	    "      --check-config  validate the config (and its expectations file), print\n"
	    "                      \"FILE: ok\" or every error as FILE:LINE: message, exit\n"
	    "      --allow-empty   accept a config with no probe section (refused otherwise,\n"
	    "                      unless it sets allow_empty = yes)\n"
	    "      --log-level L   err, warn, notice, info or debug (overrides the config)\n"
	    "      --capture-expectations PROBE\n"
	    "                      connect like the database probe PROBE and print, as an\n"
	    "                      expectations file, what its role can use today (what\n"
	    "                      `faultline expect capture` runs); needs no collector\n"
	    "      --schema S      with --capture-expectations: read schema (MySQL: database) S;\n"
	    "                      repeatable (default: every one the role can use)\n"
	    "  -h, --help          show this help\n"
	    "  -V, --version       show the version\n"
	    "\n"
	    "Config (INI): an [agent] section (name, collector, survey, interval, release_file,\n"
	    "expectations, state_dir, log_level, log_format, spool_size, spool_file_max,\n"
	    "allow_empty, and the security keys below) and one section per probe; collector and\n"
	    "survey take a comma-separated list (an active/standby pair); `include = DIR/*.conf`\n"
	    "before the first section reads probe files (sorted):\n"
	    "  [http \"app\"]   url, expect_status (200 or 200-299), body_contains, timeout (2s),\n"
	    "                 slow, tls_verify (yes), ca_file, header (repeatable)\n"
	    "  [tcp \"cache\"]  address (host:port), timeout (1s), slow\n"
	    "  [dns \"db\"]     name, expect (an address that must be among the answers),\n"
	    "                 timeout (1s), slow\n"
	    "  [postgres \"x\"], [mysql \"x\"]  see the README\n"
	    "Durations: 500ms, 5s, 1m. Errors are reported as FILE:LINE: message.\n"
	    "\n"
	    "Security ([agent] keys; see the README's Security section):\n"
	    "  tls_ca, tls_cert, tls_key   PEM CA, this agent's client certificate and its key\n"
	    "                  (key 0600; tls_key may be omitted when the key is in tls_cert);\n"
	    "                  required when collector or survey is a tls+tcp:// address\n"
	    "  tls_server_name a DNS name in the collector certificate's subjectAltName (required\n"
	    "                  with TLS; checked against the certificate the collector presents)\n"
	    "  sign_key        this host's EC P-256 private key (PEM, must not be readable by\n"
	    "                  group or others): every report and survey answer is signed with\n"
	    "                  it, and a collector with keys_dir accepts only signed reports\n"
	    "  labels          env=prod, service=orders: sent with every report; the CLI's\n"
	    "                  --label KEY=VALUE filters (and correlates) on them\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config (a bad new config is\n"
	    "logged and the running one kept).\n"
	    "\n"
	    "Exit status: 0 ok; 1 a probe failed (--once) or the database could not be read\n"
	    "(--capture-expectations); 2 usage or config error.\n");
}

#define MAX_CAPTURE_SCHEMAS 64

// --capture-expectations: the named database probe writes what its role can use to stdout.
// Returns the exit status (0 written, 1 the database could not be read, 2 no such probe).
static int
capture_expectations(
    const agent_config *cfg, const char *name, const char *const *schemas, size_t n_schemas)
{
	char err[512];

	for (size_t i = 0; i < cfg->n_probes; i++) {
		const agent_probe_cfg *pc = &cfg->probes[i];
		if (strcmp(pc->name, name) != 0) {
			continue;
		}
		if (pc->ops->capture == NULL) {
			fprintf(stderr,
			    "faultline-agent: probe %s is a %s probe: only postgres and mysql "
			    "probes have expectations\n",
			    name, pc->ops->section);
			return 2;
		}
		if (pc->ops->capture(pc->ctx, schemas, n_schemas, stdout, err, sizeof(err)) != 0) {
			fprintf(stderr, "faultline-agent: probe %s: %s\n", name, err);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "faultline-agent: %s: no probe named %s\n", cfg->path, name);
	return 2;
}

// --check-config: the expectations file the config names is read and checked the way the rounds
// will read it, so a typo in a release's file fails the deploy step rather than a later round.
// A missing file is an error here (at run time it is reported in every round instead).
static int
check_expectations(const agent_config *cfg)
{
	agent_expect *e;
	char          err[AGENT_CFG_ERRLEN];

	if (cfg->expectations[0] == '\0') {
		return 0;
	}
	if (agent_expect_load(cfg->expectations, &e, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	agent_expect_free(e);
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		OPT_ONCE = 256,
		OPT_JSON,
		OPT_CHECK,
		OPT_LOGLEVEL,
		OPT_ALLOW_EMPTY,
		OPT_CAPTURE,
		OPT_SCHEMA
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY },
		{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
		{ "capture-expectations", required_argument, NULL, OPT_CAPTURE },
		{ "schema", required_argument, NULL, OPT_SCHEMA },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char   *path = AGENT_DEFAULT_CONFIG;
	bool          once = false, json = false, check = false, allow_empty = false;
	int           level     = -1, c, rc;
	const char   *capture   = NULL, *schemas[MAX_CAPTURE_SCHEMAS];
	size_t        n_schemas = 0;
	agent_config *cfg;
	char          err[AGENT_CFG_ERRLEN];

	fl_log_init("faultline-agent");
	// One malloc arena for all threads: probe threads allocate little and rarely, and a
	// per-thread arena each would cost ~40 KiB of resident memory per probe.
	mallopt(M_ARENA_MAX, 1);
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case OPT_ONCE:
			once = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_ALLOW_EMPTY:
			allow_empty = true;
			break;
		case OPT_CAPTURE:
			capture = optarg;
			break;
		case OPT_SCHEMA:
			if (n_schemas == MAX_CAPTURE_SCHEMAS) {
				fprintf(stderr, "faultline-agent: at most %d --schema\n",
				    MAX_CAPTURE_SCHEMAS);
				return 2;
			}
			schemas[n_schemas++] = optarg;
			break;
		case OPT_LOGLEVEL:
			if ((level = fl_log_level_parse(optarg)) < 0) {
				fprintf(stderr,
				    "faultline-agent: bad --log-level %s (err, warn, notice, info, "
				    "debug)\n",
				    optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("faultline-agent %s\n", FL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "faultline-agent: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (json && !once) {
		fprintf(stderr, "faultline-agent: --json needs --once\n");
		return 2;
	}
	if (n_schemas > 0 && capture == NULL) {
		fprintf(stderr, "faultline-agent: --schema needs --capture-expectations\n");
		return 2;
	}
	if (capture != NULL && (once || check)) {
		fprintf(stderr,
		    "faultline-agent: --capture-expectations goes alone (not with --once or "
		    "--check-config)\n");
		return 2;
	}
	if (agent_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	cfg->allow_empty_flag = allow_empty;
	if (capture != NULL) {
		fl_log_level = level >= 0 ? level : FL_LOG_WARN;
		rc           = capture_expectations(cfg, capture, schemas, n_schemas);
		agent_config_free(cfg);
		return rc;
	}
	if (agent_config_check_probes(cfg, allow_empty, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		agent_config_free(cfg);
		return 2;
	}
	if (check) {
		rc = check_expectations(cfg) == 0 ? 0 : 2;
		if (rc == 0) {
			printf("%s: ok\n", path);
		}
		agent_config_free(cfg);
		return rc;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "faultline-agent: cannot initialise libcurl\n");
		agent_config_free(cfg);
		return 2;
	}
	if (once) {
		fl_log_level = level >= 0 ? level
		    : cfg->log_level >= 0 ? cfg->log_level
		                          : FL_LOG_WARN;
		fl_log_set_json(cfg->log_json);
		rc = agent_once(cfg, json, stdout);
		agent_config_free(cfg);
	} else {
		rc = agent_run(path, cfg, level);
	}
	curl_global_cleanup();
	return rc;
}
