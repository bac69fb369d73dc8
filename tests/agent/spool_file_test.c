// spool_file_test.c - the agent's spool on disk (spool_file.h): reports read back in order,
// 0600, one agent per file, torn, damaged and foreign records counted and skipped (never a
// crash), the byte bound on rewrite and append.

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

#include "faultline.pb-c.h"
#include "spool_file.h"

static char dir[64];
static char path[96];

static int
make_dir(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/fl-spool-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spool", dir);
	return 0;
}

static int
remove_dir(void **state)
{
	(void) state;
	char        p[128];
	const char *names[] = { "spool", "spool.tmp", "spool.lock" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

// A packed Report of host, with seq and a detail of pad bytes (to make it large); malloc'd.
static uint8_t *
report(const char *host, uint64_t seq, size_t pad, size_t *len)
{
	Fl__Report r   = FL__REPORT__INIT;
	char      *rel = calloc(1, pad + 1);
	assert_non_null(rel);
	memset(rel, 'r', pad);
	r.host     = (char *) host;
	r.seq      = seq;
	r.boot_id  = 7;
	r.release  = rel;
	*len       = fl__report__get_packed_size(&r);
	uint8_t *b = malloc(*len);
	assert_non_null(b);
	fl__report__pack(&r, b);
	free(rel);
	return b;
}

static uint64_t
seq_of(const uint8_t *b, size_t len)
{
	Fl__Report *r = fl__report__unpack(NULL, len, b);
	assert_non_null(r);
	uint64_t s = r->seq;
	fl__report__free_unpacked(r, NULL);
	return s;
}

static agent_spool_file *
open_ok(agent_spool_loaded *ld)
{
	agent_spool_file *f = NULL;
	char              err[512];
	int rv = agent_spool_file_open(dir, "app1", 1 << 20, &f, ld, err, sizeof(err));
	if (rv != 0) {
		print_error("%s\n", err);
	}
	assert_int_equal(rv, 0);
	return f;
}

// Appends reports seq first..last of app1 to f.
static void
append_seqs(agent_spool_file *f, uint64_t first, uint64_t last)
{
	for (uint64_t s = first; s <= last; s++) {
		size_t   len;
		uint8_t *b = report("app1", s, 10, &len);
		assert_int_equal(agent_spool_file_append(f, b, len), 0);
		free(b);
	}
}

static void
test_round_trip_in_order_0600(void **state)
{
	(void) state;
	agent_spool_loaded ld;
	agent_spool_file  *f = open_ok(&ld);
	assert_int_equal(ld.n, 0);
	assert_int_equal(ld.prev_boot_id, 0);
	assert_int_equal(agent_spool_file_rewrite(f, 0xB1, 100, NULL, NULL, 0), 0);
	append_seqs(f, 101, 103);
	agent_spool_file_close(f);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 3);
	assert_int_equal(ld.corrupt, 0);
	assert_int_equal(ld.prev_boot_id, 0xB1);
	assert_int_equal(ld.last_seq, 103);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(seq_of(ld.bufs[i], ld.lens[i]), 101 + i);
	}
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
}

static void
test_one_agent_per_file(void **state)
{
	(void) state;
	agent_spool_loaded ld, ld2;
	agent_spool_file  *f = open_ok(&ld), *g = NULL;
	char               err[512];
	assert_int_equal(
	    agent_spool_file_open(dir, "app1", 1 << 20, &g, &ld2, err, sizeof(err)), -1);
	assert_null(g);
	assert_non_null(strstr(err, "is another agent using state_dir"));
	agent_spool_file_close(f);
	g = open_ok(&ld2); // free again once closed
	agent_spool_file_close(g);
	assert_int_equal(agent_spool_file_open(
	                     "/nonexistent-fl-dir", "app1", 1 << 20, &g, &ld2, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent-fl-dir/spool"));
}

static void
write_spool(int records, uint64_t first)
{
	agent_spool_loaded ld;
	agent_spool_file  *f = open_ok(&ld);
	assert_int_equal(agent_spool_file_rewrite(f, 0xB1, first - 1, NULL, NULL, 0), 0);
	append_seqs(f, first, first + (uint64_t) records - 1);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
}

static void
test_torn_tail_counted_and_skipped(void **state)
{
	(void) state;
	write_spool(3, 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 5), 0); // an append cut short
	agent_spool_loaded ld;
	agent_spool_file  *f = open_ok(&ld);
	assert_int_equal(ld.n, 2);
	assert_int_equal(ld.corrupt, 1);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
	// Cut inside a record head too.
	write_spool(2, 1);
	assert_int_equal(stat(path, &st), 0);
	size_t   len;
	uint8_t *b = report("app1", 2, 10, &len);
	free(b);
	assert_int_equal(truncate(path, st.st_size - (off_t) len - 10), 0);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 1);
	assert_int_equal(ld.corrupt, 1);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
}

