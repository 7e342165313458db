-- +goose Up
-- create index "customer_operator_code_tag" to table: "clients"
CREATE INDEX `customer_operator_code_tag` ON `clients` (`operator_code`, `tag`);
-- create "idempotency_keys" table
CREATE TABLE `idempotency_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `principal` text NOT NULL, `key` text NOT NULL, `request_hash` text NOT NULL, `state` text NOT NULL DEFAULT ('in_progress'), `response_status` integer NOT NULL DEFAULT (0), `response_body` blob NULL, `created_at` datetime NOT NULL);
-- create index "idempotencykey_principal_key" to table: "idempotency_keys"
CREATE UNIQUE INDEX `idempotencykey_principal_key` ON `idempotency_keys` (`principal`, `key`);
-- create index "idempotencykey_created_at" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_created_at` ON `idempotency_keys` (`created_at`);
-- create "opt_outs" table
CREATE TABLE `opt_outs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `phone` text NOT NULL, `reason` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `created_by` text NOT NULL DEFAULT (''));
-- create index "opt_outs_phone_key" to table: "opt_outs"
CREATE UNIQUE INDEX `opt_outs_phone_key` ON `opt_outs` (`phone`);

-- +goose Down
-- reverse: create index "opt_outs_phone_key" to table: "opt_outs"
DROP INDEX `opt_outs_phone_key`;
-- reverse: create "opt_outs" table
DROP TABLE `opt_outs`;
-- reverse: create index "idempotencykey_created_at" to table: "idempotency_keys"
DROP INDEX `idempotencykey_created_at`;
-- reverse: create index "idempotencykey_principal_key" to table: "idempotency_keys"
DROP INDEX `idempotencykey_principal_key`;
-- reverse: create "idempotency_keys" table
DROP TABLE `idempotency_keys`;
-- reverse: create index "customer_operator_code_tag" to table: "clients"
DROP INDEX `customer_operator_code_tag`;
