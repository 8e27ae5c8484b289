package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigure   = (*deploymentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*deploymentResource)(nil)
	_ resource.ResourceWithImportState = (*deploymentResource)(nil)
)

const (
	defaultCreateTimeout = 15 * time.Minute
	deploymentPoll       = 500 * time.Millisecond
	// cleanupTimeout bounds the removal of a failed deployment, which runs
	// after the create context may have expired.
	cleanupTimeout = time.Minute
	// logTailLines is how much of a build log an error shows when the
	// engine's message has none.
	logTailLines = 30
)

// NewDeploymentResource is the ferry_deployment resource.
func NewDeploymentResource() resource.Resource { return &deploymentResource{} }

type deploymentResource struct {
	data *providerData
}

type deploymentModel struct {
	ID              types.String   `tfsdk:"id"`
	ProjectID       types.String   `tfsdk:"project_id"`
	Source          types.Object   `tfsdk:"source"`
	Production      types.Bool     `tfsdk:"production"`
	UseBuildCache   types.Bool     `tfsdk:"use_build_cache"`
	URL             types.String   `tfsdk:"url"`
	Status          types.String   `tfsdk:"status"`
	SourceDigest    types.String   `tfsdk:"source_digest"`
	Entrypoint      types.String   `tfsdk:"entrypoint"`
	Git             types.Object   `tfsdk:"git"`
	GitBranch       types.String   `tfsdk:"git_branch"`
	BranchURL       types.String   `tfsdk:"branch_url"`
	EnvDigest       types.String   `tfsdk:"env_digest"`
	ReusedBuildOf   types.String   `tfsdk:"reused_build_of"`
	DeleteOnDestroy types.Bool     `tfsdk:"delete_on_destroy"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

type deploymentSourceModel struct {
	Path types.String `tfsdk:"path"`
	Git  types.Object `tfsdk:"git"`
}

type gitSourceModel struct {
	URL    types.String `tfsdk:"url"`
	Ref    types.String `tfsdk:"ref"`
	Commit types.String `tfsdk:"commit"`
}

var gitSourceTypes = map[string]attr.Type{"url": types.StringType, "ref": types.StringType, "commit": types.StringType}

var deploymentSourceTypes = map[string]attr.Type{"path": types.StringType, "git": types.ObjectType{AttrTypes: gitSourceTypes}}

func (r *deploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (r *deploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	timeoutsAttr, ok := timeouts.Attributes(ctx, timeouts.Opts{
		Create:            true,
		CreateDescription: "How long to wait for the build to finish, such as `\"30m\"`. Defaults to `15m`.",
	}).(schema.SingleNestedAttribute)
	if !ok {
		resp.Diagnostics.AddError("Internal error in the provider", "The timeouts block of ferry_deployment is not a single nested attribute. Please report this to the provider's developers.")
		return
	}
	timeoutsAttr.MarkdownDescription = "Operation timeouts."

	resp.Schema = schema.Schema{
		MarkdownDescription: "An immutable deployment of a project: a snapshot of a source tree or of a git commit, built and " +
			"served at its own URL. Terraform computes the source's digest (or resolves the git ref) at plan time, so an edited tree " +
			"or a new commit plans a replacement (a new deployment with a new URL) and an unchanged one plans nothing. So does a " +
			"change of the project's environment variables for its target (see `env_digest`): the replacement is a redeploy, which " +
			"serves the existing build output with the new environment, without building. A production deployment also takes the " +
			"project's production URL once it is ready. As on Vercel, a replaced or destroyed deployment keeps serving at its own " +
			"URL (unless `delete_on_destroy` is set) until its project is destroyed or its retention ends.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The deployment's id, assigned by the engine.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the project (`ferry_project.<name>.id`). Changing it replaces the deployment.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"source": schema.SingleNestedAttribute{
				Required: true,
				MarkdownDescription: "Where the deployment's files come from: `path` or `git`, exactly one. Files named by the " +
					"source's `.vercelignore` (Vercel's rules) are left out; for a `path` without a `.vercelignore`, those its " +
					"`.gitignore` files name. `.git`, `.venv`, `venv`, `__pycache__`, `node_modules`, `.terraform`, `*.pyc` and " +
					"Terraform state files are always left out.",
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Local directory holding the app, such as `\"${path.module}/app\"`, read at plan time and " +
							"uploaded at apply. Relative paths are resolved from Terraform's working directory. Symbolic links are " +
							"followed if they stay inside the directory.",
						Validators: []validator.String{
							stringvalidator.LengthAtLeast(1),
							stringvalidator.ExactlyOneOf(path.MatchRoot("source").AtName("path"), path.MatchRoot("source").AtName("git")),
						},
					},
					"git": schema.SingleNestedAttribute{
						Optional: true,
						MarkdownDescription: "A git commit, which the engine fetches (with go-git) and checks out. Plan resolves `ref` " +
							"through the engine, so a push to it plans a replacement; pin a commit with `commit` (for example from " +
							"the `ferry_git_ref` data source) to deploy exactly that one.",
						Attributes: map[string]schema.Attribute{
							"url": schema.StringAttribute{
								Optional: true,
								MarkdownDescription: "The repository: an `https://` or `ssh://` URL, `git@host:owner/repo.git`, or a " +
									"path (or `file://` URL) of a repository on the engine's machine. Defaults to the project's " +
									"`git_repository.url`. Credentials: the engine's user's ssh agent or keys for ssh, " +
									"`https://user:token@host/...` for https.",
							},
							"ref": schema.StringAttribute{
								Optional: true,
								MarkdownDescription: "A branch, tag, or full ref such as `refs/heads/main`. Defaults to the project's " +
									"`git_repository.production_branch`, else the repository's default branch. A branch becomes the " +
									"deployment's `git_branch`.",
							},
							"commit": schema.StringAttribute{
								Optional:            true,
								MarkdownDescription: "A full 40-character commit sha to deploy. With `ref` as well, the deployment is of that branch.",
								Validators:          []validator.String{validators.GitCommit()},
							},
						},
					},
				},
			},
			"production": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether this is a production deployment. A production deployment gets the production " +
					"environment variables and, once ready, the project's production URL; otherwise it is a preview. " +
					"Defaults to `false`. Changing it replaces the deployment.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"use_build_cache": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Whether the deployment may reuse earlier builds: the build output of a ready deployment " +
					"of the project with the same source, build settings and Python (then no build runs), and cached Python " +
					"environments. `false` builds from scratch, as Vercel's \"Redeploy without cache\". Defaults to `true`. Only " +
					"read when the deployment is created.",
			},
			"url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The deployment's own URL (scheme, host and port), such as `http://hello-3fa8c1d2.localhost:3080`. It serves this deployment for as long as the deployment exists on the engine (see `delete_on_destroy`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "State of the deployment: `READY` after a successful apply; `ERROR` or `CANCELED` if the engine later reports so.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source_digest": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Digest of the source's file list (paths, modes and contents), computed at plan time for a " +
					"`path` (a change replaces the deployment) and by the engine for a `git` commit.",
			},
			"git": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The git commit deployed, known at plan time; null for a `path` source. A change replaces the deployment.",
				Attributes:          gitCommitResourceAttributes(),
			},
			"git_branch": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The deployment's git branch (when `source.git` names a branch): preview env vars of that " +
					"branch apply, and the branch URL follows the branch's newest ready deployment.",
			},
			"branch_url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "URL of the deployment's branch, `<project>-git-<branch>`: it serves the newest ready deployment of the branch.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"env_digest": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Digest of the project's environment variables the deployment was created with (keys and " +
					"value digests of its target and branch; no values). Plan compares it with the engine's current variables: " +
					"when they changed, plan shows it changing and replaces the deployment with a redeploy. For a variable " +
					"changed in the same apply, add `lifecycle { replace_triggered_by = [ferry_env_var.<name>] }`.",
			},
			"reused_build_of": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "For a redeploy, the deployment whose build output it serves (no build ran); empty when it was built itself.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"entrypoint": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The app the build found, as `module:attribute` (such as `app:app`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"delete_on_destroy": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroying or replacing this resource deletes the deployment on the engine and stops " +
					"its processes. Defaults to `false`: the deployment is kept, still serving at its own URL (for comparison or " +
					"rollback), and is deleted with its project. A deployment that fails to build is always deleted. With `true`, " +
					"add `lifecycle { create_before_destroy = true }` so that a replacement keeps production serving until the new deployment is ready.",
			},
			"timeouts": timeoutsAttr,
		},
	}
}

