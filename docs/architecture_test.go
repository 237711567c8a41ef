package docs_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/regulars/regulars/infra/template"
)

// The facts of architecture.md that drift with the code are checked here:
// the functions, queues, routes and route counts against template.yaml, and
// the "Packages and import rules" table against `go list`.

// architecture returns architecture.md's lines, the loaded template.yaml and
// the module's root directory (template.yaml's).
func architecture(t *testing.T) ([]string, *template.Template, string) {
	t.Helper()
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n"), tpl, filepath.Dir(path)
}

// section returns the lines from the heading line equal to heading up to the
// next heading of the same or a higher level.
func section(t *testing.T, lines []string, heading string) []string {
	t.Helper()
	level := strings.Index(heading, " ") + 1 // "## " → 3
	for i, l := range lines {
		if l != heading {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if h := lines[j]; strings.HasPrefix(h, "#") && strings.Index(h, " ") < level {
				return lines[i:j]
			}
		}
		return lines[i:]
	}
	t.Fatalf("architecture.md has no heading %q", heading)
	return nil
}

// tableRows returns the cells of the rows of the first table in lines, header
// and separator left out.
func tableRows(lines []string) [][]string {
	var rows [][]string
	for _, l := range lines {
		if !strings.HasPrefix(l, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		return nil
	}
	return rows[2:]
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	routeCount = regexp.MustCompile(`(\d+) routes?\b`)
	routeRow   = regexp.MustCompile("^\\| `([A-Z]+ /[^`]*)` \\|")
	eventCount = regexp.MustCompile("(\\d+) `HttpApi` events?")
	inventory  = regexp.MustCompile(`(\w+) Lambda functions, (\w+) DynamoDB tables?, (\w+) SQS queues each with its dead-letter queue`)
	numbers    = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
)

// name returns the single backticked name of a table's first cell.
func name(t *testing.T, cell string) string {
	t.Helper()
	m := backticked.FindAllStringSubmatch(cell, -1)
	if len(m) != 1 {
		t.Errorf("architecture.md: first cell %q: want one `name`", cell)
		return cell
	}
	return m[0][1]
}

// checkCount reports a count that the text states (re's first group in
// text) and that differs from want; a text without one states nothing.
func checkCount(t *testing.T, re *regexp.Regexp, text, what string, want int) {
	t.Helper()
	if m := re.FindStringSubmatch(text); m != nil {
		if n, _ := strconv.Atoi(m[1]); n != want {
			t.Errorf("architecture.md: %s: %q, but template.yaml declares %d", what, m[0], want)
		}
	}
}

// TestArchitectureMatchesTemplate checks the inventory sentence, the function
// table and the Resources table of architecture.md against template.yaml.
func TestArchitectureMatchesTemplate(t *testing.T) {
	lines, tpl, _ := architecture(t)
	redriven := 0
	for _, q := range tpl.Queues {
		if q.RedrivePolicy != nil {
			redriven++
		}
	}
	intro := strings.Join(section(t, lines, "# Architecture"), " ")
	m := inventory.FindStringSubmatch(intro)
	if m == nil {
		t.Fatalf("architecture.md: no sentence %q", inventory)
	}
	for i, want := range []int{len(tpl.Functions), len(tpl.Tables), redriven} {
		if numbers[m[i+1]] != want {
			t.Errorf("architecture.md: %q: %q should be %d", m[0], m[i+1], want)
		}
	}
	if len(tpl.Queues) != 2*redriven {
		t.Errorf("template.yaml declares %d queues, %d with a dead-letter queue: architecture.md says each queue has one", len(tpl.Queues), redriven)
	}

	functions := map[string]template.Function{}
	var ids []string
	for _, f := range tpl.Functions {
		functions[f.LogicalID] = f
		ids = append(ids, f.LogicalID)
	}
	var documented []string
	for _, row := range tableRows(section(t, lines, "# Architecture")) {
		id := name(t, row[0])
		documented = append(documented, id)
		checkCount(t, routeCount, row[1], id+" trigger", len(functions[id].Routes))
	}
	if !slices.Equal(documented, ids) {
		t.Errorf("architecture.md: the function table lists %v; template.yaml declares %v", documented, ids)
	}

	// Every function, table, queue and bucket has a row; Api is the HttpApi,
	// which infra/template does not read.
	declared := map[string]bool{"Api": true}
	for _, id := range ids {
		declared[id] = true
	}
	for _, tb := range tpl.Tables {
		declared[tb.LogicalID] = true
	}
	for _, q := range tpl.Queues {
		declared[q.LogicalID] = true
	}
	for _, b := range tpl.Buckets {
		declared[b.LogicalID] = true
	}
	rows := map[string]bool{}
	for _, row := range tableRows(section(t, lines, "## Resources (`template.yaml`)")) {
		id := name(t, row[0])
		rows[id] = true
		if !declared[id] {
			t.Errorf("architecture.md: Resources has a row %s, which template.yaml does not declare", id)
		}
		if f, ok := functions[id]; ok {
			checkCount(t, eventCount, row[1], id, len(f.Routes))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(declared)) {
		if !rows[id] {
			t.Errorf("architecture.md: Resources has no row for %s, which template.yaml declares", id)
		}
	}
}

// TestArchitectureImports checks the "Packages and import rules" table: its
// first column names every package of the module once, and its third lists
// exactly the module's packages that package imports outside its tests.
// Backticked names there are packages, by path from the module root, else
// under internal/, else under infra/; parenthesised text is commentary.
func TestArchitectureImports(t *testing.T) {
	lines, _, root := architecture(t)
	cmd := exec.Command("go", "list", "-f", `{{.Module.Path}} {{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = root
	cmd.Stderr = os.Stderr // go list's own account of a failure
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{} // by path from the module root
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		module := f[0] + "/"
		pkg := strings.TrimPrefix(f[1], module)
		imports[pkg] = []string{}
		for _, imp := range f[2:] {
			if rel, ok := strings.CutPrefix(imp, module); ok {
				imports[pkg] = append(imports[pkg], rel)
			}
		}
	}
	resolve := func(name string) string {
		for _, p := range []string{name, "internal/" + name, "infra/" + name} {
			if _, ok := imports[p]; ok {
				return p
			}
		}
		t.Errorf("architecture.md: `%s` is not a package of the module (as itself, under internal/ or under infra/)", name)
		return name
	}
	commentary := regexp.MustCompile(`\([^)]*\)`)
	seen := map[string]bool{}
	for _, row := range tableRows(section(t, lines, "## Packages and import rules")) {
		var stated []string
		for _, m := range backticked.FindAllStringSubmatch(commentary.ReplaceAllString(row[2], ""), -1) {
			stated = append(stated, resolve(m[1]))
		}
		slices.Sort(stated)
		for _, m := range backticked.FindAllStringSubmatch(row[0], -1) {
			pkg := m[1]
			got, ok := imports[pkg]
			if !ok {
				t.Errorf("architecture.md: `%s` is not a package of the module", pkg)
				continue
			}
			if seen[pkg] {
				t.Errorf("architecture.md: the package table has two rows for `%s`", pkg)
			}
			seen[pkg] = true
			if !slices.Equal(stated, got) {
				t.Errorf("architecture.md: `%s` imports %v, not %v", pkg, got, stated)
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(imports)) {
		if !seen[p] {
			t.Errorf("architecture.md: the package table has no row for `%s`", p)
		}
	}
}

// TestArchitectureRoutes checks that the route tables of architecture.md
// ("ApiFunction routes" and its WebhookFunction route) have one row for each
// HttpApi route of template.yaml, and none other.
func TestArchitectureRoutes(t *testing.T) {
	lines, tpl, _ := architecture(t)
	routes := map[string]bool{}
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			routes[r.Key()] = true
		}
	}
	rows := map[string]bool{}
	for _, l := range section(t, lines, "## ApiFunction routes") {
		if m := routeRow.FindStringSubmatch(l); m != nil {
			if rows[m[1]] {
				t.Errorf("architecture.md: two rows for %s", m[1])
			}
			rows[m[1]] = true
			if !routes[m[1]] {
				t.Errorf("architecture.md: a row for %s, which is not a route of template.yaml", m[1])
			}
		}
	}
	for _, r := range slices.Sorted(maps.Keys(routes)) {
		if !rows[r] {
			t.Errorf("architecture.md: no row for %s, a route of template.yaml", r)
		}
	}
}
