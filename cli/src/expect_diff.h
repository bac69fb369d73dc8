// expect_diff.h - what one release's expectations file adds to and drops from another's.
//
// Both files are parsed by the agent's own parser (expect.h). A requirement is identified by
// its database section ([postgres "orders"]), its kind (table, column, ...) and its object
// name; its privileges are compared one by one. Lines naming the same object twice are merged
// first, and a requirement with privileges also requires its object to exist, so
//   - an object NEW names and OLD does not is "added" with NEW's privileges;
//   - privileges on an object both name that only NEW lists are "added";
//   - an object OLD names and NEW does not is "dropped" with OLD's privileges (or none: OLD
//     only needed it to exist);
//   - privileges on an object both name that only OLD lists are "dropped".
// Whatever is dropped is a rollback risk: NEW's migration may remove it (revoke the grant,
// drop the column), and OLD, rolled back to, still needs it.

#ifndef CLI_EXPECT_DIFF_H
#define CLI_EXPECT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "expect.h"
#include "faultline.pb-c.h"

#define CLI_DIFF_PRIVS_LEN 160 // "SELECT, INSERT, ..." (every privilege of one kind fits)

typedef struct cli_expect_change {
	bool           added;        // false: dropped
	const char    *section_kind; // "postgres" | "mysql" (borrowed from the parsed file)
	const char    *probe;        // the section's probe name (borrowed)
	Fl__ObjectKind kind;
	const char    *object; // borrowed
	bool           whole;  // the object itself is added or dropped, not only privileges
	char           privileges[CLI_DIFF_PRIVS_LEN]; // "SELECT, INSERT"; "" when none
} cli_expect_change;

// Compares old and new. On success returns 0 and *out is a heap array of *n changes (the
// caller frees it; it borrows strings from old and new, which must outlive it), ordered by
// section as each file lists them, OLD's sections first, drops before adds within a section.
// Returns -1 when out of memory.
int cli_expect_diff(
    const agent_expect *old_e, const agent_expect *new_e, cli_expect_change **out, size_t *n);

// The human form: one block per section, "+ " for added and "- " for dropped lines, and a
// summary that names the rollback risk. Returns the exit code: 0 nothing dropped, 1 something
// dropped (a rollback risk).
int cli_expect_diff_print(const cli_expect_change *c, size_t n, const char *old_path,
    const char *new_path, FILE *out, bool colour);

// {"old","new","added":[...],"dropped":[...],"rollback_risk"}, each change
// {"section","probe","kind","object","whole","privileges":[...]}. Returns the exit code as
// cli_expect_diff_print, or 2 when the JSON cannot be written.
int cli_expect_diff_json(const cli_expect_change *c, size_t n, const char *old_path,
    const char *new_path, FILE *out, bool pretty);

#endif // CLI_EXPECT_DIFF_H
