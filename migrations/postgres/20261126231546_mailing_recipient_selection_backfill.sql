-- Hand-written: mailings that started before recipients were selected in
-- chunks have every recipient already; mark their selection complete so
-- they can finish.
-- +goose Up
UPDATE mailings SET recipients_selected_at = updated_at WHERE status <> 'scheduled';

-- +goose Down
SELECT 1;
