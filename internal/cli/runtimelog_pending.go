package cli

import (
	"context"
	"errors"
	"io"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
)

// runtimeLogs are the client's runtime log methods (the logs and metrics contract).
type runtimeLogs interface {
	RuntimeLog(ctx context.Context, deploymentID string, tail int) (string, error)
	FollowRuntimeLog(ctx context.Context, deploymentID string, tail int, w io.Writer) error
	FollowProjectRuntimeLog(ctx context.Context, project string, tail int, follow bool, w io.Writer) error
}

func runtimeLogsOf(c *client.Client) (runtimeLogs, error) {
	if r, ok := any(c).(runtimeLogs); ok {
		return r, nil
	}
	return nil, errors.New("this build of ferry cannot read runtime logs yet: give --build for the build log")
}
