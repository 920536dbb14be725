/*
 * cluster_startup.c
 *	  A pod's way from creation to ready: scheduling, volumes, image pulls,
 *	  containers, readiness.
 *
 * Most of a real cluster's Events come from here, including the failures that
 * make a stream interesting (FailedScheduling, FailedMount, ErrImagePull and
 * their back-offs).  Messages follow the scheduler's and kubelet's wording, so
 * what reads them is tested against text it will really meet.
 */
#include "cluster_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Pod actions wait while the kubelet of their node is out of reach. */
bool
cm_pod_kubelet_ok(cm_model *m, int p, int kind, int b)
{
	pod *pd = &m->pods[p];

	if (pd->node >= 0 && !m->nodes[pd->node].kubelet_alive)
	{
		cm_push_pod(m, m->now + 30 * SEC, kind, p, b);
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
	cm_obj_ref ref = cm_pod_ref(m, pd, -1);
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
		cm_sched_ev(m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		            "0/%d nodes are available: %d node(s) had untolerated taint "
		            "{node.kubernetes.io/unreachable: }. preemption: 0/%d nodes are available: %d "
		            "Preemption is not helpful for scheduling.",
		            total, total, total, total);
	else if (cpu > 0)
		cm_sched_ev(m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		            "0/%d nodes are available: %d Insufficient cpu, %d Insufficient memory%s. "
		            "preemption: 0/%d nodes are available: %d No preemption victims found for "
		            "incoming pod.",
		            total, cpu, mem, taint, total, total);
	else
		cm_sched_ev(
		    m, m->now, &ref, WARNING("FailedScheduling"), "Scheduling",
		    "0/%d nodes are available: %d Insufficient memory%s. preemption: 0/%d nodes are "
		    "available: %d No preemption victims found for incoming pod.",
		    total, mem, taint, total, total);
	/* unschedulable pods are retried when the cluster changes, and at least every 5 minutes */
	cm_push_pod(
	    m,
	    m->now + (m->pods[p].sched_fail_left > 4 ? cm_rndi(m, 240, 300) : cm_rndi(m, 10, 70)) * SEC,
	    A_POD_SCHEDULE, p, attempt + 1);
}

void
cm_pod_schedule(cm_model *m, int p, int attempt)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	int        nready;
	int        n = cm_pick_node(m, &nready);
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
	ref = cm_pod_ref(m, pd, -1);
	cm_sched_ev(m, m->now, &ref, NORMAL("Scheduled"), "Binding",
	            "Successfully assigned %s/%s to %s", cm_ns_name(m, pd->wl), pd->name,
	            m->nodes[n].name);
	cm_pod_bind(m, p, n);
	pd->rv = cm_next_rv(m);
	pd->state = PS_CREATING;
	if (wl->kind == WL_STS && wl->sts_node[pd->ordinal] != n)
		cm_push_pod(m, m->now + cm_rndi(m, 800, 4000) * MS, A_POD_ATTACH, p, 0);
	else if (pd->mount_fail_left > 0)
		cm_push_pod(m, m->now + cm_rndi(m, 500, 2000) * MS, A_POD_MOUNT, p, 0);
	else
		cm_push_pod(m, m->now + cm_rndi(m, 150, 1500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
}

void
cm_pod_attach(cm_model *m, int p)
{
	pod       *pd = &m->pods[p];
	workload  *wl = &m->wls[pd->wl];
	cm_obj_ref ref = cm_pod_ref(m, pd, -1);

	cm_ctrl_ev(m, m->now, &ref, "Normal", "SuccessfulAttachVolume", "attachdetach-controller",
	           "AttachVolume.Attach succeeded for volume \"pvc-%s\"", wl->pvc[pd->ordinal]);
	wl->sts_node[pd->ordinal] = pd->node;
	if (pd->mount_fail_left > 0)
		cm_push_pod(m, m->now + cm_rndi(m, 500, 2000) * MS, A_POD_MOUNT, p, 0);
	else
		cm_push_pod(m, m->now + cm_rndi(m, 300, 2500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
}

/* A volume that is not there yet: the kubelet retries with exponential backoff (max 2m2s). */
void
cm_pod_mount(cm_model *m, int p)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   wait;

	if (pd->mount_fail_left <= 0)
	{
		cm_push_pod(m, m->now + cm_rndi(m, 200, 1500) * MS, A_POD_PULL, p, wl->init[0] ? 0 : 1);
		return;
	}
	if (wl->kind == WL_STS)
		cm_pod_ev(m, m->now, p, -1, WARNING("FailedMount"),
		          "MountVolume.MountDevice failed for volume \"pvc-%s\" : rpc error: code = "
		          "DeadlineExceeded desc = context deadline exceeded",
		          wl->pvc[pd->ordinal]);
	else
		cm_pod_ev(
		    m, m->now, p, -1, WARNING("FailedMount"),
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
		cm_pod_ev(m, m->now + cm_rndi(m, 1, 50) * MS, p, -1, WARNING("FailedMount"),
		          "Unable to attach or mount volumes: unmounted volumes=[%s], unattached "
		          "volumes=[%s kube-api-access-%s]: timed out waiting for the condition",
		          wl->kind == WL_STS ? "data" : "config", wl->kind == WL_STS ? "data" : "config",
		          sfx);
	}
	pd->mount_fail_left--;
	wait = (2 * SEC) << (pd->mount_k < 6 ? pd->mount_k : 6);
	if (wait > 122 * SEC)
		wait = 122 * SEC;
	pd->mount_k++;
	cm_push_pod(m, m->now + wait + cm_rndi(m, 0, 999) * MS, A_POD_MOUNT, p, 0);
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

void
cm_pod_pull(cm_model *m, int p, int ci)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, ci);

	if (image_present(m, pd, ci) && !pd->bad_image)
	{
		cm_pod_ev(m, m->now, p, ci, NORMAL("Pulled"),
		          "Container image \"%s\" already present on machine", image);
		cm_push_pod(m, m->now + cm_rndi(m, 30, 400) * MS, A_POD_START, p, ci);
		return;
	}
	cm_pod_ev(m, m->now, p, ci, NORMAL("Pulling"), "Pulling image \"%s\"", image);
	pd->pull_ci = ci;
	pd->pull_started = m->now;
	if (pd->bad_image)
		cm_push_pod(m, m->now + cm_rndi(m, 300, 2500) * MS, A_POD_PULL_FAIL, p, 0);
	else if (pd->pull_fail_left > 0)
		cm_push_pod(m, m->now + cm_rndi(m, 2, 30) * SEC, A_POD_PULL_FAIL, p, 0);
	else
	{
		/* log-normal pull times: median ~3s, a long tail for big images */
		double secs = exp(log(3.0) + 0.9 * cm_rnorm(m));

		if (secs < 0.2)
			secs = 0.2;
		if (secs > 180)
			secs = 180;
		cm_push_pod(m, m->now + (int64_t) (secs * SEC), A_POD_PULLED, p, ci);
	}
}

void
cm_pod_pulled(cm_model *m, int p, int ci)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   total_ms = (m->now - pd->pull_started) / MS;
	int64_t   pull_ms = cm_chance(m, 0.8) ? total_ms : total_ms * cm_rndi(m, 40, 95) / 100;
	char      d1[32];
	char      d2[32];

	go_duration(pull_ms, d1, sizeof(d1));
	go_duration(total_ms, d2, sizeof(d2));
	cm_pod_ev(m, m->now, p, ci, NORMAL("Pulled"),
	          "Successfully pulled image \"%s\" in %s (%s including waiting)", pod_image(m, pd, ci),
	          d1, d2);
	if (ci == 0 && strcmp(wl->init, "copy-config") == 0)
		m->nodes[pd->node].busybox = true;
	else if (strcmp(pd->image, wl->image) == 0)
		wl->img_on_node[pd->node] = 1;
	cm_push_pod(m, m->now + cm_rndi(m, 30, 400) * MS, A_POD_START, p, ci);
}

void
cm_pod_pull_fail(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);
	char        norm[256];
	int64_t     t = m->now;

	normalized_image(image, norm, sizeof(norm));
	if (pd->bad_image)
		cm_pod_ev(
		    m, t, p, pd->pull_ci, WARNING("Failed"),
		    "Failed to pull image \"%s\": rpc error: code = NotFound desc = failed to pull and "
		    "unpack image \"%s\": failed to resolve reference \"%s\": %s: not found",
		    image, norm, norm, norm);
	else
	{
		const char *host = strchr(norm, '/');
		char        blob[65];

		cm_make_hex(m, blob, 64);
		cm_pod_ev(
		    m, t, p, pd->pull_ci, WARNING("Failed"),
		    "Failed to pull image \"%s\": rpc error: code = Unknown desc = failed to pull and "
		    "unpack image \"%s\": failed to copy: httpReadSeeker: failed open: unexpected "
		    "status code https://%.*s/v2%.*s/blobs/sha256:%s: 503 Service Unavailable",
		    image, norm, (int) (host - norm), norm, (int) strcspn(host, ":@"), host, blob);
		pd->pull_fail_left--;
	}
	cm_pod_ev(m, t + cm_rndi(m, 1, 5) * MS, p, pd->pull_ci, WARNING("Failed"),
	          "Error: ErrImagePull");
	cm_push_pod(m, m->now + cm_rndi(m, 1000, 2500) * MS, A_POD_PULL_BACKOFF, p, attempt);
}

