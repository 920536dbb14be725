/*
 * cluster_pods.c
 *	  Pods and ReplicaSets: their pools, placement on nodes, and the
 *	  ReplicaSet controller's scaling.
 *
 * Both live in pools with free lists, so that pending actions can name them
 * by index; freeing a pod bumps its generation, which is how an action for a
 * pod deleted since is told apart from one for a pod reusing its slot.
 */
#include "cluster_internal.h"

#include <stdio.h>
#include <string.h>

int
cm_pod_alloc(cm_model *m, int w, const char *name)
{
	int  p;
	pod *pd;

	if (m->free_pod < 0)
	{
		int old = m->cappods;
		int i;

		m->cappods = old ? old * 2 : 256;
		m->pods = cm_xrealloc(m->pods, (size_t) m->cappods * sizeof(pod));
		m->scratch = cm_xrealloc(m->scratch, (size_t) m->cappods * sizeof(int));
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
	cm_make_uid(m, pd->uid);
	pd->rv = cm_next_rv(m);
	pd->created = m->now;
	snprintf(pd->image, sizeof(pd->image), "%s", m->wls[w].image);
	return p;
}

void
cm_pod_free(cm_model *m, int p)
{
	pod *pd = &m->pods[p];

	if (pd->node >= 0)
		m->nodes[pd->node].npods--;
	pd->used = false;
	pd->gen++;
	pd->next_free = m->free_pod;
	m->free_pod = p;
}

void
cm_pod_bind(cm_model *m, int p, int n)
{
	pod  *pd = &m->pods[p];
	node *nd = &m->nodes[n];

	pd->node = n;
	nd->npods++;
	snprintf(pd->ip, sizeof(pd->ip), "10.%d.%d.%d", 244 + n / 256, n % 256, nd->ip_next);
	nd->ip_next = nd->ip_next >= 254 ? 2 : nd->ip_next + 1;
}

/* Two random choices, the emptier wins: spreads pods like the scheduler's scoring. */
int
cm_pick_node(cm_model *m, int *nready)
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
		int k = (int) cm_rndi(m, 0, cnt - 1);

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

int
cm_rs_alloc(cm_model *m, int w)
{
	int         i;
	replicaset *rs;
	char        hash[12];

	if (m->free_rs < 0)
	{
		int old = m->caprss;

		m->caprss = old ? old * 2 : 64;
		m->rss = cm_xrealloc(m->rss, (size_t) m->caprss * sizeof(replicaset));
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
	cm_make_suffix(m, hash, cm_chance(m, 0.5) ? 9 : 10);
	snprintf(rs->name, sizeof(rs->name), "%s-%s", m->wls[w].name, hash);
	cm_make_uid(m, rs->uid);
	rs->rv = cm_next_rv(m);
	return i;
}

void
cm_rs_free(cm_model *m, int i)
{
	m->rss[i].used = false;
	m->rss[i].next_free = m->free_rs;
	m->free_rs = i;
}

/* Pods of a replica set (or of a workload when rsi < 0), into m->scratch. */
int
cm_collect_pods(cm_model *m, int rsi, int w, bool ready_only)
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

int
cm_count_ready(cm_model *m, int rsi)
{
	return rsi < 0 ? 0 : cm_collect_pods(m, rsi, -1, true);
}

/* A new pod of a controller: what happens between creation and binding. */
void
cm_pod_created(cm_model *m, int64_t t, int p)
{
	pod      *pd = &m->pods[p];
	workload *w = &m->wls[pd->wl];

	pd->created = t;
	/* mostly a brief squeeze; sometimes the pod waits hours for capacity */
	if (cm_chance(m, 0.015))
		pd->sched_fail_left = cm_chance(m, 0.25) ? (int) cm_rndi(m, 6, 30) : (int) cm_rndi(m, 1, 4);
	if (cm_chance(m, w->kind == WL_STS ? 0.06 : 0.008))
		pd->mount_fail_left = (int) cm_rndi(m, 2, 7);
	if (!pd->bad_image && w->style == IMG_REGISTRY && cm_chance(m, 0.006))
		pd->pull_fail_left = (int) cm_rndi(m, 1, 2);
	cm_push_pod(m, t + cm_rndi(m, 2, 40) * MS, A_POD_SCHEDULE, p, 0);
}

void
cm_rs_scale_up(cm_model *m, int64_t *t, int rsi, int n)
{
	replicaset *rs = &m->rss[rsi];

	for (int i = 0; i < n; i++)
	{
		char       sfx[8];
		char       name[80];
		cm_obj_ref ref;
		int        p;

		cm_make_suffix(m, sfx, 5);
		snprintf(name, sizeof(name), "%s-%s", rs->name, sfx);
		p = cm_pod_alloc(m, rs->wl, name);
		m->pods[p].rs = rsi;
		m->pods[p].bad_image = rs->bad;
		*t += cm_rndi(m, 1, 15) * MS;
		ref = cm_rs_ref(m, rsi);
		cm_ctrl_ev(m, *t, &ref, "Normal", "SuccessfulCreate", "replicaset-controller",
		           "Created pod: %s", name);
		cm_pod_created(m, *t, p);
	}
}

/* Deleting a pod: the kubelet stops its container, if one ever ran. */
void
cm_pod_delete(cm_model *m, int64_t t, int p)
{
	pod *pd = &m->pods[p];

	if (pd->started && pd->state != PS_CRASHED)
		cm_pod_ev(m, t + cm_rndi(m, 5, 120) * MS, p, 1, NORMAL("Killing"), "Stopping container %s",
		          cm_container_name(m, pd, 1));
	cm_pod_free(m, p);
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

void
cm_rs_scale_down(cm_model *m, int64_t *t, int rsi, int n)
{
	for (int k = 0; k < n; k++)
	{
		int        cnt = cm_collect_pods(m, rsi, -1, false);
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
		*t += cm_rndi(m, 1, 15) * MS;
		ref = cm_rs_ref(m, rsi);
		cm_ctrl_ev(m, *t, &ref, "Normal", "SuccessfulDelete", "replicaset-controller",
		           "Deleted pod: %s", m->pods[best].name);
		cm_pod_delete(m, *t, best);
	}
}
