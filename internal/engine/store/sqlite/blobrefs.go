package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// ReferencedDigests returns the digest of every file that some deployment
// lists, whatever its state, and of every build output archive a run spec
// names: the blobs that must be kept.
func (s *Store) ReferencedDigests(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, files, run_spec FROM deployments`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	referenced := map[string]bool{}
	for rows.Next() {
		var id string
		var files []byte
		var run sql.NullString
		if err := rows.Scan(&id, &files, &run); err != nil {
			return nil, err
		}
		var list []struct {
			Digest string `json:"digest"`
		}
		if err := json.Unmarshal(files, &list); err != nil {
			// Keeping every blob is safe; deleting on a misread list is not.
			return nil, fmt.Errorf("read the file list of deployment %s: %w", id, err)
		}
		for _, f := range list {
			referenced[f.Digest] = true
		}
		if output, err := store.RunOutput([]byte(run.String)); err != nil {
			return nil, fmt.Errorf("read the run spec of deployment %s: %w", id, err)
		} else if output != "" {
			referenced[output] = true
		}
	}
	return referenced, rows.Err()
}
