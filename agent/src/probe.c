// probe.c - the table of probe kinds this build knows, and the loading of the database probe
// modules (see probe.h).

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#ifndef FL_AGENT_MODULE_DIR
#define FL_AGENT_MODULE_DIR "/usr/lib/faultline"
#endif

// A probe kind either built in (ops set) or in a module loaded on first use (file, symbol).
typedef struct probe_kind {
	const char            *section;
	const agent_probe_ops *ops;
	const char            *file;   // the module's file name, in the module directory
	const char            *symbol; // its agent_probe_ops
	const char            *client; // the client library's Debian package, for messages
} probe_kind;

static probe_kind probe_kinds[] = {
	{ "http", &agent_probe_http, NULL, NULL, NULL },
	{ "tcp", &agent_probe_tcp, NULL, NULL, NULL },
	{ "dns", &agent_probe_dns, NULL, NULL, NULL },
	{ "postgres", NULL, "faultline-agent-pgsql.so", "agent_probe_postgres", "libpq5" },
	{ "mysql", NULL, "faultline-agent-mysql.so", "agent_probe_mysql", "libmariadb3" },
};

static pthread_mutex_t module_mu = PTHREAD_MUTEX_INITIALIZER;

const char *
agent_module_dir(void)
{
	const char *env = getenv("FAULTLINE_AGENT_MODULE_DIR");

	return env != NULL && env[0] != '\0' ? env : FL_AGENT_MODULE_DIR;
}

// dlopen()s the module of k. Without FAULTLINE_AGENT_MODULE_DIR, the bare file name comes
// first, which the dynamic linker looks up in the binary's RUNPATH: a build tree's agent finds
// its own modules that way (CMake sets the RUNPATH there and strips it on install), not those
// of an installed package; an installed agent then finds them in FL_AGENT_MODULE_DIR. (Under
// ASan the interceptor is the caller and the RUNPATH is not used: the tests set the variable.)
static void *
module_open(const probe_kind *k, char *err, size_t errlen)
{
	char  path[512];
	void *h = NULL;

	if (getenv("FAULTLINE_AGENT_MODULE_DIR") == NULL) {
		h = dlopen(k->file, RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) {
		snprintf(path, sizeof(path), "%s/%s", agent_module_dir(), k->file);
		if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
			const char *why = dlerror();
			if (why == NULL) {
				why = "unknown error";
			}
			// The loader's message starts with the path when the file itself is at
			// fault.
			bool named = strncmp(why, path, strlen(path)) == 0;
			snprintf(err, errlen,
			    "%s probes need a module that cannot be loaded: %s%s%s (install the "
			    "faultline-agent package and %s, or set FAULTLINE_AGENT_MODULE_DIR)",
			    k->section, named ? "" : path, named ? "" : ": ", why, k->client);
		}
	}
	return h;
}

// Loads k's module once; its ops stay valid until the process exits (never dlclose()d).
static const agent_probe_ops *
module_ops(probe_kind *k, char *err, size_t errlen)
{
	pthread_mutex_lock(&module_mu);
	if (k->ops == NULL) {
		void *h = module_open(k, err, errlen);
		if (h != NULL) {
			k->ops = dlsym(h, k->symbol);
			if (k->ops == NULL) {
				snprintf(err, errlen, "%s probes: module %s has no %s: %s",
				    k->section, k->file, k->symbol, dlerror());
				dlclose(h);
			}
		}
	}
	const agent_probe_ops *ops = k->ops;
	pthread_mutex_unlock(&module_mu);
	return ops;
}

void
agent_probe_link(const char *section_kind, const agent_probe_ops *ops)
{
	pthread_mutex_lock(&module_mu);
	for (size_t i = 0; i < sizeof(probe_kinds) / sizeof(probe_kinds[0]); i++) {
		if (strcmp(probe_kinds[i].section, section_kind) == 0) {
			probe_kinds[i].ops = ops;
		}
	}
	pthread_mutex_unlock(&module_mu);
}

int
agent_probe_find(const char *section_kind, const agent_probe_ops **ops, char *err, size_t errlen)
{
	*ops = NULL;
	for (size_t i = 0; i < sizeof(probe_kinds) / sizeof(probe_kinds[0]); i++) {
		if (strcmp(probe_kinds[i].section, section_kind) == 0) {
			*ops = probe_kinds[i].file == NULL
			    ? probe_kinds[i].ops
			    : module_ops(&probe_kinds[i], err, errlen);
			return *ops != NULL ? 0 : -2;
		}
	}
	return -1;
}
