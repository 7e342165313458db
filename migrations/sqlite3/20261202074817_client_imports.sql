-- +goose Up
-- create "client_imports" table
CREATE TABLE `client_imports` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `state` text NOT NULL DEFAULT ('queued'), `mode` text NOT NULL DEFAULT ('insert'), `skip_invalid` bool NOT NULL DEFAULT (false), `lines` integer NOT NULL DEFAULT (0), `imported` integer NOT NULL DEFAULT (0), `skipped` integer NOT NULL DEFAULT (0), `error_count` integer NOT NULL DEFAULT (0), `errors` text NOT NULL DEFAULT ('[]'), `actor` text NOT NULL DEFAULT (''), `request_id` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `started_at` datetime NULL, `finished_at` datetime NULL, `updated_at` datetime NOT NULL);

-- +goose Down
-- reverse: create "client_imports" table
DROP TABLE `client_imports`;
