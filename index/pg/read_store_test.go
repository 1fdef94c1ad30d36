package pg_test

import (
	"github.com/maildiag/maildiag/analyze"
	"github.com/maildiag/maildiag/index/pg"
)

// The PostgreSQL index is an analyze.Store.
var _ analyze.Store = (*pg.DB)(nil)
