package apiserver

import "github.com/ferryhq/terraform-provider-ferry/internal/api"

// Observability is what the API reads the serving side's logs and metrics from.
type Observability struct {
	// RuntimeLogPath is the file a deployment's instances print to (rotated as logrotate does).
	RuntimeLogPath func(deploymentID string) string
}

func (s *Server) routeObservability() {
	s.mux.HandleFunc("GET "+api.PathDeploymentRuntimeLog, s.deploymentRuntimeLog)
	s.mux.HandleFunc("GET "+api.PathProjectRuntimeLog, s.projectRuntimeLog)
}