void
cm_pod_pull_backoff(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);
	int64_t     wait = (10 * SEC) << (attempt < 5 ? attempt : 5);

	if (wait > 300 * SEC)
		wait = 300 * SEC;
	cm_pod_ev(m, m->now, p, pd->pull_ci, NORMAL("BackOff"), "Back-off pulling image \"%s\"", image);
	cm_pod_ev(m, m->now + cm_rndi(m, 1, 5) * MS, p, pd->pull_ci, WARNING("Failed"),
	          "Error: ImagePullBackOff");
	cm_push_pod(m, m->now + wait + cm_rndi(m, 0, 2000) * MS, A_POD_PULL_RETRY, p, attempt + 1);
}

void
cm_pod_pull_retry(cm_model *m, int p, int attempt)
{
	pod        *pd = &m->pods[p];
	const char *image = pod_image(m, pd, pd->pull_ci);

	cm_pod_ev(m, m->now, p, pd->pull_ci, NORMAL("Pulling"), "Pulling image \"%s\"", image);
	if (pd->bad_image || pd->pull_fail_left > 0)
		cm_push_pod(m, m->now + cm_rndi(m, 300, 2500) * MS, A_POD_PULL_FAIL, p, attempt);
	else
	{
		pd->pull_started = m->now;
		cm_push_pod(m, m->now + cm_rndi(m, 800, 9000) * MS, A_POD_PULLED, p, pd->pull_ci);
	}
}

