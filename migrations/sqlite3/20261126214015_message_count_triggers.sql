-- Hand-written: keep message_counts in step with messages (row triggers;
-- SQLite has no transition tables).
-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER message_counts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_counts (mailing_id, status, count) VALUES (new.mailing_id, new.status, 1)
  ON CONFLICT (mailing_id, status) DO UPDATE SET count = count + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER message_counts_update AFTER UPDATE OF status ON messages WHEN old.status <> new.status BEGIN
  UPDATE message_counts SET count = count - 1 WHERE mailing_id = old.mailing_id AND status = old.status;
  INSERT INTO message_counts (mailing_id, status, count) VALUES (new.mailing_id, new.status, 1)
  ON CONFLICT (mailing_id, status) DO UPDATE SET count = count + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER message_counts_delete AFTER DELETE ON messages BEGIN
  UPDATE message_counts SET count = count - 1 WHERE mailing_id = old.mailing_id AND status = old.status;
END;
-- +goose StatementEnd
INSERT INTO message_counts (mailing_id, status, count)
  SELECT mailing_id, status, count(*) FROM messages GROUP BY mailing_id, status;

-- +goose Down
DROP TRIGGER message_counts_delete;
DROP TRIGGER message_counts_update;
DROP TRIGGER message_counts_insert;
DELETE FROM message_counts;
