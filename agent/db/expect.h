// expect.h - a release's expectations: what the deployed code needs from each database.
//
// An expectations file ships with each release (see README, "Release expectations"). It is
// INI: one section per database probe (`[postgres "orders"]`, `[mysql "legacy"]`), and
// repeated keys `schema`, `table`, `column`, `sequence`, `function`, each a requirement:
//
//   table    = public.orders: SELECT, INSERT
//   column   = public.orders.discount_code
//   function = public.place_order(integer): EXECUTE
//
// A malformed file is an error naming FILE:LINE, never "nothing required". Parsed
// expectations are immutable and may be shared by the probe threads of a round.

#ifndef FL_AGENT_EXPECT_H
#define FL_AGENT_EXPECT_H

#include <stddef.h>

#include "faultline.pb-c.h"

typedef struct agent_requirement {
	Fl__ObjectKind kind;
	char          *object; // "public.orders", "public.orders.discount_code", "public.f(int)"
	char         **privileges; // upper case, e.g. "SELECT"; may be empty (existence only)
	size_t         n_privileges;
	int            line; // where it was declared, for messages
} agent_requirement;

typedef struct agent_db_expect {
	char              *section_kind; // "postgres" | "mysql"
	char              *name;         // the probe's name
	agent_requirement *reqs;
	size_t             n_reqs;
} agent_db_expect;

typedef struct agent_expect {
	char *path;
	char  digest[32]; // "fnv1a64:" + 16 hex digits of the contents (change detection)
	agent_db_expect *dbs;
	size_t           n_dbs;
} agent_expect;

// Parses the file at path. On success *out is set and 0 returned; on failure -1 is returned,
// *out untouched, and err holds "FILE:LINE: message".
int agent_expect_load(const char *path, agent_expect **out, char *err, size_t errlen);

// Parses from memory (same rules); `name` is used in messages in place of a file name.
int agent_expect_parse(
    const char *name, const char *text, size_t len, agent_expect **out, char *err, size_t errlen);

void agent_expect_free(agent_expect *e); // accepts NULL

#define AGENT_EXPECT_DIGEST_LEN 32 // sizeof(agent_expect.digest)

// Writes "fnv1a64:%016llx" of the bytes into out: the digest of an expectations file, which is
// how agents and the collector tell two versions of a release's file apart.
void agent_expect_digest(const void *data, size_t len, char out[AGENT_EXPECT_DIGEST_LEN]);

// The requirements for one database probe, or NULL when the release names none for it.
const agent_db_expect *agent_expect_find(
    const agent_expect *e, const char *section_kind, const char *name);

#endif // FL_AGENT_EXPECT_H
