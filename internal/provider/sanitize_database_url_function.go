package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/ferryhq/terraform-provider-ferry/internal/dburl"
)

var _ function.Function = (*sanitizeDatabaseURLFunction)(nil)

// NewSanitizeDatabaseURLFunction is provider::ferry::sanitize_database_url.
func NewSanitizeDatabaseURLFunction() function.Function { return &sanitizeDatabaseURLFunction{} }

type sanitizeDatabaseURLFunction struct{}

func (f *sanitizeDatabaseURLFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "sanitize_database_url"
}

func (f *sanitizeDatabaseURLFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Makes a PostgreSQL connection string right for a Python driver",
		MarkdownDescription: "Returns `url` made right for `driver`, with the rules of `ferry_supabase_integration`: parameters the " +
			"driver does not read (Supabase's `supa=`, `pgbouncer=` except for Prisma, ...) are removed, the ones it needs kept or " +
			"translated (`sslmode` becomes `ssl` for SQLAlchemy with asyncpg), the scheme set for SQLAlchemy " +
			"(`postgresql+asyncpg://`, ...), the password percent-encoded. The result works on its own, outside ferry's runtime: " +
			"for drivers that need settings in code to go through Supabase's transaction pooler (`asyncpg`, `psycopg`, and " +
			"SQLAlchemy over them), it points at the session pooler (port 5432) instead; `ferry_supabase_integration` applies " +
			"those settings at run time and keeps the transaction pooler. Errors never show the password. Requires Terraform 1.8 or later.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "url",
				MarkdownDescription: "The connection string, such as Supabase's dashboard gives it.",
			},
			function.StringParameter{
				Name:                "driver",
				MarkdownDescription: "One of `" + strings.Join(driverNames(), "`, `") + "`.",
			},
		},
		Return: function.StringReturn{},
	}
}

func (f *sanitizeDatabaseURLFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var raw, driver string
	resp.Error = req.Arguments.Get(ctx, &raw, &driver)
	if resp.Error != nil {
		return
	}
	if p := dburl.DriverProblem(driver); p != "" {
		resp.Error = function.NewArgumentFuncError(1, p)
		return
	}
	result, err := dburl.Standalone(raw, dburl.Driver(driver))
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	resp.Error = resp.Result.Set(ctx, result.URL)
}
