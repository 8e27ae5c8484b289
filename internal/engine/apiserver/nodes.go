package apiserver

import (
	"net/http"
	"time"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// listNodes answers the nodes of the store, from their heartbeats.
func (s *Server) listNodes(r *http.Request) (int, any, error) {
	nodes, err := s.cfg.Store.ListNodes(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := api.NodeList{Nodes: make([]api.Node, 0, len(nodes)), Self: s.cfg.NodeID}
	now := time.Now()
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, api.Node{ID: n.ID, Version: n.Version, HTTPAddress: n.HTTPAddress, APIAddress: n.APIAddress,
			StartedAt: n.StartedAt, SeenAt: n.SeenAt, Lost: now.Sub(n.SeenAt) > s.cfg.NodeLostAfter})
	}
	return http.StatusOK, out, nil
}
