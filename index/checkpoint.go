package index

import (
	"fmt"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// A writer's commits go to the write-ahead log. SQLite copies the log into
// the index file (a checkpoint) in the COMMIT that passes its automatic
// checkpoint's size, on the writer's connection, and syncs the file: each
// 200k-event commit of a 1M transactional import waited 200-270 ms for it,
// 150 ms of which were the syncs, while the importer's workers stood idle.
// So a goroutine of the writer's own checkpoints on another connection after
// each commit while the writer goes on, and SQLite's automatic checkpoint
// is left to bound the log.

// walAutoCheckpoint is the log's size, in pages (512 MiB of the index's
// 64 KiB pages), past which the writer's COMMIT checkpoints itself. The
// background checkpoint copies what earlier transactions wrote, but SQLite
// writes the log from its start again only after a transaction that began
// when all of it had been copied; the writer begins its next transaction at
// once, so without this the log would grow with everything written. The
// COMMIT past it copies only the last transaction's pages, and the log
// starts over after it.
const walAutoCheckpoint = 8192

// checkpointGap is the least time from one background checkpoint's start
// to the next: the server's webhook writer commits a batch every few
// milliseconds, and with a checkpoint (and its two syncs) after each, the
// bench's webhooks took 8.7 s of the server's CPU against 5.5 s.
const checkpointGap = 250 * time.Millisecond

// checkpointer runs a writer's background checkpoints, one at a time.
type checkpointer struct {
	conn *sqlite3.SQLiteConn
	kick chan struct{} // a commit since the last checkpoint began
	stop chan struct{}
	done chan struct{}
	err  error // the first checkpoint's error, for close
}

// newCheckpointer opens the checkpoints' connection to the index at dsn.
func newCheckpointer(dsn string) (*checkpointer, error) {
	c, err := openConn(dsn)
	if err != nil {
		return nil, err
	}
	k := &checkpointer{conn: c, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k, nil
}

func (k *checkpointer) run() {
	defer close(k.done)
	for {
		select {
		case <-k.stop:
			return
		case <-k.kick:
		}
		start := time.Now()
		// PASSIVE waits for no reader or writer: it copies what no
		// reader still needs and leaves the rest for the next one.
		if _, err := k.conn.Exec("PRAGMA wal_checkpoint(PASSIVE)", nil); err != nil && k.err == nil {
			k.err = fmt.Errorf("checkpoint index: %w", err)
		}
		select {
		case <-k.stop:
			return
		case <-time.After(time.Until(start.Add(checkpointGap))):
		}
	}
}

// committed asks for a checkpoint of what the writer committed; one
// already asked for and not yet begun will copy it too.
func (k *checkpointer) committed() {
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// close waits for the running checkpoint and closes the connection. What
// was not copied stays in the log, where SQLite finds it.
func (k *checkpointer) close() error {
	close(k.stop)
	<-k.done
	cerr := k.conn.Close()
	if k.err != nil {
		return k.err
	}
	return cerr
}
