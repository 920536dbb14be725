/*
 * cluster_model.c
 *	  A simulated Kubernetes cluster that produces a realistic Event stream.
 *
 * A discrete-event simulation: every pending action (a pod finishing its image
 * pull, a node going NotReady, a CronJob firing...) sits in a min-heap ordered
 * by simulated time and insertion sequence, so one seed always yields the same
 * run.  Actions change the cluster and record Events; record() applies the
 * recorders' rules (an Event identical to a live one is a count or series bump
 * of it, an Event not touched for an hour has been deleted by the API server)
 * and hands each write to the caller.
 *
 * Pods are referred to by pool index plus a generation number, so actions for a
 * pod that has since been deleted are recognised and dropped.
 */
#include "cluster_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS     INT64_C(1000)
#define SEC    INT64_C(1000000)
#define MINUTE (60 * SEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

/* kube-apiserver's default --event-ttl: after an hour without writes an Event is gone. */
#define EVENT_TTL         HOUR
#define MAX_PODS_PER_NODE 110
#define CONTROL_PLANE     "control-plane-1"
#define SCHEDULER_INST    "default-scheduler-" CONTROL_PLANE
#define UID_LEN           37
#define MAX_STS_REPLICAS  5
#define CRON_HISTORY      3

typedef enum
{
	IMG_REGISTRY, /* registry.example.com/<ns>/<app>:x.y.z */
	IMG_PUBLIC,   /* nginx:1.25 */
	IMG_DIGEST    /* ghcr.io/acme/<app>@sha256:... */
} img_style;

typedef enum
{
	WL_DEPLOY,
	WL_STS,
	WL_CRON
} wl_kind;

typedef enum
{
	PS_PENDING,  /* not yet bound to a node */
	PS_CREATING, /* bound; volumes, image pulls, containers being set up */
	PS_RUNNING,
	PS_CRASHED,    /* container exited, waiting for its restart */
	PS_TERMINATING /* evicted from an unreachable node, waiting for it to come back */
} pod_state;

typedef enum
{
	EP_READINESS,
	EP_LIVENESS,
	EP_OOM,
	EP_NONE = -1
} episode_kind;

typedef enum
{
	A_GC,
	A_ROLLOUT,
	A_BAD_FIX,
	A_HPA,
	A_HPA_METRIC,
	A_STS_ROLL,
	A_STS_NEXT,
	A_STS_RECREATE,
	A_CRON,
	A_JOB_RETRY,
	A_NODE_TROUBLE,
	A_NODE_NOTREADY,
	A_NODE_EVICT,
	A_NODE_READY,
	A_NODE_PRESSURE_EVICT,
	/* actions from here on target a pod (a = pool index, gen = its generation) */
	A_POD_FIRST,
	A_POD_SCHEDULE = A_POD_FIRST,
	A_POD_ATTACH,
	A_POD_MOUNT,
	A_POD_PULL,
	A_POD_PULLED,
	A_POD_PULL_FAIL,
	A_POD_PULL_BACKOFF,
	A_POD_PULL_RETRY,
	A_POD_START,
	A_POD_READY,
	A_POD_EPISODE,
	A_EP_PROBE,
	A_EP_LIVENESS,
	A_EP_OOM,
	A_EP_BACKOFF,
	A_EP_RESTART,
	A_JOB_FINISH
} action_kind;

typedef struct action
{
	int64_t  t;
	uint64_t seq;
	int      kind;
	int      a;
	uint32_t gen;
	int      b;
} action;

/* What the recorder remembers about a live Event, keyed by everything that identifies it. */
typedef struct evrec
{
	uint64_t key;
	uint64_t name_ns; /* UnixNano of the first occurrence: the name suffix, as client-go makes it */
	int64_t  first_us;
	int64_t  last_us;
	uint64_t inv_rv; /* updates patch count/lastTimestamp only: involvedObject stays as created */
	int32_t  count;
	int32_t  next;
	uint8_t  shape;
	char     uid[UID_LEN];
} evrec;

typedef struct node
{
	char     name[24];
	char     uid[UID_LEN];
	bool     ready;
	bool     kubelet_alive; /* false while the node-controller, not the kubelet, reports it */
	bool     trouble;
	int      trouble_kind; /* 0 memory, 1 disk, 2 network */
	uint32_t trouble_id;
	int      npods;
	int      ip_next;
	bool     busybox; /* init-container helper image already pulled */
} node;

typedef struct nspace
{
	char name[40];
} nspace;

typedef struct workload
{
	wl_kind     kind;
	int         ns;
	char        name[32];
	char        uid[UID_LEN];
	uint64_t    rv;
	char        init[16]; /* init container name, "" if none */
	img_style   style;
	char        repo[96];
	int         v[3];
	char        digest[65];
	char        image[200];
	char        proc[16]; /* process name the OOM killer reports */
	int         port;
	const char *probe_path;
	bool        tcp_probe;
	uint8_t    *img_on_node;
	int         replicas;
	double      flaky;      /* random episodes per pod-day */
	double      oomy;       /* share of episodes that are OOM kills */
	double      slow_start; /* chance of readiness failures while starting */
	int64_t     rollout_mean;
	/* Deployment */
	int      cur_rs;
	int      old_rs;
	bool     rolling;
	bool     hpa;
	char     hpa_uid[UID_LEN];
	uint64_t hpa_rv;
	int      hpa_min;
	int      hpa_max;
	/* StatefulSet */
	char pvc[MAX_STS_REPLICAS][UID_LEN];
	int  sts_node[MAX_STS_REPLICAS];
	int  sts_ord;
	/* CronJob */
	int      period_min;
	int      offset_min;
	double   fail_rate;
	double   run_mean_s;
	bool     job_active;
	char     job_name[64];
	int64_t  job_stamp; /* scheduled time in minutes, the Job name's suffix */
	char     job_uid[UID_LEN];
	uint64_t job_rv;
	int      job_attempts;
	int      job_pod;
	int64_t  hist[CRON_HISTORY + 1];
	int      nhist;
	int64_t  last_failed; /* minute stamp of the last failed job kept, 0 if none */
} workload;

typedef struct replicaset
{
	bool     used;
	int      wl;
	char     name[64];
	char     uid[UID_LEN];
	uint64_t rv;
	int      target;
	bool     bad; /* its image tag does not exist */
	int      next_free;
} replicaset;

typedef struct pod
{
	bool      used;
	uint32_t  gen;
	int       next_free;
	int       wl;
	int       rs; /* -1 for StatefulSet/Job pods and evicted pods */
	int       ordinal;
	int       node;
	pod_state state;
	char      name[80];
	char      uid[UID_LEN];
	uint64_t  rv;
	char      ip[20];
	char      image[200];
	int64_t   created;
	bool      started; /* a container ran, so deleting it means a Killing event */
	bool      ready;
	bool      episode;
	bool      episode_forced;
	bool      episodes_on;
	bool      bad_image;
	bool      job_pod;
	bool      will_fail;
	int       probe_variant;
	int       crash_n;
	int64_t   restart_at;
	int       sched_fail_left;
	int       mount_fail_left;
	int       mount_k;
	int       pull_fail_left;
	int       pull_ci;
	int64_t   pull_started;
} pod;

struct cm_model
{
	cm_config  cfg;
	cm_emit_fn emit;
	void      *arg;
	uint64_t   rs[4];
	int64_t    now;
	int64_t    last_emit;
	bool       stopped;
	int64_t    emitted;
	uint64_t   rv;
	uint64_t   seq;

	action *heap;
	size_t  nheap;
	size_t  capheap;

	evrec   *recs;
	int32_t  nrecs;
	int32_t  caprecs;
	int32_t  free_rec;
	int32_t *buckets;
	uint32_t nbuckets;
	int32_t  live_recs;

	node       *nodes;
	nspace     *nss;
	workload   *wls;
	int         nwls;
	int         capwls;
	replicaset *rss;
	int         caprss;
	int         free_rs;
	pod        *pods;
	int         cappods;
	int         free_pod;
	int        *scratch; /* pod index list, cappods long */

	char msg[2048];
	char evname[128];
	char fp[64];
	char refname[96];
};

/* ---------------------------------------------------------------- basics */

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return q;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory\n");
		exit(1);
	}
	return p;
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

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

