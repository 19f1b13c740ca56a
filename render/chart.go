package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// The retro chart's geometry, in SVG user units.
const (
	chartWidth  = 720.0
	chartLabel  = 150.0 // the row labels' column
	chartValue  = 175.0 // room for the value after the longest bar
	chartRow    = 18.0
	chartGap    = 6.0
	chartHeader = 26.0
	chartPanel  = 16.0 // space after a panel
)

// chartBar is one segment of a bar: what it measures (the report.json
// field under the reviewer or lead, "duration_ms", "tokens.input") and
// its value in that field's unit.
type chartBar struct {
	metric string
	class  string
	value  float64
	label  string
}

// chartRow is one row of a panel: a reviewer (index into the report's
// reviewers) or the lead (reviewer -1), with its stacked bars.
type chartRowData struct {
	name     string
	reviewer int
	bars     []chartBar
	text     string
}

// chart draws the retro's figures as inline SVG: per reviewer the
// duration (with the lead's row and the wall clock marked), the findings
// by severity stacked, the tokens (input, cached, output) stacked and the
// cost. Every bar carries the figure it is drawn from (data-metric,
// data-reviewer or data-lead, data-value) and each panel its scale
// (data-scale, units per value), so a test can hold the drawing to
// report.json. The table below it stays the accessible source.
func (h *hw) chart() {
	r := h.r()
	var b strings.Builder
	y := 0.0
	lead := func(bars ...chartBar) []chartRowData {
		if r.Lead == nil {
			return nil
		}
		return []chartRowData{{name: "Lead", reviewer: -1, bars: bars}}
	}
	// Duration.
	var rows []chartRowData
	for i, s := range r.Reviewers {
		rows = append(rows, chartRowData{name: h.display(s.Name), reviewer: i,
			bars: []chartBar{{"duration_ms", "b-dur", float64(s.DurationMS), "duration"}}, text: clock(s.DurationMS)})
	}
	if r.Lead != nil {
		l := lead(chartBar{"duration_ms", "b-lead", float64(r.Lead.DurationMS), "duration"})
		l[0].text = clock(r.Lead.DurationMS)
		rows = append(rows, l...)
	}
	y = h.chartPanel(&b, "duration", "Duration (m:ss); the dashed line is the wall clock", rows, y, float64(r.WallClockMS))
	// Findings by severity.
	rows = nil
	for i, s := range r.Reviewers {
		c := s.Counts
		rows = append(rows, chartRowData{name: h.display(s.Name), reviewer: i, bars: []chartBar{
			{"counts.critical", "b-critical", float64(c.Critical), "critical"},
			{"counts.important", "b-important", float64(c.Important), "important"},
			{"counts.suggestion", "b-suggestion", float64(c.Suggestion), "suggestion"},
		}, text: fmt.Sprintf("%d / %d / %d", c.Critical, c.Important, c.Suggestion)})
	}
	y = h.chartPanel(&b, "findings", "Findings (critical / important / suggestion)", rows, y, -1)
	// Tokens.
	tokenBars := func(t review.Tokens) []chartBar {
		return []chartBar{
			{"tokens.input", "b-input", float64(t.Input), "input tokens"},
			{"tokens.cached_input", "b-cached", float64(t.CachedInput), "cached input tokens"},
			{"tokens.output", "b-output", float64(t.Output), "output tokens"},
		}
	}
	rows = nil
	for i, s := range r.Reviewers {
		rows = append(rows, chartRowData{name: h.display(s.Name), reviewer: i, bars: tokenBars(s.Tokens), text: tokens(s.Tokens)})
	}
	if r.Lead != nil {
		l := lead(tokenBars(r.Lead.Tokens)...)
		l[0].text = tokens(r.Lead.Tokens)
		rows = append(rows, l...)
	}
	y = h.chartPanel(&b, "tokens", "Tokens (input / cached / output)", rows, y, -1)
	// Cost.
	rows = nil
	for i, s := range r.Reviewers {
		rows = append(rows, chartRowData{name: h.display(s.Name), reviewer: i,
			bars: []chartBar{{"cost_usd", "b-cost", s.CostUSD, "cost"}}, text: dollars(s.CostUSD)})
	}
	if r.Lead != nil {
		l := lead(chartBar{"cost_usd", "b-cost", r.Lead.CostUSD, "cost"})
		l[0].text = dollars(r.Lead.CostUSD)
		rows = append(rows, l...)
	}
	y = h.chartPanel(&b, "cost", "Cost (USD)", rows, y, -1)
	h.p("<svg class=\"chart\" id=\"retro-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %s %s\" width=\"%s\" height=\"%s\" role=\"img\" aria-labelledby=\"retro-chart-title\">\n",
		num(chartWidth), num(y), num(chartWidth), num(y))
	h.w("<title id=\"retro-chart-title\">Agent performance: duration, findings, tokens and cost per reviewer; the same figures as the table below</title>\n")
	h.w(b.String())
	h.w("</svg>\n")
}

