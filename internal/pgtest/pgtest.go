// Package pgtest starts, for tests, a real PostgreSQL that requires TLS and
// two real PgBouncers shaped like Supabase's pooler: transaction mode on port
// 6543 and session mode on port 5432 of one loopback address other than
// 127.0.0.1, where clients log in as postgres.<ref> and are served by the
// postgres role, as Supavisor does. A test gets the URLs exactly as
// Supabase's dashboard and Vercel's integration write them.
package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/freeport"
	"github.com/jackc/pgx/v5"
)

// Ref is the Supabase project ref of the test pooler's tenant user.
const Ref = "abcdefghijklmnopqrst"

// Packages are the Debian packages the servers need.
var Packages = []string{"postgresql", "pgbouncer"}

// Server is a running PostgreSQL with its two poolers.
type Server struct {
	Password   string
	Port       string // PostgreSQL's own port, on 127.0.0.1
	PoolerHost string // the poolers' loopback address, such as 127.0.0.7
	dir        string
}

// PoolerUser is the user a client of the pooler logs in as.
func PoolerUser() string { return "postgres." + Ref }

// TransactionURL is the pooler URL as Supabase's dashboard (Connect,
// Transaction pooler) and Vercel's POSTGRES_URL give it.
func (s *Server) TransactionURL() string {
	return fmt.Sprintf("postgres://%s:%s@%s:6543/postgres?sslmode=require&supa=base-pooler.x", PoolerUser(), s.Password, s.PoolerHost)
}

// PrismaURL is Vercel's POSTGRES_PRISMA_URL.
func (s *Server) PrismaURL() string { return s.TransactionURL() + "&pgbouncer=true" }

// SessionURL is Vercel's POSTGRES_URL_NON_POOLING: the session pooler.
func (s *Server) SessionURL() string {
	return fmt.Sprintf("postgres://%s:%s@%s:5432/postgres?sslmode=require", PoolerUser(), s.Password, s.PoolerHost)
}

// DirectURL is a connection to PostgreSQL itself.
func (s *Server) DirectURL() string {
	return fmt.Sprintf("postgresql://postgres:%s@127.0.0.1:%s/postgres?sslmode=require", s.Password, s.Port)
}

// Start starts the servers for one test and stops them when it ends. It
// installs the Debian packages when they are missing and it runs as root;
// otherwise it skips the test, saying what to install.
func Start(t testing.TB) *Server {
	t.Helper()
	InstallMissing(t, Packages...)
	bin := postgresBin(t)
	pgbouncer, err := exec.LookPath("pgbouncer")
	if err != nil {
		pgbouncer = "/usr/sbin/pgbouncer"
	}
	// Not t.TempDir(): the servers run as the postgres user, which cannot
	// pass through its 0700 parents.
	dir, err := os.MkdirTemp("", "pgtest") //nolint:usetesting // see above
	if err != nil {
		t.Fatal(err)
	}
	owner := serverOwner(t)
	s := &Server{Password: "pw-" + randomHex(t, 8), dir: dir}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("pgtest: servers' files kept in %s", dir)
		}
	})
	if err := writeCertificate(dir); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	chownAll(t, dir, owner)
	run(t, owner, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "--no-instructions")
	_, s.Port, _ = net.SplitHostPort(freeport.Loopback(t))
	writeFile(t, filepath.Join(data, "pg_hba.conf"), `local all all trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostnossl all all 127.0.0.1/32 reject
`)
	writeFile(t, filepath.Join(data, "postgresql.auto.conf"), fmt.Sprintf(`listen_addresses = '127.0.0.1'
port = %s
unix_socket_directories = '%s'
ssl = on
ssl_cert_file = '%s'
ssl_key_file = '%s'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
`, s.Port, dir, filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")))
	chownAll(t, dir, owner)
	// SIGINT: PostgreSQL's fast shutdown.
	postgres := s.startProcess(t, owner, "postgresql", exec.Command(filepath.Join(bin, "postgres"), "-D", data), syscall.SIGINT)
	s.waitReady(t, postgres, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.socketConnString("postgres"))
		if err == nil {
			err = conn.Close(ctx)
		}
		return err
	})
	s.Exec(t, "postgres", fmt.Sprintf(`ALTER ROLE postgres PASSWORD '%s'`, s.Password))

	s.PoolerHost = poolerHost(t)
	// The transaction pooler keeps few server connections, so that clients
	// share them as on a busy pooler; the session pooler gives each client
	// its own, as many as the tests open at once.
	for _, pooler := range []struct {
		port, mode string
		size       int
	}{{"6543", "transaction", 4}, {"5432", "session", 80}} {
		s.startPooler(t, pgbouncer, owner, pooler.port, pooler.mode, pooler.size)
	}
	return s
}

