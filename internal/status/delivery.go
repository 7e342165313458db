package status

import "io"

// Delivery is the state of one webhook delivery.
type Delivery string

// Webhook delivery states.
const (
	Pending     Delivery = "pending"   // being tried: the next attempt is due at next_attempt_at
	Delivered   Delivery = "delivered" // the receiver answered 2xx
	Undelivered Delivery = "failed"    // given up after the last attempt
)

// Deliveries lists every delivery state in enum order.
var Deliveries = []Delivery{Pending, Delivered, Undelivered}

// Values implements ent's EnumValues.
func (Delivery) Values() []string { return values(Deliveries) }

// MarshalGQL writes the GraphQL spelling.
func (s Delivery) MarshalGQL(w io.Writer) { marshalGQL(w, string(s)) }

// UnmarshalGQL reads the GraphQL spelling.
func (s *Delivery) UnmarshalGQL(v any) error { return unmarshalGQL(v, Deliveries, s) }
