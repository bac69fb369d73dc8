// nfq_delay.c - the testbed's latency injector: holds every packet of one NFQUEUE for a fixed
// delay, then lets it through.
//
// This kernel has no netem, so the testbed adds latency the only way left: an iptables NFQUEUE
// rule (`-j NFQUEUE --queue-num N --queue-bypass`) sends the packets of one path to user space,
// and this program accepts each one DELAY_MS after it arrived, in arrival order (a FIFO: every
// packet gets the same delay, so ordering is kept and TCP sees a clean longer RTT, not
// reordering). --queue-bypass on the rule means traffic flows undelayed whenever this program
// is not running, so a crashed delayer never turns into a link cut.
//
// Runs until SIGTERM/SIGINT (or for --seconds), then accepts whatever it still holds.
// Exit codes: 0 stopped cleanly, 1 cannot bind the queue, 2 usage error.

#include <arpa/inet.h> // before <linux/netfilter.h>: glibc's in.h must come first
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

// Packets held at once. Past this a packet is accepted at once rather than dropped: the
// delayer must add latency, never loss (loss is a separate, explicit fault).
#define QMAX 65536

typedef struct held {
	uint32_t id;
	int64_t  due_us;
} held;

static held                  ring[QMAX];
static unsigned              head, tail; // ring[head % QMAX] .. ring[(tail - 1) % QMAX]
static int64_t               delay_us;
static volatile sig_atomic_t stop;

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_signal(int sig)
{
	(void) sig;
	stop = 1;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void) msg;
	(void) data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (ph == NULL) {
		return 0;
	}
	uint32_t id = ntohl(ph->packet_id);
	if (tail - head >= QMAX) {
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	}
	ring[tail % QMAX].id     = id;
	ring[tail % QMAX].due_us = mono_us() + delay_us;
	tail++;
	return 0;
}

static void
release_due(struct nfq_q_handle *qh, int64_t now_us, int all)
{
	while (head != tail && (all || ring[head % QMAX].due_us <= now_us)) {
		nfq_set_verdict(qh, ring[head % QMAX].id, NF_ACCEPT, 0, NULL);
		head++;
	}
}

static void
usage(FILE *out)
{
	fputs("usage: nfq_delay -q QUEUE -d DELAY_MS [-s SECONDS]\n"
	      "Holds every packet of NFQUEUE QUEUE for DELAY_MS milliseconds, then accepts it.\n"
	      "  -q, --queue N      NFQUEUE number (the rule's --queue-num)\n"
	      "  -d, --delay MS     delay added to each packet, 1..60000\n"
	      "  -s, --seconds S    stop after S seconds (default: run until SIGTERM/SIGINT)\n"
	      "  -h, --help         this text\n"
	      "Pair it with: iptables -A OUTPUT -d ADDR -j NFQUEUE --queue-num N --queue-bypass\n",
	    out);
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno  = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		return -1;
	}
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "delay", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long queue = -1, delay_ms = -1, seconds = 0;
	int  c;
	while ((c = getopt_long(argc, argv, "q:d:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_long(optarg, 0, 65535, &queue) != 0) {
				fprintf(stderr, "nfq_delay: bad queue number '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_long(optarg, 1, 60000, &delay_ms) != 0) {
				fprintf(
				    stderr, "nfq_delay: bad delay '%s' (1..60000 ms)\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_long(optarg, 1, 86400, &seconds) != 0) {
				fprintf(stderr, "nfq_delay: bad seconds '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (queue < 0 || delay_ms < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	delay_us = delay_ms * 1000;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct nfq_handle *h = nfq_open();
	if (h == NULL) {
		fprintf(stderr, "nfq_delay: cannot open nfnetlink queue: %s\n", strerror(errno));
		return 1;
	}
	struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t) queue, on_packet, NULL);
	if (qh == NULL) {
		fprintf(stderr, "nfq_delay: cannot bind queue %ld: %s\n", queue, strerror(errno));
		nfq_close(h);
		return 1;
	}
	// Metadata only: the verdict needs the packet id, never the payload.
	nfq_set_mode(qh, NFQNL_COPY_META, 0);
	nfq_set_queue_maxlen(qh, QMAX);

	int64_t     end_us = seconds > 0 ? mono_us() + (int64_t) seconds * 1000000 : INT64_MAX;
	int         fd     = nfq_fd(h);
	static char buf[65536];
	fprintf(stderr, "nfq_delay: queue %ld, delay %ld ms\n", queue, delay_ms);
	while (!stop && mono_us() < end_us) {
		int timeout_ms = 100;
		if (head != tail) {
			int64_t wait_us = ring[head % QMAX].due_us - mono_us();
			timeout_ms      = wait_us <= 0 ? 0 : (int) (wait_us / 1000) + 1;
			if (timeout_ms > 100) {
				timeout_ms = 100;
			}
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) > 0) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n > 0) {
				nfq_handle_packet(h, buf, (int) n);
			}
		}
		release_due(qh, mono_us(), 0);
	}
	release_due(qh, 0, 1);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
