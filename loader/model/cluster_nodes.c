/*
 * cluster_nodes.c
 *	  Node trouble: pressure, NotReady, taint-based eviction and recovery.
 *
 * A troubled node is where a real stream gets its bursts: many pods of many
 * workloads reporting at once, from the kubelet while it can still reach the
 * API and from the node controller once it cannot.
 */
#include "cluster_internal.h"

#include <stdio.h>

static void
node_status_ev(cm_model *m, int64_t t, int n, const char *status)
{
	cm_obj_ref ref = cm_node_kubelet_ref(m, n);

	cm_host_ev(m, t, &ref, "Normal", status, "kubelet", m->nodes[n].name,
	           "Node %s status is now: %s", m->nodes[n].name, status);
}

/*
 * Trouble builds up on a node before it goes NotReady: memory or disk pressure,
 * and its pods start failing probes and getting OOM-killed.
 */
void
cm_do_node_trouble(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t lead = cm_rndi(m, 3, 15) * MINUTE;
	int64_t t = m->now;
	double  r = cm_rndf(m);

	if (nd->trouble || !nd->ready)
	{
		cm_push(m, m->now + cm_rexp(m, 4 * DAY) + HOUR, A_NODE_TROUBLE, n, 0, 0);
		return;
	}
	nd->trouble = true;
	nd->trouble_id++;
	nd->trouble_kind = r < 0.45 ? 0 : r < 0.75 ? 1 : 2;
	if (nd->trouble_kind == 0)
	{
		cm_obj_ref ref = cm_node_kubelet_ref(m, n);

		node_status_ev(m, t, n, "NodeHasInsufficientMemory");
		cm_host_ev(m, t + cm_rndi(m, 20, 90) * SEC, &ref, "Warning", "EvictionThresholdMet",
		           "kubelet", nd->name, "Attempting to reclaim memory");
	}
	else if (nd->trouble_kind == 1)
	{
		cm_obj_ref ref = cm_node_kubelet_ref(m, n);

		node_status_ev(m, t, n, "NodeHasDiskPressure");
		cm_host_ev(m, t + cm_rndi(m, 20, 90) * SEC, &ref, "Warning", "EvictionThresholdMet",
		           "kubelet", nd->name, "Attempting to reclaim ephemeral-storage");
	}
	if (nd->trouble_kind != 2 && cm_chance(m, 0.6))
		cm_push(m, m->now + cm_rndi(m, 100, 150) * SEC, A_NODE_PRESSURE_EVICT, n, nd->trouble_id,
		        0);
	for (int p = 0; p < m->cappods; p++)
	{
		pod *pd = &m->pods[p];

		if (!pd->used || pd->node != n || pd->state != PS_RUNNING || pd->job_pod)
			continue;
		if (!cm_chance(m, nd->trouble_kind == 2 ? 0.35 : 0.6))
			continue;
		cm_pod_episode_at(m, m->now + cm_rndi(m, 0, lead - 30 * SEC), p,
		                  nd->trouble_kind == 0 || cm_chance(m, 0.2) ? EP_OOM
		                  : cm_chance(m, 0.7)                        ? EP_READINESS
		                                                             : EP_LIVENESS);
	}
	cm_push(m, m->now + lead, A_NODE_NOTREADY, n, 0, 0);
}

/*
 * Node-pressure eviction: the kubelet fails the pod using the most of the scarce
 * resource beyond its request; its ReplicaSet replaces it.
 */
void
cm_do_node_pressure_evict(cm_model *m, int n, uint32_t trouble_id)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	int     victims = (int) cm_rndi(m, 1, 2);

	if (!nd->trouble || nd->trouble_id != trouble_id || !nd->ready)
		return;
	for (int p = 0; p < m->cappods && victims > 0; p++)
	{
		pod        *pd = &m->pods[p];
		const char *cn;
		int         rsi;

		if (!pd->used || pd->node != n || pd->state != PS_RUNNING || pd->rs < 0 ||
		    !cm_chance(m, 0.5))
			continue;
		cn = cm_container_name(m, pd, 1);
		if (nd->trouble_kind == 0)
			cm_pod_ev(
			    m, t, p, -1, WARNING("Evicted"),
			    "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
			    "%dKi. Container %s was using %dKi, request is %dMi, has larger consumption of "
			    "memory. ",
			    (int) cm_rndi(m, 60000, 102000), cn, (int) cm_rndi(m, 900000, 4000000),
			    (int) (128 << cm_rndi(m, 0, 3)));
		else
			cm_pod_ev(
			    m, t, p, -1, WARNING("Evicted"),
			    "The node was low on resource: ephemeral-storage. Threshold quantity: "
			    "10Gi, available: %dKi. Container %s was using %dKi, request is 0, has larger "
			    "consumption of ephemeral-storage. ",
			    (int) cm_rndi(m, 8000000, 10400000), cn, (int) cm_rndi(m, 2000000, 30000000));
		cm_pod_ev(m, t + cm_rndi(m, 5, 80) * MS, p, 1, NORMAL("Killing"), "Stopping container %s",
		          cn);
		rsi = pd->rs;
		cm_pod_free(m, p);
		t += cm_rndi(m, 100, 900) * MS;
		cm_rs_scale_up(m, &t, rsi, 1);
		victims--;
	}
}

