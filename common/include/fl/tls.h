// tls.h - mutual TLS for Faultline's nng sockets (tls+tcp://, nng 1.5.2 with mbedTLS 2.28).
//
// Both ends present a certificate signed by the deployment's CA and verify the other's: the
// collector's listeners require a client certificate (NNG_TLS_AUTH_MODE_REQUIRED), so an agent
// without one, or with one from another CA, never gets a pipe; agents and the CLI check the
// collector's certificate against the CA and against the name they dialed (server_name must
// match a subjectAltName). TLS 1.2 is the minimum.
//
// What this does NOT give: nng 1.5.2 does not expose the peer certificate, so the collector
// cannot tell which agent a pipe belongs to, only that it holds some valid client certificate.
// Per-host identity comes from report signatures (fl/sign.h).
//
// Call the apply functions on a dialer or listener that was created but not yet started
// (nng_dialer_create / nng_listener_create on a tls+tcp:// URL). They load every file at once,
// so a bad path or a key that does not match its certificate is reported before any
// connection is tried. Nothing is kept: the dialer or listener holds its own reference.
// Errors are NNG_E* codes; err (if not NULL) gets one line naming the file and the reason.

#ifndef FL_TLS_H
#define FL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <nng/nng.h>

#define FL_TLS_MAX_PEM (64 * 1024) // a certificate chain or key file larger than this is refused

typedef struct fl_tls_opts {
	const char *ca_file;   // PEM CA certificate(s) the peer must chain to; required
	const char *cert_file; // PEM certificate (chain) presented to the peer; required
	const char *key_file;  // PEM private key; NULL or "": the key is in cert_file
} fl_tls_opts;

// What fl_pem_read() refuses in a file holding a private key, by mode bits: anyone on the host
// (FL_PEM_PRIVATE_TO_HOST, for TLS keys), or anyone but the owner (FL_PEM_PRIVATE_TO_OWNER, for
// report signing keys); 0 for a file that is not secret (a certificate, a public key).
#define FL_PEM_PRIVATE_TO_HOST  S_IROTH
#define FL_PEM_PRIVATE_TO_OWNER (S_IRWXG | S_IRWXO)

// Reads a PEM file of 1 to max bytes (a regular file) into a malloc'd NUL-terminated buffer,
// *out: free a secret one with fl_pem_free_secret(). A file with any mode bit of forbid set is
// refused: a key others may read lets them pose as this host. st (if not NULL) receives the
// file's status. Returns 0, or an NNG_E* code with one line naming the file in err: ENOENT
// (missing), EPERM (not readable, or readable by others), EINVAL (size, not a file), ENOMEM.
int fl_pem_read(const char *path, size_t max, mode_t forbid, char **out, struct stat *st, char *err,
    size_t errlen);

// Wipes (in a way the compiler may not drop) and frees a buffer that held a private key;
// accepts NULL.
void fl_pem_free_secret(char *s);

// True when url uses TLS (tls+tcp://, tls+tcp4://, tls+tcp6://, wss://).
bool fl_tls_url(const char *url);

// Configures a not-yet-started dialer: own certificate, CA, and the name the server's
// certificate must carry (required: a TLS dialer without it would accept any certificate the CA
// ever signed for any host). Returns 0 or an NNG_E* code.
int fl_tls_apply_dialer(
    nng_dialer d, const fl_tls_opts *o, const char *server_name, char *err, size_t errlen);

// Configures a not-yet-started listener: own certificate, CA, and client certificates required.
// Returns 0 or an NNG_E* code.
int fl_tls_apply_listener(nng_listener l, const fl_tls_opts *o, char *err, size_t errlen);

// Configures a not-yet-listening stream listener (the collector's https:// listener): own
// certificate and CA as above, but no client certificate is asked for (browsers and Prometheus
// seldom have one; docs/security.md). Returns 0 or an NNG_E* code.
int fl_tls_apply_stream_listener(
    nng_stream_listener *l, const fl_tls_opts *o, char *err, size_t errlen);

// Checks that the files of o can be loaded (as the apply functions would), without a socket:
// for --check-config. Returns 0 or an NNG_E* code.
int fl_tls_check(const fl_tls_opts *o, char *err, size_t errlen);

#endif // FL_TLS_H
