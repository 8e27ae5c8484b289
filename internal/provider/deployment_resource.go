package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
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
	URL             types.String   `tfsdk:"url"`
	Status          types.String   `tfsdk:"status"`
	SourceDigest    types.String   `tfsdk:"source_digest"`
	Entrypoint      types.String   `tfsdk:"entrypoint"`
	DeleteOnDestroy types.Bool     `tfsdk:"delete_on_destroy"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

type deploymentSourceModel struct {
	Path types.String `tfsdk:"path"`
}

var deploymentSourceTypes = map[string]attr.Type{"path": types.StringType}

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
		MarkdownDescription: "An immutable deployment of a project: a snapshot of a source tree, built and served at its own URL. " +
			"Terraform computes the source's digest at plan time, so an edited tree plans a replacement (a new deployment " +
			"with a new URL) and an unchanged tree plans nothing. A production deployment also takes the project's production " +
			"URL once it is ready. As on Vercel, a replaced or destroyed deployment keeps serving at its own URL (unless " +
			"`delete_on_destroy` is set) until its project is destroyed.",
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
				MarkdownDescription: "Where the deployment's files come from. The directory is read at plan time and uploaded " +
					"at apply; `.git`, `.venv`, `venv`, `__pycache__`, `node_modules`, `.terraform`, `*.pyc` and Terraform state files are left out.",
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						Required: true,
						MarkdownDescription: "Local directory holding the app, such as `\"${path.module}/app\"`. Relative paths are " +
							"resolved from Terraform's working directory. Symbolic links are followed if they stay inside the directory.",
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
				MarkdownDescription: "Digest of the source's file list (paths, modes and contents), computed at plan time. " +
					"A change replaces the deployment.",
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

func sourcePath(ctx context.Context, source types.Object) (types.String, diag.Diagnostics) {
	if source.IsNull() || source.IsUnknown() {
		return types.StringUnknown(), nil
	}
	var s deploymentSourceModel
	diags := source.As(ctx, &s, sourceAsOptions)
	return s.Path, diags
}

// ModifyPlan computes source_digest from the source tree, so that an edit
// plans a replacement and an unchanged tree plans nothing.
func (r *deploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	srcPath, diags := sourcePath(ctx, plan.Source)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || srcPath.IsUnknown() || srcPath.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("source_digest"), types.StringUnknown())...)
		return
	}
	files, err := client.CollectFiles(srcPath.ValueString())
	if err != nil {
		addSourceError(&resp.Diagnostics, srcPath.ValueString(), err)
		return
	}
	sourceDigest := api.SourceDigest(files)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("source_digest"), sourceDigest)...)

	if req.State.Raw.IsNull() {
		return
	}
	var stateDigest types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("source_digest"), &stateDigest)...)
	if stateDigest.ValueString() != sourceDigest {
		tflog.Info(ctx, "source changed; the deployment will be replaced", map[string]any{
			"path": srcPath.ValueString(), "old_digest": stateDigest.ValueString(), "new_digest": sourceDigest,
		})
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("source_digest"))
	}
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
	srcPath, diags := sourcePath(ctx, plan.Source)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	dir := srcPath.ValueString()
	files, err := client.CollectFiles(dir)
	if err != nil {
		addSourceError(&resp.Diagnostics, dir, err)
		return
	}
	sourceDigest := api.SourceDigest(files)
	if !plan.SourceDigest.IsUnknown() && plan.SourceDigest.ValueString() != sourceDigest {
		resp.Diagnostics.AddAttributeError(path.Root("source").AtName("path"), "Source changed since plan",
			fmt.Sprintf("The files in %s changed between plan and apply, so this apply would not deploy what was planned. "+
				"Run terraform apply again (it plans anew).", dir))
		return
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	projectID := plan.ProjectID.ValueString()
	tflog.Info(ctx, "creating deployment", map[string]any{
		"project_id": projectID, "path": dir, "files": len(files), "source_digest": sourceDigest, "production": plan.Production.ValueBool(),
	})
	d, err := r.data.Client.DeployFiles(ctx, projectID, dir, files, plan.Production.ValueBool())
	if err != nil {
		resp.Diagnostics.AddError("Cannot create deployment", fmt.Sprintf("The engine refused the deployment of %s: %v", dir, err))
		return
	}
	tflog.Info(ctx, "waiting for deployment to build", map[string]any{"id": d.ID, "url": d.URL})
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
			fmt.Sprintf("The deployment of %s ended %s, and was deleted:\n\n%s", dir, final.State, message))
		return
	}
	if final.SourceDigest != "" && final.SourceDigest != sourceDigest {
		tflog.Warn(ctx, "the engine computed another source digest", map[string]any{"engine": final.SourceDigest, "provider": sourceDigest})
	}
	tflog.Info(ctx, "deployment ready", map[string]any{"id": final.ID, "url": final.URL, "entrypoint": final.Entrypoint})
	plan.fill(final)
	plan.SourceDigest = types.StringValue(sourceDigest)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
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
	state.fill(d)
	if state.SourceDigest.IsNull() {
		// Imported: the engine's digest of the files, computed as the provider does.
		state.SourceDigest = types.StringValue(d.SourceDigest)
	}
	if state.Source.IsNull() {
		state.Source = types.ObjectNull(deploymentSourceTypes)
	}
	if state.DeleteOnDestroy.IsNull() {
		state.DeleteOnDestroy = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update handles what needs no new deployment: a source.path that names
// the same files elsewhere, delete_on_destroy, or timeouts.
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
