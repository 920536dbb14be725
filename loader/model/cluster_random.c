/*
 * cluster_random.c
 *	  The model's one random stream, and the names and versions drawn from it.
 *
 * Every decision of the model, every generated name and uid, and every
 * resourceVersion step comes from this stream, seeded by the configuration:
 * that is what makes one seed give the same run, byte for byte, on any libc.
 */
#include "cluster_internal.h"

#include <math.h>

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast, and its output is fixed by its definition, not by libc. */
static uint64_t
rnd(cm_model *m)
{
	uint64_t *s = m->rs;
	uint64_t  r = rotl(s[1] * 5, 7) * 9;
	uint64_t  t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

double
cm_rndf(cm_model *m)
{
	return (double) (rnd(m) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
int64_t
cm_rndi(cm_model *m, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t) (rnd(m) % (uint64_t) (hi - lo + 1));
}

bool
cm_chance(cm_model *m, double p)
{
	return cm_rndf(m) < p;
}

int64_t
cm_rexp(cm_model *m, int64_t mean)
{
	return (int64_t) (-log(1.0 - cm_rndf(m)) * (double) mean);
}

double
cm_rnorm(cm_model *m)
{
	double u1 = 1.0 - cm_rndf(m);
	double u2 = cm_rndf(m);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void
cm_make_uid(cm_model *m, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t           b[16];
	int               i;
	int               o = 0;
	uint64_t          r1 = rnd(m);
	uint64_t          r2 = rnd(m);

	for (i = 0; i < 8; i++)
	{
		b[i] = (uint8_t) (r1 >> (8 * i));
		b[8 + i] = (uint8_t) (r2 >> (8 * i));
	}
	b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* Random suffix from the alphabet apimachinery's rand.String uses for generated names. */
void
cm_make_suffix(cm_model *m, char *out, int n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	int               i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[rnd(m) % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

void
cm_make_hex(cm_model *m, char *out, int n)
{
	static const char hex[] = "0123456789abcdef";
	int               i;

	for (i = 0; i < n; i++)
		out[i] = hex[rnd(m) & 15];
	out[n] = '\0';
}

/* The API server's resourceVersion: one etcd revision for every write, Events or not. */
uint64_t
cm_next_rv(cm_model *m)
{
	m->rv += 1 + (rnd(m) & 3);
	return m->rv;
}
