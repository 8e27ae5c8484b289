//go:build !windows

package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
)

// backupFile reads the flags and the one FILE argument of backup and restore.
func backupFile(name string, args []string) (dataDir, file string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	if fs.NArg() != 1 {
		return "", "", fmt.Errorf("%s takes one file, the backup (a .tar.gz), after the flags: ferry %s [--data-dir DIR] FILE", name, name)
	}
	return *dir, fs.Arg(0), nil
}

func backup(args []string, stdout io.Writer) error {
	dataDir, file, err := backupFile("backup", args)
	if err != nil {
		return err
	}
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

func restore(args []string, stdout io.Writer) error {
	dataDir, file, err := backupFile("restore", args)
	if err != nil {
		return err
	}
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
