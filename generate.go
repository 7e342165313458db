package main

// Code generation, in a fixed order: ent (which also writes graph/ent.graphqls),
// then gqlgen over all graph/*.graphqls, then the versioned SQL migrations from
// the ent schema. `make verify` runs this and fails on any difference.
//
//go:generate go run ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/migrategen
