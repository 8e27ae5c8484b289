package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// TestAccWebhookReceivesADeploymentsEvents: a ferry_webhook made by Terraform receives, signed
// with its write-only secret, the events of a deployment Terraform makes; bad input fails at
// plan; a new secret_wo_version signs with the new secret; import works.
func TestAccWebhookReceivesADeploymentsEvents(t *testing.T) {
	e := startRemoteEngine(t)
	suffix := randomName()
	src := t.TempDir()
	writeApp(t, src, flaskApp("v1"))
	var mu sync.Mutex
	secret := "first-secret-of-the-test-0123"
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if r.Header.Get("X-Ferry-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("delivery signed %q, not with the secret %s", r.Header.Get("X-Ferry-Signature"), secret)
		}
		var event api.WebhookEvent
		_ = json.Unmarshal(body, &event)
		d, _ := event.Payload["deployment"].(map[string]any)
		got = append(got, fmt.Sprintf("%s %v", event.Type, d["id"]))
	}))
	defer receiver.Close()
	config := func(url, events, secretValue string, version int) string {
		return fmt.Sprintf(`
provider "ferry" {
  endpoint = %q
  token    = %q
}
resource "ferry_team" "t" {
  name = "hooks-%s"
}
resource "ferry_webhook" "h" {
  team_id           = ferry_team.t.id
  url               = %q
  events            = %s
  secret_wo         = %q
  secret_wo_version = %d
}
resource "ferry_project" "app" {
  name    = "hooked-%s"
  team_id = ferry_team.t.id
  depends_on = [ferry_webhook.h]
}
resource "ferry_deployment" "v1" {
  project_id = ferry_project.app.id
  source     = { path = %q }
  production = true
}
`, e.endpoint, e.token, suffix, url, events, secretValue, version, suffix, src)
	}
	waitFor := func(want func() []string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				mu.Lock()
				done := slices.Equal(got, want())
				seen := slices.Clone(got)
				mu.Unlock()
				if done {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the receiver got %q, want %q", seen, want())
				}
			}
		}
	}
	var deploymentID string
	all := `["deployment.created", "deployment.ready", "deployment.promoted"]`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config("ftp://example.com/in", all, secret, 1), ExpectError: errorText("http:// or https://")},
			{Config: config(receiver.URL, `["deployment.exploded"]`, secret, 1), ExpectError: errorText("is not an event")},
			{Config: config(receiver.URL, all, "short", 1), ExpectError: errorText("at least 16")},
			{
				Config: config(receiver.URL, all, secret, 1),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckNoResourceAttr("ferry_webhook.h", "secret_wo"),
					resource.TestCheckResourceAttrWith("ferry_deployment.v1", "id", func(id string) error {
						deploymentID = id
						return nil
					}),
					waitFor(func() []string {
						return []string{"deployment.created " + deploymentID, "deployment.ready " + deploymentID}
					}),
				),
			},
			{
				// A new secret version sends the new secret: deliveries are signed with it from then on.
				PreConfig: func() {
					mu.Lock()
					secret = "second-secret-of-the-test-456"
					mu.Unlock()
				},
				Config: config(receiver.URL, all, "second-secret-of-the-test-456", 2),
				Check: func(st *terraform.State) error {
					// A redeploy of the same source: its events come signed with the new secret.
					d, err := e.operator.Deploy(context.Background(), st.RootModule().Resources["ferry_project.app"].Primary.ID, src, true)
					if err != nil {
						return err
					}
					return waitFor(func() []string {
						return []string{"deployment.created " + deploymentID, "deployment.ready " + deploymentID,
							"deployment.created " + d.ID, "deployment.ready " + d.ID}
					})(st)
				},
			},
			{
				ResourceName:            "ferry_webhook.h",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret_wo_version"},
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					h := s.RootModule().Resources["ferry_webhook.h"].Primary
					return h.Attributes["team_id"] + "/" + h.ID, nil
				},
			},
		},
	})
}
