// fuzz_envelope.c - fl_sign_verify_report: a signed report (Envelope) from the network, as the
// collector checks it when keys_dir is set: envelope decode, inner report decode, host and key
// id checks, key lookup in the keys directory, ECDSA verification.
//
// The keys directory holds one public key, app1.pub (tests/fuzz/fuzz-test-host.pub, a key made
// for these tests only); the seeds are envelopes signed with its private key (gen_seeds.c), so
// the fuzzer starts from reports that verify and mutates from there.

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl/sign.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char test_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiXuDMcL5xOgiy0g6EoiG7FXf6z4m\n"
                               "tVtYS6n77zIzdwEOnjK5GZO7aLK8im+bzoaNITxRNrDJ6jr0MIzURlxyGw==\n"
                               "-----END PUBLIC KEY-----\n";

static char        dir[64];
static fl_keyring *ring;

static void
cleanup(void)
{
	char path[128];
	fl_keyring_free(ring);
	snprintf(path, sizeof(path), "%s/app1.pub", dir);
	unlink(path);
	rmdir(dir);
}

static void
init_ring(void)
{
	char  path[128], err[256];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fl-fuzz-keys-XXXXXX");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/app1.pub", dir);
	FUZZ_CHECK((f = fopen(path, "w")) != NULL);
	FUZZ_CHECK(fputs(test_pub, f) >= 0 && fclose(f) == 0);
	FUZZ_CHECK(fl_keyring_open(dir, &ring, err, sizeof(err)) == 0);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__Report    *r = NULL;
	fl_wire_reject wire;
	char           why[256] = "";

	if (ring == NULL) {
		init_ring();
	}
	fl_sign_status st = fl_sign_verify_report(ring, data, size, &r, &wire, why, sizeof(why));
	if (st != FL_SIGN_OK) {
		FUZZ_CHECK(r == NULL);
		FUZZ_CHECK((st == FL_SIGN_WIRE) == (wire != FL_WIRE_OK));
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	// Only app1 has a key: nothing else may ever be accepted.
	FUZZ_CHECK(r != NULL && strcmp(r->host, "app1") == 0);
	fuzz_render_report(r);
	fl__report__free_unpacked(r, NULL);
	return 0;
}
