package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL section: a cluster of the bench's own (Debian's server,
// initdb as the postgres OS user when run as root, a Unix socket in its
// directory, no TCP), kept in the work directory from run to run so that
// the large index is built once; started for the section and stopped at
// its end. Durability settings are the server's defaults.
type pgCluster struct {
	dir, url string
	cmd      *exec.Cmd
}

// startPG starts the bench's cluster under dir/pg, creating it when missing.
func startPG(dir string) (*pgCluster, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, errors.New("no PostgreSQL server (initdb): run make postgres")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	abs, err := filepath.Abs(filepath.Join(dir, "pg"))
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and no postgres OS user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(abs, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		os.RemoveAll(abs)
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
		if cred != nil {
			os.Chown(abs, int(cred.Uid), int(cred.Gid))
		}
		initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(string(out), 5))
		}
	}
	logf, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("maildiag-bench-pg-%d.log", os.Getpid())))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	c := &pgCluster{dir: abs}
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", abs, "-c", "listen_addresses=",
		"-c", "shared_buffers=512MB", "-c", "max_wal_size=4GB")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.url = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {abs}, "sslmode": {"disable"}}.Encode()}).String()
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if _, err := c.connectTime("postgres"); err == nil {
			return c, nil
		} else if time.Since(start) > time.Minute {
			c.stop()
			return nil, fmt.Errorf("postgres not ready: %v (log: %s)", err, logf.Name())
		}
	}
}

func (c *pgCluster) stop() {
	c.cmd.Process.Signal(syscall.SIGINT)
	c.cmd.Wait()
}

// dbURL is the URL of a database of the cluster.
func (c *pgCluster) dbURL(name string) string {
	u, _ := url.Parse(c.url)
	u.Path = "/" + name
	return u.String()
}

// connectTime is how long opening a connection to a database takes.
func (c *pgCluster) connectTime(name string) (time.Duration, error) {
	start := time.Now()
	conn, err := pgx.Connect(context.Background(), c.dbURL(name))
	if err != nil {
		return 0, err
	}
	d := time.Since(start)
	return d, conn.Close(context.Background())
}

// exec runs a statement in the maintenance database.
func (c *pgCluster) exec(sql string, args ...any) error {
	conn, err := pgx.Connect(context.Background(), c.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), sql, args...)
	return err
}

// execIn runs a statement in a database of the cluster.
func (c *pgCluster) execIn(db, sql string) error {
	conn, err := pgx.Connect(context.Background(), c.dbURL(db))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), sql)
	return err
}

func (c *pgCluster) int64Of(db, sql string) (int64, error) {
	conn, err := pgx.Connect(context.Background(), c.dbURL(db))
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(context.Background(), sql).Scan(&n)
	return n, err
}

