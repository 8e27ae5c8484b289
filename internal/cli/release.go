package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// The commands of this file move production, as Vercel's promote, rollback and redeploy do.
// Moving production pins it (ferry_alias's pin): a Terraform configuration with a ferry_alias
// sees the move as drift in its next plan.

const pinNote = "production is pinned: new production deployments no longer move it until the newest one is promoted (ferry promote), " +
	"or the pin is removed; a ferry_alias in Terraform shows this change as drift in the next plan"

func newRollbackCommand(con *console) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "rollback [DEPLOYMENT]",
		Short: "Point production at an earlier READY production deployment (default: the one before the current), at once, without a build",
		Args:  optionalArg("one deployment id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var p *api.Project
			var target *api.Deployment
			if len(args) == 1 {
				if target, err = c.GetDeployment(ctx, args[0]); err != nil {
					return err
				}
				if project == "" {
					project = target.ProjectID
				}
			}
			if p, err = onlyProject(ctx, c, project); err != nil {
				return err
			}
			if target == nil {
				if target, err = previousProduction(ctx, c, p); err != nil {
					return err
				}
			}
			if err := servableInProduction(target, p); err != nil {
				return err
			}
			return con.pinProduction(ctx, c, p, target)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "the project whose production to roll back (default: the deployment's, or the engine's only project)")
	_ = cmd.RegisterFlagCompletionFunc("project", completeProjects(con))
	return cmd
}

// previousProduction is the newest READY production deployment of p created before the one
// production serves now.
func previousProduction(ctx context.Context, c *client.Client, p *api.Project) (*api.Deployment, error) {
	if p.ProductionDeploymentID == "" {
		return nil, fmt.Errorf("project %s serves no production deployment: nothing to roll back from", p.Name)
	}
	listed, err := listDeployments(ctx, c, []api.Project{*p})
	if err != nil {
		return nil, err
	}
	current := -1
	for i, d := range listed { // newest first
		if d.ID == p.ProductionDeploymentID {
			current = i
		}
		if current >= 0 && i > current && d.State == api.StateReady && d.Target == api.TargetProduction {
			return &d.Deployment, nil
		}
	}
	return nil, fmt.Errorf("project %s has no READY production deployment older than %s, which production serves: nothing to roll back to", p.Name, p.ProductionDeploymentID)
}

// servableInProduction says why d cannot serve p's production, or nil.
func servableInProduction(d *api.Deployment, p *api.Project) error {
	switch {
	case d.ProjectID != p.ID:
		return fmt.Errorf("deployment %s belongs to another project (%s), not %s: production of %s can only move to one of its own deployments (ferry deployments %s)",
			d.ID, d.ProjectID, p.Name, p.Name, p.Name)
	case d.State != api.StateReady:
		return fmt.Errorf("deployment %s is %s, not READY: only a deployment that built and runs can serve production; pick a READY one (ferry deployments %s)",
			d.ID, d.State, p.Name)
	case d.Target != api.TargetProduction:
		return fmt.Errorf("deployment %s is a preview, built with the preview environment: promote it instead (ferry promote %s), which redeploys it for production", d.ID, d.ID)
	}
	return nil
}

// pinProduction points every production hostname of p at d.
func (con *console) pinProduction(ctx context.Context, c *client.Client, p *api.Project, d *api.Deployment) error {
	was := p.ProductionDeploymentID
	if _, err := c.PinAlias(ctx, p.ID, "", d.ID); err != nil {
		return err
	}
	_, err := fmt.Fprintf(con.stdout, "production of %s (%s) now serves %s (it served %s)\n%s\n", p.Name, p.ProductionURL, d.ID, orNone(was), pinNote)
	return err
}

func newPromoteCommand(con *console) *cobra.Command {
	return &cobra.Command{
		Use:   "promote DEPLOYMENT",
		Short: "Make a deployment serve production, at once; a preview is redeployed for production first",
		Long: `Make a READY deployment serve production, at once. A production deployment takes production without a
build, and production stays pinned to it unless it is the project's newest production deployment: then
production follows new production deployments again. A preview is redeployed with the production
environment first (reusing its build), as Vercel does.`,
		Args: exactArgs(1, "one deployment id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			d, err := c.GetDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			p, err := c.GetProject(ctx, d.ProjectID)
			if err != nil {
				return err
			}
			if d.State == api.StateReady && d.Target == api.TargetPreview {
				_, _ = fmt.Fprintf(con.stderr, "ferry: %s is a preview: redeploying it for production\n", d.ID)
				redeployed, err := c.Redeploy(ctx, d.ID, true, true)
				if err != nil {
					return err
				}
				if d, err = con.watchBuild(ctx, c, &redeployed); err != nil {
					return err
				}
			}
			if err := servableInProduction(d, p); err != nil {
				return err
			}
			return con.promote(ctx, c, p, d)
		},
	}
}

// promote points production at d: by unpinning it when d is the newest production deployment,
// which production follows, else by pinning it.
func (con *console) promote(ctx context.Context, c *client.Client, p *api.Project, d *api.Deployment) error {
	listed, err := listDeployments(ctx, c, []api.Project{*p})
	if err != nil {
		return err
	}
	for _, newest := range listed {
		if newest.State != api.StateReady || newest.Target != api.TargetProduction {
			continue
		}
		if newest.ID != d.ID {
			break
		}
		alias, err := c.GetAlias(ctx, p.ID, "")
		if err != nil {
			return err
		}
		if alias.Pinned {
			if err := c.UnpinAlias(ctx, p.ID, ""); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(con.stdout, "production of %s (%s) serves %s, the newest production deployment; new production deployments move it again\n", p.Name, p.ProductionURL, d.ID)
		return err
	}
	return con.pinProduction(ctx, c, p, d)
}

func newRedeployCommand(con *console) *cobra.Command {
	var noCache, production, preview bool
	cmd := &cobra.Command{
		Use:   "redeploy DEPLOYMENT",
		Short: "Deploy a deployment's source again with the environment as it is now, and show the build",
		Long: `Create a deployment of the same project and source (files or git commit) as DEPLOYMENT, with the project's
environment variables as they are now, and show its build until it ends. Its target is DEPLOYMENT's unless
--prod or --preview says otherwise. With the build cache (the default) an unchanged build is reused and the
redeploy is READY at once; --no-cache builds from scratch and installs the dependencies anew. A deployment
whose build failed may be redeployed: that is how a build that failed for want of a variable is retried.`,
		Args: exactArgs(1, "one deployment id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if production && preview {
				return usageErrorf("--prod and --preview contradict each other: give one")
			}
			c, err := con.connect(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			source, err := c.GetDeployment(ctx, args[0])
			if err != nil {
				return err
			}
			toProduction := source.Target == api.TargetProduction
			if production || preview {
				toProduction = production
			}
			d, err := c.Redeploy(ctx, source.ID, toProduction, !noCache)
			if err != nil {
				return err
			}
			_, err = con.watchBuild(ctx, c, &d)
			return err
		},
	}
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "build from scratch, installing the dependencies anew")
	cmd.Flags().BoolVar(&production, "prod", false, "make it a production deployment")
	cmd.Flags().BoolVar(&preview, "preview", false, "make it a preview deployment")
	return cmd
}

func orNone(id string) string {
	if id == "" {
		return "nothing"
	}
	return id
}
