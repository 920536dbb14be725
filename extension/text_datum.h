/*
 * text_datum.h
 *	  A text Datum of bytes that may not be text in the database's encoding.
 */
#ifndef K8S_EVENTS_TEXT_DATUM_H
#define K8S_EVENTS_TEXT_DATUM_H

#include "postgres.h"

/*
 * s as a text Datum.  A text column takes only valid text in the database's
 * encoding, and a Datum made in C is not checked: bytes that are not (or a
 * NUL) are written as \xNN, so that what reaches a column or a view can always
 * be read back.  For messages that quote outside input, and status cut to a
 * fixed size.
 */
extern Datum text_datum_escaped(const char *s, size_t len);

#endif
