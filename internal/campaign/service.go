// Package campaign is the domain layer: the client directory and the
// mailings, their validation and lifecycle. GraphQL, REST and the River jobs
// all call it; it knows no transport. Every write runs in one transaction
// together with the jobs it implies.
package campaign

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// Scheduler inserts the background work a domain write implies, inside the
// write's transaction, so both commit or neither does. jobs.Scheduler
// implements it with River's InsertTx.
type Scheduler interface {
	// ScheduleMailing makes sure m starts at m.StartAt (at once when that is
	// past) and is closed at m.EndAt. Called on creation and whenever either
	// time changes; jobs made stale by a change do nothing when they run.
	ScheduleMailing(ctx context.Context, tx *database.Tx, m *ent.Mailing) error
	// ResumeMailing makes sure the unsent messages of a resumed mailing are
	// being worked.
	ResumeMailing(ctx context.Context, tx *database.Tx, m *ent.Mailing) error
}

// Publisher is told about message status writes after they commit; the live
// status feed (subscriptions) implements it. A nil Publisher is allowed.
type Publisher interface {
	// MessagesChanged is called after commit with the messages whose status was written.
	MessagesChanged(ctx context.Context, changes []StatusChange)
	// MailingChanged is called after commit when a mailing's status or counts may have changed.
	MailingChanged(ctx context.Context, mailingID int)
}

// Service is the domain service.
type Service struct {
	db        *database.DB
	scheduler Scheduler
	publisher Publisher
	announcer Announcer
	now       func() time.Time
	actor     ActorFunc
	logger    *slog.Logger
	rates     *rateTracker
	history   *sendSampler // sends over time (history.go)
	// running holds the imports running on SQLite (id → *ent.ClientImport),
	// whose progress cannot reach the database before they end (import.go).
	running sync.Map
}

// Config holds the dependencies of a Service.
type Config struct {
	DB        *database.DB
	Scheduler Scheduler
	Publisher Publisher
	// Announcer records lifecycle events for the webhooks (events.go); nil
	// when they are off.
	Announcer Announcer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Actor names the caller and the request of a write for the audit log
	// (audit.go); every entry is "anonymous" without a request id when nil.
	Actor  ActorFunc
	Logger *slog.Logger
}

// New returns a Service.
func New(cfg Config) *Service {
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	// Times go to the database in UTC: SQLite compares them as text.
	now := func() time.Time { return clock().UTC() }
	return &Service{
		db:        cfg.DB,
		scheduler: cfg.Scheduler,
		publisher: cfg.Publisher,
		announcer: cfg.Announcer,
		now:       now,
		actor:     cfg.Actor,
		logger:    cmp.Or(cfg.Logger, slog.Default()),
		rates:     newRateTracker(now),
		history:   &sendSampler{},
	}
}

// StatusChange is one status write of one message, as subscribers see it.
type StatusChange struct {
	MessageID int
	MailingID int
	ClientID  *int
	Status    status.Message
	Attempts  int
	At        time.Time
	// CommittedAt is when the publisher was told of the change, right after
	// its transaction committed; zero when unknown (an older instance).
	CommittedAt time.Time
}

// DB returns the database the service works on.
func (s *Service) DB() *database.DB { return s.db }

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.now() }
