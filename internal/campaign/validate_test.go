package campaign

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	_ "time/tzdata"
)

func TestValidPhone(t *testing.T) {
	t.Parallel()
	for phone, want := range map[string]bool{
		"79001234567":  true,
		"70000000000":  true,
		"7900123456":   false, // 10 digits
		"790012345678": false, // 12 digits
		"89001234567":  false, // not 7
		"+79001234567": false,
		"7900123456a":  false,
		"7900123456٣":  false, // an Arabic-Indic digit
		"":             false,
	} {
		require.Equal(t, want, ValidPhone(phone), phone)
	}
}

func TestClientInputValidation(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	tests := []struct {
		name   string
		in     ClientInput
		fields []string
	}{
		{"valid with defaults", ClientInput{Phone: "79001234567"}, nil},
		{"valid full", ClientInput{Phone: "79001234567", OperatorCode: s("901"), Tag: s("vip"), Timezone: s("Asia/Yekaterinburg")}, nil},
		{"bad phone", ClientInput{Phone: "123"}, []string{"phone"}},
		{"bad operator code", ClientInput{Phone: "79001234567", OperatorCode: s("90")}, []string{"operatorCode"}},
		{"tag of 64 runes", ClientInput{Phone: "79001234567", Tag: s(strings.Repeat("я", 64))}, nil},
		{"tag of 65 runes", ClientInput{Phone: "79001234567", Tag: s(strings.Repeat("я", 65))}, []string{"tag"}},
		{"Local refused", ClientInput{Phone: "79001234567", Timezone: s("Local")}, []string{"timezone"}},
		{"unknown zone", ClientInput{Phone: "79001234567", Timezone: s("Mars/Olympus")}, []string{"timezone"}},
		{"everything wrong", ClientInput{Phone: "x", OperatorCode: s("abc"), Timezone: s("")}, []string{"phone", "operatorCode", "timezone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, v := tt.in.normalized()
			require.Equal(t, tt.fields, fieldNames(v))
			if len(tt.fields) == 0 {
				if tt.in.OperatorCode == nil {
					require.Equal(t, tt.in.Phone[1:4], *out.OperatorCode, "derived from the phone")
				}
				require.NotNil(t, out.Timezone)
				require.NotNil(t, out.Tag)
			}
		})
	}
}

func TestMailingInputValidation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ok := MailingInput{StartAt: now.Add(-time.Hour), EndAt: now.Add(time.Hour), Text: "hi"}
	with := func(f func(*MailingInput)) MailingInput { in := ok; f(&in); return in }
	tests := []struct {
		name   string
		in     MailingInput
		fields []string
	}{
		{"valid", ok, nil},
		{"end before start", with(func(in *MailingInput) { in.EndAt = in.StartAt.Add(-time.Minute) }), []string{"endAt"}},
		{"end equal start", with(func(in *MailingInput) { in.EndAt = in.StartAt }), []string{"endAt"}},
		{"end in the past", with(func(in *MailingInput) { in.StartAt, in.EndAt = now.Add(-2*time.Hour), now.Add(-time.Hour) }), []string{"endAt"}},
		{"empty text", with(func(in *MailingInput) { in.Text = "" }), []string{"text"}},
		{"text of 4096", with(func(in *MailingInput) { in.Text = strings.Repeat("ж", 4096) }), nil},
		{"text of 4097", with(func(in *MailingInput) { in.Text = strings.Repeat("ж", 4097) }), []string{"text"}},
		{"bad operator code in filter", with(func(in *MailingInput) { in.Filter.OperatorCodes = []string{"9001"} }), []string{"filter.operatorCodes"}},
		{"bad window from", with(func(in *MailingInput) { in.Window = &WindowInput{From: "24:00", To: "06:00"} }), []string{"sendWindow.from"}},
		{"window from equals to", with(func(in *MailingInput) { in.Window = &WindowInput{From: "09:00", To: "09:00"} }), []string{"sendWindow.to"}},
		{"window across midnight", with(func(in *MailingInput) { in.Window = &WindowInput{From: "22:00", To: "06:00"} }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := tt.in.validate(now, true)
			var v *ValidationError
			if err != nil {
				require.ErrorAs(t, err, &v)
			}
			require.Equal(t, tt.fields, fieldNames(v))
		})
	}
}

func fieldNames(v *ValidationError) []string {
	if v == nil {
		return nil
	}
	var out []string
	for _, f := range v.Fields {
		out = append(out, f.Field)
	}
	return out
}

func FuzzValidPhone(f *testing.F) {
	for _, s := range []string{"79001234567", "7900123456", "+79001234567", "7٩٠٠١٢٣٤٥٦٧"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidPhone(s) {
			if len(s) != 11 || s[0] != '7' || !allDigits(s) {
				t.Fatalf("ValidPhone(%q) accepted a non-phone", s)
			}
			if code := OperatorCodeOf(s); !ValidOperatorCode(code) {
				t.Fatalf("derived operator code %q of %q is invalid", code, s)
			}
		}
	})
}

func FuzzClientInput(f *testing.F) {
	f.Add("79001234567", "900", "vip", "Europe/Moscow")
	f.Add("7", "", "", "Local")
	f.Fuzz(func(t *testing.T, phone, code, tag, zone string) {
		out, v := ClientInput{Phone: phone, OperatorCode: &code, Tag: &tag, Timezone: &zone}.normalized()
		if len(v.Fields) > 0 {
			for _, fe := range v.Fields {
				if fe.Field == "" || fe.Message == "" {
					t.Fatalf("unnamed problem %+v", fe)
				}
			}
			return
		}
		if !ValidPhone(out.Phone) || !ValidOperatorCode(*out.OperatorCode) || utf8.RuneCountInString(*out.Tag) > MaxTagLength {
			t.Fatalf("accepted invalid client %+v", out)
		}
		if *out.Timezone == "Local" || *out.Timezone == "" {
			t.Fatalf("accepted zone %q", *out.Timezone)
		}
	})
}

func FuzzMailingInput(f *testing.F) {
	f.Add(int64(-3600), int64(3600), "hello", "900", "vip", "09:00", "21:00")
	f.Add(int64(0), int64(0), "", "", "", "", "")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, start, end int64, text, code, tag, from, to string) {
		in := MailingInput{
			StartAt: now.Add(time.Duration(start) * time.Second),
			EndAt:   now.Add(time.Duration(end) * time.Second),
			Text:    text,
			Filter:  Filter{OperatorCodes: []string{code}, Tags: []string{tag}},
			Window:  &WindowInput{From: from, To: to},
		}
		filter, win, err := in.validate(now, true)
		if err != nil {
			return
		}
		if !in.EndAt.After(in.StartAt) || !in.EndAt.After(now) {
			t.Fatal("accepted a period that ends before it starts or in the past")
		}
		if n := utf8.RuneCountInString(text); n < 1 || n > MaxTextLength {
			t.Fatalf("accepted a text of %d characters", n)
		}
		if win == nil || win.FromString() != from || win.ToString() != to {
			t.Fatalf("window %q-%q did not round-trip: %v", from, to, win)
		}
		if len(filter.OperatorCodes) != 1 || !ValidOperatorCode(filter.OperatorCodes[0]) {
			t.Fatalf("accepted operator codes %q", filter.OperatorCodes)
		}
	})
}
