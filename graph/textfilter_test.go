package graph

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
)

func TestCheckFilterText(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name  string
		where any
		field string // "" when the filter passes
	}{
		{"nil", (*ent.CustomerWhereInput)(nil), ""},
		{"plain", &ent.CustomerWhereInput{Tag: s("vip"), PhoneIn: []string{"79001234567"}}, ""},
		{"unicode", &ent.MailingWhereInput{TextContains: s("Привет ☃")}, ""},
		{"nul", &ent.CustomerWhereInput{Tag: s("a\x00b")}, "where.tag"},
		{"invalid utf-8", &ent.CustomerWhereInput{TagContains: s("\xff\xfe")}, "where.tagContains"},
		{"in a list", &ent.CustomerWhereInput{PhoneIn: []string{"7", "\x00"}}, "where.phoneIn.1"},
		{"nested", &ent.CustomerWhereInput{Or: []*ent.CustomerWhereInput{{}, {Not: &ent.CustomerWhereInput{OperatorCode: s("9\x0000")}}}}, "where.or.1.not.operatorCode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkFilterText("where", c.where)
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			var verr *campaign.ValidationError
			require.True(t, errors.As(err, &verr), "%v", err)
			require.Equal(t, c.field, verr.Fields[0].Field)
		})
	}
}
