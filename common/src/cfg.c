// cfg.c - see fl/cfg.h.

#include "fl/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int
fl_strlcpy_checked(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);
	if (n >= dstlen) {
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
fl_cfg_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char         *end;
	unsigned long n;

	if (v == NULL || *v < '0' || *v > '9') {
		return -1;
	}
	errno = 0;
	n     = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		return -1;
	}
	*out = (uint32_t) n;
	return 0;
}

int
fl_cfg_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[]  = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int
fl_cfg_split_section(const char *section, char *kind, size_t kindlen, char *name, size_t namelen)
{
	const char *sp = strchr(section, ' ');
	size_t      klen;

	if (sp == NULL) {
		if (fl_strlcpy_checked(kind, section, kindlen) != 0 || namelen == 0) {
			return -1;
		}
		name[0] = '\0';
		return 0;
	}
	klen = (size_t) (sp - section);
	if (klen == 0 || klen >= kindlen) {
		return -1;
	}
	memcpy(kind, section, klen);
	kind[klen] = '\0';
	while (*sp == ' ') {
		sp++;
	}
	size_t rest = strlen(sp);
	if (rest < 3 || sp[0] != '"' || sp[rest - 1] != '"') {
		return -1; // need at least one character between the quotes
	}
	if (rest - 2 >= namelen || memchr(sp + 1, '"', rest - 2) != NULL) {
		return -1;
	}
	memcpy(name, sp + 1, rest - 2);
	name[rest - 2] = '\0';
	return 0;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 &&
	    (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
		s[--n] = '\0';
	}
}

int
fl_cfg_read_secret_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct stat st;
	FILE       *f;
	int         fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open password file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "password file %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		    "password file %s is accessible by group or others (mode %03o); run chmod 600 "
		    "%s",
		    path, (unsigned) (st.st_mode & 0777), path);
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "cannot read password file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fgets(out, (int) outlen, f) == NULL) {
		snprintf(err, errlen, "password file %s is empty", path);
		fclose(f);
		return -1;
	}
	if (strchr(out, '\n') == NULL) {
		// fgets stopped at the buffer's end or at EOF: a cut secret must not pass as whole.
		int c = fgetc(f);
		if (c == '\r') {
			c = fgetc(f);
		}
		if (c != EOF && c != '\n') {
			explicit_bzero(out, outlen);
			snprintf(err, errlen, "password file %s: first line longer than %zu bytes",
			    path, outlen - 1);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	chomp(out);
	if (out[0] == '\0') {
		snprintf(err, errlen, "password file %s is empty", path);
		return -1;
	}
	return 0;
}

int
fl_cfg_read_first_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return -1;
	}
	if (fgets(out, (int) outlen, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	chomp(out);
	char *start = out;
	while (*start == ' ' || *start == '\t') {
		start++;
	}
	if (start != out) {
		memmove(out, start, strlen(start) + 1);
	}
	return out[0] == '\0' ? -1 : 0;
}
