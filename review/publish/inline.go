package publish

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review"
)

// The inline-comments values: the lowest severity posted inline, or none.
const (
	InlineNone       = "none"
	InlineCritical   = "critical"
	InlineImportant  = "important"
	InlineSuggestion = "suggestion"
)

// DefaultInline is the inline-comments input's default; DefaultMaxInline
// the max-inline-comments input's.
const (
	DefaultInline    = InlineImportant
	DefaultMaxInline = 20
)

// ReasonOverLimit is the InlineLink reason of a finding left out because
// the round already posted Options.MaxInline new comments.
const ReasonOverLimit = "not posted inline: over the max-inline-comments limit"

// ReasonRefused is the InlineLink reason of a finding whose comment GitHub
// refused with the whole review.
const ReasonRefused = "not posted inline: GitHub refused the review's comments"

// inlineMinRank is the lowest severity rank posted inline for an
// inline-comments value; ok is false for "", none and unknown values.
func inlineMinRank(v string) (rank int, ok bool, err error) {
	switch v {
	case "", InlineNone:
		return 0, false, nil
	case InlineCritical, InlineImportant, InlineSuggestion:
		return review.Severity(v).Rank(), true, nil
	}
	return 0, false, fmt.Errorf("inline-comments %q is not one of critical, important, suggestion, none: fix the inline-comments input", v)
}

// draft is one new inline comment of the round.
type draft struct {
	f     review.Finding
	lines LineRange
	body  string
	// moved is the outdated thread this comment replaces, if any.
	moved *botThread
}

// inlineRun is the inline part of one Publish call: the plan made before
// the sticky comment is written, and what posting it did.
type inlineRun struct {
	active  bool
	drafts  []draft
	resolve []botThread // addressed findings' open threads
	// kept counts the findings whose open thread stays their thread;
	// openBefore our open threads before the round, resolved those this
	// round resolved.
	kept, openBefore, resolved int
	// links is what the sticky comment shows per fingerprint.
	links map[string]review.InlineLink
	// rendered is links as the sticky comment was last rendered with.
	rendered map[string]review.InlineLink
}

// warn records a problem that does not fail the step: a ::warning and a
// note.
func (r *run) warn(msg string) {
	r.p.Action.Warningf("%s", msg)
	r.notes = append(r.notes, "- Warning: "+mdLine(msg))
}

