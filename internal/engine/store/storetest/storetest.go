// Package storetest is the conformance suite of store.Store: every
// implementation runs it, so that the engine behaves the same on each.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/runspec"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Opener opens a new, empty store for one test. The function it returns
// opens another handle on that same store, as a second engine node would.
type Opener func(t *testing.T) (s store.Store, another func(t *testing.T) store.Store)

// Run runs the suite against the stores open gives.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store, another func(*testing.T) store.Store)
	}{
		{"ProjectNameIsUnique", testProjectNameIsUnique},
		{"EnvVarDuplicateKeyAndTarget", testEnvVarDuplicateKeyAndTarget},
		{"IntegrationKeysAndEnvVarsAreOneNamespace", testIntegrationKeysAndEnvVarsAreOneNamespace},
		{"IntegrationsGoWithTheirProject", testIntegrationsGoWithTheirProject},
		{"DeleteProjectCascades", testDeleteProjectCascades},
		{"HostnamesAreOneNamespace", testHostnamesAreOneNamespace},
		{"RenameMovesTheProductionHost", testRenameMovesTheProductionHost},
		{"DeletingProductionFallsBackToThePreviousReadyOne", testDeletingProductionFallsBackToThePreviousReadyOne},
		{"RunSpecIsKeptWithTheDeployment", testRunSpecIsKeptWithTheDeployment},
		{"PinnedAliasStaysPut", testPinnedAliasStaysPut},
		{"PinAliasRefusesWhatItCannotServe", testPinAliasRefusesWhatItCannotServe},
		{"DomainsShareTheNamespace", testDomainsShareTheNamespace},
		{"DomainsFollowProduction", testDomainsFollowProduction},
		{"DomainVerificationAndCertificate", testDomainVerificationAndCertificate},
		{"RedirectTargetIsKept", testRedirectTargetIsKept},
		{"DomainFollowsItsBranch", testDomainFollowsItsBranch},
		{"BuildCacheChoiceIsKept", testBuildCacheChoiceIsKept},
		{"QueueFullInsertsNothing", testQueueFullInsertsNothing},
		{"ClaimIsAtomic", testClaimIsAtomic},
		{"BuildCapsHoldPerTeam", testBuildCapsHoldPerTeam},
		{"BuildCapsHoldAcrossNodes", testBuildCapsHoldAcrossNodes},
		{"LeaseLapsesAndMovesToAnotherNode", testLeaseLapsesAndMovesToAnotherNode},
		{"ReleaseNodeClaimsRequeuesOnlyThatNode", testReleaseNodeClaimsRequeuesOnlyThatNode},
		{"CancelDeployment", testCancelDeployment},
		{"ReferencedDigestsListsEveryDeploymentsFiles", testReferencedDigestsListsEveryDeploymentsFiles},
		{"NodesHeartbeatAndLeave", testNodesHeartbeatAndLeave},
		{"SealedSampleAndUnkeyedDigests", testSealedSampleAndUnkeyedDigests},
		{"BranchHostServesTheNewestReadyDeployment", testBranchHostServesTheNewestReadyDeployment},
		{"BranchHostTakenElsewhereIsLeftAlone", testBranchHostTakenElsewhereIsLeftAlone},
		{"RedeployReusesABuild", testRedeployReusesABuild},
		{"ProjectKeepsGitRepositoryAndRetention", testProjectKeepsGitRepositoryAndRetention},
		{"UsageAddsUpByProjectAndDay", testUsageAddsUpByProjectAndDay},
		{"TeamsOwnProjects", testTeamsOwnProjects},
		{"TokensAreFoundByHashAndRevoked", testTokensAreFoundByHashAndRevoked},
		{"AuditEventsByTeamNewestFirst", testAuditEventsByTeamNewestFirst},
		{"SecretKeysFirstAddAndRetire", testSecretKeysFirstAddAndRetire},
		{"FirstSecretKeyRaceHasOneWinner", testFirstSecretKeyRaceHasOneWinner},
		{"PreviewProtectionIsKeptAndRouted", testPreviewProtectionIsKeptAndRouted},
		{"WebhooksBelongToTheirTeam", testWebhooksBelongToTheirTeam},
		{"DeliveriesGoInOrderPerWebhook", testDeliveriesGoInOrderPerWebhook},
		{"DeliveryLeaseLapsesAndIsReleased", testDeliveryLeaseLapsesAndIsReleased},
		{"DeliveryClaimIsAtomic", testDeliveryClaimIsAtomic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, another := open(t)
			tt.run(t, s, another)
		})
	}
}

// testRun is the run spec the suite's builds finish with.
var testRun = runspec.Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: runspec.KindWSGI}

func createProject(t *testing.T, s store.Store, id, name string) {
	t.Helper()
	if err := s.CreateProject(context.Background(), &store.Project{ID: id, Name: name, Framework: "auto", RootDirectory: "."}, name+".localhost"); err != nil {
		t.Fatal(err)
	}
}

// claimBuild claims d, the only deployment waiting, as a build worker would,
// and gives it the run spec its build would make.
func claimBuild(t *testing.T, s store.Store, d *store.Deployment) {
	t.Helper()
	claimed, err := s.ClaimDeployment(context.Background(), "test", time.Now().Add(time.Hour), nil)
	if err != nil || claimed == nil || claimed.ID != d.ID {
		t.Fatalf("claim %s: %v, %v", d.ID, claimed, err)
	}
	d.ClaimedBy = claimed.ClaimedBy
	run := testRun
	d.Run = &run
}

// readyDeployment makes a READY production deployment of project p1.
func readyDeployment(t *testing.T, s store.Store, id, host string) {
	t.Helper()
	ctx := context.Background()
	d := &store.Deployment{ID: id, ProjectID: "p1", Target: "production", State: "QUEUED", Hostname: host, Files: []byte("[]"), SealedEnv: []byte("x")}
	if err := s.EnqueueDeployment(ctx, d, 1000); err != nil {
		t.Fatal(err)
	}
	claimBuild(t, s, d)
	if err := s.MarkReady(ctx, d, store.Moves{Production: true}); err != nil {
		t.Fatal(err)
	}
}
