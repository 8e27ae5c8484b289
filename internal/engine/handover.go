package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store/sqlite"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

// Upgrade in place (see api.HandoverProtocol for the exchange). The old
// engine hands its listening sockets to the new one, which serves on the
// very same sockets: a connection is never refused, only accepted by one
// engine or the other. Apps are not handed over: each engine runs its own
// instances (a cold start is about 150 ms), so the new engine starts them as
// requests come, while the old one finishes the requests it has, with its
// own instances, and exits with them.
const (
	// How long the old engine waits for its API calls to end before it
	// gives up the store; calls still running then may fail.
	apiDrainTimeout = time.Minute
	// How long the old engine waits for the new one to serve after giving
	// up the store (migrating a large store takes a while).
	takeOverTimeout = 5 * time.Minute
	// After the new engine serves, the old one keeps serving for this
	// long, answering with "Connection: close", so that clients move to
	// new connections (which the new engine accepts) rather than find an
	// idle one closed under them.
	handoverGrace = 2 * time.Second
	// How long the old engine lets the requests it has finish before it
	// stops its apps.
	handoverDrain = 2 * time.Minute
	// Sandbox slots: two engines of one data dir at once (during a
	// handover) keep their cgroups and instance directories apart.
	slotA, slotB = "a", "b"
)

var errHandoverProtocol = errors.New("the other engine broke the handover protocol")

// handoverConn is a unix socket connection carrying the handover's JSON
// lines, and descriptors with them.
type handoverConn struct {
	*net.UnixConn
}

// send writes v as one line, with files attached.
func (c handoverConn) send(v any, files ...*os.File) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	var rights []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			// Not f.Fd(), which puts the descriptor in blocking mode: a copy of a listener shares
			// its mode with the listener, whose accept would then block in the kernel when the
			// other engine takes the connection first, and its Close would wait for it forever.
			raw, err := f.SyscallConn()
			if err != nil {
				return err
			}
			if err := raw.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
				return err
			}
		}
		rights = unix.UnixRights(fds...)
	}
	n, _, err := c.WriteMsgUnix(line, rights, nil)
	if err == nil && n < len(line) {
		_, err = c.Write(line[n:])
	}
	return err
}

// maxHandoverFiles bounds the descriptors one line may carry.
const maxHandoverFiles = 8

// receive reads one line into v, and the files attached to it. The two sides
// take turns, so nothing follows the line until this side answers.
func (c handoverConn) receive(v any) ([]*os.File, error) {
	var line []byte
	var files []*os.File
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(maxHandoverFiles*4))
	for !bytes.HasSuffix(line, []byte("\n")) {
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		received, parseErr := parseRights(oob[:oobn])
		files = append(files, received...)
		if err == nil {
			err = parseErr
		}
		if err == nil && n == 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			closeAll(files)
			return nil, err
		}
		line = append(line, buf[:n]...)
	}
	if bytes.IndexByte(line, '\n') != len(line)-1 {
		closeAll(files)
		return nil, fmt.Errorf("%w: more than one line at once", errHandoverProtocol)
	}
	if err := json.Unmarshal(line, v); err != nil {
		closeAll(files)
		return nil, fmt.Errorf("%w: %v", errHandoverProtocol, err)
	}
	return files, nil
}

func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	messages, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range messages {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			return files, err
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd) // not for app instances to inherit
			files = append(files, os.NewFile(uintptr(fd), "handed-over"))
		}
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		_ = f.Close() // never used
	}
}

// expect receives a step and checks it is the one the protocol says comes next.
func (c handoverConn) expect(want string) error {
	var got api.HandoverStep
	files, err := c.receive(&got)
	closeAll(files) // steps carry none
	if err != nil {
		return err
	}
	if got.Step != want {
		return fmt.Errorf("%w: step %q where %q comes", errHandoverProtocol, got.Step, want)
	}
	return nil
}

// The old engine's side.

