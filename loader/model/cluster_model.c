/*
 * cluster_model.c
 *	  The simulation's engine: the queue of pending actions, the dispatch of each
 *	  action to the piece of the model that carries it out, and the public API.
 *
 * A discrete-event simulation: every pending action (a pod finishing its image
 * pull, a node going NotReady, a CronJob firing...) sits in a min-heap ordered
 * by simulated time and insertion sequence, so one seed always yields the same
 * run.  Actions change the cluster and record Events (cluster_recorder.c).
 *
 * Pods are referred to by pool index plus a generation number, so actions for a
 * pod that has since been deleted are recognised and dropped.
 */
#include "cluster_internal.h"
#include "splitmix64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- basics */

void *
cm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return q;
}

void *
cm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---------------------------------------------------------------- action heap */

static bool
act_less(const action *x, const action *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

void
cm_push(cm_model *m, int64_t t, int kind, int a, uint32_t gen, int b)
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
		m->heap = cm_xrealloc(m->heap, m->capheap * sizeof(action));
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

void
cm_push_pod(cm_model *m, int64_t t, int kind, int p, int b)
{
	cm_push(m, t, kind, p, m->pods[p].gen, b);
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
			if (pd->state != PS_CREATING || !cm_pod_kubelet_ok(m, a->a, a->kind, a->b))
				return;
		}
	}
	switch ((action_kind) a->kind)
	{
		case A_GC:
			cm_rec_gc(m);
			cm_push(m, m->now + 10 * MINUTE, A_GC, 0, 0, 0);
			break;
		case A_ROLLOUT:
			cm_do_rollout(m, a->a);
			break;
		case A_BAD_FIX:
			cm_do_bad_fix(m, a->a);
			break;
		case A_HPA:
			cm_do_hpa(m, a->a);
			break;
		case A_HPA_METRIC:
			cm_do_hpa_metric(m, a->a, a->b);
			break;
		case A_STS_ROLL:
			cm_do_sts_roll(m, a->a);
			break;
		case A_STS_NEXT:
			cm_sts_next(m, a->a);
			break;
		case A_STS_RECREATE:
			if (cm_sts_find(m, a->a, a->b) < 0)
				cm_sts_create_pod(m, m->now, a->a, a->b);
			break;
		case A_CRON:
			cm_do_cron(m, a->a);
			break;
		case A_JOB_RETRY:
			if (m->wls[a->a].job_active && m->wls[a->a].job_pod < 0)
				cm_job_create_pod(m, m->now, a->a);
			break;
		case A_NODE_TROUBLE:
			cm_do_node_trouble(m, a->a);
			break;
		case A_NODE_NOTREADY:
			cm_do_node_notready(m, a->a);
			break;
		case A_NODE_EVICT:
			cm_do_node_evict(m, a->a, a->gen);
			break;
		case A_NODE_PRESSURE_EVICT:
			cm_do_node_pressure_evict(m, a->a, a->gen);
			break;
		case A_NODE_READY:
			cm_do_node_ready(m, a->a);
			for (int w = 0; w < m->nwls; w++)
				if (m->wls[w].kind == WL_DEPLOY && m->wls[w].rolling)
					cm_deploy_sync(m, w);
			break;
		case A_POD_SCHEDULE:
			cm_pod_schedule(m, a->a, a->b);
			break;
		case A_POD_ATTACH:
			cm_pod_attach(m, a->a);
			break;
		case A_POD_MOUNT:
			cm_pod_mount(m, a->a);
			break;
		case A_POD_PULL:
			cm_pod_pull(m, a->a, a->b);
			break;
		case A_POD_PULLED:
			cm_pod_pulled(m, a->a, a->b);
			break;
		case A_POD_PULL_FAIL:
			cm_pod_pull_fail(m, a->a, a->b);
			break;
		case A_POD_PULL_BACKOFF:
			cm_pod_pull_backoff(m, a->a, a->b);
			break;
		case A_POD_PULL_RETRY:
			cm_pod_pull_retry(m, a->a, a->b);
			break;
		case A_POD_START:
			cm_pod_start(m, a->a, a->b);
			break;
		case A_POD_READY:
			cm_pod_ready(m, a->a, a->b);
			break;
		case A_POD_EPISODE:
			cm_pod_episode(m, a->a, a->b);
			break;
		case A_EP_PROBE:
			cm_ep_probe(m, a->a, a->b);
			break;
		case A_EP_LIVENESS:
			cm_ep_liveness(m, a->a, a->b);
			break;
		case A_EP_OOM:
			cm_ep_oom(m, a->a, a->b);
			break;
		case A_EP_BACKOFF:
			cm_ep_backoff(m, a->a, a->b);
			break;
		case A_EP_RESTART:
			cm_ep_restart(m, a->a, a->b);
			break;
		case A_JOB_FINISH:
			if (pd->state != PS_RUNNING)
				break;
			if (!m->nodes[pd->node].kubelet_alive)
			{
				cm_push_pod(m, m->now + 30 * SEC, A_JOB_FINISH, a->a, 0);
				break;
			}
			cm_job_finish(m, a->a);
			break;
	}
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
	m = cm_xcalloc(1, sizeof(cm_model));
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
	cm_rec_rehash(m, 1024);
	m->rv = 1000000 + (uint64_t) cm_rndi(m, 0, 8000000);
	m->nodes = cm_xcalloc((size_t) cfg->nodes, sizeof(node));
	m->nss = cm_xcalloc((size_t) cfg->namespaces, sizeof(nspace));
	cm_build_cluster(m);
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
