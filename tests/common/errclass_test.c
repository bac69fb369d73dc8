// errclass_test.c - the errno -> failure class table every probe kind shares.

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fl/errclass.h"
#include "fl/names.h"

static void
test_errno_classes(void **state)
{
	(void) state;
	static const struct {
		int e;
		const char *class;
	} cases[] = {
		{ ECONNREFUSED, "refused" },
		{ ENOENT, "refused" }, // no Unix socket file
		{ ETIMEDOUT, "timeout" },
		{ ENETUNREACH, "unreachable" },
		{ EHOSTUNREACH, "unreachable" },
		{ ENETDOWN, "unreachable" },
		{ EHOSTDOWN, "unreachable" },
		{ EADDRNOTAVAIL, "unreachable" },
		{ EACCES, "unreachable" }, // a local firewall rule
		{ EPERM, "unreachable" },
		{ ECONNRESET, "reset" },
		{ ECONNABORTED, "reset" },
		{ EPIPE, "reset" },
		{ EMFILE, "internal" },
		{ ENFILE, "internal" },
		{ ENOBUFS, "internal" },
		{ ENOMEM, "internal" },
		// Not listed, or not known: the connection could not be made, a path problem. Never
		// "protocol" or "refused", which say the server answered.
		{ 0, "unreachable" },
		{ EPROTO, "unreachable" },
		{ EINVAL, "unreachable" },
		{ -1, "unreachable" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = fl_failure_name(fl_failure_of_errno(cases[i].e));
		if (strcmp(got, cases[i].class) != 0) {
			fail_msg("errno %d (%s): %s, want %s", cases[i].e, strerror(cases[i].e),
			    got, cases[i].class);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
