package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
)

// idempotent runs create at most once per idempotency key (README,
// "Idempotency keys"; docs/design.md): without a key it just runs; with
// one, the first request with it runs and its result is stored as JSON, a
// repeat of the same mutation field with the same arguments within 24 h
// gets that result back and creates nothing, other arguments are a CONFLICT
// on idempotencyKey, and so is a repeat while the first still runs. A
// create that fails frees its key. Any create mutation takes it: a new one
// declares `idempotencyKey: String` and wraps its call in this.
func idempotent[T any](ctx context.Context, r *Resolver, key *string, create func(context.Context) (T, error)) (T, error) {
	var zero T
	if key == nil {
		return create(ctx)
	}
	hash, err := argumentsHash(ctx)
	if err != nil {
		return zero, err
	}
	claim, stored, err := r.Service.ClaimIdempotencyKey(ctx, *key, hash)
	if err != nil {
		return zero, err
	}
	if stored != nil {
		var out T
		if err := json.Unmarshal(stored.Body, &out); err != nil {
			return zero, fmt.Errorf("error decoding the stored result of an idempotency key: %w", err)
		}
		return out, nil
	}
	out, err := create(ctx)
	if err != nil {
		if rerr := claim.Release(ctx); rerr != nil {
			r.Logger.ErrorContext(ctx, "error releasing an idempotency key", "error", rerr)
		}
		return zero, err
	}
	body, err := json.Marshal(out)
	if err == nil {
		err = claim.Complete(ctx, campaign.StoredResponse{Status: 200, Body: body})
	}
	if err != nil {
		// The object is created: answer it. The key stays in progress (a
		// repeat gets CONFLICT, not a second object) until it is pruned.
		r.Logger.ErrorContext(ctx, "error storing the result of an idempotency key", "error", err)
	}
	return out, nil
}

// argumentsHash is the hash of the current mutation field's name and
// arguments (the key left out), as the key's request hash: the same
// arguments in literals or in variables hash alike. An uploaded file
// (graphql.Upload) counts by the SHA-256 of its content, read and rewound.
func argumentsHash(ctx context.Context) (string, error) {
	fc := graphql.GetFieldContext(ctx)
	args := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	delete(args, campaign.IdempotencyField)
	hashed, err := hashUploads(args)
	if err != nil {
		return "", fmt.Errorf("error hashing the files of %s: %w", fc.Field.Name, err)
	}
	raw, err := json.Marshal(hashed)
	if err != nil {
		return "", fmt.Errorf("error hashing the arguments of %s: %w", fc.Field.Name, err)
	}
	return campaign.RequestHash([]byte(fc.Field.Name), raw), nil
}

// hashUploads returns v with every graphql.Upload in it replaced by the
// hex SHA-256 of its content; the file is rewound for the resolver.
func hashUploads(v any) (any, error) {
	switch v := v.(type) {
	case graphql.Upload:
		return uploadHash(&v)
	case *graphql.Upload:
		if v == nil {
			return nil, nil
		}
		return uploadHash(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			h, err := hashUploads(e)
			if err != nil {
				return nil, err
			}
			out[k] = h
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			h, err := hashUploads(e)
			if err != nil {
				return nil, err
			}
			out[i] = h
		}
		return out, nil
	}
	return v, nil
}

func uploadHash(u *graphql.Upload) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, u.File); err != nil {
		return "", err
	}
	if _, err := u.File.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return "upload:" + hex.EncodeToString(h.Sum(nil)), nil
}

// refusedImport carries an import that imported nothing through idempotent
// as an error, so that its key is freed for the corrected file.
type refusedImport struct{ imp *ent.ClientImport }

func (refusedImport) Error() string { return "the import was refused" }
