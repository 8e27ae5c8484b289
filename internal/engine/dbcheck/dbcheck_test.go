package dbcheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

func TestVerifyAgainstARealServer(t *testing.T) {
	db := pgtest.Start(t)
	wrong := "wrong-" + db.Password
	for _, tc := range []struct {
		name string
		raw  string
		mode dburl.PoolMode
		kind string // "" for success
	}{
		{"the copied URL through the transaction pooler", db.TransactionURL(), dburl.Transaction, ""},
		{"the copied URL through the session pooler", db.TransactionURL(), dburl.Session, ""},
		{"direct", db.DirectURL(), dburl.Direct, ""},
		{"wrong password at the pooler", strings.Replace(db.TransactionURL(), db.Password, wrong, 1), dburl.Transaction, AuthenticationFailed},
		{"wrong password at the server", strings.Replace(db.DirectURL(), db.Password, wrong, 1), dburl.Direct, AuthenticationFailed},
		{"no TLS asked of a server that requires it", strings.Replace(db.DirectURL(), "sslmode=require", "sslmode=disable", 1), dburl.Direct, TLSRequired},
		{"missing database at the server", strings.Replace(db.DirectURL(), "/postgres?", "/nope?", 1), dburl.Direct, DatabaseMissing},
		{"missing database through the pooler", strings.Replace(db.SessionURL(), "/postgres?", "/nope?", 1), dburl.Session, DatabaseMissing},
		{"nothing listens", "postgresql://postgres:" + wrong + "@127.0.0.1:" + closedPort(t) + "/postgres", dburl.Direct, Unreachable},
		{"TLS asked of a server without it", "postgresql://postgres:" + wrong + "@" + serverWithoutTLS(t) + "/postgres?sslmode=require", dburl.Direct, TLSRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(context.Background(), tc.raw, tc.mode)
			var failure *Failure
			switch {
			case tc.kind == "" && err != nil:
				t.Fatalf("want success, got %v", err)
			case tc.kind == "":
				return
			case !errors.As(err, &failure) || failure.Kind != tc.kind:
				t.Fatalf("want a %s failure, got %v", tc.kind, err)
			}
			t.Log(failure.Message)
			if strings.Contains(failure.Message, db.Password) || strings.Contains(failure.Message, wrong) {
				t.Errorf("the message shows the password: %s", failure.Message)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	return port
}

// serverWithoutTLS answers PostgreSQL's TLS request with "N", as a server
// without TLS does, and returns its address.
func serverWithoutTLS(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			request := make([]byte, 8)
			if _, err := conn.Read(request); err == nil {
				_, _ = conn.Write([]byte("N"))
			}
			_ = conn.Close()
		}
	}()
	return l.Addr().String()
}