static double
rndf(cm_model *m)
{
	return (double) (rnd(m) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static int64_t
rndi(cm_model *m, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t) (rnd(m) % (uint64_t) (hi - lo + 1));
}

static bool
chance(cm_model *m, double p)
{
	return rndf(m) < p;
}

static int64_t
rexp(cm_model *m, int64_t mean)
{
	return (int64_t) (-log(1.0 - rndf(m)) * (double) mean);
}

static double
rnorm(cm_model *m)
{
	double u1 = 1.0 - rndf(m);
	double u2 = rndf(m);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void
make_uid(cm_model *m, char *out)
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
static void
make_suffix(cm_model *m, char *out, int n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	int               i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[rnd(m) % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

static void
make_hex(cm_model *m, char *out, int n)
{
	static const char hex[] = "0123456789abcdef";
	int               i;

	for (i = 0; i < n; i++)
		out[i] = hex[rnd(m) & 15];
	out[n] = '\0';
}

/* The API server's resourceVersion: one etcd revision for every write, Events or not. */
static uint64_t
next_rv(cm_model *m)
{
	m->rv += 1 + (rnd(m) & 3);
	return m->rv;
}

/* ---------------------------------------------------------------- action heap */

static bool
act_less(const action *x, const action *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void
push(cm_model *m, int64_t t, int kind, int a, uint32_t gen, int b)
{
	size_t i;

	/* nothing after the end can be observed, so it need not be simulated */
	if (t >= m->cfg.end_us)
		return;
	if (t < m->now)
		t = m->now;
	if (m->nheap == m->capheap)
	{
		m->capheap = m->capheap ? m->capheap * 2 : 1024;
		m->heap = xrealloc(m->heap, m->capheap * sizeof(action));
	}
	i = m->nheap++;
	m->heap[i] = (action){t, m->seq++, kind, a, gen, b};
	while (i > 0)
	{
		size_t parent = (i - 1) / 2;
		action tmp;

		if (!act_less(&m->heap[i], &m->heap[parent]))
			break;
		tmp = m->heap[i];
		m->heap[i] = m->heap[parent];
		m->heap[parent] = tmp;
		i = parent;
	}
}

static action
pop(cm_model *m)
{
	action top = m->heap[0];
	size_t i = 0;

	m->heap[0] = m->heap[--m->nheap];
	for (;;)
	{
		size_t l = 2 * i + 1;
		size_t r = l + 1;
		size_t s = i;
		action tmp;

		if (l < m->nheap && act_less(&m->heap[l], &m->heap[s]))
			s = l;
		if (r < m->nheap && act_less(&m->heap[r], &m->heap[s]))
			s = r;
		if (s == i)
			break;
		tmp = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = tmp;
		i = s;
	}
	return top;
}

static void
push_pod(cm_model *m, int64_t t, int kind, int p, int b)
{
	push(m, t, kind, p, m->pods[p].gen, b);
}

/* ---------------------------------------------------------------- event records */

static uint64_t
hash_str(uint64_t h, const char *s)
{
	if (s)
		for (; *s; s++)
		{
			h ^= (unsigned char) *s;
			h *= UINT64_C(0x100000001b3);
		}
	/* a separator, so ("ab","c") and ("a","bc") differ */
	h ^= 0xff;
	h *= UINT64_C(0x100000001b3);
	return h;
}

static void
rec_rehash(cm_model *m, uint32_t nb)
{
	int32_t i;

	free(m->buckets);
	m->buckets = xcalloc(nb, sizeof(int32_t));
	for (i = 0; (uint32_t) i < nb; i++)
		m->buckets[i] = -1;
	m->nbuckets = nb;
	for (i = 0; i < m->nrecs; i++)
	{
		evrec *r = &m->recs[i];

		if (r->count == 0)
			continue;
		r->next = m->buckets[r->key & (nb - 1)];
		m->buckets[r->key & (nb - 1)] = i;
	}
}

static evrec *
rec_find(cm_model *m, uint64_t key)
{
	int32_t i = m->buckets[key & (m->nbuckets - 1)];

	while (i >= 0)
	{
		if (m->recs[i].key == key)
			return &m->recs[i];
		i = m->recs[i].next;
	}
	return NULL;
}

static evrec *
rec_insert(cm_model *m, uint64_t key)
{
	int32_t i;
	evrec  *r;

	if (m->free_rec >= 0)
	{
		i = m->free_rec;
		m->free_rec = m->recs[i].next;
	}
	else
	{
		if (m->nrecs == m->caprecs)
		{
			m->caprecs = m->caprecs ? m->caprecs * 2 : 4096;
			m->recs = xrealloc(m->recs, (size_t) m->caprecs * sizeof(evrec));
		}
		i = m->nrecs++;
	}
	r = &m->recs[i];
	memset(r, 0, sizeof(*r));
	r->key = key;
	r->next = m->buckets[key & (m->nbuckets - 1)];
	m->buckets[key & (m->nbuckets - 1)] = i;
	m->live_recs++;
	if ((uint32_t) m->live_recs > m->nbuckets)
	{
		rec_rehash(m, m->nbuckets * 2);
		r = &m->recs[i];
	}
	return r;
}

/* Drop Events the API server has expired; keeps memory bounded by an hour of Events. */
static void
rec_gc(cm_model *m)
{
	uint32_t b;

	for (b = 0; b < m->nbuckets; b++)
	{
		int32_t *link = &m->buckets[b];

		while (*link >= 0)
		{
			evrec *r = &m->recs[*link];

			if (m->now - r->last_us >= EVENT_TTL)
			{
				int32_t i = *link;

				*link = r->next;
				r->count = 0;
				r->next = m->free_rec;
				m->free_rec = i;
				m->live_recs--;
			}
			else
				link = &r->next;
		}
	}
}

/*
 * Record an Event whose message is in m->msg, at time t (kept monotonic so that
 * resourceVersion order and time order agree).  new_style Events are written
 * through events.k8s.io (the scheduler's); the rest by the core/v1 recorder.
 */
static void
record(cm_model *m, int64_t t, const cm_obj_ref *inv, const char *type, const char *reason,
       const char *component, const char *host, bool new_style, const char *action,
       const char *rep_component, const char *rep_instance)
{
	uint64_t key = UINT64_C(0xcbf29ce484222325);
	evrec   *r;
	cm_obs   o;

	if (m->stopped)
		return;
	/* components' clocks do not tick in whole milliseconds */
	t += rndi(m, 0, 999);
	if (t < m->last_emit)
		t = m->last_emit;
	if (t >= m->cfg.end_us)
		return;
	key = hash_str(key, inv->uid);
	key = hash_str(key, inv->field_path);
	key = hash_str(key, reason);
	key = hash_str(key, type);
	key = hash_str(key, m->msg);
	key = hash_str(key, component);
	key = hash_str(key, host);
	key = hash_str(key, rep_component);
	r = rec_find(m, key);
	if (r && t - r->last_us >= EVENT_TTL)
	{
		/* expired: the next occurrence creates a new Event; the old record is reused */
		r->count = 0;
	}
	if (r && r->count > 0)
	{
		/* a second bump within the same second would not move lastTimestamp; the
		 * recorder's spam filter swallows such bursts */
		if (t - r->last_us < SEC)
			return;
		r->count++;
		r->last_us = t;
	}
	else
	{
		if (r == NULL)
			r = rec_insert(m, key);
		r->name_ns = (uint64_t) t * 1000 + (uint64_t) rndi(m, 0, 999);
		make_uid(m, r->uid);
		r->first_us = r->last_us = t;
		r->count = 1;
		r->inv_rv = inv->resource_version;
		r->shape = CM_SHAPE_CORE;
		if (m->cfg.mixed)
		{
			int64_t d = rndi(m, 0, 99);

			if (d < 20)
				r->shape = CM_SHAPE_EVENTS_V1;
			else if (d < 30 && !new_style)
				r->shape = CM_SHAPE_CORE_OLD;
		}
	}
	m->last_emit = t;
	snprintf(m->evname, sizeof(m->evname), "%s.%llx", inv->name, (unsigned long long) r->name_ns);

	memset(&o, 0, sizeof(o));
	o.modified = r->count > 1;
	o.new_style = new_style;
	o.shape = (cm_shape) r->shape;
	o.name = m->evname;
	o.namespace = inv->namespace ? inv->namespace : "default";
	o.uid = r->uid;
	o.resource_version = next_rv(m);
	o.creation_us = r->first_us;
	o.involved = *inv;
	o.involved.resource_version = r->inv_rv;
	o.reason = reason;
	o.message = m->msg;
	o.type = type;
	o.source_component = component;
	o.source_host = host;
	o.first_us = r->first_us;
	o.last_us = r->last_us;
	o.count = r->count;
	if (new_style)
	{
		o.event_time_us = r->first_us;
		o.action = action;
		if (r->count > 1)
		{
			o.series_count = r->count;
			o.series_last_us = r->last_us;
		}
	}
	o.reporting_component = rep_component ? rep_component : "";
	o.reporting_instance = rep_instance ? rep_instance : "";
	m->emitted++;
	if (!m->emit(&o, m->arg))
		m->stopped = true;
}

static void
vmsg(cm_model *m, const char *fmt, va_list ap)
{
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
}

/* ---------------------------------------------------------------- object references */

static const char *
ns_name(cm_model *m, int wl)
{
	return m->nss[m->wls[wl].ns].name;
}

static const char *
container_name(cm_model *m, const pod *p, int ci)
{
	return ci == 0 ? m->wls[p->wl].init : m->wls[p->wl].name;
}

/* ci: -1 no fieldPath, 0 the init container, 1 the main container */
static cm_obj_ref
pod_ref(cm_model *m, const pod *p, int ci)
{
	cm_obj_ref r = {"Pod", ns_name(m, p->wl), p->name, p->uid, "v1", p->rv, NULL};

	if (ci >= 0)
	{
		snprintf(m->fp, sizeof(m->fp), "spec.%s{%s}", ci == 0 ? "initContainers" : "containers",
		         container_name(m, p, ci));
		r.field_path = m->fp;
	}
	return r;
}

static cm_obj_ref
wl_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {NULL, ns_name(m, w), wl->name, wl->uid, NULL, wl->rv, NULL};

	switch (wl->kind)
	{
		case WL_DEPLOY:
			r.kind = "Deployment";
			r.api_version = "apps/v1";
			break;
		case WL_STS:
			r.kind = "StatefulSet";
			r.api_version = "apps/v1";
			break;
		case WL_CRON:
			r.kind = "CronJob";
			r.api_version = "batch/v1";
			break;
	}
	return r;
}

static cm_obj_ref
rs_ref(cm_model *m, int rsi)
{
	replicaset *rs = &m->rss[rsi];
	cm_obj_ref  r = {"ReplicaSet", ns_name(m, rs->wl), rs->name, rs->uid, "apps/v1", rs->rv, NULL};

	return r;
}

static cm_obj_ref
job_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {"Job", ns_name(m, w), wl->job_name, wl->job_uid, "batch/v1", wl->job_rv, NULL};

	return r;
}

static cm_obj_ref
hpa_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {"HorizontalPodAutoscaler", ns_name(m, w), wl->name, wl->hpa_uid,
	                "autoscaling/v2",          wl->hpa_rv,    NULL};

	return r;
}

/* The kubelet refers to its Node by name, with the name as uid (as real kubelets do). */
static cm_obj_ref
node_kubelet_ref(cm_model *m, int n)
{
	cm_obj_ref r = {"Node", NULL, m->nodes[n].name, m->nodes[n].name, NULL, 0, NULL};

	return r;
}

static cm_obj_ref
node_ctrl_ref(cm_model *m, int n)
{
	cm_obj_ref r = {"Node", NULL, m->nodes[n].name, m->nodes[n].uid, "v1", 0, NULL};

	return r;
}

/* ---------------------------------------------------------------- event helpers */

static void __attribute__((format(printf, 7, 8)))
ctrl_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type, const char *reason,
        const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	record(m, t, ref, type, reason, component, NULL, false, NULL, component, "");
}

static void __attribute__((format(printf, 8, 9)))
host_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type, const char *reason,
        const char *component, const char *host, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	record(m, t, ref, type, reason, component, host, false, NULL, component, host);
}

static void __attribute__((format(printf, 6, 7)))
sched_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type_reason[2],
         const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	record(m, t, ref, type_reason[0], type_reason[1], NULL, NULL, true, action, "default-scheduler",
	       SCHEDULER_INST);
}

#define NORMAL(reason)                                                                             \
	(const char *[2])                                                                              \
	{                                                                                              \
		"Normal", reason                                                                           \
	}
#define WARNING(reason)                                                                            \
	(const char *[2])                                                                              \
	{                                                                                              \
		"Warning", reason                                                                          \
	}

/* A pod's kubelet event: dropped (as in reality) while its kubelet cannot reach the API. */
static void __attribute__((format(printf, 6, 7)))
pod_ev(cm_model *m, int64_t t, int p, int ci, const char *type_reason[2], const char *fmt, ...)
{
	pod       *pd = &m->pods[p];
	cm_obj_ref ref;
	va_list    ap;

	if (pd->node < 0 || !m->nodes[pd->node].kubelet_alive)
		return;
	ref = pod_ref(m, pd, ci);
	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	record(m, t, &ref, type_reason[0], type_reason[1], "kubelet", m->nodes[pd->node].name, false,
	       NULL, "kubelet", m->nodes[pd->node].name);
}

/* Go's time.Duration.String() of a duration truncated to milliseconds. */
static void
go_duration(int64_t ms, char *out, size_t len)
{
	int64_t secs = ms / 1000;
	int     frac = (int) (ms % 1000);
	char    f[8] = "";
	int     n;

	if (ms < 1000)
	{
		snprintf(out, len, ms == 0 ? "0s" : "%dms", (int) ms);
		return;
	}
	if (frac)
	{
		snprintf(f, sizeof(f), ".%03d", frac);
		n = (int) strlen(f);
		while (n > 1 && f[n - 1] == '0')
			f[--n] = '\0';
	}
	if (secs >= 60)
		snprintf(out, len, "%dm%d%ss", (int) (secs / 60), (int) (secs % 60), f);
	else
		snprintf(out, len, "%d%ss", (int) secs, f);
}

/* containerd reports images by their normalized reference. */
static void
normalized_image(const char *image, char *out, size_t len)
{
	const char *slash = strchr(image, '/');

	if (slash == NULL)
		snprintf(out, len, "docker.io/library/%s", image);
	else if (memchr(image, '.', (size_t) (slash - image)) == NULL)
		snprintf(out, len, "docker.io/%s", image);
	else
		snprintf(out, len, "%s", image);
}

/* ---------------------------------------------------------------- images */

static void
wl_image_refresh(workload *w)
{
	switch (w->style)
	{
		case IMG_REGISTRY:
			snprintf(w->image, sizeof(w->image), "%s:%d.%d.%d", w->repo, w->v[0], w->v[1], w->v[2]);
			break;
		case IMG_PUBLIC:
			snprintf(w->image, sizeof(w->image), "%s:%d.%d", w->repo, w->v[0], w->v[1]);
			break;
		case IMG_DIGEST:
			snprintf(w->image, sizeof(w->image), "%s@sha256:%s", w->repo, w->digest);
			break;
	}
}

/* A new release.  Returns false when only the pod template changed, not the image. */
static bool
wl_new_version(cm_model *m, workload *w)
{
	double r = rndf(m);

	switch (w->style)
	{
		case IMG_REGISTRY:
			if (r < 0.25)
				return false;
			if (r < 0.85)
				w->v[2]++;
			else
			{
				w->v[1]++;
				w->v[2] = 0;
			}
			break;
		case IMG_PUBLIC:
			if (r < 0.85)
				return false;
			w->v[1]++;
			break;
		case IMG_DIGEST:
			if (r < 0.25)
				return false;
			make_hex(m, w->digest, 64);
			break;
	}
	wl_image_refresh(w);
	memset(w->img_on_node, 0, (size_t) m->cfg.nodes);
	return true;
}

