package tabular

import "strings"

// isFormulaStart reports whether a spreadsheet may read a cell starting with
// c as a formula (OWASP CSV injection list).
func isFormulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// isPlainNumber reports whether s matches ^[+-]?[0-9]+(\.[0-9]+)?$: a value a
// spreadsheet reads as a number, never as a formula (-5, +34600111222).
func isPlainNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	i := countDigits(s)
	if i == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	frac := s[i+1:]
	j := countDigits(frac)
	return j > 0 && j == len(frac)
}

func countDigits(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// needsQuote reports whether Neutralise prefixes s: s is any number of
// apostrophes followed by a formula character, and what follows the
// apostrophes is not a plain number.
func needsQuote(s string) bool {
	t := strings.TrimLeft(s, "'")
	return t != "" && isFormulaStart(t[0]) && !isPlainNumber(t)
}

// Neutralise makes a cell safe to open in a spreadsheet. A cell whose first
// character is =, +, -, @, TAB or CR is prefixed with an apostrophe, which
// spreadsheets take as "this is text" — unless the cell is a plain number
// (-5, +34600111222, 3.50), which stays as it is.
//
// So that [Restore] can always undo it, a cell that already starts with
// apostrophes followed by such a character is prefixed too, and
// Restore(Neutralise(s)) == s for every string s:
//
//	Neutralise("=1+2")  == "'=1+2"
//	Neutralise("-5")    == "-5"
//	Neutralise("'=x")   == "''=x"  // Restore gives back "'=x"
func Neutralise(cell string) string {
	if needsQuote(cell) {
		return "'" + cell
	}
	return cell
}

// Restore undoes [Neutralise]: it strips the leading apostrophe of a cell
// that Neutralise would have produced from the rest, i.e. an apostrophe
// followed by a formula character (or by more apostrophes and then one) that
// does not start a plain number. Anything else is returned unchanged, so a
// hand-typed "'=x" in an uploaded file reads as "=x".
func Restore(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && needsQuote(cell[1:]) {
		return cell[1:]
	}
	return cell
}
