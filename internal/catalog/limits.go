package catalog

import (
	"fmt"

	"github.com/invsys/inv/engine"
)

// The per-customer limit is the SKU's, the same at every store (the engine
// keeps one per SKU: set_limit). In a file it is still a column of the
// rows, one per SKU × store, so every row of a SKU must give the same value
// (an empty cell is no limit); Parse refuses rows that disagree, naming the
// lines. A file without the column leaves the SKUs' limits as they are.

// SKULimit is the per-customer limit a catalog gives a SKU.
type SKULimit struct {
	SKU   string
	Limit int64 // 0 = none
	Line  int   // the first row of the SKU
}

// SKULimits returns the limit of every SKU of rows that come from a file
// with a limit column, in the order of their first rows. Rows from Parse
// agree on each SKU's limit; for others the first row's value is taken.
func SKULimits(rows []Row) []SKULimit {
	var out []SKULimit
	seen := make(map[string]bool)
	for _, r := range rows {
		if !r.LimitGiven || seen[r.SKU] {
			continue
		}
		seen[r.SKU] = true
		out = append(out, SKULimit{SKU: r.SKU, Limit: r.Limit, Line: r.Line})
	}
	return out
}

// Command returns the command that sets the limit: one OpSetLimit, which
// the server applies on every shard.
func (l SKULimit) Command() engine.Command {
	return engine.Command{Op: engine.OpSetLimit, SKU: []byte(l.SKU), Limit: l.Limit}
}

// skuLimitSeen is the limit of a SKU's first row, to compare the others to.
type skuLimitSeen struct {
	limit int64
	line  int
}

// checkSKULimit compares a good row's limit with its SKU's first row.
func (p *parser) checkSKULimit(row *Row) {
	if !row.LimitGiven {
		return
	}
	first, ok := p.limits[row.SKU]
	if !ok {
		p.limits[row.SKU] = skuLimitSeen{row.Limit, row.Line}
		return
	}
	if first.limit != row.Limit {
		p.fail(row.Line, colNames[colLimit], "sku %q has limit %s here but %s on line %d: a SKU's per-customer limit is the "+
			"same at every store, so every row of the SKU gives the same one (an empty cell is no limit)",
			row.SKU, limitText(row.Limit), limitText(first.limit), first.line)
	}
}

func limitText(n int64) string {
	if n == 0 {
		return "none (empty)"
	}
	return fmt.Sprint(n)
}
