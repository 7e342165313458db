package graph

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/notifyhq/notify/internal/campaign"
)

// checkFilterText refuses a filter holding a string no database can
// compare: one with a NUL byte, or bytes that are not UTF-8 (a GET query
// string can carry both). Postgres refuses either in a text parameter, so
// the query would fail as an internal error; SQLite would take it and match
// nothing. where is one of ent's generated where inputs (string and *string
// fields, lists of them, nested not/and/or); the error is BAD_USER_INPUT
// naming the first such field by its path in the argument ("where.or.0.tag").
func checkFilterText(arg string, where any) error {
	if field, bad := badText(reflect.ValueOf(where), arg); bad {
		return badInput(field, "must be UTF-8 text without NUL bytes")
	}
	return nil
}

// badText returns the path of the first string under v that has a NUL byte
// or is not UTF-8; fields are named by their JSON names, which are the
// GraphQL ones.
func badText(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badText(v.Elem(), path)
	case reflect.String:
		return path, !campaign.ValidFilterText(v.String())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, bad := badText(v.Index(i), path+"."+strconv.Itoa(i)); bad {
				return p, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if p, bad := badText(v.Field(i), path+"."+name); bad {
				return p, true
			}
		}
	}
	return "", false
}
