-- +goose Up
-- create "audit_entries" table
CREATE TABLE `audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `at` datetime NOT NULL, `actor` text NOT NULL DEFAULT (''), `action` text NOT NULL, `target_type` text NOT NULL, `target_id` integer NOT NULL, `changes` text NOT NULL DEFAULT ('{}'), `request_id` text NOT NULL DEFAULT (''));
-- create index "auditentry_at" to table: "audit_entries"
CREATE INDEX `auditentry_at` ON `audit_entries` (`at`);
-- create index "auditentry_target_type_target_id" to table: "audit_entries"
CREATE INDEX `auditentry_target_type_target_id` ON `audit_entries` (`target_type`, `target_id`);

-- +goose Down
-- reverse: create index "auditentry_target_type_target_id" to table: "audit_entries"
DROP INDEX `auditentry_target_type_target_id`;
-- reverse: create index "auditentry_at" to table: "audit_entries"
DROP INDEX `auditentry_at`;
-- reverse: create "audit_entries" table
DROP TABLE `audit_entries`;
