package webhook

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Signer signs webhook requests as the Standard Webhooks specification says:
// the headers webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature ("v1," and the base64 HMAC-SHA256 of
// "id.timestamp.body" under the secret), with the specification's own
// library.
type Signer struct {
	wh *standardwebhooks.Webhook
}

// NewSigner returns the signer of secret, "whsec_" and base64 (the prefix
// may be left out). It returns an error when the rest is not base64 or
// holds less than 16 bytes.
func NewSigner(secret string) (*Signer, error) {
	if err := CheckSecret(secret); err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("must be whsec_ followed by base64: %w", err)
	}
	return &Signer{wh: wh}, nil
}

// Sign sets the signature headers of one attempt on h.
func (s *Signer) Sign(h http.Header, id string, at time.Time, body []byte) error {
	sig, err := s.wh.Sign(id, at, body)
	if err != nil {
		return err
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}
