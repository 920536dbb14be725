/*
 * splitmix64.h
 *	  The program's one small PRNG step (Steele, Lea and Flood's SplitMix64):
 *	  the simulated cluster's streams, the simulator's jitter and the
 *	  watcher's backoff.  Spread, not secrecy; the same state always gives the
 *	  same sequence, which keeps `generate` reproducible.
 */
#ifndef K8S_EVENTS_SPLITMIX64_H
#define K8S_EVENTS_SPLITMIX64_H

#include <stdint.h>

static inline uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
