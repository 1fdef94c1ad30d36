// Package pgtest gives tests a real PostgreSQL server: the one
// $MAILDIAG_TEST_PG names, or else a throwaway cluster of their own, one
// per test binary, started on first use (initdb into a temporary
// directory, as the postgres OS user when the tests run as root, since the
// server refuses to run as root; a Unix socket in that directory; no TCP),
// and stopped and removed when the tests end. Each test gets a database of
// its own.
//
// For tests only.
package pgtest

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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvServer names a server to use instead of a throwaway cluster: a
// connection URL of a role that may create databases.
const EnvServer = "MAILDIAG_TEST_PG"

// Bounds of the waits for the server.
const (
	startWait = 60 * time.Second
	stopWait  = 30 * time.Second
)

var (
	mu      sync.Mutex
	started *cluster // the throwaway cluster, once started
	failed  error    // why it could not start: every test that needs it fails with it
	dbSeq   atomic.Int64
)

// Main runs the tests of a package that uses PostgreSQL, and stops and
// removes the throwaway cluster, if one was started, before it exits. Call
// it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if started != nil {
		if err := started.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		started = nil
	}
	return code
}

// URL returns the URL of a new, empty database for the test; it is dropped
// at the test's end when the server is $MAILDIAG_TEST_PG (a throwaway
// cluster goes whole).
func URL(t testing.TB) string {
	t.Helper()
	admin, own, err := server()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := fmt.Sprintf("maildiag_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	if err := exec1(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	if !own {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), stopWait)
			defer cancel()
			if err := exec1(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				t.Errorf("pgtest: drop database: %v", err)
			}
		})
	}
	return withDatabase(admin, name)
}

// AdminURL returns the URL of the server's maintenance database as a
// superuser (the role of $MAILDIAG_TEST_PG there): for tests that create
// roles.
func AdminURL(t testing.TB) string {
	t.Helper()
	admin, _, err := server()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return admin
}

// WithUser returns u with its user (and password) replaced.
func WithUser(u, name, password string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if password != "" {
		p.User = url.UserPassword(name, password)
	} else {
		p.User = url.User(name)
	}
	return p.String()
}

// server returns the admin URL of the server the tests use, and whether it
// is a throwaway cluster of this process, starting it on first use.
func server() (admin string, own bool, err error) {
	if u := os.Getenv(EnvServer); u != "" {
		return u, false, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if started == nil && failed == nil {
		started, failed = start()
	}
	if failed != nil {
		return "", false, failed
	}
	return started.url, true, nil
}

// cluster is a running throwaway server.
type cluster struct {
	dir  string // removed by stop
	bin  string // the server's programs
	cred *syscall.Credential
	cmd  *exec.Cmd
	done chan error // the server process's end
	url  string
}

// start creates and starts a cluster under a new temporary directory.
func start() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "maildiag-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		// The server runs as postgres: it must reach its directory.
		if err := reachable(dir); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out))
	}
	c.bin, c.cred = bin, cred
	c.url = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {dir}, "sslmode": {"disable"}}.Encode()}).String()
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// launch starts the server on the cluster's directory and waits, within
// ctx, until it takes connections.
func (c *cluster) launch(ctx context.Context) error {
	log, err := os.OpenFile(filepath.Join(c.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// Unix socket only, in dir. No durability against a power cut (fsync
	// off: the OS's cache holds what was written), but a commit is written
	// before it returns (synchronous_commit on), so that a server killed
	// (Restart) keeps every commit a client was told of, as a real one does.
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), "-D", filepath.Join(c.dir, "data"), "-k", c.dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=on", "-c", "full_page_writes=off", "-c", "max_connections=100")
	c.cmd.Stdout, c.cmd.Stderr = log, log
	// Pdeathsig: a test binary killed (a -timeout panic, kill -9) takes its
	// server along (fast shutdown) instead of leaving it running.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan error, 1)
	c.done = done
	cmd := c.cmd
	go func() { done <- cmd.Wait() }()
	if err := c.ready(ctx); err != nil {
		c.stop()
		b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		return fmt.Errorf("%w: %s", err, lastLines(b))
	}
	return nil
}

// Restart restarts the tests' own server as pg_ctl restart -m immediate
// does, while clients are connected: pg_ctl stop -m immediate (every
// session cut off at once, no shutdown checkpoint: the next start
// recovers from the write-ahead log, as after a crash), then a start on
// the same directory and socket. It returns once the server takes
// connections again. It skips the test when the server is not the tests'
// own ($MAILDIAG_TEST_PG names it): a server someone else runs is not
// restarted by a test.
func Restart(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvServer) != "" {
		t.Skipf("pgtest: the server is $%s's, not the tests' own: a fault test does not restart it", EnvServer)
	}
	if _, _, err := server(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	c := started
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	stop := exec.CommandContext(ctx, filepath.Join(c.bin, "pg_ctl"), "stop", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w")
	stop.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := stop.CombinedOutput(); err != nil {
		t.Fatalf("pgtest: pg_ctl stop -m immediate: %v: %s", err, lastLines(out))
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		t.Fatalf("pgtest: the server did not stop within %v", startWait)
	}
	if err := c.launch(ctx); err != nil {
		started, failed = nil, err
		t.Fatalf("pgtest: start again after an immediate stop: %v", err)
	}
}

// Own tells whether the server is the tests' own throwaway cluster, which
// Restart may restart.
func Own() bool { return os.Getenv(EnvServer) == "" }

// ready waits, within ctx, until the server takes connections.
func (c *cluster) ready(ctx context.Context) error {
	for {
		err := exec1(ctx, c.url, "SELECT 1")
		if err == nil {
			return nil
		}
		select {
		case perr := <-c.done:
			c.done <- perr
			return fmt.Errorf("postgres exited at start: %v", perr)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready after %v: %v", startWait, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the server down (fast: clients are cut off), killing it if it
// does not stop in time, and removes its directory.
func (c *cluster) stop() error {
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(stopWait):
			c.cmd.Process.Kill()
			<-c.done
			err = fmt.Errorf("postgres did not stop within %v: killed", stopWait)
		}
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// binDir finds the server's programs: Debian's newest
// /usr/lib/postgresql/<major>/bin, else initdb on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	if len(dirs) > 0 {
		return filepath.Dir(dirs[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server found (initdb): run make postgres, or set " + EnvServer + " to a server's URL")
}

func major(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// serverUser is the OS user the server runs as: nil (this process's) unless
// that is root, which the server refuses; then postgres.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and no postgres OS user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachable lets other users pass through (not list) the temporary
// directory dir is in, as the postgres user must: a TMPDIR made by
// mktemp -d (scripts/no-leftovers.sh) is 0700. Directories above it are
// left as they are: when one is closed, the error says what to do.
func reachable(dir string) error {
	tmp := filepath.Dir(dir)
	for d := tmp; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if d != tmp {
				return fmt.Errorf("the postgres user cannot reach %s (%s is closed to others): set TMPDIR under /tmp, or %s", dir, d, EnvServer)
			}
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let the postgres user reach %s: %w", dir, err)
			}
		}
		if d == "/" {
			return nil
		}
	}
}

// exec1 runs one statement on a connection of its own.
func exec1(ctx context.Context, u, sql string) error {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns u naming database name.
func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

// lastLines is the end of a program's output, for an error.
func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// Conn connects to u for the test, closed at its end.
func Conn(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Unique is a number no other test binary on the machine uses at the same
// time (its process id), for names a server shares between databases.
func Unique() int { return os.Getpid() }
