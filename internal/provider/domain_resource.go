package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/validators"
)

var (
	_ resource.Resource                   = (*domainResource)(nil)
	_ resource.ResourceWithConfigure      = (*domainResource)(nil)
	_ resource.ResourceWithImportState    = (*domainResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*domainResource)(nil)
	_ resource.ResourceWithValidateConfig = (*domainResource)(nil)
)

// Waiting for a domain: the default of its timeouts, and how often DNS and the certificate are looked at.
const (
	defaultDomainTimeout = 10 * time.Minute
	domainPoll           = 2 * time.Second
)

// NewDomainResource is the ferry_domain resource.
func NewDomainResource() resource.Resource { return &domainResource{} }

type domainResource struct {
	data *providerData
}

type domainModel struct {
	ID                 types.String   `tfsdk:"id"`
	ProjectID          types.String   `tfsdk:"project_id"`
	Name               types.String   `tfsdk:"name"`
	GitBranch          types.String   `tfsdk:"git_branch"`
	Redirect           types.String   `tfsdk:"redirect"`
	RedirectStatusCode types.Int64    `tfsdk:"redirect_status_code"`
	WaitForReady       types.Bool     `tfsdk:"wait_for_ready"`
	DNSRecords         types.List     `tfsdk:"dns_records"`
	Verified           types.Bool     `tfsdk:"verified"`
	Verification       types.String   `tfsdk:"verification"`
	TLS                types.Object   `tfsdk:"tls"`
	URL                types.String   `tfsdk:"url"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

var (
	dnsRecordTypes = map[string]attr.Type{"type": types.StringType, "name": types.StringType, "value": types.StringType}
	dnsRecordType  = types.ObjectType{AttrTypes: dnsRecordTypes}
	domainTLSTypes = map[string]attr.Type{"status": types.StringType, "issuer": types.StringType, "not_after": types.StringType, "error": types.StringType}
)

func (r *domainResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_domain"
}

func (r *domainResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	timeoutsAttr, ok := timeouts.Attributes(ctx, timeouts.Opts{
		Create: true, Update: true,
		CreateDescription: "How long `wait_for_ready` waits after creating, such as `\"30m\"`. Defaults to `10m`.",
		UpdateDescription: "How long `wait_for_ready` waits after a change. Defaults to `10m`.",
	}).(schema.SingleNestedAttribute)
	if !ok {
		resp.Diagnostics.AddError("Internal error in the provider", "The timeouts block of ferry_domain is not a single nested attribute. Please report this to the provider's developers.")
		return
	}
	timeoutsAttr.MarkdownDescription = "Operation timeouts, for `wait_for_ready`."

	resp.Schema = schema.Schema{
		MarkdownDescription: "A custom domain of a project, served with HTTPS as Vercel serves one: `dns_records` lists the " +
			"records to create at the domain's DNS provider (a TXT record proving ownership, and a CNAME to the engine's base " +
			"domain, or A/AAAA records for an apex); once the engine finds them it marks the domain `verified`, serves the " +
			"project's production deployment on it, and obtains a certificate (from the ACME CA, such as Let's Encrypt, or " +
			"for `.localhost`, `.test` and `.internal` names from the engine's own CA) that it renews by itself. Plain HTTP to " +
			"a verified domain is redirected to HTTPS.\n\n" +
			"The engine looks for the records every minute. `wait_for_ready` makes `terraform apply` wait for them and for the " +
			"certificate; leave it unset when this configuration creates the records itself (from `dns_records`), since " +
			"they are created after the domain.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<project_id>/<name>`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the project (`ferry_project.<name>.id`). Changing it replaces the domain.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The domain, such as `www.example.com` or `example.com`: lowercase, internationalized " +
					"names in their `xn--` form. A wildcard such as `*.preview.example.test` is allowed only under names the " +
					"engine's own CA certifies (`.localhost`, `.test`, `.internal`, ...): a public wildcard certificate needs the " +
					"DNS-01 challenge. A name used by another project is refused. Changing it replaces the domain.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validators.DomainName()},
			},
			"git_branch": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Serve the newest ready deployment of this git branch (its previews, with the branch's env) " +
					"instead of production, as the branch's own URL `<project>-git-<branch>` does: for a staging domain, for example. " +
					"Until the branch has a ready deployment the domain answers 404. Production deployments, promotions and " +
					"`ferry_alias` do not move it.",
				Validators: []validator.String{validators.GitBranch()},
			},
			"redirect": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Another domain of the project (such as `ferry_domain.apex.name`) that this domain " +
					"redirects every request to, keeping the path and query, like `www.example.com` to `example.com`.",
				Validators: []validator.String{validators.DomainName()},
			},
			"redirect_status_code": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Status of the redirect: `301`, `302`, `307` or `308`. Defaults to `308` (permanent, " +
					"keeping the method). Only with `redirect`.",
				Validators: []validator.Int64{
					int64validator.OneOf(301, 302, 307, 308),
					int64validator.AlsoRequires(path.MatchRoot("redirect")),
				},
			},
			"wait_for_ready": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Wait, up to the `timeouts`, until the domain is verified and its certificate issued. A " +
					"certificate the CA refuses fails the apply with the CA's message. Defaults to `false`.",
			},
			"dns_records": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The records to create at the domain's DNS provider, in order: the TXT ownership record, " +
					"then a CNAME to the engine's base domain, or A and AAAA records with the engine's public addresses. " +
					"Their types and names are known at plan time, so they can drive `for_each` of DNS resources: " +
					"`for_each = { for r in ferry_domain.www.dns_records : \"${r.type} ${r.name}\" => r }`. " +
					"Names are fully qualified, without a trailing dot. Empty for `.localhost` names, which need none.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"type":  schema.StringAttribute{Computed: true, MarkdownDescription: "`TXT`, `CNAME`, `A` or `AAAA`."},
					"name":  schema.StringAttribute{Computed: true, MarkdownDescription: "The record's name, such as `_ferry.www.example.com`."},
					"value": schema.StringAttribute{Computed: true, MarkdownDescription: "The record's value."},
				}},
			},
			"verified": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether the engine found the records; until then the domain is not served.",
			},
			"verification": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "What the engine's last look at DNS found missing or wrong; empty once verified.",
			},
			"tls": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The domain's certificate.",
				Attributes: map[string]schema.Attribute{
					"status": schema.StringAttribute{Computed: true, MarkdownDescription: "`waiting` (for verification), " +
						"`obtaining`, `issued`, `failed` (see `error`; retried), or `disabled` when the engine serves no HTTPS."},
					"issuer":    schema.StringAttribute{Computed: true, MarkdownDescription: "The issuing CA's name."},
					"not_after": schema.StringAttribute{Computed: true, MarkdownDescription: "Expiry (RFC 3339); the engine renews well before."},
					"error":     schema.StringAttribute{Computed: true, MarkdownDescription: "The CA's message when obtaining or renewing failed."},
				},
			},
			"url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Where the domain serves: `https://` once its certificate is issued.",
			},
			"timeouts": timeoutsAttr,
		},
	}
}

