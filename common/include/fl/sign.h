// sign.h - per-host report signatures: no host can speak for another.
//
// Mutual TLS (fl/tls.h) proves a peer holds *a* certificate of the deployment's CA, but nng
// 1.5.2 does not tell the collector *which* one, so it cannot check a report's `host` against
// the connection. Instead each agent holds its own EC P-256 key and signs every packed Report;
// the collector holds each host's public key as KEYS_DIR/<host>.pub and accepts a report only
// when it verifies with the key of the host the report names. A compromised agent can still
// lie about itself, but a report claiming host B verifies only with B's private key.
//
// On the wire a signed report is an Envelope (proto/faultline.proto): report = the packed
// Report bytes, signature = ECDSA-SHA256 (DER) over "faultline report v1\n" || report, key_id =
// the host name the agent signs as (must equal report.host). The context prefix keeps a report
// signature from ever being valid for any other use of the same key.
//
// Not covered: replay. A recorded envelope verifies again; the collector's (host, boot_id,
// seq) duplicate check is what drops replays of rounds it has seen.
//
// Keys: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out host.key`, and
// `openssl pkey -in host.key -pubout -out <host>.pub` for the collector's keys_dir.
//
// Thread safety: a key and a keyring may be used from several threads (each holds a lock).

#ifndef FL_SIGN_H
#define FL_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "faultline.pb-c.h"
#include "fl/wire.h"

#define FL_SIGN_MAX_SIG 80 // bytes in a DER ECDSA P-256 signature (at most 72)

typedef struct fl_sign_key fl_sign_key; // an agent's private key
typedef struct fl_keyring  fl_keyring;  // the collector's public keys, one per host

// Loads an unencrypted PEM EC P-256 private key. Refuses a file that group or others may read
// (NNG_EPERM): anyone who reads it can speak for this host. Returns 0 or an NNG_E* code with
// one line in err naming the file.
int  fl_sign_key_load(const char *path, fl_sign_key **out, char *err, size_t errlen);
void fl_sign_key_free(fl_sign_key *k); // accepts NULL

// Signs data; writes at most FL_SIGN_MAX_SIG bytes into sig and their count into *siglen.
// Returns 0 or an NNG_E* code.
int fl_sign(fl_sign_key *k, const void *data, size_t len, uint8_t *sig, size_t *siglen);

// Packs r, signs it and wraps both in a new Envelope message the caller owns (as
// fl_wire_encode). key_id is the host name the agent signs as (normally r->host).
int fl_sign_report(fl_sign_key *k, const char *key_id, const Fl__Report *r, nng_msg **out);

// A keyring reading DIR/<host>.pub on demand; a key is cached and re-read when its file
// changes (so adding or rotating a host's key needs no restart). Returns 0 or an NNG_E* code.
int  fl_keyring_open(const char *dir, fl_keyring **out, char *err, size_t errlen);
void fl_keyring_free(fl_keyring *kr); // accepts NULL

// Why a signed report was refused.
typedef enum fl_sign_status {
	FL_SIGN_OK = 0,
	FL_SIGN_BAD_ENVELOPE, // not an Envelope, or report/signature missing or too large
	FL_SIGN_WIRE,     // the inner Report was rejected by fl_wire_decode_report (*wire says why)
	FL_SIGN_BAD_HOST, // key_id differs from report.host, or host is not a usable file name
	FL_SIGN_NO_KEY,   // no readable DIR/<host>.pub for this host
	FL_SIGN_BAD_SIGNATURE, // does not verify with the host's key
} fl_sign_status;

const char *fl_sign_status_name(fl_sign_status s);

// Verifies a signed report from the network. On FL_SIGN_OK *out is the decoded, validated
// Report (free with fl__report__free_unpacked). Otherwise *out is untouched; *wire (if not NULL)
// is the decoder's reason for FL_SIGN_WIRE and FL_WIRE_OK otherwise; why (if not NULL, at least
// 128 bytes) says what was wrong. Every status but FL_SIGN_WIRE counts as unauthenticated.
fl_sign_status fl_sign_verify_report(fl_keyring *kr, const void *buf, size_t len, Fl__Report **out,
    fl_wire_reject *wire, char *why, size_t whylen);

// Verifies sig over data with a public key in PEM text (tests, tools). 0 when it verifies.
int fl_sign_verify_pem(
    const char *pub_pem, const void *data, size_t len, const uint8_t *sig, size_t siglen);

#endif // FL_SIGN_H