/* ---------------------------------------------------------------- pods and replica sets */

static int
pod_alloc(cm_model *m, int w, const char *name)
{
	int  p;
	pod *pd;

	if (m->free_pod < 0)
	{
		int old = m->cappods;
		int i;

		m->cappods = old ? old * 2 : 256;
		m->pods = xrealloc(m->pods, (size_t) m->cappods * sizeof(pod));
		m->scratch = xrealloc(m->scratch, (size_t) m->cappods * sizeof(int));
		for (i = old; i < m->cappods; i++)
		{
			memset(&m->pods[i], 0, sizeof(pod));
			m->pods[i].next_free = i + 1 < m->cappods ? i + 1 : -1;
		}
		m->free_pod = old;
	}
	p = m->free_pod;
	pd = &m->pods[p];
	m->free_pod = pd->next_free;
	{
		uint32_t gen = pd->gen + 1;

		memset(pd, 0, sizeof(*pd));
		pd->gen = gen;
	}
	pd->used = true;
	pd->wl = w;
	pd->rs = -1;
	pd->node = -1;
	pd->ordinal = -1;
	pd->job_pod = false;
	pd->state = PS_PENDING;
	snprintf(pd->name, sizeof(pd->name), "%s", name);
	make_uid(m, pd->uid);
	pd->rv = next_rv(m);
	pd->created = m->now;
	snprintf(pd->image, sizeof(pd->image), "%s", m->wls[w].image);
	return p;
}

static void
pod_free(cm_model *m, int p)
{
	pod *pd = &m->pods[p];

	if (pd->node >= 0)
		m->nodes[pd->node].npods--;
	pd->used = false;
	pd->gen++;
	pd->next_free = m->free_pod;
	m->free_pod = p;
}

static void
pod_bind(cm_model *m, int p, int n)
{
	pod  *pd = &m->pods[p];
	node *nd = &m->nodes[n];

	pd->node = n;
	nd->npods++;
	snprintf(pd->ip, sizeof(pd->ip), "10.%d.%d.%d", 244 + n / 256, n % 256, nd->ip_next);
	nd->ip_next = nd->ip_next >= 254 ? 2 : nd->ip_next + 1;
}

/* Two random choices, the emptier wins: spreads pods like the scheduler's scoring. */
static int
pick_node(cm_model *m, int *nready)
{
	int n1 = -1;
	int n2 = -1;
	int i;
	int cnt = 0;

	for (i = 0; i < m->cfg.nodes; i++)
		if (m->nodes[i].ready && m->nodes[i].npods < MAX_PODS_PER_NODE)
			cnt++;
	*nready = cnt;
	if (cnt == 0)
		return -1;
	for (int tries = 0; tries < 2; tries++)
	{
		int k = (int) rndi(m, 0, cnt - 1);

		for (i = 0; i < m->cfg.nodes; i++)
			if (m->nodes[i].ready && m->nodes[i].npods < MAX_PODS_PER_NODE && k-- == 0)
				break;
		if (tries == 0)
			n1 = i;
		else
			n2 = i;
	}
	return m->nodes[n2].npods < m->nodes[n1].npods ? n2 : n1;
}

static int
rs_alloc(cm_model *m, int w)
{
	int         i;
	replicaset *rs;
	char        hash[12];

	if (m->free_rs < 0)
	{
		int old = m->caprss;

		m->caprss = old ? old * 2 : 64;
		m->rss = xrealloc(m->rss, (size_t) m->caprss * sizeof(replicaset));
		for (i = old; i < m->caprss; i++)
		{
			memset(&m->rss[i], 0, sizeof(replicaset));
			m->rss[i].next_free = i + 1 < m->caprss ? i + 1 : -1;
		}
		m->free_rs = old;
	}
	i = m->free_rs;
	rs = &m->rss[i];
	m->free_rs = rs->next_free;
	memset(rs, 0, sizeof(*rs));
	rs->used = true;
	rs->wl = w;
	/* pod-template-hash values are 9 or 10 characters */
	make_suffix(m, hash, chance(m, 0.5) ? 9 : 10);
	snprintf(rs->name, sizeof(rs->name), "%s-%s", m->wls[w].name, hash);
	make_uid(m, rs->uid);
	rs->rv = next_rv(m);
	return i;
}

static void
rs_free(cm_model *m, int i)
{
	m->rss[i].used = false;
	m->rss[i].next_free = m->free_rs;
	m->free_rs = i;
}

/* Pods of a replica set (or of a workload when rsi < 0), into m->scratch. */
static int
collect_pods(cm_model *m, int rsi, int w, bool ready_only)
{
	int n = 0;
	int i;

	for (i = 0; i < m->cappods; i++)
	{
		pod *pd = &m->pods[i];

		if (!pd->used || pd->state == PS_TERMINATING)
			continue;
		if (rsi >= 0 ? pd->rs != rsi : pd->wl != w)
			continue;
		if (ready_only && !pd->ready)
			continue;
		m->scratch[n++] = i;
	}
	return n;
}

static int
count_ready(cm_model *m, int rsi)
{
	return rsi < 0 ? 0 : collect_pods(m, rsi, -1, true);
}

static void schedule_episode(cm_model *m, int p);

/* A new pod of a controller: what happens between creation and binding. */
static void
pod_created(cm_model *m, int64_t t, int p)
{
	pod      *pd = &m->pods[p];
	workload *w = &m->wls[pd->wl];

	pd->created = t;
	/* mostly a brief squeeze; sometimes the pod waits hours for capacity */
	if (chance(m, 0.015))
		pd->sched_fail_left = chance(m, 0.25) ? (int) rndi(m, 6, 30) : (int) rndi(m, 1, 4);
	if (chance(m, w->kind == WL_STS ? 0.06 : 0.008))
		pd->mount_fail_left = (int) rndi(m, 2, 7);
	if (!pd->bad_image && w->style == IMG_REGISTRY && chance(m, 0.006))
		pd->pull_fail_left = (int) rndi(m, 1, 2);
	push_pod(m, t + rndi(m, 2, 40) * MS, A_POD_SCHEDULE, p, 0);
}

static void
rs_scale_up(cm_model *m, int64_t *t, int rsi, int n)
{
	replicaset *rs = &m->rss[rsi];

	for (int i = 0; i < n; i++)
	{
		char       sfx[8];
		char       name[80];
		cm_obj_ref ref;
		int        p;

		make_suffix(m, sfx, 5);
		snprintf(name, sizeof(name), "%s-%s", rs->name, sfx);
		p = pod_alloc(m, rs->wl, name);
		m->pods[p].rs = rsi;
		m->pods[p].bad_image = rs->bad;
		*t += rndi(m, 1, 15) * MS;
		ref = rs_ref(m, rsi);
		ctrl_ev(m, *t, &ref, "Normal", "SuccessfulCreate", "replicaset-controller",
		        "Created pod: %s", name);
		pod_created(m, *t, p);
	}
}

/* Deleting a pod: the kubelet stops its container, if one ever ran. */
static void
pod_delete(cm_model *m, int64_t t, int p)
{
	pod *pd = &m->pods[p];

	if (pd->started && pd->state != PS_CRASHED)
		pod_ev(m, t + rndi(m, 5, 120) * MS, p, 1, NORMAL("Killing"), "Stopping container %s",
		       container_name(m, pd, 1));
	pod_free(m, p);
}

/* The ReplicaSet controller's victim order: unscheduled, then not ready, then newest. */
static int
pod_rank(const pod *pd)
{
	if (pd->state == PS_PENDING)
		return 0;
	if (pd->state == PS_CREATING)
		return 1;
	return pd->ready ? 3 : 2;
}

static void
rs_scale_down(cm_model *m, int64_t *t, int rsi, int n)
{
	for (int k = 0; k < n; k++)
	{
		int        cnt = collect_pods(m, rsi, -1, false);
		int        best = -1;
		cm_obj_ref ref;

		for (int i = 0; i < cnt; i++)
		{
			pod *c = &m->pods[m->scratch[i]];
			pod *b = best >= 0 ? &m->pods[best] : NULL;

			if (b == NULL || pod_rank(c) < pod_rank(b) ||
			    (pod_rank(c) == pod_rank(b) && c->created > b->created))
				best = m->scratch[i];
		}
		if (best < 0)
			return;
		*t += rndi(m, 1, 15) * MS;
		ref = rs_ref(m, rsi);
		ctrl_ev(m, *t, &ref, "Normal", "SuccessfulDelete", "replicaset-controller",
		        "Deleted pod: %s", m->pods[best].name);
		pod_delete(m, *t, best);
	}
}

/* ---------------------------------------------------------------- deployments */

static void
scaling_ev(cm_model *m, int64_t *t, int w, int rsi, bool up, int to)
{
	cm_obj_ref ref = wl_ref(m, w);

	*t += rndi(m, 1, 10) * MS;
	ctrl_ev(m, *t, &ref, "Normal", "ScalingReplicaSet", "deployment-controller",
	        "Scaled %s replica set %s to %d", up ? "up" : "down", m->rss[rsi].name, to);
}

/*
 * The deployment controller's rolling update (maxSurge 25% rounded up,
 * maxUnavailable 25% rounded down): grow the new ReplicaSet as far as the surge
 * allows, shrink the old one as far as availability allows, until done.
 */
