-- +goose Up
-- drop index "customer_operator_code_tag" from table: "clients"
DROP INDEX `customer_operator_code_tag`;

-- +goose Down
-- reverse: drop index "customer_operator_code_tag" from table: "clients"
CREATE INDEX `customer_operator_code_tag` ON `clients` (`operator_code`, `tag`);
