/*
 * cluster_workloads.c
 *	  The workload controllers: Deployments (rollouts, bad releases, HPAs),
 *	  StatefulSets, and CronJobs with their Jobs.
 *
 * Each follows its real controller's order of operations (surge and
 * availability limits, reverse-ordinal updates, Forbid concurrency, history
 * limits), because that order is what shows in the Event stream.
 */
#include "cluster_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- images */

void
cm_wl_image_refresh(workload *w)
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
	double r = cm_rndf(m);

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
			cm_make_hex(m, w->digest, 64);
			break;
	}
	cm_wl_image_refresh(w);
	memset(w->img_on_node, 0, (size_t) m->cfg.nodes);
	return true;
}

/* ---------------------------------------------------------------- deployments */

static void
scaling_ev(cm_model *m, int64_t *t, int w, int rsi, bool up, int to)
{
	cm_obj_ref ref = cm_wl_ref(m, w);

	*t += cm_rndi(m, 1, 10) * MS;
	cm_ctrl_ev(m, *t, &ref, "Normal", "ScalingReplicaSet", "deployment-controller",
	           "Scaled %s replica set %s to %d", up ? "up" : "down", m->rss[rsi].name, to);
}

/*
 * The deployment controller's rolling update (maxSurge 25% rounded up,
 * maxUnavailable 25% rounded down): grow the new ReplicaSet as far as the surge
 * allows, shrink the old one as far as availability allows, until done.
 */
void
cm_deploy_sync(cm_model *m, int w)
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
			cm_rs_scale_up(m, &t, wl->cur_rs, want - cur->target);
			cur = &m->rss[wl->cur_rs];
			cur->target = want;
			changed = true;
		}
		if (old_t > 0)
		{
			int can_remove =
			    cm_count_ready(m, wl->cur_rs) + cm_count_ready(m, wl->old_rs) - (R - unav);

			if (can_remove > 0)
			{
				int nt = old_t - can_remove < 0 ? 0 : old_t - can_remove;

				scaling_ev(m, &t, w, wl->old_rs, false, nt);
				cm_rs_scale_down(m, &t, wl->old_rs, old_t - nt);
				m->rss[wl->old_rs].target = nt;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	if ((wl->old_rs < 0 || m->rss[wl->old_rs].target == 0) && cm_count_ready(m, wl->cur_rs) >= R)
	{
		if (wl->old_rs >= 0)
			cm_rs_free(m, wl->old_rs);
		wl->old_rs = -1;
		wl->rolling = false;
		cm_push(m, m->now + 10 * MINUTE + cm_rexp(m, wl->rollout_mean), A_ROLLOUT, w, 0, 0);
	}
}

void
cm_do_rollout(cm_model *m, int w)
{
	workload *wl = &m->wls[w];
	bool      image_changed;

	if (wl->rolling)
	{
		cm_push(m, m->now + 30 * MINUTE, A_ROLLOUT, w, 0, 0);
		return;
	}
	image_changed = wl_new_version(m, wl);
	wl->rv = cm_next_rv(m);
	wl->old_rs = wl->cur_rs;
	wl->cur_rs = cm_rs_alloc(m, w);
	wl->rolling = true;
	/* a tag that was never pushed: the rollout stalls until someone ships a fix */
	if (image_changed && wl->style == IMG_REGISTRY && cm_chance(m, 0.05))
	{
		m->rss[wl->cur_rs].bad = true;
		cm_push(m, m->now + cm_rndi(m, 12, 50) * MINUTE, A_BAD_FIX, w, 0, 0);
	}
	cm_deploy_sync(m, w);
}

void
cm_do_bad_fix(cm_model *m, int w)
{
	workload *wl = &m->wls[w];
	int64_t   t = m->now;
	int       bad = wl->cur_rs;

	if (!wl->rolling || !m->rss[bad].bad)
		return;
	scaling_ev(m, &t, w, bad, false, 0);
	cm_rs_scale_down(m, &t, bad, cm_collect_pods(m, bad, -1, false));
	cm_rs_free(m, bad);
	wl->v[2]++;
	cm_wl_image_refresh(wl);
	memset(wl->img_on_node, 0, (size_t) m->cfg.nodes);
	wl->rv = cm_next_rv(m);
	wl->cur_rs = cm_rs_alloc(m, w);
	cm_deploy_sync(m, w);
}

void
cm_do_hpa(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	double     hour = fmod((double) m->now / (double) HOUR, 24.0);
	double     load = 0.5 + 0.5 * sin(2.0 * M_PI * (hour - 9.0) / 24.0);
	int        desired;
	int64_t    t = m->now;
	cm_obj_ref ref;

	cm_push(m, m->now + cm_rndi(m, 15, 30) * MINUTE, A_HPA, w, 0, 0);
	if (wl->rolling)
		return;
	desired = wl->hpa_min + (int) lround((wl->hpa_max - wl->hpa_min) * load + 0.3 * cm_rnorm(m));
	if (desired < wl->hpa_min)
		desired = wl->hpa_min;
	if (desired > wl->hpa_max)
		desired = wl->hpa_max;
	if (desired == wl->replicas)
		return;
	ref = cm_hpa_ref(m, w);
	cm_ctrl_ev(m, t, &ref, "Normal", "SuccessfulRescale", "horizontal-pod-autoscaler",
	           "New size: %d; reason: %s", desired,
	           desired < wl->replicas ? "All metrics below target"
	           : cm_chance(m, 0.8)
	               ? "cpu resource utilization (percentage of request) above target"
	               : "memory resource utilization (percentage of request) above target");
	scaling_ev(m, &t, w, wl->cur_rs, desired > wl->replicas, desired);
	if (desired > wl->replicas)
	{
		cm_rs_scale_up(m, &t, wl->cur_rs, desired - wl->replicas);
		if (cm_chance(m, 0.25))
			cm_push(m, m->now + cm_rndi(m, 14, 16) * SEC, A_HPA_METRIC, w, 0,
			        (int) cm_rndi(m, 1, 3));
	}
	else
		cm_rs_scale_down(m, &t, wl->cur_rs, wl->replicas - desired);
	m->rss[wl->cur_rs].target = desired;
	wl->replicas = desired;
}

/* Freshly started pods have no metrics yet. */
void
cm_do_hpa_metric(cm_model *m, int w, int left)
{
	cm_obj_ref  ref = cm_hpa_ref(m, w);
	const char *err = "failed to get cpu utilization: unable to get metrics for resource cpu: no "
	                  "metrics returned from resource metrics API";

	cm_ctrl_ev(m, m->now, &ref, "Warning", "FailedGetResourceMetric", "horizontal-pod-autoscaler",
	           "%s", err);
	cm_ctrl_ev(m, m->now + cm_rndi(m, 1, 5) * MS, &ref, "Warning", "FailedComputeMetricsReplicas",
	           "horizontal-pod-autoscaler",
	           "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
	           "metric value: %s",
	           err);
	if (left > 1)
		cm_push(m, m->now + 15 * SEC + cm_rndi(m, 0, 500) * MS, A_HPA_METRIC, w, 0, left - 1);
}

/* ---------------------------------------------------------------- statefulsets */

void
cm_sts_create_pod(cm_model *m, int64_t t, int w, int ord)
{
	workload  *wl = &m->wls[w];
	char       name[80];
	cm_obj_ref ref;
	int        p;

	snprintf(name, sizeof(name), "%s-%d", wl->name, ord);
	p = cm_pod_alloc(m, w, name);
	m->pods[p].ordinal = ord;
	ref = cm_wl_ref(m, w);
	cm_ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "statefulset-controller",
	           "create Pod %s in StatefulSet %s successful", name, wl->name);
	cm_pod_created(m, t, p);
}

