-- +goose Up
-- create index "message_customer_id" to table: "messages"
CREATE INDEX "message_customer_id" ON "messages" ("customer_id");

-- +goose Down
-- reverse: create index "message_customer_id" to table: "messages"
DROP INDEX "message_customer_id";
