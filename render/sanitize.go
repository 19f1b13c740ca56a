package render

import (
	"html"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Redacted replaces every secret value Sanitize finds.
const Redacted = "[redacted]"

// minSecretLen is the shortest configured secret Sanitize replaces; shorter
// values would redact ordinary words.
const minSecretLen = 4

// tokenRE matches the well-known shapes of API keys and GitHub tokens.
// The distinctive prefixes match anywhere, even glued to a word; sk- only
// at a word start, so "task-list-..." stays.
var tokenRE = regexp.MustCompile(`(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|AIza[0-9A-Za-z_-]{20,}|\bsk-ant-[A-Za-z0-9_-]{8,}|\bsk-[A-Za-z0-9_-]{16,})`)

// markerRE matches the names of our hidden markers (the state marker, the
// decline list's boundaries, the failed-attempt line), in any case, so no
// text we render can carry something the next round would read as ours.
var markerRE = regexp.MustCompile(`(?i)deep-review:(?:state|declines|failed)`)

// markerRemoved stands where a marker was; no bracket, so it cannot become
// part of a link.
const markerRemoved = "(marker removed)"

var (
	commentRE = regexp.MustCompile(`(?s)<!--.*?(?:-->|$)`)
	// elementRE drops elements whose content is never prose.
	elementRE = regexp.MustCompile(`(?is)<script\b.*?(?:</script\s*>|$)|<style\b.*?(?:</style\s*>|$)|<iframe\b.*?(?:</iframe\s*>|$)|<textarea\b.*?(?:</textarea\s*>|$)|<template\b.*?(?:</template\s*>|$)|<noscript\b.*?(?:</noscript\s*>|$)|<title\b.*?(?:</title\s*>|$)|<xmp\b.*?(?:</xmp\s*>|$)|<object\b.*?(?:</object\s*>|$)`)
	tagRE     = regexp.MustCompile(`(?s)</?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?/?>|<![A-Za-z\[][^>]*>|<\?.*?(?:\?>|$)`)
	// openTagRE finds what is left of a tag that was never closed.
	openTagRE = regexp.MustCompile(`<([A-Za-z/!?])`)
	// inlineRE finds, leftmost first: images, links, autolinks, bare URLs,
	// www. links and @mentions.
	inlineRE = regexp.MustCompile(
		`(?P<image>!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\])` +
			`|(?P<link>\[(?P<ltext>[^\]]*)\]\(\s*(?P<lurl>[^)\s]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\))` +
			`|(?P<auto><(?P<aurl>(?i:https?|ftp|mailto):[^>\s]+)>)` +
			`|(?P<bare>(?i:https?|ftp)://[^\s<>\x60\\\x{E000}\x{E001}]+)` +
			`|(?P<www>\bwww\.[A-Za-z0-9-]+\.[^\s<>\x60\\\x{E000}\x{E001}]+)` +
			`|(?P<xref>\b[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+#[0-9]+\b)` +
			`|(?P<mention>@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?)`)
	// mentionRE finds @login and @org/team. GitHub only notifies after a
	// non-word character, but what we insert can change the character
	// before, so every one is wrapped unless it is an email address.
	mentionRE = regexp.MustCompile(`@[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:/[A-Za-z0-9_.-]+)?`)
	entityRE  = regexp.MustCompile(`&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});`)
	// headingRE finds ATX headings in prose; they become bold lines so
	// model text cannot restructure the report.
	headingRE = regexp.MustCompile(`(?m)^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	fenceRE   = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")
	// setextRE finds the underline that makes the line above a heading.
	setextRE = regexp.MustCompile(`(?m)^( {0,3})(=+|-+)([ \t]*)$`)
)

// Placeholders stand for inline code spans while prose is rewritten; input
// text never carries them (they are removed first).
const (
	phOpen  = '\uE000'
	phClose = '\uE001'
)

// scrubber holds what Sanitize needs from Options, prepared once.
type scrubber struct {
	secrets []string
	repo    string
}

func newScrubber(o Options) *scrubber {
	s := &scrubber{repo: strings.TrimSuffix(strings.TrimSpace(o.RepoURL), "/")}
	seen := map[string]bool{}
	for _, v := range o.Secrets {
		v = strings.TrimSpace(v)
		if len(v) < minSecretLen || seen[v] {
			continue
		}
		seen[v] = true
		s.secrets = append(s.secrets, v)
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(s.secrets, func(i, j int) bool {
		if len(s.secrets[i]) != len(s.secrets[j]) {
			return len(s.secrets[i]) > len(s.secrets[j])
		}
		return s.secrets[i] < s.secrets[j]
	})
	return s
}

// Sanitize makes untrusted Markdown (model output, PR text) safe to publish:
// @mentions are wrapped in code spans so nobody is notified (email addresses
// stay as they are), images, raw HTML and HTML comments (our state marker
// among them) are dropped, links are kept only when they point into
// o.RepoURL and otherwise become text, and secret values (o.Secrets of at
// least four characters, and the well-known token shapes ghp_, gho_, ghs_,
// ghu_, ghr_, github_pat_, sk-, sk-ant-, AIza) become "[redacted]" (escaped
// as \[redacted\] outside code, so it renders as written). Code spans
// and fenced blocks keep their text, except that secrets and markers are
// scrubbed there too, and a fence left open is closed so it cannot swallow
// what follows. Sanitize is pure and safe for concurrent use.
func Sanitize(text string, o Options) string {
	return newScrubber(o).markdown(text)
}

// code scrubs text shown verbatim (code, paths, excerpts): secrets and
// markers only.
func (s *scrubber) code(t string) string { return s.scrub(t, Redacted) }

// proseRedacted is Redacted in prose, escaped so that "(" after it cannot
// make a link of it.
const proseRedacted = `\[redacted\]`

// scrub replaces secrets by placeholder and defuses markers.
func (s *scrubber) scrub(t, placeholder string) string {
	t = strings.NewReplacer(string(phOpen), "", string(phClose), "").Replace(t)
	for _, v := range s.secrets {
		t = strings.ReplaceAll(t, v, placeholder)
	}
	if mayHoldToken(t) {
		t = tokenRE.ReplaceAllString(t, placeholder)
	}
	if mayHoldMarker(t) {
		t = markerRE.ReplaceAllString(t, markerRemoved)
	}
	return t
}

// tokenPrefixes are the literal starts of the shapes tokenRE matches.
var tokenPrefixes = []string{"ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "sk-", "AIza"}

// mayHoldToken is a fast test that rules out most text before tokenRE runs.
func mayHoldToken(t string) bool {
	for _, p := range tokenPrefixes {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// mayHoldMarker is a fast test that rules out most text before markerRE
// runs: it looks for "deep-review:" followed by a marker's name, in any
// case, around each colon.
func mayHoldMarker(t string) bool {
	const before = "deep-review"
	for i := strings.IndexByte(t, ':'); i >= 0; {
		if i >= len(before) && strings.EqualFold(t[i-len(before):i], before) {
			for _, after := range []string{"state", "declines", "failed"} {
				if i+1+len(after) <= len(t) && strings.EqualFold(t[i+1:i+1+len(after)], after) {
					return true
				}
			}
		}
		j := strings.IndexByte(t[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// plain scrubs text that is shown as plain text (SARIF messages): secrets,
// markers and HTML comments.
func (s *scrubber) plain(t string) string {
	t = s.code(t)
	return commentRE.ReplaceAllString(t, "")
}

// markdown sanitises a Markdown fragment; see Sanitize.
func (s *scrubber) markdown(t string) string {
	t = strings.ReplaceAll(s.code(t), "\r\n", "\n")
	t = strings.ReplaceAll(t, "\r", "\n")
	lines := strings.Split(t, "\n")
	var out, prose []string
	flush := func() {
		if len(prose) > 0 {
			// Dropping tags and comments can join the halves of a secret
			// or a marker ("s3c<b>ret"): scrub once more.
			out = append(out, s.scrub(s.prose(strings.Join(prose, "\n")), proseRedacted))
			prose = nil
		}
	}
	fence := ""
	for _, line := range lines {
		if fence != "" {
			out = append(out, line)
			if m := fenceRE.FindStringSubmatch(line); m != nil && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(m[2]) == "" {
				fence = ""
			}
			continue
		}
		if m := fenceRE.FindStringSubmatch(line); m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")) {
			flush()
			fence = m[1]
			out = append(out, line)
			continue
		}
		prose = append(prose, line)
	}
	flush()
	if fence != "" {
		out = append(out, fence)
	}
	return strings.Join(out, "\n")
}

// prose sanitises Markdown outside fenced blocks.
func (s *scrubber) prose(t string) string {
	// Protect code spans, so their text stays as written.
	var spans []string
	t = replaceCodeSpans(t, func(span string) string {
		spans = append(spans, span)
		return string(phOpen) + strconv.Itoa(len(spans)-1) + string(phClose)
	})
	t = strings.ReplaceAll(t, Redacted, proseRedacted)
	// Entities would render as the characters they name ("&#64;" as "@"),
	// past every rule below: decode them first.
	t = entityRE.ReplaceAllStringFunc(t, func(e string) string {
		return strings.NewReplacer(string(phOpen), "", string(phClose), "").Replace(html.UnescapeString(e))
	})
	t = commentRE.ReplaceAllString(t, "")
	t = elementRE.ReplaceAllString(t, "")
	t = tagRE.ReplaceAllString(t, "")
	t = escapeOpenTags(t)
	// "[x]: url" would define a link for "[x]" elsewhere: make it text.
	t = strings.ReplaceAll(t, "]:", `\]:`)
	t = headingRE.ReplaceAllStringFunc(t, func(h string) string {
		if sub := headingRE.FindStringSubmatch(h); sub[1] != "" {
			return "**" + strings.TrimSpace(sub[1]) + "**"
		}
		return ""
	})
	t = setextRE.ReplaceAllString(t, `$1\$2$3`)
	t = escapeBackticks(t)
	t = s.inline(t)
	// Restore the code spans; a placeholder a tag swallowed is gone.
	var b strings.Builder
	for {
		i := strings.IndexRune(t, phOpen)
		if i < 0 {
			break
		}
		j := strings.IndexRune(t[i:], phClose)
		if j < 0 {
			break
		}
		b.WriteString(t[:i])
		if n, err := strconv.Atoi(t[i+len(string(phOpen)) : i+j]); err == nil && n >= 0 && n < len(spans) {
			if escapedAt(b.String(), b.Len()) {
				b.WriteByte('\\') // or the backslash would escape the span's backtick
			}
			if endsInTick(b.String()) {
				b.WriteByte(' ') // or the two backtick runs would merge
			}
			b.WriteString(spans[n])
		}
		t = t[i+j+len(string(phClose)):]
	}
	b.WriteString(t)
	return b.String()
}

// replaceCodeSpans calls f for every inline code span of t (a run of n
// backticks, not escaped, closed by the next run of exactly n on the same
// line) and puts its result in the span's place.
func replaceCodeSpans(t string, f func(string) string) string {
	var b strings.Builder
	i := 0
	for i < len(t) {
		if t[i] != '`' {
			b.WriteByte(t[i])
			i++
			continue
		}
		n := runLen(t, i)
		if escapedAt(t, i) {
			// "\`" is a literal backtick; the rest of the run may open.
			b.WriteByte('`')
			i++
			continue
		}
		end := -1
		for k := i + n; k < len(t); {
			if t[k] == '\n' {
				// Spans end at the line: which block a next line starts
				// is the renderer's call, so treat it as a boundary.
				break
			}
			if t[k] != '`' {
				k++
				continue
			}
			m := runLen(t, k)
			if m == n {
				end = k + m
				break
			}
			k += m
		}
		if end < 0 {
			b.WriteString(t[i : i+n])
			i += n
			continue
		}
		b.WriteString(f(t[i:end]))
		i = end
	}
	return b.String()
}

