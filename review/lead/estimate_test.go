package lead

import (
	"testing"

	"github.com/deepreview/deep-review/review/llm"
)

func TestEstimateGrowsWithTheFindings(t *testing.T) {
	prices := map[string]llm.Price{"m": {Input: 1, Output: 10}}
	est := EstimateUSD("m", prices)
	synth := 0.02 + 0.025
	if got := est(0); got < synth-1e-9 || got > synth+1e-9 {
		t.Errorf("estimate for no findings = %v, want the synthesis alone, %v", got, synth)
	}
	if one, two := est(1), est(2); !(two > one && one > est(0)) {
		t.Errorf("estimates %v, %v, %v do not grow with the findings", est(0), one, two)
	}
	if got := EstimateUSD("unpriced", prices)(5); got != 0 {
		t.Errorf("an unpriced model is estimated at %v, want 0", got)
	}
}
