package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

// A node tells the store it is up every heartbeatEvery; one not seen for nodeLostAfter is shown
// as lost, and one not seen for nodeForgottenAfter is forgotten.
const (
	heartbeatEvery     = 10 * time.Second
	nodeLostAfter      = 3 * heartbeatEvery
	nodeForgottenAfter = 24 * time.Hour
)

// heartbeat records node in the store now and every heartbeatEvery until ctx ends; then the
// node leaves (it is stopping, or handing over to a successor that beats for it).
func heartbeat(ctx context.Context, log *slog.Logger, st store.Nodes, node store.Node) {
	ticker := time.NewTicker(heartbeatEvery)
	defer ticker.Stop()
	for {
		node.SeenAt = time.Now().UTC()
		if err := st.Heartbeat(ctx, node); err != nil && ctx.Err() == nil {
			log.Warn("record this node's heartbeat", "error", err)
		}
		select {
		case <-ctx.Done():
			leaveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := st.LeaveNodes(leaveCtx, node.ID, time.Now().Add(-nodeForgottenAfter)); err != nil {
				log.Warn("remove this node from the store's nodes", "error", err)
			}
			return
		case <-ticker.C:
		}
	}
}
