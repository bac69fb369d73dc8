// names.h - the stable text names of wire enums.
//
// These strings appear in --json output, in history rows and in config files, so they are
// a public contract: never rename one. Unknown values map to "unknown".

#ifndef FL_NAMES_H
#define FL_NAMES_H

#include "faultline.pb-c.h"

const char *fl_status_name(Fl__Status s);              // ok | warn | fail | unknown
const char *fl_kind_name(Fl__ProbeKind k);             // http | tcp | dns | postgres | mysql
const char *fl_failure_name(Fl__FailureClass f);       // none | dns | refused | timeout | ...
const char *fl_verdict_name(Fl__Verdict v);            // healthy | code | database | network | host
const char *fl_object_kind_name(Fl__ObjectKind k);     // schema | table | column | ...
const char *fl_history_kind_name(Fl__HistoryKind k);   // status | release | stale | dns | ...
const char *fl_verify_result_name(Fl__VerifyResult r); // passed | failed | unverified
const char *fl_verify_check_name(Fl__VerifyCheck c);   // probe | expectations | release | ...

// Reverse lookups; return -1 when the name is unknown.
int fl_status_parse(const char *name);
int fl_failure_parse(const char *name);
int fl_verdict_parse(const char *name);
int fl_kind_parse(const char *name);
int fl_history_kind_parse(const char *name);
int fl_verify_result_parse(const char *name);
int fl_verify_check_parse(const char *name);

#endif // FL_NAMES_H
