package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
)

// defaultDataDir is FERRY_DATA_DIR, else the user's data dir of ferry.
func defaultDataDir() string {
	if dir := os.Getenv("FERRY_DATA_DIR"); dir != "" {
		return dir
	}
	dir, _ := launcher.DefaultDataDir()
	return dir
}

// addConnectionFlags adds the flags that choose the engine, for every command.
func (con *console) addConnectionFlags(root *cobra.Command) {
	flags := root.PersistentFlags()
	flags.StringVar(&con.dataDir, "data-dir", defaultDataDir(), "data dir of the local engine (FERRY_DATA_DIR)")
	flags.StringVar(&con.endpoint, "endpoint", os.Getenv("FERRY_ENDPOINT"),
		"URL of a remote engine, with its token in FERRY_TOKEN (FERRY_ENDPOINT); default: the one saved by ferry login, else the engine of --data-dir")
}

// connect returns a client of the engine cmd is to talk to: --endpoint (FERRY_ENDPOINT) with
// FERRY_TOKEN, else the saved login unless --data-dir was given, else the engine of the data dir.
func (con *console) connect(cmd *cobra.Command) (*client.Client, error) {
	cfg := client.Config{Endpoint: con.endpoint, Token: os.Getenv("FERRY_TOKEN"), UserAgent: userAgent()}
	if cfg.Endpoint == "" && !cmd.Flags().Changed("data-dir") {
		login, err := loadLogin()
		if err != nil {
			return nil, err
		}
		cfg.Endpoint, cfg.Token = login.Endpoint, login.Token
	}
	if cfg.Endpoint == "" {
		e, err := launcher.Find(cmd.Context(), con.dataDir)
		if err != nil {
			return nil, fmt.Errorf("%w (or give --endpoint for a remote engine, or run ferry login)", err)
		}
		cfg.Endpoint, cfg.Token = "unix://"+e.SocketPath, ""
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}

// explainEngineError is the exit code and message of an error the engine answered with.
func explainEngineError(err error) (int, string, bool) {
	e, ok := client.AsError(err)
	switch {
	case !ok:
		return 0, "", false
	case e.StatusCode == http.StatusUnauthorized || e.Code == api.CodeUnauthorized:
		why := "(missing, wrong or revoked)"
		if e.Message != "" {
			why = "(" + e.Message + ")" // the engine's reason: a team token revoked or expired; never the token itself
		}
		return ExitUnauthorized, "the engine refused the token " + why + ": run `ferry login ENDPOINT` again, or set FERRY_TOKEN to the engine's token or a team token", true
	case e.Code == api.CodeNotFound:
		return ExitNotFound, e.Error(), true
	}
	return ExitFailure, e.Error(), true
}

// login is what ferry login saves: how to reach a remote engine.
type login struct {
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

// configPath is the file ferry login writes: FERRY_CONFIG, else ferry/config.json in the
// user's config dir ($XDG_CONFIG_HOME, else ~/.config on Linux).
func configPath() (string, error) {
	if path := os.Getenv("FERRY_CONFIG"); path != "" {
		return path, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config dir to keep the login in (%w): set FERRY_CONFIG to a file path", err)
	}
	return filepath.Join(dir, "ferry", "config.json"), nil
}

// loadLogin reads the saved login; a zero login when there is none.
func loadLogin() (login, error) {
	path, err := configPath()
	if err != nil {
		return login{}, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return login{}, nil
	}
	if err != nil {
		return login{}, err
	}
	var saved login
	if err := json.Unmarshal(data, &saved); err != nil {
		return login{}, fmt.Errorf("%s is not a ferry config file (%v): run `ferry logout` and `ferry login` again", path, err)
	}
	return saved, nil
}

// saveLogin writes the login to the config file, readable by its owner only, replacing the
// file at once so that no reader sees half of it.
func saveLogin(saved login) (string, error) {
	path, err := configPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return "", err
	}
	return path, writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic writes data to path with mode 0600 through a new file renamed over it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
