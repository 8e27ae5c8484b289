package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/envvars"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// Stored is an integration with its settings read and its secrets opened.
type Stored struct {
	*store.Integration
	Settings Settings
	Secrets  Secrets
}

// Open reads i's settings and opens its secrets.
func Open(ctx context.Context, keeper secrets.Keeper, i *store.Integration) (*Stored, error) {
	out := &Stored{Integration: i}
	if err := json.Unmarshal(i.Settings, &out.Settings); err != nil {
		return nil, fmt.Errorf("read the settings of integration %s: %w", i.ID, err)
	}
	plain, err := keeper.Open(ctx, i.SealedSecrets)
	if err != nil {
		return nil, fmt.Errorf("open the secrets of integration %s: %w", i.ID, err)
	}
	if err := json.Unmarshal(plain, &out.Secrets); err != nil {
		return nil, fmt.Errorf("read the secrets of integration %s: %w", i.ID, err)
	}
	return out, nil
}

// Seal gives i settings and secrets, sealed.
func Seal(ctx context.Context, keeper secrets.Keeper, i *store.Integration, settings Settings, s Secrets) error {
	var err error
	if i.Settings, err = json.Marshal(settings); err != nil {
		return err
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if i.SealedSecrets, err = keeper.Seal(ctx, plain); err != nil {
		return fmt.Errorf("seal the secrets of integration %s: %w", i.ID, err)
	}
	return nil
}

// ForDeployments opens a project's Supabase integrations and returns what
// each gives the deployments of its targets.
func ForDeployments(ctx context.Context, keeper secrets.Keeper, stored []*store.Integration) ([]envvars.Integration, error) {
	var out []envvars.Integration
	for _, i := range stored {
		if i.Kind != store.IntegrationSupabase {
			continue
		}
		opened, err := Open(ctx, keeper, i)
		if err != nil {
			return nil, err
		}
		env, err := Resolve(opened.Settings, opened.Secrets)
		if err != nil {
			return nil, fmt.Errorf("integration %s (Supabase): %w", i.ID, err)
		}
		in := envvars.Integration{Targets: i.Targets, GitBranch: i.GitBranch, Vars: env.Vars}
		if env.DriverSettings != "" {
			in.System = map[string]string{dburl.DriverSettingsEnv: env.DriverSettings}
		}
		if in.Digest, err = keeper.Digest(ctx, injected(in)); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// injected is what an integration injects, written out in one order, for its digest.
func injected(in envvars.Integration) []byte {
	var b bytes.Buffer
	for _, vars := range []map[string]string{in.Vars, in.System} {
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			fmt.Fprintf(&b, "%s\x00%s\n", k, vars[k])
		}
		b.WriteString("\x00\n")
	}
	return b.Bytes()
}
