// sign_test.c - per-host report signatures (fl/sign.h): a report is accepted only with the
// signature of the host it names, untouched, from a key registered in the keys directory.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fl/sign.h"
#include "fl/wire.h"

static char pki[64];  // private keys (host-a.key, host-b.key)
static char keys[80]; // the collector's keys_dir: host-a.pub, host-b.pub

static const char *
path(const char *dir, const char *name)
{
	static char buf[8][256];
	static int  i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

// Where needle first occurs in hay, or NULL (memmem is a GNU extension).
static uint8_t *
find(uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++) {
		if (memcmp(hay + i, needle, k) == 0) {
			return hay + i;
		}
	}
	return NULL;
}

static int
setup(void **state)
{
	char cmd[512];
	(void) state;
	snprintf(pki, sizeof(pki), "/tmp/fl-sign-test-XXXXXX");
	if (mkdtemp(pki) == NULL) {
		return -1;
	}
	snprintf(keys, sizeof(keys), "%s/keys", pki);
	snprintf(cmd, sizeof(cmd),
	    "bash %s/gen_certs.sh %s && mkdir %s && cp %s/host-a.pub %s/host-b.pub %s/",
	    FL_SECURITY_DIR, pki, keys, pki, pki, keys);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make test keys (needs openssl): %s\n", cmd);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	return system(cmd) == 0 ? 0 : -1;
}

// A valid one-result report from `host`.
typedef struct report {
	Fl__Report       r;
	Fl__ProbeResult  p;
	Fl__ProbeResult *ps[1];
	char             host[64];
	char             name[8];
	char             release[16];
} report;

static void
make_report(report *m, const char *host)
{
	fl__report__init(&m->r);
	fl__probe_result__init(&m->p);
	snprintf(m->host, sizeof(m->host), "%s", host);
	snprintf(m->name, sizeof(m->name), "app");
	snprintf(m->release, sizeof(m->release), "1.4.2");
	m->p.name           = m->name;
	m->p.status         = FL__STATUS__STATUS_OK;
	m->ps[0]            = &m->p;
	m->r.schema_version = FL_SCHEMA_VERSION;
	m->r.host           = m->host;
	m->r.release        = m->release;
	m->r.interval_ms    = 1000;
	m->r.seq            = 9;
	m->r.n_results      = 1;
	m->r.results        = m->ps;
}

static fl_sign_key *
load_key(const char *name)
{
	fl_sign_key *k        = NULL;
	char         err[256] = "";
	int          rv       = fl_sign_key_load(path(pki, name), &k, err, sizeof(err));
	if (rv != 0) {
		fail_msg("fl_sign_key_load(%s): %s", name, err);
	}
	return k;
}

// Signs a report claiming `host` with `key_name`, as `key_id`, and verifies it.
static fl_sign_status
sign_and_verify(
    const char *key_name, const char *key_id, const char *host, Fl__Report **out, char *why)
{
	fl_sign_key   *k = load_key(key_name);
	fl_keyring    *kr;
	nng_msg       *msg;
	report         m;
	fl_wire_reject wire;
	char           err[256];

	make_report(&m, host);
	assert_int_equal(fl_keyring_open(keys, &kr, err, sizeof(err)), 0);
	assert_int_equal(fl_sign_report(k, key_id, &m.r, &msg), 0);
	fl_sign_status st =
	    fl_sign_verify_report(kr, nng_msg_body(msg), nng_msg_len(msg), out, &wire, why, 256);
	assert_int_equal(wire, FL_WIRE_OK);
	nng_msg_free(msg);
	fl_keyring_free(kr);
	fl_sign_key_free(k);
	return st;
}

static void
test_valid_signature_accepted(void **state)
{
	Fl__Report *r        = NULL;
	char        why[256] = "";
	(void) state;

	assert_int_equal(sign_and_verify("host-a.key", "host-a", "host-a", &r, why), FL_SIGN_OK);
	assert_non_null(r);
	assert_string_equal(r->host, "host-a");
	assert_string_equal(r->release, "1.4.2");
	assert_int_equal(r->seq, 9);
	fl__report__free_unpacked(r, NULL);

	assert_int_equal(sign_and_verify("host-b.key", "host-b", "host-b", &r, why), FL_SIGN_OK);
	fl__report__free_unpacked(r, NULL);
}

