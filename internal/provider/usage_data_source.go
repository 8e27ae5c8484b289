package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

var (
	_ datasource.DataSource              = (*usageDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*usageDataSource)(nil)
)

// NewUsageDataSource is the ferry_usage data source.
func NewUsageDataSource() datasource.DataSource { return &usageDataSource{} }

type usageDataSource struct {
	data *providerData
}

type usageDataModel struct {
	ProjectID       types.String  `tfsdk:"project_id"`
	Since           types.String  `tfsdk:"since"`
	Until           types.String  `tfsdk:"until"`
	Requests        types.Int64   `tfsdk:"requests"`
	BytesOut        types.Int64   `tfsdk:"bytes_out"`
	FunctionGBHours types.Float64 `tfsdk:"function_gb_hours"`
	BuildMinutes    types.Float64 `tfsdk:"build_minutes"`
	Days            types.List    `tfsdk:"days"`
}

// usageDayType is an element of days.
var usageDayType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"date": types.StringType, "project_id": types.StringType, "project": types.StringType,
	"requests": types.Int64Type, "bytes_out": types.Int64Type, "function_gb_hours": types.Float64Type, "build_minutes": types.Float64Type,
}}

func (d *usageDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_usage"
}

func (d *usageDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	day := []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`), "must be a day written YYYY-MM-DD, e.g. 2026-12-01")}
	resp.Schema = schema.Schema{
		MarkdownDescription: "What projects used, as the engine meters it: requests and bytes out as the edge answered them, function GB-hours " +
			"(each instance's memory limit times the time it ran, as Vercel counts them) and build minutes. Days are UTC. " +
			"Each read asks the engine again: usage grows between plans.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{Optional: true, MarkdownDescription: "A project (id or name); without it, every project the token may see."},
			"since": schema.StringAttribute{Optional: true, Computed: true, Validators: day,
				MarkdownDescription: "The first day, `YYYY-MM-DD`. Defaults to the first day of this month."},
			"until": schema.StringAttribute{Optional: true, Computed: true, Validators: day,
				MarkdownDescription: "The day after the last, `YYYY-MM-DD`. Defaults to tomorrow, so that today is in."},
			"requests":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Requests answered."},
			"bytes_out":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes of the responses' bodies."},
			"function_gb_hours": schema.Float64Attribute{Computed: true, MarkdownDescription: "Memory limit in GB times hours instances ran."},
			"build_minutes":     schema.Float64Attribute{Computed: true, MarkdownDescription: "Minutes builds took, ready or failed."},
			"days": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Each day of each project that used anything, by date then project name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"date":              schema.StringAttribute{Computed: true, MarkdownDescription: "`YYYY-MM-DD`, UTC."},
					"project_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "The project's id."},
					"project":           schema.StringAttribute{Computed: true, MarkdownDescription: "The project's name; empty for a project deleted since."},
					"requests":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Requests answered that day."},
					"bytes_out":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes out that day."},
					"function_gb_hours": schema.Float64Attribute{Computed: true, MarkdownDescription: "Function GB-hours that day."},
					"build_minutes":     schema.Float64Attribute{Computed: true, MarkdownDescription: "Build minutes that day."},
				}},
			},
		},
	}
}

func (d *usageDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *usageDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m usageDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	report, err := d.data.Client.Usage(ctx, client.UsageQuery{Project: m.ProjectID.ValueString(), Since: m.Since.ValueString(), Until: m.Until.ValueString()})
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the usage", err.Error())
		return
	}
	m.Since, m.Until = types.StringValue(report.Since), types.StringValue(report.Until)
	m.Requests, m.BytesOut = types.Int64Value(report.Totals.Requests), types.Int64Value(report.Totals.BytesOut)
	m.FunctionGBHours, m.BuildMinutes = types.Float64Value(report.Totals.FunctionGBHours), types.Float64Value(report.Totals.BuildMinutes)
	days := make([]attr.Value, 0, len(report.Days))
	for _, day := range report.Days {
		days = append(days, usageDayValue(day))
	}
	list, diags := types.ListValue(usageDayType, days)
	resp.Diagnostics.Append(diags...)
	m.Days = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func usageDayValue(day api.UsageDay) attr.Value {
	return types.ObjectValueMust(usageDayType.AttrTypes, map[string]attr.Value{
		"date": types.StringValue(day.Date), "project_id": types.StringValue(day.ProjectID), "project": types.StringValue(day.Project),
		"requests": types.Int64Value(day.Requests), "bytes_out": types.Int64Value(day.BytesOut),
		"function_gb_hours": types.Float64Value(day.FunctionGBHours), "build_minutes": types.Float64Value(day.BuildMinutes),
	})
}
