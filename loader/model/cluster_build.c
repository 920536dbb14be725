/*
 * cluster_build.c
 *	  The cluster as it stands when the simulation starts: nodes, namespaces,
 *	  workloads and their running pods.
 *
 * The simulated period starts in the middle of a cluster's life: workloads
 * come from templates of common applications, their pods are already running
 * with no Events for their past, and each workload's first rollout, HPA check
 * or CronJob run is scheduled from the start.
 */
#include "cluster_internal.h"

#include <stdio.h>
#include <string.h>

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
		m->wls = cm_xrealloc(m->wls, (size_t) m->capwls * sizeof(workload));
	}
	w = m->nwls++;
	wl = &m->wls[w];
	memset(wl, 0, sizeof(*wl));
	wl->kind = kind;
	wl->ns = ns;
	snprintf(wl->name, sizeof(wl->name), "%s", name);
	cm_make_uid(m, wl->uid);
	wl->rv = cm_next_rv(m);
	wl->cur_rs = wl->old_rs = -1;
	wl->job_pod = -1;
	wl->img_on_node = cm_xcalloc((size_t) m->cfg.nodes, 1);
	wl->style = tpl ? tpl->style : IMG_REGISTRY;
	if (tpl && tpl->repo)
		snprintf(wl->repo, sizeof(wl->repo), "%s", tpl->repo);
	else
		snprintf(wl->repo, sizeof(wl->repo), "registry.example.com/%s/%s", m->nss[ns].name, name);
	wl->v[0] = tpl ? tpl->v0 : 1;
	wl->v[1] = tpl ? tpl->v1 : (int) cm_rndi(m, 0, 9);
	wl->v[2] = (int) cm_rndi(m, 0, 9);
	cm_make_hex(m, wl->digest, 64);
	cm_wl_image_refresh(wl);
	snprintf(wl->proc, sizeof(wl->proc), "%s", tpl ? tpl->proc : "python3");
	snprintf(wl->init, sizeof(wl->init), "%s", tpl ? tpl->init : "");
	wl->port = tpl ? tpl->port : 8080;
	wl->probe_path = strcmp(wl->proc, "java") == 0 ? "/actuator/health/readiness"
	                 : cm_chance(m, 0.5)           ? "/healthz"
	                                               : "/ready";
	return w;
}

/* A pod that was already running when the simulation starts: no Events for its past. */
static int
initial_pod(cm_model *m, int w, const char *name)
{
	int  nready;
	int  n = cm_pick_node(m, &nready);
	int  p = cm_pod_alloc(m, w, name);
	pod *pd = &m->pods[p];

	cm_pod_bind(m, p, n);
	pd->rv = cm_next_rv(m);
	pd->state = PS_RUNNING;
	pd->started = true;
	pd->ready = true;
	pd->episodes_on = true;
	pd->created = m->now - cm_rndi(m, 1, 30 * 24) * HOUR;
	m->wls[w].img_on_node[n] = 1;
	if (strcmp(m->wls[w].init, "copy-config") == 0)
		m->nodes[n].busybox = true;
	cm_schedule_episode(m, p);
	return p;
}

