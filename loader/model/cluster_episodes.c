/*
 * cluster_episodes.c
 *	  Trouble in running pods: failing probes, OOM kills, CrashLoopBackOff.
 *
 * Episodes come at random times (how often depends on the workload) or are
 * forced by trouble on the pod's node; a pod has one at a time, and while its
 * kubelet cannot reach the API an episode ends, as nothing would report it.
 */
#include "cluster_internal.h"

void
cm_pod_episode_at(cm_model *m, int64_t t, int p, episode_kind kind)
{
	cm_push_pod(m, t, A_POD_EPISODE, p, kind);
}

void
cm_schedule_episode(cm_model *m, int p)
{
	workload *wl = &m->wls[m->pods[p].wl];

	cm_pod_episode_at(m, m->now + 5 * MINUTE + cm_rexp(m, (int64_t) ((double) DAY / wl->flaky)), p,
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
		cm_schedule_episode(m, p);
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

void
cm_pod_episode(cm_model *m, int p, int forced)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int       kind = forced;

	if (pd->episode || pd->state != PS_RUNNING || !m->nodes[pd->node].kubelet_alive)
	{
		if (forced == EP_NONE)
			cm_schedule_episode(m, p);
		return;
	}
	if (kind == EP_NONE)
	{
		double r = cm_rndf(m);

		kind = r < wl->oomy ? EP_OOM : r < wl->oomy + 0.15 ? EP_LIVENESS : EP_READINESS;
	}
	pd->episode = true;
	pd->episode_forced = forced != EP_NONE;
	pd->crash_n = 0;
	switch (kind)
	{
		case EP_READINESS:
			pd->probe_variant = cm_chance(m, 0.7) ? 0 : 1;
			cm_push_pod(m, m->now, A_EP_PROBE, p,
			            (int) (forced != EP_NONE ? cm_rndi(m, 3, 25) : cm_rndi(m, 2, 10)));
			break;
		case EP_LIVENESS:
			cm_push_pod(m, m->now, A_EP_LIVENESS, p, 3);
			break;
		default:
			cm_push_pod(m, m->now, A_EP_OOM, p,
			            (int) (forced != EP_NONE ? cm_rndi(m, 2, 6) : cm_rndi(m, 1, 4)));
			break;
	}
}

void
cm_ep_probe(cm_model *m, int p, int left)
{
	pod *pd = &m->pods[p];

	if (!episode_ok(m, p))
		return;
	cm_readiness_fail(m, p, pd->probe_variant);
	pd->ready = false;
	if (left > 1)
	{
		cm_push_pod(m, m->now + 10 * SEC + cm_rndi(m, 0, 200) * MS, A_EP_PROBE, p, left - 1);
		return;
	}
	pd->ready = m->nodes[pd->node].ready;
	end_episode(m, p);
}

void
cm_ep_liveness(cm_model *m, int p, int left)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];

	if (!episode_ok(m, p))
		return;
	if (wl->tcp_probe)
		cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
		          "Liveness probe failed: dial tcp %s:%d: i/o timeout", pd->ip, wl->port);
	else
		cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
		          "Liveness probe failed: HTTP probe failed with statuscode: 500");
	if (left > 1)
	{
		cm_push_pod(m, m->now + 10 * SEC + cm_rndi(m, 0, 200) * MS, A_EP_LIVENESS, p, left - 1);
		return;
	}
	cm_pod_ev(m, m->now + cm_rndi(m, 5, 100) * MS, p, 1, NORMAL("Killing"),
	          "Container %s failed liveness probe, will be restarted", cm_container_name(m, pd, 1));
	pd->ready = false;
	pd->state = PS_CRASHED;
	cm_push_pod(m, m->now + cm_rndi(m, 2, 30) * SEC, A_EP_RESTART, p, 0);
}

/* The container exceeded its memory limit; the kernel's OOM killer ends it. */
void
cm_ep_oom(cm_model *m, int p, int left)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	node      *nd;
	cm_obj_ref ref;
	int64_t    delay;

	if (!episode_ok(m, p))
		return;
	nd = &m->nodes[pd->node];
	ref = cm_node_kubelet_ref(m, pd->node);
	cm_host_ev(m, m->now, &ref, "Warning", "OOMKilling", "kernel-monitor", nd->name,
	           "Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, "
	           "file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d",
	           (int) cm_rndi(m, 2000, 4000000), wl->proc, (int) cm_rndi(m, 300000, 6000000),
	           (int) cm_rndi(m, 100000, 2000000), (int) cm_rndi(m, 1000, 60000),
	           cm_chance(m, 0.5) ? 0 : 1000, (int) cm_rndi(m, 400, 9000),
	           (int) cm_rndi(m, 900, 999));
	pd->ready = false;
	pd->state = PS_CRASHED;
	pd->crash_n++;
	/* CrashLoopBackOff: 10s doubling to 5m, the first restart immediate */
	delay = pd->crash_n == 1 ? cm_rndi(m, 200, 1500) * MS : (10 * SEC) << (pd->crash_n - 2);
	if (delay > 300 * SEC)
		delay = 300 * SEC;
	pd->restart_at = m->now + delay;
	if (delay >= 10 * SEC)
		cm_push_pod(m, m->now + cm_rndi(m, 1, 3) * SEC, A_EP_BACKOFF, p, left);
	else
		cm_push_pod(m, pd->restart_at, A_EP_RESTART, p, left);
}

void
cm_ep_backoff(cm_model *m, int p, int left)
{
	pod    *pd = &m->pods[p];
	int64_t next;

	if (!episode_ok(m, p))
		return;
	cm_pod_ev(m, m->now, p, 1, WARNING("BackOff"),
	          "Back-off restarting failed container %s in pod %s_%s(%s)",
	          cm_container_name(m, pd, 1), pd->name, cm_ns_name(m, pd->wl), pd->uid);
	next = m->now + cm_rndi(m, 10, 25) * SEC;
	if (next < pd->restart_at)
		cm_push_pod(m, next, A_EP_BACKOFF, p, left);
	else
		cm_push_pod(m, pd->restart_at, A_EP_RESTART, p, left);
}

void
cm_ep_restart(cm_model *m, int p, int left)
{
	pod    *pd = &m->pods[p];
	int64_t t = m->now;

	if (!episode_ok(m, p))
		return;
	cm_pod_ev(m, t, p, 1, NORMAL("Pulled"), "Container image \"%s\" already present on machine",
	          pd->image);
	t += cm_rndi(m, 20, 300) * MS;
	cm_pod_ev(m, t, p, 1, NORMAL("Created"), "Created container %s", cm_container_name(m, pd, 1));
	t += cm_rndi(m, 20, 400) * MS;
	cm_pod_ev(m, t, p, 1, NORMAL("Started"), "Started container %s", cm_container_name(m, pd, 1));
	pd->state = PS_RUNNING;
	pd->ready = m->nodes[pd->node].ready;
	if (left > 1)
	{
		cm_push_pod(m, t + cm_rndi(m, 10, 90) * SEC, A_EP_OOM, p, left - 1);
		return;
	}
	end_episode(m, p);
}