static void
test_host_a_cannot_speak_for_host_b(void **state)
{
	Fl__Report *r        = NULL;
	char        why[256] = "";
	(void) state;

	// A's key, claiming to be B in both the report and the key id: B's key does not verify it.
	assert_int_equal(
	    sign_and_verify("host-a.key", "host-b", "host-b", &r, why), FL_SIGN_BAD_SIGNATURE);
	assert_null(r);
	assert_non_null(strstr(why, "host-b"));

	// A's key and key id, but a report naming B: the key id must be the report's host.
	assert_int_equal(
	    sign_and_verify("host-a.key", "host-a", "host-b", &r, why), FL_SIGN_BAD_HOST);
	assert_null(r);
}

static void
test_tampered_bytes_rejected(void **state)
{
	fl_sign_key   *k = load_key("host-a.key");
	fl_keyring    *kr;
	nng_msg       *msg, *msg2;
	Fl__Envelope  *env;
	Fl__Report    *r = NULL;
	report         m;
	fl_wire_reject wire;
	char           why[256] = "", err[256];
	(void) state;

	make_report(&m, "host-a");
	assert_int_equal(fl_keyring_open(keys, &kr, err, sizeof(err)), 0);
	assert_int_equal(fl_sign_report(k, "host-a", &m.r, &msg), 0);

	// Change the release inside the signed bytes ("1.4.2" -> "1.4.3"): still a valid report.
	env = fl__envelope__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	assert_non_null(env);
	uint8_t *hit = find(env->report.data, env->report.len, "1.4.2");
	assert_non_null(hit);
	hit[4] = '3';
	assert_int_equal(fl_wire_encode(&env->base, &msg2), 0);
	assert_int_equal(fl_sign_verify_report(kr, nng_msg_body(msg2), nng_msg_len(msg2), &r, &wire,
	                     why, sizeof(why)),
	    FL_SIGN_BAD_SIGNATURE);
	assert_null(r);
	nng_msg_free(msg2);

	// Restore the report, damage the signature instead.
	hit[4] = '2';
	env->signature.data[env->signature.len / 2] ^= 0x01;
	assert_int_equal(fl_wire_encode(&env->base, &msg2), 0);
	assert_int_equal(fl_sign_verify_report(kr, nng_msg_body(msg2), nng_msg_len(msg2), &r, &wire,
	                     why, sizeof(why)),
	    FL_SIGN_BAD_SIGNATURE);
	nng_msg_free(msg2);

	// Untouched, it verifies (the two refusals above are about the changes, not the setup).
	assert_int_equal(fl_sign_verify_report(
	                     kr, nng_msg_body(msg), nng_msg_len(msg), &r, &wire, why, sizeof(why)),
	    FL_SIGN_OK);
	fl__report__free_unpacked(r, NULL);

	// Any single flipped bit anywhere in the message is refused.
	for (size_t i = 0; i < nng_msg_len(msg); i++) {
		uint8_t *b = nng_msg_body(msg);
		r          = NULL;
		b[i] ^= 0x10;
		assert_int_not_equal(
		    fl_sign_verify_report(kr, b, nng_msg_len(msg), &r, &wire, why, sizeof(why)),
		    FL_SIGN_OK);
		assert_null(r);
		b[i] ^= 0x10;
	}

	fl__envelope__free_unpacked(env, NULL);
	nng_msg_free(msg);
	fl_keyring_free(kr);
	fl_sign_key_free(k);
}

static void
test_unsigned_and_unknown_hosts_rejected(void **state)
{
	fl_keyring    *kr;
	nng_msg       *msg;
	Fl__Report    *r = NULL;
	report         m;
	fl_wire_reject wire;
	char           why[256] = "", err[256];
	(void) state;

	assert_int_equal(fl_keyring_open(keys, &kr, err, sizeof(err)), 0);

	// A bare Report (an unsigned agent) is not an envelope.
	make_report(&m, "host-a");
	assert_int_equal(fl_wire_encode(&m.r.base, &msg), 0);
	assert_int_equal(fl_sign_verify_report(
	                     kr, nng_msg_body(msg), nng_msg_len(msg), &r, &wire, why, sizeof(why)),
	    FL_SIGN_BAD_ENVELOPE);
	nng_msg_free(msg);

	// A host with no registered key, even signing with a key of its own.
	assert_int_equal(
	    sign_and_verify("host-a.key", "host-c", "host-c", &r, why), FL_SIGN_NO_KEY);
	assert_non_null(strstr(why, "host-c"));

	// A host name that would leave the keys directory.
	assert_int_equal(sign_and_verify("host-a.key", "../keys/host-a", "../keys/host-a", &r, why),
	    FL_SIGN_BAD_HOST);
	assert_null(r);

	// An invalid inner report is the decoder's business: its reason comes back in wire.
	make_report(&m, "host-a");
	m.r.interval_ms = 0;
	fl_sign_key *k  = load_key("host-a.key");
	assert_int_equal(fl_sign_report(k, "host-a", &m.r, &msg), 0);
	assert_int_equal(fl_sign_verify_report(
	                     kr, nng_msg_body(msg), nng_msg_len(msg), &r, &wire, why, sizeof(why)),
	    FL_SIGN_WIRE);
	assert_int_equal(wire, FL_WIRE_INVALID);
	nng_msg_free(msg);
	fl_sign_key_free(k);
	fl_keyring_free(kr);
}