void
cm_pod_start(cm_model *m, int p, int ci)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];
	int64_t   t = m->now;

	cm_pod_ev(m, t, p, ci, NORMAL("Created"), "Created container %s", cm_container_name(m, pd, ci));
	t += cm_rndi(m, 20, 400) * MS;
	cm_pod_ev(m, t, p, ci, NORMAL("Started"), "Started container %s", cm_container_name(m, pd, ci));
	if (ci == 0)
	{
		/* the init container runs to completion before the main one is set up */
		cm_push_pod(m, t + cm_rndi(m, 1, 8) * SEC, A_POD_PULL, p, 1);
		return;
	}
	pd->started = true;
	pd->state = PS_RUNNING;
	if (pd->job_pod)
	{
		double secs = wl->run_mean_s * exp(0.5 * cm_rnorm(m));

		cm_push_pod(m, t + (int64_t) (secs * SEC), A_JOB_FINISH, p, 0);
		return;
	}
	cm_push_pod(m, t + cm_rndi(m, 2, 9) * SEC, A_POD_READY, p,
	            cm_chance(m, wl->slow_start) ? (int) cm_rndi(m, 1, 4) : 0);
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
		cm_schedule_episode(m, p);
	}
	if (wl->kind == WL_DEPLOY && wl->rolling)
		cm_deploy_sync(m, w);
	else if (wl->kind == WL_STS && wl->rolling && pd->ordinal == wl->sts_ord)
	{
		wl->sts_ord--;
		cm_push(m, m->now + cm_rndi(m, 1, 10) * SEC, A_STS_NEXT, w, 0, 0);
	}
}

void
cm_readiness_fail(cm_model *m, int p, int variant)
{
	pod      *pd = &m->pods[p];
	workload *wl = &m->wls[pd->wl];

	if (wl->tcp_probe)
	{
		if (variant == 1)
			cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			          "Readiness probe failed: dial tcp %s:%d: i/o timeout", pd->ip, wl->port);
		else
			cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			          "Readiness probe failed: dial tcp %s:%d: connect: connection refused", pd->ip,
			          wl->port);
		return;
	}
	switch (variant)
	{
		case 0:
			cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			          "Readiness probe failed: HTTP probe failed with statuscode: 503");
			break;
		case 1:
			cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			          "Readiness probe failed: Get \"http://%s:%d%s\": context deadline exceeded "
			          "(Client.Timeout exceeded while awaiting headers)",
			          pd->ip, wl->port, wl->probe_path);
			break;
		default:
			cm_pod_ev(m, m->now, p, 1, WARNING("Unhealthy"),
			          "Readiness probe failed: Get \"http://%s:%d%s\": dial tcp %s:%d: connect: "
			          "connection refused",
			          pd->ip, wl->port, wl->probe_path, pd->ip, wl->port);
			break;
	}
}

void
cm_pod_ready(cm_model *m, int p, int left)
{
	pod *pd = &m->pods[p];

	if (pd->state != PS_RUNNING)
		return;
	if (left > 0)
	{
		/* still starting: the port is not open yet */
		cm_readiness_fail(m, p, 2);
		cm_push_pod(m, m->now + 10 * SEC + cm_rndi(m, 0, 300) * MS, A_POD_READY, p, left - 1);
		return;
	}
	if (pd->node >= 0 && !m->nodes[pd->node].ready)
	{
		/* probes only count once the node is back */
		cm_push_pod(m, m->now + 30 * SEC, A_POD_READY, p, 0);
		return;
	}
	pod_became_ready(m, p);
}
