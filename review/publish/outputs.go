package publish

// ReviewOutputs are the step outputs Publish sets for every review it
// publishes, in the order it sets them. action.yml declares exactly these
// and PlanOutput; the root's packaging tests hold it to this table.
var ReviewOutputs = []string{
	"verdict", "critical", "important", "suggestions", "round",
	"report-json", "report-markdown", "comment-url", "artifact-url",
	"review-url", "inline-comments", "tokens", "cost-usd",
}

// PlanOutput is the output a scheduled run sets: the pull requests that
// need a review, as a JSON array of numbers.
const PlanOutput = "pull-requests"
