/*
 * cluster_recorder.c
 *	  Events as the recorders write them, and the object references they name.
 *
 * The rest of the model only says what happened to which object.
 * cm_record() applies the recorders' rules (an Event identical to a live one
 * is a count or series bump of it, an Event not touched for an hour has been
 * deleted by the API server) and hands each write to the caller; the helpers
 * below fill in who reports it the way each component (controllers, kubelet,
 * scheduler) does.
 */
#include "cluster_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
cm_rec_rehash(cm_model *m, uint32_t nb)
{
	int32_t i;

	free(m->buckets);
	m->buckets = cm_xcalloc(nb, sizeof(int32_t));
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
			m->recs = cm_xrealloc(m->recs, (size_t) m->caprecs * sizeof(evrec));
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
		cm_rec_rehash(m, m->nbuckets * 2);
		r = &m->recs[i];
	}
	return r;
}

/* Drop Events the API server has expired; keeps memory bounded by an hour of Events. */
void
cm_rec_gc(cm_model *m)
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
void
cm_record(cm_model *m, int64_t t, const cm_obj_ref *inv, const char *type, const char *reason,
          const char *component, const char *host, bool new_style, const char *action,
          const char *rep_component, const char *rep_instance)
{
	uint64_t key = UINT64_C(0xcbf29ce484222325);
	evrec   *r;
	cm_obs   o;

	if (m->stopped)
		return;
	/* components' clocks do not tick in whole milliseconds */
	t += cm_rndi(m, 0, 999);
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
		r->name_ns = (uint64_t) t * 1000 + (uint64_t) cm_rndi(m, 0, 999);
		cm_make_uid(m, r->uid);
		r->first_us = r->last_us = t;
		r->count = 1;
		r->inv_rv = inv->resource_version;
		r->shape = CM_SHAPE_CORE;
		if (m->cfg.mixed)
		{
			int64_t d = cm_rndi(m, 0, 99);

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
	o.resource_version = cm_next_rv(m);
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

const char *
cm_ns_name(cm_model *m, int wl)
{
	return m->nss[m->wls[wl].ns].name;
}

const char *
cm_container_name(cm_model *m, const pod *p, int ci)
{
	return ci == 0 ? m->wls[p->wl].init : m->wls[p->wl].name;
}

/* ci: -1 no fieldPath, 0 the init container, 1 the main container */
cm_obj_ref
cm_pod_ref(cm_model *m, const pod *p, int ci)
{
	cm_obj_ref r = {"Pod", cm_ns_name(m, p->wl), p->name, p->uid, "v1", p->rv, NULL};

	if (ci >= 0)
	{
		snprintf(m->fp, sizeof(m->fp), "spec.%s{%s}", ci == 0 ? "initContainers" : "containers",
		         cm_container_name(m, p, ci));
		r.field_path = m->fp;
	}
	return r;
}

cm_obj_ref
cm_wl_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {NULL, cm_ns_name(m, w), wl->name, wl->uid, NULL, wl->rv, NULL};

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

cm_obj_ref
cm_rs_ref(cm_model *m, int rsi)
{
	replicaset *rs = &m->rss[rsi];
	cm_obj_ref  r = {"ReplicaSet", cm_ns_name(m, rs->wl), rs->name, rs->uid, "apps/v1", rs->rv,
	                 NULL};

	return r;
}

cm_obj_ref
cm_job_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {"Job",      cm_ns_name(m, w), wl->job_name, wl->job_uid,
	                "batch/v1", wl->job_rv,       NULL};

	return r;
}

cm_obj_ref
cm_hpa_ref(cm_model *m, int w)
{
	workload  *wl = &m->wls[w];
	cm_obj_ref r = {"HorizontalPodAutoscaler", cm_ns_name(m, w), wl->name, wl->hpa_uid,
	                "autoscaling/v2",          wl->hpa_rv,       NULL};

	return r;
}

/* The kubelet refers to its Node by name, with the name as uid (as real kubelets do). */
cm_obj_ref
cm_node_kubelet_ref(cm_model *m, int n)
{
	cm_obj_ref r = {"Node", NULL, m->nodes[n].name, m->nodes[n].name, NULL, 0, NULL};

	return r;
}

cm_obj_ref
cm_node_ctrl_ref(cm_model *m, int n)
{
	cm_obj_ref r = {"Node", NULL, m->nodes[n].name, m->nodes[n].uid, "v1", 0, NULL};

	return r;
}

/* ---------------------------------------------------------------- event helpers */

void
cm_ctrl_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type, const char *reason,
           const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	cm_record(m, t, ref, type, reason, component, NULL, false, NULL, component, "");
}

void
cm_host_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type, const char *reason,
           const char *component, const char *host, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	cm_record(m, t, ref, type, reason, component, host, false, NULL, component, host);
}

void
cm_sched_ev(cm_model *m, int64_t t, const cm_obj_ref *ref, const char *type_reason[2],
            const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	cm_record(m, t, ref, type_reason[0], type_reason[1], NULL, NULL, true, action,
	          "default-scheduler", SCHEDULER_INST);
}

/* A pod's kubelet event: dropped (as in reality) while its kubelet cannot reach the API. */
void
cm_pod_ev(cm_model *m, int64_t t, int p, int ci, const char *type_reason[2], const char *fmt, ...)
{
	pod       *pd = &m->pods[p];
	cm_obj_ref ref;
	va_list    ap;

	if (pd->node < 0 || !m->nodes[pd->node].kubelet_alive)
		return;
	ref = cm_pod_ref(m, pd, ci);
	va_start(ap, fmt);
	vmsg(m, fmt, ap);
	va_end(ap);
	cm_record(m, t, &ref, type_reason[0], type_reason[1], "kubelet", m->nodes[pd->node].name, false,
	          NULL, "kubelet", m->nodes[pd->node].name);
}