func (r *domainResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses at plan time what the engine would refuse at apply.
func (r *domainResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m domainModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Name.IsUnknown() && !m.Redirect.IsUnknown() && !m.Redirect.IsNull() && m.Redirect.ValueString() == m.Name.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("redirect"), "A domain cannot redirect to itself",
			"Set redirect to another domain of the project, such as the apex of a www domain.")
	}
}

// ModifyPlan plans dns_records from what is known: the name and the
// engine's base domain and addresses give every record's type and name,
// and all values but the ownership token, which the engine makes (or which
// the state already has).
func (r *domainResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan domainModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Name.IsUnknown() {
		return
	}
	token := types.StringUnknown()
	if !req.State.Raw.IsNull() {
		var state domainModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if state.Name.Equal(plan.Name) && state.ProjectID.Equal(plan.ProjectID) {
			token = stateOwnershipValue(ctx, state.DNSRecords)
		}
	}
	h := r.data.Health
	records := api.DomainRecords(plan.Name.ValueString(), h.BaseDomain, h.PublicAddresses, "")
	values := make([]attr.Value, len(records))
	for i, rec := range records {
		value := types.StringValue(rec.Value)
		if rec.Type == "TXT" {
			value = token
		}
		values[i] = types.ObjectValueMust(dnsRecordTypes, map[string]attr.Value{
			"type": types.StringValue(rec.Type), "name": types.StringValue(rec.Name), "value": value,
		})
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("dns_records"), types.ListValueMust(dnsRecordType, values))...)
}