func (r *deploymentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// readSource is the configured source; known is false while any of it is unknown.
func readSource(ctx context.Context, source types.Object) (src deploymentSourceModel, git *gitSourceModel, known bool, diags diag.Diagnostics) {
	if source.IsNull() || source.IsUnknown() {
		return src, nil, false, nil
	}
	diags = source.As(ctx, &src, sourceAsOptions)
	if diags.HasError() || src.Path.IsUnknown() || src.Git.IsUnknown() {
		return src, nil, false, diags
	}
	if !src.Git.IsNull() {
		git = &gitSourceModel{}
		diags.Append(src.Git.As(ctx, git, sourceAsOptions)...)
		if git.URL.IsUnknown() || git.Ref.IsUnknown() || git.Commit.IsUnknown() {
			return src, git, false, diags
		}
	}
	return src, git, true, diags
}

// gitRequest is the engine's form of a git source, its commit pinned to what plan resolved.
func gitRequest(git *gitSourceModel, planned types.Object) api.GitSource {
	src := api.GitSource{URL: engineGitURL(git.URL.ValueString()), Ref: git.Ref.ValueString(), Commit: git.Commit.ValueString()}
	if sha, ok := planned.Attributes()["commit_sha"].(types.String); ok && src.Commit == "" && !sha.IsUnknown() {
		src.Commit = sha.ValueString()
	}
	return src
}

// ModifyPlan works out at plan time what a new deployment would be: the
// digest of a path, the commit a git ref names now (through the engine), and
// the project's env vars now. Any of them changed plans a replacement; an
// unchanged deployment plans nothing.
func (r *deploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *deploymentModel
	if !req.State.Raw.IsNull() {
		state = &deploymentModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	src, git, known, diags := readSource(ctx, plan.Source)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case !known:
		plan.SourceDigest, plan.Git, plan.GitBranch = types.StringUnknown(), types.ObjectUnknown(gitCommitAttrTypes), types.StringUnknown()
	case git != nil:
		r.planGit(ctx, &plan, state, git, resp)
	default:
		r.planPath(ctx, &plan, state, src.Path.ValueString(), resp)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.planEnv(ctx, &plan, state, resp)
	if len(resp.RequiresReplace) > 0 || state == nil {
		// A new deployment: what only the engine knows is known after apply.
		plan.BranchURL, plan.ReusedBuildOf = types.StringUnknown(), types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// planPath computes the digest of a source directory.
func (r *deploymentResource) planPath(ctx context.Context, plan, state *deploymentModel, dir string, resp *resource.ModifyPlanResponse) {
	files, err := client.CollectFiles(dir)
	if err != nil {
		addSourceError(&resp.Diagnostics, dir, err)
		return
	}
	plan.SourceDigest = types.StringValue(api.SourceDigest(files))
	plan.Git, plan.GitBranch = types.ObjectNull(gitCommitAttrTypes), types.StringNull()
	if state != nil && !state.Git.IsNull() {
		// Deployed from git: the same files from a path are still another deployment.
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("git"))
		return
	}
	if state != nil && !state.SourceDigest.Equal(plan.SourceDigest) {
		tflog.Info(ctx, "source changed; the deployment will be replaced", map[string]any{
			"path": dir, "old_digest": state.SourceDigest.ValueString(), "new_digest": plan.SourceDigest.ValueString(),
		})
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("source_digest"))
	}
}

// planGit resolves a git source to its commit now, through the engine.
func (r *deploymentResource) planGit(ctx context.Context, plan, state *deploymentModel, git *gitSourceModel, resp *resource.ModifyPlanResponse) {
	if r.data == nil || plan.ProjectID.IsUnknown() && git.URL.IsNull() {
		// Without the project, its repository is not known yet.
		plan.SourceDigest, plan.Git, plan.GitBranch = types.StringUnknown(), types.ObjectUnknown(gitCommitAttrTypes), types.StringUnknown()
		return
	}
	resolve := api.GitResolveRequest{GitSource: gitRequest(git, types.ObjectNull(gitCommitAttrTypes))}
	if !plan.ProjectID.IsUnknown() {
		resolve.ProjectID = plan.ProjectID.ValueString()
	}
	commit, err := r.data.Client.ResolveGit(ctx, resolve)
	if err != nil {
		addGitError(&resp.Diagnostics, err)
		return
	}
	plan.Git, plan.GitBranch = gitCommitValue(commit), types.StringValue(commit.Branch)
	if commit.Branch == "" {
		plan.GitBranch = types.StringNull()
	}
	if state != nil && state.Git.Equal(plan.Git) {
		plan.SourceDigest = state.SourceDigest // the same commit: the same files
		return
	}
	plan.SourceDigest = types.StringUnknown()
	if state != nil {
		tflog.Info(ctx, "git source changed; the deployment will be replaced", map[string]any{"commit": commit.SHA, "ref": commit.Ref})
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("git"))
	}
}

// planEnv compares the env the deployment was frozen with to the project's
// env vars now: a change plans a redeploy.
func (r *deploymentResource) planEnv(ctx context.Context, plan, state *deploymentModel, resp *resource.ModifyPlanResponse) {
	plan.EnvDigest = types.StringUnknown()
	if state == nil || r.data == nil {
		return
	}
	plan.EnvDigest = state.EnvDigest
	if state.EnvDigest.ValueString() == "" || plan.ProjectID.IsUnknown() {
		return // recorded by an engine that kept no env digest: nothing to compare with
	}
	target, branch := api.TargetPreview, plan.GitBranch.ValueString()
	if plan.Production.ValueBool() {
		target, branch = api.TargetProduction, ""
	}
	current, err := r.data.Client.EnvDigest(ctx, plan.ProjectID.ValueString(), target, branch)
	if client.IsNotFound(err) {
		return // the project is gone: plan replaces it, and this deployment with it
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the project's environment", fmt.Sprintf("Comparing deployment %s's environment with the project's: %v", state.ID.ValueString(), err))
		return
	}
	if current != state.EnvDigest.ValueString() {
		tflog.Info(ctx, "the project's env vars changed; the deployment will be replaced by a redeploy", map[string]any{"id": state.ID.ValueString()})
		plan.EnvDigest = types.StringUnknown()
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("env_digest"))
	}
}