static void
deploy_sync(cm_model *m, int w)
{
	workload *wl = &m->wls[w];
	int       R = wl->replicas;
	int       surge = (R + 3) / 4;
	int       unav = R / 4;
	int64_t   t = m->now;

	if (!wl->rolling)
		return;
	if (surge < 1)
		surge = 1;
	for (int iter = 0; iter < 8; iter++)
	{
		replicaset *cur = &m->rss[wl->cur_rs];
		int         old_t = wl->old_rs >= 0 ? m->rss[wl->old_rs].target : 0;
		int         want = R + surge - old_t;
		bool        changed = false;

		if (want > R)
			want = R;
		if (want > cur->target)
		{
			scaling_ev(m, &t, w, wl->cur_rs, true, want);
			rs_scale_up(m, &t, wl->cur_rs, want - cur->target);
			cur = &m->rss[wl->cur_rs];
			cur->target = want;
			changed = true;
		}
		if (old_t > 0)
		{
			int can_remove = count_ready(m, wl->cur_rs) + count_ready(m, wl->old_rs) - (R - unav);

			if (can_remove > 0)
			{
				int nt = old_t - can_remove < 0 ? 0 : old_t - can_remove;

				scaling_ev(m, &t, w, wl->old_rs, false, nt);
				rs_scale_down(m, &t, wl->old_rs, old_t - nt);
				m->rss[wl->old_rs].target = nt;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	if ((wl->old_rs < 0 || m->rss[wl->old_rs].target == 0) && count_ready(m, wl->cur_rs) >= R)
	{
		if (wl->old_rs >= 0)
			rs_free(m, wl->old_rs);
		wl->old_rs = -1;
		wl->rolling = false;
		push(m, m->now + 10 * MINUTE + rexp(m, wl->rollout_mean), A_ROLLOUT, w, 0, 0);
	}
}

static void
do_rollout(cm_model *m, int w)
{
	workload *wl = &m->wls[w];
	bool      image_changed;

	if (wl->rolling)
	{
		push(m, m->now + 30 * MINUTE, A_ROLLOUT, w, 0, 0);
		return;
	}
	image_changed = wl_new_version(m, wl);
	wl->rv = next_rv(m);
	wl->old_rs = wl->cur_rs;
	wl->cur_rs = rs_alloc(m, w);
	wl->rolling = true;
	/* a tag that was never pushed: the rollout stalls until someone ships a fix */
	if (image_changed && wl->style == IMG_REGISTRY && chance(m, 0.05))
	{
		m->rss[wl->cur_rs].bad = true;
		push(m, m->now + rndi(m, 12, 50) * MINUTE, A_BAD_FIX, w, 0, 0);
	}
	deploy_sync(m, w);
}

static void
do_bad_fix(cm_model *m, int w)
{
	workload *wl = &m->wls[w];
	int64_t   t = m->now;
	int       bad = wl->cur_rs;

	if (!wl->rolling || !m->rss[bad].bad)
		return;
	scaling_ev(m, &t, w, bad, false, 0);
	rs_scale_down(m, &t, bad, collect_pods(m, bad, -1, false));
	rs_free(m, bad);
	wl->v[2]++;
	wl_image_refresh(wl);
	memset(wl->img_on_node, 0, (size_t) m->cfg.nodes);
	wl->rv = next_rv(m);
	wl->cur_rs = rs_alloc(m, w);
	deploy_sync(m, w);
}

static void
do_hpa(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	double     hour = fmod((double) m->now / (double) HOUR, 24.0);
	double     load = 0.5 + 0.5 * sin(2.0 * M_PI * (hour - 9.0) / 24.0);
	int        desired;
	int64_t    t = m->now;
	cm_obj_ref ref;

	push(m, m->now + rndi(m, 15, 30) * MINUTE, A_HPA, w, 0, 0);
	if (wl->rolling)
		return;
	desired = wl->hpa_min + (int) lround((wl->hpa_max - wl->hpa_min) * load + 0.3 * rnorm(m));
	if (desired < wl->hpa_min)
		desired = wl->hpa_min;
	if (desired > wl->hpa_max)
		desired = wl->hpa_max;
	if (desired == wl->replicas)
		return;
	ref = hpa_ref(m, w);
	ctrl_ev(m, t, &ref, "Normal", "SuccessfulRescale", "horizontal-pod-autoscaler",
	        "New size: %d; reason: %s", desired,
	        desired < wl->replicas ? "All metrics below target"
	        : chance(m, 0.8)       ? "cpu resource utilization (percentage of request) above target"
	                         : "memory resource utilization (percentage of request) above target");
	scaling_ev(m, &t, w, wl->cur_rs, desired > wl->replicas, desired);
	if (desired > wl->replicas)
	{
		rs_scale_up(m, &t, wl->cur_rs, desired - wl->replicas);
		if (chance(m, 0.25))
			push(m, m->now + rndi(m, 14, 16) * SEC, A_HPA_METRIC, w, 0, (int) rndi(m, 1, 3));
	}
	else
		rs_scale_down(m, &t, wl->cur_rs, wl->replicas - desired);
	m->rss[wl->cur_rs].target = desired;
	wl->replicas = desired;
}

/* Freshly started pods have no metrics yet. */
static void
do_hpa_metric(cm_model *m, int w, int left)
{
	cm_obj_ref  ref = hpa_ref(m, w);
	const char *err = "failed to get cpu utilization: unable to get metrics for resource cpu: no "
	                  "metrics returned from resource metrics API";

	ctrl_ev(m, m->now, &ref, "Warning", "FailedGetResourceMetric", "horizontal-pod-autoscaler",
	        "%s", err);
	ctrl_ev(m, m->now + rndi(m, 1, 5) * MS, &ref, "Warning", "FailedComputeMetricsReplicas",
	        "horizontal-pod-autoscaler",
	        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
	        "metric value: %s",
	        err);
	if (left > 1)
		push(m, m->now + 15 * SEC + rndi(m, 0, 500) * MS, A_HPA_METRIC, w, 0, left - 1);
}

/* ---------------------------------------------------------------- statefulsets */

static void
sts_create_pod(cm_model *m, int64_t t, int w, int ord)
{
	workload  *wl = &m->wls[w];
	char       name[80];
	cm_obj_ref ref;
	int        p;

	snprintf(name, sizeof(name), "%s-%d", wl->name, ord);
	p = pod_alloc(m, w, name);
	m->pods[p].ordinal = ord;
	ref = wl_ref(m, w);
	ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "statefulset-controller",
	        "create Pod %s in StatefulSet %s successful", name, wl->name);
	pod_created(m, t, p);
}

static int
sts_find(cm_model *m, int w, int ord)
{
	int cnt = collect_pods(m, -1, w, false);

	for (int i = 0; i < cnt; i++)
		if (m->pods[m->scratch[i]].ordinal == ord)
			return m->scratch[i];
	return -1;
}

/* Rolling update in reverse ordinal order: delete one, wait for its successor to be ready. */
static void
sts_next(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	int        p;
	cm_obj_ref ref;
	int64_t    t = m->now;

	if (!wl->rolling)
		return;
	if (wl->sts_ord < 0)
	{
		wl->rolling = false;
		push(m, m->now + 6 * HOUR + rexp(m, wl->rollout_mean), A_STS_ROLL, w, 0, 0);
		return;
	}
	p = sts_find(m, w, wl->sts_ord);
	if (p < 0)
	{
		/* the pod is gone already (evicted); the rollout resumes when it is back */
		return;
	}
	ref = wl_ref(m, w);
	ctrl_ev(m, t, &ref, "Normal", "SuccessfulDelete", "statefulset-controller",
	        "delete Pod %s in StatefulSet %s successful", m->pods[p].name, wl->name);
	pod_delete(m, t, p);
	push(m, m->now + rndi(m, 2, 30) * SEC, A_STS_RECREATE, w, 0, wl->sts_ord);
}

static void
do_sts_roll(cm_model *m, int w)
{
	workload *wl = &m->wls[w];

	if (wl->rolling)
		return;
	wl_new_version(m, wl);
	wl->rv = next_rv(m);
	wl->rolling = true;
	wl->sts_ord = wl->replicas - 1;
	sts_next(m, w);
}

/* ---------------------------------------------------------------- cronjobs */

static void
job_create_pod(cm_model *m, int64_t t, int w)
{
	workload  *wl = &m->wls[w];
	char       sfx[8];
	char       name[80];
	cm_obj_ref ref;
	int        p;

	make_suffix(m, sfx, 5);
	snprintf(name, sizeof(name), "%s-%s", wl->job_name, sfx);
	p = pod_alloc(m, w, name);
	m->pods[p].job_pod = true;
	m->pods[p].will_fail = chance(m, wl->job_attempts > 0 ? 0.5 : wl->fail_rate);
	wl->job_pod = p;
	ref = job_ref(m, w);
	ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "job-controller", "Created pod: %s", name);
	pod_created(m, t, p);
}

static void
do_cron(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	int64_t    t = m->now + rndi(m, 5, 900) * MS;
	cm_obj_ref ref = wl_ref(m, w);

	push(m, m->now + (int64_t) wl->period_min * MINUTE, A_CRON, w, 0, 0);
	if (wl->job_active)
	{
		ctrl_ev(m, t, &ref, "Normal", "JobAlreadyActive", "cronjob-controller",
		        "Not starting job because prior execution is running and concurrency policy is "
		        "Forbid");
		return;
	}
	/* the Job is named after its scheduled time in minutes, like the CronJob controller does */
	wl->job_stamp = m->now / MINUTE;
	snprintf(wl->job_name, sizeof(wl->job_name), "%s-%lld", wl->name, (long long) wl->job_stamp);
	make_uid(m, wl->job_uid);
	wl->job_rv = next_rv(m);
	wl->job_active = true;
	wl->job_attempts = 0;
	ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "cronjob-controller", "Created job %s",
	        wl->job_name);
	job_create_pod(m, t + rndi(m, 3, 40) * MS, w);
}

static void
job_finish(cm_model *m, int p)
{
	pod       *pd = &m->pods[p];
	int        w = pd->wl;
	workload  *wl = &m->wls[w];
	int64_t    t = m->now;
	cm_obj_ref jref = job_ref(m, w);
	cm_obj_ref cref = wl_ref(m, w);
	int        n = pd->node;

	if (pd->will_fail)
	{
		if (chance(m, 0.5) && m->nodes[n].kubelet_alive)
		{
			cm_obj_ref nref = node_kubelet_ref(m, n);

			host_ev(m, t, &nref, "Warning", "OOMKilling", "kernel-monitor", m->nodes[n].name,
			        "Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, "
			        "anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB "
			        "oom_score_adj:%d",
			        (int) rndi(m, 2000, 4000000), wl->proc, (int) rndi(m, 300000, 6000000),
			        (int) rndi(m, 100000, 2000000), (int) rndi(m, 1000, 60000),
			        chance(m, 0.5) ? 0 : 1000, (int) rndi(m, 400, 9000), (int) rndi(m, 900, 999));
		}
		pod_free(m, p);
		wl->job_pod = -1;
		wl->job_attempts++;
		if (wl->job_attempts <= 2)
		{
			push(m, m->now + (10 * SEC << (wl->job_attempts - 1)) + rndi(m, 0, 900) * MS,
			     A_JOB_RETRY, w, 0, 0);
			return;
		}
		t += rndi(m, 5, 60) * MS;
		ctrl_ev(m, t, &jref, "Warning", "BackoffLimitExceeded", "job-controller",
		        "Job has reached the specified backoff limit");
		t += rndi(m, 5, 200) * MS;
		ctrl_ev(m, t, &cref, "Normal", "SawCompletedJob", "cronjob-controller",
		        "Saw completed job: %s, status: Failed", wl->job_name);
		if (wl->last_failed)
		{
			t += rndi(m, 1, 20) * MS;
			ctrl_ev(m, t, &cref, "Normal", "SuccessfulDelete", "cronjob-controller",
			        "Deleted job %s-%lld", wl->name, (long long) wl->last_failed);
		}
		wl->last_failed = wl->job_stamp;
		wl->job_active = false;
		return;
	}
	pod_free(m, p);
	wl->job_pod = -1;
	t += rndi(m, 5, 60) * MS;
	ctrl_ev(m, t, &jref, "Normal", "Completed", "job-controller", "Job completed");
	t += rndi(m, 5, 300) * MS;
	ctrl_ev(m, t, &cref, "Normal", "SawCompletedJob", "cronjob-controller",
	        "Saw completed job: %s, status: Complete", wl->job_name);
	wl->hist[wl->nhist++] = wl->job_stamp;
	if (wl->nhist > CRON_HISTORY)
	{
		t += rndi(m, 1, 20) * MS;
		ctrl_ev(m, t, &cref, "Normal", "SuccessfulDelete", "cronjob-controller",
		        "Deleted job %s-%lld", wl->name, (long long) wl->hist[0]);
		memmove(wl->hist, wl->hist + 1, (size_t) CRON_HISTORY * sizeof(int64_t));
		wl->nhist--;
	}
	wl->job_active = false;
}

/* ---------------------------------------------------------------- nodes */

static void
node_status_ev(cm_model *m, int64_t t, int n, const char *status)
{
	cm_obj_ref ref = node_kubelet_ref(m, n);

	host_ev(m, t, &ref, "Normal", status, "kubelet", m->nodes[n].name, "Node %s status is now: %s",
	        m->nodes[n].name, status);
}

static void
pod_episode_at(cm_model *m, int64_t t, int p, episode_kind kind)
{
	push_pod(m, t, A_POD_EPISODE, p, kind);
}

/*
 * Trouble builds up on a node before it goes NotReady: memory or disk pressure,
 * and its pods start failing probes and getting OOM-killed.
 */
