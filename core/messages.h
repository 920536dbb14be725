/*
 * messages.h
 *	  The pod or the image named in the free-text message of a Kubernetes event
 *	  (the message forms are listed in messages.c).  Used by the SQL functions
 *	  pod_from_message() and image_from_message() and by the write path's
 *	  rollouts summary, so that both read a message the same way.
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

#endif
