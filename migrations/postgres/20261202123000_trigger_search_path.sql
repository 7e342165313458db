-- Hand-written: the counter triggers' functions name their tables without a
-- schema, so they resolved them through the search_path of whoever wrote to
-- clients or messages: a write from a session whose search_path does not
-- hold the service's schema (a script, psql with schema-qualified names)
-- failed with "relation client_counts does not exist". Each function now
-- carries the search_path it was created under, the service's schema.
-- +goose Up
ALTER FUNCTION message_counts_apply() SET search_path FROM CURRENT;
ALTER FUNCTION client_counts_apply() SET search_path FROM CURRENT;

-- +goose Down
ALTER FUNCTION client_counts_apply() RESET search_path;
ALTER FUNCTION message_counts_apply() RESET search_path;
