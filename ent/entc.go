//go:build ignore

// entc.go generates the ent code and the GraphQL schema of the ent types
// (graph/ent.graphqls). Run through `go generate ./...` (see generate.go at the
// repository root), never by hand edits.
package main

import (
	"log"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

// schemaHook adjusts the generated GraphQL schema to the API's contract (docs/product.md, "The API").
func schemaHook(g *gen.Graph, s *ast.Schema) error {
	upperEnumValues(s, "MessageStatus", "MailingStatus", "WebhookDeliveryState")
	renameCustomer(s)
	return dropNodeQueries(g, s)
}

// upperEnumValues spells status enums in upper case (QUEUED) as GraphQL wants;
// the database keeps lower case. internal/status marshals between the two.
func upperEnumValues(s *ast.Schema, names ...string) {
	for _, name := range names {
		if def, ok := s.Types[name]; ok {
			for _, v := range def.EnumValues {
				v.Name = strings.ToUpper(v.Name)
			}
		}
	}
}

// renameCustomer presents the Customer entity as Client, the name every
// external surface uses (docs/product.md, "Clients"); gqlgen.yml binds the Client types back to
// ent.Customer*.
func renameCustomer(s *ast.Schema) {
	rename := func(name string) string {
		if strings.HasPrefix(name, "Customer") {
			return "Client" + strings.TrimPrefix(name, "Customer")
		}
		return name
	}
	var renameType func(t *ast.Type)
	renameType = func(t *ast.Type) {
		if t == nil {
			return
		}
		t.NamedType = rename(t.NamedType)
		renameType(t.Elem)
	}
	renamed := make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		def.Name = rename(def.Name)
		def.Description = strings.ReplaceAll(def.Description, "Customer", "Client")
		def.Directives = slices.DeleteFunc(def.Directives, func(d *ast.Directive) bool {
			return d.Name == "goModel" && strings.Contains(d.Arguments.ForName("model").Value.Raw, ".Customer")
		})
		for _, f := range def.Fields {
			renameType(f.Type)
			for _, a := range f.Arguments {
				renameType(a.Type)
			}
			if strings.Contains(f.Name, "Customer") {
				goName := strings.ToUpper(f.Name[:1]) + f.Name[1:]
				f.Name = strings.ReplaceAll(f.Name, "Customer", "Client")
				f.Directives = append(f.Directives, &ast.Directive{
					Name:      "goField",
					Arguments: ast.ArgumentList{{Name: "name", Value: &ast.Value{Kind: ast.StringValue, Raw: goName}}},
				})
			}
		}
		renamed[rename(name)] = def
	}
	s.Types = renamed
}

// dropNodeQueries removes the Relay node/nodes queries: ids are plain int64s
// shared by all tables (docs/product.md, "The API"), so a node lookup could not tell a client
// from a mailing, and the contract leaves node out. Connections still need
// the Relay spec on, hence a hook rather than WithRelaySpec(false).
func dropNodeQueries(_ *gen.Graph, s *ast.Schema) error {
	q, ok := s.Types["Query"]
	if !ok {
		return nil
	}
	kept := q.Fields[:0]
	for _, f := range q.Fields {
		if f.Name != "node" && f.Name != "nodes" {
			kept = append(kept, f)
		}
	}
	q.Fields = kept
	return nil
}

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(schemaHook),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaPath("graph/ent.graphqls"),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	opts := []entc.Option{
		entc.Extensions(ex),
		entc.FeatureNames("sql/execquery", "sql/upsert", "sql/modifier", "sql/lock"),
	}
	if err := entc.Generate("./ent/schema", &gen.Config{Target: "./ent", Package: "github.com/notifyhq/notify/ent"}, opts...); err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