// postgres imports the small file into PostgreSQL and SQLite side by side,
// then asks the support questions of a PostgreSQL index of -pg-big events
// (built once, kept in the cluster) and of the SQLite index of as many.
func (b *bench) postgres() error {
	if err := b.generate(); err != nil {
		return err
	}
	c, err := startPG(b.dir)
	if err != nil {
		return err
	}
	defer c.stop()

	if b.pgImport {
		if err := b.pgImportTable(c); err != nil {
			return err
		}
	}

	// The questions, on the large index: built once.
	name := fmt.Sprintf("index_%d", b.pgBig)
	var have int64
	if n, err := c.int64Of(name, `SELECT COUNT(*) FROM events`); err == nil {
		have = n
	}
	if have == 0 {
		c.exec(`DROP DATABASE IF EXISTS ` + name)
		if b.pgBig == b.events {
			if err := c.exec(`ALTER DATABASE bench_import RENAME TO ` + name); err != nil {
				return err
			}
		} else {
			if err := c.exec(`CREATE DATABASE ` + name); err != nil {
				return err
			}
			if _, _, err := timed(fmt.Sprintf("%s generate --seed 1 --events %d --end %s | %s --db %s import -",
				q(b.tool("mgsim")), b.pgBig, end, q(b.tool("maildiag")), q(c.dbURL(name)))); err != nil {
				return err
			}
		}
	}
	c.exec(`DROP DATABASE IF EXISTS bench_import`)
	pgDB := c.dbURL(name)
	// An index kept from an earlier run takes this build's migrations.
	if out, err := exec.Command(b.tool("maildiag"), "migrate", "--db", pgDB).CombinedOutput(); err != nil {
		return fmt.Errorf("migrate %s: %v: %s", name, err, lastLines(string(out), 3))
	}
	// Statistics and the visibility map, as autovacuum would make them
	// minutes after a big import: without them the first questions were
	// planned blind (trace 389 ms on 1M events).
	if err := c.execIn(name, `VACUUM ANALYZE`); err != nil {
		return err
	}
	liteBig := b.smallDB
	if b.pgBig != b.events {
		liteBig = filepath.Join(b.dir, fmt.Sprintf("index-%d.db", b.pgBig))
	}
	if fileSize(liteBig) == 0 {
		return fmt.Errorf("no SQLite index of %d events at %s: run the import (or big) section first", b.pgBig, liteBig)
	}
	pgSize, err := c.int64Of(name, `SELECT pg_database_size(current_database())`)
	if err != nil {
		return err
	}
	var conns []time.Duration
	for range 5 {
		d, err := c.connectTime(name)
		if err != nil {
			return err
		}
		conns = append(conns, d)
	}
	connect := medianOf(conns)
	out := filepath.Join(b.dir, "report-pg.html")
	qs := []struct {
		name   string
		args   []string
		target time.Duration
		plusC  bool
	}{
		{"trace jane.doe@initech.com", []string{"trace", "jane.doe@initech.com"}, 50 * time.Millisecond, true},
		{"suppressed '*@acme.com'", []string{"suppressed", "*@acme.com"}, 50 * time.Millisecond, true},
		{"failures --since 7d --by class", []string{"failures", "--since", "7d", "--by", "class"}, time.Second, false},
		{"report --since 7d", []string{"report", "--since", "7d", "-o", out}, 3 * time.Second, false},
		{"events --to '*@acme.com'", []string{"events", "--to", "*@acme.com"}, 0, false},
		{"events --subject 'password reset'", []string{"events", "--subject", "password reset"}, 0, false},
	}
	var rows [][]string
	for _, x := range qs {
		pd, _, err := median(3, b.md(pgDB, x.args...))
		if err != nil {
			return err
		}
		ld, _, err := median(3, b.md(liteBig, x.args...))
		if err != nil {
			return err
		}
		target, ok := "", true
		switch {
		case x.target == 0: // within 2x of SQLite
			target, ok = "<= 2x SQLite", pd <= 2*ld
		case x.plusC:
			target, ok = "< "+ms(x.target)+" + connection", pd < x.target+connect
		default:
			target, ok = "< "+secs(x.target), pd < x.target
		}
		rows = append(rows, []string{x.name, ms(pd), ms(ld), target, verdict(ok)})
	}
	rows = append(rows, []string{"connection (pgx, median of 5)", ms(connect), "", "", ""},
		[]string{"index on disk", mb(pgSize), mb(fileSize(liteBig, liteBig+"-wal")), "", ""})
	b.table(fmt.Sprintf("Questions on a %d-event index, PostgreSQL beside SQLite (median of 3 runs of the binary, each a process of its own)", b.pgBig),
		[]string{"command", "PostgreSQL", "SQLite", "target (PostgreSQL)", "result"}, rows)
	return nil
}

// pgImportTable times the import of the small file into a fresh PostgreSQL
// index and a fresh SQLite one.
func (b *bench) pgImportTable(c *pgCluster) error {
	c.exec(`DROP DATABASE IF EXISTS bench_import`)
	if err := c.exec(`CREATE DATABASE bench_import`); err != nil {
		return err
	}
	pgRun, err := importFile(b.tool("maildiag"), b.file, c.dbURL("bench_import"))
	if err != nil {
		return err
	}
	pgImportSize, err := c.int64Of("bench_import", `SELECT pg_database_size(current_database())`)
	if err != nil {
		return err
	}
	floor, parts, err := c.copyFloor(b.tool("maildiag"), "bench_import", "bench_floor", b.dir)
	if err != nil {
		return fmt.Errorf("copy floor: %w", err)
	}
	liteDB := filepath.Join(b.dir, "pg-compare.db")
	liteRun, err := importFile(b.tool("maildiag"), b.file, liteDB)
	if err != nil {
		return err
	}
	liteSize := fileSize(liteDB, liteDB+"-wal")
	removeDB(liteDB)
	pgRate, liteRate := float64(pgRun.eventsNew)/pgRun.wall.Seconds(), float64(liteRun.eventsNew)/liteRun.wall.Seconds()
	b.table(fmt.Sprintf("Import of the %d-event file into a fresh index, PostgreSQL beside SQLite (one run each)", b.events),
		[]string{"measure", "PostgreSQL", "SQLite", "target", "result"},
		[][]string{
			{"wall time", secs(pgRun.wall), secs(liteRun.wall), "", ""},
			{"events/s", fmt.Sprintf("%.0f", pgRate), fmt.Sprintf("%.0f", liteRate), ">= 60000 (PostgreSQL)", verdict(pgRate >= 60000)},
			// What the schema itself costs: the least any import could take.
			{"floor: its stored rows COPYed into a fresh index", secs(floor), "", "", ""},
			{"floor, events/s", fmt.Sprintf("%.0f", float64(pgRun.eventsNew)/floor.Seconds()), "", "", ""},
			{"peak memory (maildiag)", mb(pgRun.rss), mb(liteRun.rss), "", ""},
			{"index on disk", mb(pgImportSize), mb(liteSize), "", ""},
		})
	var rows [][]string
	for _, p := range parts {
		rows = append(rows, []string{p.table, strconv.FormatInt(p.rows, 10), secs(p.took), fmt.Sprintf("%.0f%%", 100*p.took.Seconds()/floor.Seconds())})
	}
	b.table("The floor by table: the import's stored rows COPYed into a fresh PostgreSQL index, one transaction",
		[]string{"table", "rows", "time", "share"}, rows)
	return nil
}
