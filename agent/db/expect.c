// expect.c - scaffolding; being written (issue 3).
#include "expect.h"

#include <stdio.h>

int
agent_expect_load(const char *path, agent_expect **out, char *err, size_t errlen)
{
	(void) out;
	snprintf(err, errlen, "%s:0: expectations not supported yet", path);
	return -1;
}

void
agent_expect_free(agent_expect *e)
{
	(void) e;
}