// stateOwnershipValue is the TXT record's value in the state, or unknown.
func stateOwnershipValue(ctx context.Context, records types.List) types.String {
	var recs []struct {
		Type  types.String `tfsdk:"type"`
		Name  types.String `tfsdk:"name"`
		Value types.String `tfsdk:"value"`
	}
	if records.IsNull() || records.IsUnknown() || records.ElementsAs(ctx, &recs, false).HasError() {
		return types.StringUnknown()
	}
	for _, rec := range recs {
		if rec.Type.ValueString() == "TXT" {
			return rec.Value
		}
	}
	return types.StringUnknown()
}

func (m *domainModel) request() api.DomainRequest {
	return api.DomainRequest{
		Name:               m.Name.ValueString(),
		GitBranch:          m.GitBranch.ValueString(),
		Redirect:           m.Redirect.ValueString(),
		RedirectStatusCode: int(m.RedirectStatusCode.ValueInt64()),
	}
}

// fill sets the model from the engine's answer. Optional attributes left
// unset stay null where the engine reports their default.
func (m *domainModel) fill(d *api.Domain) {
	m.ID = types.StringValue(d.ProjectID + "/" + d.Name)
	m.ProjectID = types.StringValue(d.ProjectID)
	m.Name = types.StringValue(d.Name)
	m.GitBranch = optionalString(d.GitBranch, m.GitBranch)
	m.Redirect = optionalString(d.Redirect, m.Redirect)
	if m.RedirectStatusCode.IsNull() && (d.RedirectStatusCode == 0 || d.RedirectStatusCode == api.DefaultRedirectStatusCode) {
		m.RedirectStatusCode = types.Int64Null()
	} else {
		m.RedirectStatusCode = types.Int64Value(int64(d.RedirectStatusCode))
	}
	records := make([]attr.Value, len(d.Records))
	for i, rec := range d.Records {
		records[i] = types.ObjectValueMust(dnsRecordTypes, map[string]attr.Value{
			"type": types.StringValue(rec.Type), "name": types.StringValue(rec.Name), "value": types.StringValue(rec.Value),
		})
	}
	m.DNSRecords = types.ListValueMust(dnsRecordType, records)
	m.Verified = types.BoolValue(d.Verified)
	m.Verification = types.StringValue(d.Verification)
	notAfter := ""
	if d.TLS.NotAfter != nil {
		notAfter = d.TLS.NotAfter.UTC().Format(time.RFC3339)
	}
	m.TLS = types.ObjectValueMust(domainTLSTypes, map[string]attr.Value{
		"status": types.StringValue(d.TLS.Status), "issuer": types.StringValue(d.TLS.Issuer),
		"not_after": types.StringValue(notAfter), "error": types.StringValue(d.TLS.Error),
	})
	m.URL = types.StringValue(d.URL)
}

func (r *domainResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics, true)
}

func (r *domainResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics, false)
}

// write adds the planned domain (create) or changes it, then settles it.
func (r *domainResource) write(ctx context.Context, planned tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics, create bool) {
	var plan domainModel
	diags.Append(planned.Get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultDomainTimeout)
	if create {
		timeout, d = plan.Timeouts.Create(ctx, defaultDomainTimeout)
	}
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	project, name := plan.ProjectID.ValueString(), plan.Name.ValueString()
	write, verb := r.data.Client.UpdateDomain, "change"
	if create {
		write, verb = r.data.Client.CreateDomain, "add"
	}
	tflog.Info(ctx, verb+" domain", map[string]any{"project_id": project, "name": name})
	domain, err := write(ctx, project, plan.request())
	if err != nil {
		diags.AddError("Cannot "+verb+" domain", fmt.Sprintf("Could not %s %s of project %s: %v", verb, name, project, err))
		return
	}
	r.settle(ctx, domain, &plan, timeout, state, diags)
}

