/*
 * sim_store.c
 *	  The Event store behind `k8s-events simulate`.
 */
#include "sim_store.h"

#include "model/event_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ss_event
{
	ss_version *cur;
	int64_t     deadline_us;
	ss_event   *hnext;
	ss_event   *prev;
	ss_event   *next;
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events simulate: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events simulate: out of memory (%zu bytes)\n", n * size);
		exit(1);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char  *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= UINT64_C(1099511628211);
	}
	/* FNV's low bits are weak for power-of-two tables; finish with a mix. */
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

ss_store *
ss_create(const ss_config *cfg)
{
	ss_store *s = xcalloc(1, sizeof(ss_store));

	s->cfg = *cfg;
	s->nbuckets = 1024;
	s->buckets = xcalloc(s->nbuckets, sizeof(ss_event *));
	s->uids_cap = 1024;
	s->uids = xcalloc(s->uids_cap, sizeof(uint64_t));
	s->snaps = xcalloc((size_t) cfg->max_snapshots, sizeof(ss_snapshot));
	return s;
}

void
ss_unref(ss_version *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	for (int a = 0; a < SS_NAPIS; a++)
		free(v->json[a]);
	free(v->name);
	free(v);
}

static void
free_snapshot(ss_snapshot *sn)
{
	ss_release(sn->items, sn->n);
	free(sn->ns);
	sn->ns = NULL;
	sn->items = NULL;
	sn->n = 0;
}

void
ss_destroy(ss_store *s)
{
	if (s == NULL)
		return;
	for (ss_event *e = s->oldest, *next; e; e = next)
	{
		next = e->next;
		ss_unref(e->cur);
		free(e);
	}
	for (size_t i = 0; i < s->hist_count; i++)
		ss_unref(s->hist[(s->hist_head + i) % s->hist_cap].v);
	ss_drop_snapshots(s);
	for (int i = 0; i < s->nnss; i++)
		free(s->nss[i]);
	free(s->nss);
	free(s->snaps);
	free(s->hist);
	free(s->obs);
	free(s->uids);
	free(s->buckets);
	ej_free(&s->scratch);
	free(s);
}

const char *
ss_intern(ss_store *s, const char *ns)
{
	for (int i = 0; i < s->nnss; i++)
		if (strcmp(s->nss[i], ns) == 0)
			return s->nss[i];
	if (s->nnss % 64 == 0)
	{
		char **p = realloc(s->nss, sizeof(char *) * (size_t) (s->nnss + 64));

		if (p == NULL)
		{
			fprintf(stderr, "k8s-events simulate: out of memory\n");
			exit(1);
		}
		s->nss = p;
	}
	s->nss[s->nnss] = xstrdup(ns);
	return s->nss[s->nnss++];
}

static uint16_t
ns_index(ss_store *s, const char *interned)
{
	for (int i = 0; i < s->nnss; i++)
		if (s->nss[i] == interned)
			return (uint16_t) i;
	return 0;
}

/* ---------------------------------------------------------------- alive map */

static ss_event **
bucket_of(ss_store *s, const char *uid)
{
	return &s->buckets[hash_str(uid) & (s->nbuckets - 1)];
}

static ss_event *
find_event(ss_store *s, const char *uid)
{
	for (ss_event *e = *bucket_of(s, uid); e; e = e->hnext)
		if (strcmp(e->cur->uid, uid) == 0)
			return e;
	return NULL;
}

