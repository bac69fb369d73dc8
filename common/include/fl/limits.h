// limits.h - the limits on what a peer may send, shared by the encoder, the decoder and the
// modules that size their bounds by them.
//
// Apart from wire.h so that modules which only size things by these limits (the collector's
// state) need neither nng nor the codec.

#ifndef FL_LIMITS_H
#define FL_LIMITS_H

// Limits on what a peer may send. Sockets set NNG_OPT_RECVMAXSZ to FL_WIRE_MAX_MSG.
#define FL_WIRE_MAX_MSG     (1024 * 1024) // bytes in one message
#define FL_WIRE_MAX_RESULTS 256           // probe results in one report
#define FL_WIRE_MAX_UNMET   256           // unmet requirements in one probe result
#define FL_WIRE_MAX_STRING  1024          // bytes in a name, target, release, detail ...
#define FL_WIRE_MAX_DETAIL  512           // bytes in ProbeResult.detail (agents truncate)
// Agent timestamps (Report.sent_us, round_started_us, ProbeResult.started_us) are 0 (not set)
// or Unix microseconds in [0, FL_WIRE_MAX_TIME_US): no working clock shows a time before 1970
// or after 2100, and the bound keeps every difference of two times far from int64 overflow.
// How far from its own clock the collector trusts them is its decision (collector/state.h).
#define FL_WIRE_MAX_TIME_US 4102444800000000LL // 2100-01-01T00:00:00Z

#define FL_WIRE_MAX_ADDRS 16 // addresses in ProbeResult.addresses
#define FL_WIRE_MAX_ADDR  64 // bytes in one address (INET6_ADDRSTRLEN is 46)

#endif // FL_LIMITS_H