// handOver answers a new engine's PathHandover request on the unix socket.
func (e *Engine) handOver(w http.ResponseWriter, r *http.Request) {
	var offer api.HandoverOffer
	if !strings.EqualFold(r.Header.Get("Upgrade"), api.HandoverProtocol) {
		writeHandoverError(w, http.StatusBadRequest, "a handover upgrades the connection: send Connection: Upgrade and Upgrade: "+api.HandoverProtocol)
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&offer); err != nil {
		writeHandoverError(w, http.StatusBadRequest, "the handover offer is not valid JSON: "+err.Error())
		return
	}
	schema, err := e.store.SchemaVersion(r.Context())
	if err != nil {
		writeHandoverError(w, http.StatusInternalServerError, "read the store's schema version: "+err.Error())
		return
	}
	if offer.SchemaVersion < schema {
		writeHandoverError(w, http.StatusConflict, fmt.Sprintf("the store is at schema version %d, but the engine offering to take over (version %s) knows schema versions up to %d: "+
			"only a ferry of this engine's version (%s) or later can take over", schema, offer.Version, offer.SchemaVersion, version.String()))
		return
	}
	if !e.handingOver.CompareAndSwap(false, true) {
		writeHandoverError(w, http.StatusConflict, "another engine is taking over already")
		return
	}
	defer e.handingOver.Store(false)
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		writeHandoverError(w, http.StatusInternalServerError, "this connection cannot be taken over")
		return
	}
	raw, buffered, err := hijacker.Hijack()
	if err != nil {
		e.log.Error("handover: take the connection", "error", err)
		return
	}
	defer func() { _ = raw.Close() }() // the handover is over, whatever its end
	unixConn, ok := raw.(*net.UnixConn)
	if !ok || buffered.Reader.Buffered() > 0 {
		e.log.Error("handover refused: not a plain unix socket connection, or data sent before the protocol switch")
		return
	}
	conn := handoverConn{unixConn}
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+api.HandoverProtocol+"\r\n\r\n"); err != nil {
		return
	}
	log := e.log.With("successor", offer.Version)
	log.Info("handover: a new engine is taking over")
	if err := e.runHandover(conn, schema); err != nil {
		log.Warn("handover failed; this engine stays in charge", "error", err)
	}
}

func writeHandoverError(w http.ResponseWriter, status int, message string) {
	code := map[int]string{http.StatusBadRequest: api.CodeBadRequest, http.StatusConflict: api.CodeConflict}[status]
	if code == "" {
		code = api.CodeInternal
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Error{Code: code, Message: message}) // a failed write means the peer has gone
}

