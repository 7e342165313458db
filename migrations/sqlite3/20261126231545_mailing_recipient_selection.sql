-- +goose Up
-- add column "recipients_through" to table: "mailings"
ALTER TABLE `mailings` ADD COLUMN `recipients_through` integer NULL;
-- add column "recipients_selected_at" to table: "mailings"
ALTER TABLE `mailings` ADD COLUMN `recipients_selected_at` datetime NULL;

-- +goose Down
-- reverse: add column "recipients_selected_at" to table: "mailings"
ALTER TABLE `mailings` DROP COLUMN `recipients_selected_at`;
-- reverse: add column "recipients_through" to table: "mailings"
ALTER TABLE `mailings` DROP COLUMN `recipients_through`;
