package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

const providerAddress = "registry.terraform.io/ferryhq/ferry"

// serveProvider runs the provider in this process, as Terraform's debug mode does, and
// returns how Terraform attaches to it.
func serveProvider(b *testing.B) tfexec.ReattachInfo {
	b.Helper()
	// In debug mode the provider logs to this process's stderr, at every level unless told.
	for _, name := range []string{"TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		b.Setenv(name, "OFF")
	}
	ctx, cancel := context.WithCancel(context.Background())
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddress, providerserver.NewProtocol6(New("bench")()), tf6server.WithDebug(ctx, configs, closed))
		if err != nil {
			b.Error(err)
		}
	}()
	b.Cleanup(func() { cancel(); <-closed })
	config := <-configs
	return tfexec.ReattachInfo{providerAddress: tfexec.ReattachConfig{
		Protocol: string(config.Protocol), ProtocolVersion: config.ProtocolVersion, Pid: config.Pid, Test: true,
		Addr: tfexec.ReattachConfigAddr{Network: config.Addr.Network(), String: config.Addr.String()},
	}}
}

// BenchmarkPlanUnchanged measures `terraform plan` of a project whose deployment has 1,000
// source files and nothing changed: the real Terraform CLI, the provider (in this process)
// hashing the tree and asking the engine for the env digest, the refresh of every resource.
func BenchmarkPlanUnchanged(b *testing.B) {
	terraform, err := exec.LookPath("terraform")
	if err != nil {
		b.Skip("the terraform CLI is not on PATH")
	}
	e := launchEngine(b)
	appDir := b.TempDir()
	files := map[string]string{
		"api/index.py": "from http.server import BaseHTTPRequestHandler\n\n\nclass handler(BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200)\n        self.end_headers()\n",
	}
	for i := range 999 {
		files[fmt.Sprintf("static/%02d/file%04d.txt", i%50, i)] = fmt.Sprintf("static file %d\n%0960d\n", i, i)
	}
	writeApp(b, appDir, files)
	work := b.TempDir()
	config := `terraform {
  required_providers {
    ferry = { source = "` + providerAddress + `" }
  }
}
` + e.config(fmt.Sprintf(`
resource "ferry_project" "app" {
  name            = %q
  install_command = ""
}
resource "ferry_env_var" "greeting" {
  project_id = ferry_project.app.id
  key        = "GREETING"
  value      = "hello"
  target     = ["production"]
}
resource "ferry_deployment" "app" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
  lifecycle { replace_triggered_by = [ferry_env_var.greeting] }
}`, randomName(), appDir))
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(work, terraform)
	if err != nil {
		b.Fatal(err)
	}
	reattach := tfexec.Reattach(serveProvider(b))
	ctx := context.Background()
	if err := tf.Init(ctx, reattach); err != nil {
		b.Fatal(err)
	}
	if err := tf.Apply(ctx, reattach); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := tf.Destroy(ctx, reattach); err != nil {
			b.Error(err)
		}
	})
	for b.Loop() {
		changed, err := tf.Plan(ctx, reattach)
		if err != nil {
			b.Fatal(err)
		}
		if changed {
			b.Fatal("terraform plan of an unchanged configuration has changes")
		}
	}
}
