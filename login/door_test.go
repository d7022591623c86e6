package login

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestScreensChooseNoErrorStatus keeps one way to fail: a screen says what
// went wrong with a fail code (web.Status turns it into the status and the
// sentence), never by naming a 4xx or 5xx status itself. Success and
// redirect statuses are the screens' own to choose.
func TestScreensChooseNoErrorStatus(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{"StatusOK": true, "StatusSeeOther": true, "StatusFound": true,
		"StatusNoContent": true, "StatusNotModified": true, "StatusMovedPermanently": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "http" && strings.HasPrefix(sel.Sel.Name, "Status") && !allowed[sel.Sel.Name] {
				t.Errorf("%s: http.%s: refuse with a fail code instead (web.Status picks the status)", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