int
cm_sts_find(cm_model *m, int w, int ord)
{
	int cnt = cm_collect_pods(m, -1, w, false);

	for (int i = 0; i < cnt; i++)
		if (m->pods[m->scratch[i]].ordinal == ord)
			return m->scratch[i];
	return -1;
}

/* Rolling update in reverse ordinal order: delete one, wait for its successor to be ready. */
void
cm_sts_next(cm_model *m, int w)
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
		cm_push(m, m->now + 6 * HOUR + cm_rexp(m, wl->rollout_mean), A_STS_ROLL, w, 0, 0);
		return;
	}
	p = cm_sts_find(m, w, wl->sts_ord);
	if (p < 0)
	{
		/* the pod is gone already (evicted); the rollout resumes when it is back */
		return;
	}
	ref = cm_wl_ref(m, w);
	cm_ctrl_ev(m, t, &ref, "Normal", "SuccessfulDelete", "statefulset-controller",
	           "delete Pod %s in StatefulSet %s successful", m->pods[p].name, wl->name);
	cm_pod_delete(m, t, p);
	cm_push(m, m->now + cm_rndi(m, 2, 30) * SEC, A_STS_RECREATE, w, 0, wl->sts_ord);
}

void
cm_do_sts_roll(cm_model *m, int w)
{
	workload *wl = &m->wls[w];

	if (wl->rolling)
		return;
	wl_new_version(m, wl);
	wl->rv = cm_next_rv(m);
	wl->rolling = true;
	wl->sts_ord = wl->replicas - 1;
	cm_sts_next(m, w);
}

/* ---------------------------------------------------------------- cronjobs */

void
cm_job_create_pod(cm_model *m, int64_t t, int w)
{
	workload  *wl = &m->wls[w];
	char       sfx[8];
	char       name[80];
	cm_obj_ref ref;
	int        p;

	cm_make_suffix(m, sfx, 5);
	snprintf(name, sizeof(name), "%s-%s", wl->job_name, sfx);
	p = cm_pod_alloc(m, w, name);
	m->pods[p].job_pod = true;
	m->pods[p].will_fail = cm_chance(m, wl->job_attempts > 0 ? 0.5 : wl->fail_rate);
	wl->job_pod = p;
	ref = cm_job_ref(m, w);
	cm_ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "job-controller", "Created pod: %s", name);
	cm_pod_created(m, t, p);
}

