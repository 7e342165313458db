package campaign

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzOptOutInput: any phone and reason are accepted or refused without a
// panic; an accepted opt-out has a valid phone and a reason both databases
// store, of at most MaxReasonSize characters; a refusal names phone or
// reason.
func FuzzOptOutInput(f *testing.F) {
	for _, s := range [][2]string{{"79001234567", "STOP"}, {"79001234567", ""}, {"7900123456", "x"}, {"79001234567", "a\x00b"}, {"79001234567", strings.Repeat("é", 501)}, {"７9001234567", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, phone, reason string) {
		err := checkOptOut(phone, reason)
		if err == nil {
			if !ValidPhone(phone) || !utf8.ValidString(reason) || strings.ContainsRune(reason, 0) || utf8.RuneCountInString(reason) > MaxReasonSize {
				t.Fatalf("accepted %q, %q", phone, reason)
			}
			return
		}
		var v *ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("not a validation error: %v", err)
		}
		for _, fe := range v.Fields {
			if fe.Field != "phone" && fe.Field != "reason" {
				t.Fatalf("error names %q", fe.Field)
			}
		}
	})
}

// FuzzIdempotencyKey: any key is accepted or refused without a panic; an
// accepted key is 1 to MaxIdempotencyKey bytes of text both databases
// store; a refusal names idempotencyKey.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k", "", strings.Repeat("k", 255), strings.Repeat("k", 256), "a\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := checkIdempotencyKey(key)
		if err == nil {
			if key == "" || len(key) > MaxIdempotencyKey || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
				t.Fatalf("accepted %q", key)
			}
			return
		}
		var v *ValidationError
		if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != IdempotencyField {
			t.Fatalf("refusal %v does not name %s", err, IdempotencyField)
		}
	})
}
