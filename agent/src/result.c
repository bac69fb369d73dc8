// result.c - agent_result helpers (see probe.h).

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fl/cfg.h"
#include "fl/str.h"
#include "fl/text.h"
#include "fl/unmet.h"
#include "probe.h"

void
agent_result_init(agent_result *res, const char *name, Fl__ProbeKind kind, const char *target)
{
	memset(res, 0, sizeof(*res));
	fl__probe_result__init(&res->pb);
	fl__timing__init(&res->timing);
	fl_str_copy_trunc(res->name, sizeof(res->name), name);
	fl_str_copy_trunc(res->target, sizeof(res->target), target);
	res->pb.name                = res->name;
	res->pb.target              = res->target;
	res->pb.detail              = res->detail;
	res->pb.role                = res->role;
	res->pb.sqlstate            = res->sqlstate;
	res->pb.expectations_digest = res->digest;
	res->pb.read_only_reason    = res->read_only_reason;
	res->pb.read_only_needs     = res->read_only_needs;
	res->pb.resolved_name       = res->resolved_name;
	res->pb.addresses           = res->addr_ptr;
	res->pb.kind                = kind;
	res->pb.status              = FL__STATUS__STATUS_UNKNOWN;
	res->pb.failure             = FL__FAILURE_CLASS__FAILURE_NONE;
	res->pb.timing              = &res->timing;
}

void
agent_result_set(
    agent_result *res, Fl__Status status, Fl__FailureClass failure, const char *fmt, ...)
{
	va_list ap;
	char    raw[sizeof(res->detail)];

	res->pb.status  = status;
	res->pb.failure = failure;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	// Details quote servers and drivers (a database's message in its own encoding): invalid
	// UTF-8 becomes U+FFFD, and they are kept to one line of printable text.
	fl_utf8_repair(res->detail, sizeof(res->detail), raw);
	for (char *p = res->detail; *p; p++) {
		if ((unsigned char) *p < 0x20 || *p == 0x7f) {
			*p = ' ';
		}
	}
}

int
agent_result_add_unmet(agent_result *res, const char *database, Fl__ObjectKind kind,
    const char *object, const char *privilege, int object_missing, const char *role)
{
	Fl__UnmetRequirement *u;

	if (res->pb.n_unmet >= FL_WIRE_MAX_UNMET) {
		return -1;
	}
	if (res->pb.n_unmet == res->unmet_cap) {
		size_t                 cap = res->unmet_cap ? res->unmet_cap * 2 : 8;
		Fl__UnmetRequirement **nv  = realloc(res->pb.unmet, cap * sizeof(*nv));
		if (nv == NULL) {
			return -1;
		}
		res->pb.unmet  = nv;
		res->unmet_cap = cap;
	}
	// Borrowed for the copy only.
	Fl__UnmetRequirement tmpl = FL__UNMET_REQUIREMENT__INIT;
	tmpl.kind                 = kind;
	tmpl.object_missing       = object_missing != 0;
	tmpl.database             = (char *) database;
	tmpl.object               = (char *) object;
	tmpl.privilege            = (char *) privilege;
	tmpl.role                 = (char *) role;
	if ((u = fl_unmet_dup(&tmpl)) == NULL) {
		return -1;
	}
	res->pb.unmet[res->pb.n_unmet++] = u;
	return 0;
}

void
agent_result_fini(agent_result *res)
{
	fl_unmet_free_all(&res->pb.unmet, &res->pb.n_unmet);
	res->unmet_cap = 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void
agent_result_set_addresses(agent_result *res, const char *name, const struct addrinfo *ai)
{
	size_t n = 0;
	fl_str_copy_trunc(res->resolved_name, sizeof(res->resolved_name), name);
	for (const struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
		char txt[FL_WIRE_MAX_ADDR];
		if (getnameinfo(a->ai_addr, a->ai_addrlen, txt, sizeof(txt), NULL, 0,
		        NI_NUMERICHOST) != 0) {
			continue;
		}
		size_t j = 0;
		while (j < n && strcmp(res->addr_buf[j], txt) != 0) {
			j++;
		}
		if (j < n || n == FL_WIRE_MAX_ADDRS) {
			continue; // a duplicate (one per socket type), or past the cap
		}
		fl_str_copy_trunc(res->addr_buf[n], sizeof(res->addr_buf[n]), txt);
		res->addr_ptr[n] = res->addr_buf[n];
		n++;
	}
	qsort(res->addr_ptr, n, sizeof(*res->addr_ptr), cmp_str);
	res->pb.n_addresses = n;
}
