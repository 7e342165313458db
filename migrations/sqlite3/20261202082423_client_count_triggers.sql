-- Hand-written: keep client_counts in step with clients, for the audience
-- preview (row triggers; SQLite has no transition tables).
-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER client_counts_insert AFTER INSERT ON clients BEGIN
  INSERT INTO client_counts (operator_code, tag, count) VALUES (new.operator_code, new.tag, 1)
  ON CONFLICT (operator_code, tag) DO UPDATE SET count = count + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER client_counts_update AFTER UPDATE OF operator_code, tag ON clients
WHEN old.operator_code <> new.operator_code OR old.tag <> new.tag BEGIN
  UPDATE client_counts SET count = count - 1 WHERE operator_code = old.operator_code AND tag = old.tag;
  INSERT INTO client_counts (operator_code, tag, count) VALUES (new.operator_code, new.tag, 1)
  ON CONFLICT (operator_code, tag) DO UPDATE SET count = count + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER client_counts_delete AFTER DELETE ON clients BEGIN
  UPDATE client_counts SET count = count - 1 WHERE operator_code = old.operator_code AND tag = old.tag;
END;
-- +goose StatementEnd
INSERT INTO client_counts (operator_code, tag, count)
  SELECT operator_code, tag, count(*) FROM clients GROUP BY operator_code, tag;

-- +goose Down
DROP TRIGGER client_counts_delete;
DROP TRIGGER client_counts_update;
DROP TRIGGER client_counts_insert;
DELETE FROM client_counts;
