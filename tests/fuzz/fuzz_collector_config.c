// fuzz_collector_config.c - coll_config_load: the collector's INI config (collector/src/config.c).
//
// The loader only reads files, so each input is written to one temporary file that is rewritten
// in place for every run (unlinked at exit).

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[64];
static int  tmp_fd = -1;

static void
remove_tmp(void)
{
	unlink(tmp_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	coll_config cfg;
	char        err[1024];

	if (tmp_fd < 0) {
		snprintf(tmp_path, sizeof(tmp_path), "/tmp/fl-fuzz-collector-XXXXXX");
		FUZZ_CHECK((tmp_fd = mkstemp(tmp_path)) >= 0);
		atexit(remove_tmp);
	}
	FUZZ_CHECK(ftruncate(tmp_fd, 0) == 0);
	FUZZ_CHECK(pwrite(tmp_fd, data, size, 0) == (ssize_t) size);

	coll_config_defaults(&cfg);
	err[0] = '\0';
	if (coll_config_load(tmp_path, &cfg, err, sizeof(err)) != 0) {
		FUZZ_CHECK(strncmp(err, tmp_path, strlen(tmp_path)) == 0);
		return 0;
	}
	// Every field stays a terminated string within its buffer.
	FUZZ_CHECK(memchr(cfg.listen, '\0', sizeof(cfg.listen)) != NULL);
	FUZZ_CHECK(memchr(cfg.survey, '\0', sizeof(cfg.survey)) != NULL);
	FUZZ_CHECK(memchr(cfg.control, '\0', sizeof(cfg.control)) != NULL);
	FUZZ_CHECK(memchr(cfg.state, '\0', sizeof(cfg.state)) != NULL);
	return 0;
}