void
cm_do_cron(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	int64_t    t = m->now + cm_rndi(m, 5, 900) * MS;
	cm_obj_ref ref = cm_wl_ref(m, w);

	cm_push(m, m->now + (int64_t) wl->period_min * MINUTE, A_CRON, w, 0, 0);
	if (wl->job_active)
	{
		cm_ctrl_ev(m, t, &ref, "Normal", "JobAlreadyActive", "cronjob-controller",
		           "Not starting job because prior execution is running and concurrency policy is "
		           "Forbid");
		return;
	}
	/* the Job is named after its scheduled time in minutes, like the CronJob controller does */
	wl->job_stamp = m->now / MINUTE;
	snprintf(wl->job_name, sizeof(wl->job_name), "%s-%lld", wl->name, (long long) wl->job_stamp);
	cm_make_uid(m, wl->job_uid);
	wl->job_rv = cm_next_rv(m);
	wl->job_active = true;
	wl->job_attempts = 0;
	cm_ctrl_ev(m, t, &ref, "Normal", "SuccessfulCreate", "cronjob-controller", "Created job %s",
	           wl->job_name);
	cm_job_create_pod(m, t + cm_rndi(m, 3, 40) * MS, w);
}

void
cm_job_finish(cm_model *m, int p)
{
	pod       *pd = &m->pods[p];
	int        w = pd->wl;
	workload  *wl = &m->wls[w];
	int64_t    t = m->now;
	cm_obj_ref jref = cm_job_ref(m, w);
	cm_obj_ref cref = cm_wl_ref(m, w);
	int        n = pd->node;

	if (pd->will_fail)
	{
		if (cm_chance(m, 0.5) && m->nodes[n].kubelet_alive)
		{
			cm_obj_ref nref = cm_node_kubelet_ref(m, n);

			cm_host_ev(m, t, &nref, "Warning", "OOMKilling", "kernel-monitor", m->nodes[n].name,
			           "Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, "
			           "anon-rss:%dkB, file-rss:%dkB, shmem-rss:0kB, UID:%d pgtables:%dkB "
			           "oom_score_adj:%d",
			           (int) cm_rndi(m, 2000, 4000000), wl->proc, (int) cm_rndi(m, 300000, 6000000),
			           (int) cm_rndi(m, 100000, 2000000), (int) cm_rndi(m, 1000, 60000),
			           cm_chance(m, 0.5) ? 0 : 1000, (int) cm_rndi(m, 400, 9000),
			           (int) cm_rndi(m, 900, 999));
		}
		cm_pod_free(m, p);
		wl->job_pod = -1;
		wl->job_attempts++;
		if (wl->job_attempts <= 2)
		{
			cm_push(m, m->now + (10 * SEC << (wl->job_attempts - 1)) + cm_rndi(m, 0, 900) * MS,
			        A_JOB_RETRY, w, 0, 0);
			return;
		}
		t += cm_rndi(m, 5, 60) * MS;
		cm_ctrl_ev(m, t, &jref, "Warning", "BackoffLimitExceeded", "job-controller",
		           "Job has reached the specified backoff limit");
		t += cm_rndi(m, 5, 200) * MS;
		cm_ctrl_ev(m, t, &cref, "Normal", "SawCompletedJob", "cronjob-controller",
		           "Saw completed job: %s, status: Failed", wl->job_name);
		if (wl->last_failed)
		{
			t += cm_rndi(m, 1, 20) * MS;
			cm_ctrl_ev(m, t, &cref, "Normal", "SuccessfulDelete", "cronjob-controller",
			           "Deleted job %s-%lld", wl->name, (long long) wl->last_failed);
		}
		wl->last_failed = wl->job_stamp;
		wl->job_active = false;
		return;
	}
	cm_pod_free(m, p);
	wl->job_pod = -1;
	t += cm_rndi(m, 5, 60) * MS;
	cm_ctrl_ev(m, t, &jref, "Normal", "Completed", "job-controller", "Job completed");
	t += cm_rndi(m, 5, 300) * MS;
	cm_ctrl_ev(m, t, &cref, "Normal", "SawCompletedJob", "cronjob-controller",
	           "Saw completed job: %s, status: Complete", wl->job_name);
	wl->hist[wl->nhist++] = wl->job_stamp;
	if (wl->nhist > CRON_HISTORY)
	{
		t += cm_rndi(m, 1, 20) * MS;
		cm_ctrl_ev(m, t, &cref, "Normal", "SuccessfulDelete", "cronjob-controller",
		           "Deleted job %s-%lld", wl->name, (long long) wl->hist[0]);
		memmove(wl->hist, wl->hist + 1, (size_t) CRON_HISTORY * sizeof(int64_t));
		wl->nhist--;
	}
	wl->job_active = false;
}