static void
do_node_trouble(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t lead = rndi(m, 3, 15) * MINUTE;
	int64_t t = m->now;
	double  r = rndf(m);

	if (nd->trouble || !nd->ready)
	{
		push(m, m->now + rexp(m, 4 * DAY) + HOUR, A_NODE_TROUBLE, n, 0, 0);
		return;
	}
	nd->trouble = true;
	nd->trouble_id++;
	nd->trouble_kind = r < 0.45 ? 0 : r < 0.75 ? 1 : 2;
	if (nd->trouble_kind == 0)
	{
		cm_obj_ref ref = node_kubelet_ref(m, n);

		node_status_ev(m, t, n, "NodeHasInsufficientMemory");
		host_ev(m, t + rndi(m, 20, 90) * SEC, &ref, "Warning", "EvictionThresholdMet", "kubelet",
		        nd->name, "Attempting to reclaim memory");
	}
	else if (nd->trouble_kind == 1)
	{
		cm_obj_ref ref = node_kubelet_ref(m, n);

		node_status_ev(m, t, n, "NodeHasDiskPressure");
		host_ev(m, t + rndi(m, 20, 90) * SEC, &ref, "Warning", "EvictionThresholdMet", "kubelet",
		        nd->name, "Attempting to reclaim ephemeral-storage");
	}
	if (nd->trouble_kind != 2 && chance(m, 0.6))
		push(m, m->now + rndi(m, 100, 150) * SEC, A_NODE_PRESSURE_EVICT, n, nd->trouble_id, 0);
	for (int p = 0; p < m->cappods; p++)
	{
		pod *pd = &m->pods[p];

		if (!pd->used || pd->node != n || pd->state != PS_RUNNING || pd->job_pod)
			continue;
		if (!chance(m, nd->trouble_kind == 2 ? 0.35 : 0.6))
			continue;
		pod_episode_at(m, m->now + rndi(m, 0, lead - 30 * SEC), p,
		               nd->trouble_kind == 0 || chance(m, 0.2) ? EP_OOM
		               : chance(m, 0.7)                        ? EP_READINESS
		                                                       : EP_LIVENESS);
	}
	push(m, m->now + lead, A_NODE_NOTREADY, n, 0, 0);
}

/*
 * Node-pressure eviction: the kubelet fails the pod using the most of the scarce
 * resource beyond its request; its ReplicaSet replaces it.
 */
static void
do_node_pressure_evict(cm_model *m, int n, uint32_t trouble_id)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	int     victims = (int) rndi(m, 1, 2);

	if (!nd->trouble || nd->trouble_id != trouble_id || !nd->ready)
		return;
	for (int p = 0; p < m->cappods && victims > 0; p++)
	{
		pod        *pd = &m->pods[p];
		const char *cn;
		int         rsi;

		if (!pd->used || pd->node != n || pd->state != PS_RUNNING || pd->rs < 0 || !chance(m, 0.5))
			continue;
		cn = container_name(m, pd, 1);
		if (nd->trouble_kind == 0)
			pod_ev(m, t, p, -1, WARNING("Evicted"),
			       "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
			       "%dKi. Container %s was using %dKi, request is %dMi, has larger consumption of "
			       "memory. ",
			       (int) rndi(m, 60000, 102000), cn, (int) rndi(m, 900000, 4000000),
			       (int) (128 << rndi(m, 0, 3)));
		else
			pod_ev(m, t, p, -1, WARNING("Evicted"),
			       "The node was low on resource: ephemeral-storage. Threshold quantity: "
			       "10Gi, available: %dKi. Container %s was using %dKi, request is 0, has larger "
			       "consumption of ephemeral-storage. ",
			       (int) rndi(m, 8000000, 10400000), cn, (int) rndi(m, 2000000, 30000000));
		pod_ev(m, t + rndi(m, 5, 80) * MS, p, 1, NORMAL("Killing"), "Stopping container %s", cn);
		rsi = pd->rs;
		pod_free(m, p);
		t += rndi(m, 100, 900) * MS;
		rs_scale_up(m, &t, rsi, 1);
		victims--;
	}
}

static void
do_node_notready(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	int64_t dur;

	nd->ready = false;
	/* a kubelet with an unhealthy runtime still reports; an unreachable one does not */
	nd->kubelet_alive = nd->trouble_kind != 2 && chance(m, 0.45);
	if (nd->kubelet_alive)
		node_status_ev(m, t, n, "NodeNotReady");
	else
	{
		cm_obj_ref ref = node_ctrl_ref(m, n);

		t += rndi(m, 20, 50) * SEC; /* node-monitor-grace-period */
		ctrl_ev(m, t, &ref, "Normal", "NodeNotReady", "node-controller",
		        "Node %s status is now: NodeNotReady", nd->name);
	}
	for (int p = 0; p < m->cappods; p++)
	{
		pod       *pd = &m->pods[p];
		cm_obj_ref ref;

		if (!pd->used || pd->node != n || pd->state == PS_TERMINATING)
			continue;
		ref = pod_ref(m, pd, -1);
		t += rndi(m, 1, 30) * MS;
		ctrl_ev(m, t, &ref, "Warning", "NodeNotReady", "node-controller", "Node is not ready");
		pd->ready = false;
	}
	dur = chance(m, 0.6) ? rndi(m, 60, 280) * SEC : rndi(m, 330, 1500) * SEC;
	push(m, t + dur, A_NODE_READY, n, 0, 0);
	/* NoExecute taints are tolerated for 300s by default */
	push(m, t + 300 * SEC + rndi(m, 0, 5000) * MS, A_NODE_EVICT, n, nd->trouble_id, 0);
}

static void
do_node_evict(cm_model *m, int n, uint32_t trouble_id)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;

	if (nd->ready || nd->trouble_id != trouble_id)
		return;
	for (int p = 0; p < m->cappods; p++)
	{
		pod       *pd = &m->pods[p];
		workload  *wl;
		cm_obj_ref ref;

		if (!pd->used || pd->node != n || pd->state == PS_TERMINATING)
			continue;
		wl = &m->wls[pd->wl];
		ref = pod_ref(m, pd, -1);
		t += rndi(m, 1, 20) * MS;
		ctrl_ev(m, t, &ref, "Normal", "TaintManagerEviction", "taint-eviction-controller",
		        "Marking for deletion Pod %s/%s", ns_name(m, pd->wl), pd->name);
		pd->state = PS_TERMINATING;
		pd->ready = false;
		if (pd->rs >= 0)
		{
			/* the ReplicaSet no longer counts it and makes a replacement elsewhere */
			int rsi = pd->rs;

			pd->rs = -1;
			rs_scale_up(m, &t, rsi, 1);
		}
		else if (pd->job_pod && wl->job_active && wl->job_pod == p)
		{
			t += rndi(m, 5, 50) * MS;
			job_create_pod(m, t, pd->wl);
		}
		/* StatefulSet pods keep their identity: recreated once the node confirms the deletion */
	}
}

static void
do_node_ready(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	bool    was_alive = nd->kubelet_alive;

	nd->ready = true;
	nd->kubelet_alive = true;
	nd->trouble = false;
	if (!was_alive && chance(m, 0.5))
	{
		cm_obj_ref ref = node_kubelet_ref(m, n);

		char inst[48];

		host_ev(m, t, &ref, "Normal", "Starting", "kubelet", nd->name, "Starting kubelet.");
		/* kube-proxy restarts with it and reports through events.k8s.io, without a note */
		snprintf(inst, sizeof(inst), "kube-proxy-%s", nd->name);
		m->msg[0] = '\0';
		record(m, t + rndi(m, 500, 3000) * MS, &ref, "Normal", "Starting", NULL, NULL, true,
		       "StartKubeProxy", "kube-proxy", inst);
		t += rndi(m, 50, 400) * MS;
		host_ev(m, t, &ref, "Normal", "NodeAllocatableEnforced", "kubelet", nd->name,
		        "Updated Node Allocatable limit across pods");
		t += rndi(m, 5, 50) * MS;
		node_status_ev(m, t, n, "NodeHasSufficientMemory");
		node_status_ev(m, t, n, "NodeHasNoDiskPressure");
		node_status_ev(m, t, n, "NodeHasSufficientPID");
		t += rndi(m, 1, 9) * SEC;
	}
	else if (nd->trouble_kind == 0)
		node_status_ev(m, t, n, "NodeHasSufficientMemory");
	else if (nd->trouble_kind == 1)
		node_status_ev(m, t, n, "NodeHasNoDiskPressure");
	node_status_ev(m, t + rndi(m, 100, 900) * MS, n, "NodeReady");

	for (int p = 0; p < m->cappods; p++)
	{
		pod *pd = &m->pods[p];

		if (!pd->used || pd->node != n)
			continue;
		if (pd->state == PS_TERMINATING)
		{
			int w = pd->wl;
			int ord = pd->ordinal;

			pod_delete(m, t + rndi(m, 1, 3) * SEC, p);
			if (m->wls[w].kind == WL_STS)
				push(m, m->now + rndi(m, 3, 12) * SEC, A_STS_RECREATE, w, 0, ord);
		}
		else
			pd->ready = pd->state == PS_RUNNING;
	}
	push(m, m->now + HOUR + rexp(m, 4 * DAY), A_NODE_TROUBLE, n, 0, 0);
}

/* ---------------------------------------------------------------- pod start-up */

/* Pod actions wait while the kubelet of their node is out of reach. */
static bool
pod_kubelet_ok(cm_model *m, int p, int kind, int b)
{
	pod *pd = &m->pods[p];

	if (pd->node >= 0 && !m->nodes[pd->node].kubelet_alive)
	{
		push_pod(m, m->now + 30 * SEC, kind, p, b);
		return false;
	}
	return true;
}

static void
failed_scheduling(cm_model *m, int p, int nready, int attempt)
{
	pod       *pd = &m->pods[p];
	int        total = m->cfg.nodes;
	int        notready = 0;
	int        cpu;
	int        mem;
	cm_obj_ref ref = pod_ref(m, pd, -1);
	char       taint[96] = "";

	for (int i = 0; i < total; i++)
		notready += !m->nodes[i].ready;
	if (notready > 0)
		snprintf(taint, sizeof(taint),
		         "%s%d node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
		         notready < total ? ", " : "", notready);
	cpu = (total - notready) / 3;
	mem = total - notready - cpu;
	if (nready == 0 && notready == total)
		sched_ev(m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		         "0/%d nodes are available: %d node(s) had untolerated taint "
		         "{node.kubernetes.io/unreachable: }. preemption: 0/%d nodes are available: %d "
		         "Preemption is not helpful for scheduling.",
		         total, total, total, total);
	else if (cpu > 0)
		sched_ev(m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		         "0/%d nodes are available: %d Insufficient cpu, %d Insufficient memory%s. "
		         "preemption: 0/%d nodes are available: %d No preemption victims found for "
		         "incoming pod.",
		         total, cpu, mem, taint, total, total);
	else
		sched_ev(m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		         "0/%d nodes are available: %d Insufficient memory%s. preemption: 0/%d nodes are "
		         "available: %d No preemption victims found for incoming pod.",
		         total, mem, taint, total, total);
	/* unschedulable pods are retried when the cluster changes, and at least every 5 minutes */
	push_pod(m,
	         m->now + (m->pods[p].sched_fail_left > 4 ? rndi(m, 240, 300) : rndi(m, 10, 70)) * SEC,
	         A_POD_SCHEDULE, p, attempt + 1);
}

