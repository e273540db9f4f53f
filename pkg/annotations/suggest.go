package annotations

// suggest returns the setting name for an unknown name: the setting it is a haproxytech alias of,
// else the closest name, or "" when none is close enough to be a likely typo.
func suggest(name string) string {
	if a, ok := byAlias[name]; ok {
		return a.entry.definition().Name
	}
	if len(name) > 64 {
		return ""
	}
	best, bestDist := "", 3 // at most two edits
	if len(name) < 6 {
		bestDist = 2 // one edit for short names
	}
	for _, cand := range sortedKeys(byName) {
		if d := editDistance(name, cand); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
