-- +goose Up
-- drop index "message_mailing_id_status" from table: "messages"
DROP INDEX "message_mailing_id_status";
-- create index "message_mailing_id_status_id" to table: "messages"
CREATE INDEX "message_mailing_id_status_id" ON "messages" ("mailing_id", "status", "id");

-- +goose Down
-- reverse: create index "message_mailing_id_status_id" to table: "messages"
DROP INDEX "message_mailing_id_status_id";
-- reverse: drop index "message_mailing_id_status" from table: "messages"
CREATE INDEX "message_mailing_id_status" ON "messages" ("mailing_id", "status");
