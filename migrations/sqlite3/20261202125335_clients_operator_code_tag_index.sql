-- +goose Up
-- drop index "customer_operator_code" from table: "clients"
DROP INDEX `customer_operator_code`;
-- drop index "customer_tag" from table: "clients"
DROP INDEX `customer_tag`;
-- create index "customer_operator_code_tag" to table: "clients"
CREATE INDEX `customer_operator_code_tag` ON `clients` (`operator_code`, `tag`);

-- +goose Down
-- reverse: create index "customer_operator_code_tag" to table: "clients"
DROP INDEX `customer_operator_code_tag`;
-- reverse: drop index "customer_tag" from table: "clients"
CREATE INDEX `customer_tag` ON `clients` (`tag`);
-- reverse: drop index "customer_operator_code" from table: "clients"
CREATE INDEX `customer_operator_code` ON `clients` (`operator_code`);
