// sink.c - a stand-in collector for agent benchmarks: PULLs reports on URL, checks they decode,
// and prints how many arrived when stopped (SIGTERM/SIGINT) or after SECONDS.
//
// Usage: bench_agent_sink URL SECONDS

#include <stdio.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>

#include "fl/time.h"
#include "fl/wire.h"

int
main(int argc, char **argv)
{
	nng_socket s;
	int        rv;
	long       ok = 0, bad = 0, results = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_agent_sink URL SECONDS\n");
		return 2;
	}
	int64_t end = fl_mono_us() + atoll(argv[2]) * 1000000LL;
	if ((rv = nng_pull0_open(&s)) != 0 || (rv = nng_listen(s, argv[1], NULL, 0)) != 0) {
		fprintf(stderr, "cannot listen on %s: %s\n", argv[1], nng_strerror(rv));
		return 2;
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 200);
	while (fl_mono_us() < end) {
		nng_msg    *m;
		Fl__Report *r;
		if (nng_recvmsg(s, &m, 0) != 0) {
			continue;
		}
		if (fl_wire_decode_report(nng_msg_body(m), nng_msg_len(m), &r, NULL, 0) ==
		    FL_WIRE_OK) {
			ok++;
			results += (long) r->n_results;
			fl__report__free_unpacked(r, NULL);
		} else {
			bad++;
		}
		nng_msg_free(m);
	}
	printf("reports %ld, results %ld, undecodable %ld\n", ok, results, bad);
	nng_close(s);
	return 0;
}
