// Package cli is the command line of ferry: the `ferry` binary, and the
// `serve` subcommand of the provider binary that runs the engine.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

const usage = `ferry deploys Python web apps on a self-hosted engine.

Usage:
  ferry serve   [--data-dir DIR] [--http-address ADDR] [--python PATH] [--api-address ADDR --token-file FILE]
                [--max-deployment-size SIZE] [--max-deployment-files N]
                [--build-workers N] [--build-timeout DURATION] [--max-queued-builds N] [--node-id NAME]
                [--git-timeout DURATION]
                run the engine in the foreground
  ferry status  [--data-dir DIR]   show the engine of a data dir
  ferry stop    [--data-dir DIR]   stop the engine of a data dir
  ferry version                    print the version

Settings also come from FERRY_DATA_DIR, FERRY_HTTP_ADDRESS, FERRY_PYTHON, FERRY_API_ADDRESS, FERRY_TOKEN,
FERRY_BUILD_WORKERS, FERRY_BUILD_TIMEOUT, FERRY_MAX_QUEUED_BUILDS, FERRY_NODE_ID.
`

// Run runs the command in args (args[0] is the subcommand) and returns the
// process exit code.
func Run(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprint(stderr, usage) // nowhere left to report a failed write
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "status":
		err = status(args[1:], stdout)
	case "stop":
		err = stop(args[1:], stdout)
	case "version", "--version":
		_, err = fmt.Fprintln(stdout, "ferry", version.String())
	case "help", "-h", "--help":
		_, err = fmt.Fprint(stdout, usage)
	default:
		_, _ = fmt.Fprintf(stderr, "ferry: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "ferry:", err)
		return 1
	}
	return 0
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func dataDirFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("FERRY_DATA_DIR")
	if def == "" {
		def, _ = launcher.DefaultDataDir()
	}
	return fs.String("data-dir", def, "data dir of the engine (FERRY_DATA_DIR)")
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	httpAddress := fs.String("http-address", envOr("FERRY_HTTP_ADDRESS", engine.DefaultHTTPAddress), "where apps are served (FERRY_HTTP_ADDRESS)")
	python := fs.String("python", envOr("FERRY_PYTHON", engine.DefaultPython), "base Python interpreter of builds (FERRY_PYTHON)")
	baseDomain := fs.String("base-domain", envOr("FERRY_BASE_DOMAIN", engine.DefaultBaseDomain), "apps are served as NAME.BASE_DOMAIN (FERRY_BASE_DOMAIN)")
	apiAddress := fs.String("api-address", os.Getenv("FERRY_API_ADDRESS"), "also serve the API on this TCP address; needs a token (FERRY_API_ADDRESS)")
	tokenFile := fs.String("token-file", "", "file holding the API token (else FERRY_TOKEN)")
	tlsCert := fs.String("tls-cert", "", "certificate for the TCP API")
	tlsKey := fs.String("tls-key", "", "key for the TCP API")
	sandboxMode := fs.String("sandbox", envOr("FERRY_SANDBOX", "auto"), "how apps are isolated: auto, uids (root), userns or landlock (FERRY_SANDBOX)")
	sandboxUIDs := fs.String("sandbox-uids", envOr("FERRY_SANDBOX_UIDS", fmt.Sprintf("%d-%d", sandbox.DefaultFirstUID, sandbox.DefaultLastUID)), "range of uids given to projects in sandbox mode uids (FERRY_SANDBOX_UIDS)")
	maxSize := fs.String("max-deployment-size", envOr("FERRY_MAX_DEPLOYMENT_SIZE", fmt.Sprintf("%dMiB", deploy.DefaultMaxBytes>>20)), "limit on the total size of one deployment's files, such as 500MiB or 2GiB (FERRY_MAX_DEPLOYMENT_SIZE)")
	maxFiles := fs.Int("max-deployment-files", deploy.MaxFiles, "limit on the number of files of one deployment")
	buildWorkers := fs.Int("build-workers", deploy.DefaultBuildWorkers, "builds run at once (FERRY_BUILD_WORKERS)")
	buildTimeout := fs.Duration("build-timeout", deploy.DefaultBuildTimeout, "a build still running after this fails (FERRY_BUILD_TIMEOUT)")
	maxQueuedBuilds := fs.Int("max-queued-builds", deploy.DefaultMaxQueuedBuilds, "deployments allowed to wait for a build; more are refused with 429 (FERRY_MAX_QUEUED_BUILDS)")
	gitTimeout := fs.Duration("git-timeout", deploy.DefaultGitTimeout, "fetching one git commit for a deployment fails after this (FERRY_GIT_TIMEOUT)")
	nodeID := fs.String("node-id", os.Getenv("FERRY_NODE_ID"), "names this engine in its claims on builds; unique per engine sharing a database (FERRY_NODE_ID, default the host name)")
	if err := flagsFromEnv(fs, map[string]string{
		"build-workers":     "FERRY_BUILD_WORKERS",
		"build-timeout":     "FERRY_BUILD_TIMEOUT",
		"max-queued-builds": "FERRY_MAX_QUEUED_BUILDS",
		"git-timeout":       "FERRY_GIT_TIMEOUT",
	}); err != nil {
		return err
	}
	maxRequestBody := fs.String("max-request-body", envOr("FERRY_MAX_REQUEST_BODY", fmt.Sprintf("%dMiB", edge.DefaultMaxBodySize>>20)), "limit on an app's request body, such as 100MiB; larger ones get 413 (FERRY_MAX_REQUEST_BODY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *buildWorkers < 1 || *maxQueuedBuilds < 1 || *buildTimeout <= 0 || *gitTimeout <= 0 {
		return errors.New("--build-workers and --max-queued-builds must be at least 1, and --build-timeout and --git-timeout more than 0")
	}
	maxBytes, err := parseSize(*maxSize)
	if err != nil {
		return fmt.Errorf("--max-deployment-size: %w", err)
	}
	if *maxFiles <= 0 {
		return fmt.Errorf("--max-deployment-files is %d: give a positive number", *maxFiles)
	}
	if *dataDir == "" {
		return errors.New("no data dir: pass --data-dir or set FERRY_DATA_DIR")
	}
	requestBodyLimit, err := parseSize(*maxRequestBody)
	if err != nil {
		return fmt.Errorf("--max-request-body: %w", err)
	}
	token := os.Getenv("FERRY_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	firstUID, lastUID, err := parseUIDRange(*sandboxUIDs)
	if err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	return engine.Run(ctx, engine.Config{
		DataDir:     *dataDir,
		HTTPAddress: *httpAddress,
		Python:      *python,
		BaseDomain:  *baseDomain,
		APIAddress:  *apiAddress,
		Token:       token,
		TLSCert:     *tlsCert,
		TLSKey:      *tlsKey,
		Logger:      slog.New(slog.NewTextHandler(stderr, nil)),

		SandboxMode:     *sandboxMode,
		SandboxFirstUID: firstUID,
		SandboxLastUID:  lastUID,

		MaxDeploymentBytes: maxBytes,
		MaxDeploymentFiles: *maxFiles,

		NodeID:          *nodeID,
		BuildWorkers:    *buildWorkers,
		BuildTimeout:    *buildTimeout,
		MaxQueuedBuilds: *maxQueuedBuilds,
		GitTimeout:      *gitTimeout,
		MaxRequestBody:  requestBodyLimit,
	})
}

// parseUIDRange reads "FIRST-LAST".
func parseUIDRange(s string) (first, last int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		first, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			last, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || first <= 0 || last < first {
		return 0, 0, fmt.Errorf("--sandbox-uids %q is not a range of uids such as %d-%d", s, sandbox.DefaultFirstUID, sandbox.DefaultLastUID)
	}
	return first, last, nil
}

// sizeUnits are the suffixes parseSize knows, longest first so that "MiB"
// is not read as "B".
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// parseSize reads a positive byte count such as 500MiB, 2GB or 1048576.
func parseSize(text string) (int64, error) {
	number, factor := strings.TrimSpace(text), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(strings.ToLower(number), strings.ToLower(u.suffix)) {
			number, factor = strings.TrimSpace(number[:len(number)-len(u.suffix)]), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("%q is not a size: write a positive whole number with an optional unit, such as 500MiB, 2GB or 1048576", text)
	}
	return n * factor, nil
}

// flagsFromEnv sets flags from the environment variables named for them,
// before the command line (which wins) is parsed.
func flagsFromEnv(fs *flag.FlagSet, envByFlag map[string]string) error {
	for name, env := range envByFlag {
		if value := os.Getenv(env); value != "" {
			if err := fs.Set(name, value); err != nil {
				return fmt.Errorf("%s=%q: %w", env, value, err)
			}
		}
	}
	return nil
}

func status(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := launcher.Find(context.Background(), *dataDir)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(e.Health)
}

func stop(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	dataDir := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	e, err := launcher.Find(ctx, *dataDir)
	if errors.Is(err, launcher.ErrNotRunning) {
		_, err := fmt.Fprintln(stdout, "no engine is running on", *dataDir)
		return err
	}
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{Endpoint: "unix://" + e.SocketPath, UserAgent: "ferry/" + version.String()})
	if err != nil {
		return err
	}
	if err := c.Shutdown(ctx); err != nil {
		return err
	}
	// The engine releases its socket when it has stopped.
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(e.SocketPath); errors.Is(err, os.ErrNotExist) {
			_, err := fmt.Fprintf(stdout, "stopped the engine of %s (pid %d)\n", e.Health.DataDir, e.Health.PID)
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the engine (pid %d) did not stop within 10s", e.Health.PID)
}
