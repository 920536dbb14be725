/*
 * jsonb_reader.h
 *	  jsonb through a JsonReader (core/json_reader.h): see jsonb_reader.c.
 */
#ifndef K8S_EVENTS_JSONB_READER_H
#define K8S_EVENTS_JSONB_READER_H

#include "utils/jsonb.h"

#include "core/json_reader.h"

/* Strings the reader hands out are copies in the memory context current at the call. */
extern const JsonReader jsonb_reader;

/* The JsonbValue a reader starts from: the whole of jb, which must outlive it. */
extern void jsonb_reader_root(Jsonb *jb, JsonbValue *root);

#endif
