package publish

import (
	"slices"
	"testing"

	"github.com/deepreview/deep-review/review"
)

// TestPublishSetsExactlyTheReviewOutputs keeps ReviewOutputs, which
// action.yml is tested against, true to what Publish really sets.
func TestPublishSetsExactlyTheReviewOutputs(t *testing.T) {
	r := newRunner(t)
	in := r.input(report(1, []review.Severity{review.Important}))
	in.Options = Options{Summary: true}
	publish(t, r.publisher(nil, nil), in)
	var got []string
	for name := range r.outputs() {
		got = append(got, name)
	}
	want := slices.Clone(ReviewOutputs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("outputs set = %v, want ReviewOutputs %v", got, want)
	}
}