// planInline reads deep-review's review threads and decides, without
// writing anything, which findings get a new inline comment, which
// threads stay, and which get resolved. It fills r.inline; when inline
// comments are off or cannot be planned, r.inline.active stays false and
// the reason is in the notes.
func (r *run) planInline(ctx context.Context) {
	in, rep := r.in, r.in.Report
	minRank, on, err := inlineMinRank(in.Options.Inline)
	switch {
	case err != nil:
		r.problem(err.Error())
		return
	case !on:
		r.skip("inline comments: the inline-comments input is none")
		return
	case in.Number <= 0:
		r.skip("inline comments: there is no pull request")
		return
	case r.p.GitHub == nil:
		r.skip("inline comments: no GitHub token (set the github-token input)")
		return
	case in.RenderInline == nil:
		r.skip("inline comments: no renderer for them (Input.RenderInline is nil)")
		return
	case in.Owner == "" || in.Repo == "" || rep.PR.HeadSHA == "":
		r.warn(fmt.Sprintf("inline comments on #%d: the repository or the head commit is unknown, so none were posted", in.Number))
		return
	}
	hunks := ParseHunks(rep.PR.Diff)
	threads, err := r.botThreads(ctx)
	if err != nil {
		r.warn(fmt.Sprintf("inline comments: %v; none were posted, so none is posted twice (every finding is in the sticky comment)", err))
		return
	}
	limit := in.Options.MaxInline
	if limit <= 0 {
		limit = DefaultMaxInline
	}
	ir := &r.inline
	ir.active = true
	ir.links = map[string]review.InlineLink{}

	byFP := map[string][]botThread{}
	for _, t := range threads {
		byFP[t.Fingerprint] = append(byFP[t.Fingerprint], t)
		if !t.Resolved {
			ir.openBefore++
		}
	}
	findings := append([]review.Finding(nil), rep.Findings...)
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Severity.Rank() < findings[j].Severity.Rank() })
	seen := map[string]bool{}
	for _, f := range findings {
		fp := f.Fingerprint
		if fp == "" || seen[fp] {
			continue
		}
		seen[fp] = true
		open, outdated, any := pickThread(byFP[fp])
		switch {
		case open != nil:
			ir.kept++
			ir.links[fp] = review.InlineLink{URL: open.URL}
			continue
		case f.Status == review.FindingDeclined:
			// Its thread, if any, is left alone.
			if any != nil {
				ir.links[fp] = review.InlineLink{URL: any.URL}
			}
			continue
		case outdated == nil && any != nil:
			// Resolved, by us or by a person: not raised again.
			ir.links[fp] = review.InlineLink{URL: any.URL}
			continue
		}
		eligible := f.Severity.Rank() <= minRank &&
			(f.Citation == review.CitationVerified || f.Citation == review.CitationCorrected)
		if !eligible {
			if outdated != nil {
				ir.kept++
				ir.links[fp] = review.InlineLink{URL: outdated.URL}
			}
			continue
		}
		d, reason := r.draft(f, hunks)
		switch {
		case reason == "" && len(ir.drafts) >= limit:
			reason = ReasonOverLimit
		case reason == "" && utf8.RuneCountInString(d.body) >= MaxCommentChars:
			reason = "not posted inline: the comment is too long"
		}
		if reason != "" {
			if outdated != nil {
				// The old thread stays the finding's one thread.
				ir.kept++
				ir.links[fp] = review.InlineLink{URL: outdated.URL}
			} else {
				ir.links[fp] = review.InlineLink{Reason: reason}
			}
			continue
		}
		d.moved = outdated
		ir.drafts = append(ir.drafts, d)
	}
	for _, f := range rep.Addressed {
		for _, t := range byFP[f.Fingerprint] {
			if !t.Resolved {
				ir.resolve = append(ir.resolve, t)
			}
		}
	}
	r.logf("inline comments: %d of our threads read; %d new, %d kept, %d to resolve", len(threads), len(ir.drafts), ir.kept, len(ir.resolve))
}

// pickThread chooses among a finding's threads: the open one that is not
// outdated, else the open outdated one, and any thread at all (the first).
func pickThread(ts []botThread) (open, outdated, any *botThread) {
	for i := range ts {
		t := &ts[i]
		if any == nil {
			any = t
		}
		switch {
		case !t.Resolved && !t.Outdated && open == nil:
			open = t
		case !t.Resolved && t.Outdated && outdated == nil:
			outdated = t
		}
	}
	return open, outdated, any
}

// draft anchors f and renders its comment, or says why it cannot go
// inline.
func (r *run) draft(f review.Finding, hunks Hunks) (draft, string) {
	if s, ok := SuggestionFor(f, hunks); ok {
		body := r.in.RenderInline(f, s.Replacement, true)
		return draft{f: f, lines: s.Lines, body: withMarker(body, f.Fingerprint)}, ""
	}
	lines, ok := hunks.Anchor(f.File, f.StartLine, f.EndLine)
	if !ok {
		return draft{}, review.NotOnChangedLine
	}
	body := r.in.RenderInline(f, nil, false)
	return draft{f: f, lines: lines, body: withMarker(body, f.Fingerprint)}, ""
}

// withMarker makes sure the body carries the finding's marker, which later
// rounds need to recognise the thread.
func withMarker(body, fp string) string {
	if got, ok := review.FindingFromMarker(body); ok && got == fp {
		return body
	}
	return strings.TrimRight(body, "\n") + "\n\n" + review.FindingMarker(fp) + "\n"
}

// inlineLinks is the map the sticky comment renders with: nil when inline
// comments are off, so the comment is as before.
func (r *run) inlineLinks() map[string]review.InlineLink {
	if !r.inline.active {
		return nil
	}
	l := maps.Clone(r.inline.links)
	r.inline.rendered = l
	return l
}