// escapedAt reports whether position i of t follows an odd number of
// backslashes.
func escapedAt(t string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && t[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func runLen(t string, i int) int {
	n := 0
	for i+n < len(t) && t[i+n] == '`' {
		n++
	}
	return n
}

// inline rewrites images, links, bare URLs, cross-references and mentions
// in prose whose code spans are placeholders and whose backticks are all
// escaped.
func (s *scrubber) inline(t string) string {
	names := inlineRE.SubexpNames()
	var b strings.Builder
	last := 0
	for _, m := range inlineRE.FindAllStringSubmatchIndex(t, -1) {
		b.WriteString(escapeBrackets(t[last:m[0]]))
		last = m[1]
		group := func(name string) (string, bool) {
			for i, n := range names {
				if n == name && m[2*i] >= 0 {
					return t[m[2*i]:m[2*i+1]], true
				}
			}
			return "", false
		}
		switch {
		case (has(group, "image") || has(group, "link")) && escapedAt(t, m[0]):
			// "\[" or "\!" is text, but what follows it may not be.
			b.WriteByte(t[m[0]])
			put(&b, s.inline(t[m[0]+1:m[1]]))
		case has(group, "image"):
			// Images are dropped: they load from outside and can track. A
			// space keeps what was on either side from joining.
			put(&b, sep(&b))
		case has(group, "link"):
			text, _ := group("ltext")
			url, _ := group("lurl")
			// The text cannot hold "]", so it holds no further link.
			inner := s.inline(text)
			if escapedAt(inner, len(inner)) {
				inner += `\`
			}
			if s.inRepo(url) {
				put(&b, "["+inner+"]("+url+")")
				break
			}
			if url != "" && url != text {
				if inner != "" {
					inner += " "
				}
				inner += "(" + codeSpan(url) + ")"
			}
			// Text that followed a "[" must not join what precedes it.
			put(&b, sep(&b)+inner)
		case has(group, "auto"):
			url, _ := group("aurl")
			if s.inRepo(url) {
				put(&b, "<"+url+">")
			} else {
				put(&b, codeSpan(url))
			}
		case has(group, "bare"), has(group, "www"):
			url, _ := group("bare")
			if url == "" {
				url, _ = group("www")
			}
			url, rest := trimURL(url)
			if s.inRepo(url) {
				put(&b, url)
			} else {
				put(&b, codeSpan(url))
			}
			b.WriteString(rest)
		case has(group, "xref"):
			// owner/repo#123 would cross-reference another repository;
			// glued to what precedes it, it is part of something else.
			x, _ := group("xref")
			if w := b.String(); w != "" && (isWord(w[len(w)-1]) || strings.IndexByte(".@/-", w[len(w)-1]) >= 0) {
				b.WriteString(x)
			} else {
				put(&b, codeSpan(x))
			}
		case has(group, "mention"):
			if isEmail(b.String(), t[m[1]:]) {
				b.WriteString(t[m[0]:m[1]])
			} else {
				put(&b, codeSpan(t[m[0]:m[1]]))
			}
		}
	}
	b.WriteString(escapeBrackets(t[last:]))
	return b.String()
}

// escapeBrackets escapes every square bracket of text not already escaped:
// what is left of one after the links were judged could only pair with
// another into a link, a checkbox or a definition we did not mean.
func escapeBrackets(t string) string {
	if !strings.ContainsAny(t, "[]") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if (t[i] == '[' || t[i] == ']') && !escapedAt(t, i) {
			b.WriteByte('\\')
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

// sep is a space when b's content ends in something a following word
// could join.
func sep(b *strings.Builder) string {
	w := b.String()
	if w == "" || strings.ContainsAny(w[len(w)-1:], " \t\n") {
		return ""
	}
	return " "
}

// put writes s, which replaced some of the text, after b's content: a
// backslash left dangling on either side is doubled so it escapes nothing
// new, and a code span is kept apart from a backtick run before it.
func put(b *strings.Builder, s string) {
	if escapedAt(b.String(), b.Len()) {
		b.WriteByte('\\')
	}
	if strings.HasPrefix(s, "`") && endsInTick(b.String()) {
		b.WriteByte(' ')
	}
	b.WriteString(s)
	if escapedAt(b.String(), b.Len()) {
		b.WriteByte('\\')
	}
}

func has(group func(string) (string, bool), name string) bool {
	_, ok := group(name)
	return ok
}

// isEmail reports whether an @name is the middle of an email address,
// given what was written before it and the text after it: a word character
// before, a dot and a letter after, and a local part that is not the tail of
// another address's domain ("a@b.cc@d.com").
func isEmail(before, after string) bool {
	if before == "" || !isWord(before[len(before)-1]) || len(after) < 2 || after[0] != '.' {
		return false
	}
	if c := after[1]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	j := len(before) - 1
	for j >= 0 && (isWord(before[j]) || before[j] == '.' || before[j] == '+' || before[j] == '-') {
		j--
	}
	return j < 0 || before[j] != '@'
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

var autolinkStartRE = regexp.MustCompile(`^<(?i:https?|ftp|mailto):[^>\s]+>`)

// escapeOpenTags turns a "<" that could still open a tag into "&lt;",
// leaving autolinks ("<https://...>") for inline to judge.
func escapeOpenTags(t string) string {
	var b strings.Builder
	last := 0
	for _, m := range openTagRE.FindAllStringIndex(t, -1) {
		if autolinkStartRE.MatchString(t[m[0]:]) {
			continue
		}
		b.WriteString(t[last:m[0]])
		b.WriteString("&lt;")
		last = m[0] + 1
	}
	b.WriteString(t[last:])
	return b.String()
}

// endsInTick reports whether t ends in an unescaped backtick or in a
// placeholder (which becomes a code span ending in one).
func endsInTick(t string) bool {
	if strings.HasSuffix(t, string(phClose)) {
		return true
	}
	return strings.HasSuffix(t, "`") && !escapedAt(t, len(t)-1)
}

// escapeBackticks escapes every backtick of t not already escaped, so text
// around the code spans we insert cannot pair with them.
func escapeBackticks(t string) string {
	if !strings.Contains(t, "`") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '`' && !escapedAt(t, i) {
			b.WriteByte('\\')
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

// inRepo reports whether url points into the repository, judged on its path
// as a browser resolves it: dot segments (also percent-encoded ones) are
// applied and a backslash is a slash, so "REPO/../../other" is not in it.
func (s *scrubber) inRepo(url string) bool {
	if s.repo == "" || len(url) < len(s.repo) || !strings.EqualFold(url[:len(s.repo)], s.repo) {
		return false
	}
	rest := url[len(s.repo):]
	if rest != "" && rest[0] != '/' && rest[0] != '#' && rest[0] != '?' {
		return false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	rest = dotsAndSlashes.Replace(rest)
	clean := path.Clean("/repo" + rest)
	return clean == "/repo" || strings.HasPrefix(clean, "/repo/")
}

// dotsAndSlashes decodes what a browser or server reads as path structure.
var dotsAndSlashes = strings.NewReplacer(`\`, "/", "%2e", ".", "%2E", ".", "%2f", "/", "%2F", "/", "%5c", "/", "%5C", "/")

// trimURL splits trailing punctuation, and a closing parenthesis with no
// opening one, off a bare URL.
func trimURL(url string) (string, string) {
	end := len(url)
	for end > 0 {
		c := url[end-1]
		if strings.IndexByte(`.,;:!?'"*_~`, c) >= 0 {
			end--
			continue
		}
		if c == ')' && strings.Count(url[:end], "(") < strings.Count(url[:end], ")") {
			end--
			continue
		}
		break
	}
	return url[:end], url[end:]
}

// codeSpan renders t as an inline code span whose backtick run is longer
// than any inside t. t must already be scrubbed.
func codeSpan(t string) string {
	t = strings.ReplaceAll(t, "\n", " ")
	if t == "" {
		return ""
	}
	ticks := strings.Repeat("`", longestRun(t, '`')+1)
	if strings.HasPrefix(t, "`") || strings.HasSuffix(t, "`") || (strings.HasPrefix(t, " ") && strings.HasSuffix(t, " ") && strings.TrimSpace(t) != "") {
		return ticks + " " + t + " " + ticks
	}
	return ticks + t + ticks
}

// fence returns a backtick fence longer than any backtick run in t, and at
// least three long.
func fence(t string) string {
	return strings.Repeat("`", max(3, longestRun(t, '`')+1))
}

func longestRun(t string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(t); i++ {
		if t[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