// addGitError reports a git source the engine cannot use.
func addGitError(diags *diag.Diagnostics, err error) {
	at := path.Root("source").AtName("git")
	if e, ok := client.AsError(err); ok && strings.HasPrefix(e.Field, "git.") {
		at = at.AtName(strings.TrimPrefix(e.Field, "git."))
	}
	diags.AddAttributeError(at, "Cannot use the git source", err.Error())
}

func addSourceError(diags *diag.Diagnostics, srcPath string, err error) {
	at := path.Root("source").AtName("path")
	if errors.Is(err, client.ErrSourceNotFound) {
		wd, _ := os.Getwd()
		diags.AddAttributeError(at, "Source directory not found",
			fmt.Sprintf("source.path %q does not exist (relative paths are resolved from %s). "+
				"Point it at the directory that holds the app, such as \"${path.module}/app\".", srcPath, wd))
		return
	}
	diags.AddAttributeError(at, "Cannot read the source directory", fmt.Sprintf("Reading source.path %q: %v", srcPath, err))
}

func (r *deploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	src, git, _, diags := readSource(ctx, plan.Source)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	useBuildCache := plan.UseBuildCache.ValueBool()
	request := api.DeploymentRequest{ProjectID: plan.ProjectID.ValueString(), Production: plan.Production.ValueBool(), UseBuildCache: &useBuildCache}
	what := ""
	var d *api.Deployment
	var err error
	if git != nil {
		gitSource := gitRequest(git, plan.Git)
		request.Git = &gitSource
		what = "git " + gitSource.URL
		tflog.Info(ctx, "creating deployment", map[string]any{"project_id": request.ProjectID, "git_url": gitSource.URL, "ref": gitSource.Ref, "commit": gitSource.Commit, "production": request.Production})
		d, err = r.data.Client.CreateDeployment(ctx, request)
	} else {
		dir := src.Path.ValueString()
		what = dir
		if request.Files, err = r.collectPlanned(dir, plan.SourceDigest, &resp.Diagnostics); err != nil {
			return
		}
		tflog.Info(ctx, "creating deployment", map[string]any{
			"project_id": request.ProjectID, "path": dir, "files": len(request.Files), "source_digest": plan.SourceDigest.ValueString(), "production": request.Production,
		})
		d, err = r.data.Client.DeployFiles(ctx, dir, request)
	}
	if err != nil {
		if git != nil {
			addGitError(&resp.Diagnostics, err)
			return
		}
		resp.Diagnostics.AddError("Cannot create deployment", fmt.Sprintf("The engine refused the deployment of %s: %v", what, err))
		return
	}
	tflog.Info(ctx, "waiting for deployment to build", map[string]any{"id": d.ID, "url": d.URL, "reused_build_of": d.ReusedBuildOf})
	final, err := r.data.Client.WaitDeployment(ctx, d.ID, deploymentPoll)
	if err != nil {
		r.discard(ctx, d.ID)
		detail := fmt.Sprintf("Deployment %s did not finish: %v\n\nIt was deleted.", d.ID, err)
		if errors.Is(err, context.DeadlineExceeded) {
			detail = fmt.Sprintf("Deployment %s was still building after %s, so it was deleted. "+
				"Raise timeouts.create if the build needs longer.", d.ID, timeout)
		}
		resp.Diagnostics.AddError("Deployment did not finish", detail)
		return
	}
	if final.State != api.StateReady {
		message := r.failureMessage(ctx, final)
		r.discard(ctx, final.ID)
		resp.Diagnostics.AddError("Deployment failed",
			fmt.Sprintf("The deployment of %s ended %s, and was deleted:\n\n%s", what, final.State, message))
		return
	}
	if git == nil && final.SourceDigest != plan.SourceDigest.ValueString() {
		tflog.Warn(ctx, "the engine computed another source digest", map[string]any{"engine": final.SourceDigest, "provider": plan.SourceDigest.ValueString()})
	}
	tflog.Info(ctx, "deployment ready", map[string]any{"id": final.ID, "url": final.URL, "entrypoint": final.Entrypoint})
	sourceDigest := plan.SourceDigest
	plan.fill(final)
	if git == nil {
		plan.SourceDigest = sourceDigest // as planned, from the files sent
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// collectPlanned lists the files of dir, refusing a tree that changed since plan.
func (r *deploymentResource) collectPlanned(dir string, planned types.String, diags *diag.Diagnostics) ([]api.File, error) {
	files, err := client.CollectFiles(dir)
	if err != nil {
		addSourceError(diags, dir, err)
		return nil, err
	}
	if digest := api.SourceDigest(files); !planned.IsUnknown() && planned.ValueString() != digest {
		diags.AddAttributeError(path.Root("source").AtName("path"), "Source changed since plan",
			fmt.Sprintf("The files in %s changed between plan and apply, so this apply would not deploy what was planned. "+
				"Run terraform apply again (it plans anew).", dir))
		return nil, errors.New("source changed since plan")
	}
	return files, nil
}

// failureMessage is the engine's account of a failed build, with the log's
// tail when the message does not carry it.
func (r *deploymentResource) failureMessage(ctx context.Context, d *api.Deployment) string {
	message := strings.TrimSpace(d.ErrorMessage)
	if strings.Count(message, "\n") >= 2 {
		return message
	}
	log, err := r.data.Client.DeploymentLog(ctx, d.ID)
	if err != nil || strings.TrimSpace(log) == "" {
		if message == "" {
			message = "(the engine gave no reason)"
		}
		return message
	}
	tail := lastLines(strings.TrimSpace(log), logTailLines)
	if message == "" {
		return "Build log (last lines):\n" + tail
	}
	return message + "\n\nBuild log (last lines):\n" + tail
}

// discard deletes a deployment that will not be kept, so a failed apply
// leaves nothing half-created.
func (r *deploymentResource) discard(ctx context.Context, id string) {
	cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := r.data.Client.DeleteDeployment(cleanupCtx, id); err != nil && !client.IsNotFound(err) {
		tflog.Error(ctx, "could not delete failed deployment", map[string]any{"id": id, "error": err.Error()})
	}
}

func (m *deploymentModel) fill(d *api.Deployment) {
	m.ID = types.StringValue(d.ID)
	if m.ProjectID.IsNull() || m.ProjectID.IsUnknown() {
		// Otherwise keep the configured reference, which may be a name.
		m.ProjectID = types.StringValue(d.ProjectID)
	}
	m.Production = types.BoolValue(d.Target == api.TargetProduction)
	m.URL = types.StringValue(d.URL)
	m.Status = types.StringValue(d.State)
	m.Entrypoint = types.StringValue(d.Entrypoint)
	m.SourceDigest = types.StringValue(d.SourceDigest)
	m.Git = gitCommitValue(d.Git)
	m.GitBranch = nullIfEmpty(d.GitBranch)
	m.BranchURL = nullIfEmpty(d.BranchURL)
	m.EnvDigest = types.StringValue(d.EnvDigest)
	m.ReusedBuildOf = types.StringValue(d.ReusedBuildOf)
}

// nullIfEmpty maps the engine's "" (an omitted field) to null.
func nullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func (r *deploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, err := r.data.Client.GetDeployment(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "deployment is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read deployment", fmt.Sprintf("Reading deployment %s: %v", state.ID.ValueString(), err))
		return
	}
	// The engine's digest of the files is computed as the provider's is.
	state.fill(d)
	if state.Source.IsNull() {
		state.Source = types.ObjectNull(deploymentSourceTypes)
	}
	if state.DeleteOnDestroy.IsNull() {
		state.DeleteOnDestroy = types.BoolValue(false)
	}
	if state.UseBuildCache.IsNull() {
		state.UseBuildCache = types.BoolValue(true)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update handles what needs no new deployment: a source that names the same
// files or commit otherwise, delete_on_destroy, use_build_cache, or timeouts.
func (r *deploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "updating deployment settings in state only", map[string]any{"id": plan.ID.ValueString()})
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *deploymentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !state.DeleteOnDestroy.ValueBool() {
		tflog.Info(ctx, "keeping deployment on the engine (delete_on_destroy is false)", map[string]any{"id": state.ID.ValueString()})
		return
	}
	tflog.Info(ctx, "deleting deployment", map[string]any{"id": state.ID.ValueString()})
	if err := r.data.Client.DeleteDeployment(ctx, state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete deployment", fmt.Sprintf("Deleting deployment %s: %v", state.ID.ValueString(), err))
	}
}

// ImportState takes a deployment id.
func (r *deploymentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var sourceAsOptions = basetypes.ObjectAsOptions{}
