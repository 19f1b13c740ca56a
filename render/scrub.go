package render

// Scrub removes from text shown verbatim (a transcript, a log, code) what
// Sanitize removes from code: every secret of o.Secrets (four characters
// or more), the well-known token shapes (ghp_, gho_, ghs_, ghu_, ghr_,
// github_pat_, sk-, sk-ant-, AIza) and our state marker. It changes nothing
// else, so JSON text stays JSON. Scrub is pure and safe for concurrent use.
func Scrub(text string, o Options) string {
	return newScrubber(o).code(text)
}
