//go:build !windows

package cli

import (
	"context"
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

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/builder"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/deploy"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/edge"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/sandbox"
)

// The engine runs on Linux and macOS; Windows has serve_windows.go instead.

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	httpAddress := fs.String("http-address", envOr("FERRY_HTTP_ADDRESS", engine.DefaultHTTPAddress), "where apps are served (FERRY_HTTP_ADDRESS)")
	python := fs.String("python", os.Getenv("FERRY_PYTHON"), "base Python interpreter of builds (FERRY_PYTHON; default: the first found of "+strings.Join(builder.PythonCandidates(), ", ")+")")
	baseDomain := fs.String("base-domain", envOr("FERRY_BASE_DOMAIN", engine.DefaultBaseDomain), "apps are served as NAME.BASE_DOMAIN (FERRY_BASE_DOMAIN)")
	apiAddress := fs.String("api-address", os.Getenv("FERRY_API_ADDRESS"), "also serve the API on this TCP address; needs a token (FERRY_API_ADDRESS)")
	tokenFile := fs.String("token-file", "", "file holding the API token (else FERRY_TOKEN)")
	tlsCert := fs.String("tls-cert", "", "certificate for the TCP API")
	tlsKey := fs.String("tls-key", "", "key for the TCP API")
	sandboxMode := fs.String("sandbox", envOr("FERRY_SANDBOX", "auto"), "how apps are isolated: auto; on Linux uids (root), userns or landlock; on macOS sandbox-exec (FERRY_SANDBOX)")
	sandboxUIDs := fs.String("sandbox-uids", envOr("FERRY_SANDBOX_UIDS", fmt.Sprintf("%d-%d", sandbox.DefaultFirstUID, sandbox.DefaultLastUID)), "range of uids given to projects in sandbox mode uids (FERRY_SANDBOX_UIDS)")
	maxSize := fs.String("max-deployment-size", envOr("FERRY_MAX_DEPLOYMENT_SIZE", fmt.Sprintf("%dMiB", deploy.DefaultMaxBytes>>20)), "limit on the total size of one deployment's files, such as 500MiB or 2GiB (FERRY_MAX_DEPLOYMENT_SIZE)")
	maxFiles := fs.Int("max-deployment-files", deploy.MaxFiles, "limit on the number of files of one deployment")
	buildWorkers := fs.Int("build-workers", deploy.DefaultBuildWorkers, "builds run at once (FERRY_BUILD_WORKERS)")
	buildTimeout := fs.Duration("build-timeout", deploy.DefaultBuildTimeout, "a build still running after this fails (FERRY_BUILD_TIMEOUT)")
	maxQueuedBuilds := fs.Int("max-queued-builds", deploy.DefaultMaxQueuedBuilds, "deployments allowed to wait for a build; more are refused with 429 (FERRY_MAX_QUEUED_BUILDS)")
	nodeID := fs.String("node-id", os.Getenv("FERRY_NODE_ID"), "names this engine in its claims on builds; unique per engine sharing a database (FERRY_NODE_ID, default the host name)")
	if err := flagsFromEnv(fs, map[string]string{
		"build-workers":     "FERRY_BUILD_WORKERS",
		"build-timeout":     "FERRY_BUILD_TIMEOUT",
		"max-queued-builds": "FERRY_MAX_QUEUED_BUILDS",
	}); err != nil {
		return err
	}
	maxRequestBody := fs.String("max-request-body", envOr("FERRY_MAX_REQUEST_BODY", fmt.Sprintf("%dMiB", edge.DefaultMaxBodySize>>20)), "limit on an app's request body, such as 100MiB; larger ones get 413 (FERRY_MAX_REQUEST_BODY)")
	takeOver := fs.Bool("take-over", false, "take over from the engine running on the data dir, on its sockets and with its settings, without downtime (what `ferry upgrade` runs)")
	trustedProxies := fs.String("trusted-proxies", os.Getenv("FERRY_TRUSTED_PROXIES"), "addresses and CIDR prefixes of load balancers in front of the edge, such as 10.0.0.0/8, whose X-Forwarded-* headers apps may believe (FERRY_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *buildWorkers < 1 || *maxQueuedBuilds < 1 || *buildTimeout <= 0 {
		return errors.New("--build-workers and --max-queued-builds must be at least 1, and --build-timeout more than 0")
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
	proxies, err := edge.ParseTrustedProxies(*trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
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
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer cancel()
	return engine.Run(ctx, engine.Config{
		DataDir:        *dataDir,
		HTTPAddress:    *httpAddress,
		Python:         *python,
		BaseDomain:     *baseDomain,
		APIAddress:     *apiAddress,
		Token:          token,
		TLSCert:        *tlsCert,
		TLSKey:         *tlsKey,
		Logger:         slog.New(slog.NewTextHandler(stderr, nil)),
		TrustedProxies: proxies,
		TakeOver:       *takeOver,

		SandboxMode:     *sandboxMode,
		SandboxFirstUID: firstUID,
		SandboxLastUID:  lastUID,

		MaxDeploymentBytes: maxBytes,
		MaxDeploymentFiles: *maxFiles,

		NodeID:          *nodeID,
		BuildWorkers:    *buildWorkers,
		BuildTimeout:    *buildTimeout,
		MaxQueuedBuilds: *maxQueuedBuilds,
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
