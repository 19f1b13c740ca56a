package lead

import (
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// What one verification and the synthesis typically take: a verification
// reads the finding's lines, blames them and answers in about three turns
// that resend a growing transcript; the synthesis is one long turn over the
// settled report. Deliberately on the high side, so a cost cap is kept.
var (
	verifyTokens     = review.Tokens{Input: 24_000, Output: 1_500}
	synthesizeTokens = review.Tokens{Input: 20_000, Output: 2_500}
)

// EstimateUSD returns a function that estimates, from the price table, what
// the lead on model costs to verify n findings and write the synthesis. A
// model the table does not price is estimated at zero: the cap cannot be
// judged for it.
func EstimateUSD(model string, prices map[string]llm.Price) func(n int) float64 {
	return func(n int) float64 {
		one, _ := llm.Cost(model, verifyTokens, prices)
		synth, _ := llm.Cost(model, synthesizeTokens, prices)
		return float64(n)*one + synth
	}
}
