package sender

import (
	"strconv"
	"unicode/utf8"
)

// maxPhoneDigits is the most digits a phone may have and still be a JSON
// integer every decoder reads exactly (int64 holds 18 digits safely).
const maxPhoneDigits = 18

// appendBody appends the API's JSON body for r to dst:
// {"id":<ID>,"phone":<Phone as an integer>,"text":"<Text>"}.
// It reports false if Phone is not a plain run of digits that can be written
// as a JSON integer.
func appendBody(dst []byte, r Request) ([]byte, bool) {
	if !validPhone(r.Phone) {
		return dst, false
	}
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, r.ID, 10)
	dst = append(dst, `,"phone":`...)
	dst = append(dst, r.Phone...)
	dst = append(dst, `,"text":`...)
	dst = appendJSONString(dst, r.Text)
	return append(dst, '}'), true
}

// validPhone reports whether p can be written verbatim as a JSON integer.
// The domain layer enforces the exact "7" + 10 digits format; this only keeps
// the body well-formed whatever it is given.
func validPhone(p string) bool {
	if len(p) == 0 || len(p) > maxPhoneDigits || p[0] == '0' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s to dst as a quoted JSON string, escaping as
// encoding/json does (without its HTML escaping): quotes, backslashes and
// control characters are escaped, invalid UTF-8 bytes become U+FFFD, and
// U+2028/U+2029 are escaped for JavaScript consumers.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
