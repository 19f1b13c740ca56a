package lead

import (
	"context"
	"errors"

	"github.com/deepreview/deep-review/review"
)

// Synthesize is not written yet: it fails, so the rules decide.
func (l *Lead) Synthesize(ctx context.Context, r *review.Report) (*review.Synthesis, error) {
	return nil, errors.New("synthesis is not implemented yet")
}

// ToolSynthesis is the final tool of the synthesis.
const ToolSynthesis = "write_synthesis"
