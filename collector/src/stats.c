// stats.c - see stats.h.

#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y ? 1 : 0;
}

void
coll_stats_sort(double *v, size_t n)
{
	if (n > 1) {
		qsort(v, n, sizeof(*v), cmp_double);
	}
}

double
coll_stats_quantile(const double *sorted, size_t n, double q)
{
	if (n == 0) {
		return 0;
	}
	if (q <= 0) {
		return sorted[0];
	}
	if (q >= 1) {
		return sorted[n - 1];
	}
	double h  = q * (double) (n - 1);
	size_t lo = (size_t) floor(h);
	if (lo + 1 >= n) {
		return sorted[n - 1];
	}
	return sorted[lo] + (h - (double) lo) * (sorted[lo + 1] - sorted[lo]);
}

// P(Z > z) for a standard normal Z.
static double
upper_tail(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

// p-value of U against its normal approximation (mean nx*ny/2, variance with tie correction).
static void
mwu_finish(double u, double nx, double ny, double tie_sum, coll_mwu *out)
{
	double n    = nx + ny;
	double mean = nx * ny / 2.0;
	double var  = nx * ny / 12.0 * ((n + 1.0) - tie_sum / (n * (n - 1.0)));

	out->u = u;
	if (!(var > 0)) {
		out->z = 0;
		out->p = 1; // every value tied: no evidence either way
		return;
	}
	out->z = (u - mean - 0.5) / sqrt(var);
	out->p = upper_tail(out->z);
}

int
coll_stats_mwu_greater(const double *x, size_t nx, const double *y, size_t ny, coll_mwu *out)
{
	size_t i = 0, j = 0;
	double rank_sum_x = 0, tie_sum = 0;
	double rank = 1; // the rank of the next value in the merged order

	if (nx == 0 || ny == 0) {
		return -1;
	}
	// Walk both sorted samples as one merged sequence, one run of equal values at a time;
	// every value of a run gets the run's average rank.
	while (i < nx || j < ny) {
		double v;
		if (j >= ny || (i < nx && x[i] <= y[j])) {
			v = x[i];
		} else {
			v = y[j];
		}
		size_t tx = 0, ty = 0;
		while (i < nx && x[i] == v) {
			i++;
			tx++;
		}
		while (j < ny && y[j] == v) {
			j++;
			ty++;
		}
		double t   = (double) (tx + ty);
		double avg = rank + (t - 1.0) / 2.0;
		rank_sum_x += avg * (double) tx;
		tie_sum += t * t * t - t;
		rank += t;
	}
	double u = rank_sum_x - (double) nx * ((double) nx + 1.0) / 2.0;
	mwu_finish(u, (double) nx, (double) ny, tie_sum, out);
	return 0;
}

double
coll_stats_mwu_min_p(size_t nx, size_t ny)
{
	coll_mwu m;
	if (nx == 0 || ny == 0) {
		return 1;
	}
	mwu_finish((double) nx * (double) ny, (double) nx, (double) ny, 0, &m);
	return m.p;
}

double
coll_stats_binom_upper(size_t k, size_t n, double p)
{
	if (k == 0) {
		return 1;
	}
	if (k > n || p <= 0) {
		return 0;
	}
	if (p >= 1) {
		return 1;
	}
	// Summed term by term in log space: C(n, i) overflows a double from n = 1030 on.
	double sum = 0, lp = log(p), lq = log1p(-p), ln = lgamma((double) n + 1.0);
	for (size_t i = k; i <= n; i++) {
		double di = (double) i;
		sum += exp(ln - lgamma(di + 1.0) - lgamma((double) (n - i) + 1.0) + di * lp +
		    (double) (n - i) * lq);
	}
	return sum > 1 ? 1 : sum;
}
