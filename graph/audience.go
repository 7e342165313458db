package graph

import (
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/campaign"
)

// audiencePreview is the GraphQL shape of a preview.
func audiencePreview(p *campaign.AudiencePreview) *model.AudiencePreview {
	return &model.AudiencePreview{
		Count:          p.Count,
		ByOperatorCode: audienceCounts(p.ByOperatorCode),
		ByTag:          audienceCounts(p.ByTag),
		Sample:         p.Sample,
	}
}

func audienceCounts(in []campaign.AudienceCount) []*model.AudienceCount {
	out := make([]*model.AudienceCount, len(in))
	for i, c := range in {
		out[i] = &model.AudienceCount{Value: c.Value, Count: c.Count}
	}
	return out
}

// optOutFilter is the domain's filter for an optOuts where input.
func optOutFilter(where *model.OptOutWhere) campaign.OptOutFilter {
	if where == nil {
		return campaign.OptOutFilter{}
	}
	return campaign.OptOutFilter{
		Phone:     value(where.Phone),
		CreatedBy: value(where.CreatedBy),
		From:      value(where.From),
		To:        value(where.To),
	}
}