static void
test_key_rotation_and_removal_take_effect(void **state)
{
	Fl__Report *r        = NULL;
	char        why[256] = "", cmd[512];
	(void) state;

	// Register B's public key as A's: A's own key no longer verifies, B's does.
	snprintf(cmd, sizeof(cmd), "cp %s/host-b.pub %s/new.tmp && mv %s/new.tmp %s/host-a.pub",
	    pki, keys, keys, keys);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(
	    sign_and_verify("host-a.key", "host-a", "host-a", &r, why), FL_SIGN_BAD_SIGNATURE);
	assert_int_equal(sign_and_verify("host-b.key", "host-a", "host-a", &r, why), FL_SIGN_OK);
	fl__report__free_unpacked(r, NULL);

	// Remove it: the host is no longer trusted at all.
	assert_int_equal(unlink(path(keys, "host-a.pub")), 0);
	assert_int_equal(
	    sign_and_verify("host-b.key", "host-a", "host-a", &r, why), FL_SIGN_NO_KEY);

	snprintf(cmd, sizeof(cmd), "cp %s/host-a.pub %s/", pki, keys);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sign_and_verify("host-a.key", "host-a", "host-a", &r, why), FL_SIGN_OK);
	fl__report__free_unpacked(r, NULL);
}

static void
test_private_key_must_be_private(void **state)
{
	fl_sign_key *k        = NULL;
	char         err[256] = "";
	(void) state;

	assert_int_equal(chmod(path(pki, "host-a.key"), 0640), 0);
	assert_int_equal(
	    fl_sign_key_load(path(pki, "host-a.key"), &k, err, sizeof(err)), NNG_EPERM);
	assert_null(k);
	assert_non_null(strstr(err, "host-a.key"));
	assert_int_equal(chmod(path(pki, "host-a.key"), 0600), 0);

	// A public key or a certificate is not a private key.
	assert_int_equal(chmod(path(pki, "host-a.pub"), 0600), 0);
	assert_int_not_equal(fl_sign_key_load(path(pki, "host-a.pub"), &k, err, sizeof(err)), 0);
	assert_int_equal(
	    fl_sign_key_load(path(pki, "missing.key"), &k, err, sizeof(err)), NNG_ENOENT);
	assert_null(k);
}

static void
test_raw_sign_verify(void **state)
{
	fl_sign_key *k = load_key("host-a.key");
	uint8_t      sig[FL_SIGN_MAX_SIG];
	size_t       siglen = 0;
	char         pub[1024];
	FILE        *f = fopen(path(pki, "host-a.pub"), "r");
	(void) state;

	assert_non_null(f);
	size_t n = fread(pub, 1, sizeof(pub) - 1, f);
	fclose(f);
	pub[n] = '\0';
	assert_int_equal(fl_sign(k, "hello", 5, sig, &siglen), 0);
	assert_in_range(siglen, 8, 72);
	assert_int_equal(fl_sign_verify_pem(pub, "hello", 5, sig, siglen), 0);
	assert_int_not_equal(fl_sign_verify_pem(pub, "hellp", 5, sig, siglen), 0);
	fl_sign_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_signature_accepted),
		cmocka_unit_test(test_host_a_cannot_speak_for_host_b),
		cmocka_unit_test(test_tampered_bytes_rejected),
		cmocka_unit_test(test_unsigned_and_unknown_hosts_rejected),
		cmocka_unit_test(test_key_rotation_and_removal_take_effect),
		cmocka_unit_test(test_private_key_must_be_private),
		cmocka_unit_test(test_raw_sign_verify),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
