// agent.h - the agent's two modes: one round printed (--once) and the daemon loop.
//
// main.c parses arguments and loads the config; these functions own everything after that.

#ifndef FL_AGENT_AGENT_H
#define FL_AGENT_AGENT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

// Runs one round and prints it to out: an aligned table (name kind target status failure
// latency detail), or with json the object {"host","release","agent_version",
// "expectations_error"?,"results":[...]}. Needs no collector. Returns the exit code: 0 when no
// probe failed (warn is not a failure), 1 when one did, 2 when the probes could not start.
int agent_once(const agent_config *cfg, bool json, FILE *out);

// Runs rounds every cfg->interval_ms and sends them to the collector until SIGTERM or SIGINT
// (exit code 0). SIGHUP reloads the file at path: a bad new config is logged and the old one
// kept (exit code 1 if not even the old one's report socket can be opened again). Takes
// ownership of cfg. log_level_override is the --log-level value, or -1.
int agent_run(const char *path, agent_config *cfg, int log_level_override);

#endif // FL_AGENT_AGENT_H
