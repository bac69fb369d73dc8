// notify_body.c - see notify_body.h.

#include "notify_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"

static void
str_array(fl_json *j, const char *key, char *const *v, size_t n)
{
	fl_json_key(j, key);
	fl_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		fl_json_str(j, v[i]);
	}
	fl_json_arr_end(j);
}

char *
notify_webhook_body(const char *id, const char *status, const Fl__Finding *f, int64_t ended_us)
{
	fl_json j;
	char   *out = NULL;

	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "id", id);
	fl_json_kstr(&j, "status", status);
	fl_json_kstr(&j, "verdict", fl_verdict_name(f->verdict));
	fl_json_kstr(&j, "summary", f->summary != NULL ? f->summary : "");
	str_array(&j, "hosts", f->hosts, f->n_hosts);
	str_array(&j, "targets", f->targets, f->n_targets);
	fl_json_kstr(&j, "release", f->release != NULL ? f->release : "");
	str_array(&j, "evidence", f->evidence, f->n_evidence);
	fl_json_ktime(&j, "since", f->since_us);
	fl_json_ktime(&j, "ended", ended_us);
	fl_json_obj_end(&j);
	const char *text = fl_json_text(&j);
	if (text != NULL) {
		out = strdup(text);
	}
	fl_json_fini(&j);
	return out;
}

void
notify_event_id(const char *id, int64_t fired_us, const char *status, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%lld-%s", id, (long long) (fired_us / 1000), status);
}