// settle saves what the engine answered and, with wait_for_ready, waits
// for the domain to be ready, saving it again as it is then. A domain that
// did not get ready stays in the state (as tainted, after a create).
func (r *domainResource) settle(ctx context.Context, d *api.Domain, plan *domainModel, timeout time.Duration, state *tfsdk.State, diags *diag.Diagnostics) {
	plan.fill(d)
	diags.Append(state.Set(ctx, plan)...)
	if diags.HasError() || !plan.WaitForReady.ValueBool() {
		return
	}
	tflog.Info(ctx, "waiting for the domain's DNS records and certificate", map[string]any{"name": d.Name, "timeout": timeout.String()})
	ready, err := r.waitForReady(ctx, d, timeout)
	if ready != nil {
		plan.fill(ready)
		diags.Append(state.Set(ctx, plan)...)
	}
	if err != nil {
		diags.AddError("Domain not ready", err.Error())
	}
}

var errCertificateRefused = errors.New("the certificate could not be obtained")

// waitForReady looks DNS up until the domain is verified, then waits for its
// certificate, until timeout. It returns the domain as last seen.
func (r *domainResource) waitForReady(ctx context.Context, d *api.Domain, timeout time.Duration) (*api.Domain, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(domainPoll)
	defer tick.Stop()
	last := d
	for {
		var next *api.Domain
		var err error
		if last.Verified {
			next, err = r.data.Client.GetDomain(ctx, last.ProjectID, last.Name)
		} else {
			next, err = r.data.Client.VerifyDomain(ctx, last.ProjectID, last.Name)
		}
		switch {
		case err == nil:
			last = next
		case ctx.Err() == nil:
			return last, fmt.Errorf("reading %s from the engine: %w", d.Name, err)
		}
		switch {
		case last.Verified && (last.TLS.Status == api.TLSIssued || last.TLS.Status == api.TLSDisabled):
			return last, nil
		case last.Verified && last.TLS.Status == api.TLSFailed:
			return last, fmt.Errorf("%w for %s; the CA said:\n\n%s\n\nThe engine retries by itself; `terraform apply` again to wait anew", errCertificateRefused, d.Name, last.TLS.Error)
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%s was not ready within %s: %s (raise timeouts, or leave wait_for_ready unset and let the engine finish by itself)", d.Name, timeout, notReadyReason(last))
		case <-tick.C:
		}
	}
}

func notReadyReason(d *api.Domain) string {
	if d.Verified {
		return "its certificate is " + d.TLS.Status
	}
	var want []string
	for _, rec := range d.Records {
		want = append(want, fmt.Sprintf("%s %s %q", rec.Type, rec.Name, rec.Value))
	}
	return fmt.Sprintf("its DNS records were not found (%s); create %s", d.Verification, strings.Join(want, ", "))
}

func (r *domainResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state domainModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, err := r.data.Client.GetDomain(ctx, state.ProjectID.ValueString(), state.Name.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "domain is gone from the engine; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read domain", fmt.Sprintf("Reading %s of project %s: %v", state.Name.ValueString(), state.ProjectID.ValueString(), err))
		return
	}
	state.fill(d)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *domainResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state domainModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "removing domain", map[string]any{"id": state.ID.ValueString()})
	err := r.data.Client.DeleteDomain(ctx, state.ProjectID.ValueString(), state.Name.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot remove domain", fmt.Sprintf("Removing %s from project %s: %v", state.Name.ValueString(), state.ProjectID.ValueString(), err))
	}
}

// ImportState takes `<project>/<name>`, the project by id or name.
func (r *domainResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	project, name, _ := strings.Cut(req.ID, "/")
	if project == "" || name == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q: import a domain as <project>/<name>, for example my-app/www.example.com", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), project)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}
