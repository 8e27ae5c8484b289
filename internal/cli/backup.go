//go:build !windows

package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

func backup(dataDir, file string, stdout io.Writer) error {
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create the backup (it holds the key to every secret: ferry never overwrites a file with one): %w", err)
	}
	m, err := engine.Backup(context.Background(), dataDir, out)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		_ = os.Remove(file) // no half backup
		return err
	}
	_, err = fmt.Fprintf(stdout, "backed up %s to %s: store schema version %d, %d deployments with their files, %d to build again after a restore\n",
		dataDir, file, m.SchemaVersion, m.Deployments, m.Rebuilt)
	return err
}

func restore(dataDir, file string, stdout io.Writer) error {
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // only read
	m, err := engine.Restore(in, dataDir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "restored the backup of %s (ferry %s, store schema version %d) into %s: start its engine with `ferry serve --data-dir %s`\n",
		m.CreatedAt.Format(time.RFC3339), m.Version, m.SchemaVersion, dataDir, dataDir)
	return err
}
