// probe.c - the table of probe kinds this build knows.

#include <string.h>

#include "probe.h"

static const agent_probe_ops *const probe_kinds[] = {
	&agent_probe_http,
	&agent_probe_tcp,
	&agent_probe_dns,
	&agent_probe_postgres,
	&agent_probe_mysql,
};

const agent_probe_ops *
agent_probe_lookup(const char *section_kind)
{
	for (size_t i = 0; i < sizeof(probe_kinds) / sizeof(probe_kinds[0]); i++) {
		if (strcmp(probe_kinds[i]->section, section_kind) == 0) {
			return probe_kinds[i];
		}
	}
	return NULL;
}
