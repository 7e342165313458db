-- +goose Up
-- create "message_counts" table
CREATE TABLE `message_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `status` text NOT NULL, `count` integer NOT NULL DEFAULT (0), `mailing_id` integer NOT NULL, CONSTRAINT `message_counts_mailings_message_counts` FOREIGN KEY (`mailing_id`) REFERENCES `mailings` (`id`) ON DELETE CASCADE);
-- create index "messagecount_mailing_id_status" to table: "message_counts"
CREATE UNIQUE INDEX `messagecount_mailing_id_status` ON `message_counts` (`mailing_id`, `status`);

-- +goose Down
-- reverse: create index "messagecount_mailing_id_status" to table: "message_counts"
DROP INDEX `messagecount_mailing_id_status`;
-- reverse: create "message_counts" table
DROP TABLE `message_counts`;
