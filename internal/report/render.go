package report

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
)

// The email bodies. The HTML is what mail clients render reliably: nested
// tables, inline styles, no stylesheet, script, web font or image, so that
// nothing is blocked or fetched; the bar chart is a one-row table whose cells
// are as wide as each status's share.
//
//go:embed templates/report.html.tmpl templates/report.txt.tmpl
var templateFS embed.FS

var (
	htmlTemplate = htmltemplate.Must(htmltemplate.New("report.html.tmpl").ParseFS(templateFS, "templates/report.html.tmpl"))
	textTemplate = texttemplate.Must(texttemplate.New("report.txt.tmpl").ParseFS(templateFS, "templates/report.txt.tmpl"))
)

// statusColors are the bar colours of the message statuses (Material
// palette; distinguishable for the common colour-vision deficiencies by
// lightness as well as hue).
var statusColors = map[status.Message]string{
	status.Queued:          "#b0bec5",
	status.Retrying:        "#ffb300",
	status.Sent:            "#2e7d32",
	status.Failed:          "#c62828",
	status.Expired:         "#6d4c41",
	status.MessageCanceled: "#5c6bc0",
}

// noMessagesColor fills the bar of a mailing with no messages.
const noMessagesColor = "#eceff1"

// timeLayout is how the report writes times, in the report zone.
const timeLayout = "2006-01-02 15:04"

// view is what the templates see.
type view struct {
	Subject     string
	Period      string
	Zone        string
	Generated   string
	Legend      []segment
	Totals      campaign.GeneralStatistics
	TotalsBar   []segment
	TotalCounts []segment // every status, zeros included
	Mailings    []mailingView
}

type mailingView struct {
	ID     int
	Text   string
	Status string
	Period string
	Window string
	Total  int
	Bar    []segment
	Counts string // "sent 4 (80%), failed 1 (20%)"
}

// segment is one status's part of a bar (or a legend entry).
type segment struct {
	Name    string
	Count   int
	Percent int
	Color   string
}

// render returns the HTML and text bodies of rep.
func render(rep *Report) (html, text string, err error) {
	v := view{
		Subject:   rep.Subject,
		Period:    rep.From.Format(timeLayout) + " – " + rep.To.Format(timeLayout) + " " + rep.Zone,
		Zone:      rep.Zone,
		Generated: rep.GeneratedAt.Format(timeLayout) + " " + rep.Zone,
		Totals:    rep.Totals,
		TotalsBar: bar(rep.Totals.ByStatus, rep.Totals.Messages),
	}
	for _, st := range status.Messages {
		v.Legend = append(v.Legend, segment{Name: string(st), Color: statusColors[st]})
	}
	for _, c := range rep.Totals.ByStatus {
		v.TotalCounts = append(v.TotalCounts, segment{Name: string(c.Status), Count: c.Count, Color: statusColors[c.Status]})
	}
	for _, m := range rep.Mailings {
		mv := mailingView{
			ID:     m.ID,
			Text:   m.Text,
			Status: string(m.Status),
			Period: m.StartAt.Format(timeLayout) + " – " + m.EndAt.Format(timeLayout),
			Total:  m.Total,
			Bar:    bar(m.ByStatus, m.Total),
		}
		if m.SendWindow != nil {
			mv.Window = m.SendWindow.FromString() + "–" + m.SendWindow.ToString()
		}
		var parts []string
		for _, s := range mv.Bar {
			if s.Count > 0 {
				parts = append(parts, fmt.Sprintf("%s %d (%d%%)", s.Name, s.Count, s.Percent))
			}
		}
		mv.Counts = strings.Join(parts, ", ")
		v.Mailings = append(v.Mailings, mv)
	}

	var hb, tb bytes.Buffer
	if err := htmlTemplate.Execute(&hb, v); err != nil {
		return "", "", fmt.Errorf("error rendering HTML: %w", err)
	}
	if err := textTemplate.Execute(&tb, v); err != nil {
		return "", "", fmt.Errorf("error rendering text: %w", err)
	}
	return hb.String(), tb.String(), nil
}

// bar splits 100% among the statuses with messages, by largest remainder so
// the parts add up to 100, each non-empty status getting at least 1% so it
// stays visible. With no messages the bar is one grey "none" part.
func bar(counts []campaign.StatusCount, total int) []segment {
	if total <= 0 {
		return []segment{{Name: "none", Percent: 100, Color: noMessagesColor}}
	}
	var segs []segment
	type rem struct{ i, r int }
	var rems []rem
	sum := 0
	for _, c := range counts {
		if c.Count <= 0 {
			continue
		}
		p := c.Count * 100 / total
		rems = append(rems, rem{len(segs), c.Count * 100 % total})
		segs = append(segs, segment{Name: string(c.Status), Count: c.Count, Percent: p, Color: statusColors[c.Status]})
		sum += p
	}
	// Hand the points lost to rounding down to the largest remainders.
	for sum < 100 {
		best := 0
		for k := range rems {
			if rems[k].r > rems[best].r {
				best = k
			}
		}
		segs[rems[best].i].Percent++
		rems[best].r = -1
		sum++
	}
	// A tiny share still shows: take its 1% from the largest part.
	for i := range segs {
		if segs[i].Percent == 0 {
			largest := 0
			for j := range segs {
				if segs[j].Percent > segs[largest].Percent {
					largest = j
				}
			}
			segs[largest].Percent--
			segs[i].Percent = 1
		}
	}
	return segs
}
