// tls.c - see fl/tls.h.

#include "fl/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <nng/supplemental/tls/tls.h>

#include "fl/str.h"

bool
fl_tls_url(const char *url)
{
	return url != NULL && (strncmp(url, "tls+tcp", 7) == 0 || strncmp(url, "wss://", 6) == 0);
}

int
fl_pem_read(const char *path, size_t max, mode_t forbid, char **out, struct stat *st_out, char *err,
    size_t errlen)
{
	struct stat st;
	FILE       *f;
	char       *buf;
	size_t      n;

	if ((f = fopen(path, "rb")) == NULL) {
		return fl_err_set(err, errlen, errno == ENOENT ? NNG_ENOENT : NNG_EPERM,
		    "cannot read %s: %s", path, strerror(errno));
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return fl_err_set(
		    err, errlen, NNG_EINVAL, "cannot read %s: not a regular file", path);
	}
	if ((st.st_mode & forbid) != 0) {
		fclose(f);
		return fl_err_set(err, errlen, NNG_EPERM, "cannot use key %s: %s", path,
		    (forbid & S_IRWXG) != 0 ? "group or others may read it (chmod 600)"
		                            : "readable by every user (chmod o-r)");
	}
	if (st.st_size <= 0 || (size_t) st.st_size > max) {
		fclose(f);
		return fl_err_set(err, errlen, NNG_EINVAL, "cannot use %s: %lld bytes (1 to %zu)",
		    path, (long long) st.st_size, max);
	}
	if ((buf = malloc((size_t) st.st_size + 1)) == NULL) {
		fclose(f);
		return fl_err_set(err, errlen, NNG_ENOMEM, "cannot read %s: out of memory", path);
	}
	n = fread(buf, 1, (size_t) st.st_size, f);
	fclose(f);
	if (n != (size_t) st.st_size) {
		free(buf);
		return fl_err_set(err, errlen, NNG_EINVAL, "cannot read %s: short read", path);
	}
	buf[n] = '\0';
	*out   = buf;
	if (st_out != NULL) {
		*st_out = st;
	}
	return 0;
}

void
fl_pem_free_secret(char *s)
{
	if (s != NULL) {
		volatile char *p = s;
		while (*p != '\0') {
			*p++ = '\0';
		}
		free(s);
	}
}

// mbedTLS (and so nng) accepts any key next to any certificate and only fails at the first
// handshake, far from the config that caused it. Check the pair here, where the file names are
// known. PEM lengths count the terminating NUL.
static int
check_pair(const char *cert, const char *key, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	mbedtls_x509_crt   crt;
	mbedtls_pk_context pk;
	int                rv = 0;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *) cert, strlen(cert) + 1) != 0) {
		rv = fl_err_set(
		    err, errlen, NNG_ECRYPTO, "cannot use %s: no valid PEM certificate", cert_file);
	} else if (mbedtls_pk_parse_key(
	               &pk, (const unsigned char *) key, strlen(key) + 1, NULL, 0) != 0) {
		rv = fl_err_set(err, errlen, NNG_ECRYPTO,
		    "cannot use %s: no valid unencrypted PEM private key", key_file);
	} else if (mbedtls_pk_check_pair(&crt.pk, &pk) != 0) {
		rv = fl_err_set(err, errlen, NNG_ECRYPTO, "cannot use key %s: it does not match %s",
		    key_file, cert_file);
	}
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return rv;
}

