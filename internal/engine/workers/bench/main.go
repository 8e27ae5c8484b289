// Command bench serves one Python app through ferry's runtime behind a plain Go HTTP server, for
// comparing the serving path with other servers (see compare.sh).
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/workers"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on")
	dir := flag.String("dir", ".", "the app's directory")
	entrypoint := flag.String("entrypoint", "app:app", "module:attribute of the app")
	kind := flag.String("kind", "wsgi", "wsgi, asgi or handler")
	python := flag.String("python", "/usr/bin/python3", "Python interpreter")
	runDir := flag.String("run-dir", "", "directory for sockets (default: a new temporary one)")
	workerCount := flag.Int("workers", 0, "Python processes (0: the runtime's default)")
	threads := flag.Int("threads", 0, "concurrent requests per process (0: the runtime's default)")
	cpuProfile := flag.String("cpuprofile", "", "write the engine side's CPU profile to this file until stopped")
	flag.Parse()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				log.Print(err)
			}
		}()
	}

	if *runDir == "" {
		tmp, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			log.Fatal(err)
		}
		defer func() {
			if err := os.RemoveAll(tmp); err != nil {
				log.Print(err)
			}
		}()
		*runDir = tmp
	}
	manager := workers.New(workers.Config{
		RunDir:  *runDir,
		LogDir:  *runDir,
		Workers: *workerCount,
		Threads: *threads,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	app := workers.App{ID: "bench", Dir: *dir, Python: *python, Entrypoint: *entrypoint, Kind: *kind, Env: os.Environ()}
	server := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			manager.ServeHTTP(w, r, app)
		}),
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := server.Shutdown(shutdownCtx); err != nil {
			log.Print("server shutdown: ", err)
		}
		if err := manager.Shutdown(shutdownCtx); err != nil {
			log.Print("workers shutdown: ", err)
		}
	}()
	if err := server.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
