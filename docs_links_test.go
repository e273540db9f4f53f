// Documentation links: every relative link of README.md, documentation/*.md and the chart's README
// names a file of the repository and, with a #fragment, a heading of that page (GitHub's anchors).
// A page renamed or a heading reworded fails here, not in a reader's browser.
package portcullis_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	fencePattern   = regexp.MustCompile("(?s)```.*?```")
	headingPattern = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
	linkPattern    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	schemePattern  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// anchor is GitHub's anchor of a heading: lower case, letters, digits, '-' and '_' kept, spaces
// made '-', everything else dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors lists the anchors of a Markdown page: one per heading outside code blocks, repeated
// headings numbered as GitHub numbers them (-1, -2, ...).
func anchors(page string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingPattern.FindAllStringSubmatch(fencePattern.ReplaceAllString(page, ""), -1) {
		a := anchor(strings.ReplaceAll(m[1], "`", ""))
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// brokenLinks returns the relative links of the page at path that name no file, or no heading of
// the page they name. read reads a page; exists says whether a path exists.
func brokenLinks(path string, read func(string) (string, error), exists func(string) bool) []string {
	page, err := read(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var bad []string
	for _, m := range linkPattern.FindAllStringSubmatch(fencePattern.ReplaceAllString(page, ""), -1) {
		link := m[1]
		if schemePattern.MatchString(link) {
			continue // http:, https:, mailto:
		}
		file, frag, _ := strings.Cut(link, "#")
		target := path
		if file != "" {
			target = filepath.Join(filepath.Dir(path), file)
		}
		if !exists(target) {
			bad = append(bad, fmt.Sprintf("%s: link %q: %s does not exist", path, link, target))
			continue
		}
		if frag == "" || !strings.HasSuffix(target, ".md") {
			continue
		}
		linked, err := read(target)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: link %q: %v", path, link, err))
			continue
		}
		if !anchors(linked)[frag] {
			bad = append(bad, fmt.Sprintf("%s: link %q: %s has no heading with the anchor #%s", path, link, target, frag))
		}
	}
	return bad
}

func TestDocumentationLinks(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("documentation", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "README.md", filepath.Join("deploy", "helm", "portcullis", "README.md"))
	read := func(p string) (string, error) {
		b, err := os.ReadFile(p)
		return string(b), err
	}
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}
	for _, p := range pages {
		for _, b := range brokenLinks(p, read, exists) {
			t.Error(b)
		}
	}
}

// TestDocumentationLinksCatch shows on made-up pages what the link check finds.
func TestDocumentationLinksCatch(t *testing.T) {
	files := map[string]string{
		"doc/a.md": "# Page A\n\n## Turning it on\n\n## Ports\n\n## Ports\n\n```\n## Not a heading\n```\n",
		"doc/b.md": "# Page B\n",
	}
	read := func(p string) (string, error) {
		s, ok := files[filepath.ToSlash(p)]
		if !ok {
			return "", fmt.Errorf("no such file")
		}
		return s, nil
	}
	exists := func(p string) bool { _, ok := files[filepath.ToSlash(p)]; return ok }
	for _, tc := range []struct {
		name, link string
		broken     bool
	}{
		{"a page that exists", "b.md", false},
		{"a heading of another page", "a.md#turning-it-on", false},
		{"a heading of the same page", "#ports", false},
		{"a repeated heading, numbered", "a.md#ports-1", false},
		{"an absolute URL", "https://example.com/x.md#nowhere", false},
		{"a page that does not exist", "c.md", true},
		{"a heading that does not exist", "a.md#turning-it-off", true},
		{"a heading inside a code block", "a.md#not-a-heading", true},
		{"a heading numbered once too often", "a.md#ports-2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files["doc/page.md"] = "# Links\n\n## Ports\n\nSee [there](" + tc.link + ").\n"
			got := brokenLinks("doc/page.md", read, exists)
			if tc.broken != (len(got) == 1) || len(got) > 1 {
				t.Errorf("link %q: got %q, want broken=%v", tc.link, got, tc.broken)
			}
		})
	}
}

func TestAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Turning it on":           "turning-it-on",
		"8. Route an application": "8-route-an-application",
		"Client certificates (`client-ca`, `client-crt-optional`)": "client-certificates-client-ca-client-crt-optional",
		"Ingress and HTTPRoute on the same host":                   "ingress-and-httproute-on-the-same-host",
	} {
		if got := anchor(strings.ReplaceAll(heading, "`", "")); got != want {
			t.Errorf("anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}
