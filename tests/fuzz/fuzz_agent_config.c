// fuzz_agent_config.c - agent_config_parse: the agent's INI config, with every probe kind's
// keys (agent/src/config.c and the probes' set/validate).
//
// Configs are written by the operator, not by the network, but a typo must give
// "FILE:LINE: message", never a crash or a half-loaded config. The database drivers, modules
// in the agent, are linked in here so that their keys are reached too.

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fl/log.h"
#include "fuzz_util.h"
#include "probe.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	agent_probe_link("postgres", &agent_probe_postgres);
	agent_probe_link("mysql", &agent_probe_mysql);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_config *cfg = NULL;
	static char   err[AGENT_CFG_ERRLEN];
	char         *text;

	fl_log_level = FL_LOG_ERR; // probes' warnings would flood the fuzzer's output
	if (size > 64 * 1024 || (text = malloc(size + 1)) == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0'; // the loader reads a C string, as agent_config_load() hands it

	if (agent_config_parse("fuzz.conf", text, &cfg, err, sizeof(err)) != 0) {
		FUZZ_CHECK(cfg == NULL);
		FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
	} else {
		FUZZ_CHECK(cfg != NULL);
		FUZZ_CHECK(cfg->n_probes <= AGENT_MAX_PROBES);
		FUZZ_CHECK(cfg->interval_ms > 0);
		for (size_t i = 0; i < cfg->n_probes; i++) {
			FUZZ_CHECK(cfg->probes[i].ops != NULL && cfg->probes[i].ctx != NULL);
		}
		(void) agent_config_max_timeout_ms(cfg);
		agent_config_free(cfg);
	}
	free(text);
	return 0;
}
