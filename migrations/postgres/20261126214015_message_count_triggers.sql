-- Hand-written: keep message_counts in step with messages. Statement-level
-- triggers with transition tables add one aggregate per statement, however
-- many rows it wrote; rows are upserted in (mailing_id, status) order so
-- concurrent writers lock counters in the same order.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION message_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO message_counts (mailing_id, status, count)
    SELECT mailing_id, status, count(*) FROM new_rows
    GROUP BY mailing_id, status ORDER BY mailing_id, status
    ON CONFLICT (mailing_id, status) DO UPDATE SET count = message_counts.count + excluded.count;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO message_counts (mailing_id, status, count)
    SELECT mailing_id, status, sum(n) FROM (
      SELECT mailing_id, status, -1 AS n FROM old_rows
      UNION ALL
      SELECT mailing_id, status, 1 AS n FROM new_rows
    ) AS delta
    GROUP BY mailing_id, status HAVING sum(n) <> 0 ORDER BY mailing_id, status
    ON CONFLICT (mailing_id, status) DO UPDATE SET count = message_counts.count + excluded.count;
  ELSE
    UPDATE message_counts AS c SET count = c.count - d.n
    FROM (SELECT mailing_id, status, count(*) AS n FROM old_rows GROUP BY mailing_id, status) AS d
    WHERE c.mailing_id = d.mailing_id AND c.status = d.status;
  END IF;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER message_counts_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_apply();
CREATE TRIGGER message_counts_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_apply();
CREATE TRIGGER message_counts_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_apply();
INSERT INTO message_counts (mailing_id, status, count)
  SELECT mailing_id, status, count(*) FROM messages GROUP BY mailing_id, status;

-- +goose Down
DROP TRIGGER message_counts_delete ON messages;
DROP TRIGGER message_counts_update ON messages;
DROP TRIGGER message_counts_insert ON messages;
DROP FUNCTION message_counts_apply();
DELETE FROM message_counts;
