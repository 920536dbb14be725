/*
 * cluster_internal.h
 *	  What the pieces of the cluster model share: the model's state, the objects
 *	  of the simulated cluster, and the functions one piece calls in another.
 *	  For model/cluster_*.c only; everyone else uses model/cluster.h.
 *
 * The model stays one struct because its pieces act on the same cluster: a
 * node going NotReady touches its pods, a pod becoming ready moves its
 * Deployment's rollout on, and every piece records Events through the same
 * recorder and draws from the same random stream, whose order is what makes a
 * run reproducible.
 */
#ifndef K8S_EVENTS_CLUSTER_MODEL_INTERNAL_H
#define K8S_EVENTS_CLUSTER_MODEL_INTERNAL_H

#include "model/cluster.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The type and reason of an Event, for cm_sched_ev() and cm_pod_ev(). */
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

/* cluster_model.c: memory, and the queue of actions. */
extern void *cm_xrealloc(void *p, size_t n);
extern void *cm_xcalloc(size_t n, size_t size);
/* Queues an action at t (never before now; dropped at or after the end). */
extern void cm_push(cm_model *m, int64_t t, int kind, int a, uint32_t gen, int b);
/* Queues an action for pod p as it is now: dropped if the pod is deleted first. */
extern void cm_push_pod(cm_model *m, int64_t t, int kind, int p, int b);

/* cluster_random.c: the random stream, and names and versions from it. */
extern double   cm_rndf(cm_model *m);
extern int64_t  cm_rndi(cm_model *m, int64_t lo, int64_t hi);
extern bool     cm_chance(cm_model *m, double p);
extern int64_t  cm_rexp(cm_model *m, int64_t mean);
extern double   cm_rnorm(cm_model *m);
extern void     cm_make_uid(cm_model *m, char *out);
extern void     cm_make_suffix(cm_model *m, char *out, int n);
extern void     cm_make_hex(cm_model *m, char *out, int n);
extern uint64_t cm_next_rv(cm_model *m);

/* cluster_recorder.c: Events, and the objects they refer to. */
extern void cm_rec_rehash(cm_model *m, uint32_t nb);
extern void cm_rec_gc(cm_model *m);
/* Writes the Event whose message is in m->msg; cm_ctrl_ev() and the others below put it there. */
extern void cm_record(cm_model *m, int64_t t, const cm_obj_ref *inv, const char *type,
                      const char *reason, const char *component, const char *host, bool new_style,
                      const char *action, const char *rep_component, const char *rep_instance);
/* The objects Events refer to (ci: see cm_pod_ref()). */
extern const char *cm_ns_name(cm_model *m, int wl);
extern const char *cm_container_name(cm_model *m, const pod *p, int ci);
extern cm_obj_ref  cm_pod_ref(cm_model *m, const pod *p, int ci);
extern cm_obj_ref  cm_wl_ref(cm_model *m, int w);
extern cm_obj_ref  cm_rs_ref(cm_model *m, int rsi);
extern cm_obj_ref  cm_job_ref(cm_model *m, int w);
extern cm_obj_ref  cm_hpa_ref(cm_model *m, int w);
extern cm_obj_ref  cm_node_kubelet_ref(cm_model *m, int n);
extern cm_obj_ref  cm_node_ctrl_ref(cm_model *m, int n);
/* An Event from a controller, a component on a host, the scheduler, a pod's kubelet. */
extern void cm_ctrl_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type,
                       const char *reason, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
extern void cm_host_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type,
                       const char *reason, const char *component, const char *host, const char *fmt,
                       ...) __attribute__((format(printf, 8, 9)));
extern void cm_sched_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type_reason[2],
                        const char *action, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
