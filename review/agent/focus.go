package agent

// DefaultFocuses are the emphases AssignFocus hands out, in order, to
// reviewers that share a provider and model.
var DefaultFocuses = []string{
	"correctness and concurrency",
	"error handling and resource lifecycle",
	"tests, docs and contracts",
}

// AssignFocus returns reviewers with a default focus set on each reviewer
// without one that shares its provider and model (Identity.Provider and
// Identity.Model) with at least one other reviewer, so that their findings
// differ. Within such a group the defaults go out in DefaultFocuses' order,
// skipping those a reviewer in the group was given by hand, and start over
// when the group is larger. A manual focus always wins; a reviewer alone on
// its model keeps an empty focus. reviewers is not modified.
func AssignFocus(reviewers []Config) []Config {
	out := append([]Config(nil), reviewers...)
	type key struct{ provider, model string }
	groups := map[key][]int{}
	var order []key
	for i, r := range out {
		k := key{r.Identity.Provider, r.Identity.Model}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		if len(idx) < 2 {
			continue
		}
		taken := map[string]bool{}
		for _, i := range idx {
			if f := oneLine(out[i].Focus); f != "" {
				taken[f] = true
			}
		}
		var free []string
		for _, f := range DefaultFocuses {
			if !taken[f] {
				free = append(free, f)
			}
		}
		if len(free) == 0 {
			free = DefaultFocuses
		}
		n := 0
		for _, i := range idx {
			if oneLine(out[i].Focus) != "" {
				continue
			}
			out[i].Focus = free[n%len(free)]
			n++
		}
	}
	return out
}