static void
test_damage_and_foreign_records(void **state)
{
	(void) state;
	write_spool(3, 1);
	// Flip a byte in the second record's payload: the checksum no longer matches; nothing
	// after it is trusted.
	FILE  *fp = fopen(path, "r+b");
	size_t len;
	free(report("app1", 1, 10, &len));
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 24 + 16 + (long) len + 16 + 3, SEEK_SET), 0);
	int c = fgetc(fp);
	assert_int_equal(fseek(fp, -1, SEEK_CUR), 0);
	fputc(c ^ 0xff, fp);
	fclose(fp);
	agent_spool_loaded ld;
	agent_spool_file  *f = open_ok(&ld);
	assert_int_equal(ld.n, 1);
	assert_int_equal(ld.corrupt, 1);
	agent_spool_loaded_fini(&ld);

	// Another host's report (a renamed agent) is skipped, the others kept.
	assert_int_equal(agent_spool_file_rewrite(f, 0xB1, 0, NULL, NULL, 0), 0);
	append_seqs(f, 1, 1);
	uint8_t *b = report("other", 2, 10, &len);
	assert_int_equal(agent_spool_file_append(f, b, len), 0);
	free(b);
	append_seqs(f, 3, 3);
	agent_spool_file_close(f);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 2);
	assert_int_equal(ld.corrupt, 1);
	assert_int_equal(seq_of(ld.bufs[1], ld.lens[1]), 3);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);

	// Not a spool file at all: skipped whole, counted once; a record claiming 4 GiB is torn.
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("not a spool file, but long enough to hold a header", fp);
	fclose(fp);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 0);
	assert_int_equal(ld.corrupt, 1);
	agent_spool_file_close(f);
	write_spool(1, 1);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 24, SEEK_SET), 0);
	fwrite("\xff\xff\xff\xff", 1, 4, fp);
	fclose(fp);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 0);
	assert_int_equal(ld.corrupt, 1);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
}

static void
test_byte_bound(void **state)
{
	(void) state;
	agent_spool_loaded ld;
	agent_spool_file  *f = NULL;
	char               err[512];
	assert_int_equal(
	    agent_spool_file_open(dir, "app1", 64 * 1024, &f, &ld, err, sizeof(err)), 0);
	uint8_t *bufs[10];
	size_t   lens[10];
	for (int i = 0; i < 10; i++) {
		bufs[i] = report("app1", 1 + (uint64_t) i, 10000, &lens[i]);
	}
	// A rewrite keeps the newest that fit in half the bound: 3 of about 10 KB.
	assert_int_equal(agent_spool_file_rewrite(f, 0xB1, 10, bufs, lens, 10), 0);
	assert_true(agent_spool_file_bytes(f) <= 32 * 1024);
	// Appends fill the other half, then are refused (the caller rewrites).
	int appended = 0;
	while (agent_spool_file_append(f, bufs[0], lens[0]) == 0) {
		appended++;
	}
	assert_int_equal(appended, 3);
	assert_true(agent_spool_file_bytes(f) <= 64 * 1024);
	agent_spool_file_close(f);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 64 * 1024);
	f = open_ok(&ld);
	assert_int_equal(ld.n, 6);
	assert_int_equal(seq_of(ld.bufs[0], ld.lens[0]), 8);
	assert_int_equal(seq_of(ld.bufs[2], ld.lens[2]), 10);
	agent_spool_loaded_fini(&ld);
	agent_spool_file_close(f);
	for (int i = 0; i < 10; i++) {
		free(bufs[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_round_trip_in_order_0600, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_one_agent_per_file, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(
		    test_torn_tail_counted_and_skipped, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(
		    test_damage_and_foreign_records, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_byte_bound, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
