package deploy

import (
	"context"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/envvars"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// PulledEnv is what a new deployment of project with target and git branch would get from the
// project's env vars and integrations, values opened: the env a developer runs the app with.
func (s *Service) PulledEnv(ctx context.Context, project *store.Project, target, gitBranch string) (map[string]string, error) {
	vars, err := s.userVars(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	integrations, err := s.integrations(ctx, project.ID)
	if err != nil {
		return nil, err
	}
	pulled := map[string]string{}
	for key, v := range envvars.Select(envvars.Deployment{Target: target, GitBranch: gitBranch}, vars, integrations) {
		pulled[key] = v.Value
	}
	return pulled, nil
}
