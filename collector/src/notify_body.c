// notify_body.c - see notify_body.h.

#include "notify_body.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"

const char *
notify_verdict_label(const Fl__Finding *f)
{
	return f->verdict == FL__VERDICT__VERDICT_UNKNOWN ? "verification"
	                                                  : fl_verdict_name(f->verdict);
}

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
	fl_json_kstr(&j, "verdict", notify_verdict_label(f));
	fl_json_kstr(&j, "summary", fl_str_or_empty(f->summary));
	str_array(&j, "hosts", f->hosts, f->n_hosts);
	str_array(&j, "targets", f->targets, f->n_targets);
	fl_json_kstr(&j, "release", fl_str_or_empty(f->release));
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

// "a, b, c" into a malloc'd string ("" for none).
static char *
joined(char *const *v, size_t n, const char *sep)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++) {
		len += strlen(v[i]) + strlen(sep);
	}
	char *out = malloc(len);
	if (out == NULL) {
		return NULL;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			strcat(out, sep);
		}
		strcat(out, v[i]);
	}
	return out;
}

// The description annotation: hosts, then one evidence line each.
static char *
description(const Fl__Finding *f)
{
	char  *hosts = joined(f->hosts, f->n_hosts, ", ");
	char  *ev    = joined(f->evidence, f->n_evidence, "\n- ");
	char  *out   = NULL;
	size_t len;
	if (hosts != NULL && ev != NULL) {
		len = strlen(hosts) + strlen(ev) + 32;
		if ((out = malloc(len)) != NULL) {
			snprintf(
			    out, len, "hosts: %s%s%s", hosts, f->n_evidence > 0 ? "\n- " : "", ev);
		}
	}
	free(hosts);
	free(ev);
	return out;
}

char *
notify_am_body(const char *id, const char *status, const Fl__Finding *f, int64_t ended_us)
{
	fl_json j;
	char   *out = NULL, *targets = joined(f->targets, f->n_targets, ", ");
	char   *desc     = description(f);
	bool    resolved = strcmp(status, "resolved") == 0;
	char    since[40];

	if (targets == NULL || desc == NULL) {
		free(targets);
		free(desc);
		return NULL;
	}
	fl_json_init(&j, false);
	fl_json_arr_begin(&j);
	fl_json_obj_begin(&j);
	fl_json_key(&j, "labels");
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "alertname", "Faultline");
	fl_json_kstr(&j, "verdict", notify_verdict_label(f));
	fl_json_kstr(
	    &j, "severity", f->verdict == FL__VERDICT__VERDICT_HOST ? "warning" : "critical");
	if (targets[0] != '\0') {
		fl_json_kstr(&j, "target", targets);
	}
	if (f->release != NULL && f->release[0] != '\0') {
		fl_json_kstr(&j, "release", f->release);
	}
	fl_json_kstr(&j, "finding", id);
	fl_json_obj_end(&j);
	fl_json_key(&j, "annotations");
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "summary", fl_str_or_empty(f->summary));
	fl_json_kstr(&j, "description", desc);
	fl_json_kstr(&j, "since", fl_time_format(f->since_us, since, sizeof(since)));
	fl_json_obj_end(&j);
	fl_json_ktime(&j, "startsAt", f->since_us);
	if (resolved) {
		fl_json_ktime(&j, "endsAt", ended_us);
	}
	fl_json_obj_end(&j);
	fl_json_arr_end(&j);
	const char *text = fl_json_text(&j);
	if (text != NULL && (out = malloc(strlen(text) + sizeof(NOTIFY_AM_ENDS_AT) + 2)) != NULL) {
		strcpy(out, text);
		if (!resolved) {
			// Into the alert object: before its closing "}]".
			size_t n = strlen(out);
			snprintf(
			    out + n - 2, sizeof(NOTIFY_AM_ENDS_AT) + 4, ",%s}]", NOTIFY_AM_ENDS_AT);
		}
	}
	fl_json_fini(&j);
	free(targets);
	free(desc);
	return out;
}

char *
notify_am_set_ends_at(const char *body, int64_t ends_us)
{
	const char *at = strstr(body, NOTIFY_AM_ENDS_AT);
	char        when[40], field[64];
	if (at == NULL) {
		return strdup(body);
	}
	snprintf(
	    field, sizeof(field), "\"endsAt\":\"%s\"", fl_time_format(ends_us, when, sizeof(when)));
	size_t len = strlen(body) - strlen(NOTIFY_AM_ENDS_AT) + strlen(field) + 1;
	char  *out = malloc(len);
	if (out == NULL) {
		return NULL;
	}
	snprintf(
	    out, len, "%.*s%s%s", (int) (at - body), body, field, at + strlen(NOTIFY_AM_ENDS_AT));
	return out;
}