void
cm_build_cluster(cm_model *m)
{
	int64_t start = m->cfg.start_us;

	for (int n = 0; n < m->cfg.nodes; n++)
	{
		node *nd = &m->nodes[n];

		snprintf(nd->name, sizeof(nd->name), "node-%d", n + 1);
		cm_make_uid(m, nd->uid);
		nd->ready = nd->kubelet_alive = true;
		nd->ip_next = 2 + (int) cm_rndi(m, 0, 200);
		cm_push(m, start + cm_rexp(m, 4 * DAY), A_NODE_TROUBLE, n, 0, 0);
	}
	for (int ns = 0; ns < m->cfg.namespaces; ns++)
	{
		bool used[NELEM(deploy_apps)] = {false};
		int  ndeploy = (int) cm_rndi(m, 3, 5);

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
				k = (ns == 0 && d == 0) ? 0 : (int) cm_rndi(m, 0, NELEM(deploy_apps) - 1);
			while (used[k] && !(ns == 0 && d == 0));
			used[k] = true;
			tpl = &deploy_apps[k];
			w = wl_add(m, WL_DEPLOY, ns, tpl->name, tpl);
			wl = &m->wls[w];
			wl->replicas = (int) cm_rndi(m, 1, 4);
			if (wl->replicas == 1 && cm_chance(m, 0.5))
				wl->replicas = 2;
			r = cm_rndf(m);
			wl->flaky = r < 0.5 ? 0.1 : r < 0.85 ? 0.4 : 1.5;
			wl->oomy = strcmp(wl->proc, "java") == 0      ? 0.25
			           : strcmp(wl->proc, "python3") == 0 ? 0.15
			                                              : 0.05;
			wl->slow_start = strcmp(wl->proc, "java") == 0 ? 0.45 : 0.1;
			wl->rollout_mean = cm_rndi(m, 3, 14) * HOUR;
			wl->cur_rs = cm_rs_alloc(m, w);
			m->rss[wl->cur_rs].target = wl->replicas;
			for (int i = 0; i < wl->replicas; i++)
			{
				char sfx[8];
				char name[80];
				int  p;

				cm_make_suffix(m, sfx, 5);
				snprintf(name, sizeof(name), "%s-%s", m->rss[wl->cur_rs].name, sfx);
				p = initial_pod(m, w, name);
				m->pods[p].rs = m->wls[w].cur_rs;
			}
			wl = &m->wls[w];
			if (cm_chance(m, 0.35))
			{
				wl->hpa = true;
				cm_make_uid(m, wl->hpa_uid);
				wl->hpa_rv = cm_next_rv(m);
				wl->hpa_min = wl->replicas;
				wl->hpa_max = wl->replicas + (int) cm_rndi(m, 2, 5);
				cm_push(m, start + cm_rndi(m, 1, 30) * MINUTE, A_HPA, w, 0, 0);
			}
			cm_push(m, start + cm_rexp(m, wl->rollout_mean), A_ROLLOUT, w, 0, 0);
		}
		if (cm_chance(m, 0.5))
		{
			const app_tpl *tpl = &sts_apps[cm_rndi(m, 0, NELEM(sts_apps) - 1)];
			int            w = wl_add(m, WL_STS, ns, tpl->name, tpl);
			workload      *wl = &m->wls[w];

			wl->replicas = (int) cm_rndi(m, 1, 3);
			wl->flaky = 0.2;
			wl->oomy = strcmp(wl->proc, "java") == 0 ? 0.3 : 0.1;
			wl->slow_start = 0.3;
			wl->tcp_probe = true;
			wl->rollout_mean = 2 * DAY;
			for (int i = 0; i < wl->replicas; i++)
			{
				char name[80];
				int  p;

				cm_make_uid(m, m->wls[w].pvc[i]);
				snprintf(name, sizeof(name), "%s-%d", m->wls[w].name, i);
				p = initial_pod(m, w, name);
				m->pods[p].ordinal = i;
				m->wls[w].sts_node[i] = m->pods[p].node;
			}
			cm_push(m, start + 2 * HOUR + cm_rexp(m, 2 * DAY), A_STS_ROLL, w, 0, 0);
		}
		if (cm_chance(m, 0.7))
		{
			int       k = (int) cm_rndi(m, 0, NELEM(cron_apps) - 1);
			int       w = wl_add(m, WL_CRON, ns, cron_apps[k].name, NULL);
			workload *wl = &m->wls[w];
			int64_t   period = (int64_t) cron_apps[k].period_min * MINUTE;
			int64_t   first;

			wl->period_min = cron_apps[k].period_min;
			wl->offset_min = (int) cm_rndi(m, 0, wl->period_min - 1) % 60;
			wl->run_mean_s = cron_apps[k].run_mean_s;
			wl->fail_rate = 0.03;
			wl->flaky = 0.1;
			wl->oomy = 0.3;
			/* the first scheduled time at or after the start, in whole minutes of the epoch */
			first = ((start + period - 1) / period) * period + (int64_t) wl->offset_min * MINUTE;
			if (first - period >= start)
				first -= period;
			cm_push(m, first, A_CRON, w, 0, 0);
		}
	}
	cm_push(m, start + 10 * MINUTE, A_GC, 0, 0, 0);
}
