package webhook

import (
	"encoding/base64"
	"errors"
	"strings"
)

// minKeyBytes is the shortest secret accepted: the specification asks for
// 24 to 64 random bytes; fewer than 16 is refused.
const minKeyBytes = 16

// CheckSecret checks a signing secret (WEBHOOK_SECRET): "whsec_" and the
// base64 of at least 16 bytes (the prefix may be left out).
func CheckSecret(secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("must be whsec_ followed by base64")
	}
	if len(key) < minKeyBytes {
		return errors.New("must hold at least 16 bytes (whsec_ and the base64 of 24 to 64 random bytes)")
	}
	return nil
}
