// pgsql.c - scaffolding; being written (issue 3).
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static void *
alloc_(const char *name)
{
	return strdup(name);
}

static int
set_(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	(void) ctx;
	(void) key;
	(void) value;
	(void) err;
	(void) errlen;
	return 0;
}

static int
validate_(void *ctx, char *err, size_t errlen)
{
	(void) ctx;
	(void) err;
	(void) errlen;
	return 0;
}

static void
run_(void *ctx, const agent_round *round, agent_result *res)
{
	(void) ctx;
	(void) round;
	agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL, "not built yet");
}

static uint32_t
timeout_(const void *ctx)
{
	(void) ctx;
	return 3000;
}

static const char *
target_(const void *ctx)
{
	(void) ctx;
	return "";
}

const agent_probe_ops agent_probe_postgres = {
	.section    = "postgres",
	.kind       = FL__PROBE_KIND__KIND_POSTGRES,
	.alloc      = alloc_,
	.set        = set_,
	.validate   = validate_,
	.run        = run_,
	.timeout_ms = timeout_,
	.target     = target_,
	.free       = free,
};
