package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestReleaseDryRun checks what goreleaser left in dist/ in snapshot mode:
// the names the Terraform Registry expects, each archive's contents, the
// registry manifest, SHA256SUMS and its signature, and the version stamped
// into the binaries.
func TestReleaseDryRun(t *testing.T) {
	dist := os.Getenv("FERRY_RELEASE_DIST")
	if dist == "" {
		t.Skip("checks the output of goreleaser: run `make release-dry`")
	}
	var meta struct {
		ProjectName string `json:"project_name"`
		Version     string `json:"version"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	v, name := meta.Version, meta.ProjectName
	if name != "terraform-provider-ferry" || !strings.Contains(v, "-dev+") {
		t.Fatalf("metadata.json: project %q, version %q; want terraform-provider-ferry and a snapshot's dev version", name, v)
	}

	var archives []string
	for _, platform := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"} {
		provider := name + "_" + v + "_" + platform + ".zip"
		if got := zipEntries(t, filepath.Join(dist, provider)); !slices.Equal(got, []string{name + "_v" + v}) {
			t.Errorf("%s holds %v; the registry wants the binary %s_v%s alone", provider, got, name, v)
		}
		cli := "ferry_" + v + "_" + platform + ".tar.gz"
		if got := tarEntries(t, filepath.Join(dist, cli)); !slices.Contains(got, "ferry") {
			t.Errorf("%s holds %v; want the ferry binary", cli, got)
		}
		archives = append(archives, provider, cli)
	}

	// The manifest is uploaded beside the archives as this, and summed with them.
	manifest := name + "_" + v + "_manifest.json"
	var registry struct {
		Version  int `json:"version"`
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	readJSON(t, "terraform-registry-manifest.json", &registry)
	if registry.Version != 1 || !slices.Equal(registry.Metadata.ProtocolVersions, []string{"6.0"}) {
		t.Errorf("terraform-registry-manifest.json: %+v; want version 1, protocol 6.0 (the plugin framework's)", registry)
	}

	sums := name + "_" + v + "_SHA256SUMS"
	summed := map[string]string{}
	f, err := os.Open(filepath.Join(dist, sums))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // only read
	for lines := bufio.NewScanner(f); lines.Scan(); {
		sum, file, ok := strings.Cut(lines.Text(), "  ")
		if !ok {
			t.Fatalf("%s: line %q is not `<sha256>  <file>`", sums, lines.Text())
		}
		summed[file] = sum
	}
	contents := map[string]string{manifest: "terraform-registry-manifest.json"}
	for _, file := range append(archives, manifest) {
		path := filepath.Join(dist, file)
		if source, ok := contents[file]; ok {
			path = source
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if summed[file] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s lists %s as %q; its sha256 is %x", sums, file, summed[file], sum)
		}
	}
	verify := exec.Command("gpgv", "--keyring", filepath.Join(dist, "release-dry-key.gpg"), filepath.Join(dist, sums+".sig"), filepath.Join(dist, sums))
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("the signature of %s does not verify: %v\n%s", sums, err, out)
	}

	// The binaries report the release's version.
	var artifacts []struct {
		Type, Path, Goos, Goarch string
		Extra                    struct{ ID string }
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &artifacts)
	for _, a := range artifacts {
		if a.Type != "Binary" || a.Goos != runtime.GOOS || a.Goarch != runtime.GOARCH {
			continue
		}
		out, err := exec.Command(a.Path, "version").Output()
		if err != nil || strings.TrimSpace(string(out)) != "ferry "+v {
			t.Errorf("%s version: %q, %v; want ferry %s", a.Path, out, err, v)
		}
	}
}

func readJSON(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func zipEntries(t *testing.T, path string) []string {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer func() { _ = r.Close() }() // only read
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names
}

func tarEntries(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return nil
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Error(err)
		return nil
	}
	var names []string
	for archive := tar.NewReader(gz); ; {
		h, err := archive.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Error(err)
			return names
		}
		names = append(names, h.Name)
	}
}