static void
grow_buckets(ss_store *s)
{
	size_t     n = s->nbuckets * 2;
	ss_event **b = xcalloc(n, sizeof(ss_event *));

	for (size_t i = 0; i < s->nbuckets; i++)
		for (ss_event *e = s->buckets[i], *next; e; e = next)
		{
			size_t h = hash_str(e->cur->uid) & (n - 1);

			next = e->hnext;
			e->hnext = b[h];
			b[h] = e;
		}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static void
unlink_order(ss_store *s, ss_event *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->newest = e->prev;
	e->prev = e->next = NULL;
}

/* Deadlines almost always grow, so the place is found from the newest end. */
static void
link_order(ss_store *s, ss_event *e)
{
	ss_event *after = s->newest;

	while (after && after->deadline_us > e->deadline_us)
		after = after->prev;
	e->prev = after;
	e->next = after ? after->next : s->oldest;
	if (e->next)
		e->next->prev = e;
	else
		s->newest = e;
	if (after)
		after->next = e;
	else
		s->oldest = e;
}

static void
remove_event(ss_store *s, ss_event *e)
{
	ss_event **pp = bucket_of(s, e->cur->uid);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_order(s, e);
	s->alive--;
}

/* ---------------------------------------------------------------- distinct uids */

static void
uid_set_add(ss_store *s, const char *uid)
{
	uint64_t h = hash_str(uid);
	size_t   i;

	if (h == 0)
		h = 1;
	if ((s->distinct_uids + 1) * 2 > s->uids_cap)
	{
		size_t    n = s->uids_cap * 2;
		uint64_t *t = xcalloc(n, sizeof(uint64_t));

		for (size_t j = 0; j < s->uids_cap; j++)
			if (s->uids[j])
			{
				size_t k = s->uids[j] & (n - 1);

				while (t[k])
					k = (k + 1) & (n - 1);
				t[k] = s->uids[j];
			}
		free(s->uids);
		s->uids = t;
		s->uids_cap = n;
	}
	for (i = h & (s->uids_cap - 1); s->uids[i]; i = (i + 1) & (s->uids_cap - 1))
		if (s->uids[i] == h)
			return;
	s->uids[i] = h;
	s->distinct_uids++;
}

/* ---------------------------------------------------------------- history */

static void
evict_change(ss_store *s)
{
	ss_change *c = &s->hist[s->hist_head];

	s->floor_rv = c->v->rv;
	ss_unref(c->v);
	c->v = NULL;
	s->hist_head = (s->hist_head + 1) % s->hist_cap;
	s->hist_count--;
	s->base_seq++;
}

static void
push_change(ss_store *s, ss_type type, ss_version *v, int64_t now_mono_us)
{
	ss_change *c;

	if (s->cfg.history_max == 0)
	{
		/* no window at all: every watch must start from the latest resourceVersion */
		s->floor_rv = v->rv;
		s->base_seq++;
		return;
	}
	if (s->hist_count == s->hist_cap)
	{
		if (s->hist_cap < s->cfg.history_max)
		{
			size_t     n = s->hist_cap ? s->hist_cap * 2 : 1024;
			ss_change *h;

			if (n > s->cfg.history_max)
				n = s->cfg.history_max;
			h = xmalloc(n * sizeof(ss_change));
			for (size_t i = 0; i < s->hist_count; i++)
				h[i] = s->hist[(s->hist_head + i) % s->hist_cap];
			free(s->hist);
			s->hist = h;
			s->hist_cap = n;
			s->hist_head = 0;
		}
		else
			evict_change(s);
	}
	c = &s->hist[(s->hist_head + s->hist_count) % s->hist_cap];
	c->seq = s->base_seq + s->hist_count;
	c->type = type;
	c->v = v;
	v->refs++;
	c->mono_us = now_mono_us;
	s->hist_count++;
}

uint64_t
ss_next_seq(const ss_store *s)
{
	return s->base_seq + s->hist_count;
}

const ss_change *
ss_change_at(const ss_store *s, uint64_t seq)
{
	if (seq < s->base_seq || seq >= ss_next_seq(s))
		return NULL;
	return &s->hist[(s->hist_head + (seq - s->base_seq)) % s->hist_cap];
}

uint64_t
ss_seq_after(const ss_store *s, uint64_t rv)
{
	uint64_t lo = s->base_seq;
	uint64_t hi = ss_next_seq(s);

	while (lo < hi)
	{
		uint64_t mid = lo + (hi - lo) / 2;

		if (ss_change_at(s, mid)->v->rv <= rv)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---------------------------------------------------------------- observation log */

static void
log_write(ss_store *s, const ss_version *v, ss_type type)
{
	ss_obs_entry *e;

	if (s->cfg.observation_log == 0)
	{
		s->obs_floor_rv = v->rv;
		return;
	}
	if (s->obs_count == s->obs_cap)
	{
		if (s->obs_cap < s->cfg.observation_log)
		{
			size_t        n = s->obs_cap ? s->obs_cap * 2 : 4096;
			ss_obs_entry *o;

			if (n > s->cfg.observation_log)
				n = s->cfg.observation_log;
			o = xmalloc(n * sizeof(ss_obs_entry));
			for (size_t i = 0; i < s->obs_count; i++)
				o[i] = s->obs[(s->obs_head + i) % s->obs_cap];
			free(s->obs);
			s->obs = o;
			s->obs_cap = n;
			s->obs_head = 0;
		}
		else
		{
			s->obs_floor_rv = s->obs[s->obs_head].rv;
			s->obs_head = (s->obs_head + 1) % s->obs_cap;
			s->obs_count--;
		}
	}
	e = &s->obs[(s->obs_head + s->obs_count) % s->obs_cap];
	e->rv = v->rv;
	snprintf(e->uid, sizeof(e->uid), "%s", v->uid);
	e->type = (uint8_t) type;
	e->ns = ns_index(s, v->ns);
	s->obs_count++;
}

bool
ss_observations(ss_store *s, uint64_t since, ej_buf *out)
{
	size_t lo = 0;
	size_t hi = s->obs_count;

	if (since < s->obs_floor_rv)
		return false;
	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;

		if (s->obs[(s->obs_head + mid) % s->obs_cap].rv <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->obs_count; i++)
	{
		const ss_obs_entry *e = &s->obs[(s->obs_head + i) % s->obs_cap];

		ej_puts(out, "{\"uid\":");
		ej_string(out, e->uid);
		ej_puts(out, ",\"resourceVersion\":\"");
		ej_u64(out, e->rv);
		ej_puts(out, "\",\"namespace\":");
		ej_string(out, s->nss[e->ns]);
		ej_puts(out, e->type == SS_ADDED ? ",\"type\":\"ADDED\"}\n" : ",\"type\":\"MODIFIED\"}\n");
	}
	return true;
}

/* ---------------------------------------------------------------- writes */

static const char RV_KEY[] = "\"resourceVersion\":\"";

ss_version *
ss_write(ss_store *s, const cm_obs *o, int64_t deadline_us, int64_t now_mono_us)
{
	cm_obs      copy = *o;
	ss_version *v = xcalloc(1, sizeof(ss_version));
	ss_event   *e;
	const char *p;
	ss_type     type;

	s->rv = o->resource_version > s->rv ? o->resource_version : s->rv + 1;
	copy.resource_version = s->rv;
	v->refs = 1;
	v->rv = s->rv;
	for (int a = 0; a < SS_NAPIS; a++)
	{
		if (a == SS_API_EVENTS)
			copy.shape = CM_SHAPE_EVENTS_V1;
		else if (o->shape == CM_SHAPE_EVENTS_V1)
			copy.shape = CM_SHAPE_CORE;
		s->scratch.len = 0;
		ej_event(&s->scratch, &copy);
		v->len[a] = s->scratch.len;
		v->json[a] = xmalloc(v->len[a] + 1);
		memcpy(v->json[a], s->scratch.data, v->len[a] + 1);
		/* metadata comes first in both API shapes, so the first match is the Event's own */
		p = strstr(v->json[a], RV_KEY);
		v->rv_off[a] = (size_t) (p - v->json[a]) + strlen(RV_KEY);
		v->rv_len = strspn(v->json[a] + v->rv_off[a], "0123456789");
	}
	snprintf(v->uid, sizeof(v->uid), "%s", o->uid);
	v->ns = ss_intern(s, o->namespace);
	v->name = xstrdup(o->name);

	e = find_event(s, o->uid);
	if (e)
	{
		type = SS_MODIFIED;
		ss_unref(e->cur);
		unlink_order(s, e);
	}
	else
	{
		type = SS_ADDED;
		e = xcalloc(1, sizeof(ss_event));
		if (s->alive >= s->nbuckets)
			grow_buckets(s);
		e->cur = v;
		ss_event **b = bucket_of(s, o->uid);
		e->hnext = *b;
		*b = e;
		s->alive++;
		uid_set_add(s, o->uid);
	}
	e->cur = v;
	e->deadline_us = deadline_us;
	link_order(s, e);
	push_change(s, type, v, now_mono_us);
	if (!s->quiet)
	{
		log_write(s, v, type);
		s->observations++;
	}
	return v;
}

void
ss_append_json(ej_buf *b, const ss_version *v, ss_api api)
{
	ej_append(b, v->json[api], v->len[api]);
}

void
ss_expire(ss_store *s, int64_t sim_us, int64_t now_mono_us)
{
	while (s->oldest && s->oldest->deadline_us <= sim_us)
	{
		ss_event   *e = s->oldest;
		ss_version *old = e->cur;
		ss_version *v = xcalloc(1, sizeof(ss_version));
		char        digits[24];
		size_t      nd;

		remove_event(s, e);
		/* a deletion is a write too: the DELETED object carries its own resourceVersion */
		v->rv = ++s->rv;
		nd = (size_t) snprintf(digits, sizeof(digits), "%llu", (unsigned long long) v->rv);
		for (int a = 0; a < SS_NAPIS; a++)
		{
			v->len[a] = old->len[a] - old->rv_len + nd;
			v->json[a] = xmalloc(v->len[a] + 1);
			memcpy(v->json[a], old->json[a], old->rv_off[a]);
			memcpy(v->json[a] + old->rv_off[a], digits, nd);
			memcpy(v->json[a] + old->rv_off[a] + nd, old->json[a] + old->rv_off[a] + old->rv_len,
			       old->len[a] - old->rv_off[a] - old->rv_len + 1);
			v->rv_off[a] = old->rv_off[a];
		}
		v->rv_len = nd;
		v->refs = 1;
		memcpy(v->uid, old->uid, sizeof(v->uid));
		v->ns = old->ns;
		v->name = xstrdup(old->name);
		ss_unref(old);
		free(e);
		push_change(s, SS_DELETED, v, now_mono_us);
		ss_unref(v);
		s->deletions++;
	}
}

/* ---------------------------------------------------------------- lists and snapshots */

static int
cmp_version(const void *a, const void *b)
{
	const ss_version *x = *(ss_version *const *) a;
	const ss_version *y = *(ss_version *const *) b;
	int               c = x->ns == y->ns ? 0 : strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

ss_version **
ss_collect(ss_store *s, const char *ns, size_t *n)
{
	ss_version **items = xmalloc((s->alive ? s->alive : 1) * sizeof(ss_version *));
	size_t       k = 0;

	for (ss_event *e = s->oldest; e; e = e->next)
		if (ns == NULL || strcmp(e->cur->ns, ns) == 0)
		{
			items[k++] = e->cur;
			e->cur->refs++;
		}
	qsort(items, k, sizeof(ss_version *), cmp_version);
	*n = k;
	return items;
}

void
ss_release(ss_version **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ss_unref(items[i]);
	free(items);
}

ss_version *
ss_lookup(ss_store *s, const char *ns, const char *name)
{
	for (ss_event *e = s->oldest; e; e = e->next)
		if (strcmp(e->cur->ns, ns) == 0 && strcmp(e->cur->name, name) == 0)
			return e->cur;
	return NULL;
}

static void
drop_snapshot_at(ss_store *s, int i)
{
	free_snapshot(&s->snaps[i]);
	memmove(&s->snaps[i], &s->snaps[i + 1], sizeof(ss_snapshot) * (size_t) (s->nsnaps - i - 1));
	s->nsnaps--;
	s->snapshots_expired++;
}

ss_snapshot *
ss_find_snapshot(ss_store *s, uint64_t rv, const char *ns, int64_t now_mono_us)
{
	ss_trim(s, now_mono_us);
	for (int i = 0; i < s->nsnaps; i++)
	{
		ss_snapshot *sn = &s->snaps[i];

		if (sn->rv == rv && (sn->ns == NULL) == (ns == NULL) &&
		    (ns == NULL || strcmp(sn->ns, ns) == 0))
			return sn;
	}
	return NULL;
}

ss_snapshot *
ss_add_snapshot(ss_store *s, const char *ns, ss_version **items, size_t n, int64_t now_mono_us)
{
	ss_snapshot *sn;

	if (s->cfg.max_snapshots <= 0)
	{
		ss_release(items, n);
		return NULL;
	}
	if (s->nsnaps == s->cfg.max_snapshots)
		drop_snapshot_at(s, 0);
	sn = &s->snaps[s->nsnaps++];
	sn->rv = s->rv;
	sn->ns = ns ? xstrdup(ns) : NULL;
	sn->items = items;
	sn->n = n;
	sn->created_mono_us = now_mono_us;
	return sn;
}

void
ss_drop_snapshots(ss_store *s)
{
	while (s->nsnaps > 0)
		drop_snapshot_at(s, s->nsnaps - 1);
}

void
ss_trim(ss_store *s, int64_t now_mono_us)
{
	while (s->hist_count > 0 && s->hist[s->hist_head].mono_us < now_mono_us - s->cfg.history_us)
		evict_change(s);
	while (s->nsnaps > 0 && s->snaps[0].created_mono_us < now_mono_us - s->cfg.continue_ttl_us)
		drop_snapshot_at(s, 0);
}

int64_t
ss_next_expiry(const ss_store *s)
{
	return s->oldest ? s->oldest->deadline_us : INT64_MAX;
}

int64_t
ss_next_trim(const ss_store *s)
{
	int64_t t = INT64_MAX;

	/* the first instant at which the conditions of ss_trim hold */
	if (s->hist_count > 0)
		t = s->hist[s->hist_head].mono_us + s->cfg.history_us + 1;
	if (s->nsnaps > 0 && s->snaps[0].created_mono_us + s->cfg.continue_ttl_us + 1 < t)
		t = s->snaps[0].created_mono_us + s->cfg.continue_ttl_us + 1;
	return t;
}

void
ss_forget_history(ss_store *s)
{
	while (s->hist_count > 0)
		evict_change(s);
	s->floor_rv = s->rv;
}

static int
cmp_rv(const void *a, const void *b)
{
	uint64_t x = (*(ss_version *const *) a)->rv;
	uint64_t y = (*(ss_version *const *) b)->rv;

	return x < y ? -1 : x > y;
}

void
ss_log_alive(ss_store *s)
{
	size_t       n;
	ss_version **items = ss_collect(s, NULL, &n);

	qsort(items, n, sizeof(ss_version *), cmp_rv);
	for (size_t i = 0; i < n; i++)
	{
		log_write(s, items[i], SS_ADDED);
		s->observations++;
	}
	ss_release(items, n);
}
