package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// The checkpointer's checkpoint copies the whole WAL back while the writer
// and the readers stay open, and writes go on after it.
func TestCheckpointCopiesTheWAL(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(from, to int) {
		for i := from; i < to; i++ {
			c := storage.Client{ID: fmt.Sprintf("c%03d", i), RedirectURIs: []string{"https://rp.example/cb"}, CreatedAt: time.Now()}
			if err := db.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(0, 50)
	frames, copied, err := db.checkpoint(ctx)
	if err != nil || frames == 0 || copied != frames {
		t.Fatalf("checkpoint: %d frames, %d copied, %v", frames, copied, err)
	}
	write(50, 60)
	if cs, err := db.ListClients(ctx); err != nil || len(cs) != 60 {
		t.Fatalf("after the checkpoint: %d clients, %v", len(cs), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // a second Close is harmless
		t.Fatal(err)
	}
}
