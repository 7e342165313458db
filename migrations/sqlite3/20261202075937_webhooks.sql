-- +goose Up
-- add column "webhook_url" to table: "mailings"
ALTER TABLE `mailings` ADD COLUMN `webhook_url` text NULL;
-- create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `webhook_id` text NOT NULL, `event` text NOT NULL, `mailing_id` integer NULL, `url` text NOT NULL, `payload` text NOT NULL, `state` text NOT NULL DEFAULT ('pending'), `attempts` integer NOT NULL DEFAULT (0), `last_status` integer NULL, `last_error` text NULL, `next_attempt_at` datetime NULL, `delivered_at` datetime NULL, `created_at` datetime NOT NULL);
-- create index "webhook_deliveries_webhook_id_key" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhook_deliveries_webhook_id_key` ON `webhook_deliveries` (`webhook_id`);
-- create index "webhookdelivery_mailing_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_mailing_id` ON `webhook_deliveries` (`mailing_id`);
-- create index "webhookdelivery_event" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_event` ON `webhook_deliveries` (`event`);

-- +goose Down
-- reverse: create index "webhookdelivery_event" to table: "webhook_deliveries"
DROP INDEX `webhookdelivery_event`;
-- reverse: create index "webhookdelivery_mailing_id" to table: "webhook_deliveries"
DROP INDEX `webhookdelivery_mailing_id`;
-- reverse: create index "webhook_deliveries_webhook_id_key" to table: "webhook_deliveries"
DROP INDEX `webhook_deliveries_webhook_id_key`;
-- reverse: create "webhook_deliveries" table
DROP TABLE `webhook_deliveries`;
-- reverse: add column "webhook_url" to table: "mailings"
ALTER TABLE `mailings` DROP COLUMN `webhook_url`;
