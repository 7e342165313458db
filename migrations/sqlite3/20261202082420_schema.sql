-- +goose Up
-- create "client_counts" table
CREATE TABLE `client_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `operator_code` text NOT NULL, `tag` text NOT NULL, `count` integer NOT NULL DEFAULT (0));
-- create index "clientcount_operator_code_tag" to table: "client_counts"
CREATE UNIQUE INDEX `clientcount_operator_code_tag` ON `client_counts` (`operator_code`, `tag`);

-- +goose Down
-- reverse: create index "clientcount_operator_code_tag" to table: "client_counts"
DROP INDEX `clientcount_operator_code_tag`;
-- reverse: create "client_counts" table
DROP TABLE `client_counts`;