// Builds a config for one side; on success *out is a config the caller frees.
static int
make_config(const fl_tls_opts *o, nng_tls_mode mode, const char *server_name, nng_tls_config **out,
    char *err, size_t errlen)
{
	nng_tls_config *cfg  = NULL;
	char           *cert = NULL, *key = NULL;
	const char     *key_file;
	int             rv;

	if (o == NULL || o->ca_file == NULL || o->ca_file[0] == '\0' || o->cert_file == NULL ||
	    o->cert_file[0] == '\0') {
		return fl_err_set(err, errlen, NNG_EINVAL,
		    "cannot set up TLS: ca_file and cert_file are both required");
	}
	key_file = o->key_file != NULL && o->key_file[0] != '\0' ? o->key_file : o->cert_file;
	if ((rv = fl_pem_read(o->cert_file, FL_TLS_MAX_PEM,
	         key_file == o->cert_file ? FL_PEM_PRIVATE_TO_HOST : 0, &cert, NULL, err,
	         errlen)) != 0) {
		goto out;
	}
	if (key_file != o->cert_file &&
	    (rv = fl_pem_read(
	         key_file, FL_TLS_MAX_PEM, FL_PEM_PRIVATE_TO_HOST, &key, NULL, err, errlen)) != 0) {
		goto out;
	}
	if ((rv = check_pair(
	         cert, key != NULL ? key : cert, o->cert_file, key_file, err, errlen)) != 0) {
		goto out;
	}
	if ((rv = nng_tls_config_alloc(&cfg, mode)) != 0) {
		rv = fl_err_set(err, errlen, rv, "cannot set up TLS: %s", nng_strerror(rv));
		goto out;
	}
	// TLS 1.2 minimum; mbedTLS 2.28 as Debian builds it has no 1.3, so try that as a maximum
	// and settle for 1.2 when it is refused.
	if (nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3) != 0 &&
	    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2)) != 0) {
		rv = fl_err_set(err, errlen, rv, "cannot require TLS 1.2: %s", nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_ca_file(cfg, o->ca_file)) != 0) {
		rv = fl_err_set(
		    err, errlen, rv, "cannot load CA %s: %s", o->ca_file, nng_strerror(rv));
		goto out;
	}
	// With the key in the certificate file, the same PEM text serves as both: mbedTLS picks
	// the certificates and the key out of it.
	if ((rv = nng_tls_config_own_cert(cfg, cert, key != NULL ? key : cert, NULL)) != 0) {
		rv = fl_err_set(err, errlen, rv, "cannot load certificate %s with key %s: %s",
		    o->cert_file, key_file, nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
		rv = fl_err_set(
		    err, errlen, rv, "cannot require peer certificates: %s", nng_strerror(rv));
		goto out;
	}
	if (server_name != NULL && (rv = nng_tls_config_server_name(cfg, server_name)) != 0) {
		rv = fl_err_set(err, errlen, rv, "cannot set server name %s: %s", server_name,
		    nng_strerror(rv));
		goto out;
	}
	*out = cfg;
	cfg  = NULL;
out:
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	if (key_file == o->cert_file) {
		fl_pem_free_secret(cert);
	} else {
		free(cert);
		fl_pem_free_secret(key);
	}
	return rv;
}

int
fl_tls_apply_dialer(
    nng_dialer d, const fl_tls_opts *o, const char *server_name, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	int             rv;

	if (server_name == NULL || server_name[0] == '\0') {
		return fl_err_set(err, errlen, NNG_EINVAL,
		    "cannot set up TLS: the collector's certificate name (server_name) is "
		    "required");
	}
	if ((rv = make_config(o, NNG_TLS_MODE_CLIENT, server_name, &cfg, err, errlen)) != 0) {
		return rv;
	}
	rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg); // the dialer holds its own reference
	nng_tls_config_free(cfg);
	if (rv != 0) {
		return fl_err_set(err, errlen, rv,
		    "cannot use TLS on this dialer: %s (is the URL tls+tcp://?)", nng_strerror(rv));
	}
	return 0;
}

int
fl_tls_apply_listener(nng_listener l, const fl_tls_opts *o, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	int             rv;

	if ((rv = make_config(o, NNG_TLS_MODE_SERVER, NULL, &cfg, err, errlen)) != 0) {
		return rv;
	}
	rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg);
	if (rv != 0) {
		return fl_err_set(err, errlen, rv,
		    "cannot use TLS on this listener: %s (is the URL tls+tcp://?)",
		    nng_strerror(rv));
	}
	return 0;
}

int
fl_tls_check(const fl_tls_opts *o, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	int             rv;

	if ((rv = make_config(o, NNG_TLS_MODE_SERVER, NULL, &cfg, err, errlen)) == 0) {
		nng_tls_config_free(cfg);
	}
	return rv;
}

int
fl_tls_apply_stream_listener(nng_stream_listener *l, const fl_tls_opts *o, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	int             rv;

	if ((rv = make_config(o, NNG_TLS_MODE_SERVER, NULL, &cfg, err, errlen)) != 0) {
		return rv;
	}
	// Browsers and Prometheus usually have no client certificate: none is asked for.
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE)) == 0) {
		rv = nng_stream_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
	}
	nng_tls_config_free(cfg);
	if (rv != 0) {
		return fl_err_set(
		    err, errlen, rv, "cannot use TLS on this listener: %s", nng_strerror(rv));
	}
	return 0;
}