// runHandover runs the old engine's turns. Until the new engine serves, any
// failure leaves this engine in charge.
func (e *Engine) runHandover(conn handoverConn, schema int) error {
	if err := conn.expect(api.StepReceive); err != nil {
		return err
	}
	state := api.HandoverState{Version: version.String(), SchemaVersion: schema, APIVersion: api.Version, Settings: e.settings, SandboxSlot: e.slot}
	files := []*os.File{e.lock}
	state.Descriptors = append(state.Descriptors, api.DescriptorLock)
	for _, l := range []struct {
		name     string
		listener net.Listener
	}{{api.DescriptorAPISocket, e.apiSocket}, {api.DescriptorEdge, e.edgeListener}, {api.DescriptorEdgeTLS, e.httpsListener}, {api.DescriptorAPITCP, e.apiTCP}} {
		if l.listener == nil {
			continue
		}
		withFile, ok := l.listener.(interface{ File() (*os.File, error) })
		if !ok {
			closeAll(files[1:])
			return fmt.Errorf("the %s listener (%T) cannot be handed over", l.name, l.listener)
		}
		f, err := withFile.File()
		if err != nil {
			closeAll(files[1:])
			return err
		}
		files = append(files, f)
		state.Descriptors = append(state.Descriptors, l.name)
	}
	err := conn.send(state, files...)
	closeAll(files[1:]) // copies made for sending; the lock is still ours
	if err != nil {
		return err
	}
	if err := conn.expect(api.StepReleaseStore); err != nil {
		return err
	}

	// From here this engine writes nothing: calls wait, builds go back to
	// the queue for the new engine, housekeeping stops. Apps keep serving.
	drainCtx, cancel := context.WithTimeout(context.Background(), apiDrainTimeout)
	if err := e.calls.pause(drainCtx); err != nil {
		e.log.Warn("handover: API calls still running after the drain timeout; they may fail", "timeout", apiDrainTimeout)
	}
	cancel()
	e.stopWork()
	if err := conn.send(api.HandoverStep{Step: api.StepStoreReleased}); err != nil {
		return e.resume(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(takeOverTimeout)); err != nil {
		return e.resume(err)
	}
	if err := conn.expect(api.StepServing); err != nil {
		return e.resume(err)
	}

	// The new engine serves. This one finishes what it has and exits.
	e.handedOver.Store(true)
	e.ownsSocket.Store(false)
	e.apiSocket.SetUnlinkOnClose(false) // the socket's path is the new engine's now
	e.calls.resume(forwardTo(filepath.Join(e.dataDir, api.SocketName)))
	e.log.Info("handover: the new engine serves; finishing the requests in progress", "grace", handoverGrace)
	time.AfterFunc(handoverGrace, e.stop)
	return nil
}

// resume puts this engine back in charge after a handover failed once it had
// given up the store, if the store is still at its schema.
func (e *Engine) resume(cause error) error {
	ctx := context.Background()
	schema, err := e.store.SchemaVersion(ctx)
	if err == nil && schema != sqlite.SchemaVersion() {
		err = fmt.Errorf("the new engine migrated the store to schema version %d, which this engine (version %s) does not know", schema, version.String())
	}
	if err == nil {
		err = e.startWork()
	}
	if err != nil {
		e.log.Error("the handover failed after this engine gave up the store, and it cannot take it back: stopping. Start the new version (ferry serve, or the next terraform apply)",
			"cause", cause, "error", err)
		e.calls.resume(nil)
		e.stop()
		return cause
	}
	e.calls.resume(nil)
	return cause
}

// closeAfterHandover asks every client of the old engine to come back on a
// new connection, once the new engine serves.
func (e *Engine) closeAfterHandover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.handedOver.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// The new engine's side.

// predecessor is the engine this one takes over from, while it does.
type predecessor struct {
	conn  handoverConn
	state api.HandoverState
	lock  *os.File
	// Listeners by api.Descriptor* name.
	listeners map[string]net.Listener
}

// takeOver asks the engine running on dataDir to hand over. It returns nil,
// and no error, when no engine runs there: then there is nothing to take over.
func takeOver(ctx context.Context, dataDir string) (*predecessor, error) {
	socket := filepath.Join(dataDir, api.SocketName)
	raw, err := (&net.Dialer{}).DialContext(ctx, "unix", socket)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reach the engine to take over from (%s): %w", socket, err)
	}
	unixConn, ok := raw.(*net.UnixConn)
	if !ok {
		_ = raw.Close()
		return nil, fmt.Errorf("reach the engine to take over from (%s): got a %T, not a unix connection", socket, raw)
	}
	conn := handoverConn{unixConn}
	p := &predecessor{conn: conn, listeners: map[string]net.Listener{}}
	if err := p.handshake(ctx); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *predecessor) handshake(ctx context.Context) error {
	if deadline, ok := ctx.Deadline(); ok {
		if err := p.conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	offer, err := json.Marshal(api.HandoverOffer{Version: version.String(), SchemaVersion: sqlite.SchemaVersion()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://ferry"+api.PathHandover, bytes.NewReader(offer))
	if err != nil {
		return err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", api.HandoverProtocol)
	req.Header.Set("Content-Type", "application/json")
	if err := req.Write(p.conn); err != nil {
		return fmt.Errorf("offer to take over: %w", err)
	}
	reader := bufio.NewReader(p.conn)
	resp, err := http.ReadResponse(reader, req)
	if err != nil {
		return fmt.Errorf("offer to take over: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		var refusal api.Error
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || json.Unmarshal(body, &refusal) != nil || refusal.Message == "" {
			refusal.Message = fmt.Sprintf("it answered %s: an engine of API version %d or older cannot hand over. Stop it (ferry stop), then start this version",
				resp.Status, api.HandoverSince-1)
		}
		return fmt.Errorf("the running engine refused to hand over: %s", refusal.Message)
	}
	if reader.Buffered() > 0 {
		return fmt.Errorf("%w: data before the first turn", errHandoverProtocol)
	}
	if err := p.conn.send(api.HandoverStep{Step: api.StepReceive}); err != nil {
		return err
	}
	files, err := p.conn.receive(&p.state)
	if err != nil {
		return fmt.Errorf("receive the running engine's sockets: %w", err)
	}
	if len(files) != len(p.state.Descriptors) {
		closeAll(files)
		return fmt.Errorf("%w: %d descriptors for %v", errHandoverProtocol, len(files), p.state.Descriptors)
	}
	for i, name := range p.state.Descriptors {
		if name == api.DescriptorLock {
			p.lock = files[i]
			continue
		}
		l, err := net.FileListener(files[i])
		_ = files[i].Close() // the listener holds its own copy
		if err != nil {
			return fmt.Errorf("use the handed-over %s socket: %w", name, err)
		}
		p.listeners[name] = l
	}
	if p.lock == nil || p.listeners[api.DescriptorAPISocket] == nil || p.listeners[api.DescriptorEdge] == nil {
		return fmt.Errorf("%w: the lock and the API and edge sockets must be handed over, got %v", errHandoverProtocol, p.state.Descriptors)
	}
	return p.conn.SetDeadline(time.Time{})
}

// slot is the sandbox slot the new engine takes: not the old one's.
func (p *predecessor) slot() string {
	if p.state.SandboxSlot == slotB {
		return slotA
	}
	return slotB
}

// releaseStore asks the old engine to stop writing, and returns once it has.
func (p *predecessor) releaseStore(ctx context.Context) error {
	if err := p.conn.send(api.HandoverStep{Step: api.StepReleaseStore}); err != nil {
		return fmt.Errorf("ask the running engine to release the store: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = p.conn.SetReadDeadline(time.Now()) })
	defer stop()
	if err := p.conn.expect(api.StepStoreReleased); err != nil {
		return fmt.Errorf("wait for the running engine to release the store: %w", err)
	}
	return nil
}

// serving tells the old engine that this one serves, which ends the handover.
func (p *predecessor) serving() error {
	defer p.close()
	return p.conn.send(api.HandoverStep{Step: api.StepServing})
}

// close ends the exchange, and closes what was handed over but not used.
// Before serving was sent, the old engine resumes.
func (p *predecessor) close() {
	_ = p.conn.Close() // a second close after serving changes nothing
	for name, l := range p.listeners {
		if l != nil {
			_ = l.Close() // never served on; the old engine has its own copy
			p.listeners[name] = nil
		}
	}
}

// settingsOf are the settings of cfg that a successor adopts.
func settingsOf(cfg Config) api.EngineSettings {
	return api.EngineSettings{
		HTTPAddress: cfg.HTTPAddress, Python: cfg.Python, ExtraPythons: cfg.ExtraPythons, BaseDomain: cfg.BaseDomain,
		APIAddress: cfg.APIAddress, Token: cfg.Token, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey,
		SandboxMode: cfg.SandboxMode, SandboxFirstUID: cfg.SandboxFirstUID, SandboxLastUID: cfg.SandboxLastUID,
		MaxDeploymentBytes: cfg.MaxDeploymentBytes, MaxDeploymentFiles: cfg.MaxDeploymentFiles,
		NodeID: cfg.NodeID, BuildWorkers: cfg.BuildWorkers, BuildTimeout: cfg.BuildTimeout, MaxQueuedBuilds: cfg.MaxQueuedBuilds,
		MaxRequestBody: cfg.MaxRequestBody, TrustedProxies: prefixStrings(cfg.TrustedProxies), MaxQueue: cfg.MaxQueue,
		HTTPSAddress: cfg.HTTPSAddress, HTTPSAnyPortIfTaken: cfg.HTTPSAnyPortIfTaken,
		ACMEDirectory: cfg.ACMEDirectory, ACMEEmail: cfg.ACMEEmail, ACMECARoots: cfg.ACMECARoots, HSTSMaxAge: cfg.HSTSMaxAge,
		PublicAddresses: addrStrings(cfg.PublicAddresses), DNSResolvers: cfg.DNSResolvers, DomainCheckInterval: cfg.DomainCheckInterval,
		Store: cfg.Store, Artifacts: cfg.Artifacts, KeyFile: cfg.KeyFile, SecretKey: cfg.SecretKey,
		BuildLease: cfg.BuildLease, GitTimeout: cfg.GitTimeout, OutputCacheBytes: cfg.OutputCacheBytes,
		PublicHTTPPort: cfg.PublicHTTPPort, PublicHTTPSPort: cfg.PublicHTTPSPort,
	}
}

// adopt gives cfg the settings the old engine ran with. An engine of a level before 3 had no
// HTTPS, domains nor extra interpreters, and one before 4 did not hand over its shared state
// and its settings as a node of several: for those its successor keeps its own settings.
func adopt(cfg *Config, s api.EngineSettings, level int) {
	cfg.HTTPAddress, cfg.Python, cfg.BaseDomain = s.HTTPAddress, s.Python, s.BaseDomain
	cfg.APIAddress, cfg.Token, cfg.TLSCert, cfg.TLSKey = s.APIAddress, s.Token, s.TLSCert, s.TLSKey
	cfg.SandboxMode, cfg.SandboxFirstUID, cfg.SandboxLastUID = s.SandboxMode, s.SandboxFirstUID, s.SandboxLastUID
	cfg.MaxDeploymentBytes, cfg.MaxDeploymentFiles = s.MaxDeploymentBytes, s.MaxDeploymentFiles
	cfg.NodeID, cfg.BuildWorkers, cfg.BuildTimeout, cfg.MaxQueuedBuilds = s.NodeID, s.BuildWorkers, s.BuildTimeout, s.MaxQueuedBuilds
	cfg.MaxRequestBody, cfg.TrustedProxies, cfg.MaxQueue = s.MaxRequestBody, parsePrefixes(s.TrustedProxies), s.MaxQueue
	if level < 3 {
		return
	}
	cfg.ExtraPythons = s.ExtraPythons
	cfg.HTTPSAddress, cfg.HTTPSAnyPortIfTaken = s.HTTPSAddress, s.HTTPSAnyPortIfTaken
	cfg.ACMEDirectory, cfg.ACMEEmail, cfg.ACMECARoots, cfg.HSTSMaxAge = s.ACMEDirectory, s.ACMEEmail, s.ACMECARoots, s.HSTSMaxAge
	cfg.PublicAddresses, cfg.DNSResolvers, cfg.DomainCheckInterval = parseAddrs(s.PublicAddresses), s.DNSResolvers, s.DomainCheckInterval
	if level < 4 {
		return
	}
	cfg.Store, cfg.Artifacts, cfg.KeyFile, cfg.SecretKey = s.Store, s.Artifacts, s.KeyFile, s.SecretKey
	cfg.BuildLease, cfg.GitTimeout, cfg.OutputCacheBytes = s.BuildLease, s.GitTimeout, s.OutputCacheBytes
	cfg.PublicHTTPPort, cfg.PublicHTTPSPort = s.PublicHTTPPort, s.PublicHTTPSPort
}

// The settings travel as text; what one engine wrote, its successor reads (a value it cannot is dropped).

func prefixStrings(prefixes []netip.Prefix) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p.String()
	}
	return out
}

func parsePrefixes(texts []string) []netip.Prefix {
	var out []netip.Prefix
	for _, t := range texts {
		if p, err := netip.ParsePrefix(t); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func addrStrings(addrs []netip.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func parseAddrs(texts []string) []netip.Addr {
	var out []netip.Addr
	for _, t := range texts {
		if a, err := netip.ParseAddr(t); err == nil {
			out = append(out, a)
		}
	}
	return out
}
