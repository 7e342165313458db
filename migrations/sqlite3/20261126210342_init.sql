-- +goose Up
-- create "clients" table
CREATE TABLE `clients` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `phone` text NOT NULL, `operator_code` text NOT NULL, `tag` text NOT NULL DEFAULT (''), `timezone` text NOT NULL DEFAULT ('UTC'), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- create index "clients_phone_key" to table: "clients"
CREATE UNIQUE INDEX `clients_phone_key` ON `clients` (`phone`);
-- create index "customer_operator_code" to table: "clients"
CREATE INDEX `customer_operator_code` ON `clients` (`operator_code`);
-- create index "customer_tag" to table: "clients"
CREATE INDEX `customer_tag` ON `clients` (`tag`);
-- create "mailings" table
CREATE TABLE `mailings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `start_at` datetime NOT NULL, `end_at` datetime NOT NULL, `text` text NOT NULL, `filter_operator_codes` json NOT NULL, `filter_tags` json NOT NULL, `window_from` text NULL, `window_to` text NULL, `status` text NOT NULL DEFAULT ('scheduled'), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- create index "mailing_status" to table: "mailings"
CREATE INDEX `mailing_status` ON `mailings` (`status`);
-- create index "mailing_start_at_end_at" to table: "mailings"
CREATE INDEX `mailing_start_at_end_at` ON `mailings` (`start_at`, `end_at`);
-- create "messages" table
CREATE TABLE `messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `phone` text NOT NULL, `timezone` text NOT NULL DEFAULT ('UTC'), `text` text NULL, `status` text NOT NULL DEFAULT ('queued'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NULL, `last_error` text NULL, `sent_at` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `customer_id` integer NULL, `mailing_id` integer NOT NULL, CONSTRAINT `messages_clients_messages` FOREIGN KEY (`customer_id`) REFERENCES `clients` (`id`) ON DELETE SET NULL, CONSTRAINT `messages_mailings_messages` FOREIGN KEY (`mailing_id`) REFERENCES `mailings` (`id`) ON DELETE CASCADE);
-- create index "message_mailing_id_customer_id" to table: "messages"
CREATE UNIQUE INDEX `message_mailing_id_customer_id` ON `messages` (`mailing_id`, `customer_id`);
-- create index "message_mailing_id_status" to table: "messages"
CREATE INDEX `message_mailing_id_status` ON `messages` (`mailing_id`, `status`);
-- create index "message_status" to table: "messages"
CREATE INDEX `message_status` ON `messages` (`status`);

-- +goose Down
-- reverse: create index "message_status" to table: "messages"
DROP INDEX `message_status`;
-- reverse: create index "message_mailing_id_status" to table: "messages"
DROP INDEX `message_mailing_id_status`;
-- reverse: create index "message_mailing_id_customer_id" to table: "messages"
DROP INDEX `message_mailing_id_customer_id`;
-- reverse: create "messages" table
DROP TABLE `messages`;
-- reverse: create index "mailing_start_at_end_at" to table: "mailings"
DROP INDEX `mailing_start_at_end_at`;
-- reverse: create index "mailing_status" to table: "mailings"
DROP INDEX `mailing_status`;
-- reverse: create "mailings" table
DROP TABLE `mailings`;
-- reverse: create index "customer_tag" to table: "clients"
DROP INDEX `customer_tag`;
-- reverse: create index "customer_operator_code" to table: "clients"
DROP INDEX `customer_operator_code`;
-- reverse: create index "clients_phone_key" to table: "clients"
DROP INDEX `clients_phone_key`;
-- reverse: create "clients" table
DROP TABLE `clients`;