void
cm_do_node_notready(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	int64_t dur;

	nd->ready = false;
	/* a kubelet with an unhealthy runtime still reports; an unreachable one does not */
	nd->kubelet_alive = nd->trouble_kind != 2 && cm_chance(m, 0.45);
	if (nd->kubelet_alive)
		node_status_ev(m, t, n, "NodeNotReady");
	else
	{
		cm_obj_ref ref = cm_node_ctrl_ref(m, n);

		t += cm_rndi(m, 20, 50) * SEC; /* node-monitor-grace-period */
		cm_ctrl_ev(m, t, &ref, "Normal", "NodeNotReady", "node-controller",
		           "Node %s status is now: NodeNotReady", nd->name);
	}
	for (int p = 0; p < m->cappods; p++)
	{
		pod       *pd = &m->pods[p];
		cm_obj_ref ref;

		if (!pd->used || pd->node != n || pd->state == PS_TERMINATING)
			continue;
		ref = cm_pod_ref(m, pd, -1);
		t += cm_rndi(m, 1, 30) * MS;
		cm_ctrl_ev(m, t, &ref, "Warning", "NodeNotReady", "node-controller", "Node is not ready");
		pd->ready = false;
	}
	dur = cm_chance(m, 0.6) ? cm_rndi(m, 60, 280) * SEC : cm_rndi(m, 330, 1500) * SEC;
	cm_push(m, t + dur, A_NODE_READY, n, 0, 0);
	/* NoExecute taints are tolerated for 300s by default */
	cm_push(m, t + 300 * SEC + cm_rndi(m, 0, 5000) * MS, A_NODE_EVICT, n, nd->trouble_id, 0);
}

void
cm_do_node_evict(cm_model *m, int n, uint32_t trouble_id)
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
		ref = cm_pod_ref(m, pd, -1);
		t += cm_rndi(m, 1, 20) * MS;
		cm_ctrl_ev(m, t, &ref, "Normal", "TaintManagerEviction", "taint-eviction-controller",
		           "Marking for deletion Pod %s/%s", cm_ns_name(m, pd->wl), pd->name);
		pd->state = PS_TERMINATING;
		pd->ready = false;
		if (pd->rs >= 0)
		{
			/* the ReplicaSet no longer counts it and makes a replacement elsewhere */
			int rsi = pd->rs;

			pd->rs = -1;
			cm_rs_scale_up(m, &t, rsi, 1);
		}
		else if (pd->job_pod && wl->job_active && wl->job_pod == p)
		{
			t += cm_rndi(m, 5, 50) * MS;
			cm_job_create_pod(m, t, pd->wl);
		}
		/* StatefulSet pods keep their identity: recreated once the node confirms the deletion */
	}
}

void
cm_do_node_ready(cm_model *m, int n)
{
	node   *nd = &m->nodes[n];
	int64_t t = m->now;
	bool    was_alive = nd->kubelet_alive;

	nd->ready = true;
	nd->kubelet_alive = true;
	nd->trouble = false;
	if (!was_alive && cm_chance(m, 0.5))
	{
		cm_obj_ref ref = cm_node_kubelet_ref(m, n);

		char inst[48];

		cm_host_ev(m, t, &ref, "Normal", "Starting", "kubelet", nd->name, "Starting kubelet.");
		/* kube-proxy restarts with it and reports through events.k8s.io, without a note */
		snprintf(inst, sizeof(inst), "kube-proxy-%s", nd->name);
		m->msg[0] = '\0';
		cm_record(m, t + cm_rndi(m, 500, 3000) * MS, &ref, "Normal", "Starting", NULL, NULL, true,
		          "StartKubeProxy", "kube-proxy", inst);
		t += cm_rndi(m, 50, 400) * MS;
		cm_host_ev(m, t, &ref, "Normal", "NodeAllocatableEnforced", "kubelet", nd->name,
		           "Updated Node Allocatable limit across pods");
		t += cm_rndi(m, 5, 50) * MS;
		node_status_ev(m, t, n, "NodeHasSufficientMemory");
		node_status_ev(m, t, n, "NodeHasNoDiskPressure");
		node_status_ev(m, t, n, "NodeHasSufficientPID");
		t += cm_rndi(m, 1, 9) * SEC;
	}
	else if (nd->trouble_kind == 0)
		node_status_ev(m, t, n, "NodeHasSufficientMemory");
	else if (nd->trouble_kind == 1)
		node_status_ev(m, t, n, "NodeHasNoDiskPressure");
	node_status_ev(m, t + cm_rndi(m, 100, 900) * MS, n, "NodeReady");

	for (int p = 0; p < m->cappods; p++)
	{
		pod *pd = &m->pods[p];

		if (!pd->used || pd->node != n)
			continue;
		if (pd->state == PS_TERMINATING)
		{
			int w = pd->wl;
			int ord = pd->ordinal;

			cm_pod_delete(m, t + cm_rndi(m, 1, 3) * SEC, p);
			if (m->wls[w].kind == WL_STS)
				cm_push(m, m->now + cm_rndi(m, 3, 12) * SEC, A_STS_RECREATE, w, 0, ord);
		}
		else
			pd->ready = pd->state == PS_RUNNING;
	}
	cm_push(m, m->now + HOUR + cm_rexp(m, 4 * DAY), A_NODE_TROUBLE, n, 0, 0);
}