// publishInline posts the round's new inline comments as one review, replies
// in and resolves the threads of addressed and moved findings, and renders
// the sticky comment again when its links changed. Nothing here fails the
// step: every finding is in the sticky comment whatever happens.
func (r *run) publishInline(ctx context.Context) {
	ir := &r.inline
	if !ir.active {
		return
	}
	rep := r.in.Report
	posted := 0
	if len(ir.drafts) > 0 {
		posted = r.postReview(ctx)
	}
	for _, t := range ir.resolve {
		msg := fmt.Sprintf("Addressed in `%s`, round %d.", shortSHA(rep.PR.HeadSHA), rep.Round)
		if err := r.replyAndResolve(ctx, t, msg); err != nil {
			r.warn(fmt.Sprintf("inline comments: %v", err))
			continue
		}
		ir.resolved++
		r.logf("resolved review thread %s (addressed)", t.ID)
	}
	r.res.InlineThreads = ir.openBefore - ir.resolved + posted
	r.inlineCounted = true
	r.refreshComment(ctx)
}

// postReview posts the drafts as one COMMENT review on the reviewed head
// and returns how many comments it holds. On a 422 it posts the review
// again without comments and warns. Moved findings' old threads get a reply
// pointing at the new comment and are resolved.
func (r *run) postReview(ctx context.Context) int {
	ir, rep := &r.inline, r.in.Report
	comments := make([]*github.DraftReviewComment, 0, len(ir.drafts))
	for _, d := range ir.drafts {
		c := &github.DraftReviewComment{
			Path: github.String(d.f.File),
			Body: github.String(d.body),
			Side: github.String("RIGHT"),
			Line: github.Int(d.lines.End),
		}
		if d.lines.Start < d.lines.End {
			c.StartLine = github.Int(d.lines.Start)
			c.StartSide = github.String("RIGHT")
		}
		comments = append(comments, c)
	}
	review := r.createReview(ctx, r.reviewBody(len(comments)), comments)
	if review == nil {
		return 0
	}
	if review.refused != "" {
		for _, d := range ir.drafts {
			ir.links[d.f.Fingerprint] = reviewLinkRefused
			if d.moved != nil {
				// The old thread stays the finding's thread.
				ir.links[d.f.Fingerprint] = linkOf(*d.moved)
			}
		}
		return 0
	}
	urls, err := r.reviewCommentURLs(ctx, review.id)
	if err != nil {
		r.warn(fmt.Sprintf("inline comments: the review was posted, but its comments could not be read back (%v), so the sticky comment does not link them", err))
	}
	for _, d := range ir.drafts {
		u := urls[d.f.Fingerprint]
		ir.links[d.f.Fingerprint] = linkURL(u)
		if d.moved == nil {
			continue
		}
		where := "its new lines"
		if u != "" {
			where = u
		}
		msg := fmt.Sprintf("The code moved in `%s`; this finding is now at %s (round %d).", shortSHA(rep.PR.HeadSHA), where, rep.Round)
		if err := r.replyAndResolve(ctx, *d.moved, msg); err != nil {
			r.warn(fmt.Sprintf("inline comments: %v", err))
			continue
		}
		ir.resolved++
		r.logf("resolved review thread %s (moved)", d.moved.ID)
	}
	r.res.ReviewURL = review.url
	r.done(fmt.Sprintf("Inline comments: %d in %s", len(comments), review.url))
	return len(comments)
}

var reviewLinkRefused = review.InlineLink{Reason: ReasonRefused}

func linkOf(t botThread) review.InlineLink { return review.InlineLink{URL: t.URL} }

func linkURL(u string) review.InlineLink {
	if u == "" {
		return review.InlineLink{}
	}
	return review.InlineLink{URL: u}
}

// postedReview is a review GitHub accepted; refused holds GitHub's message
// when it was posted again without its comments.
type postedReview struct {
	id      int64
	url     string
	refused string
}

