// names.c - see fl/names.h. Tables are indexed by the enum's wire value.

#include "fl/names.h"

#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const status_names[] = { "unknown", "ok", "warn", "fail" };

static const char *const kind_names[] = { "unknown", "http", "tcp", "dns", "postgres", "mysql" };

static const char *const failure_names[] = {
	[FL__FAILURE_CLASS__FAILURE_NONE]                        = "none",
	[FL__FAILURE_CLASS__FAILURE_DNS]                         = "dns",
	[FL__FAILURE_CLASS__FAILURE_REFUSED]                     = "refused",
	[FL__FAILURE_CLASS__FAILURE_TIMEOUT]                     = "timeout",
	[FL__FAILURE_CLASS__FAILURE_TLS]                         = "tls",
	[FL__FAILURE_CLASS__FAILURE_HTTP_5XX]                    = "http_5xx",
	[FL__FAILURE_CLASS__FAILURE_HTTP_4XX]                    = "http_4xx",
	[FL__FAILURE_CLASS__FAILURE_BODY_MISMATCH]               = "body_mismatch",
	[FL__FAILURE_CLASS__FAILURE_SLOW]                        = "slow",
	[FL__FAILURE_CLASS__FAILURE_UNREACHABLE]                 = "unreachable",
	[FL__FAILURE_CLASS__FAILURE_RESET]                       = "reset",
	[FL__FAILURE_CLASS__FAILURE_PROTOCOL]                    = "protocol",
	[FL__FAILURE_CLASS__FAILURE_HTTP_STATUS]                 = "http_status",
	[FL__FAILURE_CLASS__FAILURE_INTERNAL]                    = "internal",
	[FL__FAILURE_CLASS__FAILURE_AUTH_FAILED]                 = "auth_failed",
	[FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING]            = "database_missing",
	[FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS]        = "too_many_connections",
	[FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING] = "server_starting_or_stopping",
	[FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING]           = "privilege_missing",
	[FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING]              = "object_missing",
	[FL__FAILURE_CLASS__FAILURE_QUERY_ERROR]                 = "query_error",
	[FL__FAILURE_CLASS__FAILURE_EXPECTATIONS_INVALID]        = "expectations_invalid",
	[FL__FAILURE_CLASS__FAILURE_READ_ONLY]                   = "read_only",
	[FL__FAILURE_CLASS__FAILURE_SATURATED]                   = "saturated",
	[FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG]             = "replication_lag",
	[FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES]            = "out_of_resources",
	[FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING]               = "cert_expiring",
};

static const char *const verdict_names[] = { "unknown", "healthy", "code", "database", "network",
	"host" };

static const char *const object_names[] = { "unknown", "schema", "table", "column", "sequence",
	"function", "database" };

static const char *const history_kind_names[] = {
	[FL__HISTORY_KIND__HISTORY_KIND_UNKNOWN]      = "unknown",
	[FL__HISTORY_KIND__HISTORY_KIND_STATUS]       = "status",
	[FL__HISTORY_KIND__HISTORY_KIND_RELEASE]      = "release",
	[FL__HISTORY_KIND__HISTORY_KIND_STALE]        = "stale",
	[FL__HISTORY_KIND__HISTORY_KIND_BACK]         = "back",
	[FL__HISTORY_KIND__HISTORY_KIND_VERDICT]      = "verdict",
	[FL__HISTORY_KIND__HISTORY_KIND_VERIFICATION] = "verification",
	[FL__HISTORY_KIND__HISTORY_KIND_FORGOTTEN]    = "forgotten",
	[FL__HISTORY_KIND__HISTORY_KIND_DNS]          = "dns",
};

static const char *const verify_result_names[] = {
	[FL__VERIFY_RESULT__VERIFY_RESULT_UNKNOWN]    = "unknown",
	[FL__VERIFY_RESULT__VERIFY_RESULT_PASSED]     = "passed",
	[FL__VERIFY_RESULT__VERIFY_RESULT_FAILED]     = "failed",
	[FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED] = "unverified",
};

static const char *const verify_check_names[] = {
	[FL__VERIFY_CHECK__VERIFY_CHECK_UNKNOWN]      = "unknown",
	[FL__VERIFY_CHECK__VERIFY_CHECK_PROBE]        = "probe",
	[FL__VERIFY_CHECK__VERIFY_CHECK_EXPECTATIONS] = "expectations",
	[FL__VERIFY_CHECK__VERIFY_CHECK_RELEASE]      = "release",
	[FL__VERIFY_CHECK__VERIFY_CHECK_CANARY]       = "canary",
	[FL__VERIFY_CHECK__VERIFY_CHECK_ROLLBACK]     = "rollback",
	[FL__VERIFY_CHECK__VERIFY_CHECK_TIMEOUT]      = "timeout",
};

static const char *
lookup(const char *const *table, size_t n, int v)
{
	if (v < 0 || (size_t) v >= n || table[v] == NULL) {
		return "unknown";
	}
	return table[v];
}

static int
reverse(const char *const *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (table[i] != NULL && strcmp(table[i], name) == 0) {
			return (int) i;
		}
	}
	return -1;
}

const char *
fl_status_name(Fl__Status s)
{
	return lookup(status_names, N_ELEMS(status_names), (int) s);
}

const char *
fl_kind_name(Fl__ProbeKind k)
{
	return lookup(kind_names, N_ELEMS(kind_names), (int) k);
}

const char *
fl_failure_name(Fl__FailureClass f)
{
	return lookup(failure_names, N_ELEMS(failure_names), (int) f);
}

const char *
fl_verdict_name(Fl__Verdict v)
{
	return lookup(verdict_names, N_ELEMS(verdict_names), (int) v);
}

const char *
fl_object_kind_name(Fl__ObjectKind k)
{
	return lookup(object_names, N_ELEMS(object_names), (int) k);
}

int
fl_status_parse(const char *name)
{
	return reverse(status_names, N_ELEMS(status_names), name);
}

int
fl_failure_parse(const char *name)
{
	return reverse(failure_names, N_ELEMS(failure_names), name);
}

int
fl_verdict_parse(const char *name)
{
	return reverse(verdict_names, N_ELEMS(verdict_names), name);
}

int
fl_kind_parse(const char *name)
{
	return reverse(kind_names, N_ELEMS(kind_names), name);
}

const char *
fl_history_kind_name(Fl__HistoryKind k)
{
	return lookup(history_kind_names, N_ELEMS(history_kind_names), (int) k);
}

const char *
fl_verify_result_name(Fl__VerifyResult r)
{
	return lookup(verify_result_names, N_ELEMS(verify_result_names), (int) r);
}

const char *
fl_verify_check_name(Fl__VerifyCheck c)
{
	return lookup(verify_check_names, N_ELEMS(verify_check_names), (int) c);
}

int
fl_history_kind_parse(const char *name)
{
	return reverse(history_kind_names, N_ELEMS(history_kind_names), name);
}

int
fl_verify_result_parse(const char *name)
{
	return reverse(verify_result_names, N_ELEMS(verify_result_names), name);
}

int
fl_verify_check_parse(const char *name)
{
	return reverse(verify_check_names, N_ELEMS(verify_check_names), name);
}
