-- +goose Up
-- modify "mailings" table
ALTER TABLE "mailings" ADD COLUMN "recipients_through" bigint NULL, ADD COLUMN "recipients_selected_at" timestamptz NULL;

-- +goose Down
-- reverse: modify "mailings" table
ALTER TABLE "mailings" DROP COLUMN "recipients_selected_at", DROP COLUMN "recipients_through";
