// unmet.c - see fl/unmet.h.

#include "fl/unmet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/str.h"

Fl__UnmetRequirement *
fl_unmet_dup(const Fl__UnmetRequirement *u)
{
	Fl__UnmetRequirement *c = malloc(sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	fl__unmet_requirement__init(c);
	c->kind           = u->kind;
	c->object_missing = u->object_missing;
	c->database       = fl_str_dup(u->database);
	c->object         = fl_str_dup(u->object);
	c->privilege      = fl_str_dup(u->privilege);
	c->role           = fl_str_dup(u->role);
	if (c->database == NULL || c->object == NULL || c->privilege == NULL || c->role == NULL) {
		fl_unmet_free(c);
		return NULL;
	}
	return c;
}

// Every string of a copy is NULL or from strdup, so plain free() is right; it is also what
// fl__unmet_requirement__free_unpacked(u, NULL) does with such a copy inside a larger message.
void
fl_unmet_free(Fl__UnmetRequirement *u)
{
	if (u == NULL) {
		return;
	}
	free(u->database);
	free(u->object);
	free(u->privilege);
	free(u->role);
	free(u);
}

int
fl_unmet_append(Fl__UnmetRequirement ***v, size_t *n, size_t max, const Fl__UnmetRequirement *u)
{
	if (*n >= max) {
		return -1;
	}
	Fl__UnmetRequirement *c = fl_unmet_dup(u);
	if (c == NULL) {
		return -1;
	}
	Fl__UnmetRequirement **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		fl_unmet_free(c);
		return -1;
	}
	nv[(*n)++] = c;
	*v         = nv;
	return 0;
}

void
fl_unmet_free_all(Fl__UnmetRequirement ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		fl_unmet_free((*v)[i]);
	}
	free(*v);
	*v = NULL;
	*n = 0;
}

char *
fl_unmet_phrase(const Fl__UnmetRequirement *u, fl_unmet_voice voice, char *buf, size_t len)
{
	const char *privilege = fl_str_or_empty(u->privilege);
	const char *role      = fl_str_or_empty(u->role);
	bool        lacking   = voice == FL_UNMET_LACKING;

	if (len == 0) {
		return buf;
	}
	if (u->object_missing || privilege[0] == '\0') {
		const char *kind = fl_object_kind_name(u->kind);
		if (strcmp(kind, "unknown") == 0) {
			kind = "object";
		}
		snprintf(buf, len, "%s %s%s", kind, fl_str_or_empty(u->object),
		    lacking ? " missing" : "");
	} else {
		snprintf(buf, len, "%s on %s%s%s%s", privilege, fl_str_or_empty(u->object),
		    lacking ? " revoked" : "", role[0] ? " for role " : "", role);
	}
	return buf;
}
