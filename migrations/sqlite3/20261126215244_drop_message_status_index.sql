-- +goose Up
-- drop index "message_status" from table: "messages"
DROP INDEX `message_status`;

-- +goose Down
-- reverse: drop index "message_status" from table: "messages"
CREATE INDEX `message_status` ON `messages` (`status`);