static void
pod_schedule(cm_model *m, int p, int attempt)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	int        nready;
	int        n = pick_node(m, &nready);
	cm_obj_ref ref;

	if (pd->state != PS_PENDING)
		return;
	if (n < 0 || pd->sched_fail_left > 0)
	{
		if (pd->sched_fail_left > 0)
			pd->sched_fail_left--;
		failed_scheduling(m, p, nready, attempt);
		return;
	}
	ref = pod_ref(m, pd, -1);
	sched_ev(m, m->now, &ref, NORMAL("Scheduled"), "Binding", "Successfully assigned %s/%s to %s",
	         ns_name(m, pd->wl), pd->name, m->nodes[n].name);
	pod_bind(m, p, n);
	pd->rv = next_rv(m);
	pd->state = PS_CREATING;
	if (wl->kind == WL_STS && wl->sts_node[pd->ordinal] != n)
		push_pod(m, m->now + rndi(m, 800, 4000) * MS, A_POD_ATTACH, p, 0);
	else if (pd->mount_fail_left > 0)
		push_pod(m, m->now + rndi(m, 500, 2000) * MS, A_POD_MOUNT, p, 0);
	else
		push_pod(m, m->now + rndi(m, 150, 1500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
}

static void
pod_attach(cm_model *m, int p)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	cm_obj_ref ref = pod_ref(m, pd, -1);

	ctrl_ev(m, m->now, &ref, "Normal", "SuccessfulAttachVolume", "attachdetach-controller",
	        "AttachVolume.Attach succeeded for volume \"pvc-%s\"", wl->pvc[pd->ordinal]);
	wl->sts_node[pd->ordinal] = pd->node;
	if (pd->mount_fail_left > 0)
		push_pod(m, m->now + rndi(m, 500, 2000) * MS, A_POD_MOUNT, p, 0);
	else
		push_pod(m, m->now + rndi(m, 300, 2500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
}

/* A volume that is not there yet: the kubelet retries with exponential backoff (max 2m2s). */
static void
pod_mount(cm_model *m, int p)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   wait;

	if (pd->mount_fail_left <= 0)
	{
		push_pod(m, m->now + rndi(m, 200, 1500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
		return;
	}
	if (wl->kind == WL_STS)
		pod_ev(m, m->now, p, -1, WARNING("FailedMount"),
		       "MountVolume.MountDevice failed for volume \"pvc-%s\" : rpc error: code = "
		       "DeadlineExceeded desc = context deadline exceeded",
		       wl->pvc[pd->ordinal]);
	else
		pod_ev(m, m->now, p, -1, WARNING("FailedMount"),
		       "MountVolume.SetUp failed for volume \"config\" : configmap \"%s-config\" not found",
		       wl->name);
	if (pd->mount_k >= 2 && pd->mount_k % 2 == 0)
	{
		char sfx[8];

		/* the projected token volume's name, stable per pod */
		snprintf(sfx, sizeof(sfx), "%.5s", pd->uid + 24);
		for (int i = 0; i < 5; i++)
			if (sfx[i] >= '0' && sfx[i] <= '9')
				sfx[i] = (char) ('k' + (sfx[i] - '0') % 10);
		pod_ev(m, m->now + rndi(m, 1, 50) * MS, p, -1, WARNING("FailedMount"),
		       "Unable to attach or mount volumes: unmounted volumes=[%s], unattached "
		       "volumes=[%s kube-api-access-%s]: timed out waiting for the condition",
		       wl->kind == WL_STS ? "data" : "config", wl->kind == WL_STS ? "data" : "config", sfx);
	}
	pd->mount_fail_left--;
	wait = (2 * SEC) << (pd->mount_k < 6 ? pd->mount_k : 6);
	if (wait > 122 * SEC)
		wait = 122 * SEC;
	pd->mount_k++;
	push_pod(m, m->now + wait + rndi(m, 0, 999) * MS, A_POD_MOUNT, p, 0);
}

static bool
image_present(cm_model *m, const pod *pd, int ci)
{
	workload *wl = &m->wls[pd->wl];

	if (ci == 0 && strcmp(wl->init, "copy-config") == 0)
		return m->nodes[pd->node].busybox;
	if (strcmp(pd->image, wl->image) != 0)
		return true; /* an older revision: that node ran it already */
	return wl->img_on_node[pd->node] != 0;
}

static const char *
pod_image(cm_model *m, const pod *pd, int ci)
{
	if (ci == 0 && strcmp(m->wls[pd->wl].init, "copy-config") == 0)
		return "busybox:1.36";
	return pd->image;
}

static void
pod_pull(cm_model *m, int p, int ci)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, ci);

	if (image_present(m, pd, ci) && !pd->bad_image)
	{
		pod_ev(m, m->now, p, ci, NORMAL("Pulled"),
		       "Container image \"%s\" already present on machine", image);
		push_pod(m, m->now + rndi(m, 30, 400) * MS, A_POD_START, p, ci);
		return;
	}
	pod_ev(m, m->now, p, ci, NORMAL("Pulling"), "Pulling image \"%s\"", image);
	pd->pull_ci = ci;
	pd->pull_started = m->now;
	if (pd->bad_image)
		push_pod(m, m->now + rndi(m, 300, 2500) * MS, A_POD_PULL_FAIL, p, 0);
	else if (pd->pull_fail_left > 0)
		push_pod(m, m->now + rndi(m, 2, 30) * SEC, A_POD_PULL_FAIL, p, 0);
	else
	{
		/* log-normal pull times: median ~3s, a long tail for big images */
		double secs = exp(log(3.0) + 0.9 * rnorm(m));

		if (secs < 0.2)
			secs = 0.2;
		if (secs > 180)
			secs = 180;
		push_pod(m, m->now + (int64_t) (secs * SEC), A_POD_PULLED, p, ci);
	}
}

static void
pod_pulled(cm_model *m, int p, int ci)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   total_ms = (m->now - pd->pull_started) / MS;
	int64_t   pull_ms = chance(m, 0.8) ? total_ms : total_ms * rndi(m, 40, 95) / 100;
	char      d1[32];
	char      d2[32];

	go_duration(pull_ms, d1, sizeof(d1));
	go_duration(total_ms, d2, sizeof(d2));
	pod_ev(m, m->now, p, ci, NORMAL("Pulled"),
	       "Successfully pulled image \"%s\" in %s (%s including waiting)", pod_image(m, pd, ci),
	       d1, d2);
	if (ci == 0 && strcmp(wl->init, "copy-config") == 0)
		m->nodes[pd->node].busybox = true;
	else if (strcmp(pd->image, wl->image) == 0)
		wl->img_on_node[pd->node] = 1;
	push_pod(m, m->now + rndi(m, 30, 400) * MS, A_POD_START, p, ci);
}

static void
pod_pull_fail(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);
	char        norm[256];
	int64_t     t = m->now;

	normalized_image(image, norm, sizeof(norm));
	if (pd->bad_image)
		pod_ev(m, t, p, pd->pull_ci, WARNING("Failed"),
		       "Failed to pull image \"%s\": rpc error: code = NotFound desc = failed to pull and "
		       "unpack image \"%s\": failed to resolve reference \"%s\": %s: not found",
		       image, norm, norm, norm);
	else
	{
		const char *host = strchr(norm, '/');
		char        blob[65];

		make_hex(m, blob, 64);
		pod_ev(m, t, p, pd->pull_ci, WARNING("Failed"),
		       "Failed to pull image \"%s\": rpc error: code = Unknown desc = failed to pull and "
		       "unpack image \"%s\": failed to copy: httpReadSeeker: failed open: unexpected "
		       "status code https://%.*s/v2%.*s/blobs/sha256:%s: 503 Service Unavailable",
		       image, norm, (int) (host - norm), norm, (int) strcspn(host, ":@"), host, blob);
		pd->pull_fail_left--;
	}
	pod_ev(m, t + rndi(m, 1, 5) * MS, p, pd->pull_ci, WARNING("Failed"), "Error: ErrImagePull");
	push_pod(m, m->now + rndi(m, 1000, 2500) * MS, A_POD_PULL_BACKOFF, p, attempt);
}

static void
pod_pull_backoff(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);
	int64_t     wait = (10 * SEC) << (attempt < 5 ? attempt : 5);

	if (wait > 300 * SEC)
		wait = 300 * SEC;
	pod_ev(m, m->now, p, pd->pull_ci, NORMAL("BackOff"), "Back-off pulling image \"%s\"", image);
	pod_ev(m, m->now + rndi(m, 1, 5) * MS, p, pd->pull_ci, WARNING("Failed"),
	       "Error: ImagePullBackOff");
	push_pod(m, m->now + wait + rndi(m, 0, 2000) * MS, A_POD_PULL_RETRY, p, attempt + 1);
}

static void
pod_pull_retry(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);

	pod_ev(m, m->now, p, pd->pull_ci, NORMAL("Pulling"), "Pulling image \"%s\"", image);
	if (pd->bad_image || pd->pull_fail_left > 0)
		push_pod(m, m->now + rndi(m, 300, 2500) * MS, A_POD_PULL_FAIL, p, attempt);
	else
	{
		pd->pull_started = m->now;
		push_pod(m, m->now + rndi(m, 800, 9000) * MS, A_POD_PULLED, p, pd->pull_ci);
	}
}

static void
pod_start(cm_model *m, int p, int ci)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   t = m->now;

	pod_ev(m, t, p, ci, NORMAL("Created"), "Created container %s", container_name(m, pd, ci));
	t += rndi(m, 20, 400) * MS;
	pod_ev(m, t, p, ci, NORMAL("Started"), "Started container %s", container_name(m, pd, ci));
	if (ci == 0)
	{
		/* the init container runs to completion before the main one is set up */
		push_pod(m, t + rndi(m, 1, 8) * SEC, A_POD_PULL, p, 1);
		return;
	}
	pd->started = true;
	pd->state = PS_RUNNING;
	if (pd->job_pod)
	{
		double secs = wl->run_mean_s * exp(0.5 * rnorm(m));

		push_pod(m, t + (int64_t) (secs * SEC), A_JOB_FINISH, p, 0);
		return;
	}
	push_pod(m, t + rndi(m, 2, 9) * SEC, A_POD_READY, p,
	         chance(m, wl->slow_start) ? (int) rndi(m, 1, 4) : 0);
}

static void
pod_became_ready(cm_model *m, int p)
{
	pod      *pd = &m->pods[p];
	int       w = pd->wl;
	workload *wl = &m->wls[w];

	pd->ready = true;
	if (!pd->episodes_on)
	{
		pd->episodes_on = true;
		schedule_episode(m, p);
	}
	if (wl->kind == WL_DEPLOY && wl->rolling)
		deploy_sync(m, w);
	else if (wl->kind == WL_STS && wl->rolling && pd->ordinal == wl->sts_ord)
	{
		wl->sts_ord--;
		push(m, m->now + rndi(m, 1, 10) * SEC, A_STS_NEXT, w, 0, 0);
	}
}

static void
readiness_fail(cm_model *m, int p, int variant)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];

	if (wl->tcp_probe)
	{
		if (variant == 1)
			pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			       "Readiness probe failed: dial tcp %s:%d: i/o timeout", pd->ip, wl->port);
		else
			pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			       "Readiness probe failed: dial tcp %s:%d: connect: connection refused", pd->ip,
			       wl->port);
		return;
	}
	switch (variant)
	{
		case 0:
			pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			       "Readiness probe failed: HTTP probe failed with statuscode: 503");
			break;
		case 1:
			pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			       "Readiness probe failed: Get \"http://%s:%d%s\": context deadline exceeded "
			       "(Client.Timeout exceeded while awaiting headers)",
			       pd->ip, wl->port, wl->probe_path);
			break;
		default:
			pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			       "Readiness probe failed: Get \"http://%s:%d%s\": dial tcp %s:%d: connect: "
			       "connection refused",
			       pd->ip, wl->port, wl->probe_path, pd->ip, wl->port);
			break;
	}
}

static void
pod_ready(cm_model *m, int p, int left)
{
	pod *pd = &m->pods[p];

	if (pd->state != PS_RUNNING)
		return;
	if (left > 0)
	{
		/* still starting: the port is not open yet */
		readiness_fail(m, p, 2);
		push_pod(m, m->now + 10 * SEC + rndi(m, 0, 300) * MS, A_POD_READY, p, left - 1);
		return;
	}
	if (pd->node >= 0 && !m->nodes[pd->node].ready)
	{
		/* probes only count once the node is back */
		push_pod(m, m->now + 30 * SEC, A_POD_READY, p, 0);
		return;
	}
	pod_became_ready(m, p);
}

/* ---------------------------------------------------------------- episodes of running pods */

static void
schedule_episode(cm_model *m, int p)
{
	workload *wl = &m->wls[m->pods[p].wl];

	pod_episode_at(m, m->now + 5 * MINUTE + rexp(m, (int64_t) ((double) DAY / wl->flaky)), p,
	               EP_NONE);
}

static void
end_episode(cm_model *m, int p)
{
	pod *pd = &m->pods[p];
	bool natural = !pd->episode_forced;

	pd->episode = false;
	pd->episode_forced = false;
	pd->crash_n = 0;
	if (natural)
		schedule_episode(m, p);
}

