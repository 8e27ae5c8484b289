package cli

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// keySize is the size of ferry's keys (AES-256).
const keySize = 32

func newKeyCommand(con *console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Rotate the key that encrypts the store's secrets, without downtime (list, rotate, retire)",
		Long: "Every secret is sealed under the store's data key, which the store keeps wrapped under each key an engine may be given " +
			"(--key-file, FERRY_SECRET_KEY, or the key file of a data dir). To rotate: `ferry key rotate --new-key-file NEW` (engines on the old " +
			"key and on NEW both run), restart every engine with NEW, then `ferry key retire --fingerprint OLD` through one of them.",
	}
	cmd.AddCommand(newKeyListCommand(con), newKeyRotateCommand(con), newKeyRetireCommand(con))
	return cmd
}

func newKeyListCommand(con *console) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the fingerprints of the keys the store's data key is wrapped under",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			list, err := c.SecretKeys(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return con.printJSON(list)
			}
			t := con.newTable("FINGERPRINT", "ADDED", "IN USE")
			for _, k := range list.Keys {
				inUse := ""
				if k.InUse {
					inUse = "by the engine that answered"
				}
				t.row(k.Fingerprint, k.CreatedAt.Format("2006-01-02 15:04:05Z"), inUse)
			}
			return t.flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func newKeyRotateCommand(con *console) *cobra.Command {
	var newKeyFile string
	cmd := &cobra.Command{
		Use:   "rotate --new-key-file FILE",
		Short: "Wrap the store's data key under a new key, so that engines given it run too",
		Long: "Make the new key with `head -c32 /dev/urandom > FILE` (or give the base64 text FERRY_SECRET_KEY holds, in a file). " +
			"Nothing is sealed again and no engine stops: restart the engines with the new key one by one, then retire the old key.",
		Args: exactArgs(0, "no arguments: the new key is read from --new-key-file"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if newKeyFile == "" {
				return usageErrorf("give the new key with --new-key-file FILE; make it with `head -c32 /dev/urandom > FILE`")
			}
			key, err := readKeyFile(newKeyFile)
			if err != nil {
				return err
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			k, err := c.AddSecretKey(cmd.Context(), key)
			if err != nil {
				return err
			}
			list, err := c.SecretKeys(cmd.Context())
			if err != nil {
				return err
			}
			old := "OLD"
			for _, other := range list.Keys {
				if !other.InUse && other.Fingerprint != k.Fingerprint {
					old = other.Fingerprint
				}
			}
			for _, other := range list.Keys {
				if other.InUse && other.Fingerprint != k.Fingerprint {
					old = other.Fingerprint // the key of the engine that answered: the one being replaced
				}
			}
			_, err = fmt.Fprintf(con.stdout, "The store's data key is now wrapped under %s (fingerprint %s) too.\n"+
				"Next: restart every engine with it (--key-file %s, or FERRY_SECRET_KEY); then retire the old key through one of them:\n"+
				"  ferry key retire --fingerprint %s\n", newKeyFile, k.Fingerprint, newKeyFile, old)
			return err
		},
	}
	cmd.Flags().StringVar(&newKeyFile, "new-key-file", "", "file holding the new key: 32 bytes, or their base64")
	return cmd
}

// readKeyFile returns the base64 of the key in path, which holds its 32 bytes (a key file)
// or their base64 (what FERRY_SECRET_KEY holds). Its errors never quote the file.
func readKeyFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the new key: %w", err)
	}
	if len(data) == keySize {
		return base64.StdEncoding.EncodeToString(data), nil
	}
	text := strings.TrimSpace(string(data))
	if raw, err := base64.StdEncoding.DecodeString(text); err == nil && len(raw) == keySize {
		return text, nil
	}
	return "", fmt.Errorf("%s holds %d bytes, neither a key (32 bytes) nor its base64: make a key with `head -c32 /dev/urandom > %s`", path, len(data), path)
}

func newKeyRetireCommand(con *console) *cobra.Command {
	var fingerprint string
	cmd := &cobra.Command{
		Use:   "retire --fingerprint FINGERPRINT",
		Short: "Drop the store's wrap of an old key, once every engine runs on the new one: engines given the old key no longer start",
		Args:  exactArgs(0, "no arguments: name the key with --fingerprint"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fingerprint == "" {
				return usageErrorf("name the key to retire with --fingerprint; `ferry key list` shows them")
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			if err := c.RetireSecretKey(cmd.Context(), fingerprint); err != nil {
				return err
			}
			_, err = fmt.Fprintf(con.stdout, "Retired key %s: engines given it no longer start.\n", fingerprint)
			return err
		},
	}
	cmd.Flags().StringVar(&fingerprint, "fingerprint", "", "fingerprint of the key to retire, as `ferry key list` shows it")
	return cmd
}
