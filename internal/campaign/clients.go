package campaign

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// ClientInput is a new client. Nil fields take their defaults: the operator
// code derived from the phone, an empty tag, UTC.
type ClientInput struct {
	Phone        string
	OperatorCode *string
	Tag          *string
	Timezone     *string
}

// ClientPatch changes some fields of a client; nil fields stay as they are.
// Changing the phone does not re-derive the operator code.
type ClientPatch struct {
	Phone        *string
	OperatorCode *string
	Tag          *string
	Timezone     *string
}

// Client returns the client with id. Returns ErrNotFound if there is none.
func (s *Service) Client(ctx context.Context, id int) (*ent.Customer, error) {
	c, err := s.db.Ent.Customer.Get(ctx, id)
	if err != nil {
		return nil, loadErr("client", id, err)
	}
	return c, nil
}

// normalized validates in and fills its defaults.
func (in ClientInput) normalized() (ClientInput, *ValidationError) {
	v := &ValidationError{}
	checkPhone(v, "phone", in.Phone)
	if in.OperatorCode == nil && ValidPhone(in.Phone) {
		code := OperatorCodeOf(in.Phone)
		in.OperatorCode = &code
	} else if in.OperatorCode != nil {
		checkOperatorCode(v, "operatorCode", *in.OperatorCode)
	}
	if in.Tag == nil {
		in.Tag = new("")
	}
	checkTag(v, "tag", *in.Tag)
	if in.Timezone == nil {
		in.Timezone = new("UTC")
	}
	checkTimezone(v, "timezone", *in.Timezone)
	return in, v
}

// CreateClient adds a client to the directory. Returns a *ValidationError
// naming the field for bad input, including a phone that is already taken.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (*ent.Customer, error) {
	created, err := s.CreateClients(ctx, []ClientInput{in})
	if err != nil {
		var v *ValidationError
		if asValidation(err, &v) {
			// A single client's fields are named without the bulk index.
			for i := range v.Fields {
				v.Fields[i].Field = v.Fields[i].Field[len("0."):]
			}
		}
		return nil, err
	}
	return created[0], nil
}

// CreateClients imports clients all or nothing: when any of them is invalid
// (fields named "N.field", N the index in ins) nothing is written. At most
// MaxBulkClients at once.
func (s *Service) CreateClients(ctx context.Context, ins []ClientInput) ([]*ent.Customer, error) {
	if len(ins) > MaxBulkClients {
		return nil, invalid("input", "at most %d clients per import, got %d", MaxBulkClients, len(ins))
	}
	all := &ValidationError{}
	seen := make(map[string]int, len(ins))
	for i := range ins {
		in, v := ins[i].normalized()
		ins[i] = in
		prefix := strconv.Itoa(i)
		for _, f := range v.Fields {
			all.add(prefix+"."+f.Field, "%s", f.Message)
		}
		if j, dup := seen[in.Phone]; dup && ValidPhone(in.Phone) {
			all.add(prefix+".phone", "is the same phone as item %d", j)
		}
		seen[in.Phone] = i
	}
	if err := all.err(); err != nil {
		return nil, err
	}
	var created []*ent.Customer
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		if err := checkPhonesFree(ctx, tx, ins); err != nil {
			return err
		}
		// ent builds one INSERT per chunk; 1000 rows × 6 columns stays well
		// under both databases' bind-parameter limits.
		for chunk := range slices.Chunk(ins, 1000) {
			builders := make([]*ent.CustomerCreate, len(chunk))
			for i, in := range chunk {
				builders[i] = tx.Ent.Customer.Create().
					SetPhone(in.Phone).
					SetOperatorCode(*in.OperatorCode).
					SetTag(*in.Tag).
					SetTimezone(*in.Timezone)
			}
			rows, err := tx.Ent.Customer.CreateBulk(builders...).Save(ctx)
			if err != nil {
				return phoneTaken(err, "error creating clients")
			}
			created = append(created, rows...)
		}
		// One entry per client: an admin looks a client's history up by
		// its id (docs/design.md, "Audit log").
		targets := make([]auditTarget, len(created))
		for i, c := range created {
			targets[i] = auditTarget{id: c.ID, after: clientFields(c)}
		}
		return s.recordMany(ctx, tx, ActionClientCreate, TargetClient, targets)
	})
	if err != nil {
		return nil, err
	}
	for _, c := range created {
		s.logger.InfoContext(ctx, "client created", "client_id", c.ID)
	}
	return created, nil
}