extern void cm_pod_ev(cm_model *m, int64_t t, int p, int ci, const char *type_reason[2],
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* cluster_pods.c: the pools of pods and ReplicaSets, and the ReplicaSet controller. */
extern int  cm_pod_alloc(cm_model *m, int w, const char *name);
extern void cm_pod_free(cm_model *m, int p);
extern void cm_pod_bind(cm_model *m, int p, int n);
extern int  cm_pick_node(cm_model *m, int *nready);
extern int  cm_rs_alloc(cm_model *m, int w);
extern void cm_rs_free(cm_model *m, int i);
extern int  cm_collect_pods(cm_model *m, int rsi, int w, bool ready_only);
extern int  cm_count_ready(cm_model *m, int rsi);
extern void cm_pod_created(cm_model *m, int64_t t, int p);
extern void cm_rs_scale_up(cm_model *m, int64_t *t, int rsi, int n);
extern void cm_pod_delete(cm_model *m, int64_t t, int p);
extern void cm_rs_scale_down(cm_model *m, int64_t *t, int rsi, int n);

/* cluster_workloads.c: Deployments, HPAs, StatefulSets, CronJobs and Jobs. */
extern void cm_wl_image_refresh(workload *w);
extern void cm_deploy_sync(cm_model *m, int w);
extern void cm_do_rollout(cm_model *m, int w);
extern void cm_do_bad_fix(cm_model *m, int w);
extern void cm_do_hpa(cm_model *m, int w);
extern void cm_do_hpa_metric(cm_model *m, int w, int left);
extern void cm_sts_create_pod(cm_model *m, int64_t t, int w, int ord);
extern int  cm_sts_find(cm_model *m, int w, int ord);
extern void cm_sts_next(cm_model *m, int w);
extern void cm_do_sts_roll(cm_model *m, int w);
extern void cm_job_create_pod(cm_model *m, int64_t t, int w);
extern void cm_do_cron(cm_model *m, int w);
extern void cm_job_finish(cm_model *m, int p);

/* cluster_nodes.c: node trouble and recovery. */
extern void cm_do_node_trouble(cm_model *m, int n);
extern void cm_do_node_pressure_evict(cm_model *m, int n, uint32_t trouble_id);
extern void cm_do_node_notready(cm_model *m, int n);
extern void cm_do_node_evict(cm_model *m, int n, uint32_t trouble_id);
extern void cm_do_node_ready(cm_model *m, int n);

/* cluster_startup.c: a pod's way from creation to ready. */
extern bool cm_pod_kubelet_ok(cm_model *m, int p, int kind, int b);
extern void cm_pod_schedule(cm_model *m, int p, int attempt);
extern void cm_pod_attach(cm_model *m, int p);
extern void cm_pod_mount(cm_model *m, int p);
extern void cm_pod_pull(cm_model *m, int p, int ci);
extern void cm_pod_pulled(cm_model *m, int p, int ci);
extern void cm_pod_pull_fail(cm_model *m, int p, int attempt);
extern void cm_pod_pull_backoff(cm_model *m, int p, int attempt);
extern void cm_pod_pull_retry(cm_model *m, int p, int attempt);
extern void cm_pod_start(cm_model *m, int p, int ci);
extern void cm_readiness_fail(cm_model *m, int p, int variant);
extern void cm_pod_ready(cm_model *m, int p, int left);

/* cluster_episodes.c: trouble in running pods. */
extern void cm_pod_episode_at(cm_model *m, int64_t t, int p, episode_kind kind);
extern void cm_schedule_episode(cm_model *m, int p);
extern void cm_pod_episode(cm_model *m, int p, int forced);
extern void cm_ep_probe(cm_model *m, int p, int left);
extern void cm_ep_liveness(cm_model *m, int p, int left);
extern void cm_ep_oom(cm_model *m, int p, int left);
extern void cm_ep_backoff(cm_model *m, int p, int left);
extern void cm_ep_restart(cm_model *m, int p, int left);

/* cluster_build.c: the cluster at the start. */
extern void cm_build_cluster(cm_model *m);

#endif
