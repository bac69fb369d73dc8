// fuzz_expect.c - agent_expect_parse: a release's expectations file (agent/db/expect.c).
//
// The file ships with the application, so it is as trusted as the release, but a malformed one
// must give "FILE:LINE: message" and never crash the agent, and a parsed one must hold what the
// database probes assume: every requirement has an object, every privilege is non-empty upper
// case, and lookups find each parsed section.

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "expect.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_expect *e = NULL;
	char          err[512];
	char          digest[AGENT_EXPECT_DIGEST_LEN];

	if (agent_expect_parse("fuzz.ini", (const char *) data, size, &e, err, sizeof(err)) != 0) {
		FUZZ_CHECK(e == NULL);
		FUZZ_CHECK(strncmp(err, "fuzz.ini:", 9) == 0); // every error names the file
		return 0;
	}
	FUZZ_CHECK(e != NULL);
	agent_expect_digest(data, size, digest);
	FUZZ_CHECK(strcmp(digest, e->digest) == 0);
	for (size_t i = 0; i < e->n_dbs; i++) {
		const agent_db_expect *db = &e->dbs[i];
		FUZZ_CHECK(db->section_kind != NULL && db->name != NULL);
		FUZZ_CHECK(agent_expect_find(e, db->section_kind, db->name) != NULL);
		for (size_t k = 0; k < db->n_reqs; k++) {
			const agent_requirement *rq = &db->reqs[k];
			FUZZ_CHECK(rq->object != NULL && rq->object[0] != '\0');
			FUZZ_CHECK(rq->n_privileges == 0 || rq->privileges != NULL);
			for (size_t p = 0; p < rq->n_privileges; p++) {
				FUZZ_CHECK(rq->privileges[p][0] != '\0');
				for (const char *c = rq->privileges[p]; *c; c++) {
					FUZZ_CHECK(!islower((unsigned char) *c));
				}
			}
		}
	}
	agent_expect_free(e);
	return 0;
}
