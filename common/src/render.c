// render.c - see fl/render.h.

#include "fl/render.h"

#include <string.h>

#include "fl/labels.h"
#include "fl/names.h"
#include "fl/str.h"

static void
phase(fl_json *j, const char *key, uint32_t us)
{
	if (us != 0) {
		fl_json_key(j, key);
		fl_json_double(j, (double) us / 1000.0);
	}
}

// The database state fields, each only when the probe measured it.
static void
render_db_state_json(fl_json *j, const Fl__ProbeResult *r)
{
	if (r->read_only) {
		fl_json_kbool(j, "read_only", true);
		fl_json_kstr(j, "read_only_reason", fl_str_or_empty(r->read_only_reason));
		if (r->read_only_needs != NULL && r->read_only_needs[0] != '\0') {
			fl_json_kstr(j, "read_only_needs", r->read_only_needs);
		}
	}
	if (r->connections_limit != 0) {
		fl_json_kuint(j, "connections_in_use", r->connections_in_use);
		fl_json_kuint(j, "connections_limit", r->connections_limit);
	}
	if (r->replica) {
		fl_json_kbool(j, "replica", true);
		fl_json_key(j, "replication_lag_s");
		if (r->replication_lag_ms < 0) {
			fl_json_null(j);
		} else {
			fl_json_double(j, (double) r->replication_lag_ms / 1000.0);
		}
	}
}

void
fl_render_unmet_json(fl_json *j, const Fl__UnmetRequirement *u)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "database", fl_str_or_empty(u->database));
	fl_json_kstr(j, "kind", fl_object_kind_name(u->kind));
	fl_json_kstr(j, "object", fl_str_or_empty(u->object));
	fl_json_kstr(j, "privilege", fl_str_or_empty(u->privilege));
	fl_json_kbool(j, "object_missing", u->object_missing);
	fl_json_kstr(j, "role", fl_str_or_empty(u->role));
	fl_json_obj_end(j);
}

void
fl_render_probe_json(fl_json *j, const Fl__ProbeResult *r)
{
	const Fl__Timing *t = r->timing;

	fl_json_obj_begin(j);
	fl_json_kstr(j, "name", fl_str_or_empty(r->name));
	fl_json_kstr(j, "kind", fl_kind_name(r->kind));
	fl_json_kstr(j, "target", fl_str_or_empty(r->target));
	fl_json_kstr(j, "status", fl_status_name(r->status));
	fl_json_kstr(j, "failure", fl_failure_name(r->failure));
	fl_json_kstr(j, "detail", fl_str_or_empty(r->detail));
	fl_json_ktime(j, "started", r->started_us);
	fl_json_key(j, "latency_ms");
	fl_json_double(j, (double) r->duration_us / 1000.0);
	fl_json_key(j, "timing");
	fl_json_obj_begin(j);
	if (t != NULL) {
		phase(j, "dns_ms", t->dns_us);
		phase(j, "connect_ms", t->connect_us);
		phase(j, "tls_ms", t->tls_us);
		phase(j, "first_byte_ms", t->first_byte_us);
		phase(j, "auth_ms", t->auth_us);
		phase(j, "query_ms", t->query_us);
		phase(j, "check_ms", t->check_us);
		phase(j, "total_ms", t->total_us);
	}
	fl_json_obj_end(j);
	fl_json_kuint(j, "requirements_checked", r->requirements_checked);
	fl_json_key(j, "unmet");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_unmet; i++) {
		fl_render_unmet_json(j, r->unmet[i]);
	}
	fl_json_arr_end(j);
	if (r->role != NULL && r->role[0] != '\0') {
		fl_json_kstr(j, "role", r->role);
	}
	if (r->sqlstate != NULL && r->sqlstate[0] != '\0') {
		fl_json_kstr(j, "sqlstate", r->sqlstate);
	}
	if (r->error_code != 0) {
		fl_json_kint(j, "error_code", r->error_code);
	}
	render_db_state_json(j, r);
	if (r->cert_expires_us != 0) {
		fl_json_ktime(j, "cert_expires", r->cert_expires_us);
	}
	if (r->resolved_name != NULL && r->resolved_name[0] != '\0') {
		fl_json_kstr(j, "resolved_name", r->resolved_name);
		fl_json_key(j, "addresses");
		fl_json_arr_begin(j);
		for (size_t i = 0; i < r->n_addresses; i++) {
			fl_json_str(j, r->addresses[i]);
		}
		fl_json_arr_end(j);
	}
	if (r->in_progress_ms != 0) {
		fl_json_kuint(j, "in_progress_ms", r->in_progress_ms);
	}
	fl_json_obj_end(j);
}

void
fl_render_labels_json(fl_json *j, const char *const *labels, size_t n)
{
	fl_json_obj_begin(j);
	for (size_t i = 0; i < n; i++) {
		char        key[FL_LABEL_KEY_MAX + 1];
		const char *eq = strchr(labels[i], '=');
		size_t      k  = eq != NULL ? (size_t) (eq - labels[i]) : strlen(labels[i]);
		if (k >= sizeof(key)) {
			k = sizeof(key) - 1;
		}
		memcpy(key, labels[i], k);
		key[k] = '\0';
		fl_json_kstr(j, key, eq != NULL ? eq + 1 : "");
	}
	fl_json_obj_end(j);
}