// checkPhonesFree returns a *ValidationError for every input whose phone
// belongs to an existing client, named "N.phone".
func checkPhonesFree(ctx context.Context, tx *database.Tx, ins []ClientInput) error {
	index := make(map[string]int, len(ins))
	phones := make([]string, len(ins))
	for i, in := range ins {
		index[in.Phone] = i
		phones[i] = in.Phone
	}
	v := &ValidationError{}
	for chunk := range slices.Chunk(phones, 5000) {
		taken, err := tx.Ent.Customer.Query().Where(customer.PhoneIn(chunk...)).Select(customer.FieldPhone).Strings(ctx)
		if err != nil {
			return fmt.Errorf("error checking phones: %w", err)
		}
		for _, p := range taken {
			v.add(strconv.Itoa(index[p])+".phone", "a client with this phone already exists")
		}
	}
	return v.err()
}

// UpdateClient changes the fields set in p. Returns ErrNotFound or a
// *ValidationError naming the field.
func (s *Service) UpdateClient(ctx context.Context, id int, p ClientPatch) (*ent.Customer, error) {
	v := &ValidationError{}
	checkSet(v, "phone", p.Phone, checkPhone)
	checkSet(v, "operatorCode", p.OperatorCode, checkOperatorCode)
	checkSet(v, "tag", p.Tag, checkTag)
	checkSet(v, "timezone", p.Timezone, checkTimezone)
	if err := v.err(); err != nil {
		return nil, err
	}
	var c *ent.Customer
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		cur, err := tx.Ent.Customer.Get(ctx, id)
		if err != nil {
			return loadErr("client", id, err)
		}
		if p.Phone != nil && *p.Phone != cur.Phone {
			exists, err := tx.Ent.Customer.Query().Where(customer.Phone(*p.Phone)).Exist(ctx)
			if err != nil {
				return fmt.Errorf("error checking phone: %w", err)
			}
			if exists {
				return invalid("phone", "a client with this phone already exists")
			}
		}
		c, err = tx.Ent.Customer.UpdateOneID(id).
			SetNillablePhone(p.Phone).
			SetNillableOperatorCode(p.OperatorCode).
			SetNillableTag(p.Tag).
			SetNillableTimezone(p.Timezone).
			Save(ctx)
		if err != nil {
			return phoneTaken(err, fmt.Sprintf("error updating client %d", id))
		}
		before, after := clientFields(cur), clientFields(c)
		if reflect.DeepEqual(before, after) {
			return nil // nothing changed: nothing to record
		}
		return s.record(ctx, tx, ActionClientUpdate, TargetClient, id, before, after)
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "client updated", "client_id", id)
	return c, nil
}

// DeleteClient removes a client. Its unsent messages are cancelled; what was
// already sent to it stays, with the phone it went to. Returns ErrNotFound.
func (s *Service) DeleteClient(ctx context.Context, id int) error {
	var changes []StatusChange
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		cur, err := tx.Ent.Customer.Get(ctx, id)
		if err != nil {
			return loadErr("client", id, err)
		}
		changes, err = s.settleUnsent(ctx, tx, s.now(), message.CustomerID(id), status.MessageCanceled)
		if err != nil {
			return err
		}
		if err := tx.Ent.Customer.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("error deleting client %d: %w", id, err)
		}
		return s.record(ctx, tx, ActionClientDelete, TargetClient, id, clientFields(cur), nil)
	})
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "client deleted", "client_id", id, "messages_cancelled", len(changes))
	s.published(ctx, changes)
	return nil
}

// phoneTaken maps a unique violation on the phone (a race with another
// writer after the check) to a validation error.
func phoneTaken(err error, doing string) error {
	if ent.IsConstraintError(err) {
		return invalid("phone", "a client with this phone already exists")
	}
	return fmt.Errorf("%s: %w", doing, err)
}
