// labels.c - see fl/labels.h.

#include "fl/labels.h"
#include "fl/str.h"

#include <stdio.h>
#include <string.h>

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_key_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool
is_value_char(char c)
{
	return is_key_char(c) || c == ':' || c == '/' || c == '+';
}

int
fl_label_check(const char *label, char *why, size_t whylen)
{
	const char *eq = label != NULL ? strchr(label, '=') : NULL;
	size_t      klen, vlen;

	if (eq == NULL) {
		snprintf(why, whylen, "label \"%.80s\" is not KEY=VALUE", fl_str_or_empty(label));
		return -1;
	}
	klen = (size_t) (eq - label);
	vlen = strlen(eq + 1);
	if (klen == 0 || klen > FL_LABEL_KEY_MAX || !is_alpha(label[0])) {
		snprintf(why, whylen,
		    "label \"%.80s\": the key must be 1 to %d characters starting with a letter",
		    label, FL_LABEL_KEY_MAX);
		return -1;
	}
	for (size_t i = 0; i < klen; i++) {
		if (!is_key_char(label[i])) {
			snprintf(why, whylen,
			    "label \"%.80s\": the key may hold only letters, digits, '_', '.' and "
			    "'-'",
			    label);
			return -1;
		}
	}
	if (vlen == 0 || vlen > FL_LABEL_VALUE_MAX) {
		snprintf(why, whylen, "label \"%.80s\": the value must be 1 to %d characters",
		    label, FL_LABEL_VALUE_MAX);
		return -1;
	}
	for (size_t i = 0; i < vlen; i++) {
		if (!is_value_char(eq[1 + i])) {
			snprintf(why, whylen,
			    "label \"%.80s\": the value may hold only letters, digits and _ . : / "
			    "+ "
			    "-",
			    label);
			return -1;
		}
	}
	return 0;
}

// Length of the key of a checked label.
static size_t
key_len(const char *label)
{
	return (size_t) (strchr(label, '=') - label);
}

int
fl_labels_check(const char *const *labels, size_t n, char *why, size_t whylen)
{
	if (n > FL_LABELS_MAX) {
		snprintf(why, whylen, "%zu labels (at most %d)", n, FL_LABELS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (fl_label_check(labels[i], why, whylen) != 0) {
			return -1;
		}
		size_t k = key_len(labels[i]);
		for (size_t j = 0; j < i; j++) {
			if (key_len(labels[j]) == k && strncmp(labels[j], labels[i], k) == 0) {
				snprintf(why, whylen, "label key \"%.*s\" given twice", (int) k,
				    labels[i]);
				return -1;
			}
		}
	}
	return 0;
}

int
fl_labels_parse(
    const char *text, char out[][FL_LABEL_LEN], size_t max, size_t *n, char *why, size_t whylen)
{
	const char *p = text;
	const char *ptrs[FL_LABELS_MAX];

	*n = 0;
	while (*p != '\0') {
		const char *end;
		size_t      len;
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		end = strchr(p, ',');
		if (end == NULL) {
			end = p + strlen(p);
		}
		len = (size_t) (end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
			len--;
		}
		if (len == 0) {
			if (*end == '\0' && *n == 0 && p == end) {
				break; // an empty (or blank) text: no labels
			}
			snprintf(why, whylen, "empty label in \"%.80s\"", text);
			return -1;
		}
		if (*n == max || *n == FL_LABELS_MAX) {
			snprintf(why, whylen, "more than %zu labels",
			    max < FL_LABELS_MAX ? max : (size_t) FL_LABELS_MAX);
			return -1;
		}
		if (len >= FL_LABEL_LEN) {
			snprintf(why, whylen,
			    "label \"%.40s...\" is too long (key and value at most %d "
			    "characters each)",
			    p, FL_LABEL_KEY_MAX);
			return -1;
		}
		memcpy(out[*n], p, len);
		out[*n][len] = '\0';
		ptrs[*n]     = out[*n];
		(*n)++;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0') {
			snprintf(why, whylen, "empty label at the end of \"%.80s\"", text);
			return -1;
		}
	}
	return fl_labels_check(ptrs, *n, why, whylen);
}

bool
fl_labels_match(const char *const *have, size_t n_have, const char *const *want, size_t n_want)
{
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;
		for (size_t j = 0; j < n_have && !found; j++) {
			found = strcmp(have[j], want[i]) == 0;
		}
		if (!found) {
			return false;
		}
	}
	return true;
}
