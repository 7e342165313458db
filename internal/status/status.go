// Package status defines the statuses of messages and mailings and is the one
// place where their two spellings meet: lower case in the database, REST and
// logs (`queued`), upper case in GraphQL (`QUEUED`).
package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Message is the status of one message.
type Message string

// Message statuses, in the order statistics list them.
const (
	Queued          Message = "queued"    // no attempt yet
	Retrying        Message = "retrying"  // a transient failure, another attempt is due
	Sent            Message = "sent"      // the sending API accepted it
	Failed          Message = "failed"    // a permanent error
	Expired         Message = "expired"   // end_at came first
	MessageCanceled Message = "cancelled" // the mailing or the client went away first
)

// Messages lists every message status in enum order.
var Messages = []Message{Queued, Retrying, Sent, Failed, Expired, MessageCanceled}

// Values implements ent's EnumValues.
func (Message) Values() []string { return values(Messages) }

// Terminal reports whether no further attempt will be made.
func (s Message) Terminal() bool {
	return s == Sent || s == Failed || s == Expired || s == MessageCanceled
}

// MarshalGQL writes the GraphQL spelling.
func (s Message) MarshalGQL(w io.Writer) { marshalGQL(w, string(s)) }

// UnmarshalGQL reads the GraphQL spelling.
func (s *Message) UnmarshalGQL(v any) error { return unmarshalGQL(v, Messages, s) }

// Mailing is the status of a mailing.
type Mailing string

// Mailing statuses.
const (
	Scheduled       Mailing = "scheduled"
	Running         Mailing = "running"
	Paused          Mailing = "paused"
	Finished        Mailing = "finished"
	MailingCanceled Mailing = "cancelled"
)

// Mailings lists every mailing status in enum order.
var Mailings = []Mailing{Scheduled, Running, Paused, Finished, MailingCanceled}

// Values implements ent's EnumValues.
func (Mailing) Values() []string { return values(Mailings) }

// Closed reports whether the mailing can no longer change (finished or cancelled).
func (s Mailing) Closed() bool { return s == Finished || s == MailingCanceled }

// MarshalGQL writes the GraphQL spelling.
func (s Mailing) MarshalGQL(w io.Writer) { marshalGQL(w, string(s)) }

// UnmarshalGQL reads the GraphQL spelling.
func (s *Mailing) UnmarshalGQL(v any) error { return unmarshalGQL(v, Mailings, s) }

// GraphQLName is the GraphQL spelling of a status value.
func GraphQLName(v string) string { return strings.ToUpper(v) }

func values[T ~string](all []T) []string {
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = string(s)
	}
	return out
}

func marshalGQL(w io.Writer, v string) {
	_, _ = io.WriteString(w, strconv.Quote(GraphQLName(v)))
}

func unmarshalGQL[T ~string](v any, all []T, dst *T) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("status must be a string, got %T", v)
	}
	for _, s := range all {
		if GraphQLName(string(s)) == str {
			*dst = s
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid status", str)
}
