package rest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/notifyhq/notify/internal/campaign"
)

// Page sizes of Django REST framework's PageNumberPagination, as the API
// promises them (docs/product.md, "The API").
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// page is one page of a list, in Django REST framework's shape.
type page[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// pageParams reads page and page_size as PageNumberPagination does: a
// page_size that is not a positive integer is the default, one above the
// maximum is the maximum; a page that is not a positive integer (or "last")
// is errInvalidPage.
func pageParams(r *http.Request) (number int, size int, last bool, err error) {
	q := r.URL.Query()
	size = defaultPageSize
	if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		size = min(n, maxPageSize)
	}
	switch v := q.Get("page"); v {
	case "":
		return 1, size, false, nil
	case "last":
		return 0, size, true, nil
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, false, errInvalidPage
		}
		return n, size, false, nil
	}
}

// query is what a page needs of an ent query (*ent.CustomerQuery, …):
// Count leaves out the query's order, the page's rows keep it.
type query[Q, Row any] interface {
	Count(context.Context) (int, error)
	Clone() Q
	Offset(int) Q
	Limit(int) Q
	All(context.Context) ([]Row, error)
}

// paginate counts the rows of q, an ordered query, fetches the page the
// request asks for and converts its rows. A page past the end is
// errInvalidPage; page 1 of an empty list is an empty page.
func paginate[Q query[Q, Row], Row, T any](r *http.Request, q Q, convert func(Row) T) (*page[T], error) {
	number, size, last, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	total, err := q.Count(r.Context())
	if err != nil {
		return nil, err
	}
	pages := max(1, (total+size-1)/size)
	if last {
		number = pages
	}
	if number > pages {
		return nil, errInvalidPage
	}
	rows, err := q.Clone().Offset((number - 1) * size).Limit(size).All(r.Context())
	if err != nil {
		return nil, err
	}
	pg := &page[T]{Count: total, Results: make([]T, len(rows))}
	for i, row := range rows {
		pg.Results[i] = convert(row)
	}
	if number < pages {
		pg.Next = pageURL(r, number+1)
	}
	if number > 1 {
		pg.Previous = pageURL(r, number-1)
	}
	return pg, nil
}

// list is a list endpoint's answer: 200 with the page of q that r asks for.
func list[Q query[Q, Row], Row, T any](r *http.Request, q Q, convert func(Row) T) (int, any, error) {
	pg, err := paginate(r, q, convert)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pg, nil
}

// pageURL is the absolute URL of page number of the list r asks for, with
// r's other parameters; page 1 has no page parameter, as in Django REST
// framework.
func pageURL(r *http.Request, number int) *string {
	q := r.URL.Query()
	if number == 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(number))
	}
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	s := u.String()
	return &s
}

// queryValue returns the query parameter name when it is set and not empty
// (django-filter ignores an empty filter).
func queryValue(r *http.Request, name string) (string, bool) {
	v := r.URL.Query().Get(name)
	return v, v != ""
}

// textParams refuses, as a 400 naming it, the first of the query parameters
// names whose value no database can compare (a NUL byte, bytes that are not
// UTF-8): Postgres answers such a parameter with an error, not "no match".
func textParams(r *http.Request, names ...string) error {
	for _, name := range names {
		if v, ok := queryValue(r, name); ok && !campaign.ValidFilterText(v) {
			return queryError(name, "Must be UTF-8 text without NUL bytes.")
		}
	}
	return nil
}

// choice reads the query parameter name, which must be one of all when it
// is set, as django-filter's ChoiceFilter does.
func choice[T ~string](r *http.Request, name string, all []T) (T, bool, error) {
	v, ok := queryValue(r, name)
	if !ok {
		return "", false, nil
	}
	if !slices.Contains(all, T(v)) {
		return "", false, queryError(name, "Select a valid choice. "+v+" is not one of the available choices.")
	}
	return T(v), true, nil
}

// param reads the query parameter name with parse when it is set; a value
// parse refuses is a 400 with msg naming the parameter.
func param[T any](r *http.Request, name string, parse func(string) (T, error), msg string) (*T, error) {
	v, ok := queryValue(r, name)
	if !ok {
		return nil, nil
	}
	t, err := parse(v)
	if err != nil {
		return nil, queryError(name, msg)
	}
	return &t, nil
}

// queryError is a 400 about the query parameter name.
func queryError(name, msg string) error {
	return &invalidInput{fields: []fieldError{{path: []string{name}, msg: msg}}}
}

// pathID reads the {id} of the path; an id that is not a positive decimal
// integer names no resource.
func pathID(r *http.Request) (int, error) {
	s := r.PathValue("id")
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errNoRoute
		}
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 1 {
		return 0, errNoRoute
	}
	return id, nil
}

// byID answers a request for the resource {id}: 200 with what get returns
// for that id, as out shows it.
func byID[Row, T any](r *http.Request, get func(context.Context, int) (Row, error), out func(Row) T) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	row, err := get(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out(row), nil
}

// deleteByID answers a DELETE of the resource {id}: 204 once del removed it.
func deleteByID(r *http.Request, del func(context.Context, int) error) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	if err := del(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
