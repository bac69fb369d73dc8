// dbprobe.c - runs one round of a database probe and prints the result as JSON (test driver).
//
//   dbprobe postgres|mysql NAME [--expect FILE] [--release ID] [KEY=VALUE ...]
//
// Each KEY=VALUE goes to the probe's set() as a config key would; then validate() and one
// run(). Output: {"result":{...fl_render_probe_json...},"digest":"..."} on stdout. Exit 0 when
// the result is ok or warn, 1 when it is fail, 2 on a config or expectations error (message on
// stderr). The bash tests in tests/db/ drive every failure class through it.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "fl/json.h"
#include "fl/render.h"
#include "probe.h"

int
main(int argc, char **argv)
{
	const agent_probe_ops *ops;
	agent_expect          *e       = NULL;
	const char            *release = "test";
	void                  *ctx;
	char                   err[512];
	agent_result           res;
	agent_round            round;
	fl_json                j;
	int                    i, rc;

	if (argc < 3) {
		fprintf(
		    stderr, "usage: dbprobe postgres|mysql NAME [--expect FILE] [KEY=VALUE ...]\n");
		return 2;
	}
	if (strcmp(argv[1], "postgres") == 0) {
		ops = &agent_probe_postgres;
	} else if (strcmp(argv[1], "mysql") == 0) {
		ops = &agent_probe_mysql;
	} else {
		fprintf(stderr, "dbprobe: unknown kind %s\n", argv[1]);
		return 2;
	}
	if ((ctx = ops->alloc(argv[2])) == NULL) {
		return 2;
	}
	for (i = 3; i < argc; i++) {
		char *eq;
		if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
			if (agent_expect_load(argv[++i], &e, err, sizeof(err)) != 0) {
				fprintf(stderr, "dbprobe: %s\n", err);
				ops->free(ctx);
				return 2;
			}
			continue;
		}
		if (strcmp(argv[i], "--release") == 0 && i + 1 < argc) {
			release = argv[++i];
			continue;
		}
		if ((eq = strchr(argv[i], '=')) == NULL) {
			fprintf(stderr, "dbprobe: expected KEY=VALUE, got %s\n", argv[i]);
			goto usage;
		}
		*eq = '\0';
		if (ops->set(ctx, argv[i], eq + 1, err, sizeof(err)) != 0) {
			fprintf(stderr, "dbprobe: config: %s: %s\n", argv[i], err);
			goto usage;
		}
	}
	if (ops->validate(ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "dbprobe: config: %s\n", err);
		goto usage;
	}
	round.release = release;
	round.expect  = e;
	agent_result_init(&res, argv[2], ops->kind, ops->target(ctx));
	ops->run(ctx, &round, &res);

	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_key(&j, "result");
	fl_render_probe_json(&j, &res.pb);
	fl_json_kstr(&j, "digest", res.digest);
	fl_json_kuint(&j, "timeout_ms", ops->timeout_ms(ctx));
	fl_json_obj_end(&j);
	printf("%s\n", fl_json_text(&j) != NULL ? fl_json_text(&j) : "{}");
	fl_json_fini(&j);
	rc = res.pb.status == FL__STATUS__STATUS_FAIL ? 1 : 0;
	agent_result_fini(&res);
	ops->free(ctx);
	agent_expect_free(e);
	return rc;
usage:
	ops->free(ctx);
	agent_expect_free(e);
	return 2;
}