/* Still the same running pod on a node whose kubelet can report? Otherwise the episode ends. */
static bool
episode_ok(cm_model *m, int p)
{
	pod *pd = &m->pods[p];

	if ((pd->state == PS_RUNNING || pd->state == PS_CRASHED) && pd->node >= 0 &&
	    m->nodes[pd->node].kubelet_alive)
		return true;
	if (pd->state == PS_CRASHED)
		pd->state = PS_RUNNING;
	end_episode(m, p);
	return false;
}

static void
pod_episode(cm_model *m, int p, int forced)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int       kind = forced;

	if (pd->episode || pd->state != PS_RUNNING || !m->nodes[pd->node].kubelet_alive)
	{
		if (forced == EP_NONE)
			schedule_episode(m, p);
		return;
	}
	if (kind == EP_NONE)
	{
		double r = rndf(m);

		kind = r < wl->oomy ? EP_OOM : r < wl->oomy + 0.15 ? EP_LIVENESS : EP_READINESS;
	}
	pd->episode = true;
	pd->episode_forced = forced != EP_NONE;
	pd->crash_n = 0;
	switch (kind)
	{
		case EP_READINESS:
			pd->probe_variant = chance(m, 0.7) ? 0 : 1;
			push_pod(m, m->now, A_EP_PROBE, p,
			         (int) (forced != EP_NONE ? rndi(m, 3, 25) : rndi(m, 2, 10)));
			break;
		case EP_LIVENESS:
			push_pod(m, m->now, A_EP_LIVENESS, p, 3);
			break;
		default:
			push_pod(m, m->now, A_EP_OOM, p,
			         (int) (forced != EP_NONE ? rndi(m, 2, 6) : rndi(m, 1, 4)));
			break;
	}
}

static void
ep_probe(cm_model *m, int p, int left)
{
	pod *pd = &m->pods[p];

	if (!episode_ok(m, p))
		return;
	readiness_fail(m, p, pd->probe_variant);
	pd->ready = false;
	if (left > 1)
	{
		push_pod(m, m->now + 10 * SEC + rndi(m, 0, 200) * MS, A_EP_PROBE, p, left - 1);
		return;
	}
	pd->ready = m->nodes[pd->node].ready;
	end_episode(m, p);
}

static void
ep_liveness(cm_model *m, int p, int left)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];

	if (!episode_ok(m, p))
		return;
	if (wl->tcp_probe)
		pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
		       "Liveness probe failed: dial tcp %s:%d: i/o timeout", pd->ip, wl->port);
	else
		pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
		       "Liveness probe failed: HTTP probe failed with statuscode: 500");
	if (left > 1)
	{
		push_pod(m, m->now + 10 * SEC + rndi(m, 0, 200) * MS, A_EP_LIVENESS, p, left - 1);
		return;
	}
	pod_ev(m, m->now + rndi(m, 5, 100) * MS, p, 1, NORMAL("Killing"),
	       "Container %s failed liveness probe, will be restarted", container_name(m, pd, 1));
	pd->ready = false;
	pd->state = PS_CRASHED;
	push_pod(m, m->now + rndi(m, 2, 30) * SEC, A_EP_RESTART, p, 0);
}

/* The container exceeded its memory limit; the kernel's OOM killer ends it. */
static void
ep_oom(cm_model *m, int p, int left)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	node      *nd;
	cm_obj_ref ref;
	int64_t    delay;

	if (!episode_ok(m, p))
		return;
	nd = &m->nodes[pd->node];
	ref = node_kubelet_ref(m, pd->node);
	host_ev(m, m->now, &ref, "Warning", "OOMKilling", "kernel-monitor", nd->name,
	        "Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, "
	        "file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d",
	        (int) rndi(m, 2000, 4000000), wl->proc, (int) rndi(m, 300000, 6000000),
	        (int) rndi(m, 100000, 2000000), (int) rndi(m, 1000, 60000), chance(m, 0.5) ? 0 : 1000,
	        (int) rndi(m, 400, 9000), (int) rndi(m, 900, 999));
	pd->ready = false;
	pd->state = PS_CRASHED;
	pd->crash_n++;
	/* CrashLoopBackOff: 10s doubling to 5m, the first restart immediate */
	delay = pd->crash_n == 1 ? rndi(m, 200, 1500) * MS : (10 * SEC) << (pd->crash_n - 2);
	if (delay > 300 * SEC)
		delay = 300 * SEC;
	pd->restart_at = m->now + delay;
	if (delay >= 10 * SEC)
		push_pod(m, m->now + rndi(m, 1, 3) * SEC, A_EP_BACKOFF, p, left);
	else
		push_pod(m, pd->restart_at, A_EP_RESTART, p, left);
}

static void
ep_backoff(cm_model *m, int p, int left)
{
	pod    *pd = &m->pods[p];
	int64_t next;

	if (!episode_ok(m, p))
		return;
	pod_ev(m, m->now, p, 1, WARNING("BackOff"),
	       "Back-off restarting failed container %s in pod %s_%s(%s)", container_name(m, pd, 1),
	       pd->name, ns_name(m, pd->wl), pd->uid);
	next = m->now + rndi(m, 10, 25) * SEC;
	if (next < pd->restart_at)
		push_pod(m, next, A_EP_BACKOFF, p, left);
	else
		push_pod(m, pd->restart_at, A_EP_RESTART, p, left);
}

static void
ep_restart(cm_model *m, int p, int left)
{
	pod    *pd = &m->pods[p];
	int64_t t = m->now;

	if (!episode_ok(m, p))
		return;
	pod_ev(m, t, p, 1, NORMAL("Pulled"), "Container image \"%s\" already present on machine",
	       pd->image);
	t += rndi(m, 20, 300) * MS;
	pod_ev(m, t, p, 1, NORMAL("Created"), "Created container %s", container_name(m, pd, 1));
	t += rndi(m, 20, 400) * MS;
	pod_ev(m, t, p, 1, NORMAL("Started"), "Started container %s", container_name(m, pd, 1));
	pd->state = PS_RUNNING;
	pd->ready = m->nodes[pd->node].ready;
	if (left > 1)
	{
		push_pod(m, t + rndi(m, 10, 90) * SEC, A_EP_OOM, p, left - 1);
		return;
	}
	end_episode(m, p);
}

/* ---------------------------------------------------------------- dispatch */

static void
dispatch(cm_model *m, const action *a)
{
	pod *pd = NULL;

	if (a->kind >= A_POD_FIRST)
	{
		if (a->a >= m->cappods)
			return;
		pd = &m->pods[a->a];
		if (!pd->used || pd->gen != a->gen)
			return; /* the pod is gone */
		if (a->kind >= A_POD_ATTACH && a->kind <= A_POD_START)
		{
			if (pd->state != PS_CREATING || !pod_kubelet_ok(m, a->a, a->kind, a->b))
				return;
		}
	}
	switch ((action_kind) a->kind)
	{
		case A_GC:
			rec_gc(m);
			push(m, m->now + 10 * MINUTE, A_GC, 0, 0, 0);
			break;
		case A_ROLLOUT:
			do_rollout(m, a->a);
			break;
		case A_BAD_FIX:
			do_bad_fix(m, a->a);
			break;
		case A_HPA:
			do_hpa(m, a->a);
			break;
		case A_HPA_METRIC:
			do_hpa_metric(m, a->a, a->b);
			break;
		case A_STS_ROLL:
			do_sts_roll(m, a->a);
			break;
		case A_STS_NEXT:
			sts_next(m, a->a);
			break;
		case A_STS_RECREATE:
			if (sts_find(m, a->a, a->b) < 0)
				sts_create_pod(m, m->now, a->a, a->b);
			break;
		case A_CRON:
			do_cron(m, a->a);
			break;
		case A_JOB_RETRY:
			if (m->wls[a->a].job_active && m->wls[a->a].job_pod < 0)
				job_create_pod(m, m->now, a->a);
			break;
		case A_NODE_TROUBLE:
			do_node_trouble(m, a->a);
			break;
		case A_NODE_NOTREADY:
			do_node_notready(m, a->a);
			break;
		case A_NODE_EVICT:
			do_node_evict(m, a->a, a->gen);
			break;
		case A_NODE_PRESSURE_EVICT:
			do_node_pressure_evict(m, a->a, a->gen);
			break;
		case A_NODE_READY:
			do_node_ready(m, a->a);
			for (int w = 0; w < m->nwls; w++)
				if (m->wls[w].kind == WL_DEPLOY && m->wls[w].rolling)
					deploy_sync(m, w);
			break;
		case A_POD_SCHEDULE:
			pod_schedule(m, a->a, a->b);
			break;
		case A_POD_ATTACH:
			pod_attach(m, a->a);
			break;
		case A_POD_MOUNT:
			pod_mount(m, a->a);
			break;
		case A_POD_PULL:
			pod_pull(m, a->a, a->b);
			break;
		case A_POD_PULLED:
			pod_pulled(m, a->a, a->b);
			break;
		case A_POD_PULL_FAIL:
			pod_pull_fail(m, a->a, a->b);
			break;
		case A_POD_PULL_BACKOFF:
			pod_pull_backoff(m, a->a, a->b);
			break;
		case A_POD_PULL_RETRY:
			pod_pull_retry(m, a->a, a->b);
			break;
		case A_POD_START:
			pod_start(m, a->a, a->b);
			break;
		case A_POD_READY:
			pod_ready(m, a->a, a->b);
			break;
		case A_POD_EPISODE:
			pod_episode(m, a->a, a->b);
			break;
		case A_EP_PROBE:
			ep_probe(m, a->a, a->b);
			break;
		case A_EP_LIVENESS:
			ep_liveness(m, a->a, a->b);
			break;
		case A_EP_OOM:
			ep_oom(m, a->a, a->b);
			break;
		case A_EP_BACKOFF:
			ep_backoff(m, a->a, a->b);
			break;
		case A_EP_RESTART:
			ep_restart(m, a->a, a->b);
			break;
		case A_JOB_FINISH:
			if (pd->state != PS_RUNNING)
				break;
			if (!m->nodes[pd->node].kubelet_alive)
			{
				push_pod(m, m->now + 30 * SEC, A_JOB_FINISH, a->a, 0);
				break;
			}
			job_finish(m, a->a);
			break;
	}
}

/* ---------------------------------------------------------------- the initial cluster */

typedef struct app_tpl
{
	const char *name;
	img_style   style;
	const char *repo; /* NULL: registry.example.com/<namespace>/<name> */
	int         v0;
	int         v1;
	int         port;
	const char *proc;
	const char *init;
} app_tpl;

static const app_tpl deploy_apps[] = {
    {"web", IMG_PUBLIC, "nginx", 1, 25, 80, "nginx", ""},
    {"frontend", IMG_REGISTRY, NULL, 2, 3, 3000, "node", "copy-config"},
    {"api", IMG_DIGEST, "ghcr.io/acme/api", 0, 0, 8080, "java", "migrate"},
    {"cart", IMG_REGISTRY, NULL, 1, 4, 8080, "java", ""},
    {"checkout", IMG_REGISTRY, NULL, 3, 1, 8080, "java", ""},
    {"catalog", IMG_REGISTRY, NULL, 2, 7, 8080, "python3", ""},
    {"worker", IMG_REGISTRY, NULL, 1, 12, 9090, "python3", ""},
    {"gateway", IMG_PUBLIC, "haproxy", 2, 9, 8404, "haproxy", ""},
    {"auth", IMG_DIGEST, "ghcr.io/acme/auth", 0, 0, 8080, "node", ""},
    {"notifier", IMG_REGISTRY, NULL, 0, 9, 8080, "node", ""},
    {"ledger", IMG_REGISTRY, NULL, 4, 2, 8080, "java", "migrate"},
    {"search", IMG_REGISTRY, NULL, 1, 18, 8080, "java", ""},
    {"recommender", IMG_REGISTRY, NULL, 0, 5, 8080, "python3", ""},
    {"ingest", IMG_REGISTRY, NULL, 2, 0, 8080, "java", ""},
    {"billing", IMG_REGISTRY, NULL, 1, 1, 8080, "java", "migrate"},
    {"inventory", IMG_REGISTRY, NULL, 3, 3, 8080, "java", ""},
    {"email", IMG_REGISTRY, NULL, 1, 6, 8080, "node", ""},
    {"reports", IMG_REGISTRY, NULL, 0, 14, 8080, "python3", ""},
};

