package render

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/deepreview/deep-review/review"
)

func TestSanitize(t *testing.T) {
	t.Parallel()
	o := Options{Secrets: []string{"s3cr3t-value", "abc"}, RepoURL: "https://github.com/acme/widgets"}
	tests := []struct {
		name, in, want string
	}{
		{"a mention is wrapped so nobody is notified", "thanks @octocat!", "thanks `@octocat`!"},
		{"a mention at the start of a line", "@octocat look", "`@octocat` look"},
		{"a team mention", "cc @acme/core", "cc `@acme/core`"},
		{"an email address stays intact", "mail jane@example.com", "mail jane@example.com"},
		{"a mention in a code span is left as is", "run `git log --author=@me`", "run `git log --author=@me`"},
		{"an image is dropped", "see ![x](https://evil.example/p.png) here", "see  here"},
		{"a reference image is dropped", "see ![x][img] here", "see  here"},
		{"raw HTML tags are dropped, text kept", "a <b>bold</b> <img src=x onerror=alert(1)> b", "a bold  b"},
		{"a script element is dropped with its content", "a<script>alert(1)</script>b", "ab"},
		{"an unclosed tag is escaped", "a <img src=x onerror=alert(1)", "a &lt;img src=x onerror=alert(1)"},
		{"an HTML comment is stripped", "a<!-- hidden -->b", "ab"},
		{"an unclosed HTML comment is stripped to the end", "a<!-- hidden", "a"},
		{"a fake marker is stripped", "x " + review.MarkerPrefix + "eyJyb3VuZCI6OTl9 --> y", "x  y"},
		{"a fake marker in code is defused", "`" + review.MarkerPrefix + "e30= -->`", "`<!-- " + markerRemoved + " e30= -->`"},
		{"a marker in other case is defused", "DEEP-REVIEW:STATE", markerRemoved},
		{"a ghp_ token", "tok ghp_abcdefghijklmnopqrstuvwxyz0123456789 end", "tok " + proseRedacted + " end"},
		{"a gho_ token", "gho_abcdefghijklmnopqrstuvwxyz0123", proseRedacted},
		{"a ghs_ token", "ghs_abcdefghijklmnopqrstuvwxyz0123", proseRedacted},
		{"a ghu_ token", "ghu_abcdefghijklmnopqrstuvwxyz0123", proseRedacted},
		{"a ghr_ token", "ghr_abcdefghijklmnopqrstuvwxyz0123", proseRedacted},
		{"a github_pat_ token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", proseRedacted},
		{"an OpenAI key", "key=sk-proj-abcdefghijklmnopqrstuvwx", "key=" + proseRedacted},
		{"an Anthropic key", "sk-ant-api03-abcdefghijklmnop", proseRedacted},
		{"a Google key", "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", proseRedacted},
		{"a token in a code span is still scrubbed", "`ghp_abcdefghijklmnopqrstuvwxyz0123456789`", "`[redacted]`"},
		{"a configured secret", "the key is s3cr3t-value.", "the key is " + proseRedacted + "."},
		{"a redacted secret cannot become a link", "s3cr3t-value(https://github.com/acme/widgets)", proseRedacted + "(https://github.com/acme/widgets)"},
		{"a configured secret shorter than four bytes is ignored", "abc", "abc"},
		{"words that merely contain sk- stay", "a task-list and a risk-free desk-top", "a task-list and a risk-free desk-top"},
		{"a link into the repository is kept", "[code](https://github.com/acme/widgets/blob/main/a.go#L3)", "[code](https://github.com/acme/widgets/blob/main/a.go#L3)"},
		{"a link elsewhere becomes text", "[docs](https://evil.example/x)", "docs (`https://evil.example/x`)"},
		{"a link to a look-alike repository becomes text", "[x](https://github.com/acme/widgets-evil)", "x (`https://github.com/acme/widgets-evil`)"},
		{"a link climbing out of the repository becomes text", "[x](https://github.com/acme/widgets/../../other/x)", "x (`https://github.com/acme/widgets/../../other/x`)"},
		{"a link climbing out with encoded dots becomes text", "[x](https://github.com/acme/widgets/%2e%2e/%2E%2e/other/x)", "x (`https://github.com/acme/widgets/%2e%2e/%2E%2e/other/x`)"},
		{"a bare URL climbing out of the repository is de-linked", "see https://github.com/acme/widgets/blob/../../../other/x now", "see `https://github.com/acme/widgets/blob/../../../other/x` now"},
		{"an autolink climbing out of the repository is de-linked", "<https://github.com/acme/widgets/..>", "`https://github.com/acme/widgets/..`"},
		{"a link whose dots stay inside the repository is kept", "[x](https://github.com/acme/widgets/blob/main/../dev/a.go)", "[x](https://github.com/acme/widgets/blob/main/../dev/a.go)"},
		{"a bare URL elsewhere is de-linked", "see https://evil.example/a.", "see `https://evil.example/a`."},
		{"a bare URL into the repository stays", "see https://github.com/acme/widgets/pull/1.", "see https://github.com/acme/widgets/pull/1."},
		{"an autolink elsewhere is de-linked", "<https://evil.example>", "`https://evil.example`"},
		{"a www link is de-linked", "go to www.evil.example now", "go to `www.evil.example` now"},
		{"a mention in link text is neutralised", "[@octocat](https://evil.example)", "`@octocat` (`https://evil.example`)"},
		{"a fenced block keeps its text", "```html\n<b>@x</b>\n```", "```html\n<b>@x</b>\n```"},
		{"an unclosed fence is closed", "```go\nx := 1", "```go\nx := 1\n```"},
		{"a shorter inner fence does not close a longer one", "````\n```\n<b>\n````", "````\n```\n<b>\n````"},
		{"tilde fences count too", "~~~\n<i>\n~~~\n<i>x</i>", "~~~\n<i>\n~~~\nx"},
		{"details cannot be opened", "<details><summary>x</summary>", "x"},
		{"an entity cannot spell a mention", "&#64;octocat", "`@octocat`"},
		{"an escaped @ still becomes a code span", `\@octocat`, "\\\\`@octocat`"},
		{"an even run of backslashes is kept", `\\@octocat`, "\\\\`@octocat`"},
		{"a stray backtick cannot pair with ours", "` @octocat", "\\` `@octocat`"},
		{"an entity backtick cannot pair with ours", "&#96; @octocat `x`", "\\` `@octocat` `x`"},
		{"an escaped backtick does not open a span", "\\`@octocat\\`", "\\``@octocat`\\`"},
		{"a backslash cannot escape a de-linked URL's backtick", `\https://evil.example`, "\\\\`https://evil.example`"},
		{"an entity-encoded script is dropped", "a&lt;script&gt;alert(1)&lt;/script&gt;b", "ab"},
		{"a heading becomes bold text", "## Heading ##\ntext", "**Heading**\ntext"},
		{"a setext underline is escaped", "Title\n===\nSub\n---", "Title\n\\===\nSub\n\\---"},
		{"a cross-repository reference is neutralised", "see acme/other#12", "see `acme/other#12`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sanitize(tt.in, o); got != tt.want {
				t.Errorf("Sanitize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeWithoutRepoDelinksEverything(t *testing.T) {
	got := Sanitize("[x](https://github.com/acme/widgets)", Options{})
	if got != "x (`https://github.com/acme/widgets`)" {
		t.Errorf("got %q", got)
	}
}

func TestFenceIsLongerThanAnyRun(t *testing.T) {
	for _, in := range []string{"", "a", "```", "x ````` y", "``"} {
		f := fence(in)
		if len(f) < 3 || strings.Contains(in, f) {
			t.Errorf("fence(%q) = %q", in, f)
		}
	}
	if got := codeSpan("a`b"); got != "``a`b``" {
		t.Errorf("codeSpan = %q", got)
	}
	if got := codeSpan("`x`"); got != "`` `x` ``" {
		t.Errorf("codeSpan = %q", got)
	}
}

// TestRenderedFormatsHoldNoSecretOrSpoof renders the fixture with hostile
// text in every field and checks no secret or spoofed marker survives.
func TestRenderedFormatsHoldNoSecretOrSpoof(t *testing.T) {
	r := fixture()
	// Code is shown verbatim in fences, where mentions and HTML are inert,
	// but secrets and markers are scrubbed there too.
	secret := " " + fixtureSecret + " ghp_abcdefghijklmnopqrstuvwxyz0123456789 " + review.MarkerPrefix + "e30= -->"
	hostile := secret + " @victim <script>x</script>"
	r.PR.Title += hostile
	r.Findings[0].Title += hostile
	r.Findings[0].Excerpt += secret
	r.Findings[0].Patch += "+" + secret + "\n"
	r.Findings[1].Explanation += hostile
	r.Concerns[0].Text += hostile
	r.Limitations[0].Quote += hostile
	r.UnresolvedFeedback[0].Summary += hostile
	r.Reviewers[0].Retro += hostile
	r.Retro += hostile
	o := fixtureOptions()
	outputs := map[string]string{
		"report.md":  string(Markdown(r, o)),
		"comment.md": string(Comment(r, o)),
	}
	for name, out := range outputs {
		for _, bad := range []string{fixtureSecret, "ghp_abcdef", "<script>", " @victim"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s holds %q", name, bad)
			}
		}
		want := 0
		if name == "comment.md" {
			want = 1
		}
		if n := strings.Count(out, review.MarkerPrefix); n != want {
			t.Errorf("%s has %d markers, want %d", name, n, want)
		}
	}
}

// hostileFragments are pieces of Markdown that try to notify, load, link
// or spoof; TestSanitizeProperties glues them together at random.
var hostileFragments = []string{
	"@octocat", "\\@octocat", "\\\\@octocat", "&#64;octocat", "&commat;octocat", "`", "``", "\\`", "&#96;", " ", "\n", "\n\n",
	"[x](https://evil.example)", "[@octocat](https://github.com/acme/widgets)", "![i](https://evil.example/i.png)", "<img src=x>",
	"https://evil.example/a", "<https://evil.example>", "www.evil.example", "<script>alert(1)</script>", "<!--", "-->",
	"&lt;b&gt;", "<b>", "```", "~~~", "# h", "jane@example.com", "acme/other#1", "(", ")", "[", "]", "\\", "*",
	review.MarkerPrefix, "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a", "code `x` span",
}

// TestSanitizeProperties parses Sanitize's output of random hostile input
// with goldmark and checks what GitHub would render: no image, no raw HTML,
// no link out of the repository, no mention and no bare URL outside code
// (GitHub's autolinker and mention filter run on the text outside code;
// goldmark's own linkify runs before code spans, unlike GitHub's, so the
// text is checked instead), no marker and no token.
func TestSanitizeProperties(t *testing.T) {
	o := Options{RepoURL: "https://github.com/acme/widgets"}
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))
	// Where GitHub's autolinker starts a link (cmark-gfm's autolink.c).
	bare := regexp.MustCompile(`(?i)(?:(?:^|[^A-Za-z])(?:https?|ftp)://|(?:^|[\s*_~(])www\.)[^\s<]*`)
	rng := rand.New(rand.NewPCG(sanitizeSeed, 2))
	mention := regexp.MustCompile(`(^|[^A-Za-z0-9_])@[A-Za-z0-9]`)
	for n := 0; n < sanitizeRuns; n++ {
		var in strings.Builder
		for k := rng.IntN(12) + 1; k > 0; k-- {
			in.WriteString(hostileFragments[rng.IntN(len(hostileFragments))])
		}
		out := Sanitize(in.String(), o)
		if strings.Contains(out, "deep-review:state") || strings.Contains(out, "ghp_") {
			t.Fatalf("Sanitize(%q) = %q keeps a marker or token", in.String(), out)
		}
		src := []byte(out)
		doc := md.Parser().Parse(text.NewReader(src))
		// Text outside code, per block, as GitHub's mention filter sees it.
		var plain strings.Builder
		err := ast.Walk(doc, func(node ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				switch node.(type) {
				case *ast.Emphasis, *ast.Link, *ast.AutoLink:
					plain.WriteString(" ")
				}
				return ast.WalkContinue, nil
			}
			switch x := node.(type) {
			case *ast.Image:
				return ast.WalkStop, fmt.Errorf("an image")
			case *ast.RawHTML, *ast.HTMLBlock:
				return ast.WalkStop, fmt.Errorf("raw HTML")
			case *ast.Link:
				if !strings.HasPrefix(string(x.Destination), "https://github.com/acme/widgets") {
					return ast.WalkStop, fmt.Errorf("a link to %s", x.Destination)
				}
				plain.WriteString(" ")
			case *ast.AutoLink:
				if u := string(x.URL(src)); x.AutoLinkType != ast.AutoLinkEmail && !strings.HasPrefix(u, "https://github.com/acme/widgets") {
					return ast.WalkStop, fmt.Errorf("an autolink to %s", u)
				}
				plain.WriteString(" ")
			case *ast.CodeSpan, *ast.FencedCodeBlock, *ast.CodeBlock:
				plain.WriteString(" ")
				return ast.WalkSkipChildren, nil
			case *ast.Emphasis:
				// An element boundary ends the text node before it.
				plain.WriteString(" ")
			case *ast.Text:
				plain.Write(x.Segment.Value(src))
				if x.SoftLineBreak() || x.HardLineBreak() {
					plain.WriteString(" ")
				}
			case *ast.String:
				plain.Write(x.Value)
			}
			if node.Type() == ast.TypeBlock {
				plain.WriteString("\n")
			}
			return ast.WalkContinue, nil
		})
		if err != nil {
			t.Fatalf("Sanitize(%q) = %q renders %v", in.String(), out, err)
		}
		for _, line := range strings.Split(plain.String(), "\n") {
			if mention.MatchString(emailRE.ReplaceAllString(line, "")) {
				t.Fatalf("Sanitize(%q) = %q leaves a mention in %q", in.String(), out, line)
			}
			for _, u := range bare.FindAllString(line, -1) {
				if !strings.Contains(u, "https://github.com/acme/widgets") {
					t.Fatalf("Sanitize(%q) = %q leaves a bare URL %q in %q", in.String(), out, u, line)
				}
			}
		}
	}
}

// emailRE is an email address as an autolinker sees one.
var emailRE = regexp.MustCompile(`[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)

// The property test's size and seed; raise them locally to hunt.
var (
	sanitizeRuns        = 3000
	sanitizeSeed uint64 = 1
)
