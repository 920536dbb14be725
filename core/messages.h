/*
 * messages.h
 *	  The pod, the image, the node or the replica set named in the free-text
 *	  message of a Kubernetes event (the message forms are listed in
 *	  messages.c).  Used by the SQL functions pod_from_message(),
 *	  image_from_message(), node_from_message() and replica_set_from_message()
 *	  and by the write path's rollouts summary, so that all read a message the
 *	  same way.
 */
#ifndef K8S_EVENTS_CORE_MESSAGES_H
#define K8S_EVENTS_CORE_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The pod a message names: *pod points into message.  false when it names none
 * (or one longer than a pod's name can be: messages.c).
 */
extern bool message_pod(const char *message, size_t len, const char **pod, size_t *pod_len);

/* The image reference a message quotes, as written (none past 1,024 bytes). */
extern bool message_image(const char *message, size_t len, const char **image, size_t *image_len);

/* The node a scheduler's message says a pod was assigned to. */
extern bool message_node(const char *message, size_t len, const char **node, size_t *node_len);

/* The replica set a Deployment's scaling message names. */
extern bool message_replica_set(const char *message, size_t len, const char **replica_set,
                                size_t *replica_set_len);

#endif