// createReview posts the review; after a 422 it posts it again without
// comments. It returns nil when no review could be posted (warned).
func (r *run) createReview(ctx context.Context, body string, comments []*github.DraftReviewComment) *postedReview {
	in, rep := r.in, r.in.Report
	req := &github.PullRequestReviewRequest{
		CommitID: github.String(rep.PR.HeadSHA),
		Body:     github.String(body),
		Event:    github.String("COMMENT"),
		Comments: comments,
	}
	var out *github.PullRequestReview
	post := func(ctx context.Context) error {
		var err error
		out, _, err = r.p.GitHub.PullRequests.CreateReview(ctx, in.Owner, in.Repo, in.Number, req)
		return err
	}
	err := r.github(ctx, "create review", true, post)
	if err == nil {
		r.logf("posted review %d with %d inline comments", out.GetID(), len(comments))
		return &postedReview{id: out.GetID(), url: out.GetHTMLURL()}
	}
	msg, unprocessable := unprocessableMessage(err)
	if !unprocessable {
		r.warn(fmt.Sprintf("inline comments: %v; every finding is in the sticky comment", err))
		return nil
	}
	r.warn(fmt.Sprintf("GitHub refused the review's %d inline comments (422: %s); posted the review without them, and every finding is in the sticky comment", len(comments), msg))
	req.Comments = nil
	req.Body = github.String(r.refusedBody())
	if err := r.github(ctx, "create review without comments", true, post); err != nil {
		r.warn(fmt.Sprintf("inline comments: %v", err))
		return &postedReview{refused: msg}
	}
	r.res.ReviewURL = out.GetHTMLURL()
	r.done("Review without inline comments (GitHub refused them): " + out.GetHTMLURL())
	return &postedReview{id: out.GetID(), url: out.GetHTMLURL(), refused: msg}
}

// unprocessableMessage is GitHub's reason for a 422, its errors joined.
func unprocessableMessage(err error) (string, bool) {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return "", false
	}
	parts := []string{er.Message}
	for _, e := range er.Errors {
		if e.Message != "" {
			parts = append(parts, e.Message)
		}
	}
	return mdLine(strings.Join(parts, ": ")), true
}

// stickyLink is the Markdown link to the sticky comment, or the run.
func (r *run) stickyLink() string {
	switch {
	case r.res.CommentURL != "":
		return "[the deep-review comment](" + r.res.CommentURL + ")"
	case r.in.RunURL != "":
		return "[the workflow run](" + r.in.RunURL + ")"
	}
	return "the deep-review comment on this pull request"
}

func (r *run) reviewBody(n int) string {
	return fmt.Sprintf("deep-review, round %d: %d inline comment(s) on the changed lines.\nThe verdict and every finding are in %s.",
		r.in.Report.Round, n, r.stickyLink())
}

func (r *run) refusedBody() string {
	return fmt.Sprintf("deep-review, round %d: GitHub refused this round's inline comments.\nThe verdict and every finding are in %s.",
		r.in.Report.Round, r.stickyLink())
}

// reviewCommentURLs maps fingerprints to the html_url of the review's
// comments.
func (r *run) reviewCommentURLs(ctx context.Context, id int64) (map[string]string, error) {
	urls := map[string]string{}
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; page < 10; page++ {
		var cs []*github.PullRequestComment
		var resp *github.Response
		err := r.github(ctx, fmt.Sprintf("list comments of review %d", id), false, func(ctx context.Context) error {
			var err error
			cs, resp, err = r.p.GitHub.PullRequests.ListReviewComments(ctx, r.in.Owner, r.in.Repo, r.in.Number, id, opts)
			return err
		})
		if err != nil {
			return urls, err
		}
		for _, c := range cs {
			if fp, ok := review.FindingFromMarker(c.GetBody()); ok {
				urls[fp] = c.GetHTMLURL()
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return urls, nil
}

// refreshComment renders the sticky comment again and edits it when its
// inline links changed since it was written.
func (r *run) refreshComment(ctx context.Context) {
	render := r.in.RenderComment
	if r.sticky == nil || render == nil || maps.Equal(r.inline.rendered, r.inline.links) {
		return
	}
	links := review.Links{Run: r.in.RunURL, Artifact: r.res.ArtifactURL, Inline: r.inlineLinks()}
	body := string(render(links, 0))
	_, err := r.writeComment(ctx, r.sticky, body)
	if err != nil && tooLong(err) {
		body = string(render(links, shorterBudget(utf8.RuneCountInString(body))))
		_, err = r.writeComment(ctx, r.sticky, body)
	}
	if err != nil {
		r.warn(fmt.Sprintf("sticky comment: linking the inline comments failed: %v", err))
	}
}

// shortSHA is the first seven characters of a commit SHA.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// inlineOutput is the inline-comments output: the open threads after this
// round, empty when inline comments were off or could not be read.
func (r *run) inlineOutput() string {
	if !r.inlineCounted {
		return ""
	}
	return strconv.Itoa(r.res.InlineThreads)
}