// Exec runs SQL in database db as the postgres role, through the unix socket.
func (s *Server) Exec(t testing.TB, db, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.socketConnString(db))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// socketConnString connects as the postgres role through the unix socket.
func (s *Server) socketConnString(db string) string {
	return fmt.Sprintf("host=%s port=%s user=postgres dbname=%s sslmode=disable", s.dir, s.Port, db)
}

// startPooler starts a PgBouncer in mode on PoolerHost:port with at most
// size server connections.
func (s *Server) startPooler(t testing.TB, pgbouncer string, owner *account, port, mode string, size int) {
	t.Helper()
	name := "pgbouncer-" + port
	writeFile(t, filepath.Join(s.dir, "userlist.txt"), fmt.Sprintf("%q %q\n", PoolerUser(), s.Password))
	config := filepath.Join(s.dir, name+".ini")
	writeFile(t, config, fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%[1]s user=postgres password=%[2]s
[pgbouncer]
listen_addr = %[3]s
listen_port = %[4]s
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %[5]s/userlist.txt
pool_mode = %[6]s
default_pool_size = %[7]d
max_client_conn = 500
client_tls_sslmode = allow
client_tls_cert_file = %[5]s/server.crt
client_tls_key_file = %[5]s/server.key
server_tls_sslmode = require
`, s.Port, s.Password, s.PoolerHost, port, s.dir, mode, size))
	chownAll(t, s.dir, owner)
	// SIGTERM: PgBouncer's immediate shutdown (SIGINT waits for clients).
	pooler := s.startProcess(t, owner, name, exec.Command(pgbouncer, config), syscall.SIGTERM)
	address := net.JoinHostPort(s.PoolerHost, port)
	s.waitReady(t, pooler, func() error {
		conn, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			err = conn.Close()
		}
		return err
	})
}

// server is a process of the fixture.
type server struct {
	name    string
	log     string
	process *os.Process
	exited  chan struct{} // closed when it has exited, with err
	err     error
}

// startProcess starts cmd as owner with its output in <name>.log, stops it
// with stop when the test ends, and (on Linux) has the kernel kill it if the
// test process dies first, so that no server outlives a test binary stopped
// by a timeout.
func (s *Server) startProcess(t testing.TB, owner *account, name string, cmd *exec.Cmd, stop syscall.Signal) *server {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, name+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = log.Close() }() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, "/"
	cmd.SysProcAttr = owner.attr()
	dieWithTest(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &server{name: name, log: log.Name(), process: cmd.Process, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.process.Signal(stop)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitReady waits until ready succeeds, failing the test if p exits first
// or a minute passes.
func (s *Server) waitReady(t testing.TB, p *server, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.exited:
			log, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited: %v\n%s", p.name, p.err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready after a minute: %v", p.name, err)
		}
	}
}

// InstallMissing installs the Debian packages that are not installed, as
// root; otherwise it skips the test, saying what to install.
func InstallMissing(t testing.TB, packages ...string) {
	t.Helper()
	var missing []string
	for _, p := range packages {
		if exec.Command("dpkg", "-s", p).Run() != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Geteuid() != 0 {
		t.Skipf("needs Debian packages %s: run as root, or apt-get install -y %s", strings.Join(missing, " "), strings.Join(missing, " "))
	}
	t.Logf("installing %s", strings.Join(missing, " "))
	cmd := exec.Command("apt-get", append([]string{"install", "-y", "-q"}, missing...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get install %s: %v\n%s", strings.Join(missing, " "), err, out)
	}
}

// postgresBin is the newest installed PostgreSQL's bin directory.
func postgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) < versionOf(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(initdb)
	}
	t.Fatal("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql: install postgresql")
	return ""
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// account is who the servers run as: the postgres user when the test runs
// as root (initdb refuses root), else the test's own user.
type account struct{ uid, gid int }

func serverOwner(t testing.TB) *account {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("no postgres user to run PostgreSQL as (initdb refuses root): %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &account{uid: uid, gid: gid}
}

func chownAll(t testing.TB, dir string, owner *account) {
	t.Helper()
	if owner == nil {
		return
	}
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, owner.uid, owner.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, owner *account, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = owner.attr()
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// poolerHost picks a loopback address whose ports 6543 and 5432 are free:
// 127.0.0.0/8 is all loopback, and packages tested at once each take one.
func poolerHost(t testing.TB) string {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		n, _ := rand.Int(rand.Reader, big.NewInt(250))
		host := fmt.Sprintf("127.0.0.%d", n.Int64()+2)
		free := true
		for _, port := range []string{"6543", "5432"} {
			l, err := net.Listen("tcp", net.JoinHostPort(host, port))
			if err != nil {
				free = false
				break
			}
			_ = l.Close()
		}
		if free {
			return host
		}
	}
	t.Fatal("no loopback address with ports 6543 and 5432 free")
	return ""
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// writeCertificate writes a self-signed certificate with its key, as
// server.crt and server.key: clients ask for TLS (sslmode=require) without
// verifying it, as Supabase's connection strings do.
func writeCertificate(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pgtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "server.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
