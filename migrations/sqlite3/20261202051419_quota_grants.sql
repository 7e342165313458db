-- +goose Up
-- create "quota_grants" table
CREATE TABLE `quota_grants` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `second` integer NOT NULL, `used` integer NOT NULL DEFAULT (0), `last_grant` integer NOT NULL DEFAULT (0));
-- create index "quotagrant_second" to table: "quota_grants"
CREATE UNIQUE INDEX `quotagrant_second` ON `quota_grants` (`second`);

-- +goose Down
-- reverse: create index "quotagrant_second" to table: "quota_grants"
DROP INDEX `quotagrant_second`;
-- reverse: create "quota_grants" table
DROP TABLE `quota_grants`;
