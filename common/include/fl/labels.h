// labels.h - host labels ("env=prod"): the one set of rules shared by the agent's config, the
// wire decoder, the collector's filters and the CLI's --label.
//
// A label is "key=value". key: 1 to FL_LABEL_KEY_MAX characters of [A-Za-z0-9_.-], starting
// with a letter. value: 1 to FL_LABEL_VALUE_MAX characters of [A-Za-z0-9_.:/+-]. Neither may
// contain '=', ',' or spaces, so "k=v" strings can be joined with ',' and split back. A host
// carries at most FL_LABELS_MAX labels, no key twice.
//
// A filter is a list of labels too: a host matches when it carries every one of them (AND);
// an empty filter matches every host.

#ifndef FL_LABELS_H
#define FL_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#define FL_LABELS_MAX      16
#define FL_LABEL_KEY_MAX   63
#define FL_LABEL_VALUE_MAX 63
#define FL_LABEL_LEN       (FL_LABEL_KEY_MAX + 1 + FL_LABEL_VALUE_MAX + 1) // with the NUL

// Checks one "key=value". Returns 0, or -1 with a one-line reason in why.
int fl_label_check(const char *label, char *why, size_t whylen);

// Checks a host's (or a filter's) list: each label valid, at most FL_LABELS_MAX, no key
// twice. Returns 0, or -1 with a reason in why.
int fl_labels_check(const char *const *labels, size_t n, char *why, size_t whylen);

// Parses the agent's `labels = env=prod, service=orders` (comma-separated, spaces around
// items ignored; an empty text is no labels) into out[0..*n). Returns 0, or -1 with a reason
// in why (out and *n then undefined).
int fl_labels_parse(
    const char *text, char out[][FL_LABEL_LEN], size_t max, size_t *n, char *why, size_t whylen);

// True when have[] holds every label of want[] (an empty want matches everything).
bool fl_labels_match(
    const char *const *have, size_t n_have, const char *const *want, size_t n_want);

#endif // FL_LABELS_H
