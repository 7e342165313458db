-- Hand-written: keep client_counts in step with clients, for the audience
-- preview (docs/design.md, "Audience preview"). Statement-level triggers
-- with transition tables add one aggregate per statement (an import of a
-- million clients is one); rows are upserted in (operator_code, tag) order
-- so concurrent writers lock counters in the same order.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION client_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO client_counts (operator_code, tag, count)
    SELECT operator_code, tag, count(*) FROM new_rows
    GROUP BY operator_code, tag ORDER BY operator_code, tag
    ON CONFLICT (operator_code, tag) DO UPDATE SET count = client_counts.count + excluded.count;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO client_counts (operator_code, tag, count)
    SELECT operator_code, tag, sum(n) FROM (
      SELECT operator_code, tag, -1 AS n FROM old_rows
      UNION ALL
      SELECT operator_code, tag, 1 AS n FROM new_rows
    ) AS delta
    GROUP BY operator_code, tag HAVING sum(n) <> 0 ORDER BY operator_code, tag
    ON CONFLICT (operator_code, tag) DO UPDATE SET count = client_counts.count + excluded.count;
  ELSE
    UPDATE client_counts AS c SET count = c.count - d.n
    FROM (SELECT operator_code, tag, count(*) AS n FROM old_rows GROUP BY operator_code, tag) AS d
    WHERE c.operator_code = d.operator_code AND c.tag = d.tag;
  END IF;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER client_counts_insert AFTER INSERT ON clients
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION client_counts_apply();
CREATE TRIGGER client_counts_update AFTER UPDATE ON clients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION client_counts_apply();
CREATE TRIGGER client_counts_delete AFTER DELETE ON clients
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION client_counts_apply();
INSERT INTO client_counts (operator_code, tag, count)
  SELECT operator_code, tag, count(*) FROM clients GROUP BY operator_code, tag;

-- +goose Down
DROP TRIGGER client_counts_delete ON clients;
DROP TRIGGER client_counts_update ON clients;
DROP TRIGGER client_counts_insert ON clients;
DROP FUNCTION client_counts_apply();
DELETE FROM client_counts;