// chartPanel draws one panel from y and returns where the next starts.
// wall >= 0 marks the wall clock on the panel's scale.
func (h *hw) chartPanel(b *strings.Builder, id, title string, rows []chartRowData, y, wall float64) float64 {
	most := max(wall, 0)
	for _, r := range rows {
		sum := 0.0
		for _, x := range r.bars {
			sum += x.value
		}
		most = max(most, sum)
	}
	scale := 0.0
	if most > 0 {
		scale = (chartWidth - chartLabel - chartValue) / most
	}
	fmt.Fprintf(b, "<g class=\"panel\" data-panel=\"%s\" data-scale=\"%s\">\n", id, strconv.FormatFloat(scale, 'g', -1, 64))
	fmt.Fprintf(b, "<text class=\"h\" x=\"0\" y=\"%s\">%s</text>\n", num(y+16), esc(title))
	top := y + chartHeader
	y = top
	for _, r := range rows {
		who := fmt.Sprintf("data-reviewer=\"%d\"", r.reviewer)
		if r.reviewer < 0 {
			who = "data-lead=\"\""
		}
		fmt.Fprintf(b, "<text x=\"0\" y=\"%s\">%s</text>\n", num(y+13), h.plainInline(r.name))
		x := chartLabel
		for _, bar := range r.bars {
			w := bar.value * scale
			fmt.Fprintf(b, "<rect class=\"bar %s\" %s data-metric=\"%s\" data-value=\"%s\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"><title>%s: %s %s</title></rect>\n",
				bar.class, who, bar.metric, strconv.FormatFloat(bar.value, 'g', -1, 64), num(x), num(y), num(w), num(chartRow),
				h.plainInline(r.name), esc(strconv.FormatFloat(bar.value, 'g', -1, 64)), esc(bar.label))
			x += w
		}
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\">%s</text>\n", num(x+6), num(y+13), esc(r.text))
		y += chartRow + chartGap
	}
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n", num(chartLabel), num(top-3), num(chartLabel), num(y-chartGap+3))
	if wall >= 0 {
		wx := chartLabel + wall*scale
		fmt.Fprintf(b, "<line class=\"wall\" data-metric=\"wall_clock_ms\" data-value=\"%s\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/>\n",
			strconv.FormatFloat(wall, 'g', -1, 64), num(wx), num(top-3), num(wx), num(y-chartGap+3))
		fmt.Fprintf(b, "<text class=\"wall\" x=\"%s\" y=\"%s\" text-anchor=\"end\">wall clock %s</text>\n", num(wx), num(top-6), esc(clock(int64(wall))))
	}
	b.WriteString("</g>\n")
	return y + chartPanel
}

// num formats an SVG coordinate: at most three decimals, no trailing zeros.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*1000+0.5))/1000, 'f', -1, 64)
}