static const app_tpl sts_apps[] = {
    {"db", IMG_PUBLIC, "postgres", 15, 6, 5432, "postgres", ""},
    {"redis", IMG_PUBLIC, "redis", 7, 2, 6379, "redis-server", ""},
    {"kafka", IMG_PUBLIC, "bitnami/kafka", 3, 6, 9092, "java", ""},
    {"elasticsearch", IMG_PUBLIC, "docker.elastic.co/elasticsearch/elasticsearch", 8, 12, 9200,
     "java", ""},
};

static const struct
{
	const char *name;
	int         period_min;
	double      run_mean_s;
} cron_apps[] = {
    {"backup", 60, 90}, {"report", 30, 40},       {"cleanup", 15, 8},
    {"sync", 10, 20},   {"compaction", 120, 300}, {"invoice", 360, 120},
};

static const char *const ns_names[] = {
    "shop",  "payments",  "platform",  "data",          "search",  "auth",
    "media", "analytics", "inventory", "notifications", "billing", "logistics",
};

#define NELEM(a) ((int) (sizeof(a) / sizeof((a)[0])))

static int
wl_add(cm_model *m, wl_kind kind, int ns, const char *name, const app_tpl *tpl)
{
	workload *wl;
	int       w;

	if (m->nwls == m->capwls)
	{
		m->capwls = m->capwls ? m->capwls * 2 : 32;
		m->wls = xrealloc(m->wls, (size_t) m->capwls * sizeof(workload));
	}
	w = m->nwls++;
	wl = &m->wls[w];
	memset(wl, 0, sizeof(*wl));
	wl->kind = kind;
	wl->ns = ns;
	snprintf(wl->name, sizeof(wl->name), "%s", name);
	make_uid(m, wl->uid);
	wl->rv = next_rv(m);
	wl->cur_rs = wl->old_rs = -1;
	wl->job_pod = -1;
	wl->img_on_node = xcalloc((size_t) m->cfg.nodes, 1);
	wl->style = tpl ? tpl->style : IMG_REGISTRY;
	if (tpl && tpl->repo)
		snprintf(wl->repo, sizeof(wl->repo), "%s", tpl->repo);
	else
		snprintf(wl->repo, sizeof(wl->repo), "registry.example.com/%s/%s", m->nss[ns].name, name);
	wl->v[0] = tpl ? tpl->v0 : 1;
	wl->v[1] = tpl ? tpl->v1 : (int) rndi(m, 0, 9);
	wl->v[2] = (int) rndi(m, 0, 9);
	make_hex(m, wl->digest, 64);
	wl_image_refresh(wl);
	snprintf(wl->proc, sizeof(wl->proc), "%s", tpl ? tpl->proc : "python3");
	snprintf(wl->init, sizeof(wl->init), "%s", tpl ? tpl->init : "");
	wl->port = tpl ? tpl->port : 8080;
	wl->probe_path = strcmp(wl->proc, "java") == 0 ? "/actuator/health/readiness"
	                 : chance(m, 0.5)              ? "/healthz"
	                                               : "/ready";
	return w;
}

/* A pod that was already running when the simulation starts: no Events for its past. */
static int
initial_pod(cm_model *m, int w, const char *name)
{
	int  nready;
	int  n = pick_node(m, &nready);
	int  p = pod_alloc(m, w, name);
	pod *pd = &m->pods[p];

	pod_bind(m, p, n);
	pd->rv = next_rv(m);
	pd->state = PS_RUNNING;
	pd->started = true;
	pd->ready = true;
	pd->episodes_on = true;
	pd->created = m->now - rndi(m, 1, 30 * 24) * HOUR;
	m->wls[w].img_on_node[n] = 1;
	if (strcmp(m->wls[w].init, "copy-config") == 0)
		m->nodes[n].busybox = true;
	schedule_episode(m, p);
	return p;
}

static void
build_cluster(cm_model *m)
{
	int64_t start = m->cfg.start_us;

	for (int n = 0; n < m->cfg.nodes; n++)
	{
		node *nd = &m->nodes[n];

		snprintf(nd->name, sizeof(nd->name), "node-%d", n + 1);
		make_uid(m, nd->uid);
		nd->ready = nd->kubelet_alive = true;
		nd->ip_next = 2 + (int) rndi(m, 0, 200);
		push(m, start + rexp(m, 4 * DAY), A_NODE_TROUBLE, n, 0, 0);
	}
	for (int ns = 0; ns < m->cfg.namespaces; ns++)
	{
		bool used[NELEM(deploy_apps)] = {false};
		int  ndeploy = (int) rndi(m, 3, 5);

		if (ns < NELEM(ns_names))
			snprintf(m->nss[ns].name, sizeof(m->nss[ns].name), "%s", ns_names[ns]);
		else
			snprintf(m->nss[ns].name, sizeof(m->nss[ns].name), "team-%d", ns + 1);
		for (int d = 0; d < ndeploy; d++)
		{
			int            k;
			const app_tpl *tpl;
			int            w;
			workload      *wl;
			double         r;

			do
				k = (ns == 0 && d == 0) ? 0 : (int) rndi(m, 0, NELEM(deploy_apps) - 1);
			while (used[k] && !(ns == 0 && d == 0));
			used[k] = true;
			tpl = &deploy_apps[k];
			w = wl_add(m, WL_DEPLOY, ns, tpl->name, tpl);
			wl = &m->wls[w];
			wl->replicas = (int) rndi(m, 1, 4);
			if (wl->replicas == 1 && chance(m, 0.5))
				wl->replicas = 2;
			r = rndf(m);
			wl->flaky = r < 0.5 ? 0.1 : r < 0.85 ? 0.4 : 1.5;
			wl->oomy = strcmp(wl->proc, "java") == 0      ? 0.25
			           : strcmp(wl->proc, "python3") == 0 ? 0.15
			                                              : 0.05;
			wl->slow_start = strcmp(wl->proc, "java") == 0 ? 0.45 : 0.1;
			wl->rollout_mean = rndi(m, 3, 14) * HOUR;
			wl->cur_rs = rs_alloc(m, w);
			m->rss[wl->cur_rs].target = wl->replicas;
			for (int i = 0; i < wl->replicas; i++)
			{
				char sfx[8];
				char name[80];
				int  p;

				make_suffix(m, sfx, 5);
				snprintf(name, sizeof(name), "%s-%s", m->rss[wl->cur_rs].name, sfx);
				p = initial_pod(m, w, name);
				m->pods[p].rs = m->wls[w].cur_rs;
			}
			wl = &m->wls[w];
			if (chance(m, 0.35))
			{
				wl->hpa = true;
				make_uid(m, wl->hpa_uid);
				wl->hpa_rv = next_rv(m);
				wl->hpa_min = wl->replicas;
				wl->hpa_max = wl->replicas + (int) rndi(m, 2, 5);
				push(m, start + rndi(m, 1, 30) * MINUTE, A_HPA, w, 0, 0);
			}
			push(m, start + rexp(m, wl->rollout_mean), A_ROLLOUT, w, 0, 0);
		}
		if (chance(m, 0.5))
		{
			const app_tpl *tpl = &sts_apps[rndi(m, 0, NELEM(sts_apps) - 1)];
			int            w = wl_add(m, WL_STS, ns, tpl->name, tpl);
			workload      *wl = &m->wls[w];

			wl->replicas = (int) rndi(m, 1, 3);
			wl->flaky = 0.2;
			wl->oomy = strcmp(wl->proc, "java") == 0 ? 0.3 : 0.1;
			wl->slow_start = 0.3;
			wl->tcp_probe = true;
			wl->rollout_mean = 2 * DAY;
			for (int i = 0; i < wl->replicas; i++)
			{
				char name[80];
				int  p;

				make_uid(m, m->wls[w].pvc[i]);
				snprintf(name, sizeof(name), "%s-%d", m->wls[w].name, i);
				p = initial_pod(m, w, name);
				m->pods[p].ordinal = i;
				m->wls[w].sts_node[i] = m->pods[p].node;
			}
			push(m, start + 2 * HOUR + rexp(m, 2 * DAY), A_STS_ROLL, w, 0, 0);
		}
		if (chance(m, 0.7))
		{
			int       k = (int) rndi(m, 0, NELEM(cron_apps) - 1);
			int       w = wl_add(m, WL_CRON, ns, cron_apps[k].name, NULL);
			workload *wl = &m->wls[w];
			int64_t   period = (int64_t) cron_apps[k].period_min * MINUTE;
			int64_t   first;

			wl->period_min = cron_apps[k].period_min;
			wl->offset_min = (int) rndi(m, 0, wl->period_min - 1) % 60;
			wl->run_mean_s = cron_apps[k].run_mean_s;
			wl->fail_rate = 0.03;
			wl->flaky = 0.1;
			wl->oomy = 0.3;
			/* the first scheduled time at or after the start, in whole minutes of the epoch */
			first = ((start + period - 1) / period) * period + (int64_t) wl->offset_min * MINUTE;
			if (first - period >= start)
				first -= period;
			push(m, first, A_CRON, w, 0, 0);
		}
	}
	push(m, start + 10 * MINUTE, A_GC, 0, 0, 0);
}

/* ---------------------------------------------------------------- public API */

cm_model *
cm_create(const cm_config *cfg, cm_emit_fn emit, void *arg, char *errbuf, size_t errlen)
{
	cm_model *m;
	uint64_t  x;

	if (cfg->nodes < 1 || cfg->nodes > CM_MAX_NODES)
	{
		snprintf(errbuf, errlen, "the number of nodes must be between 1 and %d, not %d",
		         CM_MAX_NODES, cfg->nodes);
		return NULL;
	}
	if (cfg->namespaces < 1 || cfg->namespaces > CM_MAX_NAMESPACES)
	{
		snprintf(errbuf, errlen, "the number of namespaces must be between 1 and %d, not %d",
		         CM_MAX_NAMESPACES, cfg->namespaces);
		return NULL;
	}
	if (cfg->end_us <= cfg->start_us)
	{
		snprintf(errbuf, errlen, "the simulated period is empty");
		return NULL;
	}
	m = xcalloc(1, sizeof(cm_model));
	m->cfg = *cfg;
	m->emit = emit;
	m->arg = arg;
	x = cfg->seed;
	for (int i = 0; i < 4; i++)
		m->rs[i] = splitmix64(&x);
	m->now = m->last_emit = cfg->start_us;
	m->free_rec = -1;
	m->free_rs = -1;
	m->free_pod = -1;
	rec_rehash(m, 1024);
	m->rv = 1000000 + (uint64_t) rndi(m, 0, 8000000);
	m->nodes = xcalloc((size_t) cfg->nodes, sizeof(node));
	m->nss = xcalloc((size_t) cfg->namespaces, sizeof(nspace));
	build_cluster(m);
	return m;
}

int64_t
cm_step(cm_model *m, int64_t until_us)
{
	int64_t before = m->emitted;

	while (m->nheap > 0 && !m->stopped && m->heap[0].t <= until_us)
	{
		action a = pop(m);

		m->now = a.t;
		dispatch(m, &a);
	}
	return m->stopped ? -1 : m->emitted - before;
}

int64_t
cm_next_time(const cm_model *m)
{
	return m->nheap > 0 ? m->heap[0].t : INT64_MAX;
}

void
cm_destroy(cm_model *m)
{
	if (m == NULL)
		return;
	for (int w = 0; w < m->nwls; w++)
		free(m->wls[w].img_on_node);
	free(m->wls);
	free(m->rss);
	free(m->pods);
	free(m->scratch);
	free(m->nodes);
	free(m->nss);
	free(m->heap);
	free(m->recs);
	free(m->buckets);
	free(m);
}
