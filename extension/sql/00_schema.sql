-- k8s_events: schema and storage.
\echo Use "CREATE EXTENSION k8s_events" to load this file. \quit
