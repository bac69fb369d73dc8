// role.c - see role.h.

#include "role.h"

void
coll_role_init(coll_role_machine *m, bool leased, int64_t now_us)
{
	m->role            = leased ? COLL_ROLE_STANDBY : COLL_ROLE_SINGLE;
	m->since_us        = now_us;
	m->epoch           = 0;
	m->next_refresh_us = now_us;
}

static void
become(coll_role_machine *m, coll_role r, int64_t now_us)
{
	m->role     = r;
	m->since_us = now_us;
	if (r == COLL_ROLE_STANDBY) {
		m->epoch           = 0;
		m->next_refresh_us = now_us; // the state the new active writes, at once
	}
}

static coll_role_action
standby_tick(coll_role_machine *m, const coll_lease_view *v, int64_t now_us)
{
	if (v->held && v->epoch > 0) {
		become(m, COLL_ROLE_ACTIVE, now_us);
		m->epoch = v->epoch;
		return COLL_ROLE_TAKE_OVER;
	}
	if (now_us >= m->next_refresh_us) {
		m->next_refresh_us = now_us + COLL_ROLE_REFRESH_US;
		return COLL_ROLE_REFRESH;
	}
	return COLL_ROLE_NOTHING;
}

coll_role_action
coll_role_tick(coll_role_machine *m, const coll_lease_view *v, int64_t now_us)
{
	switch (m->role) {
	case COLL_ROLE_SINGLE:
		return COLL_ROLE_NOTHING;
	case COLL_ROLE_STANDBY:
		return standby_tick(m, v, now_us);
	case COLL_ROLE_ACTIVE:
		// Another epoch means the lease was lost and taken again in between: whatever
		// this collector did under the old one is fenced off, so it starts over.
		if (!v->held || v->epoch != m->epoch) {
			become(m, COLL_ROLE_STANDBY, now_us);
			return COLL_ROLE_STEP_DOWN;
		}
		return COLL_ROLE_NOTHING;
	}
	return COLL_ROLE_NOTHING;
}

void
coll_role_refreshed(coll_role_machine *m, int64_t took_us, int64_t now_us)
{
	int64_t gap = 10 * took_us > COLL_ROLE_REFRESH_US ? 10 * took_us : COLL_ROLE_REFRESH_US;
	if (m->role == COLL_ROLE_STANDBY) {
		m->next_refresh_us = now_us + gap;
	}
}

void
coll_role_take_over_failed(coll_role_machine *m, int64_t now_us)
{
	if (m->role == COLL_ROLE_ACTIVE) {
		become(m, COLL_ROLE_STANDBY, now_us);
	}
}

const char *
coll_role_name(coll_role r)
{
	switch (r) {
	case COLL_ROLE_SINGLE:
		return "single";
	case COLL_ROLE_STANDBY:
		return "standby";
	case COLL_ROLE_ACTIVE:
		return "active";
	}
	return "single";
}
